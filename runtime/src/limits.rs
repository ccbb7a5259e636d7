//! Phase 6, instantiate: a store's execution budgets as the host sets them: fuel
//! ([`Config::consume_fuel`]) and the epoch deadline ([`Config::epoch_interruption`]). Compiled
//! code reads and charges them in the store's `VMRuntimeLimits` (see `translate/budget.rs`).
//!
//! [`Config::consume_fuel`]: crate::Config::consume_fuel
//! [`Config::epoch_interruption`]: crate::Config::epoch_interruption

use crate::error::{Error, Result};
use crate::store::Store;

impl Store {
    /// Gives the store `fuel` units of fuel, replacing what it had left. Compiled code charges
    /// one unit per operator it runs and traps with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel) when none is left. Fails unless the
    /// engine was configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.fuel_enabled()?;
        // The counter is an i64 counting up to zero; more than i64::MAX units is as good as
        // unlimited (it would take centuries to use).
        self.inner.limits.fuel_consumed = -(fuel.min(i64::MAX as u64) as i64);
        Ok(())
    }

    /// The fuel the store has left (0 after running out). Exact between calls and inside host
    /// functions called from wasm; after a trap other than running out of fuel it may count
    /// the trapping function's last few operators as unspent. Fails unless the engine was
    /// configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn get_fuel(&self) -> Result<u64> {
        self.fuel_enabled()?;
        Ok(self.inner.limits.fuel_consumed.min(0).unsigned_abs())
    }

    /// Sets the deadline `ticks_beyond_current` epochs after the engine's current epoch:
    /// compiled code traps with [`TrapCode::Interrupt`](crate::TrapCode::Interrupt) at the
    /// first function entry or loop header that sees the epoch at or past it. Has no effect
    /// unless the engine was configured with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption). Until it is first
    /// called the deadline is 0, so wasm traps at once (as in Wasmtime).
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        let current = self.inner.engine.current_epoch();
        self.inner.limits.epoch_deadline = current.saturating_add(ticks_beyond_current);
    }

    fn fuel_enabled(&self) -> Result<()> {
        if self.inner.engine.config().consume_fuel {
            Ok(())
        } else {
            Err(Error::Usage(
                "fuel is not configured in this store (Config::consume_fuel)".into(),
            ))
        }
    }
}
