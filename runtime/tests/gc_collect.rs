//! The garbage collector: programs that allocate far more than the heap limit run to
//! completion, and objects reachable only from one kind of root (table, global, exception,
//! wasm frame, host handle) survive collections with their contents intact. Each test would
//! fail without a collector (the heap limit would be reached) or with a missed root (the
//! contents would be wrong, or reading them would fault).

use runtime::*;

/// A store whose GC heap may hold `limit` bytes.
fn store_with_limit(limit: usize) -> Store<()> {
    let mut config = Config::new();
    config.gc_heap_limit(limit);
    Store::new(&Engine::new(&config).unwrap(), ())
}

/// A store that collects before every `n`-th allocation and leaves the space it collected
/// inaccessible, so a missed root faults.
fn zealous_store(n: u32) -> Store<()> {
    let mut config = Config::new();
    config.gc_zeal_alloc_counter(Some(n));
    Store::new(&Engine::new(&config).unwrap(), ())
}

fn instance<T: 'static>(store: &mut Store<T>, wat: &str) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, &[]).unwrap()
}

fn call<T: 'static>(
    store: &mut Store<T>,
    inst: Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&mut *store).results().len()];
    f.call(&mut *store, args, &mut results)?;
    Ok(results)
}

fn i32_of(vals: &[Val]) -> i32 {
    vals[0].unwrap_i32()
}

const MIB: usize = 1 << 20;

/// `churn(n)`: allocates and drops a 1 KiB array and a struct pointing to it `n` times.
const CHURN: &str = r#"(module
  (type $a (array (mut i8)))
  (type $s (struct (field i32) (field (ref null $a))))
  (func $churn (export "churn") (param $n i32) (result i32)
    (local $i i32) (local $keep (ref null $s))
    (loop $l
      (local.set $keep (struct.new $s (local.get $i) (array.new_default $a (i32.const 1024))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (struct.get $s 0 (local.get $keep))))"#;

#[test]
fn churn_of_a_hundred_times_the_limit_completes() {
    let mut store = store_with_limit(8 * MIB);
    let inst = instance(&mut store, CHURN);
    // About 1.1 KiB per iteration: 800 MiB in all, 100 times the limit.
    let n = 100 * 8 * MIB as i32 / 1024;
    assert_eq!(
        i32_of(&call(&mut store, inst, "churn", &[Val::I32(n)]).unwrap()),
        n - 1
    );
    let stats = store.gc_heap_stats();
    assert!(stats.allocated_bytes >= 100 * 8 * MIB as u64, "{stats:?}");
    assert!(stats.collections >= 100, "{stats:?}");
    assert!(stats.live_bytes < MIB as u64, "{stats:?}");
}

#[test]
fn live_data_beyond_the_limit_traps_cleanly() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(
        &mut store,
        r#"(module
          (type $a (array (mut i8)))
          (type $node (struct (field (ref null $node)) (field (ref null $a))))
          (global $head (mut (ref null $node)) (ref.null $node))
          (func (export "grow") (param $n i32)
            (loop $l
              (global.set $head (struct.new $node (global.get $head)
                (array.new_default $a (i32.const 1000))))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n)))))"#,
    );
    // Everything stays reachable from the global: 10 MiB cannot fit in 4.
    let e = call(&mut store, inst, "grow", &[Val::I32(10_000)]).unwrap_err();
    let trap = e.as_trap().expect("a trap, not an abort");
    assert_eq!(trap.code(), TrapCode::GcHeapOutOfMemory, "{e}");
    assert!(e.to_string().contains("GC heap out of memory"), "{e}");
    // The store is still usable, and a single object beyond the limit is its own trap.
    let big = instance(
        &mut store,
        r#"(module (type $a (array i8))
          (func (export "big") (result i32) (array.len (array.new_default $a (i32.const 5000000)))))"#,
    );
    let e = call(&mut store, big, "big", &[]).unwrap_err();
    assert_eq!(
        e.as_trap().unwrap().code(),
        TrapCode::AllocationTooLarge,
        "{e}"
    );
}

