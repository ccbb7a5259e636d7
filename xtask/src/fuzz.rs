//! `cargo xtask fuzz`: the differential fuzzing loop (see the `fuzz` crate). Modules run in
//! worker processes (this executable again, in worker mode), so a crash or a hang costs one
//! module: the parent notes which module was running, saves it with a reproducer, and starts
//! a new worker after it.

use fuzz::differential::{run_module, Stats, Step};
use fuzz::features::Features;
use fuzz::generate::{self, Rng};
use fuzz::{repro, targets};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Set when this executable is a fuzz worker; holds the worker's job (see [`Job`]).
const WORKER_VAR: &str = "XTASK_INTERNAL_FUZZ_WORKER";

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

/// One worker's share: modules `first, first + stride, ...` below `end`.
#[derive(Clone, Debug)]
struct Job {
    seed: u64,
    features: Vec<String>,
    first: u64,
    stride: u64,
    end: u64,
    rounds: usize,
    target: Target,
    out: PathBuf,
    replay: Vec<PathBuf>,
    save_all: bool,
    /// Only run the oracles of module `first` and write its reproducer (after a crash).
    describe: Option<String>,
}

impl Job {
    fn encode(&self) -> String {
        let replay: Vec<String> = self
            .replay
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        [
            self.seed.to_string(),
            self.features.join(";"),
            self.first.to_string(),
            self.stride.to_string(),
            self.end.to_string(),
            self.rounds.to_string(),
            format!("{:?}", self.target),
            self.out.display().to_string(),
            replay.join(";"),
            self.save_all.to_string(),
            self.describe.clone().unwrap_or_default(),
        ]
        .join("\n")
    }

    fn decode(text: &str) -> Option<Job> {
        // The last field (a crash description) may itself hold newlines.
        let parts: Vec<&str> = text.splitn(11, '\n').collect();
        let list = |s: &str| -> Vec<String> {
            s.split(';')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let [seed, features, first, stride, end, rounds, target, out, replay, save_all, describe] =
            parts[..]
        else {
            return None;
        };
        Some(Job {
            seed: seed.parse().ok()?,
            features: list(features),
            first: first.parse().ok()?,
            stride: stride.parse().ok()?,
            end: end.parse().ok()?,
            rounds: rounds.parse().ok()?,
            target: if target == "Compile" {
                Target::Compile
            } else {
                Target::Differential
            },
            out: PathBuf::from(out),
            replay: list(replay).into_iter().map(PathBuf::from).collect(),
            save_all: save_all == "true",
            describe: (!describe.is_empty()).then(|| describe.to_string()),
        })
    }
}

/// The module a job's index stands for, with its feature set and a name for its files.
struct Case {
    wasm: Vec<u8>,
    features: Features,
    name: String,
    origin: String,
}

fn case(job: &Job, sets: &[Features], index: u64) -> Result<Case, String> {
    if let Some(path) = job.replay.get(index as usize) {
        let wasm = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let features = Features::parse(&replay_features(path))?;
        let name = path
            .file_stem()
            .map_or("case".into(), |s| s.to_string_lossy().into_owned());
        return Ok(Case {
            wasm,
            features,
            name,
            origin: format!("replayed from {}", path.display()),
        });
    }
    let features = sets[(index % sets.len() as u64) as usize].clone();
    let mut wasm = generate::generate(&features, job.seed, index)?;
    if job.target == Target::Compile {
        generate::mutate(&mut wasm, &mut generate::module_rng(!job.seed, index));
    }
    Ok(Case {
        wasm,
        name: format!("{}-s{}-m{index}", features.name.replace(',', "+"), job.seed),
        origin: format!(
            "cargo xtask fuzz --seed {} --features {} (module {index}{})",
            job.seed,
            features.name,
            if job.target == Target::Compile {
                ", --target compile"
            } else {
                ""
            }
        ),
        features,
    })
}

/// The feature set recorded in a corpus case's `.wast` (`;; features: NAME`), else `all`.
fn replay_features(wasm: &Path) -> String {
    std::fs::read_to_string(wasm.with_extension("wast"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(";; features: ").map(str::to_string))
        })
        .unwrap_or_else(|| "all".to_string())
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

// ----- worker ----------------------------------------------------------------------------

/// In worker mode runs the job from the environment and returns the exit code.
pub fn worker_main() -> Option<ExitCode> {
    let text = std::env::var(WORKER_VAR).ok()?;
    let Some(job) = Job::decode(&text) else {
        eprintln!("bad fuzz worker job");
        return Some(ExitCode::from(3));
    };
    // Deep recursion in generated modules needs room; run on a big stack.
    let ran = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || worker(&job))
        .map_err(|e| e.to_string())
        .and_then(|t| t.join().map_err(|_| "the worker panicked".to_string()))
        .and_then(|r| r);
    Some(match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fuzz worker: {e}");
            ExitCode::FAILURE
        }
    })
}

