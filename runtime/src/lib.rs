//! A WebAssembly runtime under one name: the engine's embedding API (from `runtime-engine`)
//! with the host crates on top of it, [`wasi`] (WASI preview1), [`emscripten`] (emcc's import
//! objects) and [`wast`] (the spec-script runner). The `runtime` command-line tool is this
//! package's binary.
//!
//! This crate only re-exports; embedders that need just the engine can depend on
//! `runtime-engine` alone.
//!
//! ```
//! use runtime::{Engine, Instance, Module, Store};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "answer") (result i32) i32.const 42))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let answer = instance.get_typed_func::<(), i32>(&mut store, "answer")?;
//! assert_eq!(answer.call(&mut store, ())?, 42);
//! # Ok::<(), runtime::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use runtime_emscripten as emscripten;
pub use runtime_engine::*;
pub use runtime_wasi as wasi;
pub use runtime_wast as wast;
