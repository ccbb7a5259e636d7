//! Project automation, run as `cargo xtask <command>`: fetch the pinned suites, run the spec
//! suite and write conformance reports.
#![forbid(unsafe_code)]

mod bench;
mod bench_gc;
mod bench_phases;
mod bench_stacks;
mod bench_threads;
mod bench_wasi;
mod bench_wast;
mod fuzz;
mod programs;
mod spectest;
mod tidy;

use harness::fetch::{fetch, Suite, SUITES};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  fetch [--mirror DIR] [SUITE...]
      Populate <suite>/data/ for the given suites (spec, threads, stack-switching, wasi,
      emscripten, sightglass; default: all) from --mirror DIR, $RUNTIME_SUITES_DIR, ../shared/suites (../shared/bench
      for sightglass), or a git fetch of the pinned commit, and verify the file count and
      checksum recorded in <suite>/manifest.json.
  spectest [--mirror DIR] [-j N] [--filter TEXT] [--draft-expected-failures]
      Run every directive of the spec suite (ignoring the expected-failure list), print a
      table per group and per directive kind, and write target/conformance/spec.json.
      --filter runs only files whose path contains TEXT; --draft-expected-failures also
      writes target/conformance/spec-expected-failures.draft.txt for review.
  conformance [--mirror DIR] [-j N]
      Every conformance suite: the spec suite (as `spectest`), then the WASI and Emscripten
      programs; writes target/conformance/{spec,wasi,emscripten}.json.
  bench [--dir DIR] [--repeat N] [--filter TEXT]
      Every sightglass program (default: fetched into xtask/bench/sightglass/data) beside
      Wasmtime in the same run, runs taking turns, N each (default 5): four medians per
      program, compile, instantiate and execution (bench.start..bench.end) timed in-process
      (ours: runtime/examples/phases.rs; Wasmtime: its Python package, $WASMTIME_PYTHON or
      python3), and the whole cached run of each CLI ($WASMTIME or wasmtime); ratios and
      geometric means, written to target/bench/bench.json. Then the WASI benchmarks (10,000
      files; 200 MB to stdout) against Wasmtime, written to target/bench/wasi.json, and a
      stack-switching generator (a million suspend/resume round trips) against Wasmtime
      -W stack-switching=y, to target/bench/stack-switching.json. --filter matches benchmark
      names (`--filter wasi`: only WASI; `--filter stack`).
  bench --whole | --fuel | --epoch [--dir DIR] [--repeat N] [--filter TEXT]
      Whole uncached runs of the programs with a benchmark.wasm: --whole our release CLI
      against node and wasmtime (target/bench/bench-whole.json); --fuel / --epoch each
      runtime with fuel or epoch interruption against itself without
      (target/bench/bench-fuel.json, bench-epoch.json).
  bench --threads [--repeat N]
      A parallel workload (the wasi-threads sum of tests/data/threads/sum.wat) on 1, 2 and 4
      threads beside Node's V8 ($NODE or node; Wasmtime 49 dropped wasi-threads): median
      wall time of N runs (default 3), ratios and speed-ups; target/bench/bench-threads.json.
  bench --gc [--repeat N] [--filter TEXT]
      The garbage collector beside Wasmtime (-W gc=y, $WASMTIME or wasmtime): the programs
      of xtask/bench/gc/ and sightglass splay, median wall time and peak resident memory of
      N runs each (default 3), ratios; target/bench/bench-gc.json. Then compiling after a
      GC-heavy run against before it (runtime/benches/compile_after_gc.rs).
  bench --calls
      Measure the cost of host->wasm and wasm->host calls, untyped (Func::call, Func::new)
      against typed (TypedFunc::call, Func::wrap), in one optimised run.
  bench-wast [--modules N] [--repeat N]
      How the .wast runner scales: scripts of N and 4N trivial modules (default N = 2000;
      Wasmtime allows 10,000 instances per store) through our release CLI and `wasmtime
      wast` in the same run; prints the time per module and its growth from N to 4N (1.0
      is linear), best of --repeat runs (default 3).
  fuzz [--seconds N | --modules N] [--seed S] [--features SET]... [-j N] [--target T]
       [--first I] [--rounds N] [--timeout SECS] [--out DIR] [--save] [--replay PATH]...
      Differential fuzzing: wasm-smith modules run under our runtime and its oracles (wasmi
      where it implements SET, and always our runtime with explicit bounds checks and
      opt_level none); results, traps and the exported state are compared after every call.
      SET is a preset (wasmi [default], gc, exceptions, threads, all) or a list such as
      simd,memory64; several --features alternate. --target compile fuzzes validation and
      compilation of mutated modules instead. Crashes, hangs (no step done for --timeout
      SECS, default 90) and disagreements are saved to DIR (default target/fuzz) as
      NAME.wasm plus a NAME.wast reproducer, and fail the command. --replay runs saved .wasm
      files (or folders of them) instead; --first I starts at module I; --save saves every
      module with its reproducer (for the corpus). Default: 60 s, seed from the clock.
  tidy [--graph]
      Structural checks: the engine's modules (runtime/engine/src) have no import cycle at
      any level of the module tree, every unsafe fn of the engine has a `# Safety` section,
      and the host crates (runtime, runtime-wasi, runtime-emscripten, runtime-wast) contain
      no `unsafe`. --graph prints each module's children with the siblings they use.
  checksum DIR
      Print the file count and checksum of DIR, as a manifest records them.
  help
      Show this text.";

