//! `cargo xtask bench`: the sightglass programs' four figures beside Wasmtime's
//! (`bench_phases.rs`: compile, instantiate, execution, cached run), then the WASI
//! system-call benchmarks (`bench_wasi.rs`) and the stack-switching generator
//! (`bench_stacks.rs`).
//!
//! `--whole` runs instead the programs with a `benchmark.wasm` through our CLI (release
//! build) and, side by side in the same run, the peers found on this machine (Node's V8,
//! Wasmtime with its compilation cache off): median wall-clock times of whole runs
//! (compilation included) and ratios to each peer; our output is checked against the
//! expected one. Writes target/bench/bench-whole.json.
//!
//! `--fuel` / `--epoch` measure instead what fuel or epoch interruption costs: each program
//! runs with our CLI and with Wasmtime, each without and with the option (both given
//! `-W fuel=N` / `-W timeout=...`), and the ratios are with/without. Writes
//! target/bench/bench-fuel.json or bench-epoch.json.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a bench run compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The four figures per program beside Wasmtime's, then the WASI and stack benchmarks.
    Phases,
    /// Whole uncached runs of our CLI against the peers.
    Peers,
    /// Each runtime with fuel against itself without.
    Fuel,
    /// Each runtime with epoch interruption against itself without.
    Epoch,
}

/// Fuel given to each run with `--fuel`: far more than any program uses.
const BENCH_FUEL: u64 = 1 << 60;

/// One way of running a benchmark: a name and the command line for a `.wasm` file.
#[derive(Clone)]
struct Runner {
    name: String,
    command: Vec<String>,
    /// Whether its output is checked against the expected one (ours are).
    checked: bool,
}

impl Runner {
    fn new(name: &str, command: Vec<String>) -> Runner {
        Runner {
            name: name.into(),
            command,
            checked: false,
        }
    }

    /// The same runner with `extra` arguments after the first two (the program and `run`).
    fn with(&self, suffix: &str, extra: &[String]) -> Runner {
        let mut command = self.command.clone();
        command.splice(2..2, extra.iter().cloned());
        Runner {
            name: format!("{}{suffix}", self.name),
            command,
            checked: self.checked,
        }
    }
}

/// A ratio the report shows: runner `num`'s time over runner `den`'s.
struct Ratio {
    label: String,
    num: usize,
    den: usize,
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

pub fn run(
    dir: Option<PathBuf>,
    repeat: usize,
    filter: Option<&str>,
    mode: Mode,
) -> Result<(), String> {
    let root = harness::workspace_root();
    let dir = match dir {
        Some(dir) => dir,
        None => harness::fetch::fetch(&root, harness::fetch::SIGHTGLASS, None)?.data_dir,
    };
    if !dir.is_dir() {
        return Err(format!("no benchmark folder at {}", dir.display()));
    }
    if mode == Mode::Phases {
        let ours_bin = root.join("target/release/runtime");
        return crate::bench_phases::run(&root, &dir, repeat, filter)
            .and_then(|()| crate::bench_wasi::run(&ours_bin, repeat, filter))
            .and_then(|()| crate::bench_stacks::run(&ours_bin, repeat, filter));
    }
    build_release_cli(&root)?;
    let bench_wat = root.join("xtask/bench/bench.wat");
    let ours_bin = root.join("target/release/runtime");
    let mut ours = Runner::new(
        "ours",
        vec![
            ours_bin.display().to_string(),
            "run".into(),
            // Whole runs with compilation, as Wasmtime's below: no compilation cache.
            "-C".into(),
            "cache=n".into(),
            "--dir".into(),
            ".".into(),
            "--preload".into(),
            format!("bench={}", bench_wat.display()),
        ],
    );
    ours.checked = true;
    let (runners, ratios) = runners_for(mode, ours, peers(&root, &bench_wat));
    let names: Vec<&str> = runners.iter().map(|r| r.name.as_str()).collect();
    println!("runners in this run: {}", names.join(", "));
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
        return Err("no sightglass program matches the filter".into());
    }
    let width = runners
        .iter()
        .map(|r| r.name.len() + 3)
        .chain(ratios.iter().map(|r| r.label.len()))
        .max()
        .unwrap_or(0)
        .max(9)
        + 2;
    print!("{:<22}", "benchmark");
    for r in &runners {
        print!("{:>width$}", format!("{} ms", r.name));
    }
    for r in &ratios {
        print!("{:>width$}", r.label);
    }
    println!();
    let mut json = serde_json::Map::new();
    let mut measured: Vec<Vec<f64>> = vec![Vec::new(); ratios.len()];
    for bench in &benches {
        let name = bench.file_name().unwrap().to_string_lossy().into_owned();
        for r in runners.iter().filter(|r| r.checked) {
            check_output(bench, r)?;
        }
        let times = median_times(bench, &runners, repeat);
        print!("{name:<22}");
        for t in &times {
            print!(
                "{:>width$}",
                t.map_or("failed".into(), |t| format!("{:.1}", ms(t)))
            );
        }
        for (ratio, values) in ratios.iter().zip(&mut measured) {
            match (times[ratio.num], times[ratio.den]) {
                (Some(a), Some(b)) => {
                    let value = ms(a) / ms(b);
                    values.push(value);
                    print!("{:>width$}", format!("{value:.3}"));
                }
                _ => print!("{:>width$}", "-"),
            }
        }
        println!();
        let fields: serde_json::Map<String, serde_json::Value> = runners
            .iter()
            .zip(&times)
            .map(|(r, t)| {
                (
                    format!("{}_ms", r.name),
                    t.map(|t| rounded(ms(t), 3)).into(),
                )
            })
            .collect();
        json.insert(name, fields.into());
    }
    let mut geomeans = serde_json::Map::new();
    for (ratio, values) in ratios.iter().zip(&measured) {
        if !values.is_empty() {
            let geo = geomean(values);
            let note = match mode {
                Mode::Phases | Mode::Peers => "below 1 means we are faster",
                Mode::Fuel | Mode::Epoch => "the cost of the option: 1 means none",
            };
            println!(
                "geometric mean of {} over {} programs: {geo:.3} ({note})",
                ratio.label,
                values.len()
            );
            geomeans.insert(ratio.label.to_string(), rounded(geo, 4).into());
        }
    }
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let report = serde_json::json!({ "repeat": repeat, "geomeans": geomeans, "benchmarks": json });
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    let file = out.join(match mode {
        Mode::Phases | Mode::Peers => "bench-whole.json",
        Mode::Fuel => "bench-fuel.json",
        Mode::Epoch => "bench-epoch.json",
    });
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    println!("wrote {}", file.display());
    Ok(())
}

