//! Differential fuzzing: the `wasmi` interpreter as a backend (the oracle for the proposals
//! it implements).

use super::Backend;
use crate::value::{fnv1a, Outcome, RefValue, Snapshot, TrapKind, Value};

/// The `wasmi` interpreter.
pub struct Wasmi {
    engine: wasmi::Engine,
    module: Option<wasmi::Module>,
    live: Option<(wasmi::Store<()>, wasmi::Instance)>,
}

impl Wasmi {
    /// An interpreter accepting `features` (as far as wasmi implements them).
    pub fn new(features: &crate::features::Features) -> Wasmi {
        let mut config = wasmi::Config::default();
        config
            .wasm_simd(features.has(crate::features::Proposal::Simd))
            .wasm_relaxed_simd(features.has(crate::features::Proposal::RelaxedSimd))
            .wasm_memory64(features.has(crate::features::Proposal::Memory64))
            .wasm_multi_memory(features.has(crate::features::Proposal::MultiMemory))
            .wasm_tail_call(features.has(crate::features::Proposal::TailCall))
            .wasm_extended_const(features.has(crate::features::Proposal::ExtendedConst))
            .wasm_wide_arithmetic(features.has(crate::features::Proposal::WideArithmetic))
            .wasm_custom_page_sizes(features.has(crate::features::Proposal::CustomPageSizes))
            // The module's own fuel global bounds recursion; leave room for it.
            .set_max_recursion_depth(100_000)
            // Translate every function in `Module::new`, so that a panic of wasmi's own
            // translator (wasmi 2.0.0 has one: `OperandStack::push_temp` on some `else`)
            // happens in `compile`, where it is caught as an oracle failure.
            .compilation_mode(wasmi::CompilationMode::Eager);
        Wasmi {
            engine: wasmi::Engine::new(&config),
            module: None,
            live: None,
        }
    }
}

/// wasmi's trap codes in the shared categories.
fn wasmi_trap_kind(code: wasmi::TrapCode) -> TrapKind {
    use wasmi::TrapCode as C;
    match code {
        C::UnreachableCodeReached => TrapKind::Unreachable,
        C::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        C::TableOutOfBounds => TrapKind::TableOutOfBounds,
        C::IndirectCallToNull => TrapKind::IndirectCallToNull,
        C::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        C::IntegerOverflow => TrapKind::IntegerOverflow,
        C::BadConversionToInteger => TrapKind::BadConversionToInteger,
        C::StackOverflow | C::OutOfSystemMemory => TrapKind::StackOverflow,
        C::BadSignature => TrapKind::BadSignature,
        C::OutOfFuel | C::GrowthOperationLimited => TrapKind::Other,
    }
}

fn wasmi_error(e: wasmi::Error) -> Outcome {
    use wasmi::errors::{ErrorKind, InstantiationError, MemoryError, TableError};
    if let Some(code) = e.as_trap_code() {
        return Outcome::Trap {
            kind: wasmi_trap_kind(code),
            detail: format!("{code:?}"),
        };
    }
    // Instantiation reports segments that do not fit as errors, not traps.
    let kind = match e.kind() {
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. })
        | ErrorKind::Table(
            TableError::InitOutOfBounds | TableError::SetOutOfBounds | TableError::CopyOutOfBounds,
        ) => TrapKind::TableOutOfBounds,
        ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => TrapKind::MemoryOutOfBounds,
        ErrorKind::Memory(MemoryError::OutOfSystemMemory)
        | ErrorKind::Table(TableError::OutOfSystemMemory) => TrapKind::StackOverflow,
        _ => return Outcome::Error(e.to_string()),
    };
    Outcome::Trap {
        kind,
        detail: e.to_string(),
    }
}

fn wasmi_value(store: &wasmi::Store<()>, v: &wasmi::Val) -> Value {
    use wasmi::{Nullable, Val};
    match v {
        Val::I32(x) => Value::I32(*x as u32),
        Val::I64(x) => Value::I64(*x as u64),
        Val::F32(x) => Value::F32(x.to_bits()),
        Val::F64(x) => Value::F64(x.to_bits()),
        Val::V128(x) => Value::V128(x.as_u128()),
        Val::FuncRef(Nullable::Null) | Val::ExternRef(Nullable::Null) => Value::Ref(RefValue::Null),
        Val::FuncRef(Nullable::Val(_)) => Value::Ref(RefValue::Func),
        Val::ExternRef(Nullable::Val(e)) => Value::Ref(
            e.data(store)
                .downcast_ref::<u32>()
                .map_or(RefValue::Other, |n| RefValue::Extern(*n)),
        ),
    }
}

