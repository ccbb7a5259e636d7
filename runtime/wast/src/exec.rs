//! Script runner: executes a script's directives in order against one store, keeping the
//! current module, named modules and instances, and the registered import namespaces.
//! A `thread` directive runs in another executor with its own store (`threads.rs`).

use super::script::{self, module_name, LineIndex};
use super::threads::{SharedExports, ThreadHandle};
use super::values::{arg_to_val, panic_message};
use super::{spectest, DirectiveResult, Outcome, WastOptions};
use runtime_engine::{Config, Engine, Error, Extern, Instance, Linker, Module, Store, Val};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use wast::token::Id;
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, Wat};

/// A passing directive (with an optional detail, e.g. the error a module was rejected with)
/// or the reason it failed.
pub(super) type Step = Result<Option<String>, String>;

/// A named thing, or why it is missing (its directive failed).
type Slot<T> = Result<T, String>;

/// Runs every directive of `text`, reporting each to `on_result`.
pub(crate) fn run(
    text: &str,
    options: &WastOptions,
    on_result: &mut dyn FnMut(&DirectiveResult),
) -> Vec<DirectiveResult> {
    let parsed = script::with_parsed(text, |wast, lines| {
        let mut exec = Executor::new(options, Arc::from(text));
        exec.run_all(wast.directives, lines, on_result)
    });
    parsed.unwrap_or_else(|e| {
        let result = DirectiveResult {
            index: 0,
            line: e.line,
            kind: "parse",
            outcome: Outcome::Fail(format!("the script does not parse: {}", e.message)),
            detail: None,
        };
        on_result(&result);
        vec![result]
    })
}

/// What an invocation gave when it did not return values.
pub(super) enum ExecError {
    /// The directive could not even be attempted (no such module or export, bad arguments).
    Setup(String),
    /// The runtime returned an error (a trap, a link error, ...).
    Runtime(Error),
}

/// The engine and the store a script runs in.
pub(super) struct Backend {
    pub(super) engine: Engine,
    pub(super) store: Store<()>,
    pub(super) linker: Linker<()>,
}

pub(super) struct Executor<'o> {
    pub(super) options: &'o WastOptions,
    pub(super) backend: Result<Backend, String>,
    /// Bumped whenever a panic forces a fresh store; instances remember theirs.
    generation: u32,
    /// Line of the directive whose panic last reset the store.
    reset_at: Option<u32>,
    /// Set while a directive is using the store, so a panic there resets it.
    touching_store: bool,
    current: Slot<(Instance, u32)>,
    instances: HashMap<String, Slot<(Instance, u32)>>,
    definitions: HashMap<String, Slot<Module>>,
    last_definition: Slot<Module>,
    /// Registered import namespaces, with the generation of the store they live in.
    registered: HashMap<String, u32>,
    /// Parts of `spectest` the runtime could not create.
    spectest_problems: Vec<String>,
    /// The whole script, which `thread` directives parse again on their own host threads.
    pub(super) text: Arc<str>,
    /// Where this executor's directives are: indices of the enclosing `thread` directives
    /// (empty at the top level), then the index of the directive running.
    pub(super) path: Vec<usize>,
    /// Threads started and not waited for yet, by name.
    pub(super) threads: HashMap<String, ThreadHandle>,
    /// Modules a parent script shared with this thread: their shared memories, by name.
    pub(super) shared_modules: HashMap<String, SharedExports>,
}

impl<'o> Executor<'o> {
    fn new(options: &'o WastOptions, text: Arc<str>) -> Executor<'o> {
        let engine = catch_unwind(|| {
            let mut config = Config::new();
            config.wasm_features(options.features);
            config.consume_fuel(options.fuel.is_some());
            if let Some(bytes) = options.max_wasm_stack {
                config.max_wasm_stack(bytes);
            }
            config.gc_zeal_alloc_counter(options.gc_zeal_alloc_counter);
            Engine::new(&config).map_err(|e| format!("cannot create the engine: {e}"))
        })
        .unwrap_or_else(|p| {
            Err(format!(
                "creating the engine panicked: {}",
                panic_message(&*p)
            ))
        });
        Executor::with_engine(options, engine, text, Vec::new())
    }

    /// An executor with its own store for `engine` (or the reason there is none); `path` as
    /// in [`Executor::path`].
    pub(super) fn with_engine(
        options: &'o WastOptions,
        engine: Result<Engine, String>,
        text: Arc<str>,
        path: Vec<usize>,
    ) -> Executor<'o> {
        let mut spectest_problems = Vec::new();
        let backend = engine.map(|engine| {
            let (store, linker, problems) = fresh_store(&engine, options);
            spectest_problems = problems;
            Backend {
                engine,
                store,
                linker,
            }
        });
        Executor {
            options,
            backend,
            generation: 0,
            reset_at: None,
            touching_store: false,
            current: Err("no module has been instantiated yet".to_string()),
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: Err("no module definition yet".to_string()),
            registered: HashMap::new(),
            spectest_problems,
            text,
            path,
            threads: HashMap::new(),
            shared_modules: HashMap::new(),
        }
    }

