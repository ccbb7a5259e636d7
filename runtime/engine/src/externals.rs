//! Phase 6, instantiate: memories, tables, globals and tags as the host sees them, and
//! [`Extern`], anything an instance imports or exports.

use crate::error::{Error, Result};
use crate::shared_memory::SharedMemory;
use crate::store::{
    AsContext, AsContextMut, GlobalData, StoreContext, StoreContextMut, StoreOpaque,
};
pub use crate::store::{Func, Global, Memory, Table, Tag};
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType};
use crate::values::Val;
use crate::Trap;

/// Anything an instance can import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// A shared linear memory (threads proposal), usable by every store of its engine.
    SharedMemory(SharedMemory),
    /// A global.
    Global(Global),
    /// An exception tag.
    Tag(Tag),
}

impl Extern {
    /// The type of this item.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        self.ty_in(&store.as_context().0.opaque)
    }
    /// The type of this item of `store`.
    pub(crate) fn ty_in(&self, store: &StoreOpaque) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(store.funcs[f.checked(store)].ty.clone()),
            Extern::Table(t) => ExternType::Table(store.vm.tables[t.checked(store)].ty()),
            Extern::Memory(m) => ExternType::Memory(store.vm.memories[m.checked(store)].ty()),
            Extern::SharedMemory(m) => ExternType::Memory(m.ty()),
            Extern::Global(g) => ExternType::Global(store.globals[g.checked(store)].ty),
            Extern::Tag(t) => ExternType::Tag(store.tags[t.checked(store)].0.clone()),
        }
    }
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    /// The shared memory, if this is one.
    pub fn into_shared_memory(self) -> Option<SharedMemory> {
        if let Extern::SharedMemory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }
    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<Tag> {
        if let Extern::Tag(t) = self {
            Some(t)
        } else {
            None
        }
    }
    /// What kind of item this is, in words.
    pub(crate) fn ty_kind(&self) -> &'static str {
        match self {
            Extern::Func(_) => "function",
            Extern::Table(_) => "table",
            Extern::Memory(_) => "memory",
            Extern::SharedMemory(_) => "shared memory",
            Extern::Global(_) => "global",
            Extern::Tag(_) => "tag",
        }
    }
    /// Whether the item can be used in `store` (a shared memory: one of its engine).
    pub(crate) fn belongs_to(&self, store: &StoreOpaque) -> bool {
        match self {
            Extern::SharedMemory(m) => m.engine.same(&store.engine),
            Extern::Func(f) => f.belongs_to(store),
            Extern::Table(t) => t.belongs_to(store),
            Extern::Memory(m) => m.belongs_to(store),
            Extern::Global(g) => g.belongs_to(store),
            Extern::Tag(t) => t.belongs_to(store),
        }
    }
}

macro_rules! into_extern {
    ($($name:ident)*) => {$(
        impl From<$name> for Extern {
            fn from(item: $name) -> Extern {
                Extern::$name(item)
            }
        }
    )*};
}
into_extern!(Func Table Memory SharedMemory Global Tag);

