//! Traps: why WebAssembly execution stopped, with the wasm call stack at that point.

use std::fmt;

/// The kind of a trap. `message()` gives the spec's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    StackOverflow,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` on an index past the table's end.
    UndefinedElement,
    /// `call_indirect` on a null entry.
    UninitializedElement,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    UnreachableCodeReached,
    NullReference,
    /// `call_ref` on a null reference.
    NullFunctionReference,
    CastFailure,
    /// `struct.get`/`struct.set` on a null reference.
    NullStructReference,
    /// An array operation on a null reference.
    NullArrayReference,
    /// `i31.get_s`/`i31.get_u` on a null reference.
    NullI31Reference,
    /// An array access past the array's end.
    ArrayOutOfBounds,
    /// A struct or array allocation beyond what the store's GC heap may hold.
    AllocationTooLarge,
    /// A null descriptor given to `struct.new_desc` or a descriptor cast (custom descriptors).
    NullDescriptorReference,
    /// `ref.cast_desc_eq` on a reference without the given descriptor.
    DescriptorCastFailure,
    /// A wasm exception was thrown and not caught before reaching the host.
    UncaughtException,
    /// `throw_ref` on a null reference.
    NullExceptionReference,
    /// An atomic access whose effective address is not a multiple of its size.
    UnalignedAtomic,
    /// `memory.atomic.wait32/64` on a memory that is not shared.
    ExpectedSharedMemory,
    /// `memory.atomic.wait32/64` with a matching value and an infinite timeout: with one
    /// agent per store nothing could ever notify it, so it traps instead of hanging.
    AtomicWaitDeadlock,
    /// A host function returned an error (see the trap's message).
    Host,
    /// The program asked to exit (WASI `proc_exit`, Emscripten `exit`).
    Exit,
}

impl TrapCode {
    /// The message the spec's reference interpreter uses for this trap.
    pub fn message(&self) -> &'static str {
        match self {
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::UnreachableCodeReached => "unreachable",
            TrapCode::NullReference => "null reference",
            TrapCode::NullFunctionReference => "null function reference",
            TrapCode::CastFailure => "cast failure",
            TrapCode::NullStructReference => "null structure reference",
            TrapCode::NullArrayReference => "null array reference",
            TrapCode::NullI31Reference => "null i31 reference",
            TrapCode::ArrayOutOfBounds => "out of bounds array access",
            TrapCode::AllocationTooLarge => "allocation size too large",
            TrapCode::NullDescriptorReference => "null descriptor reference",
            TrapCode::DescriptorCastFailure => "descriptor cast failure",
            TrapCode::UncaughtException => "uncaught exception",
            TrapCode::NullExceptionReference => "null exception reference",
            TrapCode::UnalignedAtomic => "unaligned atomic",
            TrapCode::ExpectedSharedMemory => "expected shared memory",
            TrapCode::AtomicWaitDeadlock => {
                "atomic wait would block forever (no other thread can notify)"
            }
            TrapCode::Host => "host function error",
            TrapCode::Exit => "exit",
        }
    }
}

/// One wasm frame of a trap's backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Name of the module (from the name section), if any.
    pub module_name: Option<String>,
    /// Function index in the module's function index space.
    pub func_index: u32,
    /// Function name from the name section, if any.
    pub func_name: Option<String>,
    /// Byte offset of the instruction in the module binary.
    pub module_offset: Option<usize>,
}

/// A trap: its kind, a message and the wasm backtrace, innermost frame first.
#[derive(Clone, Debug)]
pub struct Trap {
    code: TrapCode,
    message: String,
    exit_status: Option<i32>,
    backtrace: Vec<FrameInfo>,
}

impl Trap {
    /// A trap of the given kind with the spec's message.
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            message: code.message().to_string(),
            exit_status: None,
            backtrace: Vec::new(),
        }
    }

    /// A trap raised by a host function, with its own message.
    pub fn host(message: impl Into<String>) -> Trap {
        Trap {
            code: TrapCode::Host,
            message: message.into(),
            exit_status: None,
            backtrace: vec![],
        }
    }

    /// A request to exit the program with `status` (not an error of the program).
    pub fn exit(status: i32) -> Trap {
        Trap {
            code: TrapCode::Exit,
            message: format!("exit with status {status}"),
            exit_status: Some(status),
            backtrace: Vec::new(),
        }
    }

    pub fn code(&self) -> TrapCode {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The exit status if this trap is a program exit.
    pub fn exit_status(&self) -> Option<i32> {
        self.exit_status
    }
    pub fn backtrace(&self) -> &[FrameInfo] {
        &self.backtrace
    }
    pub(crate) fn with_backtrace(mut self, backtrace: Vec<FrameInfo>) -> Trap {
        self.backtrace = backtrace;
        self
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasm trap: {}", self.message)?;
        if self.backtrace.is_empty() {
            return Ok(());
        }
        write!(f, "\nwasm backtrace:")?;
        for (i, frame) in self.backtrace.iter().enumerate() {
            write!(f, "\n  {i:>3}: ")?;
            if let Some(offset) = frame.module_offset {
                write!(f, "{offset:#8x} - ")?;
            }
            let module = frame.module_name.as_deref().unwrap_or("<unknown>");
            match &frame.func_name {
                Some(name) => write!(f, "{module}!{name}")?,
                None => write!(f, "{module}!<wasm function {}>", frame.func_index)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}
