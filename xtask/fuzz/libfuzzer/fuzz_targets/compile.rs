//! libFuzzer target: validate + compile arbitrary bytes. Never a crash, and our runtime
//! accepts a module exactly when wasmparser's validator does (or declines it as unsupported).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static runtime::Engine {
    static ENGINE: OnceLock<runtime::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = runtime::Config::new();
        let all = fuzz::features::Features::parse("all").expect("a preset");
        config.wasm_features(all.wasm_features());
        runtime::Engine::new(&config).expect("the engine starts")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(why) = fuzz::targets::validate_and_compile(engine(), data) {
        panic!("{why}");
    }
});
