//! Phase 3, translate: the environment that answers "how do I reach this memory, table,
//! global, signature or callee" for one function. Every runtime layout detail the translator
//! needs goes through here (in the spirit of Cranelift's `FuncEnvironment`).

use crate::info::{FuncIndex, ModuleInfo};
use crate::libcall::Libcall;
use crate::types::{FuncType, ValType};
use crate::vmoffsets::{self as off, VMOffsets};
use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, ExtFuncData, ExternalName, GlobalValueData,
    InstBuilder, MemFlagsData, Signature, UserExternalName, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;

/// Namespaces of `UserExternalName`s, resolved by the compile phase.
pub const NS_WASM_FUNC: u32 = 0;
pub const NS_LIBCALL: u32 = 1;

/// The Cranelift trap codes compiled code raises (declared with [`crate::TrapCode`]).
pub(crate) use crate::trap::clif as trap;

/// The Cranelift type of a wasm value type (references are 64-bit pointers or ids).
pub fn ir_type(t: ValType) -> ir::Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// The signature of a wasm function: (callee vmctx, caller vmctx, params...) -> results.
pub fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(ir_type(*t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(ir_type(*t))));
    sig
}

/// Flags for loads of vmctx fields (and of what vmctx fields point to) that never change
/// after instantiation: the optimiser may merge them and hoist them anywhere, even above
/// every check, because their address is valid on every path through the function.
/// Never use them through a reference the guest controls (see [`through_reference`]).
pub fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// The alias region of linear-memory accesses and the one of globals' storage: neither ever
/// touches the other's bytes (memories are mappings of their own, globals live in vmctxs and
/// host boxes), so Cranelift may keep a global's value in a register across a store to a
/// memory and a loaded byte of memory across `global.set`. Every access of either kind carries
/// its region; everything else (vmctx fields, tables, GC objects) has none and stays ordered
/// with both.
#[derive(Clone, Copy)]
pub enum Region {
    /// Linear memories.
    Heap = 1,
    /// Globals' storage.
    Globals = 2,
}

/// `region`, declared in `func`.
pub fn alias_region(func: &mut ir::Function, region: Region) -> ir::AliasRegion {
    let description = match region {
        Region::Heap => "heap",
        Region::Globals => "globals",
    };
    func.dfg.alias_regions.insert(ir::AliasRegionData {
        user_id: region as u32,
        description: description.into(),
    })
}

/// Flags for loads of immutable fields through a reference that may be null (a funcref from
/// a table or the operand stack): they cannot trap *where they are*, after the null check
/// that dominates them, but must not move (no `can_move`), or Cranelift would hoist them
/// above that check, out of loops, to where the reference may be null.
pub fn through_reference() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// How compiled code reaches one linear memory.
#[derive(Clone, Copy)]
pub struct Heap {
    pub index: u32,
    pub memory64: bool,
    pub guarded: bool,
    /// Shared (threads proposal): other threads may grow it, so its length is read with an
    /// atomic load, which Cranelift neither merges with earlier loads nor moves.
    pub shared: bool,
    pub page_size_log2: u8,
}

/// Per-function translation environment.
pub struct FuncEnv<'m> {
    pub info: &'m ModuleInfo,
    pub offsets: &'m VMOffsets,
    pub virtual_memory: bool,
    /// Per function index: whether a call to it may throw (see `throws.rs`).
    pub may_throw: &'m [bool],
    /// Per function index: the size of an inlinable function's body (see `inline.rs`).
    pub inlinable: &'m [Option<u32>],
    /// Charge fuel (`Config::consume_fuel`; see `budget.rs`).
    pub consume_fuel: bool,
    /// Check the epoch deadline (`Config::epoch_interruption`; see `budget.rs`).
    pub epoch_interruption: bool,
    /// The function being translated (function index space).
    pub func_index: u32,
    vmctx: Option<Value>,
    sigs: HashMap<u32, ir::SigRef>,
    funcs: HashMap<u32, ir::FuncRef>,
    libcalls: HashMap<Libcall, ir::FuncRef>,
    /// C library functions called directly (memmove, memset), imported once per function.
    libc: HashMap<ir::LibCall, ir::FuncRef>,
}

impl<'m> FuncEnv<'m> {
    pub fn new(
        info: &'m ModuleInfo,
        offsets: &'m VMOffsets,
        virtual_memory: bool,
        may_throw: &'m [bool],
    ) -> Self {
        FuncEnv {
            info,
            offsets,
            virtual_memory,
            may_throw,
            inlinable: &[],
            consume_fuel: false,
            epoch_interruption: false,
            func_index: 0,
            vmctx: None,
            sigs: HashMap::new(),
            funcs: HashMap::new(),
            libcalls: HashMap::new(),
            libc: HashMap::new(),
        }
    }

