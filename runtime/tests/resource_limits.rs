//! Resource limits: a `ResourceLimiter` installed with `Store::limiter` (and `StoreLimits`)
//! is asked at instantiation, by `memory.grow`/`table.grow` and by the host's `grow`, and
//! bounds the number of instances, memories and tables.

use runtime::*;
use std::sync::atomic::{AtomicUsize, Ordering};

const PAGE: usize = 65536;

fn instance<T: 'static>(store: &mut Store<T>, wat: &str) -> Result<Instance> {
    let module = Module::new(store.engine(), wat)?;
    Instance::new(store, &module, &[])
}

/// A module with one memory and one table, and exports that grow them.
const GROWER: &str = r#"(module
    (memory (export "memory") 1 8)
    (table (export "table") 2 funcref)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size))
    (func (export "table_grow") (param i32) (result i32)
        (table.grow (ref.null func) (local.get 0))))"#;

fn grower<T: 'static>(store: &mut Store<T>) -> (TypedFunc<i32, i32>, TypedFunc<i32, i32>) {
    let inst = instance(store, GROWER).unwrap();
    let grow = inst.get_typed_func(&mut *store, "grow").unwrap();
    let table_grow = inst.get_typed_func(&mut *store, "table_grow").unwrap();
    (grow, table_grow)
}

/// What a limiter was asked, in order.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Asked {
    Memory(usize, usize, Option<usize>),
    Table(usize, usize, Option<usize>),
    MemoryFailed(String),
    TableFailed(String),
}

/// A limiter that records every question and answers by a rule.
struct Recorder {
    asked: Vec<Asked>,
    memory_bytes: usize,
    table_elements: usize,
    /// Answer growth questions with an error instead.
    fail: bool,
    counts: usize,
}

impl Recorder {
    fn new(memory_bytes: usize, table_elements: usize) -> Recorder {
        Recorder {
            asked: Vec::new(),
            memory_bytes,
            table_elements,
            fail: false,
            counts: DEFAULT_INSTANCE_LIMIT,
        }
    }
}

#[derive(Debug)]
struct Refusal(&'static str);
impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}", self.0)
    }
}
impl std::error::Error for Refusal {}

impl ResourceLimiter for Recorder {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> Result<bool> {
        self.asked.push(Asked::Memory(current, desired, max));
        if self.fail {
            return Err(Error::new(Refusal("memory")));
        }
        Ok(desired <= self.memory_bytes)
    }
    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        self.asked.push(Asked::MemoryFailed(error.to_string()));
        Ok(())
    }
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> Result<bool> {
        self.asked.push(Asked::Table(current, desired, max));
        if self.fail {
            return Err(Error::new(Refusal("table")));
        }
        Ok(desired <= self.table_elements)
    }
    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        self.asked.push(Asked::TableFailed(error.to_string()));
        Ok(())
    }
    fn instances(&self) -> usize {
        self.counts
    }
    fn tables(&self) -> usize {
        self.counts
    }
    fn memories(&self) -> usize {
        self.counts
    }
}

fn recording_store(memory_bytes: usize, table_elements: usize) -> Store<Recorder> {
    let mut store = Store::new(
        &Engine::default(),
        Recorder::new(memory_bytes, table_elements),
    );
    store.limiter(|r| r);
    store
}

