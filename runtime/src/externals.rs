//! Phase 6, instantiate: functions, memories, tables and globals as the host sees them.

use crate::error::{Error, Result};
pub use crate::store::{Func, Global, Instance, Memory, Table, Tag};
use crate::store::{FuncData, FuncKind, GlobalData, Store, StoreInner};
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType};
use crate::values::Val;
use crate::vm;
use crate::vm::vmcontext::{VMFuncRef, VMGlobal};
use crate::Trap;

/// Anything an instance can import or export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
    Tag(Tag),
}

impl Extern {
    /// The type of this item.
    pub fn ty(&self, store: &Store) -> ExternType {
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(store)),
            Extern::Table(t) => ExternType::Table(t.ty(store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(store)),
            Extern::Global(g) => ExternType::Global(g.ty(store)),
            Extern::Tag(t) => ExternType::Tag(t.ty(store)),
        }
    }
    pub fn into_func(self) -> Option<Func> {
        if let Extern::Func(f) = self {
            Some(f)
        } else {
            None
        }
    }
    pub fn into_memory(self) -> Option<Memory> {
        if let Extern::Memory(m) = self {
            Some(m)
        } else {
            None
        }
    }
    pub fn into_table(self) -> Option<Table> {
        if let Extern::Table(t) = self {
            Some(t)
        } else {
            None
        }
    }
    pub fn into_global(self) -> Option<Global> {
        if let Extern::Global(g) = self {
            Some(g)
        } else {
            None
        }
    }
}

/// What a host function sees of its caller: the store and the calling instance.
pub struct Caller<'a> {
    pub(crate) store: &'a mut Store,
    pub(crate) instance: Option<Instance>,
}

impl Caller<'_> {
    pub fn store(&mut self) -> &mut Store {
        self.store
    }
    /// The calling instance, if a wasm function made the call.
    pub fn instance(&self) -> Option<Instance> {
        self.instance
    }
    /// An export of the calling instance (WASI finds `memory` this way).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        self.instance?.get_export(self.store, name)
    }
}