    /// Makes the function charge fuel and/or check the epoch deadline.
    pub fn with_budgets(mut self, consume_fuel: bool, epoch_interruption: bool) -> Self {
        self.consume_fuel = consume_fuel;
        self.epoch_interruption = epoch_interruption;
        self
    }

    /// Lets the function inline calls of the functions `inlinable` gives a size (see
    /// `inline.rs`).
    pub fn with_inlining(mut self, inlinable: &'m [Option<u32>]) -> Self {
        self.inlinable = inlinable;
        self
    }

    /// Records the function's vmctx parameter.
    pub fn set_vmctx(&mut self, vmctx: Value) {
        self.vmctx = Some(vmctx);
    }

    /// The vmctx as a value.
    pub fn vmctx(&mut self, _b: &mut FunctionBuilder) -> Value {
        self.vmctx.expect("the vmctx is set at function entry")
    }

    /// Loads a pointer stored in the vmctx at `offset` (fixed after instantiation).
    pub fn load_vmctx_ptr(&mut self, b: &mut FunctionBuilder, offset: u32) -> Value {
        let vmctx = self.vmctx(b);
        b.ins().load(types::I64, readonly(), vmctx, offset as i32)
    }

    /// Sets the function's stack limit from the store's runtime limits.
    pub fn install_stack_limit(&mut self, func: &mut ir::Function) {
        let vmctx = func.create_global_value(GlobalValueData::VMContext);
        let flags = func
            .dfg
            .mem_flags
            .insert_unchecked(MemFlagsData::trusted().with_readonly());
        let limits = func.create_global_value(GlobalValueData::Load {
            base: vmctx,
            offset: (off::VMCTX_LIMITS as i32).into(),
            global_type: types::I64,
            flags,
        });
        let flags = func.dfg.mem_flags.insert_unchecked(MemFlagsData::trusted());
        let limit = func.create_global_value(GlobalValueData::Load {
            base: limits,
            offset: off::LIMITS_STACK_LIMIT.into(),
            global_type: types::I64,
            flags,
        });
        func.stack_limit = Some(limit);
    }

    /// `make_heap`: how memory `index` is accessed.
    pub fn make_heap(&self, index: u32) -> Heap {
        let ty = &self.info.memories[index as usize];
        Heap {
            index,
            memory64: ty.memory64,
            guarded: self.virtual_memory && off::can_be_guarded(ty),
            shared: ty.shared,
            page_size_log2: ty.page_size_log2,
        }
    }

    /// The base address of a memory (never moves).
    pub fn heap_base(&mut self, b: &mut FunctionBuilder, heap: Heap) -> Value {
        self.load_vmctx_ptr(b, self.offsets.memory_base(heap.index))
    }

    /// The current length in bytes of a memory.
    pub fn heap_bound(&mut self, b: &mut FunctionBuilder, heap: Heap) -> Value {
        let def = self.load_vmctx_ptr(b, self.offsets.memory(heap.index));
        if heap.shared {
            let length = b.ins().iadd_imm_u(def, off::MEMORY_LENGTH as i64);
            return b
                .ins()
                .atomic_load(types::I64, MemFlagsData::trusted(), length);
        }
        b.ins()
            .load(types::I64, MemFlagsData::trusted(), def, off::MEMORY_LENGTH)
    }

    /// `make_table`: the address of table `index`'s definition.
    pub fn make_table(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        self.load_vmctx_ptr(b, self.offsets.table(index))
    }

    /// Table `index`'s size if it can never change: a maximum equal to its minimum (an
    /// imported table's too: a match needs the actual size at least the declared minimum and
    /// its maximum at most the declared maximum).
    fn fixed_table_size(&self, index: u32) -> Option<i64> {
        let ty = self.info.tables[index as usize].ty;
        ty.maximum
            .filter(|max| *max == ty.minimum)
            .and_then(|max| i64::try_from(max).ok())
    }

    /// The current number of elements of table `index` (i64): a constant for a fixed-size
    /// table, else loaded at each use (`table.grow` changes it).
    pub fn table_bound(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        if let Some(size) = self.fixed_table_size(index) {
            return b.ins().iconst(types::I64, size);
        }
        let def = self.make_table(b, index);
        b.ins()
            .load(types::I64, MemFlagsData::trusted(), def, off::TABLE_LENGTH)
    }

