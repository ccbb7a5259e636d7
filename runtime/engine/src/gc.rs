//! Phase 6, call: the host's side of a store's GC heap — collecting on demand, root scopes
//! for the handles the host holds, and the identity of references.
//!
//! A struct or array reaches the host as an [`AnyRef`] (in a [`Val`](crate::Val) or a
//! typed result): a handle rooted in the store, so the object stays alive (and is found
//! wherever the collector moves it) while the handle's root scope lasts. Host functions
//! called from wasm are root scopes of their own; [`RootScope`] makes one anywhere else, and
//! [`ManuallyRooted`] keeps a reference across scopes until it is unrooted. Handles made
//! outside any scope stay rooted until the store is dropped (as in Wasmtime).
//! Using a handle after its scope ended is an error, never a dangling pointer.

use crate::store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, StoreOpaque};
use crate::values::AnyRef;
use crate::{Caller, Result};

/// What a store's garbage collector has done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcHeapStats {
    /// Collections so far.
    pub collections: u64,
    /// Bytes of objects that survived the last collection.
    pub live_bytes: u64,
    /// Bytes of objects allocated since the store began (headers included).
    pub allocated_bytes: u64,
}

fn collect(store: &mut StoreOpaque) {
    crate::vm::collector::collect(&mut store.vm, 0);
}

fn stats(store: &StoreOpaque) -> GcHeapStats {
    let s = store.vm.gc.stats;
    GcHeapStats {
        collections: s.collections,
        live_bytes: s.live_bytes,
        allocated_bytes: s.allocated_bytes,
    }
}

impl<T> Store<T> {
    /// Collects the store's garbage now: every struct, array and exception that no global,
    /// table, element segment, pending exception, rooted handle or live wasm frame reaches
    /// is freed. (Collections also start by themselves when the heap fills up.)
    pub fn gc(&mut self) {
        collect(&mut self.inner.opaque);
    }

    /// What the store's garbage collector has done so far.
    pub fn gc_heap_stats(&self) -> GcHeapStats {
        stats(&self.inner.opaque)
    }
}

impl<T> StoreContextMut<'_, T> {
    /// Collects the store's garbage now (see [`Store::gc`]).
    pub fn gc(&mut self) {
        collect(&mut self.0.opaque);
    }
}

impl<T> Caller<'_, T> {
    /// Collects the store's garbage now (see [`Store::gc`]); the frames of the wasm that
    /// called are roots too.
    pub fn gc(&mut self) {
        self.store.gc();
    }

    /// What the store's garbage collector has done so far.
    pub fn gc_heap_stats(&self) -> GcHeapStats {
        stats(&self.store.0.opaque)
    }
}

/// A scope for GC handles: every [`AnyRef`] to a struct or array made while it lives (by
/// calls, table and global reads through it) is unrooted when it is dropped. Pass it (or
/// `&mut scope`) wherever a store is expected.
///
/// ```
/// use runtime_engine::{Engine, Instance, Module, RootScope, Store, Val};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (type $p (struct (field i32)))
///     (func (export "make") (result anyref) (struct.new $p (i32.const 7))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let make = Instance::new(&mut store, &module, &[])?.get_func(&mut store, "make").unwrap();
/// let mut results = [Val::I32(0)];
/// for _ in 0..1000 {
///     let mut scope = RootScope::new(&mut store);
///     make.call(&mut scope, &[], &mut results)?;
/// } // each handle is unrooted here, so the structs can be collected
/// // ... and using one afterwards is an error, not a dangling pointer:
/// let ext = Module::new(&engine, r#"(module (func (export "id") (param anyref) (result anyref) (local.get 0)))"#)?;
/// let id = Instance::new(&mut store, &ext, &[])?.get_func(&mut store, "id").unwrap();
/// assert!(id.call(&mut store, &results.clone(), &mut results).is_err());
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub struct RootScope<C: AsContextMut> {
    store: C,
    mark: usize,
}

impl<C: AsContextMut> RootScope<C> {
    /// Opens a scope in `store`.
    pub fn new(mut store: C) -> RootScope<C> {
        let mark = store.as_context_mut().0.opaque.vm.gc.roots.borrow().mark();
        RootScope { store, mark }
    }
}

impl<C: AsContextMut> Drop for RootScope<C> {
    fn drop(&mut self) {
        let ctx = self.store.as_context_mut();
        ctx.0.opaque.vm.gc.roots.borrow_mut().truncate(self.mark);
    }
}