    /// Runs `directives` in order, reporting each to `on_result`.
    pub(super) fn run_all(
        &mut self,
        directives: Vec<WastDirective<'_>>,
        lines: &LineIndex,
        on_result: &mut dyn FnMut(&DirectiveResult),
    ) -> Vec<DirectiveResult> {
        let mut results = Vec::with_capacity(directives.len());
        self.path.push(0);
        for (index, directive) in directives.into_iter().enumerate() {
            *self.path.last_mut().expect("pushed above") = index;
            let line = lines.line_of(&directive);
            let kind = script::kind(&directive);
            let (outcome, detail) = self.run_directive(directive, line);
            if self.options.collect_between_directives {
                self.collect();
            }
            let result = DirectiveResult {
                index,
                line,
                kind,
                outcome,
                detail,
            };
            on_result(&result);
            results.push(result);
        }
        self.path.pop();
        results
    }

    /// Runs one directive, turning a panic into its failure.
    fn run_directive(
        &mut self,
        directive: WastDirective<'_>,
        line: u32,
    ) -> (Outcome, Option<String>) {
        self.touching_store = false;
        let step = catch_unwind(AssertUnwindSafe(|| self.directive(directive, line)));
        match step {
            Ok(Ok(detail)) => (Outcome::Pass, detail),
            Ok(Err(reason)) => (Outcome::Fail(reason), None),
            Err(payload) => {
                let mut reason = format!("the runtime panicked: {}", panic_message(&*payload));
                if self.touching_store {
                    self.reset_store(line);
                    reason.push_str(
                        " (the store was replaced by a fresh one; instances made before this \
                         directive are gone)",
                    );
                }
                (Outcome::Fail(reason), None)
            }
        }
    }

    /// Runs a full garbage collection in the script's store.
    fn collect(&mut self) {
        if let Ok(backend) = &mut self.backend {
            backend.store.gc();
        }
    }

    /// Replaces the store after a panic left it in an unknown state.
    fn reset_store(&mut self, line: u32) {
        if let Ok(backend) = &mut self.backend {
            let (store, linker, problems) = fresh_store(&backend.engine, self.options);
            let old = std::mem::replace(&mut backend.store, store);
            // Dropping a store a panic escaped from could run into the same broken state:
            // leak it instead.
            std::mem::forget(old);
            backend.linker = linker;
            self.spectest_problems = problems;
        }
        self.generation += 1;
        self.reset_at = Some(line);
    }

