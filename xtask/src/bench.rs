//! `cargo xtask bench`: runs the sightglass programs with our CLI (release build) and, side by
//! side in the same run, with the peers found on this machine (Node's V8, Wasmtime with its
//! compilation cache off). Reports median wall-clock times of whole runs (compilation
//! included) and ratios to each peer; checks our output against the expected one. Writes
//! target/bench/bench.json. Then the WASI system-call benchmarks (`bench_wasi.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One way of running a benchmark: a name and the command line for a `.wasm` file.
struct Runner {
    name: &'static str,
    command: Vec<String>,
}

/// `bench --calls`: the call-cost benchmark of the library (`runtime/benches/calls.rs`),
/// built with optimisations.
pub fn calls() -> Result<(), String> {
    let root = harness::workspace_root();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["bench", "--quiet", "-p", "runtime", "--bench", "calls"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the call benchmark failed".into())
    }
}

pub fn run(dir: Option<PathBuf>, repeat: usize, filter: Option<&str>) -> Result<(), String> {
    let root = harness::workspace_root();
    let dir = match dir {
        Some(dir) => dir,
        None => harness::fetch::fetch(&root, harness::fetch::SIGHTGLASS, None)?.data_dir,
    };
    if !dir.is_dir() {
        return Err(format!("no benchmark folder at {}", dir.display()));
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "runtime",
            "--bin",
            "runtime",
        ])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("building the release CLI failed".into());
    }
    let bench_wat = root.join("xtask/bench/bench.wat");
    let ours = root.join("target/release/runtime");
    let mut runners = vec![Runner {
        name: "ours",
        command: vec![
            ours.display().to_string(),
            "run".into(),
            "--dir".into(),
            ".".into(),
            "--preload".into(),
            format!("bench={}", bench_wat.display()),
        ],
    }];
    runners.extend(peers(&root, &bench_wat));
    let names: Vec<&str> = runners.iter().map(|r| r.name).collect();
    println!("peers in this run: {}", names[1..].join(", "));
    let mut benches: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("benchmark.wasm").is_file())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            filter.is_none_or(|f| name.contains(f))
        })
        .collect();
    benches.sort();
    if benches.is_empty() {
        // Only the WASI benchmarks match the filter (or none does).
        return crate::bench_wasi::run(&ours, repeat, filter);
    }
    print!("{:<22}", "benchmark");
    for r in &runners {
        print!("{:>12}", format!("{} ms", r.name));
    }
    for r in &runners[1..] {
        print!("{:>14}", format!("ours/{}", r.name));
    }
    println!();
    let mut json = Vec::new();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); runners.len()];
    for bench in &benches {
        let name = bench.file_name().unwrap().to_string_lossy().into_owned();
        check_output(bench, &runners[0])?;
        let times: Vec<Option<Duration>> = runners
            .iter()
            .map(|r| median_time(bench, r, repeat))
            .collect();
        print!("{name:<22}");
        for t in &times {
            print!(
                "{:>12}",
                t.map_or("failed".into(), |t| format!("{:.1}", ms(t)))
            );
        }
        for (i, t) in times.iter().enumerate().skip(1) {
            match (times[0], t) {
                (Some(a), Some(b)) => {
                    let ratio = ms(a) / ms(*b);
                    ratios[i].push(ratio);
                    print!("{:>14}", format!("{ratio:.2}"));
                }
                _ => print!("{:>14}", "-"),
            }
        }
        println!();
        let fields: Vec<String> = runners
            .iter()
            .zip(&times)
            .map(|(r, t)| {
                format!(
                    "\"{}_ms\": {}",
                    r.name,
                    t.map_or("null".into(), |t| format!("{:.3}", ms(t)))
                )
            })
            .collect();
        json.push(format!("    \"{name}\": {{{}}}", fields.join(", ")));
    }
    for (i, r) in runners.iter().enumerate().skip(1) {
        if !ratios[i].is_empty() {
            let geo =
                (ratios[i].iter().map(|x| x.ln()).sum::<f64>() / ratios[i].len() as f64).exp();
            println!(
                "geometric mean of ours/{}: {geo:.2} (below 1 means we are faster)",
                r.name
            );
        }
    }
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let text = format!(
        "{{\n  \"repeat\": {repeat},\n  \"benchmarks\": {{\n{}\n  }}\n}}\n",
        json.join(",\n")
    );
    std::fs::write(out.join("bench.json"), text).map_err(|e| e.to_string())?;
    println!("wrote {}", out.join("bench.json").display());
    crate::bench_wasi::run(&ours, repeat, filter)
}

/// Peers installed on this machine: `node` (V8) and `wasmtime` (or `$WASMTIME`).
fn peers(root: &Path, bench_wat: &Path) -> Vec<Runner> {
    let mut peers = Vec::new();
    if works("node", &["--version"]) {
        let script = root.join("xtask/bench/node-runner.mjs");
        peers.push(Runner {
            name: "node",
            command: vec![
                "node".into(),
                "--no-warnings".into(),
                script.display().to_string(),
            ],
        });
    }
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    if works(&wasmtime, &["--version"]) {
        peers.push(Runner {
            name: "wasmtime",
            // No compilation cache: every runner compiles the program in every run.
            command: vec![
                wasmtime,
                "run".into(),
                "-C".into(),
                "cache=n".into(),
                "--dir".into(),
                ".".into(),
                "--preload".into(),
                format!("bench={}", bench_wat.display()),
            ],
        });
    }
    peers
}

fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Our run must print what the benchmark expects.
fn check_output(bench: &Path, runner: &Runner) -> Result<(), String> {
    let out = command(bench, runner)
        .output()
        .map_err(|e| format!("{}: {e}", runner.command[0]))?;
    let name = bench.display();
    if !out.status.success() {
        return Err(format!(
            "{name}: our run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    for (file, got) in [
        ("benchmark.stdout.expected", &out.stdout),
        ("benchmark.stderr.expected", &out.stderr),
    ] {
        if let Ok(expected) = std::fs::read(bench.join(file)) {
            if &expected != got {
                return Err(format!("{name}: output differs from {file}"));
            }
        }
    }
    Ok(())
}

fn command(bench: &Path, runner: &Runner) -> Command {
    let mut c = Command::new(&runner.command[0]);
    c.args(&runner.command[1..])
        .arg("benchmark.wasm")
        .current_dir(bench);
    c
}

/// Median wall time of `repeat` runs; `None` if a run fails.
fn median_time(bench: &Path, runner: &Runner, repeat: usize) -> Option<Duration> {
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        let status = command(bench, runner)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        times.push(start.elapsed());
    }
    times.sort();
    times.get(times.len() / 2).copied()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
