//! Phase 6, instantiate: resolve imports by name.

use crate::error::{Error, Result};
use crate::externals::Extern;
use crate::module::Module;
use crate::store::{Instance, Store};
use std::collections::HashMap;

/// Maps `(module, name)` pairs to definitions and instantiates modules against them.
#[derive(Clone, Default)]
pub struct Linker {
    defs: HashMap<(String, String), Extern>,
}

impl Linker {
    pub fn new() -> Linker {
        Linker::default()
    }

    /// Defines `module::name` (replacing an earlier definition).
    pub fn define(&mut self, module: &str, name: &str, item: Extern) -> &mut Linker {
        self.defs
            .insert((module.to_string(), name.to_string()), item);
        self
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn instance(&mut self, store: &Store, module: &str, instance: Instance) -> &mut Linker {
        for (name, item) in instance.exports(store) {
            self.define(module, &name, item);
        }
        self
    }

    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    /// The definitions for `module`'s imports, in order.
    pub fn resolve(&self, module: &Module) -> Result<Vec<Extern>> {
        module
            .imports()
            .iter()
            .map(|i| {
                self.get(&i.module, &i.name).ok_or_else(|| {
                    Error::Link(format!(
                        "unknown import: `{}::{}` has not been defined ({})",
                        i.module,
                        i.name,
                        i.ty.kind()
                    ))
                })
            })
            .collect()
    }

    /// Resolves the imports of `module` and instantiates it.
    pub fn instantiate(&self, store: &mut Store, module: &Module) -> Result<Instance> {
        let imports = self.resolve(module)?;
        Instance::new(store, module, &imports)
    }
}