/// Options shared by the commands.
#[derive(Debug, Default)]
pub struct Options {
    pub mirror: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub filter: Option<String>,
    pub draft: bool,
    pub fuel: bool,
    pub epoch: bool,
    pub dir: Option<PathBuf>,
    pub repeat: Option<usize>,
    pub calls: bool,
    pub graph: bool,
    pub gc: bool,
    pub threads: bool,
    pub whole: bool,
    pub positional: Vec<String>,
}

fn parse_options(args: &[String], allowed: &[&str]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let flag = arg.split('=').next().unwrap_or(arg);
        if arg.starts_with('-') && !allowed.contains(&flag) {
            return Err(format!("unknown option `{arg}`"));
        }
        let mut value = |name: &str| -> Result<String, String> {
            match arg.split_once('=') {
                Some((_, v)) => Ok(v.to_string()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`{name}` needs a value")),
            }
        };
        match flag {
            "--mirror" => options.mirror = Some(PathBuf::from(value("--mirror")?)),
            "-j" | "--jobs" => {
                let v = value("-j")?;
                let n = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("`-j {v}`: expected a positive number"))?;
                options.jobs = Some(n);
            }
            "--filter" => options.filter = Some(value("--filter")?),
            "--dir" => options.dir = Some(PathBuf::from(value("--dir")?)),
            "--repeat" => {
                let v = value("--repeat")?;
                let n = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("`--repeat {v}`: expected a positive number"))?;
                options.repeat = Some(n);
            }
            "--draft-expected-failures" => options.draft = true,
            "--fuel" => options.fuel = true,
            "--epoch" => options.epoch = true,
            "--calls" => options.calls = true,
            "--graph" => options.graph = true,
            "--gc" => options.gc = true,
            "--threads" => options.threads = true,
            "--whole" => options.whole = true,
            _ => options.positional.push(arg.clone()),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    if let Some(code) = harness::isolate::child_main() {
        return code;
    }
    if let Some(code) = fuzz::worker_main() {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Error(String),
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::Usage("no command given".into()));
    };
    let usage = Failure::Usage;
    match command.as_str() {
        "fetch" => {
            let options = parse_options(rest, &["--mirror"]).map_err(usage)?;
            fetch_suites(&options).map_err(Failure::Error)
        }
        "spectest" => {
            let allowed = [
                "--mirror",
                "-j",
                "--jobs",
                "--filter",
                "--draft-expected-failures",
            ];
            let options = parse_options(rest, &allowed).map_err(usage)?;
            no_positional(&options)?;
            spectest::run(&options).map_err(Failure::Error)
        }
        "conformance" => {
            let options = parse_options(rest, &["--mirror", "-j", "--jobs"]).map_err(usage)?;
            no_positional(&options)?;
            spectest::run(&options).map_err(Failure::Error)?;
            programs::wasi(&options).map_err(Failure::Error)?;
            programs::emscripten(&options).map_err(Failure::Error)
        }
        "bench" => {
            let allowed = [
                "--dir",
                "--repeat",
                "--filter",
                "--calls",
                "--fuel",
                "--epoch",
                "--gc",
                "--threads",
                "--whole",
            ];
            let options = parse_options(rest, &allowed).map_err(usage)?;
            no_positional(&options)?;
            if options.calls {
                return bench::calls().map_err(Failure::Error);
            }
            if options.threads {
                let repeat = options.repeat.unwrap_or(3);
                return bench_threads::run(repeat).map_err(Failure::Error);
            }
            if options.gc {
                let repeat = options.repeat.unwrap_or(3);
                return bench_gc::run(repeat, options.filter.as_deref()).map_err(Failure::Error);
            }
            let mode = match (options.fuel, options.epoch, options.whole) {
                (false, false, false) => bench::Mode::Phases,
                (false, false, true) => bench::Mode::Peers,
                (true, false, false) => bench::Mode::Fuel,
                (false, true, false) => bench::Mode::Epoch,
                _ => {
                    return Err(usage(
                        "`--fuel`, `--epoch` and `--whole` are separate runs".into(),
                    ))
                }
            };
            bench::run(
                options.dir.clone(),
                options.repeat.unwrap_or(5),
                options.filter.as_deref(),
                mode,
            )
            .map_err(Failure::Error)
        }
        "bench-wast" => {
            let mut n = 2000;
            let mut repeat = 3;
            let mut it = rest.iter();
            while let Some(arg) = it.next() {
                let target = match arg.as_str() {
                    "--modules" => &mut n,
                    "--repeat" => &mut repeat,
                    other => return Err(usage(format!("unknown option `{other}`"))),
                };
                *target = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|v| *v > 0)
                    .ok_or_else(|| usage(format!("`{arg}` needs a positive number")))?;
            }
            bench_wast::run(n, repeat).map_err(Failure::Error)
        }
        "fuzz" => {
            let options = fuzz::parse_args(rest).map_err(usage)?;
            fuzz::run(&options).map_err(Failure::Error)
        }
        "tidy" => {
            let options = parse_options(rest, &["--graph"]).map_err(usage)?;
            if let Some(extra) = options.positional.first() {
                return Err(Failure::Usage(format!("unexpected argument `{extra}`")));
            }
            tidy::run(&harness::workspace_root(), options.graph).map_err(Failure::Error)
        }
        "checksum" => {
            let [dir] = rest else {
                return Err(usage("`checksum` takes exactly one DIR".into()));
            };
            let (files, checksum) = harness::hash::tree_checksum(&PathBuf::from(dir))
                .map_err(|e| Failure::Error(format!("{dir}: {e}")))?;
            println!("\"files\": {files},\n\"checksum\": \"{checksum}\"");
            Ok(())
        }
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(usage(format!("unknown command `{other}`"))),
    }
}

