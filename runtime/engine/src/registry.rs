//! Engine-wide type canonicalization (GC proposal, iso-recursive equivalence).
//!
//! Every type definition of every module, and the signature of every host function, gets a
//! *canonical index* that is the same for two definitions exactly when they are equivalent:
//! their recursion groups are structurally identical, with references inside the group
//! compared by position and references outside it by canonical index. A recursion group is
//! registered as a whole, its types taking consecutive slots.
//!
//! A canonical index is `slot << 2 | kind` (see [`CanonicalKind`]), so compiled code and the
//! public API can tell a struct index from a function index without a look-up.
//!
//! Declared supertypes are kept as a chain per type (root first), so `a <: b` is one look-up:
//! `chain(a)[depth(b)] == b`. Types are never unregistered: the registry lives as long as
//! the engine.

use crate::types::{CanonicalKind, FuncType, HeapType, SubType, ValType};
use std::collections::HashMap;
use std::sync::RwLock;

/// Marks a type index inside a registration key as relative to its recursion group.
const REC_BIT: u32 = 1 << 31;

/// What the registry keeps of a registered type.
struct CanonicalType {
    /// Supertype chain from the root down to (and including) this type.
    chain: Box<[u32]>,
}

#[derive(Default)]
struct Inner {
    /// Recursion groups (type indices outside the group canonical, inside `REC_BIT | i`)
    /// to the slot of their first type.
    groups: HashMap<Box<[SubType]>, u32>,
    types: Vec<CanonicalType>,
}

/// The engine's type registry.
#[derive(Default)]
pub(crate) struct TypeRegistry {
    inner: RwLock<Inner>,
}

fn index_of(slot: u32, kind: CanonicalKind) -> u32 {
    assert!(
        slot < REC_BIT >> 2,
        "too many types registered in one engine"
    );
    slot << 2 | kind as u32
}

