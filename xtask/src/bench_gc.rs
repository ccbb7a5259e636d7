//! `cargo xtask bench --gc`: the garbage collector against Wasmtime's (`-W gc=y`, its default
//! collector) on allocation-heavy programs — the WAT programs of `xtask/bench/gc/` and the
//! sightglass `splay` — run by both CLIs in turns: median wall time and median peak resident
//! memory (`/usr/bin/time`), ratios and their geometric means. Both must print the same
//! result. Then the library benchmark `runtime/benches/compile_after_gc.rs` (compiling after
//! a GC-heavy run). Writes target/bench/bench-gc.json.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A program and how to run it: an exported function with arguments, or a WASI command
/// (the sightglass protocol) in its folder.
struct Program {
    name: &'static str,
    file: PathBuf,
    invoke: Option<(&'static str, &'static [&'static str])>,
}

/// One measured run: wall seconds and peak resident kilobytes.
#[derive(Clone, Copy)]
struct Sample {
    secs: f64,
    kb: f64,
}

/// Runs the GC benchmark, `repeat` runs per runtime and program.
pub fn run(repeat: usize, filter: Option<&str>) -> Result<(), String> {
    let root = harness::workspace_root();
    crate::bench::build_release_cli(&root)?;
    let Some(wasmtime) = crate::bench::wasmtime_cli() else {
        return Err(
            "no Wasmtime CLI (set WASMTIME): the GC benchmark compares with it".to_string(),
        );
    };
    let dir = root.join("xtask/bench/gc");
    let wat = |f: &str| dir.join(f);
    let mut programs = vec![
        Program {
            name: "binary-trees",
            file: wat("binary-trees.wat"),
            invoke: Some(("run", &["18"])),
        },
        Program {
            name: "list-churn",
            file: wat("list-churn.wat"),
            invoke: Some(("run", &["100000", "20000"])),
        },
        Program {
            name: "hash-map",
            file: wat("hash-map.wat"),
            invoke: Some(("run", &["200000", "10"])),
        },
        Program {
            name: "churn",
            file: wat("churn.wat"),
            invoke: Some(("run", &["10000000"])),
        },
    ];
    let sightglass = harness::fetch::fetch(&root, harness::fetch::SIGHTGLASS, None)?.data_dir;
    programs.push(Program {
        name: "splay",
        file: sightglass.join("splay/splay.wasm"),
        invoke: None,
    });
    programs.retain(|p| filter.is_none_or(|f| p.name.contains(f)));
    let ours = root.join("target/release/runtime");
    let bench_wat = root.join("xtask/bench/bench.wat");
    println!(
        "{:<14} {:>9} {:>9} {:>6}   {:>9} {:>9} {:>6}",
        "program", "ours s", "wasmtime", "ratio", "ours MB", "wasmtime", "ratio"
    );
    let mut rows = Vec::new();
    let (mut time_ratios, mut rss_ratios) = (Vec::new(), Vec::new());
    for p in &programs {
        let commands = [
            command_for(
                &ours.display().to_string(),
                &["-C", "cache=n"],
                p,
                &bench_wat,
            ),
            command_for(&wasmtime, &["-W", "gc=y", "-C", "cache=n"], p, &bench_wat),
        ];
        let outputs = [output(&commands[0])?, output(&commands[1])?];
        if outputs[0] != outputs[1] {
            return Err(format!(
                "{}: ours printed {:?}, Wasmtime {:?}",
                p.name, outputs[0], outputs[1]
            ));
        }
        let mut samples: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..repeat {
            for (c, s) in commands.iter().zip(&mut samples) {
                s.push(measure(c)?);
            }
        }
        let [o, w] = [median(&samples[0]), median(&samples[1])];
        let (tr, mr) = (o.secs / w.secs, o.kb / w.kb);
        time_ratios.push(tr);
        rss_ratios.push(mr);
        println!(
            "{:<14} {:>9.3} {:>9.3} {:>6.2}   {:>9.1} {:>9.1} {:>6.2}",
            p.name,
            o.secs,
            w.secs,
            tr,
            o.kb / 1024.0,
            w.kb / 1024.0,
            mr
        );
        rows.push(serde_json::json!({
            "program": p.name,
            "ours_seconds": o.secs, "wasmtime_seconds": w.secs, "time_ratio": tr,
            "ours_peak_kb": o.kb, "wasmtime_peak_kb": w.kb, "peak_ratio": mr,
        }));
    }
    let (gt, gm) = (
        crate::bench::geomean(&time_ratios),
        crate::bench::geomean(&rss_ratios),
    );
    println!(
        "geometric mean: time {gt:.2}x, peak memory {gm:.2}x Wasmtime's ({repeat} runs each, medians)"
    );
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json = serde_json::json!({
        "repeat": repeat, "programs": rows,
        "geomean_time_ratio": gt, "geomean_peak_ratio": gm,
    });
    let file = out.join("bench-gc.json");
    std::fs::write(&file, serde_json::to_string_pretty(&json).unwrap())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    println!("wrote {}", file.display());
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "bench",
            "--quiet",
            "-p",
            "runtime",
            "--bench",
            "compile_after_gc",
        ])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the compile-after-GC benchmark failed".into());
    }
    Ok(())
}

