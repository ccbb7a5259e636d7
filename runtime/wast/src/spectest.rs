//! Script runner: the `spectest` host module, as the spec's reference interpreter defines it.

use runtime_engine::{
    Extern, FuncType, Global, GlobalType, Linker, Memory, MemoryType, RefType, SharedMemory, Store,
    Table, TableType, Val, ValType,
};

/// Defines `spectest` in `linker`. Items the runtime cannot create are left out (imports of them
/// then fail to link); the returned list says which and why.
pub(crate) fn define(store: &mut Store<()>, linker: &mut Linker<()>, print: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut add = |store: &Store<()>,
                   linker: &mut Linker<()>,
                   name: &str,
                   item: runtime_engine::Result<Extern>| {
        if let Err(e) =
            item.and_then(|item| linker.define(store, "spectest", name, item).map(|_| ()))
        {
            problems.push(format!("spectest.{name}: {e}"));
        }
    };

    let global = |store: &mut Store<()>, content: ValType, val: Val| {
        Global::new(
            &mut *store,
            GlobalType {
                content,
                mutable: false,
            },
            val,
        )
        .map(Extern::Global)
    };
    let item = global(store, ValType::I32, Val::I32(666));
    add(store, linker, "global_i32", item);
    let item = global(store, ValType::I64, Val::I64(666));
    add(store, linker, "global_i64", item);
    let item = global(store, ValType::F32, Val::from(666.6f32));
    add(store, linker, "global_f32", item);
    let item = global(store, ValType::F64, Val::from(666.6f64));
    add(store, linker, "global_f64", item);

    let table = TableType::new(RefType::FUNCREF, 10, Some(20));
    let item = Table::new(&mut *store, table, Val::FuncRef(None)).map(Extern::Table);
    add(store, linker, "table", item);
    let table64 = TableType {
        table64: true,
        ..table
    };
    let item = Table::new(&mut *store, table64, Val::FuncRef(None)).map(Extern::Table);
    add(store, linker, "table64", item);

    let memory = MemoryType::new(1, Some(2));
    let item = Memory::new(&mut *store, memory).map(Extern::Memory);
    add(store, linker, "memory", item);
    let shared = MemoryType {
        shared: true,
        ..memory
    };
    let item = SharedMemory::new(store.engine(), shared).map(Extern::SharedMemory);
    add(store, linker, "shared_memory", item);

    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        let defined = linker.func_new("spectest", name, ty, move |_caller, args, _results| {
            if print {
                for arg in args {
                    println!("{arg} : {}", type_name(arg));
                }
            }
            Ok(())
        });
        if let Err(e) = defined {
            problems.push(format!("spectest.{name}: {e}"));
        }
    }
    problems
}

fn type_name(v: &Val) -> &'static str {
    match v {
        Val::I32(_) => "i32",
        Val::I64(_) => "i64",
        Val::F32(_) => "f32",
        Val::F64(_) => "f64",
        Val::V128(_) => "v128",
        Val::FuncRef(_) => "funcref",
        Val::ExternRef(_) => "externref",
        Val::NullRef(_) => "ref",
        Val::AnyRef(_) => "anyref",
        Val::ExternAny(_) => "externref",
        Val::ContRef(_) => "contref",
    }
}