    fn directive(&mut self, directive: WastDirective<'_>, line: u32) -> Step {
        match directive {
            WastDirective::Module(mut module) => self.module(&mut module, line),
            WastDirective::ModuleDefinition(mut module) => {
                self.module_definition(&mut module, line)
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance, module, line),
            WastDirective::Register { name, module, .. } => self.register(name, module),
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => Ok(None),
                Err(e) => Err(self.describe_exec_error(e)),
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => {
                self.assert_trap(WastExecute::Invoke(call), message)
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => self.assert_rejected(&mut module, message),
            WastDirective::AssertInvalidCustom {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertMalformedCustom {
                mut module,
                message,
                ..
            } => self.assert_custom(&mut module, message),
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => self.assert_unlinkable(module, message),
            WastDirective::AssertException { exec, .. } => self.assert_exception(exec),
            WastDirective::AssertSuspension { exec, message, .. } => {
                self.assert_suspension(exec, message)
            }
            WastDirective::Thread(thread) => self.thread(thread),
            WastDirective::Wait { thread, .. } => self.wait(thread),
        }
    }

    // ----- modules -------------------------------------------------------------------------

    fn module(&mut self, module: &mut QuoteWat<'_>, line: u32) -> Step {
        let name = module_name(module);
        let missing = format!("no module to use: the module at line {line} failed");
        self.current = Err(missing.clone());
        if let Some(name) = &name {
            self.shared_modules.remove(name);
            self.instances.insert(name.clone(), Err(missing.clone()));
            self.definitions.insert(name.clone(), Err(missing));
        }
        let module = self.compile(module)?;
        if let Some(name) = &name {
            self.definitions.insert(name.clone(), Ok(module.clone()));
        }
        let instance = self
            .instantiate(&module)
            .map_err(|e| self.describe_error("instantiation failed", &module, e))?;
        self.set_current(name, instance);
        Ok(None)
    }

    fn module_definition(&mut self, module: &mut QuoteWat<'_>, line: u32) -> Step {
        let name = module_name(module);
        let missing = format!("no module definition to use: the one at line {line} failed");
        self.last_definition = Err(missing.clone());
        if let Some(name) = &name {
            self.definitions.insert(name.clone(), Err(missing));
        }
        let module = self.compile(module)?;
        if let Some(name) = name {
            self.definitions.insert(name, Ok(module.clone()));
        }
        self.last_definition = Ok(module);
        Ok(None)
    }

    fn module_instance(
        &mut self,
        instance: Option<Id<'_>>,
        module: Option<Id<'_>>,
        line: u32,
    ) -> Step {
        let definition = match module {
            Some(id) => self
                .definitions
                .get(id.name())
                .cloned()
                .unwrap_or_else(|| Err(format!("no module ${}", id.name()))),
            None => self.last_definition.clone(),
        }?;
        let name = instance.map(|id| id.name().to_string());
        let missing = format!("no module to use: the module instance at line {line} failed");
        self.current = Err(missing.clone());
        if let Some(name) = &name {
            self.shared_modules.remove(name);
            self.instances.insert(name.clone(), Err(missing));
        }
        let made = self
            .instantiate(&definition)
            .map_err(|e| self.describe_error("instantiation failed", &definition, e))?;
        self.set_current(name, made);
        Ok(None)
    }

    fn set_current(&mut self, name: Option<String>, instance: Instance) {
        let slot = (instance, self.generation);
        if let Some(name) = name {
            self.instances.insert(name, Ok(slot));
        }
        self.current = Ok(slot);
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Step {
        if let Some(shared) = module.and_then(|id| self.shared_modules.get(id.name())) {
            let shared = shared.clone();
            return self.register_shared(name, &shared);
        }
        let instance = self.instance(module.as_ref())?;
        let backend = self.backend.as_mut().map_err(|e| e.clone())?;
        self.touching_store = true;
        backend
            .linker
            .instance(&mut backend.store, name, instance)
            .map_err(|e| format!("cannot register the instance: {e}"))?;
        self.registered.insert(name.to_string(), self.generation);
        Ok(None)
    }

    /// Assembles a script module into a binary.
    /// Quoted text gets the folded legacy `try` forms unfolded first, as scripts do.
    pub(super) fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
        let fail = |e: wast::Error| format!("the module text does not assemble: {}", e.message());
        if !matches!(module, QuoteWat::QuoteModule(..)) {
            return module.encode().map_err(fail);
        }
        let text = match module.to_test().map_err(fail)? {
            wast::QuoteWatTest::Binary(bytes) => return Ok(bytes),
            wast::QuoteWatTest::Text(text) => text,
        };
        let text = String::from_utf8(text)
            .map_err(|_| "the module text does not assemble: malformed UTF-8 encoding")?;
        let text = super::unfold::unfold_legacy_try(&text);
        let buffer = wast::parser::ParseBuffer::new(&text).map_err(fail)?;
        let mut wat = wast::parser::parse::<Wat<'_>>(&buffer).map_err(fail)?;
        wat.encode().map_err(fail)
    }

    pub(super) fn compile_binary(&self, binary: &[u8]) -> Result<Module, Error> {
        let engine = match &self.backend {
            Ok(backend) => &backend.engine,
            Err(e) => return Err(Error::Usage(e.clone())),
        };
        Module::from_binary(engine, binary)
    }

    fn compile(&mut self, module: &mut QuoteWat<'_>) -> Result<Module, String> {
        let binary = Self::encode(module)?;
        self.compile_binary(&binary)
            .map_err(|e| format!("the module did not compile: {e}"))
    }

    pub(super) fn compile_wat(&mut self, mut wat: Wat<'_>) -> Result<Module, String> {
        let binary = wat
            .encode()
            .map_err(|e| format!("the module text does not assemble: {}", e.message()))?;
        self.compile_binary(&binary)
            .map_err(|e| format!("the module did not compile: {e}"))
    }

    pub(super) fn instantiate(&mut self, module: &Module) -> Result<Instance, Error> {
        let backend = self.backend.as_mut().map_err(|e| Error::Usage(e.clone()))?;
        self.touching_store = true;
        backend.linker.instantiate(&mut backend.store, module)
    }

    /// The instance `id` names, or the current one.
    pub(super) fn instance(&self, id: Option<&Id<'_>>) -> Result<Instance, String> {
        let slot = match id {
            None => &self.current,
            Some(id) if self.shared_modules.contains_key(id.name()) => {
                return Err(format!(
                    "module ${} was shared with this thread: only its shared memories are \
                     available here (through `register`)",
                    id.name()
                ))
            }
            Some(id) => self
                .instances
                .get(id.name())
                .ok_or_else(|| format!("no module instance ${}", id.name()))?,
        };
        let (instance, generation) = slot.clone()?;
        if generation != self.generation {
            return Err(format!(
                "the instance was lost when the store was replaced after the runtime panicked at line {}",
                self.reset_at.unwrap_or(0)
            ));
        }
        Ok(instance)
    }

    // ----- invocations ---------------------------------------------------------------------

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self
            .instance(invoke.module.as_ref())
            .map_err(ExecError::Setup)?;
        let backend = self
            .backend
            .as_mut()
            .map_err(|e| ExecError::Setup(e.clone()))?;
        self.touching_store = true;
        let store = &mut backend.store;
        let func = match instance.get_export(&*store, invoke.name) {
            Some(Extern::Func(f)) => f,
            Some(_) => {
                return Err(ExecError::Setup(format!(
                    "export \"{}\" is not a function",
                    invoke.name
                )))
            }
            None => {
                return Err(ExecError::Setup(format!(
                    "no export named \"{}\"",
                    invoke.name
                )))
            }
        };
        let ty = func.ty(&*store);
        if ty.params().len() != invoke.args.len() {
            return Err(ExecError::Setup(format!(
                "\"{}\" takes {} arguments, the script passes {}",
                invoke.name,
                ty.params().len(),
                invoke.args.len()
            )));
        }
        let args = invoke
            .args
            .iter()
            .zip(ty.params())
            .map(|(arg, ty)| arg_to_val(arg, *ty))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ExecError::Setup)?;
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        func.call(&mut *store, &args, &mut results)
            .map_err(ExecError::Runtime)?;
        Ok(results)
    }

