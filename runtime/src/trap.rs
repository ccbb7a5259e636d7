//! Traps: why WebAssembly execution stopped, with the wasm call stack at that point.

use std::fmt;

/// The kind of a trap. `message()` gives the spec's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// The wasm stack reached its limit.
    StackOverflow,
    /// A memory access outside the memory.
    MemoryOutOfBounds,
    /// A table access outside the table.
    TableOutOfBounds,
    /// `call_indirect` on an index past the table's end.
    UndefinedElement,
    /// `call_indirect` on a null entry.
    UninitializedElement,
    /// `call_indirect` on a function of another type.
    BadSignature,
    /// Signed division overflow (`i32.div_s` of the minimum by -1).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// A float-to-integer conversion of NaN or out of range.
    BadConversionToInteger,
    /// `unreachable` was executed.
    UnreachableCodeReached,
    /// A null reference where a non-null one was needed (`ref.as_non_null`, ...).
    NullReference,
    /// `call_ref` on a null reference.
    NullFunctionReference,
    /// `ref.cast` of a reference of another type.
    CastFailure,
    /// `struct.get`/`struct.set` on a null reference.
    NullStructReference,
    /// An array operation on a null reference.
    NullArrayReference,
    /// `i31.get_s`/`i31.get_u` on a null reference.
    NullI31Reference,
    /// An array access past the array's end.
    ArrayOutOfBounds,
    /// A struct or array larger than the store's GC heap may ever be
    /// ([`Config::gc_heap_limit`](crate::Config::gc_heap_limit)).
    AllocationTooLarge,
    /// A struct, array or exception that does not fit beside the live objects within the
    /// store's GC heap limit, even after a full collection.
    GcHeapOutOfMemory,
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
    /// The store ran out of fuel ([`Config::consume_fuel`](crate::Config::consume_fuel)).
    OutOfFuel,
    /// The engine's epoch reached the store's deadline
    /// ([`Config::epoch_interruption`](crate::Config::epoch_interruption)).
    Interrupt,
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
            TrapCode::GcHeapOutOfMemory => {
                "GC heap out of memory (the live objects and the new one exceed the heap limit)"
            }
            TrapCode::NullDescriptorReference => "null descriptor reference",
            TrapCode::DescriptorCastFailure => "descriptor cast failure",
            TrapCode::UncaughtException => "uncaught exception",
            TrapCode::NullExceptionReference => "null exception reference",
            TrapCode::UnalignedAtomic => "unaligned atomic",
            TrapCode::ExpectedSharedMemory => "expected shared memory",
            TrapCode::AtomicWaitDeadlock => {
                "atomic wait would block forever (no other thread can notify)"
            }
            TrapCode::OutOfFuel => "all fuel consumed by WebAssembly",
            TrapCode::Interrupt => "interrupt",
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

    /// The kind of trap.
    pub fn code(&self) -> TrapCode {
        self.code
    }
    /// The message (the spec's wording, or the host's for host traps).
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The exit status if this trap is a program exit.
    pub fn exit_status(&self) -> Option<i32> {
        self.exit_status
    }
    /// The wasm frames at the trap, innermost first.
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
        let frames = &self.backtrace;
        let mut i = 0;
        while i < frames.len() {
            // Deep recursion: print a repeating cycle of frames once and say how often it repeats.
            let (period, repeats) = repetition(&frames[i..]);
            for (k, frame) in frames[i..i + period].iter().enumerate() {
                write!(f, "\n  {:>3}: {frame}", i + k)?;
            }
            if repeats > 0 {
                let what = if period == 1 {
                    "frame".to_string()
                } else {
                    format!("{period} frames")
                };
                write!(f, "\n       ... the {what} above {repeats} more times")?;
            }
            i += period * (repeats + 1);
        }
        Ok(())
    }
}

/// The shortest cycle (up to 4 frames) that `frames` starts with and that repeats at least
/// twice more, with its number of further repetitions; else `(1, 0)`.
fn repetition(frames: &[FrameInfo]) -> (usize, usize) {
    for period in 1..=4.min(frames.len()) {
        let cycle = &frames[..period];
        let repeats = frames[period..]
            .chunks_exact(period)
            .take_while(|c| *c == cycle)
            .count();
        if repeats >= 2 {
            return (period, repeats);
        }
    }
    (1, 0)
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(offset) = self.module_offset {
            write!(f, "{offset:#8x} - ")?;
        }
        let module = self.module_name.as_deref().unwrap_or("<unknown>");
        match &self.func_name {
            Some(name) => write!(f, "{module}!{name}"),
            None => write!(f, "{module}!<wasm function {}>", self.func_index),
        }
    }
}

impl std::error::Error for Trap {}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(func_index: u32) -> FrameInfo {
        FrameInfo {
            module_name: None,
            func_index,
            func_name: None,
            module_offset: Some(16),
        }
    }

    #[test]
    fn repeating_frames_are_folded() {
        let mut backtrace = vec![frame(9)];
        backtrace.extend((0..6).flat_map(|_| [frame(1), frame(2)]));
        backtrace.push(frame(0));
        let text = Trap::new(TrapCode::StackOverflow)
            .with_backtrace(backtrace)
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(lines[2].ends_with("<wasm function 9>"), "{text}");
        assert!(
            lines[5].ends_with("the 2 frames above 5 more times"),
            "{text}"
        );
        assert!(lines[6].trim_start().starts_with("13:"), "{text}");
    }
}
