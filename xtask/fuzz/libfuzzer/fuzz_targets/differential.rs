//! libFuzzer target: instantiate + run a wasm-smith module made from the input under our
//! runtime and its oracles (`FUZZ_FEATURES` picks the proposal set, default `wasmi`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn features() -> &'static fuzz::features::Features {
    static FEATURES: OnceLock<fuzz::features::Features> = OnceLock::new();
    FEATURES.get_or_init(|| {
        let name = std::env::var("FUZZ_FEATURES").unwrap_or_else(|_| "wasmi".into());
        fuzz::features::Features::parse(&name).expect("FUZZ_FEATURES names a feature set")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(d) = fuzz::targets::differential(features(), data) {
        panic!("{} disagrees: {}", d.oracle, d.summary);
    }
});
