//! Reviewing the translator: the Cranelift IR (CLIF) the engine makes of a module's
//! functions, before or after Cranelift's optimisations, and the machine code it becomes.
//! Snapshot tests (`tests/clif.rs`) pin it for small functions of every operator family, so
//! a change in code quality shows up in review; `runtime compile --emit-clif DIR` and
//! `--emit-asm DIR` write it for a whole module.

use crate::engine::Engine;
use crate::error::Result;
use crate::info::parse;
use crate::module::Module;

pub use crate::compile::ClifStage;

impl Module {
    /// The CLIF (or, at [`ClifStage::Disassembly`], the machine code) of every function
    /// `bytes` (a module, text or binary) defines, with its function index, for `engine`'s
    /// configuration (proposals, fuel, epochs, bounds checks).
    ///
    /// ```
    /// use runtime_engine::{ClifStage, Engine, Module};
    /// let wat = r#"(module (func (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))"#;
    /// let clif = Module::clif(&Engine::default(), wat, ClifStage::Optimized)?;
    /// assert_eq!(clif.len(), 1);
    /// assert!(clif[0].1.contains("iadd"));
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn clif(
        engine: &Engine,
        bytes: impl AsRef<[u8]>,
        stage: ClifStage,
    ) -> Result<Vec<(u32, String)>> {
        let binary = crate::load::to_binary(bytes.as_ref())?;
        let info = parse(&binary, engine.config().features())?;
        let (info, offsets) = Module::register_types(engine, info);
        crate::compile::clif_module(engine.isa(), engine.config(), &info, &offsets, stage)
    }
}