/// Linked lists and binary trees, rebuilt many times and checked each time.
const STRUCTURES: &str = r#"(module
  (type $list (struct (field i32) (field (ref null $list))))
  (type $tree (struct (field (ref null $tree)) (field (ref null $tree)) (field i32)))
  (func $build_list (param $n i32) (result (ref null $list))
    (local $l (ref null $list))
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $l (struct.new $list (local.get $n) (local.get $l)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $l))
  (func $sum_list (param $l (ref null $list)) (result i32) (local $s i32)
    (block $done (loop $next
      (br_if $done (ref.is_null (local.get $l)))
      (local.set $s (i32.add (local.get $s) (struct.get $list 0 (local.get $l))))
      (local.set $l (struct.get $list 1 (local.get $l)))
      (br $next)))
    (local.get $s))
  (func $tree (param $d i32) (result (ref $tree))
    (if (result (ref $tree)) (i32.eqz (local.get $d))
      (then (struct.new $tree (ref.null $tree) (ref.null $tree) (i32.const 1)))
      (else (struct.new $tree
        (call $tree (i32.sub (local.get $d) (i32.const 1)))
        (call $tree (i32.sub (local.get $d) (i32.const 1)))
        (local.get $d)))))
  (func $count (param $t (ref null $tree)) (result i32)
    (if (result i32) (ref.is_null (local.get $t)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (i32.add
        (call $count (struct.get $tree 0 (local.get $t)))
        (call $count (struct.get $tree 1 (local.get $t))))))))
  ;; Rebuilds a list of `n` nodes `rounds` times, summing each; returns the sum of sums.
  (func (export "lists") (param $n i32) (param $rounds i32) (result i32) (local $total i32)
    (loop $again
      (local.set $total (i32.add (local.get $total)
        (call $sum_list (call $build_list (local.get $n)))))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br_if $again (local.get $rounds)))
    (local.get $total))
  ;; Builds a long-lived tree, then `rounds` short-lived ones; counts the long-lived one.
  (func (export "trees") (param $d i32) (param $rounds i32) (result i32)
    (local $keep (ref null $tree)) (local $total i32)
    (local.set $keep (call $tree (local.get $d)))
    (loop $again
      (local.set $total (i32.add (local.get $total) (call $count (call $tree (local.get $d)))))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br_if $again (local.get $rounds)))
    (i32.add (local.get $total) (call $count (local.get $keep)))))"#;

#[test]
fn lists_and_trees_rebuilt_in_a_loop() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, STRUCTURES);
    // 20,000 nodes of 32 bytes (640 KiB live), rebuilt 300 times: 190 MiB in all.
    let (n, rounds) = (20_000i64, 300i64);
    let sum = call(
        &mut store,
        inst,
        "lists",
        &[Val::I32(n as i32), Val::I32(rounds as i32)],
    );
    assert_eq!(i32_of(&sum.unwrap()), (n * (n + 1) / 2 * rounds) as i32);
    // Trees of depth 14 (32767 nodes, 1.5 MiB) built 60 times beside one kept alive.
    let nodes = (1 << 15) - 1;
    let count = call(&mut store, inst, "trees", &[Val::I32(14), Val::I32(60)]).unwrap();
    assert_eq!(i32_of(&count), nodes * 61);
    assert!(store.gc_heap_stats().collections > 10);
}

