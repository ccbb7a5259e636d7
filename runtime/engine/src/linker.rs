//! Phase 6, instantiate: resolve imports by name. A [`Linker`] holds definitions, not store
//! handles: host functions are defined once and made in each store the first time an
//! instantiation there needs them, so one linker serves any number of stores (and threads).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::externals::Extern;
use crate::func::{Caller, HostFunc, IntoFunc};
use crate::module::Module;
use crate::store::{AsContext, AsContextMut, Instance, StoreOpaque};
use crate::types::{ExternType, FuncType};
use crate::values::Val;
use crate::Trap;
use std::collections::HashMap;
use std::sync::Arc;

/// Maps `(module, name)` pairs to definitions and instantiates modules against them, for
/// stores with host data `T`.
///
/// Host functions ([`func_wrap`](Linker::func_wrap), [`func_new`](Linker::func_new)) work
/// with every store. Items of a store ([`define`](Linker::define),
/// [`instance`](Linker::instance)) work only with that store: instantiating into another one
/// is an [`Error::Link`]. `Linker<T>` is `Clone + Send + Sync`.
///
/// ```
/// use runtime_engine::{Caller, Engine, Linker, Module, Store};
/// let engine = Engine::default();
/// let mut linker = Linker::<u32>::new(&engine);
/// linker.func_wrap("host", "bump", |mut caller: Caller<'_, u32>, by: u32| {
///     *caller.data_mut() += by;
/// })?;
/// let module = Module::new(&engine, r#"(module
///     (import "host" "bump" (func $bump (param i32)))
///     (func (export "run") (call $bump (i32.const 2)) (call $bump (i32.const 3))))"#)?;
/// // One linker, many stores, each with its own state.
/// for start in [0, 100] {
///     let mut store = Store::new(&engine, start);
///     let instance = linker.instantiate(&mut store, &module)?;
///     instance.get_typed_func::<(), ()>(&store, "run")?.call(&mut store, ())?;
///     assert_eq!(*store.data(), start + 5);
/// }
/// # Ok::<(), runtime_engine::Error>(())
/// ```
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