impl TypeRegistry {
    /// Registers the types of a module, given as recursion groups of module-local
    /// definitions (`groups` are `start..end` ranges of `types`, in order); returns the
    /// canonical index of every module type index.
    pub(crate) fn register_module(
        &self,
        types: &[SubType],
        groups: &[std::ops::Range<u32>],
    ) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::with_capacity(types.len());
        for group in groups {
            let (start, end) = (group.start, group.end);
            debug_assert_eq!(start as usize, ids.len());
            let key: Box<[SubType]> = types[start as usize..end as usize]
                .iter()
                .map(|t| {
                    t.map_indices(&mut |i| {
                        if (start..end).contains(&i) {
                            REC_BIT | (i - start)
                        } else {
                            ids[i as usize]
                        }
                    })
                })
                .collect();
            ids.extend(self.register_group(key));
        }
        ids
    }

    /// Registers a host function signature (its concrete types already canonical) as a
    /// final type of its own group.
    pub(crate) fn register_func(&self, ty: &FuncType) -> u32 {
        let key = Box::new([SubType {
            is_final: true,
            supertype: None,
            composite: crate::types::CompositeType::Func(ty.clone()),
            shared: false,
            descriptor: None,
            describes: None,
        }]);
        self.register_group(key)[0]
    }

    /// The canonical indices of a group given as a key, registering it on first sight.
    fn register_group(&self, key: Box<[SubType]>) -> Vec<u32> {
        let ids_from = |first: u32| -> Vec<u32> {
            key.iter()
                .enumerate()
                .map(|(i, t)| index_of(first + i as u32, t.kind()))
                .collect()
        };
        if let Some(first) = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .groups
            .get(&key)
        {
            return ids_from(*first);
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(first) = inner.groups.get(&key) {
            return ids_from(*first);
        }
        let first = inner.types.len() as u32;
        let ids = ids_from(first);
        for t in key.iter() {
            let resolve = |i: u32| {
                if i & REC_BIT != 0 {
                    ids[(i & !REC_BIT) as usize]
                } else {
                    i
                }
            };
            let own = ids[inner.types.len() - first as usize];
            let mut chain: Vec<u32> = match t.supertype.map(resolve) {
                Some(s) => inner.types[(s >> 2) as usize].chain.to_vec(),
                None => Vec::new(),
            };
            chain.push(own);
            inner.types.push(CanonicalType {
                chain: chain.into(),
            });
        }
        inner.groups.insert(key, first);
        ids
    }

    /// Whether canonical type `a` is `b` or declares it as a (transitive) supertype.
    pub(crate) fn is_subtype(&self, a: u32, b: u32) -> bool {
        if a == b {
            return true;
        }
        if CanonicalKind::of(a) != CanonicalKind::of(b) {
            return false;
        }
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let (Some(ta), Some(tb)) = (
            inner.types.get((a >> 2) as usize),
            inner.types.get((b >> 2) as usize),
        ) else {
            return false;
        };
        let depth = tb.chain.len() - 1;
        ta.chain.get(depth) == Some(&b)
    }

    /// Whether heap type `a` is a subtype of `b` (both with canonical indices).
    pub(crate) fn heap_subtype(&self, a: HeapType, b: HeapType) -> bool {
        use HeapType as H;
        let kind = |h: HeapType| match h {
            H::Concrete(id) => Some(CanonicalKind::of(id)),
            _ => None,
        };
        if a == b {
            return true;
        }
        match (a, b) {
            (_, H::Any | H::Func | H::Extern | H::Exn) => a.top() == b,
            (H::None | H::NoFunc | H::NoExtern | H::NoExn, _) => a == b.bottom(),
            (H::I31 | H::Struct | H::Array, H::Eq) => true,
            (H::Concrete(_), H::Eq) => {
                matches!(kind(a), Some(CanonicalKind::Struct | CanonicalKind::Array))
            }
            (H::Concrete(_), H::Struct) => kind(a) == Some(CanonicalKind::Struct),
            (H::Concrete(_), H::Array) => kind(a) == Some(CanonicalKind::Array),
            (H::Concrete(x), H::Concrete(y)) => self.is_subtype(x, y),
            _ => false,
        }
    }

    /// Whether value type `a` is a subtype of `b` (both with canonical indices).
    pub(crate) fn val_subtype(&self, a: ValType, b: ValType) -> bool {
        match (a, b) {
            (ValType::Ref(a), ValType::Ref(b)) => {
                (b.nullable || !a.nullable) && self.heap_subtype(a.heap, b.heap)
            }
            _ => a == b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CompositeType, RefType};

    fn func(params: &[ValType]) -> SubType {
        SubType {
            is_final: true,
            supertype: None,
            composite: CompositeType::Func(FuncType::new(params.iter().copied(), [])),
            shared: false,
            descriptor: None,
            describes: None,
        }
    }
    fn r(i: u32) -> ValType {
        ValType::Ref(RefType {
            nullable: true,
            heap: HeapType::Concrete(i),
        })
    }

    #[allow(clippy::single_range_in_vec_init)] // rec groups are lists of index ranges
    #[test]
    fn groups_are_equal_by_structure_and_position() {
        let reg = TypeRegistry::default();
        // (rec (func (param (ref 1))) (func (param (ref 0))))
        let a = reg.register_module(&[func(&[r(1)]), func(&[r(0)])], &[0..2]);
        // Same group after an unrelated type: indices shift but the group is the same.
        let b = reg.register_module(&[func(&[]), func(&[r(2)]), func(&[r(1)])], &[0..1, 1..3]);
        assert_eq!(a, b[1..]);
        assert_ne!(b[0], a[0]);
        // The same two types as singleton groups are different types.
        let c = reg.register_module(&[func(&[]), func(&[r(0)])], &[0..1, 1..2]);
        assert_eq!(c[0], b[0]);
        assert_ne!(c[1], a[0]);
    }

    #[test]
    fn subtyping_follows_declared_supertypes() {
        let reg = TypeRegistry::default();
        let mut base = func(&[]);
        base.is_final = false;
        let mut sub = func(&[]);
        sub.supertype = Some(0);
        let ids = reg.register_module(&[base.clone(), sub], &[0..1, 1..2]);
        assert!(reg.is_subtype(ids[1], ids[0]));
        assert!(!reg.is_subtype(ids[0], ids[1]));
        let host = reg.register_func(&FuncType::new([], []));
        assert!(!reg.is_subtype(host, ids[0]));
        assert_eq!(CanonicalKind::of(host), CanonicalKind::Func);
    }
}
