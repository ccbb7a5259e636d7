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
    /// Address space of a bounds-checked memory (see [`Config::memory_reservation`]).
    pub(crate) memory_reservation: u64,
    /// Compiled code charges fuel (see [`Config::consume_fuel`]).
    pub(crate) consume_fuel: bool,
    /// Compiled code checks the store's epoch deadline (see [`Config::epoch_interruption`]).
    pub(crate) epoch_interruption: bool,
    /// Inline small leaf and self-recursive functions at their call sites
    /// (see [`Config::compiler_inlining`]).
    pub(crate) compiler_inlining: bool,
    /// Bytes of stack wasm may use below its outermost entry (see [`Config::max_wasm_stack`]).
    pub(crate) max_wasm_stack: usize,
    /// Bytes of each continuation's stack (see [`Config::continuation_stack_size`]).
    pub(crate) continuation_stack_size: usize,
    /// Most bytes a store's GC objects may take (see [`Config::gc_heap_limit`]).
    pub(crate) gc_heap_limit: usize,
    /// Collect before every n-th GC allocation (see [`Config::gc_zeal_alloc_counter`]).
    pub(crate) gc_zeal_alloc_counter: Option<u32>,
    pub(crate) opt_level: OptLevel,
    /// Where compiled modules are cached, if anywhere (see [`Config::cache`]).
    pub(crate) cache: Option<CacheConfig>,
    /// Which profiler is told where compiled code lies (see [`Config::profiler`]).
    pub(crate) profiler: ProfilingStrategy,
}

/// The profiler an engine tells where each compiled function lies ([`Config::profiler`]),
/// as Wasmtime's `ProfilingStrategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProfilingStrategy {
    /// None (the default).
    #[default]
    None,
    /// Linux `perf`: every published function is appended to `/tmp/perf-<pid>.map` as
    /// `start size name`, so `perf report` names wasm frames.
    PerfMap,
}

/// The on-disk compilation cache of an engine ([`Config::cache`]): a directory of
/// artifacts, one per module binary and code-affecting configuration, bounded in size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    pub(crate) directory: std::path::PathBuf,
    pub(crate) max_size: u64,
}

