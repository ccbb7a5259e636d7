//! Script runner: the assertions (`assert_return`, `assert_trap`, `assert_invalid`, ...),
//! each checking what the runtime did against what the script expects.

use super::exec::{ExecError, Executor, Step};
use super::script::describe_exec;
use super::values::{describe_expected, describe_vals, matches};
use runtime_engine::{Error, Trap, TrapCode};
use wast::{QuoteWat, WastExecute, WastRet, Wat};

impl Executor<'_> {
    pub(super) fn assert_return(
        &mut self,
        exec: WastExecute<'_>,
        expected: &[WastRet<'_>],
    ) -> Step {
        let what = describe_exec(&exec);
        let want = || {
            expected
                .iter()
                .map(describe_expected)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let actual = match self.execute(exec) {
            Ok(actual) => actual,
            Err(ExecError::Setup(why)) => return Err(why),
            Err(ExecError::Runtime(e)) => {
                return Err(format!("{what}: expected {}, but it failed: {e}", want()))
            }
        };
        let mut good = actual.len() == expected.len();
        for (e, a) in expected.iter().zip(&actual) {
            good &= matches(e, a)?;
        }
        if good {
            Ok(None)
        } else {
            Err(format!(
                "{what}: expected {}, got {}",
                want(),
                describe_vals(&actual)
            ))
        }
    }

    pub(super) fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Step {
        let what = describe_exec(&exec);
        let result = match exec {
            WastExecute::Wat(wat) => {
                let module = self.compile_wat(wat)?;
                self.instantiate(&module).map(|_| Vec::new())
            }
            other => match self.execute(other) {
                Err(ExecError::Setup(why)) => return Err(why),
                Err(ExecError::Runtime(e)) => Err(e),
                Ok(vals) => Ok(vals),
            },
        };
        match result {
            Err(Error::Trap(trap)) => check_trap(&what, &trap, message),
            Err(e) => Err(format!(
                "{what}: expected trap \"{message}\", got a different error: {e}"
            )),
            Ok(vals) => Err(format!(
                "{what}: expected trap \"{message}\", but it returned {}",
                describe_vals(&vals)
            )),
        }
    }

    /// `assert_suspension`: a `suspend` (or `switch`) no handler caught reached the host,
    /// which the engine reports as an "unhandled tag" trap.
    pub(super) fn assert_suspension(&mut self, exec: WastExecute<'_>, message: &str) -> Step {
        let what = describe_exec(&exec);
        match self.execute(exec) {
            Err(ExecError::Setup(why)) => Err(why),
            Err(ExecError::Runtime(Error::Trap(t))) if t.code() == TrapCode::UnhandledTag => {
                check_trap(&what, &t, message)
            }
            Err(ExecError::Runtime(e)) => Err(format!(
                "{what}: expected a suspension \"{message}\", got: {e}"
            )),
            Ok(vals) => Err(format!(
                "{what}: expected a suspension \"{message}\", but it returned {}",
                describe_vals(&vals)
            )),
        }
    }

    pub(super) fn assert_exception(&mut self, exec: WastExecute<'_>) -> Step {
        let what = describe_exec(&exec);
        match self.execute(exec) {
            Err(ExecError::Setup(why)) => Err(why),
            Err(ExecError::Runtime(Error::Trap(t))) if t.code() == TrapCode::UncaughtException => {
                Ok(Some(t.message().to_string()))
            }
            Err(ExecError::Runtime(e)) => {
                Err(format!("{what}: expected an uncaught exception, got: {e}"))
            }
            Ok(vals) => Err(format!(
                "{what}: expected an uncaught exception, but it returned {}",
                describe_vals(&vals)
            )),
        }
    }

    /// `assert_invalid` and `assert_malformed`: the text must not assemble, or the runtime must
    /// reject the binary as malformed or invalid (not as unsupported).
    pub(super) fn assert_rejected(&mut self, module: &mut QuoteWat<'_>, message: &str) -> Step {
        let binary = match Self::encode(module) {
            Ok(binary) => binary,
            Err(why) => return Ok(Some(why)),
        };
        match self.compile_binary(&binary) {
            Err(e @ (Error::Malformed { .. } | Error::Invalid { .. })) => Ok(Some(e.to_string())),
            Err(e) => Err(format!("expected the module to be rejected as \"{message}\", but it failed another way: {e}")),
            Ok(_) => Err(format!("expected the module to be rejected as \"{message}\", but it was accepted")),
        }
    }

    /// `assert_malformed_custom` and `assert_invalid_custom`: the fault is in a custom section or
    /// annotation. The text layer may reject it; otherwise the runtime, which does not interpret
    /// custom sections, must accept the module.
    pub(super) fn assert_custom(&mut self, module: &mut QuoteWat<'_>, message: &str) -> Step {
        let binary = match Self::encode(module) {
            Ok(binary) => binary,
            Err(why) => return Ok(Some(why)),
        };
        match self.compile_binary(&binary) {
            Ok(_) => Ok(Some(format!("accepted; custom content is not interpreted (\"{message}\")"))),
            Err(e) => Err(format!(
                "the module is faulty only in its custom content (\"{message}\"), but the runtime rejected it: {e}"
            )),
        }
    }

    pub(super) fn assert_unlinkable(&mut self, wat: Wat<'_>, message: &str) -> Step {
        let module = self.compile_wat(wat)?;
        match self.instantiate(&module) {
            Err(Error::Link(why)) => Ok(Some(why)),
            Err(e) => Err(format!(
                "expected a link error \"{message}\", got a different error: {e}"
            )),
            Ok(_) => Err(format!(
                "expected a link error \"{message}\", but instantiation succeeded"
            )),
        }
    }
}

/// A trap matches when its message contains the expected text, or when the expected text is
/// our message followed by the reference interpreter's extra detail (such as the index in
/// "uninitialized element 2").
fn check_trap(what: &str, trap: &Trap, message: &str) -> Step {
    let detail_added = message
        .strip_prefix(trap.message())
        .is_some_and(|rest| rest.starts_with(' '));
    if trap.message().contains(message) || detail_added {
        // The detail is what users read: the message and the wasm backtrace.
        Ok(Some(trap.to_string()))
    } else {
        Err(format!(
            "{what}: expected trap \"{message}\", got trap \"{}\"",
            trap.message()
        ))
    }
}