#[test]
fn refused_growth_returns_minus_one_and_changes_nothing() {
    let mut store = recording_store(3 * PAGE, 4);
    let inst = instance(&mut store, GROWER).unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let size = inst.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    let table_grow = inst
        .get_typed_func::<i32, i32>(&mut store, "table_grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);
    assert_eq!(table_grow.call(&mut store, 2).unwrap(), 2);
    assert_eq!(table_grow.call(&mut store, 1).unwrap(), -1);
    let table = inst.get_table(&store, "table").unwrap();
    assert_eq!(table.size(&store), 4);
    // Without a limiter the same growths succeed.
    let mut free = Store::new(&Engine::default(), ());
    let (grow, table_grow) = grower(&mut free);
    assert_eq!(grow.call(&mut free, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut free, 1).unwrap(), 3);
    assert_eq!(table_grow.call(&mut free, 3).unwrap(), 2);
}

#[test]
fn the_limiter_sees_current_desired_and_maximum_sizes() {
    let mut store = recording_store(usize::MAX, usize::MAX);
    let inst = instance(&mut store, GROWER).unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let table_grow = inst
        .get_typed_func::<i32, i32>(&mut store, "table_grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, 0).unwrap(), 1); // a growth by 0 is not asked about
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 10).unwrap(), -1); // past the declared maximum
    assert_eq!(table_grow.call(&mut store, 3).unwrap(), 2);
    let memory = inst.get_memory(&store, "memory").unwrap();
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 3);
    let table = inst.get_table(&store, "table").unwrap();
    assert_eq!(table.grow(&mut store, 1, Val::FuncRef(None)).unwrap(), 5);
    let max = Some(8 * PAGE);
    // Tables without a maximum are capped at the runtime's 10,000,000 elements.
    let table_max = Some(10_000_000);
    assert_eq!(
        store.data().asked,
        [
            // Instantiation: initial sizes as growths from 0.
            Asked::Memory(0, PAGE, max),
            Asked::Table(0, 2, table_max),
            Asked::Memory(PAGE, 3 * PAGE, max),
            // Allowed by the limiter, refused by the maximum: the limiter is told.
            Asked::Memory(3 * PAGE, 13 * PAGE, max),
            Asked::MemoryFailed("memory maximum size exceeded".into()),
            Asked::Table(2, 5, table_max),
            Asked::Memory(3 * PAGE, 4 * PAGE, max),
            Asked::Table(5, 6, table_max),
        ]
    );
}

#[test]
fn the_maximum_is_the_index_space_or_what_the_runtime_reserves() {
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::WASM3 | WasmFeatures::CUSTOM_PAGE_SIZES);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, Recorder::new(usize::MAX, usize::MAX));
    store.limiter(|r| r);
    instance(
        &mut store,
        r#"(module (memory 2) (memory i64 1) (memory 3 (pagesize 1)) (table 1 5 funcref))"#,
    )
    .unwrap();
    assert_eq!(
        store.data().asked,
        [
            Asked::Memory(0, 2 * PAGE, Some(4 << 30)),
            // memory64: its index space is capped by this runtime's 128 TiB per memory.
            Asked::Memory(0, PAGE, Some(1 << 47)),
            Asked::Memory(0, 3, Some(4 << 30)),
            Asked::Table(0, 1, Some(5)),
        ]
    );
}

