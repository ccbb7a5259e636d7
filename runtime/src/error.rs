//! Errors of every phase. Each names its phase; parse and validation errors carry the byte offset.

use crate::trap::Trap;
use std::fmt;

/// Anything that can go wrong between reading a file and returning from a call.
#[derive(Debug)]
pub enum Error {
    /// The input could not be read or is neither a wasm binary nor wasm text.
    Load(String),
    /// The binary is malformed (bad encoding).
    Malformed { offset: usize, message: String },
    /// The module is well-formed but does not validate.
    Invalid { offset: usize, message: String },
    /// The module uses something this runtime does not implement yet.
    Unsupported(String),
    /// Cranelift failed to compile a function (a bug in the translator).
    Compile(String),
    /// Imports could not be satisfied (unknown import, incompatible type).
    Link(String),
    /// Execution trapped (during instantiation or a call).
    Trap(Trap),
    /// A wrong use of the API from the host (type mismatch of arguments, ...).
    Usage(String),
}

impl Error {
    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }

    /// Classifies a wasmparser error as malformed or invalid by its message.
    pub(crate) fn from_wasmparser(e: wasmparser::BinaryReaderError) -> Error {
        let message = e.message().to_string();
        let offset = e.offset() as usize;
        if is_malformed_message(&message) {
            Error::Malformed { offset, message }
        } else {
            Error::Invalid { offset, message }
        }
    }
}

/// wasmparser reports decoding and validation problems through one error type;
/// these phrases mark the decoding ones.
fn is_malformed_message(m: &str) -> bool {
    const PHRASES: &[&str] = &[
        "unexpected end",
        "malformed",
        "invalid leading byte",
        "integer too large",
        "integer representation too long",
        "invalid var_",
        "section size mismatch",
        "magic header",
        "unknown binary version",
        "bad magic",
        "illegal opcode",
        "zero byte expected",
        "length out of bounds",
        "too many locals",
        "unexpected content after last section",
        "function and code section have inconsistent lengths",
        "data count and data section have inconsistent lengths",
        "data count section required",
        "invalid section",
        "out of order",
        "duplicate section",
        "UTF-8",
        "utf-8",
        "trailing bytes",
        "invalid value type",
        "control frames remain",
    ];
    PHRASES.iter().any(|p| m.contains(p))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(m) => write!(f, "load error: {m}"),
            Error::Malformed { offset, message } => {
                write!(f, "malformed module at offset {offset:#x}: {message}")
            }
            Error::Invalid { offset, message } => {
                write!(f, "invalid module at offset {offset:#x}: {message}")
            }
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::Compile(m) => write!(f, "compile error: {m}"),
            Error::Link(m) => write!(f, "link error: {m}"),
            Error::Trap(t) => write!(f, "{t}"),
            Error::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(t)
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