/// The runners of a mode and the ratios to report.
fn runners_for(mode: Mode, ours: Runner, peers: Vec<Runner>) -> (Vec<Runner>, Vec<Ratio>) {
    let (suffix, args) = match mode {
        Mode::Phases | Mode::Peers => {
            let ratios = (1..=peers.len())
                .map(|i| Ratio {
                    label: format!("ours/{}", peers[i - 1].name),
                    num: 0,
                    den: i,
                })
                .collect();
            let mut runners = vec![ours];
            runners.extend(peers);
            return (runners, ratios);
        }
        Mode::Fuel => (
            "+fuel",
            vec!["-W".to_string(), format!("fuel={BENCH_FUEL}")],
        ),
        // The epoch deadline comes with a timeout (a thread increments the epoch once it
        // expires); an hour never expires during a benchmark, so only the checks cost.
        Mode::Epoch => (
            "+epoch",
            vec!["-W".to_string(), "timeout=3600s".to_string()],
        ),
    };
    let with_ours = ours.with(suffix, &args);
    let mut runners = vec![ours, with_ours];
    let mut ratios = vec![Ratio {
        label: format!("ours{suffix}/ours"),
        num: 1,
        den: 0,
    }];
    if let Some(wasmtime) = peers.into_iter().find(|p| p.name == "wasmtime") {
        let with_wasmtime = wasmtime.with(suffix, &args);
        ratios.push(Ratio {
            label: format!("wasmtime{suffix}/wasmtime"),
            num: 3,
            den: 2,
        });
        runners.extend([wasmtime, with_wasmtime]);
    }
    (runners, ratios)
}

/// Peers installed on this machine: `node` (V8) and `wasmtime` (or `$WASMTIME`).
fn peers(root: &Path, bench_wat: &Path) -> Vec<Runner> {
    let mut peers = Vec::new();
    if works("node", &["--version"]) {
        let script = root.join("xtask/bench/node-runner.mjs");
        peers.push(Runner::new(
            "node",
            vec![
                "node".into(),
                "--no-warnings".into(),
                script.display().to_string(),
            ],
        ));
    }
    if let Some(wasmtime) = wasmtime_cli() {
        peers.push(Runner::new(
            "wasmtime",
            // No compilation cache: every runner compiles the program in every run.
            vec![
                wasmtime,
                "run".into(),
                "-C".into(),
                "cache=n".into(),
                "--dir".into(),
                ".".into(),
                "--preload".into(),
                format!("bench={}", bench_wat.display()),
            ],
        ));
    }
    peers
}

/// The Wasmtime CLI the benchmarks compare with (`$WASMTIME`, else `wasmtime` on the path),
/// if it runs.
pub(crate) fn wasmtime_cli() -> Option<String> {
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    works(&wasmtime, &["--version"]).then_some(wasmtime)
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
            "{name}: the run of {} failed: {}",
            runner.name,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    for (file, got) in [
        ("benchmark.stdout.expected", &out.stdout),
        ("benchmark.stderr.expected", &out.stderr),
    ] {
        if let Ok(expected) = std::fs::read(bench.join(file)) {
            if &expected != got {
                return Err(format!(
                    "{name}: the output of {} differs from {file}",
                    runner.name
                ));
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

/// Median wall time of `repeat` runs of each runner, the runners taking turns so that a
/// change in the machine's load affects them alike; `None` for a runner whose run failed.
fn median_times(bench: &Path, runners: &[Runner], repeat: usize) -> Vec<Option<Duration>> {
    let mut times: Vec<Option<Vec<Duration>>> = vec![Some(Vec::new()); runners.len()];
    for _ in 0..repeat {
        for (runner, times) in runners.iter().zip(&mut times) {
            let Some(list) = times else { continue };
            let start = Instant::now();
            let ok = command(bench, runner)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                list.push(start.elapsed());
            } else {
                *times = None;
            }
        }
    }
    times
        .into_iter()
        .map(|t| {
            let mut t = t?;
            t.sort();
            t.get(t.len() / 2).copied()
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Builds our release CLI (`target/release/runtime`), which every benchmark runs.
pub(crate) fn build_release_cli(root: &Path) -> Result<(), String> {
    build_release(root, &["--bin", "runtime"])
}

/// Builds `targets` (cargo's `--bin`/`--example` arguments) of the `runtime` package with
/// optimisations.
pub(crate) fn build_release(root: &Path, targets: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "-p", "runtime"])
        .args(targets)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building {} failed", targets.join(" ")))
    }
}

/// The median of `v` (the upper one of an even count); `v` must not be empty.
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The geometric mean of `ratios` (1 for none).
pub(crate) fn geomean(ratios: &[f64]) -> f64 {
    (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len().max(1) as f64).exp()
}

/// `x` rounded to `digits` decimals, for the JSON reports.
pub(crate) fn rounded(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}
