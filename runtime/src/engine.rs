//! The engine: configuration, the Cranelift target, and engine-wide registries.

use crate::error::{Error, Result};
use crate::types::FuncType;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;
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
    opt_level: OptLevel,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            features: WasmFeatures::WASM3,
            virtual_memory: true,
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
}

impl Engine {
    /// An engine for the host with `config`; an error if Cranelift does not support the host.
    pub fn new(config: &Config) -> Result<Engine> {
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
            }),
        })
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