/// A struct `$box` holding an i32, a global, a table, and `churn`.
const ROOTS: &str = r#"(module
  (type $box (struct (field i32)))
  (type $a (array (mut i8)))
  (type $pair (struct (field (mut (ref null $pair))) (field i32)))
  (tag $e (param (ref $box) i32))
  (global $g (mut (ref null $box)) (ref.null $box))
  (global $exn (mut exnref) (ref.null exn))
  (table $t 4 anyref)
  (func $churn (export "churn") (param $n i32)
    (loop $l
      (drop (array.new_default $a (i32.const 1024)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
  (func (export "set_global") (param i32) (global.set $g (struct.new $box (local.get 0))))
  (func (export "get_global") (result i32) (struct.get $box 0 (global.get $g)))
  (func (export "set_table") (param i32 i32) (table.set $t (local.get 0) (struct.new $box (local.get 1))))
  (func (export "get_table") (param i32) (result i32)
    (struct.get $box 0 (ref.cast (ref $box) (table.get $t (local.get 0)))))
  ;; Catches an exception carrying a fresh box with catch_ref, churns while only the exnref
  ;; in a local holds it, then rethrows it and reads the payload.
  (func (export "exception") (param $v i32) (result i32) (local $x exnref)
    (block $outer (result (ref $box) i32)
      (try_table (catch $e $outer)
        (local.set $x (block $caught (result exnref)
          (try_table (catch_all_ref $caught)
            (throw $e (struct.new $box (local.get $v)) (i32.const 5)))
          (unreachable)))
        (call $churn (i32.const 20000))
        (throw_ref (local.get $x)))
      (unreachable))
    ;; The payload: the box, then 5.
    (local.set $v)
    (i32.add (struct.get $box 0) (local.get $v)))
  (func (export "exception2") (param $v i32) (result i32)
    (block $outer (result (ref $box) i32)
      (try_table (catch $e $outer)
        (global.set $exn (block $caught (result exnref)
          (try_table (catch_all_ref $caught)
            (throw $e (struct.new $box (local.get $v)) (i32.const 5)))
          (unreachable)))
        (call $churn (i32.const 20000))
        (throw_ref (global.get $exn)))
      (unreachable))
    (drop)
    (struct.get $box 0))
  ;; Recursion `depth` deep, each frame holding its own box; the innermost churns.
  (func $deep (export "deep") (param $depth i32) (result i32) (local $mine (ref null $box))
    (local.set $mine (struct.new $box (local.get $depth)))
    (if (i32.eqz (local.get $depth))
      (then (call $churn (i32.const 20000)))
      (else (if (i32.ne (call $deep (i32.sub (local.get $depth) (i32.const 1)))
                        (i32.sub (local.get $depth) (i32.const 1)))
        (then (unreachable)))))
    (struct.get $box 0 (local.get $mine)))
  ;; Cycles through struct fields, dropped each round.
  (func (export "cycles") (param $n i32) (local $a (ref null $pair)) (local $b (ref null $pair))
    (loop $l
      (local.set $a (struct.new $pair (ref.null $pair) (local.get $n)))
      (local.set $b (struct.new $pair (local.get $a) (local.get $n)))
      (struct.set $pair 0 (local.get $a) (local.get $b))
      (drop (array.new_default $a (i32.const 1000)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))
  (func (export "new_box") (param i32) (result anyref) (struct.new $box (local.get 0)))
  (func (export "unbox") (param anyref) (result i32) (struct.get $box 0 (ref.cast (ref $box) (local.get 0))))
  (func (export "same") (param anyref anyref) (result i32)
    (ref.eq (ref.cast eqref (local.get 0)) (ref.cast eqref (local.get 1)))))"#;

#[test]
fn objects_reachable_only_from_a_global_or_a_table_survive() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, ROOTS);
    call(&mut store, inst, "set_global", &[Val::I32(41)]).unwrap();
    for (i, v) in [(0, 10), (3, 13)] {
        call(&mut store, inst, "set_table", &[Val::I32(i), Val::I32(v)]).unwrap();
    }
    call(&mut store, inst, "churn", &[Val::I32(50_000)]).unwrap();
    store.gc();
    assert_eq!(
        i32_of(&call(&mut store, inst, "get_global", &[]).unwrap()),
        41
    );
    assert_eq!(
        i32_of(&call(&mut store, inst, "get_table", &[Val::I32(0)]).unwrap()),
        10
    );
    assert_eq!(
        i32_of(&call(&mut store, inst, "get_table", &[Val::I32(3)]).unwrap()),
        13
    );
    assert!(store.gc_heap_stats().collections >= 10);
}

#[test]
fn objects_reachable_only_from_an_exception_survive() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, ROOTS);
    assert_eq!(
        i32_of(&call(&mut store, inst, "exception", &[Val::I32(7)]).unwrap()),
        12
    );
    assert_eq!(
        i32_of(&call(&mut store, inst, "exception2", &[Val::I32(8)]).unwrap()),
        8
    );
    // Thrown exceptions are garbage too: many throws fit in a small heap.
    let before = store.gc_heap_stats().collections;
    for i in 0..20 {
        assert_eq!(
            i32_of(&call(&mut store, inst, "exception2", &[Val::I32(i)]).unwrap()),
            i
        );
    }
    assert!(store.gc_heap_stats().collections > before);
}

#[test]
fn objects_held_by_frames_deep_in_recursion_survive() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, ROOTS);
    let before = store.gc_heap_stats().collections;
    assert_eq!(
        i32_of(&call(&mut store, inst, "deep", &[Val::I32(2000)]).unwrap()),
        2000
    );
    assert!(store.gc_heap_stats().collections > before);
}