/// `$XDG_CACHE_HOME/runtime/modules`, else `$HOME/.cache/runtime/modules` (the XDG base
/// directory rules: a relative value is ignored).
fn default_directory(
    xdg_cache_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<std::path::PathBuf> {
    let absolute =
        |v: Option<std::ffi::OsString>| v.map(std::path::PathBuf::from).filter(|p| p.is_absolute());
    let base = absolute(xdg_cache_home).or_else(|| absolute(home).map(|h| h.join(".cache")))?;
    Some(base.join("runtime").join("modules"))
}

/// Default of [`CacheConfig::max_size`]: 1 GiB.
const DEFAULT_CACHE_SIZE: u64 = 1 << 30;

impl CacheConfig {
    /// A cache in `directory` (created on first use), of at most 1 GiB.
    pub fn new(directory: impl Into<std::path::PathBuf>) -> CacheConfig {
        CacheConfig {
            directory: directory.into(),
            max_size: DEFAULT_CACHE_SIZE,
        }
    }
    /// A cache in the user's cache directory: `$XDG_CACHE_HOME/runtime/modules`, or
    /// `$HOME/.cache/runtime/modules`; `None` when neither variable is set to an absolute
    /// path.
    pub fn from_default_directory() -> Option<CacheConfig> {
        default_directory(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
            .map(CacheConfig::new)
    }
    /// Bounds the cache's total size: after adding an entry, the least recently used
    /// entries are removed until the rest fit (default: 1 GiB).
    pub fn max_size(mut self, bytes: u64) -> CacheConfig {
        self.max_size = bytes;
        self
    }
    /// The cache's directory.
    pub fn directory(&self) -> &std::path::Path {
        &self.directory
    }
}

/// Default of [`Config::memory_reservation`]: how far a bounds-checked memory without a
/// smaller maximum may grow (64 GiB of address space, committed only as the memory grows).
const DEFAULT_MEMORY_RESERVATION: u64 = 64 << 30;

/// Default of [`Config::continuation_stack_size`]: 2 MiB, as Wasmtime's stack-switching stacks.
const DEFAULT_CONTINUATION_STACK_SIZE: usize = 2 << 20;

/// Wasmtime's default for [`Config::max_wasm_stack`] (Wasmtime 49: 512 KiB).
const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;
/// The default for [`Config::gc_heap_limit`]: 4 GiB, the most a Wasmtime GC heap can hold.
const DEFAULT_GC_HEAP_LIMIT: usize = 4 << 30;

impl Default for Config {
    fn default() -> Config {
        Config {
            features: WasmFeatures::WASM3,
            virtual_memory: true,
            memory_reservation: DEFAULT_MEMORY_RESERVATION,
            consume_fuel: false,
            epoch_interruption: false,
            compiler_inlining: true,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            continuation_stack_size: DEFAULT_CONTINUATION_STACK_SIZE,
            gc_heap_limit: DEFAULT_GC_HEAP_LIMIT,
            gc_zeal_alloc_counter: None,
            opt_level: OptLevel::Speed,
            cache: None,
            profiler: ProfilingStrategy::None,
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
    /// Accepts the stack-switching proposal: continuation types and `cont.new`, `cont.bind`,
    /// `resume`, `resume_throw`, `suspend` and `switch` (default: off, as in Wasmtime).
    pub fn wasm_stack_switching(&mut self, on: bool) -> &mut Config {
        self.features.set(WasmFeatures::STACK_SWITCHING, on);
        self
    }
    /// Bytes of stack each continuation runs on (stack switching; default 2 MiB). Stacks are
    /// mapped with a guard page below them, committed as they are used, and reused once their
    /// continuation returns. Wasm on one may use [`Config::max_wasm_stack`] of it (and
    /// never the last 64 KiB above the guard page) before it traps with a stack overflow;
    /// the rest is for the libcalls and host functions it calls, so keep this well above
    /// `max_wasm_stack` if host functions need much stack. Wasmtime sets this with its
    /// stack-switching configuration's `stack_size`.
    pub fn continuation_stack_size(&mut self, bytes: usize) -> &mut Config {
        self.continuation_stack_size = bytes;
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
    /// Caches compiled modules on disk (default: `None`, no cache; the CLI uses
    /// [`CacheConfig::from_default_directory`]). `Module::new` and friends then look for an
    /// artifact of the same binary and code-affecting configuration first and load it
    /// instead of compiling; after compiling, they store one (written to a temporary file
    /// and renamed into place, so concurrent users never see half an entry). An entry that
    /// fails its checksum or does not match is removed and the module compiled again;
    /// failing to write the cache never fails compilation. The cache directory is trusted
    /// as the user's own files are: its entries are machine code that runs as it is.
    pub fn cache(&mut self, cache: Option<CacheConfig>) -> &mut Config {
        self.cache = cache;
        self
    }
    /// Tells `strategy`'s profiler where compiled code lies (default: none); does not change
    /// the code.
    pub fn profiler(&mut self, strategy: ProfilingStrategy) -> &mut Config {
        self.profiler = strategy;
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
    /// Everything of this configuration that the generated code or its validity depends on,
    /// as `name=value` items: a precompiled artifact records them and an engine whose items
    /// differ refuses it, and the compilation cache keys entries by them. A new option that
    /// changes what `compile` emits (or what validation admits) belongs here.
    /// `memory_reservation` and `max_wasm_stack` are applied at run time, not compiled in.
    pub(crate) fn code_fingerprint(&self) -> Vec<String> {
        let mut items = vec![
            format!("guard_pages={}", self.virtual_memory),
            format!("consume_fuel={}", self.consume_fuel),
            format!("epoch_interruption={}", self.epoch_interruption),
            format!("compiler_inlining={}", self.compiler_inlining),
            format!("opt_level={:?}", self.opt_level),
        ];
        items.extend(WasmFeatures::all().iter_names().map(|(name, flag)| {
            format!(
                "wasm_{}={}",
                name.to_lowercase(),
                self.features.contains(flag)
            )
        }));
        items
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
    /// engine's epoch ([`Engine::increment_epoch`](crate::Engine::increment_epoch)) has reached the store's deadline
    /// ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline), 0 until set, so code
    /// traps at once unless a deadline is set); reaching it traps with
    /// [`TrapCode::Interrupt`](crate::TrapCode::Interrupt). Default: off.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Config {
        self.epoch_interruption = enable;
        self
    }
    /// Inlines small functions of the same module where they are called directly, as
    /// Wasmtime's option of this name: at most 64 operators, none of which throws, reaches
    /// the runtime or calls a function other than itself (a self-recursive one unrolls one
    /// level into itself). Backtraces still show the inlined frames. Off while fuel or epochs
    /// are on. Default: on (Wasmtime's is off).
    pub fn compiler_inlining(&mut self, enable: bool) -> &mut Config {
        self.compiler_inlining = enable;
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

#[cfg(test)]
mod tests {
    use super::default_directory;
    use std::path::Path;

    #[test]
    fn the_cache_directory_follows_the_xdg_rules() {
        let dir = |xdg: Option<&str>, home: Option<&str>| {
            default_directory(xdg.map(Into::into), home.map(Into::into))
        };
        let path = |p: &str| Some(Path::new(p).to_path_buf());
        assert_eq!(dir(Some("/x"), Some("/h")), path("/x/runtime/modules"));
        assert_eq!(dir(None, Some("/h")), path("/h/.cache/runtime/modules"));
        assert_eq!(
            dir(Some("rel"), Some("/h")),
            path("/h/.cache/runtime/modules")
        );
        assert_eq!(dir(None, Some("rel")), None);
        assert_eq!(dir(None, None), None);
    }
}
