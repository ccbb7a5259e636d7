//! CLI: execution budgets for benchmarks, until `run` gets Wasmtime's `-W fuel=N` and
//! `-W timeout=...` flags. Two environment variables, read by `run` only (not in `--help`):
//! `RUNTIME_BENCH_FUEL=N` turns on fuel and gives every store N units;
//! `RUNTIME_BENCH_EPOCH=1` turns on epoch interruption with a deadline one tick away that is
//! never reached (the checks run, nothing increments the epoch). `cargo xtask bench --fuel` /
//! `--epoch` set them to measure what the checks cost.

use crate::Exit;
use runtime::{Config, Store};

const FUEL: &str = "RUNTIME_BENCH_FUEL";
const EPOCH: &str = "RUNTIME_BENCH_EPOCH";

/// The budgets asked for in the environment.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Budgets {
    fuel: Option<u64>,
    epoch: bool,
}

impl Budgets {
    /// Reads the environment; a malformed value is a usage error.
    pub(crate) fn from_env() -> Result<Budgets, Exit> {
        let fuel = match std::env::var(FUEL) {
            Ok(v) => Some(
                v.parse()
                    .map_err(|_| Exit::usage(format!("{FUEL}={v}: expected a number")))?,
            ),
            Err(_) => None,
        };
        let epoch = match std::env::var(EPOCH).as_deref() {
            Ok("1") => true,
            Ok("0") | Err(_) => false,
            Ok(v) => return Err(Exit::usage(format!("{EPOCH}={v}: expected 0 or 1"))),
        };
        Ok(Budgets { fuel, epoch })
    }

    /// Turns on what the store will need.
    pub(crate) fn configure(&self, config: &mut Config) {
        config.consume_fuel(self.fuel.is_some());
        config.epoch_interruption(self.epoch);
    }

    /// Gives `store` its fuel and deadline.
    pub(crate) fn apply<T: 'static>(&self, store: &mut Store<T>) -> Result<(), Exit> {
        if let Some(fuel) = self.fuel {
            store.set_fuel(fuel).map_err(Exit::error)?;
        }
        if self.epoch {
            store.set_epoch_deadline(1);
        }
        Ok(())
    }
}
