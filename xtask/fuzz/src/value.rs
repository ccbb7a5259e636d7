//! Differential fuzzing: engine-independent values, outcomes and state snapshots, and how
//! two of them are compared.

use std::fmt;

/// A value as both sides can report it. Floats are bit patterns; references are reduced to
/// what can be compared across stores (null or not, and what kind of object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    V128(u128),
    Ref(RefValue),
}

/// A reference, as far as two engines can agree on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefValue {
    /// A null reference (of any hierarchy).
    Null,
    /// A non-null function reference.
    Func,
    /// A host reference `(ref.extern n)`.
    Extern(u32),
    /// An i31 value (its 31 bits).
    I31(u32),
    Struct,
    Array,
    /// Another non-null reference (exceptions, converted references, ...).
    Other,
}

/// A parameter type, for choosing arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    I32,
    I64,
    F32,
    F64,
    V128,
    /// `externref` (nullable): a host reference or null can be passed.
    ExternRef,
    /// Another nullable reference type: only null can be passed.
    NullableRef,
    /// A non-nullable reference other than extern: the fuzzer cannot make one.
    NonNullRef,
}

/// Why execution stopped, in categories every backend can report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    /// A table access, or `call_indirect`, past the table's end.
    TableOutOfBounds,
    /// `call_indirect` on a null entry.
    IndirectCallToNull,
    BadSignature,
    IntegerDivisionByZero,
    IntegerOverflow,
    BadConversionToInteger,
    /// Resource exhaustion: the spec lets it happen anywhere, so it is never a disagreement.
    StackOverflow,
    /// A null reference given to `call_ref` (our runtime calls it `null function reference`).
    NullFunctionReference,
    /// Any other null reference (struct, array, i31, `ref.as_non_null`, exceptions).
    NullReference,
    CastFailure,
    ArrayOutOfBounds,
    AllocationTooLarge,
    UncaughtException,
    UnalignedAtomic,
    ExpectedSharedMemory,
    /// Anything else (with its text in the outcome).
    Other,
}

impl TrapKind {
    /// Whether the spec allows this trap wherever resources run out, so that one engine may
    /// hit it where another does not: the stack, and a GC allocation (which our runtime
    /// also fails when the host has no memory left for it).
    pub fn is_resource_exhaustion(self) -> bool {
        matches!(self, TrapKind::StackOverflow | TrapKind::AllocationTooLarge)
    }
}

/// What an instantiation or a call gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Returned these values (none for an instantiation).
    Values(Vec<Value>),
    /// Trapped; `detail` is the engine's own message or code, for reports.
    Trap { kind: TrapKind, detail: String },
    /// Failed otherwise (rejected the module, an API error, ...).
    Error(String),
}

impl Outcome {
    /// Whether two outcomes agree: values bit for bit, traps by kind. `exact` compares the
    /// engines' own trap codes too (two configurations of one engine must agree on those).
    pub fn agrees(&self, other: &Outcome, exact: bool) -> bool {
        match (self, other) {
            (Outcome::Values(a), Outcome::Values(b)) => a == b,
            (
                Outcome::Trap {
                    kind: a,
                    detail: da,
                },
                Outcome::Trap {
                    kind: b,
                    detail: db,
                },
            ) => a == b && (!exact || da == db),
            (Outcome::Error(_), Outcome::Error(_)) => true,
            _ => false,
        }
    }

    /// Whether this is a resource-exhaustion trap (a round stops there unless both sides
    /// agree on it).
    pub fn is_exhaustion(&self) -> bool {
        matches!(self, Outcome::Trap { kind, .. } if kind.is_resource_exhaustion())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Values(v) => write!(f, "values {v:?}"),
            Outcome::Trap { kind, detail } => write!(f, "trap {kind:?} ({detail})"),
            Outcome::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// The exported state of an instance after a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Exported globals by name.
    pub globals: Vec<(String, Value)>,
    /// Exported memories by name: size in bytes and an FNV-1a hash of the contents.
    pub memories: Vec<(String, u64, u64)>,
    /// Exported tables by name: their elements.
    pub tables: Vec<(String, Vec<RefValue>)>,
}

impl Snapshot {
    /// The snapshot with every list in name order (engines list exports in different orders).
    pub fn sorted(mut self) -> Snapshot {
        self.globals.sort_by(|a, b| a.0.cmp(&b.0));
        self.memories.sort_by(|a, b| a.0.cmp(&b.0));
        self.tables.sort_by(|a, b| a.0.cmp(&b.0));
        self
    }

    /// The first difference between two snapshots, described.
    pub fn difference(&self, other: &Snapshot) -> Option<String> {
        for (a, b) in self.globals.iter().zip(&other.globals) {
            if a != b {
                return Some(format!("global \"{}\": {:?} vs {:?}", a.0, a.1, b.1));
            }
        }
        for (a, b) in self.memories.iter().zip(&other.memories) {
            if a != b {
                return Some(format!(
                    "memory \"{}\": {} bytes (hash {:016x}) vs {} bytes (hash {:016x})",
                    a.0, a.1, a.2, b.1, b.2
                ));
            }
        }
        for (a, b) in self.tables.iter().zip(&other.tables) {
            if a != b {
                let first = a.1.iter().zip(&b.1).position(|(x, y)| x != y);
                return Some(format!(
                    "table \"{}\": {} vs {} elements, first difference at {first:?}",
                    a.0,
                    a.1.len(),
                    b.1.len()
                ));
            }
        }
        let counts = |s: &Snapshot| (s.globals.len(), s.memories.len(), s.tables.len());
        (counts(self) != counts(other)).then(|| {
            format!(
                "exports differ: {:?} vs {:?} (globals, memories, tables)",
                counts(self),
                counts(other)
            )
        })
    }
}

/// A hash of memory contents: FNV-1a over 64-bit words (and the tail bytes), fast enough to
/// run after every call.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h ^= u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    for b in words.remainder() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
