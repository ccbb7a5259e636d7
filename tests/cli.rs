//! CLI tests: runs the `runtime` binary on the bundled examples and snapshots what a user sees
//! (stored in the top-level `snapshots/` folder).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `runtime` binary of this workspace, built if needed.
fn runtime_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // This test runs as target/<profile>/deps/cli-<hash>; the CLI is target/<profile>/runtime.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        // A no-op when `cargo test --workspace` already built it; needed after `cargo test -p harness`.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let built = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--profile",
                profile,
                "-p",
                "runtime",
                "--bin",
                "runtime",
            ])
            .current_dir(harness::workspace_root())
            .status();
        assert!(
            built.is_ok_and(|s| s.success()),
            "building the runtime CLI failed"
        );
        profile_dir.join(format!("runtime{}", std::env::consts::EXE_SUFFIX))
    })
}

fn cli(args: &[&str]) -> Output {
    Command::new(runtime_bin())
        .args(args)
        .current_dir(harness::workspace_root())
        .output()
        .expect("the runtime CLI runs")
}

/// Exit code, stdout and stderr as one text, for snapshots.
fn transcript(args: &[&str]) -> String {
    let out = cli(args);
    format!(
        "$ runtime {}\nexit code: {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn snapshot(name: &str, text: String) {
    insta::with_settings!({
        snapshot_path => harness::workspace_root().join("snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn validate_accepts_the_example() {
    snapshot(
        "cli_validate_ok",
        transcript(&["validate", "tests/data/fib.wat"]),
    );
}

#[test]
fn validate_rejects_an_invalid_module() {
    snapshot(
        "cli_validate_invalid",
        transcript(&["validate", "tests/data/invalid.wat"]),
    );
}

#[test]
fn missing_files_and_bad_arguments_are_usage_errors() {
    for args in [
        &["validate", "tests/data/no-such-file.wat"][..],
        &["--bogus"],
        &[],
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage:"),
            "{args:?}"
        );
    }
    snapshot(
        "cli_missing_file",
        transcript(&["validate", "tests/data/no-such-file.wat"]),
    );
}

#[test]
fn help_exits_successfully() {
    let out = cli(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("runtime validate FILE"));
}

#[test]
fn a_trap_prints_its_message_and_backtrace_and_exits_with_1() {
    let args = ["tests/data/trap.wat", "--invoke", "divide", "1", "0"];
    assert_eq!(cli(&args).status.code(), Some(1));
    snapshot("cli_trap", transcript(&args));
}

#[test]
fn invoke_prints_results() {
    let out = cli(&["tests/data/fib.wat", "--invoke", "fib", "20"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6765\n");
}

/// The sightglass programs beside the repository (`$RUNTIME_BENCH_DIR` overrides).
fn sightglass_dir() -> PathBuf {
    std::env::var_os("RUNTIME_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| harness::workspace_root().join("../shared/bench/sightglass"))
}

/// WASI programs through the CLI with `--dir` and `--preload`: the SIMD ones (BLAKE3 and
/// intgemm) and a few scalar ones must print exactly their expected output.
#[test]
fn sightglass_programs_print_their_expected_output() {
    let dir = sightglass_dir();
    assert!(
        dir.is_dir(),
        "the sightglass benchmarks are expected at {} (set RUNTIME_BENCH_DIR)",
        dir.display()
    );
    let preload = format!(
        "bench={}",
        harness::workspace_root()
            .join("xtask/bench/bench.wat")
            .display()
    );
    for name in [
        "blake3-simd",
        "intgemm-simd",
        "blake3-scalar",
        "richards",
        "quicksort",
    ] {
        let folder = dir.join(name);
        let out = Command::new(runtime_bin())
            .args(["run", "--dir", ".", "--preload", &preload, "benchmark.wasm"])
            .current_dir(&folder)
            .output()
            .expect("the runtime CLI runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (file, got) in [
            ("benchmark.stdout.expected", &out.stdout),
            ("benchmark.stderr.expected", &out.stderr),
        ] {
            if let Ok(expected) = std::fs::read(folder.join(file)) {
                assert!(
                    expected == *got,
                    "{name}: output differs from {file}:\n{}",
                    String::from_utf8_lossy(got)
                );
            }
        }
    }
}

/// The benchmark budgets (`RUNTIME_BENCH_FUEL`, `RUNTIME_BENCH_EPOCH`) reach the program.
#[test]
fn bench_budgets_come_from_the_environment() {
    let run = |env: (&str, &str), args: &[&str]| {
        Command::new(runtime_bin())
            .args(args)
            .env(env.0, env.1)
            .current_dir(harness::workspace_root())
            .output()
            .expect("the runtime CLI runs")
    };
    let out = run(("RUNTIME_BENCH_FUEL", "100000"), &["tests/data/spin.wat"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("all fuel consumed"), "{stderr}");
    let out = run(("RUNTIME_BENCH_FUEL", "lots"), &["tests/data/spin.wat"]);
    assert_eq!(out.status.code(), Some(2));
    // The deadline is never reached: the program runs normally.
    let fib = ["tests/data/fib.wat", "--invoke", "fib", "20"];
    let out = run(("RUNTIME_BENCH_EPOCH", "1"), &fib);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6765\n");
}
