//! Phase 6, vm: the host values behind `externref`s made with `ExternRef::new`.
//!
//! Such a reference is a host reference (low bits `10`, see `super`) whose bits from
//! [`DATA_REF_SHIFT`] up hold its slot in this table plus one; plain host references
//! (`(ref.extern n)`, 32-bit numbers) stay below. Compiled code never looks inside host
//! references, so both kinds are opaque to it. Every collection marks the slots it reaches
//! (the collector's visitor sees every reference, host ones included) and drops the values
//! of the others, so a host value lives exactly as long as something can still reach it.

use std::any::Any;
use std::cell::Cell;

/// Where the slot starts in a host reference with data.
pub const DATA_REF_SHIFT: u32 = 34;

/// The raw reference of slot `slot`.
fn data_ref(slot: u32) -> u64 {
    ((slot as u64 + 1) << DATA_REF_SHIFT) | 2
}

/// The slot of a raw host reference with data; `None` for any other reference.
pub fn data_slot(raw: u64) -> Option<u32> {
    (raw & 3 == 2 && raw >> DATA_REF_SHIFT != 0).then(|| ((raw >> DATA_REF_SHIFT) - 1) as u32)
}

/// A boxed host value.
pub type HostValue = Box<dyn Any + Send + Sync>;

/// The host values of one store.
#[derive(Default)]
pub struct HostData {
    slots: Vec<Option<HostValue>>,
    /// Reached by the collection under way.
    marks: Vec<Cell<bool>>,
    free: Vec<u32>,
    live: usize,
    /// Collect when this many values are live (twice what the last collection kept).
    next_collection: usize,
}

/// Values at which `ExternRef::new` collects for the first time.
const MIN_COLLECTION: usize = 1024;

impl HostData {
    /// Stores `value`; its raw reference.
    pub fn insert(&mut self, value: HostValue) -> u64 {
        self.live += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(value);
                slot
            }
            None => {
                self.slots.push(Some(value));
                self.marks.push(Cell::new(false));
                self.slots.len() as u32 - 1
            }
        };
        data_ref(slot)
    }

    /// The value behind raw reference `raw`, if it is a live one of this table.
    pub fn get(&self, raw: u64) -> Option<&(dyn Any + Send + Sync)> {
        let slot = data_slot(raw)?;
        self.slots.get(slot as usize)?.as_deref()
    }

    /// The value behind `raw`, mutably.
    pub fn get_mut(&mut self, raw: u64) -> Option<&mut (dyn Any + Send + Sync)> {
        let slot = data_slot(raw)?;
        self.slots.get_mut(slot as usize)?.as_deref_mut()
    }

    /// Whether no value is stored.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether enough values were made since the last collection to collect again.
    pub fn wants_collection(&self) -> bool {
        self.live >= self.next_collection.max(MIN_COLLECTION)
    }

    /// Marks the slot of `raw` (a host reference) as reached.
    pub fn mark(&self, raw: u64) {
        if let Some(mark) = data_slot(raw).and_then(|s| self.marks.get(s as usize)) {
            mark.set(true);
        }
    }

    /// After a collection: takes out the values it did not reach (for the caller to drop
    /// once the store is consistent again) and clears the marks.
    pub fn sweep(&mut self) -> Vec<HostValue> {
        let mut dead = Vec::new();
        for (slot, (value, mark)) in self.slots.iter_mut().zip(&self.marks).enumerate() {
            if value.is_some() && !mark.replace(false) {
                dead.extend(value.take());
                self.free.push(slot as u32);
            }
        }
        self.live -= dead.len();
        self.next_collection = self.live.saturating_mul(2);
        dead
    }
}
