//! `cargo xtask bench`'s main table: per sightglass program, four figures for us and for
//! Wasmtime measured in the same run, runs of the two taking turns:
//!
//! - compile: `Module::new` without a cache, timed in-process (ours by
//!   `runtime/examples/phases.rs`, Wasmtime's by `xtask/bench/phases.py` through its Python
//!   embedding, `$WASMTIME_PYTHON` or `python3`);
//! - instantiate: `Linker::instantiate` with WASI and the `bench` functions, in-process;
//! - execution: the time between the guest's `bench.start` and `bench.end` calls, timed by
//!   those host functions, in-process;
//! - cached run: the whole `run` process of each CLI (`$WASMTIME` or `wasmtime`) with its
//!   compilation cache on and warm (fresh cache folders under target/bench/cache/);
//! - cold run: the same with the cache off (`-C cache=n`), and how many times longer it
//!   takes than our cached run ("cold/cached").
//!
//! The programs: every sightglass program and a C hello world (`xtask/bench/hello-world/`,
//! start-up alone). Medians of `repeat` runs (each kind of run by both sides in turn, who goes
//! first alternating), ratios ours/Wasmtime and their geometric means; our output is checked
//! against the expected one in every run. Writes target/bench/bench.json.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use crate::bench::{geomean, median, rounded};

/// The figures, in the table's order.
const FIGURES: [&str; 5] = [
    "compile",
    "instantiate",
    "execution",
    "cached run",
    "cold run",
];

/// Executions shorter than this (in Wasmtime's run) are shown but left out of the
/// execution geometric mean: they time the two host calls, not the program.
const SHORTEST_EXECUTION_MS: f64 = 0.1;

/// A sightglass program: a core module in its folder, with its expected output.
struct Program {
    name: String,
    dir: PathBuf,
    file: String,
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
}

/// The figures of one run, in milliseconds (`None`: not measured).
type Figures = [Option<f64>; FIGURES.len()];

/// The tools one side needs.
struct Side {
    /// Runs the phases of `file` in the current folder, writing the report to the path
    /// given as first argument.
    phases: Option<Vec<String>>,
    /// A cached whole run of `file` in the current folder.
    cached: Option<Vec<String>>,
}

