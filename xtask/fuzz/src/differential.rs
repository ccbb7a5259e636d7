//! Differential fuzzing: one module under our runtime and its oracles, round by round, with
//! every result and the exported state compared after each step.

use crate::backend::Backend;
use crate::generate::Rng;
use crate::value::{Outcome, ParamType, RefValue, Value};

/// Steps (instantiations and calls) taken in this process so far: a worker's heartbeat, so
/// that a slow module (one filling gigabyte arrays) is not taken for a hang.
pub static STEPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn step() {
    STEPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Counts over a run (added up across modules).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Modules generated.
    pub modules: u64,
    /// Modules our runtime declined as unsupported, or skipped (atomic waits).
    pub skipped: u64,
    /// Modules an oracle could not compile (that oracle sat them out).
    pub oracle_skipped: u64,
    /// Instantiations (per backend).
    pub instantiations: u64,
    /// Calls of exported functions (per backend).
    pub calls: u64,
    /// Outcome comparisons between our runtime and an oracle (an instantiation or a call,
    /// with the exported state afterwards).
    pub comparisons: u64,
    /// Rounds cut short because one backend ran out of stack or GC memory and the other did
    /// not (allowed anywhere by the spec).
    pub exhausted: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.modules += o.modules;
        self.skipped += o.skipped;
        self.oracle_skipped += o.oracle_skipped;
        self.instantiations += o.instantiations;
        self.calls += o.calls;
        self.comparisons += o.comparisons;
        self.exhausted += o.exhausted;
    }
}

/// One step of a round, with the outcome the oracle gave (the reproducer's expectation).
#[derive(Clone, Debug)]
pub enum Step {
    Instantiate(Outcome),
    Call {
        name: String,
        args: Vec<Value>,
        outcome: Outcome,
    },
}

/// Our runtime and an oracle disagreeing.
#[derive(Clone, Debug)]
pub struct Disagreement {
    pub oracle: String,
    /// What disagreed, in a sentence.
    pub summary: String,
    /// The steps of the round up to and including the one that disagreed, with the oracle's
    /// outcomes (what our runtime should have done).
    pub steps: Vec<Step>,
    /// Exported globals after the last step, as the oracle has them.
    pub globals: Vec<(String, Value)>,
}

/// An exported function and the types of its parameters.
#[derive(Clone, Debug)]
pub struct ExportFunc {
    pub name: String,
    pub params: Vec<ParamType>,
}

