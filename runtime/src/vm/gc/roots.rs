//! Phase 6, vm: GC references the host holds. The API's `AnyRef` of a struct or array is a
//! handle into this table, never the object's address: the collector moves objects and
//! updates the table, and a handle whose entry is gone is refused instead of followed.
//!
//! Entries are LIFO: a root scope (`RootScope`, every host call from wasm, every directive
//! of the script runner) remembers the length and truncates back to it. Each entry records
//! the generation it was pushed with, and a handle names both, so a handle outliving its
//! scope never finds another scope's entry in its slot.

/// Host roots of one store.
#[derive(Default)]
pub struct Roots {
    /// Rooted references with the generation each was pushed with.
    lifo: Vec<(u64, u32)>,
    next_generation: u32,
    /// References of libcalls and host code in the middle of an operation that may
    /// collect (an exception's payload while its object is allocated).
    pub(crate) scratch: Vec<u64>,
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

    /// Every rooted reference, for the collector to update.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut u64)) {
        for (raw, _) in &mut self.lifo {
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
}