#[test]
fn unreachable_cycles_are_reclaimed() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, ROOTS);
    // 200,000 rounds of a two-struct cycle and a 1000-byte array: 200 MiB.
    call(&mut store, inst, "cycles", &[Val::I32(200_000)]).unwrap();
    store.gc();
    assert!(store.gc_heap_stats().live_bytes < 64 * 1024);
}

#[test]
fn host_handles_keep_objects_alive_until_their_scope_ends() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, ROOTS);
    let held = call(&mut store, inst, "new_box", &[Val::I32(99)]).unwrap();
    let twice = [held[0], held[0]];
    call(&mut store, inst, "churn", &[Val::I32(20_000)]).unwrap();
    store.gc();
    assert_eq!(i32_of(&call(&mut store, inst, "unbox", &held).unwrap()), 99);
    assert_eq!(i32_of(&call(&mut store, inst, "same", &twice).unwrap()), 1);
    // Two handles of one object: `ref_eq` sees one object.
    let Val::AnyRef(a) = held[0] else { panic!() };
    let again = call(&mut store, inst, "unbox", &held).unwrap();
    assert_eq!(again, vec![Val::I32(99)]);
    let (Val::AnyRef(b), Val::AnyRef(c)) = (
        call(&mut store, inst, "new_box", &[Val::I32(1)]).unwrap()[0],
        held[0],
    ) else {
        panic!()
    };
    assert!(AnyRef::ref_eq(&store, &a, &c).unwrap());
    assert!(!AnyRef::ref_eq(&store, &a, &b).unwrap());

    // A handle made in a scope is refused once the scope is gone.
    let scoped = {
        let mut scope = RootScope::new(&mut store);
        let r = call_in(&mut scope, inst, "new_box", &[Val::I32(5)]);
        assert_eq!(i32_of(&call_in(&mut scope, inst, "unbox", &r)), 5);
        r
    };
    store.gc();
    let e = call(&mut store, inst, "unbox", &scoped).unwrap_err();
    assert!(e.to_string().contains("root scope ended"), "{e}");
}

fn call_in(
    store: &mut RootScope<&mut Store<()>>,
    inst: Instance,
    name: &str,
    args: &[Val],
) -> Vec<Val> {
    let f = inst.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results().len()];
    f.call(&mut *store, args, &mut results).unwrap();
    results
}

#[test]
fn collection_from_a_host_call_inside_wasm_frames() {
    let mut store = store_with_limit(4 * MIB);
    let engine = store.engine().clone();
    let module = Module::new(
        &engine,
        r#"(module
          (type $box (struct (field i32) (field anyref)))
          (import "host" "collect" (func $collect (param anyref) (result anyref)))
          (func $deep (export "deep") (param $d i32) (result i32) (local $b (ref null $box))
            (local.set $b (struct.new $box (local.get $d)
              (call $collect (struct.new $box (i32.mul (local.get $d) (i32.const 10)) (ref.null any)))))
            (if (local.get $d) (then (drop (call $deep (i32.sub (local.get $d) (i32.const 1))))))
            ;; The box made before the host call, and the one the host returned.
            (i32.add (struct.get $box 0 (local.get $b))
              (struct.get $box 0 (ref.cast (ref $box) (struct.get $box 1 (local.get $b)))))))"#,
    )
    .unwrap();
    let collect = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, ()>, r: Option<AnyRef>| {
            let before = caller.gc_heap_stats().collections;
            caller.gc();
            assert_eq!(caller.gc_heap_stats().collections, before + 1);
            r
        },
    );
    let inst = Instance::new(&mut store, &module, &[collect.into()]).unwrap();
    let before = store.gc_heap_stats().collections;
    let r = call(&mut store, inst, "deep", &[Val::I32(50)]).unwrap();
    assert_eq!(i32_of(&r), 50 + 500);
    assert!(store.gc_heap_stats().collections >= before + 51);
}

