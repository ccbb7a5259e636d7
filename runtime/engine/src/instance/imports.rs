//! Phase 6, instantiate: import matching (the spec's rules, subtyping on canonical types).

use crate::externals::Extern;
use crate::info::EntityIndex;
use crate::store::StoreOpaque;
use crate::types::{ExternType, MemoryType, TableType, ValType};

/// Whether `actual` can be imported as the module's entity `index` (function and global
/// types by subtyping on canonical types, everything else as the spec's import matching).
pub(super) fn check_import(
    store: &StoreOpaque,
    info: &crate::info::ModuleInfo,
    import: &crate::info::Import,
    actual: &Extern,
) -> std::result::Result<(), String> {
    let index = import.index;
    let expected = &info.entity_type(index);
    let actual_ty = actual.ty_in(store);
    let registry = store.engine.types();
    let subtype = |a: ValType, b: ValType| registry.val_subtype(a, b);
    let ok = match (expected, &actual_ty) {
        (ExternType::Func(_), ExternType::Func(_)) => {
            let EntityIndex::Func(f) = index else {
                unreachable!()
            };
            let Extern::Func(func) = actual else {
                unreachable!()
            };
            let expected_id = info.type_ids[info.functions[f as usize] as usize];
            let actual_id = store.funcs[func.checked(store)].type_id;
            actual_id == expected_id
                || (!import.exact && registry.is_subtype(actual_id, expected_id))
        }
        (ExternType::Table(e), ExternType::Table(a)) => table_matches(e, a),
        (ExternType::Memory(e), ExternType::Memory(a)) => memory_matches(e, a),
        (ExternType::Tag(_), ExternType::Tag(_)) => {
            let (EntityIndex::Tag(t), Extern::Tag(tag)) = (index, actual) else {
                unreachable!()
            };
            let expected_id = info.type_ids[info.tags[t as usize] as usize];
            store.tags[tag.checked(store)].1 == expected_id
        }
        (ExternType::Global(e), ExternType::Global(a)) => {
            e.mutable == a.mutable
                && (e.content == a.content || (!e.mutable && subtype(a.content, e.content)))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, found {actual_ty:?}"))
    }
}

/// Compiled code of this engine relies on guard pages exactly when the memory has them.
pub(super) fn check_guard(store: &StoreOpaque, ext: &Extern) -> std::result::Result<(), String> {
    if let Extern::Memory(m) = ext {
        let memory = &store.vm.memories[m.checked(store)];
        let expects =
            store.engine.config().virtual_memory && crate::vmoffsets::can_be_guarded(&memory.ty());
        if expects != memory.is_guarded() {
            return Err("memory was created with a different bounds-check strategy".into());
        }
    }
    Ok(())
}

fn limits_match(emin: u64, emax: Option<u64>, amin: u64, amax: Option<u64>) -> bool {
    amin >= emin
        && match (emax, amax) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(e), Some(a)) => a <= e,
        }
}

fn table_matches(e: &TableType, a: &TableType) -> bool {
    e.element == a.element
        && e.table64 == a.table64
        && limits_match(e.minimum, e.maximum, a.minimum, a.maximum)
}

fn memory_matches(e: &MemoryType, a: &MemoryType) -> bool {
    e.memory64 == a.memory64
        && e.shared == a.shared
        && e.page_size_log2 == a.page_size_log2
        && limits_match(e.minimum, e.maximum, a.minimum, a.maximum)
}
