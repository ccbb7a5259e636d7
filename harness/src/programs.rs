//! Program suites (WASI, Emscripten): one trial per program, each run on its own thread with a
//! large stack and a time limit, judged against the suite's expected-failure list.

use crate::expectations::Expectations;
use libtest_mimic::Trial;
use std::path::Path;

use std::sync::Arc;
use std::time::Duration;

/// How long one program may run: `HARNESS_TIMEOUT_SECS`, else `default_secs`.
pub fn time_limit(default_secs: u64) -> Duration {
    let secs = std::env::var("HARNESS_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_secs);
    Duration::from_secs(secs)
}

/// Runs `f` on a thread named `name` with `stack` bytes of stack, within `limit`; a panic or
/// a hang fails it (a hung thread is left behind).
pub fn run_on_thread(
    name: &str,
    stack: usize,
    limit: Duration,
    f: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(stack)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .unwrap_or_else(|p| Err(format!("the runtime panicked: {}", panic_message(&*p))));
            let _ = tx.send(result);
        })
        .map_err(|e| format!("cannot start the test thread: {e}"))?;
    rx.recv_timeout(limit).unwrap_or_else(|e| match e {
        std::sync::mpsc::RecvTimeoutError::Timeout => Err(format!("timed out after {limit:?}")),
        std::sync::mpsc::RecvTimeoutError::Disconnected => Err("the test thread died".into()),
    })
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// One trial per test (named by `name`, run by `run`), plus the check that every entry of the
/// expected-failure list matches some trial. `suite_dir` names the list's folder.
pub fn trials<T: Clone + Send + Sync + 'static>(
    tests: &[T],
    name: impl Fn(&T) -> String,
    run: fn(&T) -> Result<(), String>,
    expectations: &Arc<Expectations>,
    suite_dir: &str,
) -> Vec<Trial> {
    let mut trials = Vec::new();
    let mut names = Vec::new();
    for test in tests {
        let trial_name = name(test);
        let entry = expectations.lookup(&trial_name).cloned();
        let listed = entry.is_some();
        let (test, expectations) = (test.clone(), expectations.clone());
        let trial = Trial::test(trial_name.clone(), move || {
            expectations.judge(run(&test), entry.as_ref())
        });
        trials.push(if listed {
            trial.with_kind("xfail")
        } else {
            trial
        });
        names.push(trial_name);
    }
    trials.push(expectations.unused_entries_trial(suite_dir, &names));
    trials
}

/// A temporary directory (tempfile's) removed on drop, read-only fixtures included.
pub struct TempDir(Option<tempfile::TempDir>);

impl TempDir {
    /// A fresh directory `runtime-<suite>-<label>-<random>` in the system's temporary folder.
    pub fn new(suite: &str, label: &str) -> std::io::Result<TempDir> {
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = tempfile::Builder::new()
            .prefix(&format!("runtime-{suite}-{label}-"))
            .tempdir()?;
        Ok(TempDir(Some(dir)))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            // Copied fixtures may be read-only, which would stop the removal.
            let _ = make_writable(dir.path());
            drop(dir);
        }
    }
}

/// Gives the owner write access to everything under `dir` (the fixtures are read-only).
fn make_writable(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_symlink() {
            continue;
        }
        let mut perms = entry
            .metadata()
            .map_err(std::io::Error::other)?
            .permissions();
        perms.set_mode(perms.mode() | 0o700);
        std::fs::set_permissions(entry.path(), perms)?;
    }
    Ok(())
}

/// Copies `src` into `dest` (files, directories and symlinks), owner-writable.
pub fn copy_fixture(src: &Path, dest: &Path) -> std::io::Result<()> {
    crate::fetch::copy_tree(src, dest)?;
    make_writable(dest)
}
