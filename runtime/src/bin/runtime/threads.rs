//! CLI: wasi-threads for `run` (`-S threads`, on by default when the module imports
//! `wasi::thread-spawn`). The module's shared memory imports are created here from their
//! import types and defined for every thread; a thread that ends with `proc_exit` or a trap
//! ends the whole process, as the main thread's end does.

use crate::options::Settings;
use crate::Exit;
use runtime::wasi::{threads as wasi_threads, WasiThreads};
use runtime::{ExternType, Linker, Module, SharedMemory, Store};

/// Whether the run gets `thread-spawn`: `-S threads` if given, else whether the module
/// imports it.
pub(crate) fn wanted(wasi: &Settings, module: &Module) -> bool {
    wasi.flag("threads").unwrap_or_else(|| {
        module
            .imports()
            .iter()
            .any(|i| i.module == wasi_threads::MODULE && i.name == wasi_threads::THREAD_SPAWN)
    })
}

/// Defines `thread-spawn` and the module's shared memory imports in `linker`; the threads
/// still need [`WasiThreads::ready`] with the finished linker.
pub(crate) fn setup<T: Clone + Send + 'static>(
    store: &Store<T>,
    linker: &mut Linker<T>,
    module: &Module,
) -> Result<WasiThreads<T>, Exit> {
    for import in module.imports() {
        if let ExternType::Memory(ty) = import.ty {
            if ty.shared {
                let memory = SharedMemory::new(store.engine(), ty).map_err(|e| {
                    Exit::error(format!(
                        "cannot create the shared memory `{}::{}`: {e}",
                        import.module, import.name
                    ))
                })?;
                linker
                    .define(store, &import.module, &import.name, memory)
                    .map_err(Exit::error)?;
            }
        }
    }
    let threads = WasiThreads::new(module, |exit| {
        let exit = match exit {
            Ok(status) => Exit::status(status),
            Err(e) => crate::run::program_exit(e),
        };
        crate::exit_now(exit)
    });
    threads.add_to_linker(linker).map_err(Exit::error)?;
    Ok(threads)
}
