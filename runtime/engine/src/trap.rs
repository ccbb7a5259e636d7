//! Traps: why WebAssembly execution stopped, with the wasm call stack at that point.

use std::fmt;

/// Calls `$mac!` with the list of trap codes: `Variant "message" [= CONST: code];` — the
/// variant of [`TrapCode`], the spec reference interpreter's message, and, for traps compiled
/// code raises, the name of its Cranelift trap code (`clif::CONST`) and its value (one of
/// Cranelift's reserved codes, or a user code). The enum, its messages, the Cranelift codes
/// the translator emits and the mapping back that the signal handler uses are generated from
/// this one list.
macro_rules! foreach_trap_code {
    ($mac:ident) => {
        $mac! {
            /// The wasm stack reached its limit.
            StackOverflow "call stack exhausted" = STACK_OVERFLOW: reserved(STACK_OVERFLOW);
            /// A memory access outside the memory.
            MemoryOutOfBounds "out of bounds memory access" = MEMORY_OUT_OF_BOUNDS: reserved(HEAP_OUT_OF_BOUNDS);
            /// A table access outside the table.
            TableOutOfBounds "out of bounds table access" = TABLE_OUT_OF_BOUNDS: user(2);
            /// `call_indirect` on an index past the table's end.
            UndefinedElement "undefined element" = UNDEFINED_ELEMENT: user(3);
            /// `call_indirect` on a null entry.
            UninitializedElement "uninitialized element" = UNINITIALIZED_ELEMENT: user(4);
            /// `call_indirect` on a function of another type.
            BadSignature "indirect call type mismatch" = BAD_SIGNATURE: user(5);
            /// Signed division overflow (`i32.div_s` of the minimum by -1).
            IntegerOverflow "integer overflow" = INTEGER_OVERFLOW: reserved(INTEGER_OVERFLOW);
            /// Integer division or remainder by zero.
            IntegerDivisionByZero "integer divide by zero" = INTEGER_DIVISION_BY_ZERO: reserved(INTEGER_DIVISION_BY_ZERO);
            /// A float-to-integer conversion of NaN or out of range.
            BadConversionToInteger "invalid conversion to integer" = BAD_CONVERSION_TO_INTEGER: reserved(BAD_CONVERSION_TO_INTEGER);
            /// `unreachable` was executed.
            UnreachableCodeReached "unreachable" = UNREACHABLE: user(1);
            /// A null reference where a non-null one was needed (`ref.as_non_null`, ...).
            NullReference "null reference" = NULL_REFERENCE: user(6);
            /// `call_ref` on a null reference.
            NullFunctionReference "null function reference" = NULL_FUNCTION_REFERENCE: user(8);
            /// `ref.cast` of a reference of another type.
            CastFailure "cast failure" = CAST_FAILURE: user(30);
            /// `struct.get`/`struct.set` on a null reference.
            NullStructReference "null structure reference" = NULL_STRUCT_REFERENCE: user(31);
            /// An array operation on a null reference.
            NullArrayReference "null array reference" = NULL_ARRAY_REFERENCE: user(32);
            /// `i31.get_s`/`i31.get_u` on a null reference.
            NullI31Reference "null i31 reference" = NULL_I31_REFERENCE: user(33);
            /// An array access past the array's end.
            ArrayOutOfBounds "out of bounds array access" = ARRAY_OUT_OF_BOUNDS: user(34);
            /// A struct or array larger than the store's GC heap may ever be
            /// ([`Config::gc_heap_limit`](crate::Config::gc_heap_limit)).
            AllocationTooLarge "allocation size too large" = ALLOCATION_TOO_LARGE: user(35);
            /// A struct, array or exception that does not fit beside the live objects within
            /// the store's GC heap limit, even after a full collection.
            GcHeapOutOfMemory "GC heap out of memory (the live objects and the new one exceed the heap limit)" = GC_HEAP_OUT_OF_MEMORY: user(38);
            /// A null descriptor given to `struct.new_desc` or a descriptor cast (custom descriptors).
            NullDescriptorReference "null descriptor reference" = NULL_DESCRIPTOR_REFERENCE: user(36);
            /// `ref.cast_desc_eq` on a reference without the given descriptor.
            DescriptorCastFailure "descriptor cast failure" = DESCRIPTOR_CAST_FAILURE: user(37);
            /// `resume`, `cont.bind`, `switch` or `resume_throw` on a null continuation.
            NullContinuationReference "null continuation reference" = NULL_CONTINUATION_REFERENCE: user(40);
            /// A continuation was resumed (or bound) a second time: continuations are one-shot.
            ContinuationAlreadyConsumed "continuation already consumed" = CONTINUATION_ALREADY_CONSUMED: user(41);
            /// `suspend` or `switch` found no enclosing `resume` handling its tag (the search
            /// stops at host frames); the spec's harness calls this a suspension.
            UnhandledTag "unhandled tag" = UNHANDLED_TAG: user(42);
            /// No stack could be mapped for a new continuation, or the store holds too many.
            ContinuationStackAllocation "cannot allocate a continuation stack" = CONTINUATION_STACK_ALLOCATION: user(43);
            /// A wasm exception was thrown and not caught before reaching the host.
            UncaughtException "uncaught exception";
            /// `throw_ref` on a null reference.
            NullExceptionReference "null exception reference" = NULL_EXCEPTION_REFERENCE: user(9);
            /// An atomic access whose effective address is not a multiple of its size.
            UnalignedAtomic "unaligned atomic" = UNALIGNED_ATOMIC: user(20);
            /// `memory.atomic.wait32/64` on a memory that is not shared.
            ExpectedSharedMemory "expected shared memory" = EXPECTED_SHARED_MEMORY: user(21);
            /// The store ran out of fuel ([`Config::consume_fuel`](crate::Config::consume_fuel)).
            OutOfFuel "all fuel consumed by WebAssembly" = OUT_OF_FUEL: user(10);
            /// The engine's epoch reached the store's deadline
            /// ([`Config::epoch_interruption`](crate::Config::epoch_interruption)).
            Interrupt "interrupt" = INTERRUPT: user(11);
            /// A host function returned an error (see the trap's message).
            Host "host function error" = HOST: user(7);
            /// The program asked to exit (WASI `proc_exit`, Emscripten `exit`).
            Exit "exit";
        }
    };
}

