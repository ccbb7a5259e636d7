//! CLI: what `-W` bounds a guest by, as in Wasmtime's `run`: fuel (`fuel=N`), a deadline
//! (`timeout=DURATION`: epoch interruption, with a thread that increments the engine's epoch
//! once the time is up), the wasm stack (`max-wasm-stack=BYTES`) and the store's resource
//! limits (`max-memory-size`, `max-table-elements`, `max-instances`, `max-tables`,
//! `max-memories`, `trap-on-grow-failure`).

use crate::options::Settings;
use crate::Exit;
use runtime::{Config, Store, StoreLimits, StoreLimitsBuilder};
use std::time::Duration;

/// The bounds asked for on the command line.
#[derive(Clone, Debug, Default)]
pub(crate) struct Budgets {
    fuel: Option<u64>,
    timeout: Option<Duration>,
    max_wasm_stack: Option<usize>,
    limits: StoreLimits,
}

impl Budgets {
    /// Reads the `-W` settings of `run`.
    pub(crate) fn from_settings(wasm: &Settings) -> Result<Budgets, Exit> {
        let size = |name: &str| -> Result<Option<usize>, Exit> {
            (wasm.number(name))
                .map(|n| {
                    usize::try_from(n)
                        .map_err(|_| Exit::usage(format!("`-W {name}={n}`: too large here")))
                })
                .transpose()
        };
        let mut limits = StoreLimitsBuilder::new();
        if let Some(bytes) = size("max-memory-size")? {
            limits = limits.memory_size(bytes);
        }
        if let Some(elements) = size("max-table-elements")? {
            limits = limits.table_elements(elements);
        }
        if let Some(n) = size("max-instances")? {
            limits = limits.instances(n);
        }
        if let Some(n) = size("max-tables")? {
            limits = limits.tables(n);
        }
        if let Some(n) = size("max-memories")? {
            limits = limits.memories(n);
        }
        if let Some(on) = wasm.flag("trap-on-grow-failure") {
            limits = limits.trap_on_grow_failure(on);
        }
        Ok(Budgets {
            fuel: wasm.number("fuel"),
            timeout: wasm.duration("timeout"),
            max_wasm_stack: size("max-wasm-stack")?,
            limits: limits.build(),
        })
    }

    /// Turns on what the store will need.
    pub(crate) fn configure(&self, config: &mut Config) {
        config.consume_fuel(self.fuel.is_some());
        config.epoch_interruption(self.timeout.is_some());
        if let Some(bytes) = self.max_wasm_stack {
            config.max_wasm_stack(bytes);
        }
    }

    /// Gives `store` the fuel and the epoch deadline (one tick of the run's timer) the
    /// run's stores get: the main one (`apply`) and those of spawned threads, which thus
    /// have as much fuel each as the main store and end at the same time.
    pub(crate) fn bound<T: 'static>(&self, store: &mut Store<T>) -> runtime::Result<()> {
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel)?;
        }
        if self.timeout.is_some() {
            store.set_epoch_deadline(1);
        }
        Ok(())
    }

    /// The resource limits for the store's host data (installed with `Store::limiter`).
    pub(crate) fn limits(&self) -> StoreLimits {
        self.limits.clone()
    }

    /// Gives `store` its fuel and deadline; the timeout's clock starts now.
    pub(crate) fn apply<T: 'static>(&self, store: &mut Store<T>) -> Result<(), Exit> {
        self.bound(store).map_err(Exit::error)?;
        if let Some(timeout) = self.timeout {
            // One tick ends it (every store of the run); the thread is left to the end of
            // the process.
            let engine = store.engine().clone();
            std::thread::Builder::new()
                .name("timeout".into())
                .spawn(move || {
                    std::thread::sleep(timeout);
                    engine.increment_epoch();
                })
                .map_err(|e| Exit::error(format!("cannot start the timeout thread: {e}")))?;
        }
        Ok(())
    }
}
