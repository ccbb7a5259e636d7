//! `cargo xtask bench --threads`: a parallel workload on 1, 2 and 4 threads — the wasi-threads
//! parallel sum of `tests/data/threads/sum.wat` — under our CLI and under Node's V8 (with the
//! small wasi-threads host of `xtask/bench/threads/wasi-threads.mjs`; Wasmtime 49 no longer
//! runs wasi-threads: "the `-Sthreads` flag is no longer supported"). Both must print the
//! same sum. Reports the median wall time of N runs, the ratio to V8 and each runtime's
//! speed-up over its own single thread. Writes target/bench/bench-threads.json.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Millions of iterations the sum covers, split between the threads.
const MILLIONS: &str = "1000";

/// Runs the threads benchmark, `repeat` runs per runtime and thread count.
pub fn run(repeat: usize) -> Result<(), String> {
    let root = harness::workspace_root();
    crate::bench::build_release_cli(&root)?;
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    if !Command::new(&node)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err(format!(
            "no Node at `{node}` (set NODE): the threads benchmark compares with V8"
        ));
    }
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let wasm = out.join("sum.wasm");
    let text = std::fs::read_to_string(root.join("tests/data/threads/sum.wat"))
        .map_err(|e| format!("sum.wat: {e}"))?;
    std::fs::write(&wasm, wat_to_wasm(&text)?).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let ours = root.join("target/release/runtime").display().to_string();
    let host = root.join("xtask/bench/threads/wasi-threads.mjs");
    let wasm = wasm.display().to_string();
    println!("load average before: {}", load_average());
    println!(
        "{:<8} {:>9} {:>9} {:>6}   {:>13} {:>12}",
        "threads", "ours s", "V8 s", "ratio", "ours speed-up", "V8 speed-up"
    );
    let mut rows = Vec::new();
    let mut base: Option<(f64, f64)> = None;
    for threads in ["1", "2", "4"] {
        let commands = [
            vec![
                ours.clone(),
                "run".into(),
                "-C".into(),
                "cache=n".into(),
                "-W".into(),
                "threads".into(),
                wasm.clone(),
            ],
            vec![node.clone(), host.display().to_string(), wasm.clone()],
        ]
        .map(|mut c| {
            c.extend([threads.to_string(), MILLIONS.to_string()]);
            c
        });
        let output = crate::bench_gc::output;
        let outputs = [output(&commands[0])?, output(&commands[1])?];
        if outputs[0] != outputs[1] {
            return Err(format!(
                "{threads} threads: ours printed {:?}, V8 {:?}",
                outputs[0], outputs[1]
            ));
        }
        let mut samples = [Vec::new(), Vec::new()];
        for _ in 0..repeat {
            for (c, s) in commands.iter().zip(&mut samples) {
                s.push(wall(c)?);
            }
        }
        let [o, v] = samples.map(crate::bench::median);
        let (o1, v1) = *base.get_or_insert((o, v));
        println!(
            "{threads:<8} {o:>9.3} {v:>9.3} {:>6.2}   {:>13.2} {:>12.2}",
            o / v,
            o1 / o,
            v1 / v
        );
        rows.push(serde_json::json!({
            "threads": threads, "ours_seconds": o, "v8_seconds": v, "ratio": o / v,
            "ours_speedup": o1 / o, "v8_speedup": v1 / v,
        }));
    }
    println!(
        "load average after: {} ({} cores: speed-ups stop at the core count)",
        load_average(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let json = serde_json::json!({ "repeat": repeat, "millions": MILLIONS, "rows": rows });
    let file = out.join("bench-threads.json");
    std::fs::write(&file, serde_json::to_string_pretty(&json).unwrap())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    println!("wrote {}", file.display());
    Ok(())
}

/// The binary of a WAT module (with the threads proposal's shared memory).
fn wat_to_wasm(text: &str) -> Result<Vec<u8>, String> {
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| e.to_string())?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).map_err(|e| e.to_string())?;
    wat.encode().map_err(|e| e.to_string())
}

/// Wall seconds of one run of the whole process.
fn wall(command: &[String]) -> Result<f64, String> {
    let start = Instant::now();
    let status = Command::new(&command[0])
        .args(&command[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", command[0]))?;
    if !status.success() {
        return Err(format!("`{}` failed", command.join(" ")));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn load_average() -> String {
    let text = std::fs::read_to_string(Path::new("/proc/loadavg")).unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