#[test]
fn instantiation_fails_when_an_initial_size_is_refused() {
    let mut store = recording_store(2 * PAGE, 10);
    let err = instance(&mut store, "(module (memory 3))").unwrap_err();
    assert!(matches!(err, Error::Resource(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "memory minimum size of 3 pages exceeds memory limits"
    );
    let err = instance(&mut store, "(module (table 11 funcref))").unwrap_err();
    assert_eq!(
        err.to_string(),
        "table minimum size of 11 elements exceeds table limits"
    );
    // The host's memories and tables are asked about too.
    let err = Memory::new(&mut store, MemoryType::new(3, None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "memory minimum size of 3 pages exceeds memory limits"
    );
    let ty = TableType::new(RefType::FUNCREF, 11, None);
    let err = Table::new(&mut store, ty, Val::FuncRef(None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "table minimum size of 11 elements exceeds table limits"
    );
    // Nothing was left behind: the counts still allow everything else.
    instance(&mut store, "(module (memory 2) (table 10 funcref))").unwrap();
}

#[test]
fn the_host_growing_past_the_limiter_is_an_error() {
    let mut store = recording_store(2 * PAGE, 3);
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 1);
    let err = memory.grow(&mut store, 1).unwrap_err();
    assert_eq!(err.to_string(), "memory cannot grow by 1 pages");
    assert_eq!(memory.size(&store), 2);
    let ty = TableType::new(RefType::FUNCREF, 1, None);
    let table = Table::new(&mut store, ty, Val::FuncRef(None)).unwrap();
    assert!(table.grow(&mut store, 3, Val::FuncRef(None)).is_err());
    assert_eq!(table.grow(&mut store, 2, Val::FuncRef(None)).unwrap(), 1);
}

#[test]
fn counts_of_instances_memories_and_tables_are_bounded() {
    let limits = |b: StoreLimitsBuilder| {
        let mut store = Store::new(&Engine::default(), b.build());
        store.limiter(|l| l);
        store
    };
    let mut store = limits(StoreLimitsBuilder::new().instances(2));
    instance(&mut store, "(module)").unwrap();
    instance(&mut store, "(module)").unwrap();
    let err = instance(&mut store, "(module)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: instance count too high at 3"
    );

    let mut store = limits(StoreLimitsBuilder::new().memories(2));
    let err = instance(&mut store, "(module (memory 0) (memory 0) (memory 0))").unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: memory count too high at 3"
    );
    instance(&mut store, "(module (memory 0))").unwrap();
    // A memory the host makes counts as well.
    Memory::new(&mut store, MemoryType::new(0, None)).unwrap();
    let err = Memory::new(&mut store, MemoryType::new(0, None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: memory count too high at 3"
    );

    let mut store = limits(StoreLimitsBuilder::new().tables(1));
    instance(&mut store, "(module (table 0 funcref))").unwrap();
    let err = instance(&mut store, "(module (table 0 funcref))").unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: table count too high at 2"
    );
    let ty = TableType::new(RefType::FUNCREF, 0, None);
    assert!(Table::new(&mut store, ty, Val::FuncRef(None)).is_err());
}

#[test]
fn imports_do_not_count_as_new_memories() {
    let mut store = Store::new(
        &Engine::default(),
        StoreLimitsBuilder::new().memories(1).build(),
    );
    store.limiter(|l| l);
    let exporter = instance(&mut store, r#"(module (memory (export "m") 1))"#).unwrap();
    let memory = exporter.get_memory(&store, "m").unwrap();
    let module = Module::new(store.engine(), r#"(module (import "" "m" (memory 1)))"#).unwrap();
    Instance::new(&mut store, &module, &[memory.into()]).unwrap();
}

#[test]
fn without_a_limiter_wasmtimes_default_counts_apply() {
    let mut store = Store::new(&Engine::default(), ());
    let module = Module::new(store.engine(), "(module)").unwrap();
    for _ in 0..DEFAULT_INSTANCE_LIMIT {
        Instance::new(&mut store, &module, &[]).unwrap();
    }
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource limit exceeded: instance count too high at 10001"
    );
}

#[test]
fn a_limiter_error_traps_and_comes_out_of_the_call_unchanged() {
    let mut store = recording_store(usize::MAX, usize::MAX);
    let (grow, table_grow) = grower(&mut store);
    store.data_mut().fail = true;
    let err = grow.call(&mut store, 1).unwrap_err();
    assert_eq!(err.downcast_ref::<Refusal>().unwrap().0, "memory");
    let err = table_grow.call(&mut store, 1).unwrap_err();
    assert_eq!(err.downcast_ref::<Refusal>().unwrap().0, "table");
    // The store stays usable.
    store.data_mut().fail = false;
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    // An error at instantiation or from the host's grow is returned too.
    store.data_mut().fail = true;
    let err = instance(&mut store, "(module (memory 1))").unwrap_err();
    assert!(err.downcast_ref::<Refusal>().is_some());
    let err = Memory::new(&mut store, MemoryType::new(1, None)).unwrap_err();
    assert!(err.downcast_ref::<Refusal>().is_some());
}

#[test]
fn a_limiter_error_crosses_nested_host_and_wasm_frames() {
    let mut store = recording_store(usize::MAX, usize::MAX);
    let module = Module::new(
        store.engine(),
        r#"(module
            (import "host" "call_back" (func $call_back))
            (memory 1)
            (func (export "grow") (drop (memory.grow (i32.const 1))))
            (func (export "outer") (call $call_back)))"#,
    )
    .unwrap();
    let call_back = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, Recorder>| -> Result<()> {
            caller.data_mut().fail = true;
            let grow = caller.get_export("grow").unwrap().into_func().unwrap();
            grow.call(&mut caller, &[], &mut [])
        },
    );
    let inst = Instance::new(&mut store, &module, &[call_back.into()]).unwrap();
    let outer = inst.get_typed_func::<(), ()>(&mut store, "outer").unwrap();
    let err = outer.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<Refusal>().unwrap().0, "memory");
}

