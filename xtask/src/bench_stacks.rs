//! `cargo xtask bench`, stack-switching part: the generator of
//! `xtask/bench/stack-switching/generator.wat` (a million suspend/resume round trips) run
//! with our release CLI and with Wasmtime (`-W stack-switching=y`, cache off) in the same
//! run, alternating, and once with a single round trip to take startup and compilation out.
//! Reports median wall-clock times, the time per round trip and the ratio; writes
//! target/bench/stack-switching.json. `--filter stack` runs only this.

use crate::bench::rounded;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The benchmark's name, as `--filter` matches it.
const NAME: &str = "stack-switching-generator";
/// Round trips of the long run.
const ROUND_TRIPS: u64 = 1_000_000;

/// One CLI and the arguments that come before `--invoke`.
struct Cli {
    name: &'static str,
    program: String,
    args: Vec<String>,
}

/// Runs `sum n` once and checks the printed result.
fn run_once(cli: &Cli, wat: &Path, n: u64) -> Result<Duration, String> {
    let start = Instant::now();
    let out = Command::new(&cli.program)
        .args(&cli.args)
        .args(["--invoke", "sum"])
        .arg(wat)
        .arg(n.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{}: {e}", cli.program))?;
    let elapsed = start.elapsed();
    let expected = format!("{}\n", n * (n - 1) / 2);
    if !out.status.success() || out.stdout != expected.as_bytes() {
        return Err(format!(
            "{NAME} under {}: {} printing {:?}; {}",
            cli.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(elapsed)
}

fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// Runs the benchmark (if `filter` allows) with our CLI `ours` and, if installed, Wasmtime
/// (`$WASMTIME` or `wasmtime`), `repeat` times each.
pub fn run(ours: &Path, repeat: usize, filter: Option<&str>) -> Result<(), String> {
    if !filter.is_none_or(|f| NAME.contains(f)) {
        return Ok(());
    }
    let root = harness::workspace_root();
    let wat = root.join("xtask/bench/stack-switching/generator.wat");
    let mut clis = vec![Cli {
        name: "ours",
        program: ours.display().to_string(),
        args: vec!["run".into(), "-W".into(), "stack-switching".into()],
    }];
    if let Some(wasmtime) = crate::bench::wasmtime_cli() {
        clis.push(Cli {
            name: "wasmtime",
            program: wasmtime,
            args: ["run", "-C", "cache=n", "-W", "stack-switching=y"]
                .map(String::from)
                .to_vec(),
        });
    } else {
        println!("wasmtime not found (set $WASMTIME): {NAME} without a peer");
    }
    // Alternate the runtimes, so a change in the machine's load hits both alike.
    let mut long: Vec<Vec<Duration>> = vec![Vec::new(); clis.len()];
    let mut short: Vec<Vec<Duration>> = vec![Vec::new(); clis.len()];
    for _ in 0..repeat.max(1) {
        for (i, cli) in clis.iter().enumerate() {
            long[i].push(run_once(cli, &wat, ROUND_TRIPS)?);
            short[i].push(run_once(cli, &wat, 1)?);
        }
    }
    println!(
        "\n{:<28}{:>12}{:>12}{:>16}",
        "stack switching", "run ms", "startup ms", "ns/round trip"
    );
    let mut json = serde_json::Map::new();
    let mut per_trip = Vec::new();
    for (i, cli) in clis.iter().enumerate() {
        let (l, s) = (median_ms(&mut long[i]), median_ms(&mut short[i]));
        let ns = (l - s).max(0.0) * 1e6 / ROUND_TRIPS as f64;
        per_trip.push(ns);
        println!("{:<28}{l:>12.1}{s:>12.1}{ns:>16.1}", cli.name);
        json.insert(
            cli.name.to_string(),
            serde_json::json!({
                "run_ms": rounded(l, 3),
                "startup_ms": rounded(s, 3),
                "ns_per_round_trip": rounded(ns, 3),
            }),
        );
    }
    if let [ours, peer] = per_trip[..] {
        let ratio = ours / peer;
        println!("ours/wasmtime per round trip: {ratio:.2}");
        json.insert("ratio".into(), rounded(ratio, 3).into());
    }
    println!(
        "(median of {} runs each of {ROUND_TRIPS} and of 1 round trip; startup subtracted)",
        repeat.max(1)
    );
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let report = serde_json::json!({ "repeat": repeat, NAME: json });
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    std::fs::write(out.join("stack-switching.json"), text).map_err(|e| e.to_string())?;
    println!("wrote {}", out.join("stack-switching.json").display());
    Ok(())
}
