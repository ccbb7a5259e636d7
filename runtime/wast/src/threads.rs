//! Script runner: the threads proposal's `thread` and `wait` directives.
//!
//! `(thread $T (shared (module $M)) directive...)` runs its directives on a new host thread,
//! in an executor of its own: a fresh store (with its own `spectest`) for the same engine, so
//! modules and shared memories made anywhere in the script work there. The module named in
//! `shared` is passed as its shared memories (the one thing stores can share): the thread
//! can `register` it and import them, as the proposal's interpreter allows; its other
//! exports cannot cross stores, and invoking it there is a failure that says so. The
//! directives borrow the parsed script, so the new thread parses the text again and finds
//! its directives by their position. `(wait $T)` joins the thread and fails, listing them,
//! if any of its directives failed. A thread nobody waits for runs on, detached.

use super::exec::{Executor, Step};
use super::script;
use super::values::panic_message;
use super::{DirectiveResult, Outcome, WastOptions};
use runtime_engine::{Engine, Extern, SharedMemory};
use std::collections::HashMap;
use std::sync::Arc;
use wast::token::Id;
use wast::{WastDirective, WastThread};

/// The shared memories a module exports, by export name.
pub(super) type SharedExports = Arc<Vec<(String, SharedMemory)>>;

/// A running `thread` directive; joining it gives its directives' results.
pub(super) type ThreadHandle = std::thread::JoinHandle<Vec<DirectiveResult>>;

impl Executor<'_> {
    /// `thread`: starts the thread's directives on a new host thread.
    pub(super) fn thread(&mut self, thread: WastThread<'_>) -> Step {
        let name = thread.name.name().to_string();
        let mut shared = HashMap::new();
        if let Some(id) = thread.shared_module {
            shared.insert(id.name().to_string(), self.shared_exports(&id)?);
        }
        let engine = match &self.backend {
            Ok(backend) => Ok(backend.engine.clone()),
            Err(e) => Err(e.clone()),
        };
        let (text, path, options) = (self.text.clone(), self.path.clone(), self.options.clone());
        let handle = std::thread::Builder::new()
            .name(format!("wast ${name}"))
            .stack_size(options.stack_size)
            .spawn(move || run_thread(&text, &path, &options, engine, shared))
            .map_err(|e| format!("cannot start thread ${name}: {e}"))?;
        self.threads.insert(name, handle);
        Ok(None)
    }

    /// `wait`: joins the thread and reports its failures.
    pub(super) fn wait(&mut self, thread: Id<'_>) -> Step {
        let name = thread.name();
        let handle = self
            .threads
            .remove(name)
            .ok_or_else(|| format!("no running thread ${name} to wait for"))?;
        let results = handle
            .join()
            .map_err(|p| format!("thread ${name} panicked: {}", panic_message(&*p)))?;
        let failures: Vec<String> = results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Fail(why) => Some(format!("line {} {}: {why}", r.line, r.kind)),
                Outcome::Pass => None,
            })
            .collect();
        if failures.is_empty() {
            Ok(None)
        } else {
            Err(format!(
                "thread ${name}: {} of its {} directives failed: {}",
                failures.len(),
                results.len(),
                failures.join("; ")
            ))
        }
    }

    /// The shared memories module `id` exports (it may itself be shared with this thread).
    fn shared_exports(&mut self, id: &Id<'_>) -> Result<SharedExports, String> {
        if let Some(shared) = self.shared_modules.get(id.name()) {
            return Ok(shared.clone());
        }
        let instance = self.instance(Some(id))?;
        let backend = self.backend.as_mut().map_err(|e| e.clone())?;
        let exports = instance
            .exports(&backend.store)
            .into_iter()
            .filter_map(|(name, ext)| Some((name, ext.into_shared_memory()?)))
            .collect();
        Ok(Arc::new(exports))
    }

    /// `register` of a module shared with this thread: defines its shared memories.
    pub(super) fn register_shared(&mut self, name: &str, shared: &SharedExports) -> Step {
        let backend = self.backend.as_mut().map_err(|e| e.clone())?;
        for (export, memory) in shared.iter() {
            backend
                .linker
                .define(
                    &backend.store,
                    name,
                    export,
                    Extern::SharedMemory(memory.clone()),
                )
                .map_err(|e| format!("cannot register the shared memory \"{export}\": {e}"))?;
        }
        Ok(None)
    }
}