#[test]
fn a_limiter_panic_propagates_as_a_panic() {
    struct Panicker;
    impl ResourceLimiter for Panicker {
        fn memory_growing(&mut self, current: usize, _: usize, _: Option<usize>) -> Result<bool> {
            if current > 0 {
                panic!("limiter panicked");
            }
            Ok(true)
        }
        fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
            Ok(true)
        }
    }
    let mut store = Store::new(&Engine::default(), Panicker);
    store.limiter(|p| p);
    let (grow, _) = grower(&mut store);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = grow.call(&mut store, 1);
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"limiter panicked"));
}

#[test]
fn trap_on_grow_failure_makes_refusals_and_failures_errors() {
    let limits = StoreLimitsBuilder::new()
        .memory_size(2 * PAGE)
        .table_elements(3)
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(&Engine::default(), limits);
    store.limiter(|l| l);
    let (grow, table_grow) = grower(&mut store);
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    let err = grow.call(&mut store, 1).unwrap_err();
    assert!(matches!(err, Error::Resource(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "forcing trap when growing memory to 196608 bytes"
    );
    let err = table_grow.call(&mut store, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forcing trap when growing table to 4 elements"
    );
    // Beyond a declared maximum, with no size limit.
    let limits = StoreLimitsBuilder::new().trap_on_grow_failure(true).build();
    let mut store = Store::new(&Engine::default(), limits);
    store.limiter(|l| l);
    let (grow, _) = grower(&mut store);
    let err = grow.call(&mut store, 8).unwrap_err();
    assert_eq!(
        err.to_string(),
        "forcing trap when growing memory to 589824 bytes"
    );
    // Without the option the same growth returns -1.
    let mut store = Store::new(&Engine::default(), StoreLimits::default());
    store.limiter(|l| l);
    let (grow, _) = grower(&mut store);
    assert_eq!(grow.call(&mut store, 8).unwrap(), -1);
}

#[test]
fn a_failure_after_the_limiter_allowed_reaches_grow_failed() {
    struct AllowAll(usize);
    impl ResourceLimiter for AllowAll {
        fn memory_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
            Ok(true)
        }
        fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
            self.0 += 1;
            Err(Error::msg(format!("grow failed: {error}")))
        }
        fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
            Ok(true)
        }
    }
    let mut store = Store::new(&Engine::default(), AllowAll(0));
    store.limiter(|l| l);
    let (grow, _) = grower(&mut store);
    let err = grow.call(&mut store, 8).unwrap_err();
    assert_eq!(err.to_string(), "grow failed: memory maximum size exceeded");
    assert_eq!(store.data().0, 1);
}

#[test]
fn shared_memories_are_limited_too() {
    let mut store = Store::new(
        &Engine::default(),
        StoreLimitsBuilder::new().memory_size(2 * PAGE).build(),
    );
    store.limiter(|l| l);
    let inst = instance(
        &mut store,
        r#"(module (memory 1 4 shared)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let grow = inst.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
}

#[test]
fn a_store_with_a_limiter_moves_between_threads() {
    static ASKED: AtomicUsize = AtomicUsize::new(0);
    struct Counting(StoreLimits);
    impl ResourceLimiter for Counting {
        fn memory_growing(&mut self, c: usize, d: usize, m: Option<usize>) -> Result<bool> {
            ASKED.fetch_add(1, Ordering::Relaxed);
            self.0.memory_growing(c, d, m)
        }
        fn table_growing(&mut self, c: usize, d: usize, m: Option<usize>) -> Result<bool> {
            self.0.table_growing(c, d, m)
        }
    }
    let limits = StoreLimitsBuilder::new().memory_size(2 * PAGE).build();
    let mut store = Store::new(&Engine::default(), Counting(limits));
    store.limiter(|c| c);
    let (grow, _) = grower(&mut store);
    let (store, result) = std::thread::spawn(move || {
        let r = (
            grow.call(&mut store, 1).unwrap(),
            grow.call(&mut store, 1).unwrap(),
        );
        (store, r)
    })
    .join()
    .unwrap();
    assert_eq!(result, (1, -1));
    assert_eq!(ASKED.load(Ordering::Relaxed), 3);
    drop(store);
}
