//! Differential fuzzing: our runtime as a backend, in any engine configuration.

use super::Backend;
use crate::value::{fnv1a, Outcome, RefValue, Snapshot, TrapKind, Value};

/// Our runtime with one engine configuration.
pub struct Ours {
    label: String,
    engine: runtime::Engine,
    module: Option<runtime::Module>,
    live: Option<(runtime::Store<()>, runtime::Instance)>,
}

impl Ours {
    /// Our runtime accepting `features`; `explicit_bounds` and `opt` select the variant. The
    /// explicit-bounds variant also collects garbage before every allocation (and makes the
    /// space it left inaccessible), so a reference the collector misses shows as a crash or
    /// a disagreement.
    pub fn new(
        features: wasmparser::WasmFeatures,
        explicit_bounds: bool,
        opt: runtime::OptLevel,
    ) -> Result<Ours, String> {
        let mut config = runtime::Config::new();
        config
            .wasm_features(features)
            .explicit_bounds_checks(explicit_bounds)
            .cranelift_opt_level(opt)
            .gc_zeal_alloc_counter(explicit_bounds.then_some(1));
        let engine = runtime::Engine::new(&config).map_err(|e| e.to_string())?;
        let label = if explicit_bounds || opt != runtime::OptLevel::Speed {
            format!(
                "ours({},opt={opt:?})",
                if explicit_bounds {
                    "explicit-bounds,gc-zeal"
                } else {
                    "guard-pages"
                }
            )
        } else {
            "ours".to_string()
        };
        Ok(Ours {
            label,
            engine,
            module: None,
            live: None,
        })
    }
}

/// Our trap codes in the shared categories.
pub fn our_trap_kind(code: runtime::TrapCode) -> TrapKind {
    use runtime::TrapCode as C;
    match code {
        C::StackOverflow => TrapKind::StackOverflow,
        C::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        C::TableOutOfBounds | C::UndefinedElement => TrapKind::TableOutOfBounds,
        C::UninitializedElement => TrapKind::IndirectCallToNull,
        C::BadSignature => TrapKind::BadSignature,
        C::IntegerOverflow => TrapKind::IntegerOverflow,
        C::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        C::BadConversionToInteger => TrapKind::BadConversionToInteger,
        C::UnreachableCodeReached => TrapKind::Unreachable,
        C::NullFunctionReference => TrapKind::NullFunctionReference,
        C::NullReference
        | C::NullStructReference
        | C::NullArrayReference
        | C::NullI31Reference
        | C::NullDescriptorReference
        | C::NullExceptionReference
        | C::NullContinuationReference => TrapKind::NullReference,
        C::CastFailure | C::DescriptorCastFailure => TrapKind::CastFailure,
        C::ArrayOutOfBounds => TrapKind::ArrayOutOfBounds,
        C::AllocationTooLarge | C::GcHeapOutOfMemory => TrapKind::AllocationTooLarge,
        C::UncaughtException => TrapKind::UncaughtException,
        C::UnalignedAtomic => TrapKind::UnalignedAtomic,
        C::ExpectedSharedMemory => TrapKind::ExpectedSharedMemory,
        // Stack switching is not generated (wasm-smith and wasmi lack it); resource exhaustion.
        C::ContinuationAlreadyConsumed | C::UnhandledTag | C::ContinuationStackAllocation => {
            TrapKind::Other
        }
        C::Host | C::Exit | C::OutOfFuel | C::Interrupt => TrapKind::Other,
    }
}

fn our_outcome(r: runtime::Result<Vec<Value>>) -> Outcome {
    match r {
        Ok(values) => Outcome::Values(values),
        Err(runtime::Error::Trap(t)) => Outcome::Trap {
            kind: our_trap_kind(t.code()),
            detail: t.code().message().to_string(),
        },
        Err(e) => Outcome::Error(e.to_string()),
    }
}