    pub(super) fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module.as_ref()).map_err(ExecError::Setup)?;
                let backend = self
                    .backend
                    .as_mut()
                    .map_err(|e| ExecError::Setup(e.clone()))?;
                self.touching_store = true;
                match instance.get_export(&backend.store, global) {
                    Some(Extern::Global(g)) => Ok(vec![g.get(&backend.store)]),
                    Some(_) => Err(ExecError::Setup(format!(
                        "export \"{global}\" is not a global"
                    ))),
                    None => Err(ExecError::Setup(format!("no export named \"{global}\""))),
                }
            }
            WastExecute::Wat(wat) => {
                let module = self.compile_wat(wat).map_err(ExecError::Setup)?;
                self.instantiate(&module)
                    .map(|_| Vec::new())
                    .map_err(ExecError::Runtime)
            }
        }
    }

    fn describe_exec_error(&self, e: ExecError) -> String {
        match e {
            ExecError::Setup(why) => why,
            ExecError::Runtime(e) => format!("failed with: {e}"),
        }
    }

    /// An instantiation error, noting registered modules that a store reset lost.
    fn describe_error(&self, what: &str, module: &Module, e: Error) -> String {
        let mut text = format!("{what}: {e}");
        if let Error::Link(_) = e {
            for import in module.imports() {
                if self
                    .registered
                    .get(&import.module)
                    .is_some_and(|g| *g != self.generation)
                {
                    text.push_str(&format!(
                        " (\"{}\" was registered in a store lost after the panic at line {})",
                        import.module,
                        self.reset_at.unwrap_or(0)
                    ));
                    break;
                }
            }
            if !self.spectest_problems.is_empty()
                && module.imports().iter().any(|i| i.module == "spectest")
            {
                text.push_str(&format!(
                    " (spectest is incomplete: {})",
                    self.spectest_problems.join("; ")
                ));
            }
        }
        text
    }
}

/// A new store (with the script's fuel) with `spectest` defined in a new linker; a panic
/// while defining it is caught.
fn fresh_store(engine: &Engine, options: &WastOptions) -> (Store<()>, Linker<()>, Vec<String>) {
    let print = options.print;
    let mut store = Store::new(engine, ());
    if let Some(fuel) = options.fuel {
        store
            .set_fuel(fuel)
            .expect("the engine consumes fuel when the options give some");
    }
    let mut linker = Linker::new(engine);
    // `register` may reuse a name; the latest registration wins, as in the reference
    // interpreter.
    linker.allow_shadowing(true);
    let defined = catch_unwind(AssertUnwindSafe(|| {
        spectest::define(&mut store, &mut linker, print)
    }));
    let mut problems = defined.unwrap_or_else(|p| {
        vec![format!(
            "defining spectest panicked: {}",
            panic_message(&*p)
        )]
    });
    // Not part of `spectest`: a full collection wherever a script calls it.
    if let Err(e) = linker.func_wrap(
        "runtime",
        "gc",
        |mut caller: runtime_engine::Caller<'_, ()>| caller.gc(),
    ) {
        problems.push(format!("cannot define runtime.gc: {e}"));
    }
    (store, linker, problems)
}
