//! Phase 6, instantiate: resolve imports, build the vmctx, initialise globals, tables and
//! memories in the spec's order, then run `start`.

mod const_expr;
mod imports;

pub(crate) use const_expr::eval_const;
use imports::{check_guard, check_import};

use crate::error::{Error, Result};
use crate::externals::{new_global, Extern};
use crate::func::{TypedFunc, WasmParams, WasmResults};
use crate::module::{DataMode, ElementMode, EntityIndex, Module};
use crate::store::{
    AsContext, AsContextMut, Func, FuncData, FuncKind, Global, Instance, Memory, StoreOpaque,
    Table, Tag,
};
use crate::vm;
use crate::vm::vmcontext::VMFuncRef;
use crate::{Trap, TrapCode};

/// An instance as the store keeps it.
pub(crate) struct InstanceData {
    pub(crate) module: Module,
    /// The vmctx compiled code receives; laid out by `VMOffsets`.
    pub(crate) vmctx: Box<[u64]>,
    /// Funcrefs of the defined functions (imported ones live with their owner).
    pub(crate) funcrefs: Box<[VMFuncRef]>,
    pub(crate) funcs: Vec<Func>,
    pub(crate) tables: Vec<Table>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) globals: Vec<Global>,
    pub(crate) tags: Vec<Tag>,
    /// Element segments as raw references; emptied by `elem.drop`.
    pub(crate) elements: Vec<Vec<u64>>,
    /// Whether each data segment was dropped.
    pub(crate) data_dropped: Vec<bool>,
}

impl Instance {
    /// Instantiates `module` in `store` with `imports` given in the module's import order,
    /// then runs its start function. Imports must belong to `store` and match the module's
    /// import types; anything else is an [`Error::Link`], never a panic. See
    /// [`Linker`](crate::Linker) for resolving imports by name.
    ///
    /// ```
    /// use runtime::{Engine, Func, Instance, Module, Store};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module
    ///     (import "" "twice" (func $twice (param i32) (result i32)))
    ///     (func (export "quad") (param i32) (result i32)
    ///       (call $twice (call $twice (local.get 0)))))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// let twice = Func::wrap(&mut store, |x: i32| x * 2);
    /// let instance = Instance::new(&mut store, &module, &[twice.into()])?;
    /// let quad = instance.get_typed_func::<i32, i32>(&mut store, "quad")?;
    /// assert_eq!(quad.call(&mut store, 5)?, 20);
    /// # Ok::<(), runtime::Error>(())
    /// ```
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let store = store.as_context_mut().0;
        let handle = instantiate(&mut store.opaque, module, imports)?;
        if let Some(start) = module.info().start {
            let func = store.opaque.instances[handle.index as usize].funcs[start as usize];
            crate::func::call_raw(store, func.index as usize, &mut [0u128])?;
        }
        Ok(handle)
    }

    /// The export `name`, if there is one.
    pub fn get_export(&self, store: impl AsContext, name: &str) -> Option<Extern> {
        let store = &store.as_context().0.opaque;
        let data = &store.instances[self.checked(store)];
        let index = data
            .module
            .info()
            .exports
            .iter()
            .find(|(n, _)| n == name)?
            .1;
        Some(data.entity(index))
    }

    /// Every export with its name, in order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let store = &store.as_context().0.opaque;
        let data = &store.instances[self.checked(store)];
        data.module
            .info()
            .exports
            .iter()
            .map(|(n, i)| (n.clone(), data.entity(*i)))
            .collect()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }
    /// The exported function `name` as a [`TypedFunc`]; an error if there is no such
    /// function or its signature is not `Params -> Results`.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let store = store.as_context();
        let func = self
            .get_func(store, name)
            .ok_or_else(|| Error::Usage(format!("the instance exports no function `{name}`")))?;
        func.typed(store)
    }
    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }
    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }
    /// The module this instance was made from.
    pub fn module(&self, store: impl AsContext) -> Module {
        let store = &store.as_context().0.opaque;
        store.instances[self.checked(store)].module.clone()
    }
}

