//! Configuration: what an [`Engine`](crate::Engine) compiles for (proposals, bounds checks,
//! budgets, optimisation). Read by every compile phase; depends on nothing of the engine.

pub use wasmparser::WasmFeatures;

/// How hard Cranelift optimises (as Wasmtime's `Config::cranelift_opt_level`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OptLevel {
    /// No optimisation passes: fastest compilation.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

/// Engine configuration.
#[derive(Clone, Debug)]
pub struct Config {
    features: WasmFeatures,
    /// Reserve 4 GiB plus guard pages for 32-bit memories so accesses need no bounds check.
    pub(crate) virtual_memory: bool,
    /// Compiled code charges fuel (see [`Config::consume_fuel`]).
    pub(crate) consume_fuel: bool,
    /// Compiled code checks the store's epoch deadline (see [`Config::epoch_interruption`]).
    pub(crate) epoch_interruption: bool,
    /// Bytes of stack wasm may use below its outermost entry (see [`Config::max_wasm_stack`]).
    pub(crate) max_wasm_stack: usize,
    pub(crate) opt_level: OptLevel,
}

/// Wasmtime's default for [`Config::max_wasm_stack`] (Wasmtime 49: 512 KiB).
const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

impl Default for Config {
    fn default() -> Config {
        Config {
            features: WasmFeatures::WASM3,
            virtual_memory: true,
            consume_fuel: false,
            epoch_interruption: false,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            opt_level: OptLevel::Speed,
        }
    }
}

impl Config {
    /// The default configuration: Wasm 3.0, guard pages for 32-bit memories.
    pub fn new() -> Config {
        Config::default()
    }
    /// Sets the proposals the validator accepts (default: Wasm 3.0).
    pub fn wasm_features(&mut self, features: WasmFeatures) -> &mut Config {
        self.features = features;
        self
    }
    /// Uses explicit bounds checks instead of guard pages (for testing the fallback).
    pub fn explicit_bounds_checks(&mut self, on: bool) -> &mut Config {
        self.virtual_memory = !on;
        self
    }
    /// Sets how hard Cranelift optimises (default: [`OptLevel::Speed`]); the differential
    /// fuzzer compares levels.
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Config {
        self.opt_level = level;
        self
    }
    /// The proposals the validator accepts.
    pub fn features(&self) -> WasmFeatures {
        self.features
    }
    /// Makes compiled code consume fuel: every wasm operator costs one unit (`nop`, `drop`,
    /// `block`, `loop`, `end`, `else`, `return` and `unreachable` are free), charged per
    /// straight-line run and checked at every function entry and loop header. A store starts
    /// with no fuel ([`Store::set_fuel`](crate::Store::set_fuel)); running out traps with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel). Default: off.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Config {
        self.consume_fuel = enable;
        self
    }
    /// Makes compiled code check, at every function entry and loop header, whether the
    /// engine's epoch ([`Engine::increment_epoch`](crate::Engine::increment_epoch)) has reached the store's deadline
    /// ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline), 0 until set, so code
    /// traps at once unless a deadline is set); reaching it traps with
    /// [`TrapCode::Interrupt`](crate::TrapCode::Interrupt). Default: off.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Config {
        self.epoch_interruption = enable;
        self
    }
    /// The most stack, in bytes, wasm may use below the point where the host first called
    /// into it (host functions called from wasm and the wasm they call count too); beyond it
    /// calls trap with [`TrapCode::StackOverflow`](crate::TrapCode::StackOverflow) ("call
    /// stack exhausted"). The host thread's own stack, less a reserve for host calls, bounds
    /// it as well. Default: 512 KiB, as Wasmtime's; zero is rejected by [`Engine::new`](crate::Engine::new).
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.max_wasm_stack = bytes;
        self
    }
}
