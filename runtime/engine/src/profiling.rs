//! Telling profilers where compiled code lies ([`Config::profiler`](crate::Config::profiler)).
//! Linux `perf` reads `/tmp/perf-<pid>.map` (one `start size name` line per function, hex) to
//! name samples in JIT code; every published module appends its functions there.

use crate::info::ModuleInfo;
use crate::link::Image;
use std::io::Write;
use std::sync::Mutex;

/// Serializes appends from modules published on several threads.
static PERF_MAP: Mutex<()> = Mutex::new(());

/// Appends the functions of `image`, published at `start`, to this process's perf map.
/// Best effort, as a profiler's aid: a file that cannot be written is left alone.
pub(crate) fn perf_map(start: usize, image: &Image, info: &ModuleInfo) {
    let module = info.names.module.as_deref().unwrap_or("");
    let mut text = String::new();
    for range in &image.funcs {
        let index = range.func_index;
        let name = match info.names.functions.get(&index) {
            Some(name) => format!("wasm[{module}]::{name}"),
            None => format!("wasm[{module}]::function[{index}]"),
        };
        let size = range.end - range.start;
        let line = format!("{:x} {size:x} {name}\n", start + range.start as usize);
        text.push_str(&line);
    }
    let _guard = PERF_MAP.lock().unwrap_or_else(|e| e.into_inner());
    let path = format!("/tmp/perf-{}.map", std::process::id());
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = file.write_all(text.as_bytes());
    }
}