impl Func {
    /// A host function of type `ty`.
    pub fn new(
        store: &mut Store,
        ty: FuncType,
        body: impl Fn(Caller<'_>, &[Val], &mut [Val]) -> Result<(), Trap> + 'static,
    ) -> Func {
        let inner = &mut *store.inner;
        let index = inner.funcs.len();
        let type_id = inner.engine.types().register_func(&ty);
        let code = inner.engine.host_trampoline(&ty);
        let mut funcref = Box::new(VMFuncRef {
            code,
            vmctx: std::ptr::null_mut(),
            type_id,
            store_index: index as u32,
        });
        // The host trampoline finds the function through its own funcref.
        funcref.vmctx = &mut *funcref as *mut VMFuncRef as *mut u8;
        let ptr = &*funcref as *const VMFuncRef;
        inner.funcs.push(FuncData {
            ty,
            funcref: ptr,
            kind: FuncKind::Host {
                funcref,
                body: std::rc::Rc::new(body),
            },
            array_trampoline: std::cell::Cell::new(std::ptr::null()),
        });
        inner.func_handle(index)
    }

    pub fn ty(&self, store: &Store) -> FuncType {
        store.inner.funcs[self.checked(&store.inner)].ty.clone()
    }

    /// Calls the function; `results` must have room for exactly its results.
    pub fn call(&self, store: &mut Store, params: &[Val], results: &mut [Val]) -> Result<()> {
        let index = self.checked(&store.inner);
        let ty = store.inner.funcs[index].ty.clone();
        check_args(&store.inner, &ty, params, results.len())?;
        if let FuncKind::Host { .. } = store.inner.funcs[index].kind {
            return call_host(store, index, None, params, results).map_err(Error::Trap);
        }
        // Arguments and results travel in 16-byte slots; most signatures fit on the stack.
        let count = params.len().max(results.len()).max(1);
        let (mut small, mut large) = ([0u128; 8], Vec::new());
        let raw: &mut [u128] = if count <= small.len() {
            &mut small[..count]
        } else {
            large.resize(count, 0);
            &mut large
        };
        for (slot, v) in raw.iter_mut().zip(params) {
            *slot = store.inner.val_to_raw(v);
        }
        let data = &store.inner.funcs[index];
        let funcref = data.funcref;
        let mut trampoline = data.array_trampoline.get();
        if trampoline.is_null() {
            trampoline = store.inner.engine.array_trampoline(&ty);
            data.array_trampoline.set(trampoline);
        }
        vm::call::invoke(store, trampoline, funcref, raw).map_err(Error::Trap)?;
        for (slot, (r, t)) in results.iter_mut().zip(raw.iter().zip(ty.results())) {
            *slot = store.inner.raw_to_val(*r, *t);
        }
        Ok(())
    }
}

fn check_args(inner: &StoreInner, ty: &FuncType, params: &[Val], results: usize) -> Result<()> {
    if params.len() != ty.params().len() || results != ty.results().len() {
        return Err(Error::Usage(format!(
            "function {ty} called with {} arguments and room for {} results",
            params.len(),
            results
        )));
    }
    for (i, (v, t)) in params.iter().zip(ty.params()).enumerate() {
        if !inner.val_matches(v, *t) {
            return Err(Error::Usage(format!(
                "argument {i} is {v:?}, expected type {t}"
            )));
        }
    }
    Ok(())
}

/// Runs host function `index` with a `Caller` for `instance`.
pub(crate) fn call_host(
    store: &mut Store,
    index: usize,
    instance: Option<Instance>,
    params: &[Val],
    results: &mut [Val],
) -> std::result::Result<(), Trap> {
    let body = match &store.inner.funcs[index].kind {
        FuncKind::Host { body, .. } => body.clone(),
        FuncKind::Wasm => unreachable!("call_host on a wasm function"),
    };
    body(Caller { store, instance }, params, results)
}

impl Memory {
    pub fn new(store: &mut Store, ty: MemoryType) -> Result<Memory> {
        let memory = vm::memory::LinearMemory::new(ty, store.inner.engine.config().virtual_memory)?;
        let inner = &mut *store.inner;
        inner.memories.push(memory);
        Ok(Memory {
            store: inner.id,
            index: inner.memories.len() as u32 - 1,
        })
    }
    pub fn ty(&self, store: &Store) -> MemoryType {
        store.inner.memories[self.checked(&store.inner)].ty()
    }
    /// Current size in pages.
    pub fn size(&self, store: &Store) -> u64 {
        store.inner.memories[self.checked(&store.inner)].pages()
    }
    pub fn data<'a>(&self, store: &'a Store) -> &'a [u8] {
        store.inner.memories[self.checked(&store.inner)].data()
    }
    pub fn data_mut<'a>(&self, store: &'a mut Store) -> &'a mut [u8] {
        let index = self.checked(&store.inner);
        store.inner.memories[index].data_mut()
    }
    /// Grows by `delta` pages and returns the old size in pages.
    pub fn grow(&self, store: &mut Store, delta: u64) -> Result<u64> {
        let index = self.checked(&store.inner);
        store.inner.memories[index]
            .grow(delta)
            .ok_or_else(|| Error::Usage(format!("memory cannot grow by {delta} pages")))
    }
}

