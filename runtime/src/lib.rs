//! A WebAssembly runtime: `wasmparser` validates and parses, Cranelift compiles, signal
//! handlers turn faults into traps. The phases, in data-flow order:
//! [`load`] → [`module`] (parse) → `translate` → `compile` → `link` → `instance` → call.
//!
//! Only `vm` contains `unsafe` code.
#![deny(unsafe_code)]

pub mod emscripten;
pub mod load;
pub mod module;
pub mod wasi;
pub mod wast;

mod compile;
mod engine;
mod error;
mod externals;
mod instance;
mod limits;
mod link;
mod linker;
mod registry;
mod store;
mod translate;
mod trap;
mod types;
mod values;
#[allow(unsafe_code)]
mod vm;
mod vmoffsets;

pub use engine::{Config, Engine, WasmFeatures};
pub use error::{Error, Result};
pub use externals::{Caller, Extern};
pub use linker::Linker;
pub use module::Module;
pub use store::{Func, Global, Instance, Memory, Store, Table, Tag};
pub use trap::{FrameInfo, Trap, TrapCode};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, HeapType, ImportType, MemoryType, RefType,
    TableType, ValType,
};
pub use values::{AnyRef, AnyRefKind, Val};
