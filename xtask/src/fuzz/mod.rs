//! `cargo xtask fuzz`: the differential fuzzing loop (see the `fuzz` crate). Modules run in
//! worker processes (this executable again, in worker mode, `worker.rs`), so a crash or a
//! hang costs one module: the parent (`supervise.rs`) notes which module was running, saves
//! it with a reproducer, and starts a new worker after it.

mod job;
mod supervise;
mod worker;

pub use worker::worker_main;

use fuzz::differential::Stats;
use fuzz::features::Features;
use job::Job;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Set when this executable is a fuzz worker; holds the worker's job (see [`Job`]).
pub(super) const WORKER_VAR: &str = "XTASK_INTERNAL_FUZZ_WORKER";

/// What to fuzz.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    pub seconds: Option<u64>,
    pub modules: Option<u64>,
    pub seed: u64,
    pub features: Vec<Features>,
    pub jobs: usize,
    pub out: PathBuf,
    pub target: Target,
    pub rounds: usize,
    pub timeout: Duration,
    /// `.wasm` files (or folders of them) to replay instead of generating modules.
    pub replay: Vec<PathBuf>,
    /// The first module index (with `--modules`, the run covers `first..first + modules`).
    pub first: u64,
    /// Save every module with its reproducer, not only the cases that went wrong (to add
    /// modules to the corpus).
    pub save_all: bool,
}

/// Which fuzz target runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Instantiate + run smith modules under our runtime and the oracles.
    Differential,
    /// Validate + compile mutated smith modules (mostly invalid bytes).
    Compile,
}

/// Parses `cargo xtask fuzz` options.
pub fn parse_args(args: &[String]) -> Result<FuzzOptions, String> {
    let mut o = FuzzOptions {
        seconds: None,
        modules: None,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs()),
        features: Vec::new(),
        jobs: 1,
        out: harness::workspace_root().join("target/fuzz"),
        target: Target::Differential,
        rounds: 4,
        timeout: Duration::from_secs(90),
        replay: Vec::new(),
        first: 0,
        save_all: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("`{flag}` needs a value"))
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("`{flag} {v}`: expected a number"))
        };
        match flag {
            "--seconds" => o.seconds = Some(number(value()?)?),
            "--modules" => o.modules = Some(number(value()?)?),
            "--seed" => o.seed = number(value()?)?,
            "--features" => o.features.push(Features::parse(&value()?)?),
            "-j" | "--jobs" => o.jobs = number(value()?)?.max(1) as usize,
            "--out" => o.out = PathBuf::from(value()?),
            "--rounds" => o.rounds = number(value()?)?.max(1) as usize,
            "--timeout" => o.timeout = Duration::from_secs(number(value()?)?.max(1)),
            "--replay" => o.replay.push(PathBuf::from(value()?)),
            "--first" => o.first = number(value()?)?,
            "--save" => o.save_all = true,
            "--target" => {
                o.target = match value()?.as_str() {
                    "differential" => Target::Differential,
                    "compile" => Target::Compile,
                    other => {
                        return Err(format!("unknown target `{other}` (differential, compile)"))
                    }
                }
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if o.features.is_empty() {
        o.features.push(Features::parse("wasmi")?);
    }
    if o.seconds.is_none() && o.modules.is_none() {
        o.seconds = Some(60);
    }
    Ok(o)
}

/// What the run found.
#[derive(Default)]
pub(super) struct Totals {
    pub(super) stats: Stats,
    /// Per feature set (by name).
    pub(super) per_set: Vec<(String, Stats)>,
    /// CPU time of the workers, in milliseconds.
    pub(super) cpu_ms: u64,
    pub(super) disagreements: Vec<String>,
    pub(super) crashes: Vec<String>,
    pub(super) hangs: Vec<String>,
}

/// Runs the fuzzer as `options` say; an error if it found anything.
pub fn run(options: &FuzzOptions) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find xtask itself: {e}"))?;
    let replay = expand_replay(&options.replay)?;
    if !options.replay.is_empty() && replay.is_empty() {
        println!("nothing to replay: no .wasm files");
        return Ok(());
    }
    let (first, end) = if replay.is_empty() {
        let count = options.modules.unwrap_or(u64::MAX);
        (options.first, options.first.saturating_add(count))
    } else {
        (0, replay.len() as u64)
    };
    let count = end - first;
    let deadline = options
        .seconds
        .filter(|_| replay.is_empty())
        .map(|s| Instant::now() + Duration::from_secs(s));
    let names: Vec<String> = options.features.iter().map(|f| f.name.clone()).collect();
    println!(
        "fuzzing ({:?}): seed {}, features {}, {} job(s), {}",
        options.target,
        options.seed,
        names.join(" | "),
        options.jobs,
        match (&deadline, replay.is_empty()) {
            (_, false) => format!("replaying {} case(s)", replay.len()),
            (Some(_), _) => format!("{} s", options.seconds.unwrap_or(0)),
            (None, _) => format!("{count} module(s)"),
        }
    );
    let started = Instant::now();
    let jobs = options.jobs.max(1) as u64;
    let totals = std::sync::Mutex::new(Totals::default());
    let running = std::sync::atomic::AtomicUsize::new(jobs as usize);
    std::thread::scope(|scope| {
        for j in 0..jobs {
            let job = Job {
                seed: options.seed,
                features: names.clone(),
                first: first + j,
                stride: jobs,
                end,
                rounds: options.rounds,
                target: options.target,
                out: options.out.clone(),
                replay: replay.clone(),
                save_all: options.save_all,
                describe: None,
            };
            let (exe, totals) = (&exe, &totals);
            let running = &running;
            scope.spawn(move || {
                supervise::supervise(exe, job, deadline, options.timeout, totals);
                running.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            });
        }
        // The counts so far, every half minute, in case the run is stopped from outside.
        let (totals, running) = (&totals, &running);
        scope.spawn(move || {
            let _ = std::fs::create_dir_all(&options.out);
            while running.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                std::thread::sleep(Duration::from_millis(500));
                if started.elapsed().as_secs().is_multiple_of(30) {
                    let text = summary(
                        &totals.lock().unwrap_or_else(|e| e.into_inner()),
                        started.elapsed(),
                    );
                    let _ = std::fs::write(options.out.join("summary.txt"), text);
                }
            }
        });
    });
    let totals = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    let text = summary(&totals, started.elapsed());
    print!("{text}");
    let _ = std::fs::write(options.out.join("summary.txt"), &text);
    let found = totals.disagreements.len() + totals.crashes.len() + totals.hangs.len();
    if found > 0 {
        return Err(format!(
            "the fuzzer found {found} case(s); reproducers are in {}",
            options.out.display()
        ));
    }
    Ok(())
}