/// The command line of `cli run <options>` for program `p`.
fn command_for(cli: &str, options: &[&str], p: &Program, bench_wat: &Path) -> Vec<String> {
    let mut c = vec![cli.to_string(), "run".into()];
    c.extend(options.iter().map(|s| s.to_string()));
    match p.invoke {
        Some((name, args)) => {
            c.extend(["--invoke".into(), name.into(), p.file.display().to_string()]);
            c.extend(args.iter().map(|s| s.to_string()));
        }
        None => {
            c.extend(["--dir".into(), ".".into(), "--preload".into()]);
            c.push(format!("bench={}", bench_wat.display()));
            c.push(p.file.display().to_string());
        }
    }
    c
}

/// `command` as a process, in its program's folder for WASI commands (which read their input
/// relative to it).
fn in_program_dir(command: &[String]) -> Command {
    let mut c = Command::new(&command[0]);
    c.args(&command[1..]);
    if let Some(dir) = command
        .last()
        .and_then(|f| Path::new(f).parent())
        .filter(|d| d.join("default.input").exists())
    {
        c.current_dir(dir);
    }
    c
}

/// What the program prints (its result), checked to be a success.
pub(crate) fn output(command: &[String]) -> Result<String, String> {
    let out = in_program_dir(command)
        .output()
        .map_err(|e| format!("{}: {e}", command[0]))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed: {}",
            command.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One run under `/usr/bin/time`: wall time and peak resident set.
fn measure(command: &[String]) -> Result<Sample, String> {
    let report = std::env::temp_dir().join(format!("bench-gc-{}.time", std::process::id()));
    let mut timed = vec![
        "/usr/bin/time".to_string(),
        "-f".into(),
        "%M".into(),
        "-o".into(),
        report.display().to_string(),
    ];
    timed.extend(command.iter().cloned());
    let mut t = in_program_dir(&timed);
    // Wasmtime warns about `--invoke` with arguments on every run; `output` checked the run.
    t.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let start = Instant::now();
    let status = t
        .status()
        .map_err(|e| format!("/usr/bin/time (needed for peak memory): {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("`{}` failed", command.join(" ")));
    }
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    let kb = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("unexpected /usr/bin/time output {text:?}"))?;
    Ok(Sample { secs, kb })
}

/// Medians of time and memory, each on its own.
fn median(samples: &[Sample]) -> Sample {
    Sample {
        secs: crate::bench::median(samples.iter().map(|s| s.secs).collect()),
        kb: crate::bench::median(samples.iter().map(|s| s.kb).collect()),
    }
}
