//! Phase 6, instantiate: the store owns every instance, function, memory, table and global,
//! and the host's own data; handles into it are small `Copy` values.
//!
//! Three layers, as in Wasmtime: [`Store<T>`] is what the host owns; `StoreInner<T>` (boxed, so
//! its address is stable) holds the host data `T` beside a `StoreOpaque`, the non-generic part
//! compiled code and the engine work with (its address is written into every vmctx).

mod context;
mod data;
mod growth;

pub use context::{AsContext, AsContextMut, StoreContext, StoreContextMut};
pub(crate) use data::{FuncData, FuncKind, GlobalData, InstanceData};
pub(crate) use growth::{check_counts, grow_memory, grow_table, new_memory, new_table};

use crate::engine::Engine;
use crate::limiter::{CountLimits, Limiter, LimiterFn};
use crate::types::FuncType;
use crate::vm::store::StoreState;
use crate::vm::vmcontext::VMRuntimeLimits;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Owns everything instances create, plus host data of type `T` that host functions reach
/// through their [`Caller`](crate::Caller).
///
/// Every handle ([`Func`], [`Memory`], [`Instance`], ...) belongs to one store; API methods
/// take the store as `impl AsContext` or `impl AsContextMut`, so a `&Store<T>`, a
/// `&mut Store<T>`, a [`Caller`](crate::Caller) or a [`StoreContextMut`] can be passed.
/// `Store<T>` is `Send` when `T` is, so a store can move to another thread between calls.
///
/// ```
/// use runtime_engine::{Engine, Store};
/// let engine = Engine::default();
/// let mut store = Store::new(&engine, 41);
/// *store.data_mut() += 1;
/// assert_eq!(*store.data(), 42);
/// assert_eq!(store.into_data(), 42);
/// ```
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

/// The store's state: the non-generic part, the host data and how to find the resource
/// limiter in it.
pub(crate) struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
    pub(crate) limiter: Option<LimiterFn<T>>,
}

/// Everything of a store except the host data: what compiled code, libcalls and instances
/// use. Declared `pub` inside this private module so that sealed public traits can name it;
/// it is not reachable from outside the crate.
pub struct StoreOpaque {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    /// What compiled code and libcalls reach (memories, tables, GC heap, exceptions,
    /// limits); every vmctx of the store points to it.
    pub(crate) vm: StoreState,
    pub(crate) funcs: Vec<FuncData>,
    /// The store index of every function, by its raw funcref (how compiled code refers to
    /// it in tables and globals).
    pub(crate) funcref_index: HashMap<u64, u32, data::FuncrefHasher>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) instances: Vec<InstanceData>,
    /// Signatures of the exception tags with their canonical type index (for import
    /// checks); a tag's identity is its index.
    pub(crate) tags: Vec<(FuncType, u32)>,
    /// Host functions of a `Linker` already made in this store, by the address of their
    /// definition (kept alive here so the address stays unique).
    pub(crate) linker_funcs:
        HashMap<usize, (Func, std::sync::Arc<dyn std::any::Any + Send + Sync>)>,
    /// How many instances, memories and tables the store may hold (see `Store::limiter`).
    pub(crate) count_limits: CountLimits,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl<T: 'static> Store<T> {
    /// A new, empty store for `engine`'s modules, holding the host data `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let id = NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed);
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    id,
                    engine: engine.clone(),
                    vm: StoreState::new(
                        id,
                        engine.inner.types.clone(),
                        engine.config().gc_heap_limit,
                        engine.config().gc_zeal_alloc_counter,
                        engine.config().continuation_stack_size,
                        engine.config().max_wasm_stack,
                    ),
                    funcs: Vec::new(),
                    funcref_index: HashMap::default(),
                    globals: Vec::new(),
                    instances: Vec::new(),
                    tags: Vec::new(),
                    linker_funcs: HashMap::new(),
                    count_limits: CountLimits::default(),
                },
                data,
                limiter: None,
            }),
        }
    }
}