/// The counts and findings of a run so far, as printed at its end.
fn summary(totals: &Totals, elapsed: Duration) -> String {
    let mut out = String::new();
    let s = totals.stats;
    let secs = elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "{} modules in {secs:.0} s ({:.1}/s): {} skipped (unsupported or atomic waits), {} \
         instantiations, {} calls, {} comparisons, {} rounds cut short by resource exhaustion, \
         {} oracle compile failures",
        s.modules,
        s.modules as f64 / secs.max(0.001),
        s.skipped,
        s.instantiations,
        s.calls,
        s.comparisons,
        s.exhausted,
        s.oracle_skipped
    );
    if totals.per_set.len() > 1 {
        for (name, s) in &totals.per_set {
            let _ = writeln!(
                out,
                "  {name}: {} modules, {} comparisons, {} calls, {} skipped",
                s.modules, s.comparisons, s.calls, s.skipped
            );
        }
    }
    let _ = writeln!(
        out,
        "CPU time in the workers: {:.0} s",
        totals.cpu_ms as f64 / 1000.0
    );
    let found = totals.disagreements.len() + totals.crashes.len() + totals.hangs.len();
    for (what, list) in [
        ("disagreement", &totals.disagreements),
        ("crash", &totals.crashes),
        ("hang", &totals.hangs),
    ] {
        for item in list {
            let _ = writeln!(out, "{what}: {item}");
        }
    }
    let _ = writeln!(
        out,
        "{} disagreement(s), {} crash(es), {} hang(s)",
        totals.disagreements.len(),
        totals.crashes.len(),
        totals.hangs.len()
    );
    // The plain closing line CI reads: modules without a finding, and findings.
    let _ = writeln!(
        out,
        "fuzz: {} passed, {found} failed",
        s.modules.saturating_sub(found as u64)
    );
    out
}

fn expand_replay(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "wasm"))
                .collect();
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(out)
}