    /// The address of table `index`'s first element: a fixed-size table's elements never
    /// move, so that load may be merged and hoisted; a growable one's is loaded at each use.
    pub fn table_base(&mut self, b: &mut FunctionBuilder, index: u32) -> Value {
        let flags = match self.fixed_table_size(index) {
            Some(_) => readonly(),
            None => MemFlagsData::trusted(),
        };
        let def = self.make_table(b, index);
        b.ins().load(types::I64, flags, def, off::TABLE_BASE)
    }

    /// `make_global`: where global `index`'s storage is, as an address and an offset: a
    /// defined global's is in the vmctx itself (one load to reach its value), an imported
    /// one's behind a pointer in it.
    pub fn make_global(&mut self, b: &mut FunctionBuilder, index: u32) -> (Value, i32) {
        match index.checked_sub(self.info.num_imported_globals) {
            Some(defined) => (self.vmctx(b), self.offsets.defined_global(defined) as i32),
            None => (self.load_vmctx_ptr(b, self.offsets.global(index)), 0),
        }
    }

    /// `make_indirect_sig`: the Cranelift signature for type index `index`.
    pub fn make_indirect_sig(&mut self, func: &mut ir::Function, index: u32) -> ir::SigRef {
        if let Some(s) = self.sigs.get(&index) {
            return *s;
        }
        let sig = func.import_signature(wasm_signature(self.info.type_as_func(index)));
        self.sigs.insert(index, sig);
        sig
    }

    /// `make_direct_func`: a colocated reference to defined function `index`.
    pub fn make_direct_func(&mut self, func: &mut ir::Function, index: u32) -> ir::FuncRef {
        if let Some(f) = self.funcs.get(&index) {
            return *f;
        }
        let signature = self.make_indirect_sig(func, self.info.functions[index as usize]);
        let defined = self
            .info
            .defined_func_index(FuncIndex::from_u32(index))
            .expect("direct calls are made to defined functions");
        let name = func.declare_imported_user_function(UserExternalName {
            namespace: NS_WASM_FUNC,
            index: defined.as_u32(),
        });
        let r = func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.funcs.insert(index, r);
        r
    }

    /// A reference to a runtime libcall.
    pub fn libcall(&mut self, func: &mut ir::Function, call: Libcall) -> ir::FuncRef {
        if let Some(f) = self.libcalls.get(&call) {
            return *f;
        }
        let (params, ret) = call.signature();
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.extend(ret.map(AbiParam::new));
        let signature = func.import_signature(sig);
        let name = func.declare_imported_user_function(UserExternalName {
            namespace: NS_LIBCALL,
            index: call as u32,
        });
        let r = func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: false,
            patchable: false,
        });
        self.libcalls.insert(call, r);
        r
    }

    /// Calls C library function `call` (memmove, memset: no vmctx) with `args`, which also
    /// give its parameter types. The signature declares no result: the pointer these return
    /// is never used, and a dead result pinned to the return register costs the register
    /// allocator dearly (tinygo-regex's main loop spilled its vmctx for it); the register is
    /// clobbered by the call either way, so nothing relies on it.
    pub fn call_libc(&mut self, b: &mut FunctionBuilder, call: ir::LibCall, args: &[Value]) {
        let f = match self.libc.get(&call) {
            Some(f) => *f,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                let params = args.iter().map(|a| b.func.dfg.value_type(*a));
                sig.params.extend(params.map(AbiParam::new));
                let signature = b.import_signature(sig);
                let f = b.import_function(ExtFuncData {
                    name: ExternalName::LibCall(call),
                    signature,
                    colocated: false,
                    patchable: false,
                });
                *self.libc.entry(call).or_insert(f)
            }
        };
        b.ins().call(f, args);
    }

    /// Calls a libcall with the vmctx prepended; returns its result, if any.
    pub fn call_libcall(
        &mut self,
        b: &mut FunctionBuilder,
        call: Libcall,
        args: &[Value],
    ) -> Option<Value> {
        let f = self.libcall(b.func, call);
        let vmctx = self.vmctx(b);
        let mut all = vec![vmctx];
        all.extend_from_slice(args);
        let inst = b.ins().call(f, &all);
        b.inst_results(inst).first().copied()
    }

    /// The callee vmctx and code address of function `index` through its funcref.
    pub fn imported_callee(&mut self, b: &mut FunctionBuilder, index: u32) -> (Value, Value) {
        let funcref = self.load_vmctx_ptr(b, self.offsets.func(index));
        let code = b
            .ins()
            .load(types::I64, readonly(), funcref, off::FUNCREF_CODE);
        let vmctx = b
            .ins()
            .load(types::I64, readonly(), funcref, off::FUNCREF_VMCTX);
        (vmctx, code)
    }
}
