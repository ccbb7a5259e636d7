//! Phase 6, instantiate: resolve imports, build the vmctx, initialise globals, tables and
//! memories in the spec's order, then run `start`.

mod const_expr;
mod imports;

pub(crate) use const_expr::eval_const;
use imports::{check_guard, check_import};

use crate::error::{Error, Result};
use crate::externals::{new_instance_global, Extern};
use crate::func::{TypedFunc, WasmParams, WasmResults};
use crate::info::{DataMode, ElementMode, EntityIndex};
use crate::limiter::{self, Limiter};
use crate::module::Module;
use crate::shared_memory::SharedMemory;
use crate::store::{
    AsContext, AsContextMut, Func, FuncData, FuncKind, Global, Instance, InstanceData, Memory,
    StoreOpaque, Table, Tag,
};
use crate::vm;
use crate::vm::instance::{InstanceFuncRefs, Vmctx};
use crate::vm::store::StoreMemory;
use crate::{Trap, TrapCode};
use cranelift_entity::EntityRef;
use std::sync::Arc;

impl Instance {
    /// Instantiates `module` in `store` with `imports` given in the module's import order,
    /// then runs its start function. Imports must belong to `store` and match the module's
    /// import types; anything else is an [`Error::Link`], never a panic. See
    /// [`Linker`](crate::Linker) for resolving imports by name.
    ///
    /// ```
    /// use runtime_engine::{Engine, Func, Instance, Module, Store};
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
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let store = store.as_context_mut().0;
        let (opaque, limiter) = store.opaque_and_limiter();
        let handle = instantiate(opaque, limiter, module, imports)?;
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
        Some(data.entity(store, index))
    }

    /// Every export with its name, in order.
    pub fn exports(&self, store: impl AsContext) -> Vec<(String, Extern)> {
        let store = &store.as_context().0.opaque;
        let data = &store.instances[self.checked(store)];
        data.module
            .info()
            .exports
            .iter()
            .map(|(n, i)| (n.clone(), data.entity(store, *i)))
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
    /// The exported memory `name` (`None` for a shared one: see
    /// [`get_shared_memory`](Instance::get_shared_memory)).
    pub fn get_memory(&self, store: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }
    /// The exported shared memory `name`.
    pub fn get_shared_memory(&self, store: impl AsContext, name: &str) -> Option<SharedMemory> {
        self.get_export(store, name)?.into_shared_memory()
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
fn instantiate(
    store: &mut StoreOpaque,
    limiter: Limiter<'_>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
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
            let owner = match ext {
                Extern::SharedMemory(_) => "engine",
                _ => "store",
            };
            return Err(Error::Link(format!(
                "import `{}::{}`: the {} given belongs to another {owner}",
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
    let handle = allocate(store, limiter, module, imports)?;
    initialize(store, handle)?;
    Ok(handle)
}

impl StoreOpaque {
    /// The store's entry for the shared memory `memory`: the one an earlier import made, or a
    /// new one.
    fn import_shared_memory(&mut self, memory: &SharedMemory) -> Memory {
        let memories = &mut self.vm.memories;
        let index = memories
            .iter()
            .position(|m| m.shared().is_some_and(|s| Arc::ptr_eq(s, &memory.inner)))
            .unwrap_or_else(|| {
                memories.push(StoreMemory::Shared(memory.inner.clone()));
                memories.len() - 1
            });
        Memory {
            store: self.id,
            index: index as u32,
        }
    }
}

impl InstanceData {
    /// Export `index` as the host sees it: a shared memory as a [`SharedMemory`].
    fn entity(&self, store: &StoreOpaque, index: EntityIndex) -> Extern {
        match index {
            EntityIndex::Func(i) => Extern::Func(self.funcs[i as usize]),
            EntityIndex::Table(i) => Extern::Table(self.tables[i as usize]),
            EntityIndex::Memory(i) => {
                let memory = self.memories[i as usize];
                match store.vm.memories[memory.index as usize].shared() {
                    Some(shared) => Extern::SharedMemory(SharedMemory {
                        inner: shared.clone(),
                        engine: store.engine.clone(),
                    }),
                    None => Extern::Memory(memory),
                }
            }
            EntityIndex::Global(i) => Extern::Global(self.globals[i as usize]),
            EntityIndex::Tag(i) => Extern::Tag(self.tags[i as usize]),
        }
    }
}

/// Creates the instance's entities and vmctx and registers it in the store, within the
/// limiter's counts and sizes.
fn allocate(
    inner: &mut StoreOpaque,
    mut limiter: Limiter<'_>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    let info = module.info();
    let defined_memories: Vec<_> = info
        .defined_memories()
        .map(|(_, m)| &info.memories[m.index()])
        .collect();
    let defined_tables: Vec<_> = info
        .defined_tables()
        .map(|(_, t)| &info.tables[t.index()])
        .collect();
    crate::store::check_counts(inner, 1, defined_memories.len(), defined_tables.len())?;
    let instance_index = inner.instances.len();
    let handle = Instance {
        store: inner.id,
        index: instance_index as u32,
    };
    let mut vmctx = Vmctx::new(module.inner.offsets.size());
    let first_func = inner.funcs.len();
    let defined_types: Vec<u32> = info
        .defined_funcs()
        .map(|(_, f)| info.type_ids[info.functions[f.index()] as usize])
        .collect();
    let funcrefs = InstanceFuncRefs::new(
        &module.inner.code,
        &mut vmctx,
        &defined_types,
        first_func as u32,
    );
    let mut data = InstanceData {
        module: module.clone(),
        vmctx,
        funcrefs,
        funcs: Vec::with_capacity(info.functions.len()),
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        tags: Vec::new(),
    };
    for ext in imports {
        match ext {
            Extern::Func(f) => data.funcs.push(*f),
            Extern::Table(t) => data.tables.push(*t),
            Extern::Memory(m) => data.memories.push(*m),
            Extern::SharedMemory(m) => data.memories.push(inner.import_shared_memory(m)),
            Extern::Global(g) => data.globals.push(*g),
            Extern::Tag(t) => data.tags.push(*t),
        }
    }
    inner.reserve_funcs(defined_types.len());
    for ((defined, func), type_id) in info.defined_funcs().zip(&defined_types) {
        let i = defined.index();
        let index = inner.push_func(FuncData {
            ty: info.func_type(func.as_u32()).clone(),
            type_id: *type_id,
            funcref: data.funcrefs.get(i),
            kind: FuncKind::Wasm,
            array_trampoline: std::cell::Cell::new(None),
        });
        data.funcs.push(inner.func_handle(index));
    }
    for def in defined_memories {
        let memory = crate::store::new_memory(inner, limiter::reborrow(&mut limiter), *def)?;
        inner.vm.memories.push(memory);
        data.memories.push(Memory {
            store: inner.id,
            index: inner.vm.memories.len() as u32 - 1,
        });
    }
    for def in defined_tables {
        let table = crate::store::new_table(limiter::reborrow(&mut limiter), def.ty, 0)?;
        inner.vm.tables.push(table);
        data.tables.push(Table {
            store: inner.id,
            index: inner.vm.tables.len() as u32 - 1,
        });
    }
    for (defined, def) in info
        .defined_globals()
        .map(|(d, g)| (d, &info.globals[g.index()]))
    {
        // Stored in the vmctx, where compiled code reads it with one load.
        let offset = module.inner.offsets.defined_global(defined.index() as u32);
        let storage = data.vmctx.global(offset);
        data.globals
            .push(new_instance_global(inner, def.ty, storage));
    }
    for (ty, id) in info.types.iter().zip(&info.type_ids) {
        inner.vm.gc.register_type(*id, ty);
    }
    for ty in info.defined_tags().map(|(_, t)| &info.tags[t.index()]) {
        let func = info.type_as_func(*ty).clone();
        // Exceptions of this tag are GC objects: their layout says which payload slots the
        // collector must visit.
        inner.vm.gc.register_tag(inner.tags.len() as u32, &func);
        inner.tags.push((func, info.type_ids[*ty as usize]));
        data.tags.push(Tag {
            store: inner.id,
            index: inner.tags.len() as u32 - 1,
        });
    }
    write_vmctx(inner, &mut data, instance_index);
    let cont_entries = (0..info.types.len() as u32)
        .map(|i| match info.types[i as usize].composite {
            crate::types::CompositeType::Cont(_) => {
                let ty = info.cont_func_type(i);
                Some(vm::store::ContEntry {
                    trampoline: module.inner.engine.array_trampoline(ty),
                    params: ty.params().len() as u32,
                    results: ty.results().len() as u32,
                })
            }
            _ => None,
        })
        .collect();
    inner.vm.instances.push(vm::store::InstanceState {
        info: module.inner.info.clone(),
        memories: data.memories.iter().map(|m| m.index).collect(),
        tables: data.tables.iter().map(|t| t.index).collect(),
        tags: data.tags.iter().map(|t| t.index).collect(),
        elements: Vec::new(),
        data_dropped: vec![false; info.data.len()],
        cont_entries,
    });
    inner.instances.push(data);
    Ok(handle)
}

/// Fills the vmctx with pointers to everything the instance uses.
fn write_vmctx(inner: &mut StoreOpaque, data: &mut InstanceData, instance_index: usize) {
    use crate::vmoffsets::{VMCTX_EPOCH_PTR, VMCTX_INSTANCE_INDEX, VMCTX_LIMITS, VMCTX_STORE};
    let module = data.module.clone();
    let offsets = &module.inner.offsets;
    let mut w = data.vmctx.builder();
    w.store(VMCTX_STORE, &mut inner.vm);
    w.limits(VMCTX_LIMITS, &inner.vm.limits);
    w.u64(VMCTX_INSTANCE_INDEX, instance_index as u64);
    w.epoch(VMCTX_EPOCH_PTR, inner.engine.epoch());
    for (i, id) in module.info().type_ids.iter().enumerate() {
        w.u32(offsets.type_id(i as u32), *id);
    }
    for (i, m) in data.memories.iter().enumerate() {
        w.memory(
            offsets.memory(i as u32),
            offsets.memory_base(i as u32),
            &inner.vm.memories[m.index as usize],
        );
    }
    for (i, t) in data.tables.iter().enumerate() {
        w.table(offsets.table(i as u32), &inner.vm.tables[t.index as usize]);
    }
    for (i, g) in data.globals.iter().enumerate() {
        w.global(
            offsets.global(i as u32),
            inner.vm.globals[g.index as usize].as_ptr(),
        );
    }
    for (i, f) in data.funcs.iter().enumerate() {
        w.func(
            offsets.func(i as u32),
            inner.funcs[f.index as usize].funcref,
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
    inner.vm.gc.inhibit += 1;
    let result = initialize_inhibited(inner, handle);
    inner.vm.gc.inhibit -= 1;
    result
}

fn initialize_inhibited(inner: &mut StoreOpaque, handle: Instance) -> Result<()> {
    let index = handle.index as usize;
    let module = inner.instances[index].module.clone();
    let info = module.info();
    for (i, def) in info
        .defined_globals()
        .map(|(_, g)| (g.index(), &info.globals[g.index()]))
    {
        let bits = eval_const(inner, index, &def.init)?;
        let g = inner.instances[index].globals[i];
        inner.vm.globals[g.index as usize].set_bits(bits);
    }
    for (i, def) in info
        .defined_tables()
        .map(|(_, t)| (t.index(), &info.tables[t.index()]))
    {
        if let Some(init) = &def.init {
            let raw = eval_const(inner, index, init)? as u64;
            let t = inner.instances[index].tables[i];
            inner.vm.tables[t.index as usize].fill_all(raw);
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
    inner.vm.instances[index].elements = elements;
    let trap = |code| Error::Trap(Trap::new(code));
    for (i, seg) in info.elements.iter().enumerate() {
        match &seg.mode {
            ElementMode::Active { table, offset } => {
                let offset = eval_const(inner, index, offset)? as u64;
                let t = inner.instances[index].tables[*table as usize];
                let items = std::mem::take(&mut inner.vm.instances[index].elements[i]);
                inner.vm.tables[t.index as usize]
                    .init(offset, &items)
                    .ok_or_else(|| trap(TrapCode::TableOutOfBounds))?;
            }
            ElementMode::Declared => inner.vm.instances[index].elements[i].clear(),
            ElementMode::Passive => {}
        }
    }
    // Defined memories with an image get it mapped instead of their segments copied.
    let imported = info.num_imported_memories as usize;
    let mut imaged = vec![false; info.memories.len()];
    for (j, image) in module.inner.memory_images.iter().enumerate() {
        if let Some(image) = image {
            let m = inner.instances[index].memories[imported + j];
            imaged[imported + j] = inner.vm.memories[m.index as usize]
                .map_image(image)
                .map_err(Error::Usage)?;
        }
    }
    for (i, seg) in info.data.iter().enumerate() {
        if let DataMode::Active { memory, offset } = &seg.mode {
            if imaged[*memory as usize] {
                inner.vm.instances[index].data_dropped[i] = true;
                continue;
            }
            let offset = eval_const(inner, index, offset)? as u64;
            let m = inner.instances[index].memories[*memory as usize];
            let bytes = info.data_bytes(i);
            if !inner.vm.memories[m.index as usize].write(offset, bytes) {
                return Err(trap(TrapCode::MemoryOutOfBounds));
            }
            inner.vm.instances[index].data_dropped[i] = true;
        }
    }
    Ok(())
}
