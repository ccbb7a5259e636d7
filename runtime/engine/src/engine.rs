//! The engine: configuration, the Cranelift target, and engine-wide registries.

use crate::config::{Config, OptLevel};
use crate::error::{Error, Result};
use crate::types::FuncType;
use crate::vm::code::CodePtr;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    pub(crate) types: Arc<crate::registry::TypeRegistry>,
    /// Trampolines per (signature, is-host), compiled on first use.
    trampolines: Mutex<HashMap<(FuncType, bool), crate::vm::code::CodeObject>>,
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
                types: Arc::default(),
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
    /// The epoch counter compiled code reads (lives as long as the engine).
    pub(crate) fn epoch(&self) -> &AtomicU64 {
        &self.inner.epoch
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
    pub(crate) fn array_trampoline(&self, ty: &FuncType) -> CodePtr {
        self.trampoline(ty, false)
    }

    /// The wasm-convention entry of host functions of type `ty`.
    pub(crate) fn host_trampoline(&self, ty: &FuncType) -> CodePtr {
        self.trampoline(ty, true)
    }

    fn trampoline(&self, ty: &FuncType, host: bool) -> CodePtr {
        use crate::compile::trampolines;
        let mut cache = self
            .inner
            .trampolines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(code) = cache.get(&(ty.clone(), host)) {
            return code.entry(0);
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
        let code = compiled
            .and_then(|f| {
                let image = crate::link::layout(&[f], None);
                crate::vm::code::CodeObject::publish(
                    image,
                    Default::default(),
                    crate::vm::libcalls::resolve,
                )
            })
            .expect("trampolines compile for every signature");
        let ptr = code.entry(0);
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