impl<T> Store<T> {
    /// The engine this store was made for.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store (and everything in it) and returns the host data.
    pub fn into_data(self) -> T {
        let StoreInner {
            opaque,
            data,
            limiter,
        } = *self.inner;
        drop((opaque, limiter));
        data
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.opaque.id)
            .field("data", &self.inner.data)
            .finish_non_exhaustive()
    }
}

impl<T> StoreInner<T> {
    /// The non-generic part and the resource limiter, borrowed at once.
    pub(crate) fn opaque_and_limiter(&mut self) -> (&mut StoreOpaque, Limiter<'_>) {
        let limiter = match &mut self.limiter {
            Some(find) => Some(find(&mut self.data)),
            None => None,
        };
        (&mut self.opaque, limiter)
    }
}

impl<T> std::ops::Deref for StoreInner<T> {
    type Target = StoreOpaque;
    fn deref(&self) -> &StoreOpaque {
        &self.opaque
    }
}

impl<T> std::ops::DerefMut for StoreInner<T> {
    fn deref_mut(&mut self) -> &mut StoreOpaque {
        &mut self.opaque
    }
}

impl<T: 'static> crate::vm::thread::VMStore for StoreInner<T> {
    fn store_id(&self) -> u64 {
        self.opaque.id
    }
    fn limits(&mut self) -> &mut VMRuntimeLimits {
        &mut self.opaque.vm.limits
    }
    fn max_wasm_stack(&self) -> usize {
        self.opaque.engine.config().max_wasm_stack
    }
    fn continuations(&mut self) -> &mut crate::vm::continuation::Continuations {
        &mut self.opaque.vm.continuations
    }
    fn memory_grow(&mut self, index: usize, delta: u64) -> crate::Result<Option<u64>> {
        let (opaque, limiter) = self.opaque_and_limiter();
        grow_memory(opaque, limiter, index, delta)
    }
    fn table_grow(&mut self, index: usize, delta: u64, init: u64) -> crate::Result<Option<u64>> {
        let (opaque, limiter) = self.opaque_and_limiter();
        grow_table(opaque, limiter, index, delta, init)
    }
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name {
            pub(crate) store: u64,
            pub(crate) index: u32,
        }

        impl $name {
            /// The index in `store`; panics if the handle belongs to another store.
            #[inline]
            pub(crate) fn checked(&self, store: &StoreOpaque) -> usize {
                assert_eq!(
                    self.store, store.id,
                    "{} used with a store it does not belong to", stringify!($name)
                );
                self.index as usize
            }

            /// Whether the handle belongs to `store`.
            pub(crate) fn belongs_to(&self, store: &StoreOpaque) -> bool {
                self.store == store.id
            }
        }
    };
}

handle!(
    /// A function (wasm or host) in a store.
    ///
    /// # Panics
    ///
    /// Methods taking a store panic if the function belongs to another store.
    Func
);
handle!(
    /// A linear memory in a store.
    ///
    /// # Panics
    ///
    /// Methods taking a store panic if the memory belongs to another store.
    Memory
);
handle!(
    /// A table in a store.
    ///
    /// # Panics
    ///
    /// Methods taking a store panic if the table belongs to another store.
    Table
);
handle!(
    /// A global in a store.
    ///
    /// # Panics
    ///
    /// Methods taking a store panic if the global belongs to another store.
    Global
);
handle!(
    /// An instantiated module in a store.
    ///
    /// # Panics
    ///
    /// Methods taking a store panic if the instance belongs to another store.
    Instance
);
handle!(
    /// An exception tag in a store.
    ///
    /// # Panics
    ///
    /// Methods taking a store panic if the tag belongs to another store.
    Tag
);

impl StoreOpaque {
    /// A handle for the store's function `index`.
    pub(crate) fn func_handle(&self, index: usize) -> Func {
        Func {
            store: self.id,
            index: index as u32,
        }
    }
}
