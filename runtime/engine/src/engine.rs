//! The engine: configuration, the Cranelift target, and engine-wide registries.

use crate::config::{Config, OptLevel};
use crate::error::{Error, Result};
use crate::link::Image;
use crate::serialize::Fingerprint;
use crate::types::FuncType;
use crate::vm::code::{CodeObject, CodePtr};
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
    trampolines: Mutex<HashMap<(FuncType, bool), CodeObject>>,
    /// The epoch compiled code compares with each store's deadline; only ever increases.
    pub(crate) epoch: AtomicU64,
    /// What an artifact must match to be loaded here (see `serialize`).
    fingerprint: Fingerprint,
}

/// What [`Engine::detect_precompiled`] finds (as Wasmtime's `Precompiled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Precompiled {
    /// An artifact of [`Module::serialize`](crate::Module::serialize) or `runtime compile`.
    Module,
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
        let fingerprint = Fingerprint::new(&*isa, &config);
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config,
                isa,
                types: Arc::default(),
                trampolines: Mutex::new(HashMap::new()),
                epoch: AtomicU64::new(0),
                fingerprint,
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
    /// Whether `bytes` look like a precompiled artifact (by their header; nothing is
    /// checked beyond it), as Wasmtime's `Engine::detect_precompiled`.
    pub fn detect_precompiled(&self, bytes: &[u8]) -> Option<Precompiled> {
        crate::serialize::is_artifact(bytes).then_some(Precompiled::Module)
    }
    /// What an artifact must match to load in this engine.
    pub(crate) fn fingerprint(&self) -> &Fingerprint {
        &self.inner.fingerprint
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
        let mut cache = self.trampolines();
        Engine::compiled_trampoline(self.isa(), &mut cache, ty, host).entry(0)
    }

    pub(crate) fn trampolines(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(FuncType, bool), CodeObject>> {
        (self.inner.trampolines)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The trampoline of `ty` (host or array-call) in `cache`, compiled and published first
    /// if it is not there.
    fn compiled_trampoline<'a>(
        isa: &dyn cranelift_codegen::isa::TargetIsa,
        cache: &'a mut HashMap<(FuncType, bool), CodeObject>,
        ty: &FuncType,
        host: bool,
    ) -> &'a CodeObject {
        use crate::compile::trampolines;
        cache.entry((ty.clone(), host)).or_insert_with(|| {
            let compiled = if host {
                trampolines::host_trampoline(isa, ty)
            } else {
                trampolines::array_trampoline(isa, ty)
            };
            compiled
                .and_then(|f| {
                    let image = crate::link::layout(&[f], None);
                    CodeObject::publish(
                        Arc::new(image),
                        Default::default(),
                        crate::vm::host::resolve,
                    )
                })
                .expect("trampolines compile for every signature")
        })
    }

    /// The unpatched images of the trampolines of `sigs` (signature, host), compiled first
    /// where they were not: what an artifact carries so that loading compiles none.
    pub(crate) fn trampoline_images(&self, sigs: &[(&FuncType, bool)]) -> Vec<Arc<Image>> {
        let mut cache = self.trampolines();
        sigs.iter()
            .map(|(ty, host)| {
                Engine::compiled_trampoline(self.isa(), &mut cache, ty, *host).image_arc()
            })
            .collect()
    }

    /// The signatures of `sigs` (signature, host) the engine has no trampoline for yet, each
    /// once: what `Module::new` compiles beside the module's functions.
    pub(crate) fn missing_trampolines<'a>(
        &self,
        sigs: &[(&'a FuncType, bool)],
    ) -> Vec<(&'a FuncType, bool)> {
        let cache = self.trampolines();
        let mut missing: Vec<(&FuncType, bool)> = Vec::new();
        for &(ty, host) in sigs {
            if !cache.contains_key(&(ty.clone(), host)) && !missing.contains(&(ty, host)) {
                missing.push((ty, host));
            }
        }
        missing
    }

    /// Publishes trampolines read from an artifact or compiled beside a module for the
    /// signatures that have none yet.
    pub(crate) fn add_trampolines(&self, list: Vec<(FuncType, bool, Image)>) -> Result<()> {
        let mut cache = self.trampolines();
        for (ty, host, image) in list {
            if image.func_offsets.len() != 1 {
                return Err(Error::Artifact("a trampoline is not one function".into()));
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry((ty, host)) {
                let code = CodeObject::publish(
                    Arc::new(image),
                    Default::default(),
                    crate::vm::host::resolve,
                )?;
                slot.insert(code);
            }
        }
        Ok(())
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
    // Block offsets and edges, from which the linker places loops (`compile::placement`).
    set(&mut flags, "machine_code_cfg_info", "true")?;
    let builder = cranelift_native::builder()
        .map_err(|e| Error::Unsupported(format!("host architecture: {e}")))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| Error::Unsupported(format!("host architecture: {e}")))
}