pub fn run(root: &Path, dir: &Path, repeat: usize, filter: Option<&str>) -> Result<(), String> {
    crate::bench::build_release(root, &["--bin", "runtime", "--example", "phases"])?;
    let out = root.join("target/bench");
    let cache = out.join("cache");
    // Fresh caches: the first run of each program fills them, the timed runs hit them.
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let bench_wat = root.join("xtask/bench/bench.wat").display().to_string();
    let preload = [
        "--dir".into(),
        ".".into(),
        "--preload".into(),
        format!("bench={bench_wat}"),
    ];
    let ours = Side {
        phases: Some(vec![root
            .join("target/release/examples/phases")
            .display()
            .to_string()]),
        cached: Some(
            [
                root.join("target/release/runtime").display().to_string(),
                "run".into(),
            ]
            .into_iter()
            .chain([
                "-C".into(),
                format!("cache-dir={}", cache.join("ours").display()),
            ])
            .chain(preload.iter().cloned())
            .collect(),
        ),
    };
    let wasmtime = wasmtime_side(root, &cache, &preload)?;
    if wasmtime.phases.is_none() {
        println!(
            "no Python with the `wasmtime` package ($WASMTIME_PYTHON or python3): \
             Wasmtime's compile, instantiate and execution figures are not measured"
        );
    }
    if wasmtime.cached.is_none() {
        println!("no Wasmtime CLI ($WASMTIME or wasmtime): its cached runs are not measured");
    }
    // The sightglass programs and a C hello world (start-up alone).
    let hello = root.join("xtask/bench");
    let programs = programs(&[(dir, None), (&hello, Some("hello-world"))], filter)?;
    if programs.is_empty() {
        println!("no sightglass program matches the filter");
        return Ok(());
    }
    println!(
        "{} programs, medians of {repeat} runs in turns with Wasmtime (ms; ratio = ours/wasmtime)",
        programs.len()
    );
    print!("{:<26}", "");
    for figure in FIGURES {
        print!("{:>30}", format!("{figure} ms"));
    }
    println!();
    print!("{:<26}", "benchmark");
    for _ in FIGURES {
        print!("{:>12}{:>10}{:>8}", "ours", "wasmtime", "ratio");
    }
    println!("{:>13}", "cold/cached");
    let mut json = serde_json::Map::new();
    let mut ratios: [Vec<f64>; FIGURES.len()] = Default::default();
    for program in &programs {
        // Fill both caches (and check our output) before timing.
        run_cli(program, &ours, true, false)?;
        run_cli(program, &wasmtime, false, false)?;
        let mut samples: [Vec<Figures>; 2] = [Vec::new(), Vec::new()];
        for rep in 0..repeat {
            // Each kind of run by one side, then the other; who goes first alternates, so
            // what a run leaves behind (caches, the host's load) favours neither.
            let mut figures = [[None; FIGURES.len()]; 2];
            let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
            for step in 0..3 {
                for s in order {
                    let (side, ours_side) = if s == 0 {
                        (&ours, true)
                    } else {
                        (&wasmtime, false)
                    };
                    let f = &mut figures[s];
                    match step {
                        0 => phases(program, side, ours_side, &out, f)?,
                        1 => f[3] = run_cli(program, side, ours_side, false)?,
                        _ => f[4] = run_cli(program, side, ours_side, true)?,
                    }
                }
            }
            for (samples, f) in samples.iter_mut().zip(figures) {
                samples.push(f);
            }
        }
        let [o, w] = samples.map(|s| medians(&s));
        print!("{:<26}", program.name);
        let mut fields = serde_json::Map::new();
        for (i, figure) in FIGURES.iter().enumerate() {
            let ratio = match (o[i], w[i]) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let counted = i != 2 || w[i].is_some_and(|w| w >= SHORTEST_EXECUTION_MS);
            if let (Some(r), true) = (ratio, counted) {
                ratios[i].push(r);
            }
            let cell = |v: Option<f64>, d: usize| v.map_or("-".into(), |v| format!("{v:.d$}"));
            let mark = if counted { "" } else { "*" };
            print!(
                "{:>12}{:>10}{:>8}",
                cell(o[i], 2),
                cell(w[i], 2),
                cell(ratio, 3) + mark
            );
            fields.insert(
                figure.replace(' ', "_"),
                serde_json::json!({
                    "ours_ms": o[i].map(|v| rounded(v, 4)),
                    "wasmtime_ms": w[i].map(|v| rounded(v, 4)),
                    "ratio": ratio.map(|v| rounded(v, 4)),
                }),
            );
        }
        let cold_over_cached = match (o[4], o[3]) {
            (Some(cold), Some(cached)) if cached > 0.0 => Some(cold / cached),
            _ => None,
        };
        println!(
            "{:>13}",
            cold_over_cached.map_or("-".into(), |r| format!("{r:.1}"))
        );
        fields.insert(
            "ours_cold_over_cached".into(),
            cold_over_cached.map(|r| rounded(r, 3)).into(),
        );
        json.insert(program.name.clone(), fields.into());
    }
    let mut geomeans = serde_json::Map::new();
    print!("{:<26}", "geometric mean");
    for (figure, values) in FIGURES.iter().zip(&ratios) {
        let geo = (!values.is_empty()).then(|| geomean(values));
        print!("{:>30}", geo.map_or("-".into(), |g| format!("{g:.3}")));
        geomeans.insert(
            figure.replace(' ', "_"),
            serde_json::json!({ "ratio": geo.map(|g| rounded(g, 4)), "programs": values.len() }),
        );
    }
    println!();
    println!(
        "(below 1 means we are faster; * marks executions under {SHORTEST_EXECUTION_MS} ms, \
         left out of the execution mean)"
    );
    let report = serde_json::json!({
        "repeat": repeat,
        "unit": "ms",
        "geomeans": geomeans,
        "benchmarks": json,
    });
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    let file = out.join("bench.json");
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("wrote {}", file.display());
    Ok(())
}

