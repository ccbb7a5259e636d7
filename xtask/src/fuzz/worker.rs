//! `cargo xtask fuzz`: the worker process, which runs its job's modules one by one and
//! reports each on stdout (`@@start`, `@@done` with counts and CPU time, `@@found`, and
//! `@@alive` while a module is still making progress).

use super::job::{case, Case, Job};
use super::{Target, WORKER_VAR};
use fuzz::differential::{run_module, Stats, Step};
use fuzz::features::Features;
use fuzz::generate::{self, Rng};
use fuzz::{repro, targets};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
        let steps = oracle_steps(&case, 1, &mut rng)?;
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
            let steps = oracle_steps(&case, 1, &mut rng)?;
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

/// The first `rounds` rounds of a case as the oracles see it (our runtime's default
/// configuration is left out: it may be the one that crashed or hung). Reproducers hold one
/// round: a script runs in one store, where later instantiations would share the first
/// one's GC heap.
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

pub(super) fn save_case(
    job: &Job,
    case: &Case,
    why: &str,
    steps: &[Vec<Step>],
    globals: &[(String, fuzz::value::Value)],
) -> Result<(PathBuf, PathBuf), String> {
    let mut header = vec![
        format!("found by differential fuzzing: {}", case.origin),
        format!("features: {}", case.features.name),
        format!(
            "this script replays one round; `cargo xtask fuzz --replay {}.wasm` runs them all",
            case.name
        ),
    ];
    header.extend(why.lines().map(str::to_string));
    repro::save(&job.out, &case.name, &case.wasm, &header, steps, globals)
        .map_err(|e| format!("cannot save the case in {}: {e}", job.out.display()))
}
