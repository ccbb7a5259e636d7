//! WASI phase, threads: wasi-threads' `wasi::thread-spawn(start_arg) -> tid`. Each spawned
//! thread is a host thread with a store of its own, in which the same module is instantiated
//! with the same imports (its shared memory among them) and the same WASI state (the host data
//! is cloned: a [`WasiP1Ctx`](super::WasiP1Ctx) clone shares its descriptor table); then
//! `wasi_thread_start(tid, start_arg)` runs there. A thread that ends with `proc_exit` or a
//! trap reports it to the embedder's `on_exit`, which is expected to end the whole program
//! (the CLI exits the process with that status); a thread that returns just ends.

use runtime_engine::{Caller, Engine, Error, Linker, Module, Store, Trap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// The module name `thread-spawn` is imported from.
pub const MODULE: &str = "wasi";
/// The import's name.
pub const THREAD_SPAWN: &str = "thread-spawn";
/// The export every spawned thread calls.
pub const THREAD_START: &str = "wasi_thread_start";
/// Thread ids are `1..=MAX_TID` (the proposal keeps the top bits free); 0 is never given.
const MAX_TID: u32 = 0x1FFF_FFFF;
/// Stack of a spawned host thread (wasm itself may use `Config::max_wasm_stack` of it).
const THREAD_STACK: usize = 8 << 20;

/// How a spawned thread ended the program: with `proc_exit(status)` (`Ok(status)`) or with
/// a trap or another error.
pub type ThreadExit = Result<i32, Error>;

/// Spawns the threads of one wasi-threads program.
pub struct WasiThreads<T> {
    inner: Arc<Spawner<T>>,
}

struct Spawner<T> {
    module: Module,
    /// The complete linker, set by [`WasiThreads::ready`].
    linker: OnceLock<Linker<T>>,
    next_tid: AtomicU32,
    on_exit: Box<dyn Fn(ThreadExit) + Send + Sync>,
    /// What every spawned thread's store gets before it instantiates (its limiter, fuel,
    /// epoch deadline), set by [`WasiThreads::store_setup`].
    setup: OnceLock<StoreSetup<T>>,
}

/// Prepares a spawned thread's store.
type StoreSetup<T> = Box<dyn Fn(&mut Store<T>) -> runtime_engine::Result<()> + Send + Sync>;

impl<T: Clone + Send + 'static> WasiThreads<T> {
    /// Threads for instances of `module`; `on_exit` is called (on the thread's host thread)
    /// when a spawned thread ends with `proc_exit` or an error.
    pub fn new(module: &Module, on_exit: impl Fn(ThreadExit) + Send + Sync + 'static) -> Self {
        WasiThreads {
            inner: Arc::new(Spawner {
                module: module.clone(),
                linker: OnceLock::new(),
                next_tid: AtomicU32::new(1),
                on_exit: Box::new(on_exit),
                setup: OnceLock::new(),
            }),
        }
    }

    /// Defines `wasi::thread-spawn` in `linker`. Then define everything else the module
    /// imports and call [`ready`](WasiThreads::ready) with the finished linker: until then
    /// `thread-spawn` fails (returns -1).
    pub fn add_to_linker(&self, linker: &mut Linker<T>) -> runtime_engine::Result<()> {
        let spawner = self.inner.clone();
        linker.func_wrap(
            MODULE,
            THREAD_SPAWN,
            move |caller: Caller<'_, T>, start_arg: i32| -> i32 {
                spawner.spawn(caller.engine(), caller.data().clone(), start_arg)
            },
        )?;
        Ok(())
    }

    /// Gives the threads the linker their instances are made with: a clone of `linker`, which
    /// must define every import of the module (`thread-spawn` included) with items every store
    /// can use (host functions, shared memories). The clone lives as long as the threads do.
    pub fn ready(&self, linker: &Linker<T>) {
        let _ = self.inner.linker.set(linker.clone());
    }

    /// Runs `setup` on every spawned thread's new store before its instance is made: the
    /// place to give it the bounds the main store has (its resource limiter, fuel, epoch
    /// deadline), which a store does not inherit. An error ends the program like a trap.
    /// Only the first call counts.
    pub fn store_setup(
        &self,
        setup: impl Fn(&mut Store<T>) -> runtime_engine::Result<()> + Send + Sync + 'static,
    ) {
        let _ = self.inner.setup.set(Box::new(setup));
    }
}

impl<T: Clone + Send + 'static> Spawner<T> {
    /// Starts a thread; its id, or -1 if it cannot be started.
    fn spawn(self: &Arc<Self>, engine: &Engine, data: T, start_arg: i32) -> i32 {
        if self.linker.get().is_none() {
            return -1;
        }
        let tid = self.next_tid.fetch_add(1, Ordering::Relaxed);
        if tid == 0 || tid > MAX_TID {
            return -1;
        }
        let (me, engine) = (self.clone(), engine.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("wasi thread {tid}"))
            .stack_size(THREAD_STACK)
            .spawn(move || {
                if let Err(exit) = me.run(&engine, data, tid as i32, start_arg) {
                    (me.on_exit)(exit);
                }
            });
        match spawned {
            Ok(_) => tid as i32,
            Err(_) => -1,
        }
    }

    /// Runs one thread; `Err` if it ended the program.
    fn run(&self, engine: &Engine, data: T, tid: i32, start_arg: i32) -> Result<(), ThreadExit> {
        let linker = self
            .linker
            .get()
            .expect("checked before the thread started");
        let mut store = Store::new(engine, data);
        if let Some(setup) = self.setup.get() {
            setup(&mut store).map_err(Err)?;
        }
        let started = linker
            .instantiate(&mut store, &self.module)
            .and_then(|instance| {
                instance.get_typed_func::<(i32, i32), ()>(&mut store, THREAD_START)
            });
        let start = started.map_err(Err)?;
        match start.call(&mut store, (tid, start_arg)) {
            Ok(()) => Ok(()),
            Err(e) => match e.as_trap().and_then(Trap::exit_status) {
                Some(status) => Err(Ok(status)),
                None => Err(Err(e)),
            },
        }
    }
}
