//! Phase 6, instantiate: borrowed views of a store. Every API method takes its store as
//! `impl AsContext` (reads) or `impl AsContextMut` (changes, calls), so a [`Store`], a
//! [`Caller`](crate::Caller) or a [`StoreContextMut`] can be passed wherever a store is expected.

use super::{Store, StoreInner};
use crate::engine::Engine;

/// A shared borrow of a store with host data `T` (what [`AsContext`] gives).
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

impl<T> Clone for StoreContext<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for StoreContext<'_, T> {}

/// An exclusive borrow of a store with host data `T` (what [`AsContextMut`] gives). Helpers
/// that take `impl AsContextMut` work the same from the host and from a host function:
///
/// ```
/// use runtime_engine::{AsContextMut, Caller, Engine, Func, Store};
/// fn count(mut store: impl AsContextMut<Data = u32>) -> u32 {
///     let mut ctx = store.as_context_mut();
///     *ctx.data_mut() += 1;
///     *ctx.data()
/// }
/// let mut store = Store::new(&Engine::default(), 0u32);
/// assert_eq!(count(&mut store), 1);
/// let f = Func::wrap(&mut store, |mut caller: Caller<'_, u32>| count(&mut caller));
/// assert_eq!(f.typed::<(), u32>(&store)?.call(&mut store, ())?, 2);
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

/// Anything that can be read as a store: [`Store`], [`StoreContext`], [`StoreContextMut`],
/// [`Caller`](crate::Caller) and references to them.
///
/// ```
/// use runtime_engine::{AsContext, Engine, Store};
/// fn greeting(store: impl AsContext<Data = String>) -> String {
///     format!("hello, {}", store.as_context().data())
/// }
/// let store = Store::new(&Engine::default(), "world".to_string());
/// assert_eq!(greeting(&store), "hello, world");
/// ```
pub trait AsContext {
    /// The host data type of the store.
    type Data: 'static;
    /// A shared borrow of the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that can be changed as a store; see [`AsContext`].
pub trait AsContextMut: AsContext {
    /// An exclusive borrow of the store.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<'a, T> StoreContext<'a, T> {
    /// The host data.
    pub fn data(&self) -> &'a T {
        &self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &'a Engine {
        &self.0.opaque.engine
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

impl<T: 'static> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T: 'static> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T: 'static> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T: 'static> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T: 'static> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<S: AsContext + ?Sized> AsContext for &S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        S::as_context(self)
    }
}

impl<S: AsContext + ?Sized> AsContext for &mut S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        S::as_context(self)
    }
}

impl<S: AsContextMut + ?Sized> AsContextMut for &mut S {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, S::Data> {
        S::as_context_mut(self)
    }
}

// Conversions for methods whose result borrows from the store (`Memory::data`, ...).

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a Store<T>) -> StoreContext<'a, T> {
        StoreContext(&store.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a mut Store<T>) -> StoreContext<'a, T> {
        StoreContext(&store.inner)
    }
}

impl<'a, T> From<&'a StoreContext<'_, T>> for StoreContext<'a, T> {
    fn from(store: &'a StoreContext<'_, T>) -> StoreContext<'a, T> {
        StoreContext(store.0)
    }
}

impl<'a, T> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(store: &'a StoreContextMut<'_, T>) -> StoreContext<'a, T> {
        StoreContext(store.0)
    }
}

impl<'a, T> From<&'a mut StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(store: &'a mut StoreContextMut<'_, T>) -> StoreContext<'a, T> {
        StoreContext(store.0)
    }
}

impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(store: StoreContextMut<'a, T>) -> StoreContext<'a, T> {
        StoreContext(store.0)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(store: &'a mut Store<T>) -> StoreContextMut<'a, T> {
        StoreContextMut(&mut store.inner)
    }
}

impl<'a, T> From<&'a mut StoreContextMut<'_, T>> for StoreContextMut<'a, T> {
    fn from(store: &'a mut StoreContextMut<'_, T>) -> StoreContextMut<'a, T> {
        StoreContextMut(store.0)
    }
}