fn worker(job: &Job) -> Result<(), String> {
    let sets = job
        .features
        .iter()
        .map(|f| Features::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let stdout = std::io::stdout();
    // A worker whose parent is gone (its pipe closed) stops.
    let say = |line: String| {
        let mut out = stdout.lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("the fuzzer is gone ({e})"))
    };
    if let Some(how) = &job.describe {
        let case = case(job, &sets, job.first)?;
        let mut rng = generate::module_rng(job.seed.rotate_left(17), job.first);
        let steps = oracle_steps(&case, job.rounds, &mut rng)?;
        save_case(job, &case, how, &steps, &[])?;
        return Ok(());
    }
    // Heartbeat: a line whenever a step finished in the last second (the parent counts
    // any line as progress).
    std::thread::spawn(|| {
        let mut seen = 0;
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = fuzz::differential::STEPS.load(std::sync::atomic::Ordering::Relaxed);
            if now != seen {
                seen = now;
                let mut out = std::io::stdout().lock();
                if writeln!(out, "@@alive").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
        }
    });
    let compile_engine = {
        let mut config = runtime::Config::new();
        config.wasm_features(Features::parse("all")?.wasm_features());
        runtime::Engine::new(&config).map_err(|e| e.to_string())?
    };
    let mut index = job.first;
    while index < job.end {
        say(format!("@@start {index}"))?;
        let case = case(job, &sets, index)?;
        let mut stats = Stats::default();
        let finding = match job.target {
            Target::Compile => {
                stats.modules += 1;
                stats.comparisons += 1;
                targets::validate_and_compile(&compile_engine, &case.wasm)
                    .err()
                    .map(|why| (why, Vec::new(), Vec::new()))
            }
            Target::Differential => differential(&case, job, index, &mut stats)?,
        };
        if let Some((why, steps, globals)) = finding {
            let (wasm_path, _) = save_case(job, &case, &why, &steps, &globals)?;
            say(format!("@@found {index} {}", wasm_path.display()))?;
        } else if job.save_all && job.target == Target::Differential {
            let mut rng = generate::module_rng(job.seed.rotate_left(17), index);
            let steps = oracle_steps(&case, job.rounds, &mut rng)?;
            save_case(
                job,
                &case,
                "saved with --save: the backends agreed",
                &steps,
                &[],
            )?;
        }
        say(format!(
            "@@done {index} {} {} {} {} {} {} {} {}",
            stats.modules,
            stats.skipped,
            stats.oracle_skipped,
            stats.instantiations,
            stats.calls,
            stats.comparisons,
            stats.exhausted,
            cpu_millis()
        ))?;
        index += job.stride;
    }
    Ok(())
}

/// CPU time this process has used (all threads, user and system), in milliseconds, from
/// `/proc/self/stat` (clock ticks of 10 ms); 0 where that is not available.
fn cpu_millis() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // Fields after the command name (which is in parentheses): utime and stime are the
    // 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<u64>() * 10
}

type Finding = (String, Vec<Vec<Step>>, Vec<(String, fuzz::value::Value)>);

fn differential(
    case: &Case,
    job: &Job,
    index: u64,
    stats: &mut Stats,
) -> Result<Option<Finding>, String> {
    if generate::waits_on_atomics(&case.wasm) {
        stats.modules += 1;
        stats.skipped += 1;
        return Ok(None);
    }
    let mut ours = targets::ours(&case.features)?;
    let mut oracles = targets::oracles(&case.features)?;
    let mut rng = generate::module_rng(job.seed.rotate_left(17), index);
    match run_module(
        &case.wasm,
        &mut ours,
        &mut oracles,
        job.rounds,
        &mut rng,
        stats,
    ) {
        Ok(()) => Ok(None),
        Err(d) => {
            let header = repro::header_of(&d);
            Ok(Some((header.join("\n"), vec![d.steps], d.globals)))
        }
    }
}

