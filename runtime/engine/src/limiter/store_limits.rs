//! Phase 6, instantiate: [`StoreLimits`], the [`ResourceLimiter`] with fixed numbers, and
//! its builder (Wasmtime's `StoreLimitsBuilder`).

use super::{ResourceLimiter, DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT};
use crate::error::{Error, Result};

/// Builds [`StoreLimits`]; every limit is off (or Wasmtime's default count) until set.
///
/// ```
/// use runtime_engine::{Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (memory 1) (table 1 funcref)
///     (func (export "grow_memory") (result i32) (memory.grow (i32.const 1)))
///     (func (export "grow_table") (result i32) (table.grow (ref.null func) (i32.const 9))))"#)?;
/// let limits = StoreLimitsBuilder::new()
///     .memory_size(2 * 65536) // bytes, for each memory
///     .table_elements(5) // for each table
///     .build();
/// let mut store = Store::new(&engine, limits);
/// store.limiter(|limits| limits);
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let grow_memory = instance.get_typed_func::<(), i32>(&mut store, "grow_memory")?;
/// assert_eq!(grow_memory.call(&mut store, ())?, 1);
/// assert_eq!(grow_memory.call(&mut store, ())?, -1);
/// let grow_table = instance.get_typed_func::<(), i32>(&mut store, "grow_table")?;
/// assert_eq!(grow_table.call(&mut store, ())?, -1);
/// # Ok::<(), runtime_engine::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// No limits on sizes; Wasmtime's default counts (10,000 of each).
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder(StoreLimits::default())
    }

    /// Most bytes each linear memory may hold (creation at a larger size fails, growth
    /// beyond fails). Default: no limit.
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(bytes);
        self
    }

    /// Most elements each table may hold. Default: no limit.
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(elements);
        self
    }

    /// Most instances in the store. Default [`DEFAULT_INSTANCE_LIMIT`].
    pub fn instances(mut self, instances: usize) -> StoreLimitsBuilder {
        self.0.instances = instances;
        self
    }

    /// Most tables in the store. Default [`DEFAULT_TABLE_LIMIT`].
    pub fn tables(mut self, tables: usize) -> StoreLimitsBuilder {
        self.0.tables = tables;
        self
    }

    /// Most linear memories in the store. Default [`DEFAULT_MEMORY_LIMIT`].
    pub fn memories(mut self, memories: usize) -> StoreLimitsBuilder {
        self.0.memories = memories;
        self
    }

    /// Whether a refused or failed `memory.grow` or `table.grow` traps (the error comes out
    /// of the call) instead of returning -1: not what the spec says, but it shows where a
    /// program ran out. Default: false.
    ///
    /// ```
    /// use runtime_engine::{Engine, Error, Instance, Module, Store, StoreLimitsBuilder};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module (memory 1)
    ///     (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#)?;
    /// let limits = StoreLimitsBuilder::new().memory_size(65536).trap_on_grow_failure(true);
    /// let mut store = Store::new(&engine, limits.build());
    /// store.limiter(|limits| limits);
    /// let instance = Instance::new(&mut store, &module, &[])?;
    /// let grow = instance.get_typed_func::<(), i32>(&mut store, "grow")?;
    /// let err = grow.call(&mut store, ()).unwrap_err();
    /// assert!(matches!(err, Error::Resource(_)));
    /// assert_eq!(err.to_string(), "forcing trap when growing memory to 131072 bytes");
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// A [`ResourceLimiter`] with fixed limits, made by [`StoreLimitsBuilder`]; keep it in the
/// store's host data and install it with [`Store::limiter`](crate::Store::limiter).
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

impl StoreLimits {
    /// Whether growing a `what` to `desired` (in `unit`s) is within `limit` and `maximum`;
    /// a refusal is an error when growth failures trap.
    fn allow(
        &self,
        (what, unit): (&str, &str),
        desired: usize,
        limit: Option<usize>,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let within = |bound: Option<usize>| bound.is_none_or(|b| desired <= b);
        let allowed = within(limit) && within(maximum);
        if !allowed && self.trap_on_grow_failure {
            return Err(Error::Resource(format!(
                "forcing trap when growing {what} to {desired} {unit}"
            )));
        }
        Ok(allowed)
    }

    fn failed(&self, what: &str, error: Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(Error::Resource(format!(
                "forcing a {what} growth failure to be a trap: {error}"
            )))
        } else {
            Ok(())
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        self.allow(("memory", "bytes"), desired, self.memory_size, maximum)
    }

    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        self.failed("memory", error)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        self.allow(("table", "elements"), desired, self.table_elements, maximum)
    }

    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        self.failed("table", error)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}
