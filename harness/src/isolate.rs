//! Spec suite: runs one `.wast` file in a child process (the current executable re-run in
//! "child mode"), so a crash or hang of the runtime costs one file, never the whole run.
//!
//! The child streams one line per finished directive on stdout; the parent keeps what arrived,
//! enforces a time limit, and turns a crash or timeout into failures of the directives that
//! were running or still to come.

use runtime::wast::{features_for_path, run_file, run_script_on_thread, Outcome, WastOptions};
use runtime::WasmFeatures;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Set (to a script path) when the executable should run that script and exit.
const CHILD_VAR: &str = "HARNESS_INTERNAL_RUN_WAST";
/// The script's path relative to the suite root, which decides its proposal features.
const CHILD_REL_VAR: &str = "HARNESS_INTERNAL_WAST_REL";
/// When set, the proposals to enable (`WasmFeatures` bits), instead of judging by `rel`.
const CHILD_FEATURES_VAR: &str = "HARNESS_INTERNAL_WAST_FEATURES";
/// When set, how many times to run the script in a row (stress tests; default once).
const CHILD_REPEAT_VAR: &str = "HARNESS_INTERNAL_WAST_REPEAT";
const RESULT_PREFIX: &str = "@@harness-result ";
const DONE_LINE: &str = "@@harness-done";

/// How files are run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Run each file in a child process (default; `HARNESS_ISOLATE=0` turns it off).
    pub isolate: bool,
    /// Time limit per file (`HARNESS_TIMEOUT_SECS`, default 600).
    pub timeout: Duration,
}

impl RunOptions {
    pub fn from_env() -> RunOptions {
        let isolate = std::env::var("HARNESS_ISOLATE").map_or(true, |v| v != "0");
        let secs = std::env::var("HARNESS_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(600);
        RunOptions {
            isolate,
            timeout: Duration::from_secs(secs),
        }
    }
}

/// In child mode (see [`CHILD_VAR`]) runs the script and returns the exit code; otherwise
/// returns `None`. Every executable that runs files through this module calls it first.
pub fn child_main() -> Option<ExitCode> {
    let path = std::env::var_os(CHILD_VAR)?;
    let rel = std::env::var(CHILD_REL_VAR).unwrap_or_default();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {}: {e}", Path::new(&path).display());
            return Some(ExitCode::from(3));
        }
    };
    let features = std::env::var(CHILD_FEATURES_VAR)
        .ok()
        .and_then(|bits| bits.parse().ok())
        .map_or_else(
            || features_for_path(Path::new(&rel)),
            WasmFeatures::from_bits_retain,
        );
    let options = WastOptions {
        features,
        ..WastOptions::default()
    };
    let repeat: usize = std::env::var(CHILD_REPEAT_VAR)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let stdout = std::io::stdout();
    let report = |index: usize, fail: Option<String>| {
        let line = serde_json::to_string(&ResultLine { i: index, fail })
            .expect("a result line serialises");
        let mut out = stdout.lock();
        let _ = writeln!(out, "{RESULT_PREFIX}{line}");
        let _ = out.flush();
    };
    if repeat <= 1 {
        run_script_on_thread(&text, &options, |r| {
            report(r.index, fail_reason(&r.outcome));
        });
    } else {
        // Each directive's first failure is reported at once; its pass only after the last run.
        let mut failed = std::collections::BTreeSet::new();
        let mut count = 0;
        for run in 1..=repeat {
            let results = run_script_on_thread(&text, &options, |r| {
                if let Some(reason) = fail_reason(&r.outcome) {
                    if failed.insert(r.index) {
                        report(r.index, Some(format!("in run {run} of {repeat}: {reason}")));
                    }
                }
            });
            count = count.max(results.len());
        }
        for index in (0..count).filter(|i| !failed.contains(i)) {
            report(index, None);
        }
    }
    println!("{DONE_LINE}");
    Some(ExitCode::SUCCESS)
}

