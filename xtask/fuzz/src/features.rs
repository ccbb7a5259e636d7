//! Differential fuzzing: the proposal sets modules are generated for, and which oracles can
//! run them.

use wasmparser::WasmFeatures;

/// A proposal on top of the base set (Wasm 2.0: multi-value, bulk memory, reference types,
/// sign extension, saturating conversions), which every module may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proposal {
    Simd,
    RelaxedSimd,
    Memory64,
    MultiMemory,
    TailCall,
    ExtendedConst,
    WideArithmetic,
    CustomPageSizes,
    Gc,
    Exceptions,
    Threads,
}

/// Every proposal with its command-line name and whether `wasmi` implements it.
const PROPOSALS: &[(&str, Proposal, bool)] = &[
    ("simd", Proposal::Simd, true),
    ("relaxed-simd", Proposal::RelaxedSimd, false),
    ("memory64", Proposal::Memory64, true),
    ("multi-memory", Proposal::MultiMemory, true),
    ("tail-call", Proposal::TailCall, true),
    ("extended-const", Proposal::ExtendedConst, true),
    ("wide-arithmetic", Proposal::WideArithmetic, true),
    ("custom-page-sizes", Proposal::CustomPageSizes, true),
    ("gc", Proposal::Gc, false),
    ("exceptions", Proposal::Exceptions, false),
    ("threads", Proposal::Threads, false),
];

/// Named sets for `--features`.
const PRESETS: &[(&str, &str)] = &[
    (
        "wasmi",
        "simd,memory64,multi-memory,tail-call,extended-const,wide-arithmetic,custom-page-sizes",
    ),
    ("gc", "gc,tail-call,extended-const"),
    ("exceptions", "exceptions,gc,tail-call"),
    ("threads", "threads,simd,multi-memory"),
    (
        "all",
        "simd,memory64,multi-memory,tail-call,extended-const,wide-arithmetic,gc,exceptions,threads",
    ),
];

/// A set of proposals generated modules may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// The name it was given by (a preset or the list itself).
    pub name: String,
    proposals: Vec<Proposal>,
}

impl Features {
    /// Parses a preset name (`wasmi`, `gc`, `exceptions`, `threads`, `all`), a comma-separated
    /// list of proposals, or `base` (none).
    pub fn parse(text: &str) -> Result<Features, String> {
        let list = PRESETS
            .iter()
            .find(|(n, _)| *n == text)
            .map_or(text, |(_, l)| l);
        let mut proposals = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "base" {
                continue;
            }
            let Some((_, p, _)) = PROPOSALS.iter().find(|(n, _, _)| *n == name) else {
                let known: Vec<&str> = PRESETS
                    .iter()
                    .map(|p| p.0)
                    .chain(PROPOSALS.iter().map(|p| p.0))
                    .collect();
                return Err(format!(
                    "unknown feature `{name}` (known: base, {})",
                    known.join(", ")
                ));
            };
            if !proposals.contains(p) {
                proposals.push(*p);
            }
        }
        Ok(Features {
            name: text.to_string(),
            proposals,
        })
    }

    /// Whether modules may use `p`.
    pub fn has(&self, p: Proposal) -> bool {
        self.proposals.contains(&p)
    }

    /// Whether `wasmi` implements every proposal of the set (then it is an oracle).
    pub fn wasmi_can_run(&self) -> bool {
        self.proposals
            .iter()
            .all(|p| PROPOSALS.iter().any(|(_, q, w)| q == p && *w))
    }

    /// The `wasm-smith` configuration for the set (before per-module variation).
    pub fn smith_config(&self) -> wasm_smith::Config {
        let has = |p| self.has(p);
        wasm_smith::Config {
            simd_enabled: has(Proposal::Simd) || has(Proposal::RelaxedSimd),
            relaxed_simd_enabled: has(Proposal::RelaxedSimd),
            memory64_enabled: has(Proposal::Memory64),
            max_memories: if has(Proposal::MultiMemory) { 4 } else { 1 },
            max_tables: 4,
            tail_call_enabled: has(Proposal::TailCall),
            extended_const_enabled: has(Proposal::ExtendedConst),
            wide_arithmetic_enabled: has(Proposal::WideArithmetic),
            custom_page_sizes_enabled: has(Proposal::CustomPageSizes),
            gc_enabled: has(Proposal::Gc),
            exceptions_enabled: has(Proposal::Exceptions),
            threads_enabled: has(Proposal::Threads),
            ..base_config()
        }
    }

    /// The proposals our runtime's validator must accept for the set.
    pub fn wasm_features(&self) -> WasmFeatures {
        WasmFeatures::WASM3 | self.smith_config().features()
    }
}

/// What every generated module shares: all exports, no imports, NaNs canonicalised, bounded
/// memories and tables (so that state stays small enough to compare after every call), and
/// everything beyond Wasm 2.0 off until a proposal turns it on.
fn base_config() -> wasm_smith::Config {
    wasm_smith::Config {
        export_everything: true,
        canonicalize_nans: true,
        min_imports: 0,
        max_imports: 0,
        memory_max_size_required: true,
        max_memory32_bytes: 1 << 20,
        max_memory64_bytes: 1 << 20,
        table_max_size_required: true,
        max_table_elements: 1_000,
        min_funcs: 1,
        max_funcs: 30,
        max_instructions: 200,
        allow_start_export: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        ..wasm_smith::Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_lists_parse() {
        let f = Features::parse("wasmi").unwrap();
        assert!(f.has(Proposal::Simd) && f.wasmi_can_run());
        let gc = Features::parse("gc").unwrap();
        assert!(gc.has(Proposal::Gc) && !gc.wasmi_can_run());
        let list = Features::parse("simd,threads").unwrap();
        assert!(list.has(Proposal::Threads) && !list.has(Proposal::Gc));
        assert!(Features::parse("base").unwrap().wasmi_can_run());
        assert!(Features::parse("nope").is_err());
    }
}
