//! Phase 6, vm: GC references the host holds. The API's `AnyRef` of a struct or array is a
//! handle into this table, never the object's address: the collector moves objects and
//! updates the table, and a handle whose entry is gone is refused instead of followed.
//!
//! Most entries are LIFO: a root scope (`RootScope`, every host call from wasm) remembers the
//! length and truncates back to it. Manual roots (`ManuallyRooted`) live in a slab until they
//! are unrooted. Each entry records the generation it was made with, and a handle names both,
//! so a handle outliving its entry never finds another entry in its slot.

/// Host roots of one store.
#[derive(Default)]
pub struct Roots {
    /// Rooted references with the generation each was pushed with.
    lifo: Vec<(u64, u32)>,
    next_generation: u32,
    /// References of libcalls and host code in the middle of an operation that may
    /// collect (an exception's payload while its object is allocated).
    pub(crate) scratch: Vec<u64>,
    /// Manual roots (`ManuallyRooted`): a slab of (reference, generation), `None` when free.
    manual: Vec<Option<(u64, u32)>>,
    free: Vec<u32>,
}

impl Roots {
    /// Roots `raw` in the innermost scope; returns its handle.
    pub fn push(&mut self, raw: u64) -> u64 {
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let index = self.lifo.len() as u64;
        self.lifo.push((raw, generation));
        (generation as u64) << 32 | index
    }

    /// The reference `handle` roots, if its entry is still there.
    pub fn get(&self, handle: u64) -> Option<u64> {
        let (index, generation) = (handle as u32 as usize, (handle >> 32) as u32);
        self.lifo
            .get(index)
            .filter(|(_, g)| *g == generation)
            .map(|(raw, _)| *raw)
    }

    /// How many entries there are: a scope's mark.
    pub fn mark(&self) -> usize {
        self.lifo.len()
    }

    /// Drops every entry pushed since `mark`.
    pub fn truncate(&mut self, mark: usize) {
        self.lifo.truncate(mark);
    }

    /// Roots `raw` until [`Roots::unroot`]; returns its handle.
    pub fn push_manual(&mut self, raw: u64) -> u64 {
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.manual.push(None);
                (self.manual.len() - 1) as u32
            }
        };
        self.manual[index as usize] = Some((raw, generation));
        (generation as u64) << 32 | index as u64
    }

    /// The reference manual root `handle` holds, if it is still rooted.
    pub fn get_manual(&self, handle: u64) -> Option<u64> {
        let (index, generation) = (handle as u32 as usize, (handle >> 32) as u32);
        match self.manual.get(index) {
            Some(Some((raw, g))) if *g == generation => Some(*raw),
            _ => None,
        }
    }

    /// Ends manual root `handle`; false if it had ended already.
    pub fn unroot(&mut self, handle: u64) -> bool {
        if self.get_manual(handle).is_none() {
            return false;
        }
        let index = handle as u32;
        self.manual[index as usize] = None;
        self.free.push(index);
        true
    }

    /// Every rooted reference, for the collector to update.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut u64)) {
        for (raw, _) in &mut self.lifo {
            f(raw);
        }
        for (raw, _) in self.manual.iter_mut().flatten() {
            f(raw);
        }
        for raw in &mut self.scratch {
            f(raw);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_die_with_their_scope() {
        let mut roots = Roots::default();
        let outer = roots.push(16);
        let mark = roots.mark();
        let inner = roots.push(32);
        assert_eq!(roots.get(inner), Some(32));
        roots.truncate(mark);
        assert_eq!(roots.get(inner), None);
        // A new entry in the same slot has another generation.
        let again = roots.push(48);
        assert_eq!(roots.get(inner), None);
        assert_eq!(roots.get(again), Some(48));
        assert_eq!(roots.get(outer), Some(16));
    }

    #[test]
    fn manual_roots_end_once() {
        let mut roots = Roots::default();
        let a = roots.push_manual(8);
        assert_eq!(roots.get_manual(a), Some(8));
        assert!(roots.unroot(a));
        assert!(!roots.unroot(a));
        let b = roots.push_manual(24);
        assert_eq!(
            roots.get_manual(a),
            None,
            "the slot is reused with another generation"
        );
        assert_eq!(roots.get_manual(b), Some(24));
        let mut seen = Vec::new();
        roots.for_each_mut(|r| seen.push(*r));
        assert_eq!(seen, [24]);
    }
}