/// Every round of a case as the oracles see it (our runtime's default configuration is left
/// out: it is the one that crashed or hung).
fn oracle_steps(case: &Case, rounds: usize, rng: &mut Rng) -> Result<Vec<Vec<Step>>, String> {
    use fuzz::backend::Backend;
    let mut oracles = targets::oracles(&case.features)?;
    let oracle: &mut Box<dyn Backend> = &mut oracles[0];
    oracle.compile(&case.wasm)?;
    let exports = fuzz::differential::exported_funcs(&case.wasm)?;
    let mut all = Vec::new();
    for round in 0..rounds {
        // The same arguments as `run_module` draws for this round.
        let args: Vec<_> = exports
            .iter()
            .map(|f| fuzz::differential::arguments(&f.params, round, rng))
            .collect();
        let mut steps = Vec::new();
        let made = oracle.instantiate();
        let ok = matches!(made, fuzz::value::Outcome::Values(_));
        steps.push(Step::Instantiate(made));
        if ok {
            for (f, args) in exports.iter().zip(args) {
                if f.params.contains(&fuzz::value::ParamType::NonNullRef) {
                    continue;
                }
                let outcome = oracle.call(&f.name, &args);
                let exhausted = outcome.is_exhaustion();
                steps.push(Step::Call {
                    name: f.name.clone(),
                    args,
                    outcome,
                });
                if exhausted {
                    break;
                }
            }
        }
        all.push(steps);
        if !ok {
            break;
        }
    }
    Ok(all)
}

fn save_case(
    job: &Job,
    case: &Case,
    why: &str,
    steps: &[Vec<Step>],
    globals: &[(String, fuzz::value::Value)],
) -> Result<(PathBuf, PathBuf), String> {
    let mut header = vec![
        format!("found by differential fuzzing: {}", case.origin),
        format!("features: {}", case.features.name),
    ];
    header.extend(why.lines().map(str::to_string));
    repro::save(&job.out, &case.name, &case.wasm, &header, steps, globals)
        .map_err(|e| format!("cannot save the case in {}: {e}", job.out.display()))
}

// ----- parent ----------------------------------------------------------------------------

