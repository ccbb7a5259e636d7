//! `externref`s with host values (`ExternRef::new`): the value comes back unchanged through
//! wasm, tables, globals and GC objects, and the collector drops it (runs its `Drop`) exactly
//! when nothing reaches it any more — cycles through GC objects included.

use runtime::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A host value that counts its drops.
struct Tracked {
    id: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn tracked(store: impl AsContextMut, id: u32, drops: &Arc<AtomicUsize>) -> ExternRef {
    let value = Tracked {
        id,
        drops: drops.clone(),
    };
    ExternRef::new(store, value).unwrap()
}

fn id_of<S: AsContext>(store: &S, r: &ExternRef) -> Option<u32> {
    let data = r.data(store).unwrap()?;
    data.downcast_ref::<Tracked>().map(|t| t.id)
}

fn setup(wat: &str) -> (Store<()>, Instance) {
    let mut store = Store::new(&Engine::default(), ());
    let module = Module::new(store.engine(), wat).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

const HOLDER: &str = r#"(module
  (type $box (struct (field (mut externref)) (field (mut (ref null $box)))))
  (table $t (export "t") 4 externref)
  (global $g (export "g") (mut externref) (ref.null extern))
  (global $cycle (mut (ref null $box)) (ref.null $box))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "keep_in_cycle") (param externref)
    (local $a (ref $box)) (local $b (ref $box))
    (local.set $a (struct.new $box (local.get 0) (ref.null $box)))
    (local.set $b (struct.new $box (ref.null extern) (local.get $a)))
    (struct.set $box 1 (local.get $a) (local.get $b))
    (global.set $cycle (local.get $a)))
  (func (export "from_cycle") (result externref)
    (struct.get $box 0 (ref.as_non_null (global.get $cycle))))
  (func (export "drop_cycle") (global.set $cycle (ref.null $box))))"#;

#[test]
fn a_host_value_comes_back_through_wasm_and_downcasts() {
    let (mut store, instance) = setup(HOLDER);
    let drops = Arc::new(AtomicUsize::new(0));
    let r = tracked(&mut store, 7, &drops);
    let id = instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&store, "id")
        .unwrap();
    let back = id.call(&mut store, Some(r)).unwrap().unwrap();
    assert_eq!(id_of(&store, &back), Some(7));
    assert!(back.host_index().is_none());
    // Mutably, too.
    let data = back.data_mut(&mut store).unwrap().unwrap();
    data.downcast_mut::<Tracked>().unwrap().id = 8;
    assert_eq!(id_of(&store, &r), Some(8));
    // Numbered host references have no value.
    assert!(ExternRef::host(3).data(&store).unwrap().is_none());
    assert_eq!(drops.load(Ordering::SeqCst), 0);
}

#[test]
fn values_reachable_from_a_table_a_global_or_a_cycle_survive_and_the_rest_are_dropped() {
    let (mut store, instance) = setup(HOLDER);
    let drops = Arc::new(AtomicUsize::new(0));
    let table = instance.get_table(&mut store, "t").unwrap();
    let global = instance.get_global(&mut store, "g").unwrap();
    let keep_in_cycle = instance
        .get_typed_func::<Option<ExternRef>, ()>(&store, "keep_in_cycle")
        .unwrap();
    {
        let mut scope = RootScope::new(&mut store);
        let in_table = tracked(&mut scope, 1, &drops);
        let in_global = tracked(&mut scope, 2, &drops);
        let in_cycle = tracked(&mut scope, 3, &drops);
        let _garbage = tracked(&mut scope, 4, &drops);
        table.set(&mut scope, 0, in_table.into()).unwrap();
        global.set(&mut scope, in_global.into()).unwrap();
        keep_in_cycle.call(&mut scope, Some(in_cycle)).unwrap();
    }
    store.gc();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "only the unreachable value is dropped"
    );
    let from_table = table
        .get(&mut store, 0)
        .unwrap()
        .externref()
        .unwrap()
        .unwrap();
    assert_eq!(id_of(&store, &from_table), Some(1));
    let from_cycle = instance
        .get_typed_func::<(), Option<ExternRef>>(&store, "from_cycle")
        .unwrap()
        .call(&mut store, ())
        .unwrap()
        .unwrap();
    assert_eq!(id_of(&store, &from_cycle), Some(3));
    // Unreachable again: the cycle goes, then the table entry and the global.
    let drop_cycle = instance
        .get_typed_func::<(), ()>(&store, "drop_cycle")
        .unwrap();
    let mut scope = RootScope::new(&mut store);
    drop_cycle.call(&mut scope, ()).unwrap();
    table.set(&mut scope, 0, Val::ExternRef(None)).unwrap();
    global.set(&mut scope, Val::ExternRef(None)).unwrap();
    drop(scope);
    // The handles above (`from_table`, `from_cycle`) were made outside any scope and live
    // as long as the store: their values stay.
    store.gc();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "the global's value is dropped"
    );
    drop(store);
    assert_eq!(drops.load(Ordering::SeqCst), 4, "the store drops the rest");
}

#[test]
fn a_handle_used_after_its_scope_is_an_error_not_another_value() {
    let (mut store, _) = setup(HOLDER);
    let drops = Arc::new(AtomicUsize::new(0));
    let stale = {
        let mut scope = RootScope::new(&mut store);
        tracked(&mut scope, 1, &drops)
    };
    store.gc();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let _other = tracked(&mut store, 2, &drops);
    assert!(stale.data(&store).is_err());
}

#[test]
fn making_many_values_collects_the_unreachable_ones() {
    let (mut store, instance) = setup(HOLDER);
    let drops = Arc::new(AtomicUsize::new(0));
    let id = instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&store, "id")
        .unwrap();
    for i in 0..100_000 {
        let mut scope = RootScope::new(&mut store);
        let r = tracked(&mut scope, i, &drops);
        let back = id.call(&mut scope, Some(r)).unwrap().unwrap();
        assert_eq!(id_of(&scope, &back), Some(i));
    }
    // No explicit collection: `ExternRef::new` collects as values accumulate.
    let dropped = drops.load(Ordering::SeqCst);
    assert!(
        dropped >= 99_000,
        "only {dropped} of 100000 dead values were dropped"
    );
}