/// Runs the `thread` directive at `path` of the script `text` (parsed again here) in a new
/// executor for `engine` that knows the `shared` modules.
fn run_thread(
    text: &Arc<str>,
    path: &[usize],
    options: &WastOptions,
    engine: Result<Engine, String>,
    shared: HashMap<String, SharedExports>,
) -> Vec<DirectiveResult> {
    let fail = |why: String| {
        vec![DirectiveResult {
            index: 0,
            line: 0,
            kind: "thread",
            outcome: Outcome::Fail(why),
            detail: None,
        }]
    };
    let parsed = script::with_parsed(text, |wast, lines| {
        let Some(thread) = find_thread(wast.directives, path) else {
            return fail("the thread's directives were not found when parsed again".into());
        };
        let mut exec = Executor::with_engine(options, engine, text.clone(), path.to_vec());
        exec.shared_modules = shared;
        exec.run_all(thread.directives, lines, &mut |_| {})
    });
    parsed.unwrap_or_else(|e| fail(format!("the script does not parse again: {e}")))
}

/// The `thread` directive at `path` (indices into nested directive lists).
fn find_thread<'a>(directives: Vec<WastDirective<'a>>, path: &[usize]) -> Option<WastThread<'a>> {
    let (first, rest) = path.split_first()?;
    let WastDirective::Thread(thread) = directives.into_iter().nth(*first)? else {
        return None;
    };
    if rest.is_empty() {
        Some(thread)
    } else {
        find_thread(thread.directives, rest)
    }
}

#[cfg(test)]
mod tests {
    use crate::{run_script, Outcome, WastOptions};

    fn outcomes(text: &str) -> Vec<(&'static str, Outcome)> {
        run_script(text, &WastOptions::default(), &mut |_| {})
            .into_iter()
            .map(|r| (r.kind, r.outcome))
            .collect()
    }

    #[test]
    fn a_thread_writes_shared_memory_that_the_script_reads_after_wait() {
        let results = outcomes(
            r#"(module $Mem (memory (export "m") 1 1 shared))
            (register "mem" $Mem)
            (thread $T (shared (module $Mem))
              (register "mem" $Mem)
              (module (memory (import "mem" "m") 1 1 shared)
                (func (export "run") (i32.atomic.store (i32.const 8) (i32.const 5))))
              (invoke "run"))
            (wait $T)
            (module (memory (import "mem" "m") 1 1 shared)
              (func (export "get") (result i32) (i32.atomic.load (i32.const 8))))
            (assert_return (invoke "get") (i32.const 5))"#,
        );
        assert!(results.iter().all(|(_, o)| o.is_pass()), "{results:?}");
    }

    #[test]
    fn failures_inside_a_thread_are_reported_by_wait() {
        let results = outcomes(
            r#"(module $Mem (memory (export "m") 1 1 shared) (func (export "f")))
            (thread $T (shared (module $Mem))
              (module (func (export "one") (result i32) (i32.const 1)))
              (assert_return (invoke "one") (i32.const 2))
              (invoke $Mem "f"))
            (wait $T)
            (wait $T)"#,
        );
        let Outcome::Fail(why) = &results[2].1 else {
            panic!("{results:?}")
        };
        assert!(why.contains("2 of its 3 directives failed"), "{why}");
        assert!(why.contains("expected (i32.const 2)"), "{why}");
        assert!(why.contains("only its shared memories"), "{why}");
        let Outcome::Fail(why) = &results[3].1 else {
            panic!("{results:?}")
        };
        assert!(why.contains("no running thread $T"), "{why}");
    }
}
