//! Phase 6, instantiate: a store's execution budgets as the host sets them: fuel
//! ([`Config::consume_fuel`]) and the epoch deadline ([`Config::epoch_interruption`]). Compiled
//! code reads and charges them in the store's `VMRuntimeLimits` (see `translate/budget.rs`).
//! The methods are on [`Store`], [`StoreContextMut`] and [`Caller`], as in Wasmtime, so a host
//! function can read and refuel the store that called it.
//!
//! [`Config::consume_fuel`]: crate::Config::consume_fuel
//! [`Config::epoch_interruption`]: crate::Config::epoch_interruption

use crate::error::{Error, Result};
use crate::func::Caller;
use crate::store::{Store, StoreContextMut, StoreOpaque};

impl StoreOpaque {
    fn fuel_enabled(&self) -> Result<()> {
        if self.engine.config().consume_fuel {
            Ok(())
        } else {
            Err(Error::Usage(
                "fuel is not configured in this store (Config::consume_fuel)".into(),
            ))
        }
    }

    fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.fuel_enabled()?;
        // The counter is an i64 counting up to zero; more than i64::MAX units is as good as
        // unlimited (it would take centuries to use).
        self.vm.limits.fuel_consumed = -(fuel.min(i64::MAX as u64) as i64);
        Ok(())
    }

    fn get_fuel(&self) -> Result<u64> {
        self.fuel_enabled()?;
        Ok(self.vm.limits.fuel_consumed.min(0).unsigned_abs())
    }

    fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        let current = self.engine.current_epoch();
        self.vm.limits.epoch_deadline = current.saturating_add(ticks_beyond_current);
    }
}

impl<T> Store<T> {
    /// Gives the store `fuel` units of fuel, replacing what it had left. Compiled code charges
    /// one unit per function entry and per operator it runs (as Wasmtime) and traps with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel) when none is left. Fails unless the
    /// engine was configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    ///
    /// ```
    /// use runtime_engine::{Config, Engine, Instance, Module, Store, TrapCode};
    /// let engine = Engine::new(Config::new().consume_fuel(true))?;
    /// let module = Module::new(&engine, r#"(module (func (export "spin") (loop br 0)))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// store.set_fuel(10_000)?;
    /// let instance = Instance::new(&mut store, &module, &[])?;
    /// let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    /// let trap = spin.call(&mut store, ()).unwrap_err();
    /// assert_eq!(trap.as_trap().unwrap().code(), TrapCode::OutOfFuel);
    /// assert_eq!(store.get_fuel()?, 0);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.opaque.set_fuel(fuel)
    }

    /// The fuel the store has left (0 after running out). Exact between calls and inside host
    /// functions called from wasm; after a trap other than running out of fuel it may count
    /// the trapping function's last few operators as unspent. Fails unless the engine was
    /// configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    ///
    /// ```
    /// use runtime_engine::{Config, Engine, Instance, Module, Store};
    /// let engine = Engine::new(Config::new().consume_fuel(true))?;
    /// // Entering the function, `local.get`, `i32.const`, `i32.add`: four units.
    /// let module = Module::new(&engine, r#"(module (func (export "inc") (param i32) (result i32)
    ///     (i32.add (local.get 0) (i32.const 1))))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// store.set_fuel(100)?;
    /// let instance = Instance::new(&mut store, &module, &[])?;
    /// let inc = instance.get_typed_func::<i32, i32>(&mut store, "inc")?;
    /// assert_eq!(inc.call(&mut store, 41)?, 42);
    /// assert_eq!(store.get_fuel()?, 96);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.opaque.get_fuel()
    }

    /// Sets the deadline `ticks_beyond_current` epochs after the engine's current epoch:
    /// compiled code traps with [`TrapCode::Interrupt`](crate::TrapCode::Interrupt) at the
    /// first function entry or loop header that sees the epoch at or past it. Has no effect
    /// unless the engine was configured with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption). Until it is first
    /// called the deadline is 0, so wasm traps at once (as in Wasmtime).
    ///
    /// ```
    /// use runtime_engine::{Config, Engine, Instance, Module, Store, TrapCode};
    /// let engine = Engine::new(Config::new().epoch_interruption(true))?;
    /// let module = Module::new(&engine, r#"(module (func (export "spin") (loop br 0)))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// store.set_epoch_deadline(1);
    /// let instance = Instance::new(&mut store, &module, &[])?;
    /// let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    /// // Another thread ends the loop: one tick reaches the deadline.
    /// let ticker = engine.clone();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(10));
    ///     ticker.increment_epoch();
    /// });
    /// let trap = spin.call(&mut store, ()).unwrap_err();
    /// assert_eq!(trap.as_trap().unwrap().code(), TrapCode::Interrupt);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.inner.opaque.set_epoch_deadline(ticks_beyond_current)
    }
}

impl<T> StoreContextMut<'_, T> {
    /// [`Store::set_fuel`] on the borrowed store.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.0.opaque.set_fuel(fuel)
    }

    /// [`Store::get_fuel`] on the borrowed store.
    pub fn get_fuel(&self) -> Result<u64> {
        self.0.opaque.get_fuel()
    }

    /// [`Store::set_epoch_deadline`] on the borrowed store.
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.0.opaque.set_epoch_deadline(ticks_beyond_current)
    }
}

impl<T> Caller<'_, T> {
    /// [`Store::set_fuel`] on the calling store: a host function may refuel its caller.
    ///
    /// ```
    /// use runtime_engine::{Caller, Config, Engine, Func, Instance, Module, Store};
    /// let engine = Engine::new(Config::new().consume_fuel(true))?;
    /// let module = Module::new(&engine, r#"(module (import "host" "refuel" (func $refuel))
    ///     (func (export "run") (call $refuel)))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// store.set_fuel(10)?;
    /// let refuel = Func::wrap(&mut store, |mut caller: Caller<'_, ()>| -> runtime_engine::Result<()> {
    ///     assert_eq!(caller.get_fuel()?, 8); // entering `run` and the `call`
    ///     caller.set_fuel(1_000)
    /// });
    /// let instance = Instance::new(&mut store, &module, &[refuel.into()])?;
    /// instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ())?;
    /// assert_eq!(store.get_fuel()?, 1_000);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.store.set_fuel(fuel)
    }

    /// [`Store::get_fuel`] on the calling store.
    pub fn get_fuel(&self) -> Result<u64> {
        self.store.get_fuel()
    }

    /// [`Store::set_epoch_deadline`] on the calling store.
    pub fn set_epoch_deadline(&mut self, ticks_beyond_current: u64) {
        self.store.set_epoch_deadline(ticks_beyond_current)
    }
}
