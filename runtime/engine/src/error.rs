//! Errors of every phase. Each names its phase; parse and validation errors carry the byte offset.

use crate::trap::Trap;
use std::fmt;

/// Anything that can go wrong between reading a file and returning from a call.
///
/// Host functions return it too: a [`Trap`] (`Error::Trap`, e.g. [`Trap::exit`]) or any error
/// of the host's own ([`Error::new`], [`Error::msg`]). Such an error comes out of the
/// outermost call unchanged, however many wasm and host frames lie between, so the host can
/// get its type back with [`Error::downcast_ref`]:
///
/// ```
/// use runtime_engine::{Engine, Error, Func, Store};
///
/// #[derive(Debug)]
/// struct Quota(u32);
/// impl std::fmt::Display for Quota {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "quota of {} exceeded", self.0)
///     }
/// }
/// impl std::error::Error for Quota {}
///
/// let mut store = Store::new(&Engine::default(), ());
/// let f = Func::wrap(&mut store, || -> runtime_engine::Result<()> { Err(Error::new(Quota(3))) });
/// let err = f.call(&mut store, &[], &mut []).unwrap_err();
/// assert_eq!(err.downcast_ref::<Quota>().unwrap().0, 3);
/// assert_eq!(err.to_string(), "quota of 3 exceeded");
/// ```
#[derive(Debug)]
pub enum Error {
    /// The input could not be read or is neither a wasm binary nor wasm text.
    Load(String),
    /// The binary is malformed (bad encoding).
    Malformed {
        /// Byte offset of the problem in the binary.
        offset: usize,
        /// What is wrong, in wasmparser's words.
        message: String,
    },
    /// The module is well-formed but does not validate.
    Invalid {
        /// Byte offset of the problem in the binary.
        offset: usize,
        /// What is wrong, in wasmparser's words.
        message: String,
    },
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
    /// A store's resource limits were reached: too many instances, memories or tables, a
    /// memory or table larger than its [`ResourceLimiter`](crate::ResourceLimiter) allows, or
    /// a growth that failed and was made an error (see
    /// [`StoreLimitsBuilder::trap_on_grow_failure`](crate::StoreLimitsBuilder::trap_on_grow_failure)).
    Resource(String),
    /// A precompiled module ([`Module::deserialize`](crate::Module::deserialize), or a
    /// compilation-cache entry) was refused: not an artifact, made by another build, for
    /// another target or configuration, or corrupted or truncated.
    Artifact(String),
    /// An error a host function returned (see [`Error::new`] and [`Error::msg`]).
    Host(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// The error [`Error::msg`] makes: just a message.
struct Message(String);

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

impl Error {
    /// A host error wrapping `error`; [`Error::downcast_ref`] gets it back.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Host(Box::new(error))
    }

    /// A host error with just a message.
    ///
    /// ```
    /// let e = runtime_engine::Error::msg(format!("bad request {}", 7));
    /// assert_eq!(e.to_string(), "bad request 7");
    /// ```
    pub fn msg(message: impl fmt::Display) -> Error {
        Error::Host(Box::new(Message(message.to_string())))
    }

    /// The error of type `E` this error is or wraps: the host's own error given to
    /// [`Error::new`], or the [`Trap`] of an `Error::Trap`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Host(e) => e.downcast_ref::<E>(),
            Error::Trap(t) => (t as &dyn std::error::Error).downcast_ref::<E>(),
            _ => None,
        }
    }

    /// The trap code, if this error is a trap.
    pub fn trap_code(&self) -> Option<crate::TrapCode> {
        self.as_trap().map(Trap::code)
    }

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
            Error::Artifact(m) => write!(f, "cannot load precompiled module: {m}"),
            Error::Trap(t) => write!(f, "{t}"),
            Error::Usage(m) | Error::Resource(m) => write!(f, "{m}"),
            Error::Host(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Host(e) => e.source(),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(e)
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(t)
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