#[test]
fn a_collection_at_every_allocation_keeps_every_root() {
    // Collect before every allocation and leave the old space inaccessible: a missed
    // root faults or reads a wrong value.
    let mut store = zealous_store(1);
    let inst = instance(&mut store, ROOTS);
    call(&mut store, inst, "set_global", &[Val::I32(41)]).unwrap();
    call(&mut store, inst, "set_table", &[Val::I32(1), Val::I32(11)]).unwrap();
    assert_eq!(
        i32_of(&call(&mut store, inst, "deep", &[Val::I32(100)]).unwrap()),
        100
    );
    assert_eq!(
        i32_of(&call(&mut store, inst, "exception2", &[Val::I32(8)]).unwrap()),
        8
    );
    assert_eq!(
        i32_of(&call(&mut store, inst, "get_global", &[]).unwrap()),
        41
    );
    assert_eq!(
        i32_of(&call(&mut store, inst, "get_table", &[Val::I32(1)]).unwrap()),
        11
    );
    let structures = instance(&mut store, STRUCTURES);
    let r = call(
        &mut store,
        structures,
        "lists",
        &[Val::I32(300), Val::I32(3)],
    )
    .unwrap();
    assert_eq!(i32_of(&r), 300 * 301 / 2 * 3);
    let r = call(&mut store, structures, "trees", &[Val::I32(6), Val::I32(2)]).unwrap();
    assert_eq!(i32_of(&r), 127 * 3);
}

#[test]
fn a_large_array_is_committed_not_touched() {
    // 1.2 GB of zeroed i8 elements: within the default 4 GiB limit, and fresh pages need no
    // clearing, so this stays cheap.
    let mut store = Store::new(&Engine::default(), ());
    let inst = instance(
        &mut store,
        r#"(module (type $a (array (mut i8)))
          (func (export "big") (param i32) (result i32) (local $x (ref $a))
            (local.set $x (array.new_default $a (local.get 0)))
            (array.set $a (local.get $x) (i32.sub (local.get 0) (i32.const 1)) (i32.const 7))
            (i32.add (array.len (local.get $x))
              (array.get_u $a (local.get $x) (i32.sub (local.get 0) (i32.const 1))))))"#,
    );
    let n = 1_200_000_000;
    assert_eq!(
        i32_of(&call(&mut store, inst, "big", &[Val::I32(n)]).unwrap()),
        n + 7
    );
}