/// Checks the imports and creates and initialises the instance (everything but `start`).
fn instantiate(store: &mut StoreOpaque, module: &Module, imports: &[Extern]) -> Result<Instance> {
    if !store.engine.same(&module.inner.engine) {
        return Err(Error::Usage(
            "module and store belong to different engines".into(),
        ));
    }
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(Error::Link(format!(
            "module needs {} imports, {} given",
            info.imports.len(),
            imports.len()
        )));
    }
    for (import, ext) in info.imports.iter().zip(imports) {
        if !ext.belongs_to(store) {
            return Err(Error::Link(format!(
                "import `{}::{}`: the {} given belongs to another store",
                import.module,
                import.name,
                ext.ty_kind()
            )));
        }
        check_guard(store, ext).map_err(|why| {
            Error::Link(format!(
                "import `{}::{}`: {why}",
                import.module, import.name
            ))
        })?;
        check_import(store, info, import, ext).map_err(|why| {
            Error::Link(format!(
                "incompatible import type for `{}::{}`: {why}",
                import.module, import.name
            ))
        })?;
    }
    let handle = allocate(store, module, imports)?;
    initialize(store, handle)?;
    Ok(handle)
}

impl InstanceData {
    fn entity(&self, index: EntityIndex) -> Extern {
        match index {
            EntityIndex::Func(i) => Extern::Func(self.funcs[i as usize]),
            EntityIndex::Table(i) => Extern::Table(self.tables[i as usize]),
            EntityIndex::Memory(i) => Extern::Memory(self.memories[i as usize]),
            EntityIndex::Global(i) => Extern::Global(self.globals[i as usize]),
            EntityIndex::Tag(i) => Extern::Tag(self.tags[i as usize]),
        }
    }
}

/// Creates the instance's entities and vmctx and registers it in the store.
fn allocate(inner: &mut StoreOpaque, module: &Module, imports: &[Extern]) -> Result<Instance> {
    let info = module.info();
    let instance_index = inner.instances.len();
    let handle = Instance {
        store: inner.id,
        index: instance_index as u32,
    };
    let mut data = InstanceData {
        module: module.clone(),
        vmctx: vec![0u64; module.inner.offsets.size() as usize / 8].into_boxed_slice(),
        funcrefs: Box::new([]),
        funcs: Vec::with_capacity(info.functions.len()),
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        tags: Vec::new(),
        elements: Vec::new(),
        data_dropped: vec![false; info.data.len()],
    };
    for ext in imports {
        match *ext {
            Extern::Func(f) => data.funcs.push(f),
            Extern::Table(t) => data.tables.push(t),
            Extern::Memory(m) => data.memories.push(m),
            Extern::Global(g) => data.globals.push(g),
            Extern::Tag(t) => data.tags.push(t),
        }
    }
    let vmctx_ptr = data.vmctx.as_mut_ptr() as *mut u8;
    let first_func = inner.funcs.len();
    data.funcrefs = (0..info.num_defined_funcs())
        .map(|i| {
            let index = info.num_imported_funcs as usize + i;
            VMFuncRef {
                code: module.inner.code.func_ptr(i),
                vmctx: vmctx_ptr,
                type_id: info.type_ids[info.functions[index] as usize],
                store_index: (first_func + i) as u32,
            }
        })
        .collect();
    for (i, funcref) in data.funcrefs.iter().enumerate() {
        let index = info.num_imported_funcs as usize + i;
        inner.funcs.push(FuncData {
            ty: info.func_type(index as u32).clone(),
            funcref,
            kind: FuncKind::Wasm,
            array_trampoline: std::cell::Cell::new(std::ptr::null()),
        });
        data.funcs.push(inner.func_handle(first_func + i));
    }
    for def in &info.memories[info.num_imported_memories as usize..] {
        inner.memories.push(vm::memory::LinearMemory::new(
            *def,
            inner.engine.config().virtual_memory,
        )?);
        data.memories.push(Memory {
            store: inner.id,
            index: inner.memories.len() as u32 - 1,
        });
    }
    for def in &info.tables[info.num_imported_tables as usize..] {
        inner.tables.push(vm::table::TableStorage::new(def.ty, 0)?);
        data.tables.push(Table {
            store: inner.id,
            index: inner.tables.len() as u32 - 1,
        });
    }
    for def in &info.globals[info.num_imported_globals as usize..] {
        data.globals.push(new_global(inner, def.ty, 0));
    }
    for (ty, id) in info.types.iter().zip(&info.type_ids) {
        inner.gc.register_type(*id, ty);
    }
    for ty in &info.tags[info.num_imported_tags as usize..] {
        inner
            .tags
            .push((info.type_as_func(*ty).clone(), info.type_ids[*ty as usize]));
        data.tags.push(Tag {
            store: inner.id,
            index: inner.tags.len() as u32 - 1,
        });
    }
    write_vmctx(inner, &mut data, instance_index);
    inner.instances.push(data);
    Ok(handle)
}

