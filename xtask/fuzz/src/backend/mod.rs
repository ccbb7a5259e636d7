//! Differential fuzzing: the engines a module runs under, behind one interface: our runtime
//! (in any configuration) and the `wasmi` interpreter.

mod ours;
mod wasmi;

pub use self::wasmi::Wasmi;
pub use ours::{our_trap_kind, Ours};

use crate::value::{Outcome, Snapshot, Value};

/// One engine running one module: compiled once, instantiated afresh for every round.
pub trait Backend {
    /// A short name for reports (`ours`, `ours(explicit-bounds,gc-zeal,opt=None)`, `wasmi`).
    fn name(&self) -> String;
    /// Whether this backend is our runtime, whose trap codes must match ours exactly.
    fn is_ours(&self) -> bool;
    /// Validates and compiles the module.
    fn compile(&mut self, wasm: &[u8]) -> Result<(), String>;
    /// Instantiates the compiled module in a fresh store (running its start function).
    fn instantiate(&mut self) -> Outcome;
    /// Calls an exported function of the current instance.
    fn call(&mut self, name: &str, args: &[Value]) -> Outcome;
    /// The exported globals, memories and tables of the current instance.
    fn snapshot(&mut self) -> Snapshot;
}