/// A Cranelift trap code of the list: one of Cranelift's own, or a user code.
macro_rules! clif_trap_code {
    (reserved($name:ident)) => {
        cranelift_codegen::ir::TrapCode::$name
    };
    (user($n:literal)) => {
        cranelift_codegen::ir::TrapCode::unwrap_user($n)
    };
}

macro_rules! declare_trap_codes {
    ($(
        $(#[$doc:meta])*
        $variant:ident $message:literal $(= $clif:ident: $kind:ident($value:tt))?;
    )*) => {
        /// The kind of a trap. `message()` gives the spec's wording.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum TrapCode {
            $($(#[$doc])* $variant,)*
        }

        impl TrapCode {
            /// Every trap code, in the list's order (artifacts store a trap site's code as
            /// its position here).
            pub(crate) const ALL: &'static [TrapCode] = &[$(TrapCode::$variant,)*];

            /// The message the spec's reference interpreter uses for this trap.
            pub fn message(&self) -> &'static str {
                match self {
                    $(TrapCode::$variant => $message,)*
                }
            }

            /// The trap compiled code raised with Cranelift trap code `code`, if it is one of
            /// the list.
            pub(crate) fn from_clif(code: cranelift_codegen::ir::TrapCode) -> Option<TrapCode> {
                $($(if code == clif::$clif {
                    return Some(TrapCode::$variant);
                })?)*
                None
            }
        }

        /// The Cranelift trap codes compiled code raises, by the name the list gives them.
        pub(crate) mod clif {
            use cranelift_codegen::ir::TrapCode;
            $($(
                #[doc = concat!("Raises [`", stringify!($variant), "`](crate::TrapCode::", stringify!($variant), ").")]
                pub const $clif: TrapCode = clif_trap_code!($kind($value));
            )?)*

            /// Every code of the list (for the test that they are distinct).
            #[cfg(test)]
            pub const ALL: &[TrapCode] = &[$($($clif,)?)*];
        }
    };
}

foreach_trap_code!(declare_trap_codes);

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
    #[test]
    fn every_compiled_trap_code_is_distinct_and_maps_back() {
        for (i, code) in super::clif::ALL.iter().enumerate() {
            assert!(!super::clif::ALL[..i].contains(code), "{code} listed twice");
            assert!(super::TrapCode::from_clif(*code).is_some());
        }
        assert_eq!(
            super::TrapCode::from_clif(super::clif::MEMORY_OUT_OF_BOUNDS),
            Some(super::TrapCode::MemoryOutOfBounds)
        );
        assert_eq!(
            super::TrapCode::from_clif(cranelift_codegen::ir::TrapCode::unwrap_user(99)),
            None
        );
    }

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