fn our_value(v: &runtime::Val) -> Value {
    use runtime::{AnyRefKind, Val};
    match *v {
        Val::I32(x) => Value::I32(x as u32),
        Val::I64(x) => Value::I64(x as u64),
        Val::F32(x) => Value::F32(x),
        Val::F64(x) => Value::F64(x),
        Val::V128(x) => Value::V128(x),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::NullRef(_) => Value::Ref(RefValue::Null),
        Val::FuncRef(Some(_)) => Value::Ref(RefValue::Func),
        Val::ExternRef(Some(n)) => Value::Ref(RefValue::Extern(n)),
        Val::AnyRef(a) => Value::Ref(match a.kind() {
            AnyRefKind::I31 => RefValue::I31(a.i31_get_u().unwrap_or(0)),
            AnyRefKind::Struct => RefValue::Struct,
            AnyRefKind::Array => RefValue::Array,
            AnyRefKind::Host => RefValue::Other,
        }),
        Val::ExternAny(_) | Val::ContRef(_) => Value::Ref(RefValue::Other),
    }
}

fn to_our_val(v: &Value, ty: runtime::ValType) -> runtime::Val {
    use runtime::Val;
    match *v {
        Value::I32(x) => Val::I32(x as i32),
        Value::I64(x) => Val::I64(x as i64),
        Value::F32(x) => Val::F32(x),
        Value::F64(x) => Val::F64(x),
        Value::V128(x) => Val::V128(x),
        Value::Ref(RefValue::Extern(n)) => Val::ExternRef(Some(n)),
        Value::Ref(_) => Val::default_for(ty),
    }
}

impl Backend for Ours {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn is_ours(&self) -> bool {
        true
    }
    fn compile(&mut self, wasm: &[u8]) -> Result<(), String> {
        let module = runtime::Module::from_binary(&self.engine, wasm).map_err(|e| match e {
            runtime::Error::Unsupported(what) => format!("unsupported: {what}"),
            other => other.to_string(),
        })?;
        self.module = Some(module);
        Ok(())
    }
    fn instantiate(&mut self) -> Outcome {
        self.live = None;
        let Some(module) = &self.module else {
            return Outcome::Error("not compiled".into());
        };
        let mut store = runtime::Store::new(&self.engine, ());
        match runtime::Instance::new(&mut store, module, &[]) {
            Ok(instance) => {
                self.live = Some((store, instance));
                Outcome::Values(Vec::new())
            }
            Err(e) => our_outcome(Err(e)),
        }
    }
    fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let Some((store, instance)) = &mut self.live else {
            return Outcome::Error("no instance".into());
        };
        let Some(func) = instance.get_func(&mut *store, name) else {
            return Outcome::Error(format!("no function export \"{name}\""));
        };
        let ty = func.ty(&*store);
        let params: Vec<runtime::Val> = args
            .iter()
            .zip(ty.params())
            .map(|(v, t)| to_our_val(v, *t))
            .collect();
        let mut results: Vec<runtime::Val> = ty
            .results()
            .iter()
            .map(|t| runtime::Val::default_for(*t))
            .collect();
        let r = func.call(store, &params, &mut results);
        our_outcome(r.map(|()| results.iter().map(our_value).collect()))
    }
    fn snapshot(&mut self) -> Snapshot {
        let mut snap = Snapshot::default();
        let Some((store, instance)) = &self.live else {
            return snap;
        };
        for (name, ext) in instance.exports(store) {
            match ext {
                runtime::Extern::Global(g) => snap.globals.push((name, our_value(&g.get(store)))),
                runtime::Extern::Memory(m) => {
                    let data = m.data(store);
                    snap.memories.push((name, data.len() as u64, fnv1a(data)));
                }
                runtime::Extern::SharedMemory(m) => {
                    let mut data = vec![0; m.data_size()];
                    m.read(0, &mut data).expect("the whole memory is in bounds");
                    snap.memories.push((name, data.len() as u64, fnv1a(&data)));
                }
                runtime::Extern::Table(t) => {
                    let elems = (0..t.size(store))
                        .map(|i| match t.get(store, i).map(|v| our_value(&v)) {
                            Some(Value::Ref(r)) => r,
                            _ => RefValue::Other,
                        })
                        .collect();
                    snap.tables.push((name, elems));
                }
                runtime::Extern::Func(_) | runtime::Extern::Tag(_) => {}
            }
        }
        snap.sorted()
    }
}
