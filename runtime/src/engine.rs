//! The engine: configuration, the Cranelift target, and engine-wide registries.

use crate::error::{Error, Result};
use crate::types::FuncType;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    pub(crate) memory_reservation: u64,
    /// Compiled code charges fuel (see [`Config::consume_fuel`]).
    pub(crate) consume_fuel: bool,
    /// Compiled code checks the store's epoch deadline (see [`Config::epoch_interruption`]).
    pub(crate) epoch_interruption: bool,
    /// Bytes of stack wasm may use below its outermost entry (see [`Config::max_wasm_stack`]).
    pub(crate) max_wasm_stack: usize,
    opt_level: OptLevel,
}

/// Wasmtime's default for [`Config::max_wasm_stack`] (Wasmtime 49: 512 KiB).
const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

impl Default for Config {
    fn default() -> Config {
        Config {
            features: WasmFeatures::WASM3,
            virtual_memory: true,
            memory_reservation: crate::vm::memory::DEFAULT_MEMORY_RESERVATION,
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
    /// Accepts the legacy exception instructions (`try`, `catch`, `catch_all`, `delegate`,
    /// `rethrow`), which toolchains such as Emscripten still emit (default: off).
    pub fn wasm_legacy_exceptions(&mut self, on: bool) -> &mut Config {
        self.features.set(WasmFeatures::LEGACY_EXCEPTIONS, on);
        self
    }
    /// Address space, in bytes, reserved for a bounds-checked memory (a 64-bit one, one with
    /// custom page sizes, or any under [`Config::explicit_bounds_checks`]) whose maximum is
    /// larger or absent (default: 64 GiB). Memories never move, so such a memory grows to at
    /// most this size (`memory.grow` returns -1 beyond); one whose minimum is larger reserves
    /// its minimum. Only what the memory's size covers is committed. Unlike Wasmtime, whose
    /// memories move when they outgrow their reservation, this bounds their growth.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Config {
        self.memory_reservation = bytes;
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
    /// Makes compiled code consume fuel, as Wasmtime counts it: entering a function costs one
    /// unit and so does every wasm operator (`nop`, `drop`, `block`, `loop`, `end`, `else`,
    /// `return` and `unreachable` are free), charged per
    /// straight-line run and checked at every function entry and loop header. A store starts
    /// with no fuel ([`Store::set_fuel`](crate::Store::set_fuel)); running out traps with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel). Default: off.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Config {
        self.consume_fuel = enable;
        self
    }
    /// Makes compiled code check, at every function entry and loop header, whether the
    /// engine's epoch ([`Engine::increment_epoch`]) has reached the store's deadline
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
    /// it as well. Default: 512 KiB, as Wasmtime's; zero is rejected by [`Engine::new`].
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.max_wasm_stack = bytes;
        self
    }
}

/// Compiles modules for the host; cheap to clone, `Send + Sync`, shared by every store and
/// module made for it.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) config: Config,
    pub(crate) isa: OwnedTargetIsa,
    /// Canonical indices of every type (iso-recursive equivalence), used by type checks.
    pub(crate) types: crate::registry::TypeRegistry,
    /// Trampolines per (signature, is-host), compiled on first use.
    trampolines: Mutex<HashMap<(FuncType, bool), crate::link::LinkedCode>>,
    /// The epoch compiled code compares with each store's deadline; only ever increases.
    pub(crate) epoch: AtomicU64,
}

impl Engine {
    /// An engine for the host with `config`; an error if Cranelift does not support the host.
    pub fn new(config: &Config) -> Result<Engine> {
        if config.max_wasm_stack == 0 {
            return Err(Error::Usage("max_wasm_stack size cannot be zero".into()));
        }
        let isa = host_isa(config.opt_level)?;
        let mut config = config.clone();
        // Without room for guard regions, fall back to explicit bounds checks.
        config.virtual_memory &= crate::vm::memory::LinearMemory::guard_reservation_works();
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config,
                isa,
                types: crate::registry::TypeRegistry::default(),
                trampolines: Mutex::new(HashMap::new()),
                epoch: AtomicU64::new(0),
            }),
        })
    }
    /// Advances the epoch by one tick; stores whose deadline it reaches trap at their next
    /// check (with [`Config::epoch_interruption`]). Cheap, callable from any thread.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }
    /// The current epoch.
    pub(crate) fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }
    /// Where compiled code reads the epoch (lives as long as the engine).
    pub(crate) fn epoch_ptr(&self) -> *const u8 {
        &self.inner.epoch as *const AtomicU64 as *const u8
    }
    /// The engine's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    pub(crate) fn isa(&self) -> &dyn cranelift_codegen::isa::TargetIsa {
        &*self.inner.isa
    }
    pub(crate) fn types(&self) -> &crate::registry::TypeRegistry {
        &self.inner.types
    }
    /// The array-call trampoline for calling wasm functions of type `ty` from the host.
    pub(crate) fn array_trampoline(&self, ty: &FuncType) -> *const u8 {
        self.trampoline(ty, false)
    }

    /// The wasm-convention entry of host functions of type `ty`.
    pub(crate) fn host_trampoline(&self, ty: &FuncType) -> *const u8 {
        self.trampoline(ty, true)
    }

    fn trampoline(&self, ty: &FuncType, host: bool) -> *const u8 {
        use crate::compile::trampolines;
        let mut cache = self
            .inner
            .trampolines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(code) = cache.get(&(ty.clone(), host)) {
            return code.func_ptr(0);
        }
        let compiled = if host {
            trampolines::host_trampoline(
                self.isa(),
                ty,
                crate::vm::host::host_shim as *const () as usize,
            )
        } else {
            trampolines::array_trampoline(self.isa(), ty)
        };
        let names = crate::link::LinkNames {
            module_name: None,
            func_names: Default::default(),
            first_func_index: u32::MAX,
        };
        let code = compiled
            .and_then(|f| crate::link::link(&[f], names))
            .expect("trampolines compile for every signature");
        let ptr = code.func_ptr(0);
        cache.insert((ty.clone(), host), code);
        ptr
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::default()).expect("the host is supported by Cranelift")
    }
}

fn host_isa(opt_level: OptLevel) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |b: &mut settings::Builder, k: &str, v: &str| {
        b.set(k, v)
            .map_err(|e| Error::Compile(format!("cranelift setting {k}={v}: {e}")))
    };
    let opt_level = match opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    set(&mut flags, "opt_level", opt_level)?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(&mut flags, "enable_probestack", "false")?;
    set(&mut flags, "libcall_call_conv", "isa_default")?;
    let builder = cranelift_native::builder()
        .map_err(|e| Error::Unsupported(format!("host architecture: {e}")))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| Error::Unsupported(format!("host architecture: {e}")))
}
