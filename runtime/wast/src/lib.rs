//! Script runner: executes `.wast` spec scripts (modules, registrations, invocations and
//! assertions) against the public API, shared by the CLI (`runtime wast`) and the test harness.
//!
//! A script runs with one [`Store`](runtime_engine::Store) and the reference interpreter's `spectest`
//! module. Every directive gets an [`Outcome`]; a panic inside the runtime is caught and
//! reported as the failure of the directive that caused it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assert;
mod exec;
mod script;
mod spectest;
mod threads;
mod unfold;
mod values;

use runtime_engine::WasmFeatures;
use std::path::Path;

pub use script::{
    list_directives, module_binaries, DirectiveInfo, EncodedModule, LineIndex, ScriptError,
};

/// How a script is run.
#[derive(Clone, Debug)]
pub struct WastOptions {
    /// Proposals the validator accepts (see [`features_for_path`]).
    pub features: WasmFeatures,
    /// Whether the `spectest` print functions write to standard output.
    pub print: bool,
    /// Stack size of the thread [`run_script_on_thread`] starts (deep recursion tests need room).
    pub stack_size: usize,
    /// Fuel each store of the script gets ([`Config::consume_fuel`](crate::Config::consume_fuel)
    /// is on when this is set); `None` runs without fuel.
    pub fuel: Option<u64>,
    /// [`Config::max_wasm_stack`](crate::Config::max_wasm_stack), if not the default.
    pub max_wasm_stack: Option<usize>,
    /// Run a full garbage collection after every directive (scripts can also call
    /// `(import "runtime" "gc" (func))` to collect wherever they like).
    pub collect_between_directives: bool,
    /// Collect before every n-th GC allocation too (`Config::gc_zeal_alloc_counter`).
    pub gc_zeal_alloc_counter: Option<u32>,
}

impl Default for WastOptions {
    fn default() -> WastOptions {
        WastOptions {
            features: WasmFeatures::WASM3,
            print: false,
            stack_size: 64 << 20,
            fuel: None,
            max_wasm_stack: None,
            collect_between_directives: false,
            gc_zeal_alloc_counter: None,
        }
    }
}

/// Whether a directive behaved as the script says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It did.
    Pass,
    /// The reason, with what was expected and what happened.
    Fail(String),
}

impl Outcome {
    /// Whether this is [`Outcome::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }
}

/// The outcome of one top-level directive of a script.
#[derive(Clone, Debug)]
pub struct DirectiveResult {
    /// Position of the directive in the script (0-based), as in [`list_directives`].
    pub index: usize,
    /// 1-based line of the directive's keyword.
    pub line: u32,
    /// The directive's keyword, e.g. `assert_return` (see [`DirectiveInfo::kind`]).
    pub kind: &'static str,
    /// Whether it behaved as the script says.
    pub outcome: Outcome,
    /// For a passing negative assertion (`assert_invalid`, ...), the error the runtime gave.
    pub detail: Option<String>,
}

/// The proposals a spec-suite file needs, judged by the folder it sits in:
/// `proposals/<name>/` enables that proposal on top of Wasm 3.0, `legacy/` the legacy
/// exception instructions. Everything else (the top level, `custom/`) is plain Wasm 3.0.
pub fn features_for_path(path: &Path) -> WasmFeatures {
    let mut dirs = path
        .parent()
        .into_iter()
        .flat_map(|p| p.iter().rev())
        .map(|c| c.to_str());
    let parent = dirs.next().flatten();
    let grandparent = dirs.next().flatten();
    if (grandparent, parent) == (Some("proposals"), Some("threads")) {
        // The threads proposal's suite predates Wasm 2.0: it asserts that a second table or
        // memory is invalid ("multiple tables", "multiple memories").
        return WasmFeatures::WASM1 | WasmFeatures::THREADS;
    }
    let extra = match (grandparent, parent) {
        (Some("proposals"), Some("wide-arithmetic")) => WasmFeatures::WIDE_ARITHMETIC,
        (Some("proposals"), Some("custom-page-sizes")) => WasmFeatures::CUSTOM_PAGE_SIZES,
        (Some("proposals"), Some("custom-descriptors")) => WasmFeatures::CUSTOM_DESCRIPTORS,
        (_, Some("legacy")) => WasmFeatures::LEGACY_EXCEPTIONS,
        _ => WasmFeatures::empty(),
    };
    WasmFeatures::WASM3 | extra
}

/// Runs a script on the current thread, calling `on_result` after each directive.
/// A script that does not parse yields one failing result of kind `parse`.
pub fn run_script(
    text: &str,
    options: &WastOptions,
    on_result: &mut dyn FnMut(&DirectiveResult),
) -> Vec<DirectiveResult> {
    exec::run(text, options, on_result)
}

/// Runs a script on a new thread with `options.stack_size` bytes of stack
/// (see [`run_script`]); `on_result` is called on that thread.
pub fn run_script_on_thread(
    text: &str,
    options: &WastOptions,
    mut on_result: impl FnMut(&DirectiveResult) + Send,
) -> Vec<DirectiveResult> {
    let spawned = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("wast".into())
            .stack_size(options.stack_size)
            .spawn_scoped(scope, || run_script(text, options, &mut on_result));
        match worker {
            Ok(handle) => handle.join().map_err(|p| values::panic_message(&*p)),
            Err(e) => Err(format!("cannot start the script thread: {e}")),
        }
    });
    spawned.unwrap_or_else(|why| {
        vec![DirectiveResult {
            index: 0,
            line: 1,
            kind: "script",
            outcome: Outcome::Fail(format!("the script runner itself failed: {why}")),
            detail: None,
        }]
    })
}

/// Reads a `.wast` file and runs it on its own thread (see [`run_script_on_thread`]).
pub fn run_file(path: &Path, options: &WastOptions) -> Result<Vec<DirectiveResult>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(run_script_on_thread(&text, options, |_| {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_follow_the_folder() {
        let f = |p: &str| features_for_path(Path::new(p));
        assert_eq!(f("i32.wast"), WasmFeatures::WASM3);
        assert_eq!(f("/x/legacy/spec/i32.wast"), WasmFeatures::WASM3);
        assert!(f("data/proposals/threads/atomic.wast").contains(WasmFeatures::THREADS));
        assert!(f("proposals/wide-arithmetic/w.wast").contains(WasmFeatures::WIDE_ARITHMETIC));
        assert!(f("legacy/throw.wast").contains(WasmFeatures::LEGACY_EXCEPTIONS));
        assert!(!f("custom/x.wast").contains(WasmFeatures::LEGACY_EXCEPTIONS));
    }
}
