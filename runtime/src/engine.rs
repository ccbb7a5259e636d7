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
    /// Compiled code charges fuel (see [`Config::consume_fuel`]).
    pub(crate) consume_fuel: bool,
    /// Compiled code checks the store's epoch deadline (see [`Config::epoch_interruption`]).
    pub(crate) epoch_interruption: bool,
    /// Bytes of stack wasm may use below its outermost entry (see [`Config::max_wasm_stack`]).
    pub(crate) max_wasm_stack: usize,
    /// Most bytes a store's GC objects may take (see [`Config::gc_heap_limit`]).
    pub(crate) gc_heap_limit: usize,
    /// Collect before every n-th GC allocation (see [`Config::gc_zeal_alloc_counter`]).
    pub(crate) gc_zeal_alloc_counter: Option<u32>,
    opt_level: OptLevel,
}

/// Wasmtime's default for [`Config::max_wasm_stack`] (Wasmtime 49: 512 KiB).
const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;
/// The default for [`Config::gc_heap_limit`]: 4 GiB, the most a Wasmtime GC heap can hold.
const DEFAULT_GC_HEAP_LIMIT: usize = 4 << 30;

impl Default for Config {
    fn default() -> Config {
        Config {
            features: WasmFeatures::WASM3,
            virtual_memory: true,
            consume_fuel: false,
            epoch_interruption: false,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            gc_heap_limit: DEFAULT_GC_HEAP_LIMIT,
            gc_zeal_alloc_counter: None,
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
    /// The most bytes a store's GC objects (structs, arrays, exceptions; headers included)
    /// may take at once. The heap starts small and grows with its live data; an allocation
    /// that does not fit beside the live objects after a full collection traps with
    /// [`TrapCode::GcHeapOutOfMemory`](crate::TrapCode::GcHeapOutOfMemory), one larger than
    /// the limit by itself with
    /// [`TrapCode::AllocationTooLarge`](crate::TrapCode::AllocationTooLarge). The copying
    /// collector reserves this much address space twice per store that allocates, and
    /// touches up to twice the live data while it copies. Default: 4 GiB. (Wasmtime has no
    /// such option: its GC heap is bounded by its 32-bit index space and the store's
    /// resource limiter.)
    pub fn gc_heap_limit(&mut self, bytes: usize) -> &mut Config {
        self.gc_heap_limit = bytes;
        self
    }
    /// For testing the runtime: collect before every `n`-th GC allocation (`None`: only
    /// when the heap is full), and make the space a collection left inaccessible so that a
    /// reference the collector missed faults at once. Very slow. (Wasmtime's
    /// `-O gc-zeal-alloc-counter`.)
    #[doc(hidden)]
    pub fn gc_zeal_alloc_counter(&mut self, n: Option<u32>) -> &mut Config {
        self.gc_zeal_alloc_counter = n;
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