impl<C: AsContextMut> AsContext for RootScope<C> {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        self.store.as_context()
    }
}

impl<C: AsContextMut> AsContextMut for RootScope<C> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        self.store.as_context_mut()
    }
}

impl AnyRef {
    /// Whether `a` and `b` are the same reference (`ref.eq`): the same i31 value or host
    /// reference, or the same struct or array however many handles name it. (`==` on
    /// handles compares the handles.) An error if either is unrooted or of another store.
    pub fn ref_eq(store: impl AsContext, a: &AnyRef, b: &AnyRef) -> Result<bool> {
        let store = &store.as_context().0.opaque;
        Ok(store.any_raw(a)? == store.any_raw(b)?)
    }
}

/// A GC reference rooted until [`ManuallyRooted::unroot`], whatever scopes end meanwhile:
/// for references the host keeps for long (in its own data structures, across calls). As in
/// Wasmtime, one that is dropped without `unroot` stays rooted until the store is dropped.
///
/// ```
/// use runtime_engine::{AnyRef, Engine, Instance, Module, RootScope, Store, Val};
/// let engine = Engine::default();
/// let module = Module::new(&engine, r#"(module (type $p (struct (field i32)))
///     (func (export "make") (result (ref any)) (struct.new $p (i32.const 7)))
///     (func (export "get") (param (ref any)) (result i32)
///       (struct.get $p 0 (ref.cast (ref $p) (local.get 0)))))"#)?;
/// let mut store = Store::new(&engine, ());
/// let instance = Instance::new(&mut store, &module, &[])?;
/// let make = instance.get_typed_func::<(), AnyRef>(&mut store, "make")?;
/// let get = instance.get_typed_func::<AnyRef, i32>(&mut store, "get")?;
/// let kept = {
///     let mut scope = RootScope::new(&mut store);
///     make.call(&mut scope, ())?.to_manually_rooted(&mut scope)?
/// };
/// store.gc();
/// let r = kept.to_rooted(&mut store)?;
/// assert_eq!(get.call(&mut store, r)?, 7);
/// kept.unroot(&mut store);
/// # Ok::<(), runtime_engine::Error>(())
/// ```
#[derive(Debug)]
pub struct ManuallyRooted<T> {
    store: u64,
    /// i31 and host references: the reference; structs and arrays: the manual root.
    raw: u64,
    kind: crate::AnyRefKind,
    _type: std::marker::PhantomData<T>,
}

impl AnyRef {
    /// A manual root for this reference (see [`ManuallyRooted`]).
    pub fn to_manually_rooted(
        &self,
        mut store: impl AsContextMut,
    ) -> Result<ManuallyRooted<AnyRef>> {
        let store = &mut store.as_context_mut().0.opaque;
        let raw = store.any_raw(self)?;
        let raw = if self.store == 0 {
            raw
        } else {
            store.vm.gc.roots.borrow_mut().push_manual(raw)
        };
        Ok(ManuallyRooted {
            store: self.store,
            raw,
            kind: self.kind,
            _type: std::marker::PhantomData,
        })
    }
}

impl ManuallyRooted<AnyRef> {
    /// The reference as an [`AnyRef`] rooted in the innermost root scope; an error if it
    /// was unrooted or belongs to another store.
    pub fn to_rooted(&self, mut store: impl AsContextMut) -> Result<AnyRef> {
        let store = &mut store.as_context_mut().0.opaque;
        if self.store == 0 {
            return Ok(AnyRef {
                store: 0,
                raw: self.raw,
                kind: self.kind,
            });
        }
        if self.store != store.id {
            return Err(crate::Error::Usage(
                "a struct or array of another store".into(),
            ));
        }
        let raw = store
            .vm
            .gc
            .roots
            .borrow()
            .get_manual(self.raw)
            .ok_or_else(|| {
                crate::Error::Usage("a manually rooted reference used after `unroot`".into())
            })?;
        Ok(store.any_ref(raw))
    }

    /// Ends the root: the object may be collected once nothing else reaches it.
    ///
    /// # Panics
    ///
    /// If the reference belongs to another store.
    pub fn unroot(self, mut store: impl AsContextMut) {
        let store = &mut store.as_context_mut().0.opaque;
        if self.store != 0 {
            assert_eq!(
                self.store, store.id,
                "ManuallyRooted unrooted in another store"
            );
            store.vm.gc.roots.borrow_mut().unroot(self.raw);
        }
    }
}