impl Memory {
    /// A new memory of type `ty` in `store`.
    ///
    /// ```
    /// use runtime_engine::{Engine, Memory, MemoryType, Store};
    /// let mut store = Store::new(&Engine::default(), ());
    /// let memory = Memory::new(&mut store, MemoryType::new(1, Some(2)))?;
    /// memory.data_mut(&mut store)[..5].copy_from_slice(b"hello");
    /// assert_eq!(memory.grow(&mut store, 1)?, 1);
    /// assert_eq!(memory.size(&store), 2);
    /// assert_eq!(&memory.data(&store)[..5], b"hello");
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    ///
    /// A `shared` type is an error: use [`SharedMemory::new`].
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        if ty.shared {
            return Err(Error::Usage(
                "a shared memory is made with `SharedMemory::new`".into(),
            ));
        }
        let (store, limiter) = store.as_context_mut().0.opaque_and_limiter();
        crate::store::check_counts(store, 0, 1, 0)?;
        let memory = crate::store::new_memory(store, limiter, ty)?;
        store.vm.memories.push(memory);
        Ok(Memory {
            store: store.id,
            index: store.vm.memories.len() as u32 - 1,
        })
    }
    /// The memory's type (with its current size as the minimum).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let store = &store.as_context().0.opaque;
        store.vm.memories[self.checked(store)].ty()
    }
    /// Current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = &store.as_context().0.opaque;
        store.vm.memories[self.checked(store)].pages()
    }
    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.data(store.as_context()).len()
    }
    /// The memory's bytes.
    pub fn data<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = &store.into().0.opaque;
        store.vm.memories[self.checked(store)].data()
    }
    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        let store = &mut store.into().0.opaque;
        let index = self.checked(store);
        store.vm.memories[index].data_mut()
    }
    /// The memory's bytes and the store's host data at once (host functions that copy
    /// between guest memory and their own state need both).
    ///
    /// ```
    /// use runtime_engine::{Engine, Memory, MemoryType, Store};
    /// let mut store = Store::new(&Engine::default(), Vec::<u8>::new());
    /// let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    /// memory.data_mut(&mut store)[..3].copy_from_slice(b"abc");
    /// let (bytes, saved) = memory.data_and_store_mut(&mut store);
    /// saved.extend_from_slice(&bytes[..3]);
    /// assert_eq!(store.data(), b"abc");
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn data_and_store_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let inner = store.into().0;
        let index = self.checked(&inner.opaque);
        (inner.opaque.vm.memories[index].data_mut(), &mut inner.data)
    }
    /// Copies `buffer.len()` bytes at `offset` into `buffer`; an error if out of bounds.
    pub fn read(&self, store: impl AsContext, offset: usize, buffer: &mut [u8]) -> Result<()> {
        let data = self.data(store.as_context());
        let src = offset
            .checked_add(buffer.len())
            .and_then(|end| data.get(offset..end))
            .ok_or_else(|| Error::Trap(Trap::new(crate::TrapCode::MemoryOutOfBounds)))?;
        buffer.copy_from_slice(src);
        Ok(())
    }
    /// Copies `buffer` to `offset`; an error if out of bounds.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buffer: &[u8]) -> Result<()> {
        let data = self.data_mut(store.as_context_mut());
        let dst = offset
            .checked_add(buffer.len())
            .and_then(|end| data.get_mut(offset..end))
            .ok_or_else(|| Error::Trap(Trap::new(crate::TrapCode::MemoryOutOfBounds)))?;
        dst.copy_from_slice(buffer);
        Ok(())
    }
    /// Grows by `delta` pages and returns the old size in pages. Fails if the memory cannot
    /// grow that far or the store's [`ResourceLimiter`](crate::ResourceLimiter) refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let (store, limiter) = store.as_context_mut().0.opaque_and_limiter();
        let index = self.checked(store);
        crate::store::grow_memory(store, limiter, index, delta)?
            .ok_or_else(|| Error::Usage(format!("memory cannot grow by {delta} pages")))
    }
}

impl Table {
    /// A new table of type `ty` in `store`, every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let (store, limiter) = store.as_context_mut().0.opaque_and_limiter();
        check_element(store, ty, &init)?;
        crate::store::check_counts(store, 0, 0, 1)?;
        let raw = store.val_to_raw(&init) as u64;
        let table = crate::store::new_table(limiter, ty, raw)?;
        store.vm.tables.push(table);
        Ok(Table {
            store: store.id,
            index: store.vm.tables.len() as u32 - 1,
        })
    }
    /// The table's type (with its current size as the minimum).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let store = &store.as_context().0.opaque;
        store.vm.tables[self.checked(store)].ty()
    }
    /// Current size in elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = &store.as_context().0.opaque;
        store.vm.tables[self.checked(store)].len()
    }
    /// Element `index`, if it exists.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let store = &store.as_context().0.opaque;
        let table = &store.vm.tables[self.checked(store)];
        let raw = table.get(index)?;
        Some(store.raw_to_val(raw as u128, crate::types::ValType::Ref(table.ty().element)))
    }
    /// Sets element `index`; an error if it does not exist or `val` has the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let i = self.checked(store);
        check_element(store, store.vm.tables[i].ty(), &val)?;
        let raw = store.val_to_raw(&val) as u64;
        store.vm.tables[i]
            .set(index, raw)
            .ok_or_else(|| Error::Trap(Trap::new(crate::TrapCode::TableOutOfBounds)))
    }
    /// Grows by `delta` elements set to `init`; returns the old size. Fails if the table
    /// cannot grow that far or the store's [`ResourceLimiter`](crate::ResourceLimiter)
    /// refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let (store, limiter) = store.as_context_mut().0.opaque_and_limiter();
        let i = self.checked(store);
        check_element(store, store.vm.tables[i].ty(), &init)?;
        let raw = store.val_to_raw(&init) as u64;
        crate::store::grow_table(store, limiter, i, delta, raw)?
            .ok_or_else(|| Error::Usage(format!("table cannot grow by {delta} elements")))
    }
}