#[test]
fn large_objects_are_kept_in_place_and_freed() {
    let mut store = store_with_limit(8 * MIB);
    let inst = instance(
        &mut store,
        r#"(module
          (type $bytes (array (mut i8)))
          (type $box (struct (field i32)))
          (type $refs (array (mut (ref null $box))))
          (global $keep (mut (ref null $refs)) (ref.null $refs))
          ;; 1000 arrays of 1 MiB, each dropped: 125 times the limit.
          (func (export "churn") (param $n i32)
            (loop $l
              (drop (array.new_default $bytes (i32.const 1048576)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (local.get $n))))
          ;; A large array of references to small boxes: the boxes move, the array does not.
          (func (export "keep") (param $n i32) (local $i i32)
            (global.set $keep (array.new_default $refs (local.get $n)))
            (loop $l
              (array.set $refs (global.get $keep) (local.get $i) (struct.new $box (local.get $i)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
          (func (export "sum") (result i32) (local $i i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s)
                (struct.get $box 0 (array.get $refs (global.get $keep) (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (array.len (global.get $keep)))))
            (local.get $s)))"#,
    );
    let n = 50_000;
    call(&mut store, inst, "keep", &[Val::I32(n)]).unwrap();
    call(&mut store, inst, "churn", &[Val::I32(1000)]).unwrap();
    store.gc();
    let expected = (n as i64 * (n as i64 - 1) / 2) as i32;
    assert_eq!(
        i32_of(&call(&mut store, inst, "sum", &[]).unwrap()),
        expected
    );
    let stats = store.gc_heap_stats();
    assert!(stats.collections > 10, "{stats:?}");
    // The boxes (16 bytes each) and the array of references (400 KB) survive, no more.
    assert!(stats.live_bytes < 2 * MIB as u64, "{stats:?}");
}

#[test]
fn collections_in_nested_activations_see_every_frame() {
    // wasm (holding a box) -> host (holding a handle) -> wasm that churns and collects: the
    // collector walks the inner wasm frames, skips the host frames, and finds the outer ones.
    nested(store_with_limit(4 * MIB), 20_000);
    nested(zealous_store(1), 300);
}

fn nested(mut store: Store<()>, n: i32) {
    let engine = store.engine().clone();
    let module = Module::new(
        &engine,
        r#"(module
          (type $box (struct (field i32)))
          (type $a (array (mut i8)))
          (import "host" "reenter" (func $reenter (param anyref) (result i32)))
          (func (export "churn") (param $n i32) (result i32) (local $mine (ref null $box))
            (local.set $mine (struct.new $box (local.get $n)))
            (loop $l
              (drop (array.new_default $a (i32.const 1000)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
            (struct.get $box 0 (local.get $mine)))
          (func (export "unbox") (param anyref) (result i32)
            (struct.get $box 0 (ref.cast (ref $box) (local.get 0))))
          (func (export "outer") (param $v i32) (result i32) (local $mine (ref null $box))
            (local.set $mine (struct.new $box (local.get $v)))
            (i32.add (call $reenter (struct.new $box (i32.const 1000)))
              (struct.get $box 0 (local.get $mine)))))"#,
    )
    .unwrap();
    let reenter = Func::wrap(
        &mut store,
        move |mut caller: Caller<'_, ()>, held: Option<AnyRef>| -> Result<i32> {
            let export = |caller: &mut Caller<'_, ()>, name: &str| {
                caller.get_export(name).and_then(Extern::into_func).unwrap()
            };
            let churn = export(&mut caller, "churn").typed::<i32, i32>(&caller)?;
            let unbox = export(&mut caller, "unbox").typed::<Option<AnyRef>, i32>(&caller)?;
            let before = caller.gc_heap_stats().collections;
            let inner = churn.call(&mut caller, n)?;
            assert!(caller.gc_heap_stats().collections > before);
            Ok(inner + unbox.call(&mut caller, held)?)
        },
    );
    let inst = Instance::new(&mut store, &module, &[reenter.into()]).unwrap();
    let r = call(&mut store, inst, "outer", &[Val::I32(7)]).unwrap();
    assert_eq!(i32_of(&r), n + 1000 + 7);
}

#[test]
fn manual_roots_outlive_scopes_until_unrooted() {
    let mut store = store_with_limit(4 * MIB);
    let inst = instance(&mut store, ROOTS);
    let kept = {
        let mut scope = RootScope::new(&mut store);
        let r = call_in(&mut scope, inst, "new_box", &[Val::I32(31)]);
        let Val::AnyRef(r) = r[0] else { panic!() };
        r.to_manually_rooted(&mut scope).unwrap()
    };
    call(&mut store, inst, "churn", &[Val::I32(20_000)]).unwrap();
    store.gc();
    let r = kept.to_rooted(&mut store).unwrap();
    assert_eq!(
        i32_of(&call(&mut store, inst, "unbox", &[Val::AnyRef(r)]).unwrap()),
        31
    );
    let again = kept.to_rooted(&mut store).unwrap();
    kept.unroot(&mut store);
    // `again` is a scope handle of its own (the store's outermost scope): still usable.
    assert_eq!(
        i32_of(&call(&mut store, inst, "unbox", &[Val::AnyRef(again)]).unwrap()),
        31
    );
}

#[test]
fn scripts_collect_where_they_ask() {
    // The script runner's `runtime.gc` collects in the middle of a function; the global's
    // struct and the local's survive it.
    let script = r#"
      (module
        (type $box (struct (field i32)))
        (import "runtime" "gc" (func $gc))
        (global $g (mut (ref null $box)) (ref.null $box))
        (func (export "run") (result i32) (local $l (ref null $box))
          (global.set $g (struct.new $box (i32.const 40)))
          (local.set $l (struct.new $box (i32.const 2)))
          (call $gc)
          (i32.add (struct.get $box 0 (global.get $g)) (struct.get $box 0 (local.get $l)))))
      (assert_return (invoke "run") (i32.const 42))
      (assert_return (invoke "run") (i32.const 42))"#;
    for between in [false, true] {
        let options = runtime::wast::WastOptions {
            collect_between_directives: between,
            ..Default::default()
        };
        let results = runtime::wast::run_script(script, &options, &mut |_| {});
        assert_eq!(results.len(), 3);
        for r in &results {
            assert!(r.outcome.is_pass(), "line {}: {:?}", r.line, r.outcome);
        }
    }
}
