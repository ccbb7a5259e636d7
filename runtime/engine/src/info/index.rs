//! Phase 2, parse: typed entity indices. Each kind of entity has two index spaces: the
//! module's (imports first, then definitions: what instructions and exports name) and the
//! defined-only one (what the module's own tables of bodies, memories, ... are indexed by).
//! The conversions between them are here and nowhere else.

use super::ModuleInfo;
use cranelift_entity::{entity_impl, EntityRef};

macro_rules! index_spaces {
    ($(
        $(#[$doc:meta])* $index:ident,
        $(#[$ddoc:meta])* $defined:ident,
        $imported:ident, $len:expr,
        $to_defined:ident, $from_defined:ident, $all_defined:ident;
    )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $index(u32);
        entity_impl!($index);

        $(#[$ddoc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $defined(u32);
        entity_impl!($defined);

        // The same conversions for every kind, though not every kind needs each one yet.
        #[allow(dead_code)]
        impl ModuleInfo {
            #[doc = concat!("The defined index of `index`, or `None` if it is imported.")]
            pub fn $to_defined(&self, index: $index) -> Option<$defined> {
                index.as_u32().checked_sub(self.$imported).map($defined::from_u32)
            }

            #[doc = concat!("The module index of the defined entity `index`.")]
            pub fn $from_defined(&self, index: $defined) -> $index {
                $index::from_u32(self.$imported + index.as_u32())
            }

            #[doc = concat!("Every defined entity: its defined and its module index.")]
            pub fn $all_defined(&self) -> impl ExactSizeIterator<Item = ($defined, $index)> + '_ {
                let len: usize = $len(self);
                (self.$imported as usize..len).map(move |i| {
                    let index = $index::new(i);
                    (self.$to_defined(index).expect("past the imports"), index)
                })
            }
        }
    )*};
}

index_spaces! {
    /// A function of the module's function index space.
    FuncIndex,
    /// A function the module defines (indexes `ModuleInfo::bodies`).
    DefinedFuncIndex,
    num_imported_funcs, |m: &ModuleInfo| m.functions.len(),
    defined_func_index, func_index, defined_funcs;

    /// A table of the module's table index space.
    TableIndex,
    /// A table the module defines.
    DefinedTableIndex,
    num_imported_tables, |m: &ModuleInfo| m.tables.len(),
    defined_table_index, table_index, defined_tables;

    /// A memory of the module's memory index space.
    MemoryIndex,
    /// A memory the module defines.
    DefinedMemoryIndex,
    num_imported_memories, |m: &ModuleInfo| m.memories.len(),
    defined_memory_index, memory_index, defined_memories;

    /// A global of the module's global index space.
    GlobalIndex,
    /// A global the module defines.
    DefinedGlobalIndex,
    num_imported_globals, |m: &ModuleInfo| m.globals.len(),
    defined_global_index, global_index, defined_globals;

    /// A tag of the module's tag index space.
    TagIndex,
    /// A tag the module defines.
    DefinedTagIndex,
    num_imported_tags, |m: &ModuleInfo| m.tags.len(),
    defined_tag_index, tag_index, defined_tags;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defined_and_module_indices_convert_both_ways() {
        let info = ModuleInfo {
            functions: vec![0; 5],
            num_imported_funcs: 2,
            globals: vec![],
            ..ModuleInfo::default()
        };
        assert_eq!(info.defined_func_index(FuncIndex::from_u32(1)), None);
        let d = info.defined_func_index(FuncIndex::from_u32(3)).unwrap();
        assert_eq!(d.as_u32(), 1);
        assert_eq!(info.func_index(d), FuncIndex::from_u32(3));
        let all: Vec<(u32, u32)> = info
            .defined_funcs()
            .map(|(d, f)| (d.as_u32(), f.as_u32()))
            .collect();
        assert_eq!(all, [(0, 2), (1, 3), (2, 4)]);
        assert_eq!(info.defined_globals().len(), 0);
    }
}