enum Definition<T> {
    /// An item of one store.
    Extern(Extern),
    /// A host function, made in each store that uses it.
    Host(Arc<HostFunc<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(e.clone()),
            Definition::Host(h) => Definition::Host(h.clone()),
        }
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            defs: self.defs.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<String> = self.defs.keys().map(|(m, n)| format!("{m}::{n}")).collect();
        names.sort();
        f.debug_struct("Linker")
            .field("definitions", &names)
            .field("allow_shadowing", &self.allow_shadowing)
            .finish()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for `engine`'s modules and stores.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
            allow_shadowing: false,
        }
    }

    /// The engine the linker was made for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a definition may replace an earlier one of the same name (default: no, a
    /// second definition is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Linker<T> {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Linker<T>> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            return Err(Error::Link(format!(
                "`{module}::{name}` is already defined (see `Linker::allow_shadowing`)"
            )));
        }
        self.defs.insert(key, def);
        Ok(self)
    }

    /// Defines `module::name` as `item`, an item of `store`. The definition works only for
    /// instantiations into `store`.
    ///
    /// ```
    /// use runtime_engine::{Engine, Linker, Memory, MemoryType, Module, Store};
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, ());
    /// let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    /// let mut linker = Linker::new(&engine);
    /// linker.define(&store, "env", "memory", memory)?;
    /// let module = Module::new(&engine, r#"(module (import "env" "memory" (memory 1))
    ///     (func (export "store") (i32.store8 (i32.const 0) (i32.const 7))))"#)?;
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// instance.get_typed_func::<(), ()>(&store, "store")?.call(&mut store, ())?;
    /// assert_eq!(memory.data(&store)[0], 7);
    ///
    /// // Another store cannot use that memory: a clear error, not a panic.
    /// let mut other = Store::new(&engine, ());
    /// assert!(linker.instantiate(&mut other, &module).is_err());
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Linker<T>> {
        let item = item.into();
        let store = &store.as_context().0.opaque;
        self.check_store(store)?;
        if !item.belongs_to(store) {
            return Err(Error::Usage(format!(
                "cannot define `{module}::{name}`: the {} belongs to another store",
                item.ty_kind()
            )));
        }
        self.insert(module, name, Definition::Extern(item))
    }

    /// Defines `module::name` as a host function of type `ty` over [`Val`]s (see
    /// [`Func::new`](crate::Func::new)), usable in every store.
    ///
    /// ```
    /// use runtime_engine::{Engine, FuncType, Linker, Module, Store, Val, ValType};
    /// let engine = Engine::default();
    /// let mut linker = Linker::<()>::new(&engine);
    /// let ty = FuncType::new([ValType::I64], [ValType::I64]);
    /// linker.func_new("math", "square", ty, |_caller, args, results| {
    ///     let x = args[0].unwrap_i64();
    ///     results[0] = Val::I64(x * x);
    ///     Ok(())
    /// })?;
    /// let module = Module::new(&engine, r#"(module
    ///     (import "math" "square" (func $sq (param i64) (result i64)))
    ///     (func (export "run") (result i64) (call $sq (i64.const 12))))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// let run = instance.get_typed_func::<(), i64>(&store, "run")?;
    /// assert_eq!(run.call(&mut store, ())?, 144);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Linker<T>> {
        let func = HostFunc::untyped(&self.engine, ty, f);
        self.insert(module, name, Definition::Host(Arc::new(func)))
    }

    /// Defines `module::name` as a host function from a Rust closure (see
    /// [`Func::wrap`](crate::Func::wrap)), usable in every store.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        f: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Linker<T>> {
        let func = f.into_host_func(&self.engine);
        self.insert(module, name, Definition::Host(Arc::new(func)))
    }

    /// Defines every export of `instance` (of `store`) under the module name `module`.
    ///
    /// ```
    /// use runtime_engine::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let lib = Module::new(&engine, r#"(module (func (export "seven") (result i32) (i32.const 7)))"#)?;
    /// let app = Module::new(&engine, r#"(module (import "lib" "seven" (func $seven (result i32)))
    ///     (func (export "run") (result i32) (i32.mul (call $seven) (i32.const 6))))"#)?;
    /// let mut store = Store::new(&engine, ());
    /// let mut linker = Linker::new(&engine);
    /// let lib = linker.instantiate(&mut store, &lib)?;
    /// linker.instance(&mut store, "lib", lib)?;
    /// let app = linker.instantiate(&mut store, &app)?;
    /// assert_eq!(app.get_typed_func::<(), i32>(&store, "run")?.call(&mut store, ())?, 42);
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Linker<T>> {
        let store = store.as_context_mut();
        let opaque = &store.0.opaque;
        if !instance.belongs_to(opaque) {
            return Err(Error::Usage(format!(
                "cannot define `{module}`: the instance belongs to another store"
            )));
        }
        for (name, item) in instance.exports(&store) {
            self.define(&store, module, &name, item)?;
        }
        Ok(self)
    }

    /// Instantiates `module` (a reactor: it must not export `_start`) in `store`, runs its
    /// `_initialize` export if it has one, and defines its exports under the name `name`.
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        name: &str,
        module: &Module,
    ) -> Result<&mut Linker<T>> {
        if module.exports().iter().any(|e| e.name == "_start") {
            return Err(Error::Usage(format!(
                "cannot define `{name}` from a command module (it exports `_start`); \
                 instantiate it and use `Linker::instance`"
            )));
        }
        let instance = self.instantiate(&mut store, module)?;
        if let Some(init) = instance.get_func(&store, "_initialize") {
            init.call(&mut store, &[], &mut [])?;
        }
        self.instance(store, name, instance)
    }

    /// Defines every function import of `module` that has no definition yet as a host
    /// function that traps ("unknown import ...") when called.
    ///
    /// ```
    /// use runtime_engine::{Engine, Linker, Module, Store};
    /// let engine = Engine::default();
    /// let module = Module::new(&engine, r#"(module (import "env" "rarely_used" (func $r))
    ///     (func (export "ok") (result i32) (i32.const 1))
    ///     (func (export "bad") (call $r)))"#)?;
    /// let mut linker = Linker::new(&engine);
    /// linker.define_unknown_imports_as_traps(&module)?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = linker.instantiate(&mut store, &module)?;
    /// assert_eq!(instance.get_typed_func::<(), i32>(&store, "ok")?.call(&mut store, ())?, 1);
    /// let err = instance.get_typed_func::<(), ()>(&store, "bad")?.call(&mut store, ()).unwrap_err();
    /// assert!(err.to_string().contains("unknown import: `env::rarely_used`"));
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        for import in module.imports() {
            let ExternType::Func(ty) = &import.ty else {
                continue;
            };
            if self
                .defs
                .contains_key(&(import.module.clone(), import.name.clone()))
            {
                continue;
            }
            let message = format!(
                "unknown import: `{}::{}` has not been defined",
                import.module, import.name
            );
            self.func_new(&import.module, &import.name, ty.clone(), move |_, _, _| {
                Err(Error::Trap(Trap::host(message.clone())))
            })?;
        }
        Ok(())
    }

    /// The definition of `module::name` as an item of `store` (making a host function there
    /// if needed); `None` if there is none, or it is an item of another store.
    ///
    /// ```
    /// use runtime_engine::{Engine, Linker, Store};
    /// let engine = Engine::default();
    /// let mut linker = Linker::<()>::new(&engine);
    /// linker.func_wrap("env", "one", || 1i32)?;
    /// let mut store = Store::new(&engine, ());
    /// let one = linker.get(&mut store, "env", "one").and_then(|e| e.into_func()).unwrap();
    /// assert_eq!(one.typed::<(), i32>(&store)?.call(&mut store, ())?, 1);
    /// assert!(linker.get(&mut store, "env", "two").is_none());
    /// # Ok::<(), runtime_engine::Error>(())
    /// ```
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let store = &mut store.as_context_mut().0.opaque;
        let def = self.defs.get(&(module.to_string(), name.to_string()))?;
        self.check_store(store).ok()?;
        item_in(def, store).ok()
    }

    /// Resolves the imports of `module` and instantiates it in `store`.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut store = store.as_context_mut();
        let opaque = &mut store.0.opaque;
        self.check_store(opaque)?;
        let imports = module
            .imports()
            .iter()
            .map(|i| {
                let def = self
                    .defs
                    .get(&(i.module.clone(), i.name.clone()))
                    .ok_or_else(|| {
                        Error::Link(format!(
                            "unknown import: `{}::{}` has not been defined ({})",
                            i.module,
                            i.name,
                            i.ty.kind()
                        ))
                    })?;
                item_in(def, opaque).map_err(|kind| {
                    Error::Link(format!(
                        "import `{}::{}`: the linker's definition is a {kind} of another store",
                        i.module, i.name
                    ))
                })
            })
            .collect::<Result<Vec<Extern>>>()?;
        Instance::new(&mut store, module, &imports)
    }

    fn check_store(&self, store: &StoreOpaque) -> Result<()> {
        if store.engine.same(&self.engine) {
            Ok(())
        } else {
            Err(Error::Usage(
                "the linker and the store belong to different engines".into(),
            ))
        }
    }
}

/// The definition as an item of `store`, or the kind of item if it belongs to another store.
fn item_in<T: 'static>(
    def: &Definition<T>,
    store: &mut StoreOpaque,
) -> std::result::Result<Extern, &'static str> {
    match def {
        Definition::Extern(e) if e.belongs_to(store) => Ok(e.clone()),
        Definition::Extern(e) => Err(e.ty_kind()),
        Definition::Host(host) => {
            let key = Arc::as_ptr(host) as *const () as usize;
            if let Some((func, _)) = store.linker_funcs.get(&key) {
                return Ok(Extern::Func(*func));
            }
            let func = host.to_func(store);
            let keep: Arc<dyn std::any::Any + Send + Sync> = host.clone();
            store.linker_funcs.insert(key, (func, keep));
            Ok(Extern::Func(func))
        }
    }
}
