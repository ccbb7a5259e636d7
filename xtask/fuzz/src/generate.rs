//! Differential fuzzing: modules from seeds. A module is a pure function of (seed, index,
//! feature set), so any module of a run can be made again from its numbers.

use crate::features::Features;
use arbitrary::Unstructured;

/// Fuel of the global that `ensure_termination` adds: every loop iteration and call costs
/// one, and a module traps (`unreachable`) once it is spent. Reset by each instantiation.
pub const FUEL: u32 = 1_000;

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// The generator of module `index` of the run with `seed`.
pub fn module_rng(seed: u64, index: u64) -> Rng {
    let mut mix = Rng::new(seed ^ index.wrapping_mul(0xd6e8_feb8_6659_fd93));
    Rng::new(mix.next_u64())
}

/// Module `index` of the run with `seed`.
pub fn generate(features: &Features, seed: u64, index: u64) -> Result<Vec<u8>, String> {
    let mut rng = module_rng(seed, index);
    let len = 256 + rng.below(16 << 10) as usize;
    let data = rng.bytes(len);
    from_data(features, &data)
}

/// A module from raw fuzzer input: the first bytes vary the configuration, the rest drive
/// `wasm-smith`.
pub fn from_data(features: &Features, data: &[u8]) -> Result<Vec<u8>, String> {
    let mut u = Unstructured::new(data);
    let mut config = features.smith_config();
    let pick = |u: &mut Unstructured, lo: usize, hi: usize| u.int_in_range(lo..=hi).unwrap_or(lo);
    config.max_funcs = pick(&mut u, 1, config.max_funcs);
    config.min_funcs = pick(&mut u, 1, config.max_funcs);
    config.max_instructions = pick(&mut u, 5, config.max_instructions);
    config.max_globals = pick(&mut u, 0, 20);
    config.max_types = pick(&mut u, 1, 30);
    // Unlimited constant arrays run to the 1 GiB GC heap limit, which costs seconds and
    // gigabytes per instantiation: keep them to one module in 32.
    config.limit_arrays_in_const_exprs = u.ratio(31, 32).unwrap_or(true);
    let mut module = wasm_smith::Module::new(config, &mut u).map_err(|e| e.to_string())?;
    module
        .ensure_termination(FUEL)
        .map_err(|e| format!("cannot bound the module's running time: {e}"))?;
    Ok(module.to_bytes())
}

/// Whether the module waits on an atomic (`memory.atomic.wait32/64`): with a matching value
/// such a wait sleeps for its timeout (up to centuries), so the fuzzer skips those modules.
pub fn waits_on_atomics(wasm: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            continue;
        };
        while !ops.eof() {
            match ops.read() {
                Ok(Operator::MemoryAtomicWait32 { .. } | Operator::MemoryAtomicWait64 { .. }) => {
                    return true
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    false
}

/// A few random edits (flips, overwrites, insertions, deletions) of a module's bytes, for
/// the validate+compile target: mostly invalid, but near valid modules.
pub fn mutate(wasm: &mut Vec<u8>, rng: &mut Rng) {
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        if wasm.is_empty() {
            wasm.push(rng.next_u64() as u8);
            continue;
        }
        let at = rng.below(wasm.len() as u64) as usize;
        match rng.below(4) {
            0 => wasm[at] ^= 1 << rng.below(8),
            1 => wasm[at] = rng.next_u64() as u8,
            2 => wasm.insert(at, rng.next_u64() as u8),
            _ => {
                wasm.remove(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_a_function_of_their_numbers_and_valid() {
        let features = Features::parse("wasmi").unwrap();
        let a = generate(&features, 7, 3).unwrap();
        assert_eq!(a, generate(&features, 7, 3).unwrap());
        assert_ne!(a, generate(&features, 7, 4).unwrap());
        let mut validator = wasmparser::Validator::new_with_features(features.wasm_features());
        validator.validate_all(&a).unwrap();
    }
}
