//! CLI: parsing `--invoke` arguments by the export's parameter types (a mismatch is an
//! error with exit code 1, as in Wasmtime).

use crate::Exit;
use runtime::{Val, ValType};

/// Parses `args` for a function `name` with parameter types `params`.
pub(crate) fn parse_args(
    name: &str,
    params: &[ValType],
    args: &[String],
) -> Result<Vec<Val>, Exit> {
    if params.len() != args.len() {
        let types: Vec<String> = params.iter().map(|t| t.to_string()).collect();
        return Err(Exit::error(format!(
            "`{name}` takes {} argument(s) ({}), {} given",
            params.len(),
            types.join(" "),
            args.len()
        )));
    }
    params
        .iter()
        .zip(args)
        .map(|(ty, arg)| {
            parse_val(*ty, arg).ok_or_else(|| {
                Exit::error(format!("`{arg}` is not a valid {ty} argument for `{name}`"))
            })
        })
        .collect()
}

/// Parses one argument: integers in decimal or `0x` hex (signed or unsigned range), floats
/// (`inf`, `nan` too), v128 as `0x` + 32 hex digits, references as `null` (externref: a number).
pub(crate) fn parse_val(ty: ValType, s: &str) -> Option<Val> {
    fn int(s: &str) -> Option<i128> {
        let (neg, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let v = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(hex) => i128::from_str_radix(&hex.replace('_', ""), 16).ok()?,
            None => digits.replace('_', "").parse::<i128>().ok()?,
        };
        Some(if neg { -v } else { v })
    }
    match ty {
        ValType::I32 => int(s)
            .filter(|v| (i32::MIN as i128..=u32::MAX as i128).contains(v))
            .map(|v| Val::I32(v as i32)),
        ValType::I64 => int(s)
            .filter(|v| (i64::MIN as i128..=u64::MAX as i128).contains(v))
            .map(|v| Val::I64(v as i64)),
        ValType::F32 => s.parse::<f32>().ok().map(Val::from),
        ValType::F64 => s.parse::<f64>().ok().map(Val::from),
        ValType::V128 => {
            let hex = s.strip_prefix("0x")?;
            u128::from_str_radix(&hex.replace('_', ""), 16)
                .ok()
                .map(Val::V128)
        }
        ValType::Ref(r) if s == "null" && r.nullable => Some(Val::null(r)),
        ValType::Ref(r) if r.heap.top() == runtime::HeapType::Extern => {
            s.parse::<u32>().ok().map(|n| Val::ExternRef(Some(n)))
        }
        ValType::Ref(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_by_type() {
        assert_eq!(parse_val(ValType::I32, "-1"), Some(Val::I32(-1)));
        assert_eq!(parse_val(ValType::I32, "4294967295"), Some(Val::I32(-1)));
        assert_eq!(parse_val(ValType::I32, "0x10"), Some(Val::I32(16)));
        assert_eq!(parse_val(ValType::I32, "4294967296"), None);
        assert_eq!(
            parse_val(ValType::I64, "-9223372036854775808"),
            Some(Val::I64(i64::MIN))
        );
        assert_eq!(parse_val(ValType::F64, "1.5"), Some(Val::from(1.5f64)));
        assert_eq!(
            parse_val(ValType::F32, "inf"),
            Some(Val::from(f32::INFINITY))
        );
        assert_eq!(parse_val(ValType::I32, "x"), None);
        assert_eq!(
            parse_val(ValType::EXTERNREF, "null"),
            Some(Val::ExternRef(None))
        );
        assert_eq!(
            parse_val(ValType::EXTERNREF, "7"),
            Some(Val::ExternRef(Some(7)))
        );
        assert_eq!(parse_val(ValType::FUNCREF, "7"), None);
    }

    #[test]
    fn a_wrong_number_of_arguments_is_an_error() {
        let err = parse_args("f", &[ValType::I32], &[]).unwrap_err();
        assert_eq!(err.code, 1);
        assert!(err
            .message
            .contains("`f` takes 1 argument(s) (i32), 0 given"));
    }
}