/// Fills the vmctx with pointers to everything the instance uses.
fn write_vmctx(inner: &mut StoreOpaque, data: &mut InstanceData, instance_index: usize) {
    let module = data.module.clone();
    let offsets = &module.inner.offsets;
    let mut w = vm::VmctxWriter::new(&mut data.vmctx);
    w.ptr(
        crate::vmoffsets::VMCTX_STORE,
        inner as *mut StoreOpaque as *const u8,
    );
    w.ptr(
        crate::vmoffsets::VMCTX_LIMITS,
        &*inner.limits as *const _ as *const u8,
    );
    w.u64(
        crate::vmoffsets::VMCTX_INSTANCE_INDEX,
        instance_index as u64,
    );
    w.ptr(crate::vmoffsets::VMCTX_EPOCH_PTR, inner.engine.epoch_ptr());
    for (i, id) in module.info().type_ids.iter().enumerate() {
        w.u32(offsets.type_id(i as u32), *id);
    }
    for (i, m) in data.memories.iter().enumerate() {
        w.ptr(
            offsets.memory(i as u32),
            inner.memories[m.index as usize].definition() as *const u8,
        );
    }
    for (i, t) in data.tables.iter().enumerate() {
        w.ptr(
            offsets.table(i as u32),
            inner.tables[t.index as usize].definition() as *const u8,
        );
    }
    for (i, g) in data.globals.iter().enumerate() {
        w.ptr(
            offsets.global(i as u32),
            &*inner.globals[g.index as usize].storage as *const _ as *const u8,
        );
    }
    for (i, f) in data.funcs.iter().enumerate() {
        w.ptr(
            offsets.func(i as u32),
            inner.funcs[f.index as usize].funcref as *const u8,
        );
    }
    for (i, t) in data.tags.iter().enumerate() {
        w.u32(offsets.tag(i as u32), t.index);
    }
}

/// Globals, table initialisers, element and data segments, in the spec's order. Constant
/// expressions and the element segments being built hold GC references the collector
/// cannot see, so allocations meanwhile grow the heap instead of collecting.
fn initialize(inner: &mut StoreOpaque, handle: Instance) -> Result<()> {
    inner.gc.inhibit += 1;
    let result = initialize_inhibited(inner, handle);
    inner.gc.inhibit -= 1;
    result
}

fn initialize_inhibited(inner: &mut StoreOpaque, handle: Instance) -> Result<()> {
    let index = handle.index as usize;
    let module = inner.instances[index].module.clone();
    let info = module.info();
    for (i, def) in info
        .globals
        .iter()
        .enumerate()
        .skip(info.num_imported_globals as usize)
    {
        let bits = eval_const(inner, index, &def.init)?;
        let g = inner.instances[index].globals[i];
        inner.globals[g.index as usize].storage.bits = bits;
    }
    for (i, def) in info
        .tables
        .iter()
        .enumerate()
        .skip(info.num_imported_tables as usize)
    {
        if let Some(init) = &def.init {
            let raw = eval_const(inner, index, init)? as u64;
            let t = inner.instances[index].tables[i];
            inner.tables[t.index as usize].fill_all(raw);
        }
    }
    let mut elements = Vec::with_capacity(info.elements.len());
    for seg in &info.elements {
        let items = seg
            .items
            .iter()
            .map(|e| eval_const(inner, index, e).map(|v| v as u64))
            .collect::<Result<Vec<u64>>>()?;
        elements.push(items);
    }
    inner.instances[index].elements = elements;
    let trap = |code| Error::Trap(Trap::new(code));
    for (i, seg) in info.elements.iter().enumerate() {
        match &seg.mode {
            ElementMode::Active { table, offset } => {
                let offset = eval_const(inner, index, offset)? as u64;
                let t = inner.instances[index].tables[*table as usize];
                let items = std::mem::take(&mut inner.instances[index].elements[i]);
                inner.tables[t.index as usize]
                    .init(offset, &items)
                    .ok_or_else(|| trap(TrapCode::TableOutOfBounds))?;
            }
            ElementMode::Declared => inner.instances[index].elements[i].clear(),
            ElementMode::Passive => {}
        }
    }
    for (i, seg) in info.data.iter().enumerate() {
        if let DataMode::Active { memory, offset } = &seg.mode {
            let offset = eval_const(inner, index, offset)? as u64;
            let m = inner.instances[index].memories[*memory as usize];
            let bytes = info.data_bytes(i);
            let mem = inner.memories[m.index as usize].data_mut();
            let end = offset
                .checked_add(bytes.len() as u64)
                .filter(|e| *e <= mem.len() as u64);
            let Some(end) = end else {
                return Err(trap(TrapCode::MemoryOutOfBounds));
            };
            mem[offset as usize..end as usize].copy_from_slice(bytes);
            inner.instances[index].data_dropped[i] = true;
        }
    }
    Ok(())
}