/// Wasmtime's side: its Python embedding for the phases, its CLI for cached runs.
fn wasmtime_side(root: &Path, cache: &Path, preload: &[String]) -> Result<Side, String> {
    let python = std::env::var("WASMTIME_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_package = Command::new(&python)
        .args(["-c", "import wasmtime"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let phases = has_package.then(|| {
        vec![
            python,
            root.join("xtask/bench/phases.py").display().to_string(),
        ]
    });
    let cached = if let Some(cli) = crate::bench::wasmtime_cli() {
        // Wasmtime's cache is configured by a file naming its folder.
        let config = cache.join("wasmtime.toml");
        let folder = cache.join("wasmtime");
        std::fs::write(
            &config,
            format!("[cache]\ndirectory = {:?}\n", folder.display().to_string()),
        )
        .map_err(|e| format!("{}: {e}", config.display()))?;
        Some(
            [
                cli,
                "run".into(),
                "-C".into(),
                format!("cache-config={}", config.display()),
            ]
            .into_iter()
            .chain(preload.iter().cloned())
            .collect(),
        )
    } else {
        None
    };
    Ok(Side { phases, cached })
}

/// Every core module in the program folders of `dirs` (each folder of the directory, or
/// only the one named): components are reported and left out, both sides' phase runners
/// embed core modules.
fn programs(dirs: &[(&Path, Option<&str>)], filter: Option<&str>) -> Result<Vec<Program>, String> {
    let mut programs = Vec::new();
    let read = |d: &Path| std::fs::read_dir(d).map_err(|e| format!("{}: {e}", d.display()));
    let mut folders = Vec::new();
    for (dir, only) in dirs {
        match only {
            Some(name) => folders.push(dir.join(name)),
            None => {
                for entry in read(dir)? {
                    folders.push(entry.map_err(|e| e.to_string())?.path());
                }
            }
        }
    }
    for folder in folders {
        if !folder.is_dir() {
            continue;
        }
        for file in read(&folder)? {
            let path = file.map_err(|e| e.to_string())?.path();
            if path.extension().is_none_or(|e| e != "wasm") {
                continue;
            }
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let name = if stem == "benchmark" {
                folder
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            } else {
                stem.clone()
            };
            if filter.is_some_and(|f| !name.contains(f)) {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            // A component's layer field (bytes 6..8) is 1; a core module's is 0.
            if bytes.get(6..8) == Some(&[1, 0]) {
                println!(
                    "{name}: a component, not measured (the phase runners embed core modules)"
                );
                continue;
            }
            let expected = |kind: &str| {
                [stem.as_str(), "default"]
                    .iter()
                    .find_map(|s| std::fs::read(folder.join(format!("{s}.{kind}.expected"))).ok())
            };
            programs.push(Program {
                name,
                dir: folder.clone(),
                file: path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                stdout: expected("stdout"),
                stderr: expected("stderr"),
            });
        }
    }
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(programs)
}

/// Runs `command` on the program in its folder, capturing its output.
fn run_in(program: &Program, command: &[String], extra: &[String]) -> Result<Output, String> {
    Command::new(&command[0])
        .args(&command[1..])
        .args(extra)
        .arg(&program.file)
        .current_dir(&program.dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", command[0]))
}

/// The run must succeed and, if `check`, print what the program is expected to print.
fn checked(program: &Program, who: &str, out: &Output, check: bool) -> Result<(), String> {
    if !out.status.success() {
        return Err(format!(
            "{}: the run of {who} failed: {}",
            program.name,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if check {
        for (kind, expected, got) in [
            ("stdout", &program.stdout, &out.stdout),
            ("stderr", &program.stderr, &out.stderr),
        ] {
            if expected.as_ref().is_some_and(|e| e != got) {
                return Err(format!(
                    "{}: our {kind} differs from the expected one",
                    program.name
                ));
            }
        }
    }
    Ok(())
}

/// A whole run by the CLI, cached or `cold` (cache off); returns its wall time in ms.
fn run_cli(program: &Program, side: &Side, ours: bool, cold: bool) -> Result<Option<f64>, String> {
    let Some(command) = &side.cached else {
        return Ok(None);
    };
    let off = ["-C".to_string(), "cache=n".to_string()];
    let start = Instant::now();
    let out = run_in(program, command, if cold { &off } else { &[] })?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    checked(program, if ours { "ours" } else { "wasmtime" }, &out, ours)?;
    Ok(Some(ms))
}

/// The in-process phases of one run by `side` (compile, instantiate, execution), into
/// `figures`.
fn phases(
    program: &Program,
    side: &Side,
    ours: bool,
    out: &Path,
    figures: &mut Figures,
) -> Result<(), String> {
    if let Some(command) = &side.phases {
        let report = out.join(if ours {
            "phases-ours.json"
        } else {
            "phases-wasmtime.json"
        });
        let output = run_in(program, command, &[report.display().to_string()])?;
        checked(
            program,
            if ours {
                "our phases"
            } else {
                "wasmtime's phases"
            },
            &output,
            ours,
        )?;
        let text =
            std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        for (i, key) in ["compile_ns", "instantiate_ns", "execution_ns"]
            .iter()
            .enumerate()
        {
            figures[i] = value[key].as_f64().map(|ns| ns / 1e6);
        }
    }
    Ok(())
}

/// The median of each figure over the runs (`None` if a figure was never measured).
fn medians(samples: &[Figures]) -> Figures {
    std::array::from_fn(|i| {
        let values: Vec<f64> = samples.iter().filter_map(|s| s[i]).collect();
        (!values.is_empty()).then(|| median(values))
    })
}
