//! A WebAssembly runtime: `wasmparser` validates and parses, Cranelift compiles, signal
//! handlers turn faults into traps. The phases, in data-flow order:
//! `load` → `module` (parse) → `translate` → `compile` → `link` → `instance` → call.
//!
//! The embedding API follows Wasmtime's: an [`Engine`] compiles [`Module`]s; a [`Store<T>`]
//! owns instances and the host's data `T`; host functions are Rust closures
//! ([`Func::wrap`], [`Linker::func_wrap`]) that see their [`Caller`]; a [`Linker<T>`] resolves
//! imports by name for any number of stores; [`TypedFunc`] calls wasm without boxing values.
//!
//! ```
//! use runtime_engine::{Caller, Engine, Linker, Module, Store};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module
//!     (import "host" "add_to_total" (func $add (param i64)))
//!     (func (export "run") (param i64) (call $add (i64.mul (local.get 0) (i64.const 2)))))"#)?;
//! let mut linker = Linker::<i64>::new(&engine);
//! linker.func_wrap("host", "add_to_total", |mut caller: Caller<'_, i64>, x: i64| {
//!     *caller.data_mut() += x;
//! })?;
//! let mut store = Store::new(&engine, 0i64);
//! let instance = linker.instantiate(&mut store, &module)?;
//! let run = instance.get_typed_func::<i64, ()>(&mut store, "run")?;
//! run.call(&mut store, 21)?;
//! assert_eq!(*store.data(), 42);
//! # Ok::<(), runtime_engine::Error>(())
//! ```
//!
//! The host crates (`runtime-wasi`, `runtime-emscripten`, `runtime-wast`) are built on this
//! public API alone; the `runtime` crate re-exports it together with them. Only `vm`
//! contains `unsafe` code.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![warn(missing_docs)]

mod info;
mod load;
mod module;

mod cache;
mod clif;
mod compile;
mod config;
mod engine;
mod error;
mod externals;
mod func;
mod gc;
mod instance;
mod libcall;
mod limiter;
mod limits;
mod link;
mod linker;
mod profiling;
mod registry;
mod serialize;
mod shared_memory;
mod store;
mod translate;
mod trap;
mod types;
mod values;
#[allow(unsafe_code)]
mod vm;
mod vmoffsets;

pub use clif::ClifStage;
pub use config::{CacheConfig, Config, OptLevel, ProfilingStrategy, WasmFeatures};
pub use engine::{Engine, Precompiled};
pub use error::{Error, Result};
pub use externals::Extern;
pub use func::{
    Caller, ExternRef, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy, V128,
};
pub use gc::{GcHeapStats, ManuallyRooted, RootScope};
pub use info::ConstOp;
pub use limiter::{
    ResourceLimiter, StoreLimits, StoreLimitsBuilder, DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT,
    DEFAULT_TABLE_LIMIT,
};
pub use linker::Linker;
pub use module::{DataSegment, DataSegmentKind, GlobalInit, Module, ModuleGlobal};
pub use shared_memory::{SharedMemory, WaitResult};
pub use store::{
    AsContext, AsContextMut, Func, Global, Instance, Memory, Store, StoreContext, StoreContextMut,
    Table, Tag,
};
pub use trap::{FrameInfo, Trap, TrapCode};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, HeapType, ImportType, MemoryType, RefType,
    TableType, ValType,
};
pub use values::{AnyRef, AnyRefKind, ContRef, Val};