fn fail_reason(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Fail(reason) => Some(reason.clone()),
        Outcome::Pass => None,
    }
}

/// Limits how many files run at once, across all threads that ask.
pub struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    pub fn new(n: usize) -> Slots {
        Slots {
            free: Mutex::new(n.max(1)),
            freed: Condvar::new(),
        }
    }
    /// Runs `f` once a slot is free.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        drop(free);
        let result = f();
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
        result
    }
}

/// Runs the script at `path` (`rel` is its path relative to the suite root) with `features`
/// (`None`: judged by `rel`'s folder); `lines` are the lines of its `count` directives.
/// Always returns `count` outcomes.
pub fn run_isolated(
    path: &Path,
    rel: &str,
    features: Option<WasmFeatures>,
    lines: &[u32],
    options: &RunOptions,
    slots: &Slots,
) -> Vec<Outcome> {
    slots.run(|| {
        if options.isolate {
            run_child_inner(path, rel, features, 1, lines, options.timeout)
        } else {
            let features = features.unwrap_or_else(|| features_for_path(Path::new(rel)));
            run_in_process(path, features, lines.len())
        }
    })
}

fn run_in_process(path: &Path, features: WasmFeatures, count: usize) -> Vec<Outcome> {
    let options = WastOptions {
        features,
        ..WastOptions::default()
    };
    let mut outcomes =
        vec![Outcome::Fail("no result was reported for this directive".into()); count];
    match run_file(path, &options) {
        Ok(results) => {
            for r in results {
                if let Some(slot) = outcomes.get_mut(r.index) {
                    *slot = r.outcome;
                }
            }
        }
        Err(e) => outcomes
            .iter_mut()
            .for_each(|o| *o = Outcome::Fail(e.clone())),
    }
    outcomes
}

/// Runs the script at `path` in a child process with `features` enabled; `lines` are the
/// lines of its directives. Always returns one outcome per directive.
pub fn run_child_with_features(
    path: &Path,
    features: WasmFeatures,
    lines: &[u32],
    timeout: Duration,
) -> Vec<Outcome> {
    run_child_inner(path, "", Some(features), 1, lines, timeout)
}

/// Runs the script at `path` (`rel` as for [`run_isolated`]) `repeat` times in a row in one
/// child process; a directive fails with its first failure in any run. `timeout` is for all
/// runs together.
pub fn run_child_repeated(
    path: &Path,
    rel: &str,
    repeat: usize,
    lines: &[u32],
    timeout: Duration,
) -> Vec<Outcome> {
    run_child_inner(path, rel, None, repeat, lines, timeout)
}

fn run_child_inner(
    path: &Path,
    rel: &str,
    features: Option<WasmFeatures>,
    repeat: usize,
    lines: &[u32],
    timeout: Duration,
) -> Vec<Outcome> {
    let fail_all = |why: String| vec![Outcome::Fail(why); lines.len()];
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return fail_all(format!("cannot find the test executable: {e}")),
    };
    let mut command = Command::new(exe);
    command.env(CHILD_VAR, path).env(CHILD_REL_VAR, rel);
    if let Some(f) = features {
        command.env(CHILD_FEATURES_VAR, f.bits().to_string());
    }
    if repeat > 1 {
        command.env(CHILD_REPEAT_VAR, repeat.to_string());
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return fail_all(format!("cannot start the test process: {e}")),
    };
    let stdout = child
        .stdout
        .take()
        .map(|out| std::thread::spawn(move || read_results(out)));
    let stderr = child
        .stderr
        .take()
        .map(|err| std::thread::spawn(move || tail(err, 4000)));
    let started = Instant::now();
    let (status, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(status)) => break (Some(status), false),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                break (child.wait().ok(), true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break (child.wait().ok(), false),
        }
    };
    let (results, done) = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    let what = if repeat > 1 {
        format!("{repeat} runs of the file")
    } else {
        "the file".to_string()
    };
    let how = if timed_out {
        format!(
            "{what} did not finish within {}s (raise HARNESS_TIMEOUT_SECS if it is just slow)",
            timeout.as_secs()
        )
    } else if done {
        "the test process reported no result for it".to_string()
    } else {
        format!("the test process died ({})", describe_status(status))
    };
    assemble(results, lines, &how, &stderr)
}