/// What the run found.
#[derive(Default)]
struct Totals {
    stats: Stats,
    /// Per feature set (by name).
    per_set: Vec<(String, Stats)>,
    /// CPU time of the workers, in milliseconds.
    cpu_ms: u64,
    disagreements: Vec<String>,
    crashes: Vec<String>,
    hangs: Vec<String>,
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
                supervise(exe, job, deadline, options.timeout, totals);
                running.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            });
        }
        // The counts so far, every half minute, in case the run is stopped from outside.
        let (totals, running) = (&totals, &running);
        scope.spawn(move || {
            let _ = std::fs::create_dir_all(&options.out);
            while running.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                std::thread::sleep(Duration::from_millis(500));
                if started.elapsed().as_secs() % 30 == 0 {
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

/// Runs one job in worker processes until it is done or the deadline passes, restarting
/// after each crash or hang.
fn supervise(
    exe: &Path,
    mut job: Job,
    deadline: Option<Instant>,
    timeout: Duration,
    totals: &std::sync::Mutex<Totals>,
) {
    let record = |f: &dyn Fn(&mut Totals)| f(&mut totals.lock().unwrap_or_else(|e| e.into_inner()));
    while job.first < job.end && deadline.is_none_or(|d| Instant::now() < d) {
        let mut child = match Command::new(exe)
            .env(WORKER_VAR, job.encode())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                record(&|t| t.crashes.push(format!("cannot start a worker: {e}")));
                return;
            }
        };
        let (tx, rx) = mpsc::channel::<String>();
        let out = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let err = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || tail(err, 3000));
        let mut running: Option<u64> = None;
        let mut worker_cpu = 0;
        let mut last_progress = Instant::now();
        let ended = loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break End::Deadline;
            }
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    last_progress = Instant::now();
                    let mut words = line.split_whitespace();
                    match words.next() {
                        Some("@@start") => running = words.next().and_then(|w| w.parse().ok()),
                        Some("@@done") => {
                            let n: Vec<u64> = words.filter_map(|w| w.parse().ok()).collect();
                            if let [index, modules, skipped, oskip, inst, calls, comps, exh, cpu] =
                                n[..]
                            {
                                job.first = index + job.stride;
                                running = None;
                                let delta = cpu.saturating_sub(worker_cpu);
                                worker_cpu = cpu;
                                record(&|t| t.cpu_ms += delta);
                                let stats = Stats {
                                    modules,
                                    skipped,
                                    oracle_skipped: oskip,
                                    instantiations: inst,
                                    calls,
                                    comparisons: comps,
                                    exhausted: exh,
                                };
                                let set = if job.replay.is_empty() {
                                    job.features[(index % job.features.len() as u64) as usize]
                                        .clone()
                                } else {
                                    "replay".to_string()
                                };
                                record(&|t| {
                                    t.stats += stats;
                                    match t.per_set.iter_mut().find(|(n, _)| *n == set) {
                                        Some((_, s)) => *s += stats,
                                        None => t.per_set.push((set.clone(), stats)),
                                    }
                                });
                            }
                        }
                        Some("@@found") => {
                            let rest: Vec<&str> = words.collect();
                            let item = rest.join(" ");
                            println!("found a disagreement: {item}");
                            record(&|t| t.disagreements.push(item.clone()));
                        }
                        _ => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if running.is_some() && last_progress.elapsed() > timeout {
                        break End::Hang;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break End::Exited,
            }
        };
        if ended != End::Exited {
            let _ = child.kill();
        }
        let status = child.wait().ok();
        let stderr = stderr.join().unwrap_or_default();
        if ended == End::Deadline {
            return;
        }
        let Some(index) = running else {
            if status.is_some_and(|s| s.success()) {
                return;
            }
            record(&|t| {
                t.crashes.push(format!(
                    "a worker failed between modules ({status:?}): {stderr}"
                ))
            });
            return;
        };
        let how = match ended {
            End::Hang => format!(
                "hang: no instantiation or call finished for {} s",
                timeout.as_secs()
            ),
            _ => format!(
                "crash: the worker died ({})\nlast output on stderr:\n{}",
                status.map_or("unknown status".into(), |s| s.to_string()),
                stderr.trim_end()
            ),
        };
        let saved = describe(exe, &job, index, &how);
        let item = format!("module {index}: {}", saved.unwrap_or_else(|e| e));
        println!(
            "found a {}: {item}",
            if ended == End::Hang { "hang" } else { "crash" }
        );
        record(&|t| {
            if ended == End::Hang {
                t.hangs.push(item.clone())
            } else {
                t.crashes.push(item.clone())
            }
        });
        job.first = index + job.stride;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Exited,
    Hang,
    Deadline,
}

/// Saves module `index` of `job` with a reproducer made by the oracles (in another worker,
/// in case they crash too). Returns where it went.
fn describe(exe: &Path, job: &Job, index: u64, how: &str) -> Result<String, String> {
    let one = Job {
        first: index,
        end: index + 1,
        describe: Some(how.to_string()),
        ..job.clone()
    };
    let mut child = Command::new(exe)
        .env(WORKER_VAR, one.encode())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    let started = Instant::now();
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if started.elapsed() > Duration::from_secs(60) => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break false,
        }
    };
    let sets = job
        .features
        .iter()
        .map(|f| Features::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let case = case(job, &sets, index)?;
    let wasm = job.out.join(format!("{}.wasm", case.name));
    if !ok {
        // The oracles failed too: save the module with a script that just runs it.
        save_case(job, &case, how, &[], &[])?;
    }
    Ok(wasm.display().to_string())
}

/// The last `limit` bytes of a stream, as text.
fn tail(mut input: impl Read, limit: usize) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = input.read(&mut buf) {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * limit {
            kept.drain(..kept.len() - limit);
        }
    }
    if kept.len() > limit {
        kept.drain(..kept.len() - limit);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_survive_the_environment() {
        let job = Job {
            seed: 9,
            features: vec!["wasmi".into(), "gc".into()],
            first: 3,
            stride: 2,
            end: u64::MAX,
            rounds: 4,
            target: Target::Compile,
            out: PathBuf::from("/tmp/x"),
            replay: vec![PathBuf::from("a.wasm")],
            save_all: true,
            describe: Some("crash\nwith lines".into()),
        };
        let back = Job::decode(&job.encode()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{job:?}"));
    }
}
