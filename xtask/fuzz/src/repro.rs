//! Differential fuzzing: reproducers. A case is saved as `NAME.wasm` and `NAME.wast`; the
//! script instantiates the module and replays the round that went wrong, expecting what the
//! oracle did, so `runtime wast NAME.wast` fails until our runtime is fixed.

use crate::differential::{Disagreement, Step};
use crate::value::{Outcome, RefValue, TrapKind, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Writes `dir/stem.wasm` and `dir/stem.wast`; `header` lines become comments.
pub fn save(
    dir: &Path,
    stem: &str,
    wasm: &[u8],
    header: &[String],
    steps: &[Vec<Step>],
    globals: &[(String, Value)],
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let wasm_path = dir.join(format!("{stem}.wasm"));
    let wast_path = dir.join(format!("{stem}.wast"));
    std::fs::write(&wasm_path, wasm)?;
    std::fs::write(&wast_path, script(wasm, header, steps, globals))?;
    Ok((wasm_path, wast_path))
}

/// The header of a disagreement's reproducer.
pub fn header_of(d: &Disagreement) -> Vec<String> {
    vec![
        format!("oracle: {}", d.oracle),
        format!("disagreement: {}", d.summary),
    ]
}

/// The `.wast` text: each round is a fresh instance of the module and its calls.
pub fn script(
    wasm: &[u8],
    header: &[String],
    rounds: &[Vec<Step>],
    globals: &[(String, Value)],
) -> String {
    let mut out = String::new();
    for line in header {
        for l in line.lines() {
            let _ = writeln!(out, ";; {l}");
        }
    }
    let module = module_text(wasm);
    if rounds.is_empty() {
        let _ = writeln!(out, "{module}");
    }
    for steps in rounds {
        for step in steps {
            match step {
                Step::Instantiate(Outcome::Values(_)) => {
                    let _ = writeln!(out, "{module}");
                }
                Step::Instantiate(Outcome::Trap { kind, detail }) => {
                    let _ = writeln!(
                        out,
                        "(assert_trap {module}\n  \"{}\")",
                        trap_message(*kind, detail)
                    );
                }
                Step::Instantiate(Outcome::Error(e)) => {
                    let _ = writeln!(out, ";; the oracle could not instantiate: {e}\n{module}");
                }
                Step::Call {
                    name,
                    args,
                    outcome,
                } => {
                    let invoke = format!(
                        "(invoke {} {})",
                        string_literal(name.as_bytes()),
                        args.iter().map(arg_text).collect::<Vec<_>>().join(" ")
                    );
                    let _ = match outcome {
                        Outcome::Values(values) => writeln!(
                            out,
                            "(assert_return {invoke} {})",
                            values.iter().map(result_text).collect::<Vec<_>>().join(" ")
                        ),
                        Outcome::Trap { kind, detail } => writeln!(
                            out,
                            "(assert_trap {invoke} \"{}\")",
                            trap_message(*kind, detail)
                        ),
                        Outcome::Error(e) => writeln!(out, ";; the oracle failed: {e}\n{invoke}"),
                    };
                }
            }
        }
    }
    for (name, value) in globals {
        let _ = writeln!(
            out,
            "(assert_return (get {} ) {})",
            string_literal(name.as_bytes()),
            result_text(value)
        );
    }
    out
}

/// `(module binary "...")` with the bytes escaped, 32 to a line.
fn module_text(wasm: &[u8]) -> String {
    let mut s = String::from("(module binary");
    for chunk in wasm.chunks(32) {
        s.push_str("\n  ");
        s.push_str(&string_literal(chunk));
    }
    s.push(')');
    s
}

fn string_literal(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for b in bytes {
        let _ = write!(s, "\\{b:02x}");
    }
    s.push('"');
    s
}

/// The message to expect: our own for our runtime's traps; for an oracle's, the spec's, or
/// nothing (any trap) where its category covers several of ours.
fn trap_message(kind: TrapKind, detail: &str) -> String {
    let ours = |code: runtime::TrapCode| code.message() == detail;
    let is_ours = [
        runtime::TrapCode::UnreachableCodeReached,
        runtime::TrapCode::MemoryOutOfBounds,
        runtime::TrapCode::TableOutOfBounds,
        runtime::TrapCode::UndefinedElement,
        runtime::TrapCode::UninitializedElement,
        runtime::TrapCode::BadSignature,
        runtime::TrapCode::IntegerOverflow,
        runtime::TrapCode::IntegerDivisionByZero,
        runtime::TrapCode::BadConversionToInteger,
        runtime::TrapCode::NullFunctionReference,
        runtime::TrapCode::CastFailure,
        runtime::TrapCode::NullReference,
        runtime::TrapCode::NullStructReference,
        runtime::TrapCode::NullArrayReference,
        runtime::TrapCode::NullI31Reference,
        runtime::TrapCode::ArrayOutOfBounds,
        runtime::TrapCode::AllocationTooLarge,
        runtime::TrapCode::GcHeapOutOfMemory,
        runtime::TrapCode::UncaughtException,
        runtime::TrapCode::NullExceptionReference,
        runtime::TrapCode::UnalignedAtomic,
        runtime::TrapCode::ExpectedSharedMemory,
    ]
    .into_iter()
    .any(ours);
    if is_ours {
        return detail.to_string();
    }
    match kind {
        TrapKind::Unreachable => "unreachable",
        TrapKind::MemoryOutOfBounds => "out of bounds memory access",
        TrapKind::BadSignature => "indirect call type mismatch",
        TrapKind::IntegerDivisionByZero => "integer divide by zero",
        TrapKind::IntegerOverflow => "integer overflow",
        TrapKind::BadConversionToInteger => "invalid conversion to integer",
        _ => "",
    }
    .to_string()
}

fn arg_text(v: &Value) -> String {
    match v {
        Value::Ref(RefValue::Extern(n)) => format!("(ref.extern {n})"),
        Value::Ref(_) => "(ref.null func)".to_string(),
        other => result_text(other),
    }
}

fn result_text(v: &Value) -> String {
    match *v {
        Value::I32(x) => format!("(i32.const {})", x as i32),
        Value::I64(x) => format!("(i64.const {})", x as i64),
        Value::F32(bits) => {
            let f = f32::from_bits(bits);
            if f.is_nan() {
                let sign = if bits >> 31 == 1 { "-" } else { "" };
                format!("(f32.const {sign}nan:0x{:x})", bits & 0x7f_ffff)
            } else {
                format!("(f32.const {f:?})")
            }
        }
        Value::F64(bits) => {
            let f = f64::from_bits(bits);
            if f.is_nan() {
                let sign = if bits >> 63 == 1 { "-" } else { "" };
                format!("(f64.const {sign}nan:0x{:x})", bits & 0xf_ffff_ffff_ffff)
            } else {
                format!("(f64.const {f:?})")
            }
        }
        Value::V128(x) => format!(
            "(v128.const i64x2 {} {})",
            x as u64 as i64,
            (x >> 64) as u64 as i64
        ),
        Value::Ref(r) => match r {
            RefValue::Null => "(ref.null)".to_string(),
            RefValue::Func => "(ref.func)".to_string(),
            RefValue::Extern(n) => format!("(ref.extern {n})"),
            RefValue::I31(_) => "(ref.i31)".to_string(),
            RefValue::Struct => "(ref.struct)".to_string(),
            RefValue::Array => "(ref.array)".to_string(),
            RefValue::Other => "(ref.any)".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_wast_constants() {
        assert_eq!(result_text(&Value::I32(u32::MAX)), "(i32.const -1)");
        assert_eq!(
            result_text(&Value::F32(0x7fc0_0000)),
            "(f32.const nan:0x400000)"
        );
        assert_eq!(
            result_text(&Value::F64((-0.0f64).to_bits())),
            "(f64.const -0.0)"
        );
        assert_eq!(result_text(&Value::F32(1)), "(f32.const 1e-45)");
        assert_eq!(string_literal(b"a\0"), "\"\\61\\00\"");
    }
}