/// Whether `val` may be stored in a table of type `ty` of `store`.
fn check_element(store: &StoreOpaque, ty: TableType, val: &Val) -> Result<()> {
    store.check_refs(val)?;
    if store.val_matches(val, crate::types::ValType::Ref(ty.element)) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "table of {} given {val:?}",
            ty.element
        )))
    }
}

impl Global {
    /// A new global of type `ty` holding `val`.
    ///
    /// ```
    /// use runtime_engine::{Engine, Global, GlobalType, Store, Val, ValType};
    /// let mut store = Store::new(&Engine::default(), ());
    /// let ty = GlobalType { content: ValType::I64, mutable: true };
    /// let counter = Global::new(&mut store, ty, Val::I64(1))?;
    /// counter.set(&mut store, Val::I64(2))?;
    /// assert_eq!(counter.get(&store).unwrap_i64(), 2);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let store = &mut store.as_context_mut().0.opaque;
        if !store.val_matches(&val, ty.content) {
            return Err(Error::Usage(format!(
                "global of type {} given {val:?}",
                ty.content
            )));
        }
        let bits = store.val_to_raw(&val);
        Ok(new_global(store, ty, bits))
    }
    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = &store.as_context().0.opaque;
        store.globals[self.checked(store)].ty
    }
    /// The current value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let store = &store.as_context().0.opaque;
        let i = self.checked(store);
        store.raw_to_val(store.vm.globals[i].bits(), store.globals[i].ty.content)
    }
    /// Sets a mutable global; an error if it is immutable or `val` has the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let i = self.checked(store);
        let ty = store.globals[i].ty;
        if !ty.mutable || !store.val_matches(&val, ty.content) {
            return Err(Error::Usage(format!(
                "cannot set global of type {ty:?} to {val:?}"
            )));
        }
        let bits = store.val_to_raw(&val);
        store.vm.globals[i].set_bits(bits);
        Ok(())
    }
}

impl Tag {
    /// A new exception tag whose payload has the parameter types of `ty`.
    pub fn new(mut store: impl AsContextMut, ty: FuncType) -> Tag {
        let store = &mut store.as_context_mut().0.opaque;
        let type_id = store.engine.types().register_func(&ty);
        store.vm.gc.register_tag(store.tags.len() as u32, &ty);
        store.tags.push((ty, type_id));
        Tag {
            store: store.id,
            index: store.tags.len() as u32 - 1,
        }
    }
    /// The tag's type (its payload as parameters).
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        store.tags[self.checked(store)].0.clone()
    }
}

pub(crate) fn new_global(store: &mut StoreOpaque, ty: GlobalType, bits: u128) -> Global {
    let index = store.vm.push_global(bits, ty.content.is_gc_ref());
    global_handle(store, ty, index)
}

/// A global an instance defines, stored in its vmctx at `storage` (zero until initialized).
pub(crate) fn new_instance_global(
    store: &mut StoreOpaque,
    ty: GlobalType,
    storage: crate::vm::vmcontext::GlobalPtr,
) -> Global {
    let index = store
        .vm
        .push_instance_global(storage, ty.content.is_gc_ref());
    global_handle(store, ty, index)
}

fn global_handle(store: &mut StoreOpaque, ty: GlobalType, index: u32) -> Global {
    store.globals.push(GlobalData { ty });
    Global {
        store: store.id,
        index,
    }
}
