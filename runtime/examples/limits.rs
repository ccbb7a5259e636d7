//! Resource limits: `StoreLimits` in the host data, installed with `Store::limiter`, caps
//! each memory's size and the number of instances; a guest growing past the cap sees
//! `memory.grow` return -1, and with `trap_on_grow_failure` the growth is an error instead.
//! A `ResourceLimiter` of one's own can decide (and watch) anything else.
//!
//! `cargo run -p runtime --example limits`

use runtime::{
    Engine, Instance, Module, ResourceLimiter, Result, Store, StoreLimits, StoreLimitsBuilder,
};

const GUEST: &str = r#"(module
    (memory (export "memory") 1)
    ;; Grows by one page at a time until refused; returns the pages reached.
    (func (export "grow_until_refused") (result i32)
        (block $refused
            (loop $again
                (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                (br $again)))
        (memory.size)))"#;

/// The host data: the limits beside whatever else the host keeps.
struct Host {
    limits: StoreLimits,
}

/// A limiter of one's own: allows what `StoreLimits` allows and logs each request.
struct Logged {
    inner: StoreLimits,
    log: Vec<String>,
}

impl ResourceLimiter for Logged {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, max)?;
        self.log
            .push(format!("memory {current} -> {desired} bytes: {allowed}"));
        Ok(allowed)
    }
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> Result<bool> {
        self.inner.table_growing(current, desired, max)
    }
}

/// What each part observed.
pub fn run() -> Result<Vec<String>> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST)?;
    let mut seen = Vec::new();

    // 4 pages of 64 KiB per memory, one instance per store.
    let limits = StoreLimitsBuilder::new()
        .memory_size(4 * 65536)
        .instances(1)
        .build();
    let mut store = Store::new(&engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<(), i32>(&mut store, "grow_until_refused")?;
    seen.push(format!(
        "memory.grow refused at {} pages",
        grow.call(&mut store, ())?
    ));
    let second = Instance::new(&mut store, &module, &[]).unwrap_err();
    seen.push(format!("a second instance: {second}"));

    // The same growth as an error.
    let limits = StoreLimitsBuilder::new()
        .memory_size(4 * 65536)
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(&engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<(), i32>(&mut store, "grow_until_refused")?;
    seen.push(format!(
        "with trap_on_grow_failure: {}",
        grow.call(&mut store, ()).unwrap_err()
    ));

    // A limiter of one's own.
    let inner = StoreLimitsBuilder::new().memory_size(2 * 65536).build();
    let mut store = Store::new(
        &engine,
        Logged {
            inner,
            log: Vec::new(),
        },
    );
    store.limiter(|logged| logged);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<(), i32>(&mut store, "grow_until_refused")?;
    grow.call(&mut store, ())?;
    seen.extend(store.into_data().log);
    Ok(seen)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    for line in run()? {
        println!("{line}");
    }
    Ok(())
}
