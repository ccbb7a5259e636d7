//! Phase 1, load: turn a file or text into a wasm binary.

use crate::error::{Error, Result};
use std::borrow::Cow;
use std::path::Path;

/// The magic number every wasm binary starts with.
pub const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// Returns `bytes` as a binary: wasm text (`.wat`) is assembled with the `wast` crate,
/// a binary must start with `\0asm` and a supported version.
pub fn to_binary(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    if bytes.starts_with(WASM_MAGIC) {
        check_version(bytes)?;
        return Ok(Cow::Borrowed(bytes));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::Load("not a wasm binary (no `\\0asm` header) and not UTF-8 wasm text".into())
    })?;
    if !looks_like_wat(text) {
        return Err(Error::Load(
            "not a wasm module: no `\\0asm` header, and the text does not start like wasm text `(module ...)`".into(),
        ));
    }
    wat_to_binary(text).map(Cow::Owned)
}

/// Whether `text` starts (after white space and comments) with `(`, as wasm text does.
fn looks_like_wat(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(line_comment) = rest.strip_prefix(";;") {
            rest = line_comment
                .split_once('\n')
                .map_or("", |(_, r)| r)
                .trim_start();
        } else if let Some(block) = rest.strip_prefix("(;") {
            rest = block.split_once(";)").map_or("", |(_, r)| r).trim_start();
        } else {
            return rest.starts_with('(') || rest.is_empty();
        }
    }
}

/// Reads a file and returns its wasm binary (see [`to_binary`]).
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Load(format!("cannot read `{}`: {e}", path.display())))?;
    Ok(to_binary(&bytes)?.into_owned())
}

fn check_version(bytes: &[u8]) -> Result<()> {
    match bytes.get(4..8) {
        Some([1, 0, 0, 0]) => Ok(()),
        Some(v) => Err(Error::Malformed {
            offset: 4,
            message: format!("unknown binary version: {v:02x?}"),
        }),
        None => Err(Error::Malformed {
            offset: 4,
            message: "unexpected end of version".into(),
        }),
    }
}

/// Assembles one module written in the text format.
pub fn wat_to_binary(text: &str) -> Result<Vec<u8>> {
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| text_error(e, text))?;
    let mut wat: wast::Wat = wast::parser::parse(&buf).map_err(|e| text_error(e, text))?;
    wat.encode().map_err(|e| text_error(e, text))
}

fn text_error(mut e: wast::Error, text: &str) -> Error {
    e.set_text(text);
    Error::Malformed {
        offset: e.span().offset(),
        message: e.message(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_assembled() {
        let bin = to_binary(b"(module (func (export \"f\") (result i32) i32.const 7))").unwrap();
        assert!(bin.starts_with(WASM_MAGIC));
    }

    #[test]
    fn garbage_is_rejected_clearly() {
        let err = to_binary(&[0xff, 0xfe, 0x00]).unwrap_err();
        assert!(err.to_string().contains("not a wasm binary"), "{err}");
        let err = to_binary(b"root:x:0:0:root:/root:/bin/bash\n").unwrap_err();
        assert!(err.to_string().contains("not a wasm module"), "{err}");
        assert!(to_binary(b";; a comment\n(module)").is_ok());
        let err = to_binary(b"\0asm\x02\0\0\0").unwrap_err();
        assert!(err.to_string().contains("unknown binary version"), "{err}");
    }
}
