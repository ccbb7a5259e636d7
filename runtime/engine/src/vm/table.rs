//! Phase 6, vm: tables of 64-bit references (0 is null).

use crate::error::{Error, Result};
use crate::types::TableType;
use crate::vm::vmcontext::VMTableDefinition;

/// Most elements a table may have in this runtime (grow beyond it fails).
const MAX_ELEMENTS: u64 = 10_000_000;

pub struct TableStorage {
    def: Box<VMTableDefinition>,
    elements: Vec<u64>,
    ty: TableType,
}

impl TableStorage {
    pub fn new(ty: TableType, init: u64) -> Result<TableStorage> {
        if ty.minimum > MAX_ELEMENTS {
            return Err(Error::Usage(format!(
                "table of {} elements is too large",
                ty.minimum
            )));
        }
        let mut elements = vec![init; ty.minimum as usize];
        let def = Box::new(VMTableDefinition {
            base: elements.as_mut_ptr(),
            length: ty.minimum,
        });
        Ok(TableStorage { def, elements, ty })
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.length = self.elements.len() as u64;
    }

    pub fn definition(&self) -> *mut VMTableDefinition {
        &*self.def as *const VMTableDefinition as *mut VMTableDefinition
    }

    pub fn ty(&self) -> TableType {
        TableType {
            minimum: self.len(),
            ..self.ty
        }
    }

    pub fn len(&self) -> u64 {
        self.elements.len() as u64
    }

    pub fn get(&self, index: u64) -> Option<u64> {
        self.elements.get(usize::try_from(index).ok()?).copied()
    }

    pub fn set(&mut self, index: u64, raw: u64) -> Option<()> {
        *self.elements.get_mut(usize::try_from(index).ok()?)? = raw;
        Some(())
    }

    /// The most elements a table of type `ty` can ever hold here: its maximum, capped by
    /// this runtime's limit.
    pub fn element_limit(ty: &TableType) -> u64 {
        ty.maximum.unwrap_or(u64::MAX).min(MAX_ELEMENTS)
    }

    /// The most elements this table can grow to.
    pub fn maximum(&self) -> u64 {
        Self::element_limit(&self.ty)
    }

    /// Grows by `delta` elements set to `init`; returns the old length, or why it cannot.
    pub fn grow(&mut self, delta: u64, init: u64) -> Result<u64, String> {
        let old = self.len();
        let new = old.checked_add(delta).ok_or("table size overflows")?;
        if self.ty.maximum.is_some_and(|m| new > m) {
            return Err("table maximum size exceeded".into());
        }
        if new > MAX_ELEMENTS {
            return Err(format!(
                "table larger than this runtime supports ({MAX_ELEMENTS} elements)"
            ));
        }
        self.elements.resize(new as usize, init);
        self.sync();
        Ok(old)
    }

    /// Every element, for the collector to update.
    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    pub fn fill_all(&mut self, raw: u64) {
        self.elements.fill(raw);
    }

    /// `table.fill`: `None` if the range is out of bounds.
    pub fn fill(&mut self, start: u64, raw: u64, len: u64) -> Option<()> {
        let range = self.range(start, len)?;
        self.elements[range].fill(raw);
        Some(())
    }

    /// Copies `items` to `start` (`table.init`, active segments); `None` if out of bounds.
    pub fn init(&mut self, start: u64, items: &[u64]) -> Option<()> {
        let range = self.range(start, items.len() as u64)?;
        self.elements[range].copy_from_slice(items);
        Some(())
    }

    /// `table.copy` within one table.
    pub fn copy_within(&mut self, dst: u64, src: u64, len: u64) -> Option<()> {
        let s = self.range(src, len)?;
        let d = self.range(dst, len)?;
        self.elements.copy_within(s, d.start);
        Some(())
    }

    /// The elements `[start, start + len)`, if in bounds.
    pub fn slice(&self, start: u64, len: u64) -> Option<&[u64]> {
        Some(&self.elements[self.range(start, len)?])
    }

    fn range(&self, start: u64, len: u64) -> Option<std::ops::Range<usize>> {
        let end = start.checked_add(len)?;
        (end <= self.len()).then_some(start as usize..end as usize)
    }
}
