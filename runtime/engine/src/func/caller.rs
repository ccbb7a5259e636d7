//! Phase 6, call: what a host function sees of its caller.

use crate::engine::Engine;
use crate::externals::Extern;
use crate::store::{AsContext, AsContextMut, Instance, StoreContext, StoreContextMut, StoreInner};

/// What a host function sees of its caller: the store (with the host data) and the calling
/// instance. Pass it (or `&mut caller`) wherever a store is expected, e.g. to call back into
/// wasm or to read the caller's memory.
///
/// ```
/// use runtime_engine::{Caller, Engine, Extern, Func, Instance, Module, Store};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module
///     (import "host" "peek" (func $peek (param i32) (result i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 8) "\2a")
///     (func (export "run") (result i32) (call $peek (i32.const 8))))"#)?;
/// let mut store = Store::new(&engine, 0u32);
/// let peek = Func::wrap(&mut store, |mut caller: Caller<'_, u32>, at: i32| {
///     *caller.data_mut() += 1;
///     let memory = caller.get_export("memory").and_then(Extern::into_memory).unwrap();
///     memory.data(&caller)[at as usize] as i32
/// });
/// let instance = Instance::new(&mut store, &module, &[peek.into()])?;
/// let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
/// assert_eq!(run.call(&mut store, ())?, 42);
/// assert_eq!(*store.data(), 1);
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub struct Caller<'a, T> {
    pub(crate) store: StoreContextMut<'a, T>,
    pub(crate) caller: Option<Instance>,
}

impl<'a, T> Caller<'a, T> {
    /// A caller for a host function running in `store`, called by instance `caller` (an
    /// index in the store) or by the host (`None`).
    pub(crate) fn new(store: &'a mut StoreInner<T>, caller: Option<u32>) -> Caller<'a, T> {
        let caller = caller.map(|index| Instance {
            store: store.opaque.id,
            index,
        });
        Caller {
            store: StoreContextMut(store),
            caller,
        }
    }

    /// The store's host data.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The store's host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        self.store.engine()
    }

    /// The export `name` of the calling instance (WASI finds the guest's `memory` this way);
    /// `None` when the host called the function itself or there is no such export.
    pub fn get_export(&mut self, name: &str) -> Option<Extern>
    where
        T: 'static,
    {
        self.caller?.get_export(&self.store, name)
    }
}

// A caller is a view of its store.

impl<T: 'static> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        self.store.as_context()
    }
}

impl<T: 'static> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        self.store.as_context_mut()
    }
}

impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a Caller<'_, T>) -> StoreContext<'a, T> {
        StoreContext(caller.store.0)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> StoreContext<'a, T> {
        StoreContext(caller.store.0)
    }
}

impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> StoreContextMut<'a, T> {
        StoreContextMut(caller.store.0)
    }
}