/// One outcome per directive from the results that arrived; when some are missing, the first
/// missing directive is the one that was running when the process stopped (`how`).
fn assemble(
    results: Vec<(usize, Outcome)>,
    lines: &[u32],
    how: &str,
    stderr: &str,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; lines.len()];
    for (i, outcome) in results {
        if let Some(slot) = outcomes.get_mut(i) {
            *slot = Some(outcome);
        }
    }
    let first_missing = outcomes.iter().position(Option::is_none);
    let Some(first) = first_missing else {
        return outcomes.into_iter().flatten().collect();
    };
    let stderr = if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("\nlast output on stderr:\n{stderr}")
    };
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| match o {
            Some(o) => o,
            None if i == first => {
                Outcome::Fail(format!("{how} while running this directive{stderr}"))
            }
            None => Outcome::Fail(format!("not run: {how} at line {}", lines[first])),
        })
        .collect()
}

/// One result line of the child: the directive's index and, if it failed, why.
#[derive(serde::Serialize, serde::Deserialize)]
struct ResultLine {
    i: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail: Option<String>,
}

/// Reads the child's result lines; also says whether the done marker arrived.
fn read_results(out: impl Read) -> (Vec<(usize, Outcome)>, bool) {
    let mut results = Vec::new();
    let mut done = false;
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        if line == DONE_LINE {
            done = true;
        }
        let Some(json) = line.strip_prefix(RESULT_PREFIX) else {
            continue;
        };
        let Ok(line) = serde_json::from_str::<ResultLine>(json) else {
            continue;
        };
        let outcome = match line.fail {
            Some(reason) => Outcome::Fail(reason),
            None => Outcome::Pass,
        };
        results.push((line.i, outcome));
    }
    (results, done)
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

fn describe_status(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "exit status unknown".to_string();
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => " (SIGILL)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            return format!("killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_are_read_and_noise_ignored() {
        let input = format!(
            "{RESULT_PREFIX}{{\"i\":0}}\nprinted by the script\n{RESULT_PREFIX}{{\"i\":1,\"fail\":\"why\\nnot\"}}\n{DONE_LINE}\n"
        );
        let (results, done) = read_results(input.as_bytes());
        assert!(done);
        assert_eq!(
            results,
            vec![(0, Outcome::Pass), (1, Outcome::Fail("why\nnot".into()))]
        );
    }

    #[test]
    fn a_dead_process_fails_the_running_directive_and_the_rest() {
        let results = vec![(0, Outcome::Pass), (1, Outcome::Fail("no".into()))];
        let out = assemble(
            results,
            &[1, 5, 9, 12],
            "the test process died (signal 11)",
            "boom",
        );
        assert_eq!(out[0], Outcome::Pass);
        assert_eq!(out[1], Outcome::Fail("no".into()));
        let Outcome::Fail(running) = &out[2] else {
            panic!("{out:?}")
        };
        assert!(
            running.contains("died (signal 11) while running this directive")
                && running.contains("boom")
        );
        let Outcome::Fail(later) = &out[3] else {
            panic!("{out:?}")
        };
        assert!(
            later.starts_with("not run:") && later.ends_with("at line 9"),
            "{later}"
        );
    }

    #[test]
    fn tail_keeps_the_end() {
        let text = "x".repeat(10_000) + "END";
        let t = tail(text.as_bytes(), 10);
        assert_eq!(t.len(), 10);
        assert!(t.ends_with("END"));
    }
}
