//! `cargo xtask bench`, WASI part: system-call-heavy WASI programs (`xtask/bench/wasi/`,
//! rebuilt by its `build.sh`) run with our release CLI and with Wasmtime side by side in
//! the same run, alternating, each on a fresh scratch directory: `wasi-files` creates,
//! reads and deletes 10,000 small files; `wasi-stdout` writes 200 MB to standard output
//! (`/dev/null`) in 4 KiB writes. Reports median wall-clock times of whole runs and the
//! ratios; writes target/bench/wasi.json. `--filter wasi` runs only these.

use crate::bench::rounded;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One WASI benchmark: its name, its module in `xtask/bench/wasi/`, and the check of a
/// run's standard output.
struct Bench {
    name: &'static str,
    wasm: &'static str,
    check: fn(&[u8]) -> bool,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "wasi-files",
        wasm: "files.wasm",
        check: |out| out == b"10000 files created, read and deleted\n",
    },
    Bench {
        name: "wasi-stdout",
        wasm: "stdout.wasm",
        check: |out| out.len() == 200 << 20 && out.iter().all(|b| *b == b'x' || *b == b'\n'),
    },
];

/// A WASI CLI taking `run --dir HOST::GUEST FILE` (ours and Wasmtime's share that form).
struct Cli {
    name: &'static str,
    program: String,
    /// Arguments before `--dir`.
    args: Vec<String>,
}

/// A scratch directory (tempfile's, with the `files` folder the file benchmark works in),
/// removed on drop.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(label: &str) -> Result<Scratch, String> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("xtask-bench-wasi-{label}-"))
            .tempdir()
            .map_err(|e| format!("cannot make a scratch directory: {e}"))?;
        std::fs::create_dir_all(dir.path().join("files"))
            .map_err(|e| format!("{}: {e}", dir.path().display()))?;
        Ok(Scratch(dir))
    }
}

fn command(cli: &Cli, wasm: &Path, scratch: &Scratch) -> Command {
    let mut c = Command::new(&cli.program);
    c.args(&cli.args)
        .arg("--dir")
        .arg(format!("{}::/", scratch.0.path().display()))
        .arg(wasm)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Runs `bench` once with `cli`, capturing standard output, and checks it.
fn check(cli: &Cli, bench: &Bench, wasm: &Path) -> Result<(), String> {
    let scratch = Scratch::new(bench.name)?;
    let out = command(cli, wasm, &scratch)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{}: {e}", cli.program))?;
    if !out.status.success() || !(bench.check)(&out.stdout) {
        return Err(format!(
            "{} under {}: {} with {} bytes of output; {}",
            bench.name,
            cli.name,
            out.status,
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// One timed run (output to `/dev/null`).
fn time(cli: &Cli, bench: &Bench, wasm: &Path) -> Result<Duration, String> {
    let scratch = Scratch::new(bench.name)?;
    let mut c = command(cli, wasm, &scratch);
    c.stdout(Stdio::null());
    let start = Instant::now();
    let status = c.status().map_err(|e| format!("{}: {e}", cli.program))?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("{} under {}: {status}", bench.name, cli.name));
    }
    Ok(elapsed)
}

/// Runs the WASI benchmarks whose names contain `filter` (all without one) with our CLI
/// `ours` and, if it is installed, Wasmtime (`$WASMTIME` or `wasmtime`).
pub fn run(ours: &Path, repeat: usize, filter: Option<&str>) -> Result<(), String> {
    let root = harness::workspace_root();
    let benches: Vec<&Bench> = BENCHES
        .iter()
        .filter(|b| filter.is_none_or(|f| b.name.contains(f)))
        .collect();
    if benches.is_empty() {
        return Ok(());
    }
    let mut clis = vec![Cli {
        name: "ours",
        program: ours.display().to_string(),
        args: vec!["run".into(), "-C".into(), "cache=n".into()],
    }];
    if let Some(wasmtime) = crate::bench::wasmtime_cli() {
        clis.push(Cli {
            name: "wasmtime",
            program: wasmtime,
            args: vec!["run".into(), "-C".into(), "cache=n".into()],
        });
    } else {
        println!("wasmtime not found (set $WASMTIME): WASI benchmarks without a peer");
    }
    print!("\n{:<22}", "WASI benchmark");
    for cli in &clis {
        print!("{:>12}", format!("{} ms", cli.name));
    }
    if clis.len() > 1 {
        print!("{:>16}", "ours/wasmtime");
    }
    println!();
    let mut json = serde_json::Map::new();
    for bench in benches {
        let wasm = root.join("xtask/bench/wasi").join(bench.wasm);
        for cli in &clis {
            check(cli, bench, &wasm)?;
        }
        // Alternate the runtimes, so a change in the machine's load hits both alike.
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); clis.len()];
        for _ in 0..repeat {
            for (cli, t) in clis.iter().zip(&mut times) {
                t.push(time(cli, bench, &wasm)?);
            }
        }
        let medians: Vec<f64> = times
            .iter_mut()
            .map(|t| {
                t.sort();
                t[t.len() / 2].as_secs_f64() * 1000.0
            })
            .collect();
        print!("{:<22}", bench.name);
        for m in &medians {
            print!("{m:>12.1}");
        }
        let mut fields: serde_json::Map<String, serde_json::Value> = clis
            .iter()
            .zip(&medians)
            .map(|(c, m)| (format!("{}_ms", c.name), rounded(*m, 3).into()))
            .collect();
        if let [ours, peer] = medians[..] {
            let ratio = ours / peer;
            print!("{ratio:>16.2}");
            fields.insert("ratio".into(), rounded(ratio, 3).into());
        }
        println!();
        json.insert(bench.name.to_string(), fields.into());
    }
    println!("(median of {repeat} runs each; a ratio below 1 means we are faster)");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let report = serde_json::json!({ "repeat": repeat, "benchmarks": json });
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    std::fs::write(out.join("wasi.json"), text).map_err(|e| e.to_string())?;
    println!("wrote {}", out.join("wasi.json").display());
    Ok(())
}