impl Table {
    pub fn new(store: &mut Store, ty: TableType, init: Val) -> Result<Table> {
        check_element(&store.inner, ty, &init)?;
        let raw = store.inner.val_to_raw(&init) as u64;
        let table = vm::table::TableStorage::new(ty, raw)?;
        let inner = &mut *store.inner;
        inner.tables.push(table);
        Ok(Table {
            store: inner.id,
            index: inner.tables.len() as u32 - 1,
        })
    }
    pub fn ty(&self, store: &Store) -> TableType {
        store.inner.tables[self.checked(&store.inner)].ty()
    }
    pub fn size(&self, store: &Store) -> u64 {
        store.inner.tables[self.checked(&store.inner)].len()
    }
    pub fn get(&self, store: &Store, index: u64) -> Option<Val> {
        let table = &store.inner.tables[self.checked(&store.inner)];
        let raw = table.get(index)?;
        Some(
            store
                .inner
                .raw_to_val(raw as u128, crate::types::ValType::Ref(table.ty().element)),
        )
    }
    pub fn set(&self, store: &mut Store, index: u64, val: Val) -> Result<()> {
        let i = self.checked(&store.inner);
        check_element(&store.inner, store.inner.tables[i].ty(), &val)?;
        let raw = store.inner.val_to_raw(&val) as u64;
        store.inner.tables[i]
            .set(index, raw)
            .ok_or_else(|| Error::Trap(Trap::new(crate::TrapCode::TableOutOfBounds)))
    }
    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, store: &mut Store, delta: u64, init: Val) -> Result<u64> {
        let i = self.checked(&store.inner);
        check_element(&store.inner, store.inner.tables[i].ty(), &init)?;
        let raw = store.inner.val_to_raw(&init) as u64;
        store.inner.tables[i]
            .grow(delta, raw)
            .ok_or_else(|| Error::Usage(format!("table cannot grow by {delta} elements")))
    }
}

/// Whether `val` may be stored in a table of type `ty`.
fn check_element(inner: &StoreInner, ty: TableType, val: &Val) -> Result<()> {
    if inner.val_matches(val, crate::types::ValType::Ref(ty.element)) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "table of {} given {val:?}",
            ty.element
        )))
    }
}

impl Global {
    pub fn new(store: &mut Store, ty: GlobalType, val: Val) -> Result<Global> {
        if !store.inner.val_matches(&val, ty.content) {
            return Err(Error::Usage(format!(
                "global of type {} given {val:?}",
                ty.content
            )));
        }
        let bits = store.inner.val_to_raw(&val);
        Ok(new_global(&mut store.inner, ty, bits))
    }
    pub fn ty(&self, store: &Store) -> GlobalType {
        store.inner.globals[self.checked(&store.inner)].ty
    }
    pub fn get(&self, store: &Store) -> Val {
        let g = &store.inner.globals[self.checked(&store.inner)];
        store.inner.raw_to_val(g.storage.bits, g.ty.content)
    }
    pub fn set(&self, store: &mut Store, val: Val) -> Result<()> {
        let i = self.checked(&store.inner);
        let ty = store.inner.globals[i].ty;
        if !ty.mutable || !store.inner.val_matches(&val, ty.content) {
            return Err(Error::Usage(format!(
                "cannot set global of type {ty:?} to {val:?}"
            )));
        }
        let bits = store.inner.val_to_raw(&val);
        store.inner.globals[i].storage.bits = bits;
        Ok(())
    }
}

impl Tag {
    /// A new exception tag whose payload has the parameter types of `ty`.
    pub fn new(store: &mut Store, ty: FuncType) -> Tag {
        let inner = &mut *store.inner;
        let type_id = inner.engine.types().register_func(&ty);
        inner.tags.push((ty, type_id));
        Tag {
            store: inner.id,
            index: inner.tags.len() as u32 - 1,
        }
    }
    pub fn ty(&self, store: &Store) -> FuncType {
        store.inner.tags[self.checked(&store.inner)].0.clone()
    }
}

pub(crate) fn new_global(inner: &mut StoreInner, ty: GlobalType, bits: u128) -> Global {
    inner.globals.push(GlobalData {
        ty,
        storage: Box::new(VMGlobal { bits }),
    });
    Global {
        store: inner.id,
        index: inner.globals.len() as u32 - 1,
    }
}