/// The exported functions of a module, in export order (read with wasmparser, so the list
/// does not depend on any backend).
pub fn exported_funcs(wasm: &[u8]) -> Result<Vec<ExportFunc>, String> {
    use wasmparser::{CompositeInnerType, ExternalKind, Parser, Payload, TypeRef};
    let mut types: Vec<Option<Vec<ParamType>>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(|e| e.to_string())?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => {
                                Some(f.params().iter().map(|t| param_type(*t)).collect())
                            }
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Func(t) = import.map_err(|e| e.to_string())?.ty {
                        funcs.push(t);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    funcs.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    if export.kind != ExternalKind::Func {
                        continue;
                    }
                    let ty = funcs
                        .get(export.index as usize)
                        .and_then(|t| types.get(*t as usize).cloned().flatten())
                        .ok_or_else(|| {
                            format!("export \"{}\" has no function type", export.name)
                        })?;
                    out.push(ExportFunc {
                        name: export.name.to_string(),
                        params: ty,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn param_type(t: wasmparser::ValType) -> ParamType {
    use wasmparser::{AbstractHeapType, HeapType, ValType};
    match t {
        ValType::I32 => ParamType::I32,
        ValType::I64 => ParamType::I64,
        ValType::F32 => ParamType::F32,
        ValType::F64 => ParamType::F64,
        ValType::V128 => ParamType::V128,
        ValType::Ref(r) if !r.is_nullable() => ParamType::NonNullRef,
        ValType::Ref(r) => match r.heap_type() {
            HeapType::Abstract {
                ty: AbstractHeapType::Extern,
                shared: false,
            } => ParamType::ExternRef,
            _ => ParamType::NullableRef,
        },
    }
}

/// Arguments for one call: round 0 passes zeros, round 1 small numbers, later rounds edge
/// cases and random bits.
pub fn arguments(params: &[ParamType], round: usize, rng: &mut Rng) -> Vec<Value> {
    const EDGES32: [u32; 8] = [0, 1, 2, u32::MAX, 0x8000_0000, 0x7fff_ffff, 16, 65536];
    const EDGES64: [u64; 8] = [0, 1, 2, u64::MAX, 1 << 63, (1 << 63) - 1, 1 << 32, 65536];
    let int32 = |rng: &mut Rng| match round {
        0 => 0,
        1 => rng.below(8) as u32,
        _ if rng.below(2) == 0 => EDGES32[rng.below(8) as usize],
        _ => rng.next_u64() as u32,
    };
    params
        .iter()
        .map(|p| match p {
            ParamType::I32 => Value::I32(int32(rng)),
            ParamType::I64 => Value::I64(match round {
                0 => 0,
                1 => rng.below(8),
                _ if rng.below(2) == 0 => EDGES64[rng.below(8) as usize],
                _ => rng.next_u64(),
            }),
            ParamType::F32 => Value::F32(match round {
                0 => 0,
                1 => (rng.below(8) as f32).to_bits(),
                _ => rng.next_u64() as u32,
            }),
            ParamType::F64 => Value::F64(match round {
                0 => 0,
                1 => (rng.below(8) as f64).to_bits(),
                _ => rng.next_u64(),
            }),
            ParamType::V128 => Value::V128(match round {
                0 => 0,
                _ => (rng.next_u64() as u128) << 64 | rng.next_u64() as u128,
            }),
            ParamType::ExternRef if round % 2 == 1 => Value::Ref(RefValue::Extern(round as u32)),
            ParamType::ExternRef | ParamType::NullableRef | ParamType::NonNullRef => {
                Value::Ref(RefValue::Null)
            }
        })
        .collect()
}

/// Runs `wasm` under `ours` and each of `oracles` for `rounds` rounds; `rng` picks the
/// arguments. Returns the counts, or the first disagreement.
pub fn run_module(
    wasm: &[u8],
    ours: &mut dyn Backend,
    oracles: &mut [Box<dyn Backend>],
    rounds: usize,
    rng: &mut Rng,
    stats: &mut Stats,
) -> Result<(), Disagreement> {
    stats.modules += 1;
    let disagree = |oracle: &str, summary: String| Disagreement {
        oracle: oracle.to_string(),
        summary,
        steps: Vec::new(),
        globals: Vec::new(),
    };
    let exports = match exported_funcs(wasm) {
        Ok(e) => e,
        Err(e) => {
            return Err(disagree(
                "wasmparser",
                format!("cannot read the exports: {e}"),
            ))
        }
    };
    if let Err(e) = ours.compile(wasm) {
        if e.starts_with("unsupported") {
            stats.skipped += 1;
            return Ok(());
        }
        return Err(disagree(
            "wasm-smith",
            format!("our runtime rejected a valid module: {e}"),
        ));
    }
    let mut live: Vec<&mut Box<dyn Backend>> = Vec::new();
    for oracle in oracles.iter_mut() {
        match oracle.compile(wasm) {
            Ok(()) => live.push(oracle),
            Err(e) if oracle.is_ours() => {
                return Err(disagree(
                    &oracle.name(),
                    format!(
                        "compiled by our runtime, rejected by {}: {e}",
                        oracle.name()
                    ),
                ))
            }
            Err(_) => stats.oracle_skipped += 1,
        }
    }
    for round in 0..rounds {
        let args: Vec<Vec<Value>> = exports
            .iter()
            .map(|f| arguments(&f.params, round, rng))
            .collect();
        for oracle in live.iter_mut() {
            let outcome = run_round(ours, &mut ***oracle, &exports, &args, stats)?;
            if outcome == RoundEnd::InstantiationTrapped {
                // Every round would trap the same way.
                return Ok(());
            }
        }
    }
    Ok(())
}

/// How a round ended.
#[derive(PartialEq, Eq)]
enum RoundEnd {
    Completed,
    InstantiationTrapped,
    Exhausted,
}

/// One round against one oracle: instantiate, then call every export.
fn run_round(
    ours: &mut dyn Backend,
    oracle: &mut dyn Backend,
    exports: &[ExportFunc],
    args: &[Vec<Value>],
    stats: &mut Stats,
) -> Result<RoundEnd, Disagreement> {
    let exact = oracle.is_ours();
    let mut steps = Vec::new();
    let mine = ours.instantiate();
    step();
    let theirs = oracle.instantiate();
    step();
    stats.instantiations += 2;
    stats.comparisons += 1;
    steps.push(Step::Instantiate(theirs.clone()));
    if inconclusive(&mine, &theirs, exact) {
        stats.exhausted += 1;
        return Ok(RoundEnd::Exhausted);
    }
    compare(ours, oracle, &mine, &theirs, exact, "instantiation", &steps)?;
    if !matches!(mine, Outcome::Values(_)) {
        return Ok(RoundEnd::InstantiationTrapped);
    }
    for (f, args) in exports.iter().zip(args) {
        if f.params.contains(&ParamType::NonNullRef) {
            continue;
        }
        let mine = ours.call(&f.name, args);
        step();
        let theirs = oracle.call(&f.name, args);
        step();
        stats.calls += 2;
        stats.comparisons += 1;
        steps.push(Step::Call {
            name: f.name.clone(),
            args: args.clone(),
            outcome: theirs.clone(),
        });
        if inconclusive(&mine, &theirs, exact) {
            stats.exhausted += 1;
            return Ok(RoundEnd::Exhausted);
        }
        let what = format!("call \"{}\" with {args:?}", f.name);
        compare(ours, oracle, &mine, &theirs, exact, &what, &steps)?;
    }
    Ok(RoundEnd::Completed)
}

/// Whether a step ran into resource exhaustion so that nothing more can be compared: a
/// stack overflow on either side (where it happens depends on frame sizes, and so does the
/// state it leaves), or an allocation that failed on one side only.
fn inconclusive(mine: &Outcome, theirs: &Outcome, exact: bool) -> bool {
    use crate::value::TrapKind;
    let overflow = |o: &Outcome| {
        matches!(
            o,
            Outcome::Trap {
                kind: TrapKind::StackOverflow,
                ..
            }
        )
    };
    overflow(mine)
        || overflow(theirs)
        || ((mine.is_exhaustion() || theirs.is_exhaustion()) && !mine.agrees(theirs, exact))
}

/// Compares two outcomes and then the exported state.
fn compare(
    ours: &mut dyn Backend,
    oracle: &mut dyn Backend,
    mine: &Outcome,
    theirs: &Outcome,
    exact: bool,
    what: &str,
    steps: &[Step],
) -> Result<(), Disagreement> {
    let theirs_state = oracle.snapshot();
    let fail = |summary: String| Disagreement {
        oracle: oracle.name(),
        summary,
        steps: steps.to_vec(),
        globals: theirs_state.globals.clone(),
    };
    if !mine.agrees(theirs, exact) {
        return Err(fail(format!(
            "{what}: ours gave {mine}, {} gave {theirs}",
            oracle.name()
        )));
    }
    let mine_state = ours.snapshot();
    if let Some(d) = mine_state.difference(&theirs_state) {
        return Err(fail(format!(
            "after {what}: {d} (ours vs {})",
            oracle.name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_listed_with_their_parameters() {
        let wasm = wasmparser_free_module();
        let funcs = exported_funcs(&wasm).unwrap();
        assert_eq!(funcs.len(), 1);
        assert_eq!(funcs[0].name, "f");
        assert_eq!(funcs[0].params, [ParamType::I32, ParamType::ExternRef]);
    }

    /// `(module (func (export "f") (param i32 externref)))`, encoded by hand.
    fn wasmparser_free_module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 6, 1, 0x60, 2, 0x7f, 0x6f, 0]); // types
        m.extend([3, 2, 1, 0]); // functions
        m.extend([7, 5, 1, 1, b'f', 0, 0]); // exports
        m.extend([10, 4, 1, 2, 0, 0x0b]); // code
        m
    }
}

#[cfg(test)]
mod agreement_tests {
    use super::*;
    use crate::features::Features;
    use crate::targets;
    use crate::value::Snapshot;

    /// Our runtime, but every `i32` result off by one: the fuzzer must notice.
    struct OffByOne(crate::backend::Ours);

    impl Backend for OffByOne {
        fn name(&self) -> String {
            "off-by-one".into()
        }
        fn is_ours(&self) -> bool {
            true
        }
        fn compile(&mut self, wasm: &[u8]) -> Result<(), String> {
            self.0.compile(wasm)
        }
        fn instantiate(&mut self) -> Outcome {
            self.0.instantiate()
        }
        fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
            match self.0.call(name, args) {
                Outcome::Values(v) => Outcome::Values(
                    v.into_iter()
                        .map(|x| match x {
                            Value::I32(n) => Value::I32(n.wrapping_add(1)),
                            other => other,
                        })
                        .collect(),
                ),
                other => other,
            }
        }
        fn snapshot(&mut self) -> Snapshot {
            self.0.snapshot()
        }
    }

    const ADD: &str = r#"(module (global (export "g") (mut i32) (i32.const 0))
        (func (export "add") (param i32 i32) (result i32)
          (global.set 0 (i32.add (global.get 0) (i32.const 1)))
          (i32.add (local.get 0) (local.get 1))))"#;

    #[test]
    fn generated_modules_agree_with_the_oracles() {
        for set in ["wasmi", "gc"] {
            let features = Features::parse(set).unwrap();
            let mut stats = Stats::default();
            for index in 0..15 {
                let wasm = crate::generate::generate(&features, 42, index).unwrap();
                let mut ours = targets::ours(&features).unwrap();
                let mut oracles = targets::oracles(&features).unwrap();
                let mut rng = Rng::new(index);
                if let Err(d) = run_module(&wasm, &mut ours, &mut oracles, 2, &mut rng, &mut stats)
                {
                    panic!("{set} module {index}: {}", d.summary);
                }
            }
            assert_eq!(stats.modules, 15);
            assert!(stats.comparisons > 15, "{stats:?}");
        }
    }

    /// The binary of the module text `text`.
    fn wat(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let mut module: wast::Wat = wast::parser::parse(&buf).unwrap();
        module.encode().unwrap()
    }

    #[test]
    fn a_wrong_result_is_a_disagreement_with_a_reproducer() {
        let wasm = wat(ADD);
        let features = Features::parse("base").unwrap();
        let mut ours = targets::ours(&features).unwrap();
        let wrong = OffByOne(targets::ours(&features).unwrap());
        let mut oracles: Vec<Box<dyn Backend>> = vec![Box::new(wrong)];
        let mut stats = Stats::default();
        let d = run_module(
            &wasm,
            &mut ours,
            &mut oracles,
            2,
            &mut Rng::new(1),
            &mut stats,
        )
        .unwrap_err();
        assert!(d.summary.contains("call \"add\""), "{}", d.summary);
        let script =
            crate::repro::script(&wasm, &crate::repro::header_of(&d), &[d.steps], &d.globals);
        assert!(script.contains("(assert_return (invoke \"\\61\\64\\64\" (i32.const 0) (i32.const 0)) (i32.const 1))"), "{script}");
        assert!(script.contains("(get \"\\67\" ) (i32.const 1)"), "{script}");
        // The script runs, and fails exactly where the (wrong) oracle disagreed.
        let results = runtime::wast::run_script(&script, &Default::default(), &mut |_| {});
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| !r.outcome.is_pass())
            .map(|r| r.kind)
            .collect();
        assert_eq!(failed, ["assert_return"], "{results:?}");
    }

    #[test]
    fn oracles_agree_on_a_known_module() {
        let wasm = wat(ADD);
        let features = Features::parse("wasmi").unwrap();
        let mut ours = targets::ours(&features).unwrap();
        let mut oracles = targets::oracles(&features).unwrap();
        assert_eq!(oracles.len(), 2, "wasmi and our other configuration");
        let mut stats = Stats::default();
        run_module(
            &wasm,
            &mut ours,
            &mut oracles,
            3,
            &mut Rng::new(1),
            &mut stats,
        )
        .unwrap();
        assert_eq!(stats.comparisons, 3 * 2 * 2, "{stats:?}");
    }
}