fn to_wasmi_val(store: &mut wasmi::Store<()>, v: &Value, ty: &wasmi::ValType) -> wasmi::Val {
    use wasmi::{Nullable, Val};
    match *v {
        Value::I32(x) => Val::I32(x as i32),
        Value::I64(x) => Val::I64(x as i64),
        Value::F32(x) => Val::F32(wasmi::F32::from_bits(x)),
        Value::F64(x) => Val::F64(wasmi::F64::from_bits(x)),
        Value::V128(x) => Val::V128(wasmi::V128::from(x)),
        Value::Ref(RefValue::Extern(n)) => {
            Val::ExternRef(Nullable::Val(wasmi::ExternRef::new(&mut *store, n)))
        }
        Value::Ref(_) => Val::default_for_ty(*ty),
    }
}

impl Backend for Wasmi {
    fn name(&self) -> String {
        "wasmi".to_string()
    }
    fn is_ours(&self) -> bool {
        false
    }
    fn compile(&mut self, wasm: &[u8]) -> Result<(), String> {
        // A panic inside the oracle is the oracle's bug, not a crash of ours: the module is
        // counted as an oracle compile failure and not compared.
        let module = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wasmi::Module::new(&self.engine, wasm)
        }))
        .map_err(|_| "wasmi panicked while translating the module".to_string())?;
        self.module = Some(module.map_err(|e| e.to_string())?);
        Ok(())
    }
    fn instantiate(&mut self) -> Outcome {
        self.live = None;
        let Some(module) = &self.module else {
            return Outcome::Error("not compiled".into());
        };
        let mut store = wasmi::Store::new(&self.engine, ());
        match wasmi::Instance::new(&mut store, module, &[]) {
            Ok(instance) => {
                self.live = Some((store, instance));
                Outcome::Values(Vec::new())
            }
            Err(e) => wasmi_error(e),
        }
    }
    fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let Some((store, instance)) = &mut self.live else {
            return Outcome::Error("no instance".into());
        };
        let Some(func) = instance.get_func(&*store, name) else {
            return Outcome::Error(format!("no function export \"{name}\""));
        };
        let ty = func.ty(&*store);
        let params: Vec<wasmi::Val> = args
            .iter()
            .zip(ty.params())
            .map(|(v, t)| to_wasmi_val(store, v, t))
            .collect();
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        match func.call(&mut *store, &params, &mut results) {
            Ok(()) => Outcome::Values(results.iter().map(|v| wasmi_value(store, v)).collect()),
            Err(e) => wasmi_error(e),
        }
    }
    fn snapshot(&mut self) -> Snapshot {
        let mut snap = Snapshot::default();
        let Some((store, instance)) = &self.live else {
            return snap;
        };
        let exports: Vec<(String, wasmi::Extern)> = instance
            .exports(store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (name, ext) in exports {
            match ext {
                wasmi::Extern::Global(g) => {
                    let v = g.get(store);
                    snap.globals.push((name, wasmi_value(store, &v)));
                }
                wasmi::Extern::Memory(m) => {
                    let data = m.data(store);
                    snap.memories.push((name, data.len() as u64, fnv1a(data)));
                }
                wasmi::Extern::Table(t) => {
                    let elems = (0..t.size(store))
                        .map(|i| match t.get(store, i) {
                            Some(wasmi::Ref::Func(f)) if f.is_null() => RefValue::Null,
                            Some(wasmi::Ref::Func(_)) => RefValue::Func,
                            Some(wasmi::Ref::Extern(e)) => match e.val() {
                                None => RefValue::Null,
                                Some(e) => e
                                    .data(&*store)
                                    .downcast_ref::<u32>()
                                    .map_or(RefValue::Other, |n| RefValue::Extern(*n)),
                            },
                            None => RefValue::Other,
                        })
                        .collect();
                    snap.tables.push((name, elems));
                }
                wasmi::Extern::Func(_) => {}
            }
        }
        snap.sorted()
    }
}
