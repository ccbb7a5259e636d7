//! Phase 6, instantiate: resource limits, in Wasmtime's shape. A [`ResourceLimiter`] found in
//! the store's host data ([`Store::limiter`](crate::Store::limiter)) decides whether memories and tables may be
//! created at their initial size and grown (by `memory.grow`, `table.grow` or the host), and
//! bounds the number of instances, memories and tables in the store; [`StoreLimits`] is the
//! ready-made one. `store/growth.rs` asks it.

mod store_limits;

pub use store_limits::{StoreLimits, StoreLimitsBuilder};

use crate::error::Result;

/// What [`ResourceLimiter::instances`] gives unless overridden: 10,000, as in Wasmtime. It
/// applies to a store without a limiter too.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
/// What [`ResourceLimiter::tables`] gives unless overridden: 10,000.
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
/// What [`ResourceLimiter::memories`] gives unless overridden: 10,000.
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides how much memory and how many tables, instances and memories a store's guests may
/// have. Installed with [`Store::limiter`](crate::Store::limiter); [`StoreLimits`] implements it with fixed numbers.
///
/// It is asked when a memory or table is created (with `current` 0 and `desired` its initial
/// size: at instantiation, [`Memory::new`](crate::Memory::new),
/// [`Table::new`](crate::Table::new)) and before it grows (`memory.grow`, `table.grow`,
/// [`Memory::grow`](crate::Memory::grow), [`Table::grow`](crate::Table::grow)); a growth by
/// zero is not asked about. Shared memories are limited like the others.
///
/// ```
/// use runtime_engine::{Engine, Instance, Module, ResourceLimiter, Result, Store};
///
/// /// Lets every memory grow to 2 pages, and records what it was asked.
/// #[derive(Default)]
/// struct TwoPages(Vec<(usize, usize, Option<usize>)>);
///
/// impl ResourceLimiter for TwoPages {
///     fn memory_growing(&mut self, current: usize, desired: usize, max: Option<usize>) -> Result<bool> {
///         self.0.push((current, desired, max));
///         Ok(desired <= 2 * 65536)
///     }
///     fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
///         Ok(true)
///     }
/// }
///
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (memory 1 10)
///     (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#)?;
/// let mut store = Store::new(&engine, TwoPages::default());
/// store.limiter(|data| data);
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
/// assert_eq!(grow.call(&mut store, 1)?, 1); // 1 page -> 2: allowed
/// assert_eq!(grow.call(&mut store, 1)?, -1); // 2 -> 3: refused, `memory.grow` gives -1
/// let max = Some(10 * 65536);
/// assert_eq!(store.data().0, [(0, 65536, max), (65536, 131072, max), (131072, 196608, max)]);
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub trait ResourceLimiter {
    /// A linear memory is about to be created (`current` 0) or to grow: `current` and
    /// `desired` are its sizes in bytes, `maximum` the most it can ever hold (its declared
    /// maximum, or its index space, capped by what this runtime reserves for a memory).
    ///
    /// `Ok(true)` allows it (a `desired` beyond `maximum` still fails, and
    /// [`memory_grow_failed`](ResourceLimiter::memory_grow_failed) is told). `Ok(false)`
    /// refuses it: `memory.grow` returns -1, [`Memory::grow`](crate::Memory::grow) and
    /// creation fail with an error. `Err(e)` makes `memory.grow` trap with `e` (it comes out
    /// of the call unchanged) and creation or [`Memory::grow`](crate::Memory::grow) fail with
    /// `e`: not what the spec says `memory.grow` does, but a way to find who asked for so
    /// much.
    ///
    /// ```
    /// use runtime_engine::{Engine, Error, Instance, Module, ResourceLimiter, Result, Store};
    ///
    /// #[derive(Debug)]
    /// struct TooMuch(usize);
    /// impl std::fmt::Display for TooMuch {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "{} bytes is too much", self.0)
    ///     }
    /// }
    /// impl std::error::Error for TooMuch {}
    ///
    /// struct Strict;
    /// impl ResourceLimiter for Strict {
    ///     fn memory_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
    ///         if desired > 65536 { Err(Error::new(TooMuch(desired))) } else { Ok(true) }
    ///     }
    ///     fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
    ///         Ok(true)
    ///     }
    /// }
    ///
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module (memory 1)
    ///     (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#)?;
    /// let mut store = Store::new(&engine, Strict);
    /// store.limiter(|strict| strict);
    /// let instance = Instance::new(&mut store, &module, &[])?;
    /// let grow = instance.get_typed_func::<(), i32>(&mut store, "grow")?;
    /// // The guest's `memory.grow` traps; the call returns the limiter's error unchanged.
    /// let err = grow.call(&mut store, ()).unwrap_err();
    /// assert_eq!(err.downcast_ref::<TooMuch>().unwrap().0, 131072);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A growth [`memory_growing`](ResourceLimiter::memory_growing) allowed failed anyway
    /// (beyond the maximum, or the system refused the memory). `Ok(())` (the default) lets
    /// `memory.grow` return -1; `Err(e)` makes it trap with `e`.
    fn memory_grow_failed(&mut self, error: crate::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// A table is about to be created (`current` 0) or to grow, sizes in elements; as
    /// [`memory_growing`](ResourceLimiter::memory_growing) for memories. `maximum` is the
    /// table's declared maximum capped by this runtime's limit (10,000,000 elements).
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// As [`memory_grow_failed`](ResourceLimiter::memory_grow_failed), for tables.
    fn table_grow_failed(&mut self, error: crate::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// Most instances the store may hold; instantiating beyond fails. Read once, when the
    /// limiter is installed. Default [`DEFAULT_INSTANCE_LIMIT`].
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// Most tables the store may hold (defined by instances or made by the host); creating
    /// more fails. Read once, when the limiter is installed. Default [`DEFAULT_TABLE_LIMIT`].
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// Most linear memories the store may hold (defined by instances or made by the host);
    /// creating more fails. Read once, when the limiter is installed. Default
    /// [`DEFAULT_MEMORY_LIMIT`].
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// How a store finds its limiter in its host data.
pub(crate) type LimiterFn<T> =
    Box<dyn FnMut(&mut T) -> &mut (dyn ResourceLimiter) + Send + Sync + 'static>;

/// The counts a store may hold, read from its limiter when it is installed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CountLimits {
    pub(crate) instances: usize,
    pub(crate) tables: usize,
    pub(crate) memories: usize,
}

impl Default for CountLimits {
    fn default() -> CountLimits {
        CountLimits {
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// The store's limiter, if it has one.
pub(crate) type Limiter<'a> = Option<&'a mut dyn ResourceLimiter>;

/// The limiter borrowed again, for one more use.
pub(crate) fn reborrow<'a>(limiter: &'a mut Limiter<'_>) -> Limiter<'a> {
    match limiter {
        Some(limiter) => Some(&mut **limiter),
        None => None,
    }
}
