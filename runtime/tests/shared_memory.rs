//! Shared memories across stores on several host threads: atomics, growth, wait and notify.

use runtime::{
    Config, Engine, Extern, Instance, MemoryType, Module, SharedMemory, Store, TrapCode, WaitResult,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn engine(explicit_bounds_checks: bool) -> Engine {
    let mut config = Config::new();
    config.explicit_bounds_checks(explicit_bounds_checks);
    Engine::new(&config).unwrap()
}

fn shared(engine: &Engine, min: u64, max: u64) -> SharedMemory {
    let ty = MemoryType {
        shared: true,
        ..MemoryType::new(min, Some(max))
    };
    SharedMemory::new(engine, ty).unwrap()
}

/// Instantiates `module` (importing `env::memory`) in a fresh store.
fn instance(engine: &Engine, module: &Module, memory: &SharedMemory) -> (Store<()>, Instance) {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[memory.clone().into()]).unwrap();
    (store, instance)
}

const COUNTER: &str = r#"(module
    (import "env" "memory" (memory 1 4 shared))
    (func (export "add") (param i32)
      (loop
        (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
        (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "cas_add") (param i32) (local i32)
      (loop
        ;; a compare-exchange loop on the second counter
        (loop
          (local.set 1 (i32.atomic.load (i32.const 8)))
          (br_if 0 (i32.ne (local.get 1)
            (i32.atomic.rmw.cmpxchg (i32.const 8) (local.get 1)
              (i32.add (local.get 1) (i32.const 1))))))
        (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"#;

#[test]
fn atomic_read_modify_writes_from_four_threads_lose_nothing() {
    for explicit in [false, true] {
        let engine = engine(explicit);
        let module = Module::new(&engine, COUNTER).unwrap();
        let memory = shared(&engine, 1, 4);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
                std::thread::spawn(move || {
                    let (mut store, instance) = instance(&engine, &module, &memory);
                    let add = instance
                        .get_typed_func::<i32, ()>(&mut store, "add")
                        .unwrap();
                    let cas = instance.get_typed_func::<i32, ()>(&mut store, "cas_add");
                    add.call(&mut store, 100_000).unwrap();
                    cas.unwrap().call(&mut store, 50_000).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut bytes = [0u8; 12];
        memory.read(0, &mut bytes).unwrap();
        let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        assert_eq!(
            (word(0), word(8)),
            (400_000, 200_000),
            "explicit checks: {explicit}"
        );
    }
}

const GROWER: &str = r#"(module
    (import "env" "memory" (memory 1 8 shared))
    (func (export "grow") (result i32) (memory.grow (i32.const 1)))
    (func (export "size") (result i32) (memory.size))
    (func (export "poke") (param i32) (i32.store8 (local.get 0) (i32.const 9)))
    (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;

#[test]
fn growth_in_one_store_is_seen_by_the_others_and_the_host() {
    for explicit in [false, true] {
        let engine = engine(explicit);
        let module = Module::new(&engine, GROWER).unwrap();
        let memory = shared(&engine, 1, 8);
        let (mut a, ia) = instance(&engine, &module, &memory);
        // The other store lives on another thread, which sees the growth there.
        let b = {
            let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
            std::thread::spawn(move || instance(&engine, &module, &memory))
        };
        let (mut b, ib) = b.join().unwrap();
        let peek_b = ib.get_typed_func::<i32, i32>(&mut b, "peek").unwrap();
        let oob = peek_b.call(&mut b, 65536).unwrap_err();
        assert_eq!(
            oob.as_trap().map(|t| t.code()),
            Some(TrapCode::MemoryOutOfBounds)
        );
        let grow = ia.get_typed_func::<(), i32>(&mut a, "grow").unwrap();
        assert_eq!(grow.call(&mut a, ()).unwrap(), 1);
        let poke = ia.get_typed_func::<i32, ()>(&mut a, "poke").unwrap();
        poke.call(&mut a, 65536 + 5).unwrap();
        let seen = std::thread::spawn(move || {
            let size = ib.get_typed_func::<(), i32>(&mut b, "size").unwrap();
            (
                size.call(&mut b, ()).unwrap(),
                peek_b.call(&mut b, 65536 + 5).unwrap(),
            )
        });
        assert_eq!(seen.join().unwrap(), (2, 9), "explicit checks: {explicit}");
        memory.grow(1).unwrap();
        assert_eq!(memory.size(), 3);
        let size = ia.get_typed_func::<(), i32>(&mut a, "size").unwrap();
        assert_eq!(size.call(&mut a, ()).unwrap(), 3);
    }
}

#[test]
fn exports_and_imports_of_shared_memories() {
    let engine = engine(false);
    let owner = Module::new(&engine, r#"(module (memory (export "m") 1 2 shared))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &owner, &[]).unwrap();
    assert!(instance.get_memory(&store, "m").is_none());
    let memory = instance.get_shared_memory(&store, "m").unwrap();
    assert!(matches!(
        instance.get_export(&store, "m"),
        Some(Extern::SharedMemory(_))
    ));
    // The same memory imported into the same store twice and into another store.
    let user = Module::new(
        &engine,
        r#"(module (import "a" "m" (memory 1 2 shared)) (import "b" "m" (memory 1 2 shared))
            (func (export "copy") (i32.store8 (i32.const 1) (i32.load8_u (i32.const 0)))))"#,
    );
    // Two memories need multi-memory, on by default in Wasm 3.0.
    let user = user.unwrap();
    memory.write(0, &[42]).unwrap();
    let again = Instance::new(
        &mut store,
        &user,
        &[memory.clone().into(), memory.clone().into()],
    )
    .unwrap();
    let copy = again.get_typed_func::<(), ()>(&mut store, "copy").unwrap();
    copy.call(&mut store, ()).unwrap();
    let mut byte = [0];
    memory.read(1, &mut byte).unwrap();
    assert_eq!(byte, [42]);

    // An unshared import does not accept it, nor a shared one an unshared memory.
    let unshared = Module::new(&engine, r#"(module (import "a" "m" (memory 1 2)))"#).unwrap();
    let err = Instance::new(&mut store, &unshared, &[memory.clone().into()]).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
    let plain = runtime::Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    let shared_import = Module::new(&engine, r#"(module (import "a" "m" (memory 1 2 shared)))"#);
    let err = Instance::new(&mut store, &shared_import.unwrap(), &[plain.into()]).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
    // `Memory::new` refuses shared types; another engine's shared memory does not link.
    let ty = MemoryType {
        shared: true,
        ..MemoryType::new(1, Some(2))
    };
    assert!(runtime::Memory::new(&mut store, ty).is_err());
    let foreign = shared(&Engine::default(), 1, 2);
    let err = Instance::new(&mut store, &user, &[foreign.clone().into(), foreign.into()]);
    assert!(err.unwrap_err().to_string().contains("another engine"));
}

const WAITER: &str = r#"(module
    (import "env" "memory" (memory 1 1 shared))
    (func (export "wait32") (param i32 i32 i64) (result i32)
      (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
    (func (export "wait64") (param i32 i64 i64) (result i32)
      (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
    (func (export "notify") (param i32 i32) (result i32)
      (memory.atomic.notify (local.get 0) (local.get 1)))
    (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1))))"#;

#[test]
fn wait_returns_not_equal_timed_out_and_ok() {
    let engine = engine(false);
    let module = Module::new(&engine, WAITER).unwrap();
    let memory = shared(&engine, 1, 1);
    let (mut store, inst) = instance(&engine, &module, &memory);
    let wait32 = inst
        .get_typed_func::<(i32, i32, i64), i32>(&mut store, "wait32")
        .unwrap();
    let wait64 = inst
        .get_typed_func::<(i32, i64, i64), i32>(&mut store, "wait64")
        .unwrap();
    assert_eq!(wait32.call(&mut store, (0, 1, -1)).unwrap(), 1, "not-equal");
    let start = Instant::now();
    assert_eq!(
        wait64.call(&mut store, (8, 0, 20_000_000)).unwrap(),
        2,
        "timed-out"
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    let unaligned = wait32.call(&mut store, (2, 0, 0)).unwrap_err();
    assert_eq!(
        unaligned.as_trap().map(|t| t.code()),
        Some(TrapCode::UnalignedAtomic)
    );
    let oob = wait64.call(&mut store, (65536, 0, 0)).unwrap_err();
    assert_eq!(
        oob.as_trap().map(|t| t.code()),
        Some(TrapCode::MemoryOutOfBounds)
    );

    // A wasm waiter with no time limit, woken by wasm in another store on another thread.
    let waiter = {
        let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
        std::thread::spawn(move || {
            let (mut store, inst) = instance(&engine, &module, &memory);
            let wait = inst.get_typed_func::<(i32, i32, i64), i32>(&mut store, "wait32");
            wait.unwrap().call(&mut store, (16, 0, -1)).unwrap()
        })
    };
    let notify = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "notify")
        .unwrap();
    while notify.call(&mut store, (16, 1)).unwrap() == 0 {
        std::thread::yield_now();
    }
    assert_eq!(waiter.join().unwrap(), 0, "ok");
    // The host side of the same parking lot.
    let host = {
        let memory = memory.clone();
        std::thread::spawn(move || memory.atomic_wait32(24, 0, None).unwrap())
    };
    while notify.call(&mut store, (24, 1)).unwrap() == 0 {
        std::thread::yield_now();
    }
    assert_eq!(host.join().unwrap(), WaitResult::Ok);
}

#[test]
fn notify_wakes_exactly_its_count_and_nothing_is_lost() {
    let engine = engine(false);
    let module = Module::new(&engine, WAITER).unwrap();
    let memory = shared(&engine, 1, 1);
    let woken = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
            let woken = woken.clone();
            std::thread::spawn(move || {
                let (mut store, inst) = instance(&engine, &module, &memory);
                let wait = inst.get_typed_func::<(i32, i32, i64), i32>(&mut store, "wait32");
                let r = wait.unwrap().call(&mut store, (0, 0, -1)).unwrap();
                woken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                r
            })
        })
        .collect();
    let (mut store, inst) = instance(&engine, &module, &memory);
    let notify = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "notify")
        .unwrap();
    // Wake them two at a time; a count of 0 wakes nobody.
    let mut total = 0;
    while total < 2 {
        total += notify.call(&mut store, (0, 2 - total)).unwrap();
        std::thread::yield_now();
    }
    assert_eq!(notify.call(&mut store, (0, 0)).unwrap(), 0);
    while total < 4 {
        total += notify.call(&mut store, (0, 4 - total)).unwrap();
        std::thread::yield_now();
    }
    for w in waiters {
        assert_eq!(w.join().unwrap(), 0);
    }
    assert_eq!(woken.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(notify.call(&mut store, (0, u32::MAX as i32)).unwrap(), 0);

    // A ping-pong of 2,000 round trips: a lost wake-up would hang it.
    let pong = {
        let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
        std::thread::spawn(move || ping_pong(&engine, &module, &memory, 1))
    };
    ping_pong(&engine, &module, &memory, 0);
    pong.join().unwrap();
}

/// Takes turns with another thread through the word at 32: waits until it holds `me`, then
/// hands it to the other side and notifies.
fn ping_pong(engine: &Engine, module: &Module, memory: &SharedMemory, me: i32) {
    let (mut store, inst) = instance(engine, module, memory);
    let wait = inst
        .get_typed_func::<(i32, i32, i64), i32>(&mut store, "wait32")
        .unwrap();
    let notify = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "notify")
        .unwrap();
    let set = inst
        .get_typed_func::<(i32, i32), ()>(&mut store, "store")
        .unwrap();
    let mut word = [0u8; 4];
    for _ in 0..1000 {
        loop {
            memory.read(32, &mut word).unwrap();
            if i32::from_le_bytes(word) == me {
                break;
            }
            wait.call(&mut store, (32, 1 - me, -1)).unwrap();
        }
        set.call(&mut store, (32, 1 - me)).unwrap();
        notify.call(&mut store, (32, 1)).unwrap();
    }
}

#[test]
fn waiting_on_an_unshared_memory_traps() {
    let engine = engine(false);
    let module = Module::new(
        &engine,
        r#"(module (memory 1)
            (func (export "wait") (result i32)
              (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))
            (func (export "notify") (result i32)
              (memory.atomic.notify (i32.const 0) (i32.const 1))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let wait = inst.get_typed_func::<(), i32>(&mut store, "wait").unwrap();
    let err = wait.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.as_trap().map(|t| t.code()),
        Some(TrapCode::ExpectedSharedMemory)
    );
    let notify = inst
        .get_typed_func::<(), i32>(&mut store, "notify")
        .unwrap();
    assert_eq!(notify.call(&mut store, ()).unwrap(), 0);
}