fn no_positional(options: &Options) -> Result<(), Failure> {
    match options.positional.first() {
        Some(arg) => Err(Failure::Usage(format!("unexpected argument `{arg}`"))),
        None => Ok(()),
    }
}

fn fetch_suites(options: &Options) -> Result<(), String> {
    let suites: Vec<Suite> = if options.positional.is_empty() {
        SUITES.to_vec()
    } else {
        options
            .positional
            .iter()
            .map(|name| {
                Suite::by_name(name).ok_or_else(|| {
                    format!("unknown suite `{name}` (spec, threads, stack-switching, wasi, emscripten, sightglass)")
                })
            })
            .collect::<Result<_, _>>()?
    };
    let root = harness::workspace_root();
    for suite in suites {
        let fetched = fetch(&root, suite, options.mirror.as_deref())?;
        match fetched.source {
            Some(source) => println!("{}: {} files from {source}", suite.name, fetched.files),
            None => println!(
                "{}: {} files already present and verified",
                suite.name, fetched.files
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_parse_and_bad_ones_are_usage_errors() {
        let o = parse_options(
            &strings(&["--mirror", "/m", "-j", "3", "spec"]),
            &["--mirror", "-j"],
        )
        .unwrap();
        assert_eq!(o.mirror, Some(PathBuf::from("/m")));
        assert_eq!(o.jobs, Some(3));
        assert_eq!(o.positional, ["spec"]);
        assert!(parse_options(&strings(&["--nope"]), &["--mirror"]).is_err());
        assert!(parse_options(&strings(&["-j", "0"]), &["-j"]).is_err());
        assert!(parse_options(&strings(&["--mirror"]), &["--mirror"]).is_err());
        assert!(matches!(
            run(&strings(&["frobnicate"])),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(run(&[]), Err(Failure::Usage(_))));
        assert!(matches!(
            run(&strings(&["fetch", "nosuchsuite"])),
            Err(Failure::Error(_))
        ));
    }
}
