//! CLI tests: runs the `runtime` binary on the bundled examples and snapshots what a user sees
//! (stored in the top-level `snapshots/` folder).

use harness::fetch::SIGHTGLASS;
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

/// A command running the CLI, its compilation cache (on by default) in a directory of this
/// test process rather than the user's.
fn runtime_cmd() -> Command {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    let cache = CACHE.get_or_init(|| tempfile::tempdir().expect("a scratch directory"));
    let mut command = Command::new(runtime_bin());
    command.env("XDG_CACHE_HOME", cache.path());
    command
}

fn cli(args: &[&str]) -> Output {
    runtime_cmd()
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

/// Exit codes as Wasmtime's: 2 for what clap rejects, 1 for any other error.
#[test]
fn bad_usage_exits_with_2_and_other_errors_with_1() {
    for args in [
        &[][..],
        &["--bogus", "tests/data/fib.wat"],
        &["run"],
        &["validate"],
        &["wast"],
        &["--env", "=x", "tests/data/fib.wat"],
        &["--emscripten", "--invoke", "f", "tests/data/fib.wat"],
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("For more information, try '--help'."),
            "{args:?}"
        );
    }
    for args in [
        &["validate", "tests/data/no-such-file.wat"][..],
        &["tests/data/no-such-file.wasm"],
        &["--dir", "no/such/dir", "tests/data/env.wat"],
        &["--invoke", "fib", "tests/data/fib.wat"],
        &["--invoke", "fib", "tests/data/fib.wat", "x"],
        &["--invoke", "nope", "tests/data/fib.wat"],
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
    snapshot(
        "cli_missing_file",
        transcript(&["validate", "tests/data/no-such-file.wat"]),
    );
}

#[test]
fn help_is_given_for_the_whole_and_per_command() {
    for (args, text) in [
        (&["--help"][..], "runtime <COMMAND>"),
        (&["-h"], "Commands:"),
        (&["help", "wast"], "Usage: runtime wast"),
        (&["run", "--help"], "Usage: runtime run [OPTIONS] <WASM>..."),
        (&["validate", "--help"], "Usage: runtime validate"),
        (
            &["wast", "--help"],
            "Usage: runtime wast [OPTIONS] <SCRIPT_FILE>...",
        ),
        (&["-W", "help"], "custom-page-sizes[=y|n] -- "),
        (&["run", "-W", "help-long"], "-W fuel=N"),
        (&["-S", "help"], "inherit-env[=y|n] -- "),
        (&["-C", "help"], "cache-dir=VAL -- "),
        (
            &["compile", "--help"],
            "Usage: runtime compile [OPTIONS] <MODULE>",
        ),
        (&["--version"], "runtime 0."),
    ] {
        let out = cli(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(stdout.contains(text), "{args:?}:\n{stdout}");
    }
    snapshot("cli_help", transcript(&["--help"]));
    snapshot("cli_wasm_help", transcript(&["-W", "help"]));
}

#[test]
fn a_trap_prints_its_message_and_backtrace_and_exits_with_134() {
    let args = ["--invoke", "divide", "tests/data/trap.wat", "1", "0"];
    assert_eq!(cli(&args).status.code(), Some(134));
    snapshot("cli_trap", transcript(&args));
}

#[test]
fn invoke_prints_results() {
    for args in [
        &["--invoke", "fib", "tests/data/fib.wat", "20"][..],
        &["run", "--invoke", "fib", "tests/data/fib.wat", "20"],
        // The order this CLI always accepted.
        &["tests/data/fib.wat", "--invoke", "fib", "20"],
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "6765\n", "{args:?}");
    }
}

#[test]
fn an_unknown_import_fails_to_link_or_traps_with_unknown_imports_trap() {
    let args = ["tests/data/unknown-import.wat"];
    assert_eq!(cli(&args).status.code(), Some(1));
    snapshot("cli_unknown_import", transcript(&args));
    let out = cli(&[
        "-W",
        "unknown-imports-trap",
        "tests/data/unknown-import.wat",
    ]);
    assert_eq!(out.status.code(), Some(134));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown import: `host::missing` has not been defined"),
        "{stderr}"
    );
}

/// `-W` enables the proposals the README claims: off by default, on with the flag.
/// Stack switching is off by default (as in Wasmtime) and on with `-W stack-switching`; a
/// trap inside a continuation is reported like any other.
#[test]
fn stack_switching_runs_with_w_stack_switching() {
    let generator = [
        "--invoke",
        "sum",
        "xtask/bench/stack-switching/generator.wat",
        "100",
    ];
    let out = cli(&generator);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stack switching"));
    let out = cli(&[&["-W", "stack-switching"][..], &generator].concat());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4950\n");
    let trap = ["--invoke", "run", "tests/data/cont-trap.wat"];
    let out = cli(&[&["-W", "stack-switching=y"][..], &trap].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(134), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
}

#[test]
fn proposals_are_enabled_and_disabled_with_w() {
    let grow = ["--invoke", "grow", "tests/data/page-sizes.wat", "3"];
    let out = cli(&grow);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("custom page sizes proposal"));
    for flag in [
        "custom-page-sizes",
        "custom-page-sizes=y",
        "all-proposals=y",
    ] {
        let out = cli(&[&["-W", flag][..], &grow].concat());
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "4\n", "{flag}");
    }
    let out = cli(&[&["-W", "all-proposals,custom-page-sizes=n"][..], &grow].concat());
    assert_eq!(out.status.code(), Some(1), "a proposal's own key wins");
    // wide-arithmetic is on by default, as in Wasmtime 49.
    let wide = [
        "--invoke",
        "add128",
        "tests/data/wide.wat",
        "-1",
        "0",
        "1",
        "0",
    ];
    let out = cli(&wide);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n1\n");
    let out = cli(&[&["-W", "wide-arithmetic=n"][..], &wide].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wide arithmetic support is not enabled"));
    let out = cli(&[
        "validate",
        "-W",
        "custom-page-sizes",
        "tests/data/page-sizes.wat",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
}

/// The legacy exception instructions are on by default in the CLI (the library's `Config`
/// keeps them off); `-W legacy-exceptions=n` refuses a module that uses them.
#[test]
fn legacy_exceptions_are_on_unless_turned_off() {
    let catch = ["--invoke", "catch", "tests/data/legacy-try.wat", "41"];
    let out = cli(&catch);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    let out = cli(&[&["-W", "legacy-exceptions=y"][..], &catch].concat());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    for flag in ["legacy-exceptions=n", "all-proposals=n,exceptions"] {
        let out = cli(&[&["-W", flag][..], &catch].concat());
        assert_eq!(out.status.code(), Some(1), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("legacy_exceptions feature required"),
            "{flag}: {stderr}"
        );
    }
    let out = cli(&["validate", "tests/data/legacy-try.wat"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    // A C++ program built by emcc with -fwasm-exceptions prints what Node printed.
    let program = "emscripten-tests/modern/wasm_exceptions.wasm";
    let expected = std::fs::read_to_string(
        harness::workspace_root()
            .join(program)
            .with_extension("out"),
    )
    .expect("the recorded output");
    let out = cli(&[program]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let out = cli(&["-W", "legacy-exceptions=n", program]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("legacy_exceptions feature required"));
}

/// As in Wasmtime, the threads proposal validates by default but a shared memory needs
/// `-W threads` or `-W shared-memory`.
#[test]
fn shared_memories_need_threads_or_shared_memory() {
    let add = ["--invoke", "add", "tests/data/shared.wat", "5"];
    let out = cli(&add);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-W threads"));
    for flags in [&["-W", "threads"][..], &["-W", "shared-memory=y"]] {
        let out = cli(&[flags, &add].concat());
        assert_eq!(out.status.code(), Some(0), "{flags:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "5\n");
    }
    let out = cli(&[&["-W", "threads,shared-memory=n"][..], &add].concat());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unknown_and_unsupported_w_and_s_keys_are_usage_errors() {
    for (flag, value, message) in [
        ("-W", "bogus", "unknown -W option `bogus`"),
        (
            "-W",
            "shared-everything-threads",
            "the shared-everything-threads proposal is not supported yet",
        ),
        (
            "-W",
            "component-model=y",
            "the component-model proposal is not supported yet",
        ),
        (
            "-W",
            "epoch-interruption",
            "`-W epoch-interruption` is not supported yet",
        ),
        ("-W", "fuel=lots", "`lots` is not a number"),
        ("-W", "timeout=1fortnight", "is not a duration"),
        ("-W", "threads=maybe", "`maybe` is not a flag value"),
        ("-S", "bogus", "unknown -S option `bogus`"),
        ("-S", "tcp", "`-S tcp` is not supported yet"),
    ] {
        let out = cli(&[flag, value, "tests/data/fib.wat"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(message), "{flag} {value}: {stderr}");
    }
    // Disabling a proposal we lack is fine; run-only options are refused by `wast`.
    assert_eq!(
        cli(&[
            "-W",
            "shared-everything-threads=n",
            "--invoke",
            "fib",
            "tests/data/fib.wat",
            "1"
        ])
        .status
        .code(),
        Some(0)
    );
    let out = cli(&[
        "wast",
        "-W",
        "unknown-imports-trap",
        "tests/data/page-sizes.wast",
    ]);
    assert_eq!(out.status.code(), Some(2));
    snapshot(
        "cli_unsupported_proposal",
        transcript(&["-W", "shared-everything-threads", "tests/data/fib.wat"]),
    );
}

#[test]
fn wast_takes_proposal_flags_beyond_its_folder_defaults() {
    let out = cli(&["wast", "tests/data/page-sizes.wast"]);
    assert_eq!(out.status.code(), Some(1));
    let out = cli(&[
        "wast",
        "-W",
        "custom-page-sizes",
        "tests/data/page-sizes.wast",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tests/data/page-sizes.wast: 2 passed, 0 failed\n"
    );
}

fn env_program(args: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = runtime_cmd();
    command
        .args(args)
        .current_dir(harness::workspace_root())
        .env_remove("RUNTIME_TEST_UNSET");
    for (k, v) in vars {
        command.env(k, v);
    }
    let out = command.output().expect("the runtime CLI runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `--env NAME=VAL`, `--env NAME` (inherited), `-S inherit-env` and `--argv0`; the exit
/// status is the program's (its argument count).
#[test]
fn wasi_programs_get_arguments_and_environment() {
    let (code, out) = env_program(&["--env", "A=1", "tests/data/env.wat", "x", "--y"], &[]);
    assert_eq!(code, Some(3));
    assert_eq!(out, "tests/data/env.wat\nx\n--y\n--\nA=1\n");
    let (code, out) = env_program(
        &[
            "--argv0",
            "prog",
            "--env",
            "RUNTIME_TEST_VAR",
            "--env",
            "RUNTIME_TEST_UNSET",
            "--env",
            "B=2",
            "tests/data/env.wat",
        ],
        &[("RUNTIME_TEST_VAR", "from the host")],
    );
    assert_eq!(code, Some(1));
    assert_eq!(out, "prog\n--\nRUNTIME_TEST_VAR=from the host\nB=2\n");
    let (_, out) = env_program(
        &[
            "-S",
            "inherit-env",
            "--env",
            "RUNTIME_TEST_VAR=over",
            "tests/data/env.wat",
        ],
        &[
            ("RUNTIME_TEST_VAR", "from the host"),
            ("RUNTIME_TEST_OTHER", "o"),
        ],
    );
    let env: Vec<&str> = out
        .split("--\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .collect();
    assert!(env.contains(&"RUNTIME_TEST_OTHER=o"), "{out}");
    assert_eq!(
        env.iter()
            .filter(|l| l.starts_with("RUNTIME_TEST_VAR="))
            .collect::<Vec<_>>(),
        [&"RUNTIME_TEST_VAR=over"]
    );
    let (code, out) = env_program(&["-S", "inherit-stdout=n", "tests/data/env.wat"], &[]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    let (code, _) = env_program(&["-S", "cli=n", "tests/data/env.wat"], &[]);
    assert_eq!(code, Some(1), "without WASI its imports are unknown");
}

/// The sightglass programs, fetched like the other suites (see
/// `xtask/bench/sightglass/manifest.json`).
fn sightglass_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let fetched = DIR.get_or_init(|| {
        harness::fetch::fetch(&harness::workspace_root(), SIGHTGLASS, None).map(|f| f.data_dir)
    });
    match fetched {
        Ok(dir) => dir.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// WASI programs through the CLI with `--dir` and `--preload`: the SIMD ones (BLAKE3 and
/// intgemm) and a few scalar ones must print exactly their expected output.
#[test]
fn sightglass_programs_print_their_expected_output() {
    let dir = sightglass_dir();
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
        let out = runtime_cmd()
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

/// The exit code and stderr of a run.
fn code_and_stderr(args: &[&str]) -> (Option<i32>, String) {
    let out = cli(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn fuel_stops_an_infinite_loop_with_the_out_of_fuel_trap() {
    let (code, stderr) = code_and_stderr(&["-W", "fuel=1000000", "tests/data/spin.wat"]);
    assert_eq!(code, Some(134), "{stderr}");
    assert!(
        stderr.contains("wasm trap: all fuel consumed by WebAssembly"),
        "{stderr}"
    );
    // Enough fuel changes nothing.
    let out = cli(&[
        "-W",
        "fuel=1000000",
        "--invoke",
        "fib",
        "tests/data/fib.wat",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6765\n");
}

/// wasi-threads (`tests/data/threads/`, WAT programs against `wasi::thread-spawn`: Debian's
/// clang 14 and wasi-libc of 2022 cannot target `wasm32-wasip1-threads`).
mod wasi_threads {
    use super::cli;

    fn run(program: &str, args: &[&str]) -> (Option<i32>, String, String) {
        let path = format!("tests/data/threads/{program}");
        let out = cli(&[&["run", "-W", "threads", path.as_str()][..], args].concat());
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    }

    /// Eight threads contend on a futex mutex; a lost update or a lost wake-up (a hang, which
    /// the harness's time limit catches) fails. `THREADS_MUTEX_RUNS` runs (default 1,000).
    #[test]
    fn a_mutex_contended_by_eight_threads_counts_right_every_time() {
        let runs: usize = std::env::var("THREADS_MUTEX_RUNS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1000);
        for run_index in 0..runs {
            let (code, stdout, stderr) = run("mutex.wat", &[]);
            assert_eq!(
                (code, stdout.as_str()),
                (Some(0), "counter = 80000\n"),
                "run {run_index}: {stderr}"
            );
        }
    }

    #[test]
    fn a_broadcast_condition_orders_the_threads_output() {
        let (code, stdout, stderr) = run("turns.wat", &[]);
        let expected: String = (1..=6).map(|n| format!("thread {n}\n")).collect();
        assert_eq!((code, stdout), (Some(0), expected + "done\n"), "{stderr}");
    }

    #[test]
    fn a_parallel_sum_is_the_same_on_one_two_and_four_threads() {
        // f(i) = (i * 2654435761 mod 2^32) >> 8 summed over [0, 2 * 10^6).
        let expected: u64 = (0..2_000_000u64)
            .map(|i| ((i * 2_654_435_761) & 0xffff_ffff) >> 8)
            .sum();
        for threads in ["1", "2", "4"] {
            let (code, stdout, stderr) = run("sum.wat", &[threads, "2"]);
            assert_eq!(code, Some(0), "{threads} threads: {stderr}");
            assert_eq!(stdout, format!("sum = {expected}\n"), "{threads} threads");
        }
    }

    #[test]
    fn a_trap_or_an_exit_in_a_thread_ends_the_program() {
        // The main thread waits forever: only the thread's end can stop the program.
        let (code, _, stderr) = run("trap.wat", &[]);
        assert_eq!(code, Some(134), "{stderr}");
        assert!(stderr.contains("wasm trap: unreachable"), "{stderr}");
        let (code, _, stderr) = run("trap.wat", &["1"]);
        assert_eq!(code, Some(7), "{stderr}");
    }

    #[test]
    fn spawned_threads_are_bounded_like_the_main_one() {
        // The spawned thread spins and the main thread waits forever: only the spawned
        // thread's own fuel or deadline can end the run.
        let spin = "tests/data/threads/spin.wat";
        let out = cli(&["run", "-W", "threads,fuel=1000000", spin]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(134), "{stderr}");
        assert!(stderr.contains("all fuel consumed"), "{stderr}");
        let started = std::time::Instant::now();
        let out = cli(&["run", "-W", "threads,timeout=1s", spin]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(134), "{stderr}");
        assert!(stderr.contains("interrupt"), "{stderr}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn thread_spawn_follows_dash_s_threads() {
        // Off: the import is unknown. On for a module that does not import it: harmless.
        let out = cli(&[
            "run",
            "-W",
            "threads",
            "-S",
            "threads=n",
            "tests/data/threads/turns.wat",
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("thread-spawn"));
        let out = cli(&[
            "-S",
            "threads",
            "--invoke",
            "fib",
            "tests/data/fib.wat",
            "10",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A shared memory still needs `-W threads`, as in Wasmtime.
        let out = cli(&["run", "tests/data/threads/turns.wat"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("-W threads"));
    }
}

#[test]
fn a_timeout_interrupts_an_infinite_loop_once_it_has_passed() {
    runtime_bin(); // built (if needed) before the clock starts
    let start = std::time::Instant::now();
    let (code, stderr) = code_and_stderr(&["-W", "timeout=1s", "tests/data/spin.wat"]);
    let elapsed = start.elapsed();
    assert_eq!(code, Some(134), "{stderr}");
    assert!(stderr.contains("wasm trap: interrupt"), "{stderr}");
    // Not before the timeout; the upper bound is generous (the machine may be loaded).
    assert!(elapsed >= std::time::Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    // Wasmtime's duration syntax; a program done in time exits normally.
    let fib = ["--invoke", "fib", "tests/data/fib.wat", "20"];
    for timeout in ["timeout=60", "timeout=1m30s", "timeout=90000ms"] {
        let out = cli(&[&["-W", timeout][..], &fib].concat());
        assert_eq!(out.status.code(), Some(0), "{timeout}");
    }
}

#[test]
fn memory_grow_returns_minus_one_past_max_memory_size() {
    let out = cli(&["-W", "max-memory-size=262144", "tests/data/grow.wat"]);
    // 4 pages of 64 KiB fit, the fifth does not: the program says so and exits with 4.
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "memory.grow returned -1\n"
    );
    // Unlimited, it grows 100 times without a refusal.
    assert_eq!(cli(&["tests/data/grow.wat"]).status.code(), Some(125));
    // With `trap-on-grow-failure` the refusal is an error (exit code 1, as Wasmtime's).
    let (code, stderr) = code_and_stderr(&[
        "-W",
        "max-memory-size=262144,trap-on-grow-failure",
        "tests/data/grow.wat",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("forcing trap when growing memory to 327680 bytes"),
        "{stderr}"
    );
}

#[test]
fn deep_recursion_under_max_wasm_stack_traps_cleanly() {
    let down = |stack: &str| {
        let flag = format!("max-wasm-stack={stack}");
        code_and_stderr(&[
            "-W",
            &flag,
            "--invoke",
            "down",
            "tests/data/recurse.wat",
            "20000",
        ])
    };
    let (code, stderr) = down("65536");
    assert_eq!(code, Some(134), "{stderr}");
    assert!(
        stderr.contains("wasm trap: call stack exhausted"),
        "{stderr}"
    );
    // The same depth fits in the default 512 KiB.
    assert_eq!(down("524288").0, Some(0));
    let (code, stderr) = code_and_stderr(&[
        "-W",
        "max-wasm-stack=65536",
        "--invoke",
        "forever",
        "tests/data/recurse.wat",
    ]);
    assert_eq!(code, Some(134), "{stderr}");
    assert!(stderr.contains("call stack exhausted"), "{stderr}");
    // Zero is refused by the engine, as by Wasmtime.
    let (code, stderr) = down("0");
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn instance_memory_and_table_counts_and_sizes_are_limited() {
    for (flags, file, message) in [
        (
            "max-instances=0",
            "tests/data/fib.wat",
            "instance count too high at 1",
        ),
        (
            "max-memories=0",
            "tests/data/grow.wat",
            "memory count too high at 1",
        ),
        (
            "max-memory-size=65535",
            "tests/data/grow.wat",
            "memory minimum size of 1 pages exceeds memory limits",
        ),
    ] {
        let (code, stderr) = code_and_stderr(&["-W", flags, file]);
        assert_eq!(code, Some(1), "{flags}: {stderr}");
        assert!(stderr.contains(message), "{flags}: {stderr}");
    }
    // Enough of each changes nothing.
    let out = cli(&[
        "-W",
        "max-instances=1,max-memories=1,max-tables=0,max-table-elements=0",
        "tests/data/grow.wat",
    ]);
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn wast_takes_fuel_and_max_wasm_stack() {
    let out = cli(&["wast", "-W", "fuel=100000", "tests/data/fuel.wast"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tests/data/fuel.wast: 3 passed, 0 failed\n"
    );
    // Too little fuel for the module's own calls shows as failures.
    let out = cli(&["wast", "-W", "fuel=0", "tests/data/fuel.wast"]);
    assert_eq!(out.status.code(), Some(1));
    let deep = |flags: &[&str]| {
        let out = cli(&[&["wast"], flags, &["tests/data/recurse.wast"]].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(deep(&[]).0, Some(0));
    let (code, stdout) = deep(&["-W", "max-wasm-stack=65536"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("call stack exhausted"), "{stdout}");
}

/// Runs the CLI with `args`: exit code, stdout, stderr.
fn outcome(args: &[&str]) -> (Option<i32>, String, String) {
    let out = cli(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn compile_writes_an_artifact_that_runs_only_with_allow_precompiled() {
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("fib.wat");
    std::fs::copy(harness::workspace_root().join("tests/data/fib.wat"), &wat).unwrap();
    let wat = wat.to_str().unwrap();
    let (code, _, stderr) = outcome(&["compile", wat]);
    assert_eq!(code, Some(0), "{stderr}");
    let cwasm = dir.path().join("fib.cwasm");
    let cwasm = cwasm.to_str().unwrap();
    let (code, stdout, stderr) = outcome(&["run", "--invoke", "fib", cwasm, "20"]);
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    assert!(
        stderr.contains("running a precompiled module requires the `--allow-precompiled` flag"),
        "{stderr}"
    );
    let ok = ["run", "--allow-precompiled", "--invoke", "fib", cwasm, "20"];
    assert_eq!(outcome(&ok).1, "6765\n");
    // `-o` names the output; the code-affecting `-W` keys must match the run's.
    let fueled = dir.path().join("fueled.out");
    let fueled = fueled.to_str().unwrap();
    let (code, _, stderr) = outcome(&["compile", "-W", "fuel=1000", wat, "-o", fueled]);
    assert_eq!(code, Some(0), "{stderr}");
    let run_fueled = |flags: &[&str]| {
        let args = [
            &["run", "--allow-precompiled"],
            flags,
            &["--invoke", "fib", fueled, "20"],
        ];
        outcome(&args.concat())
    };
    assert_eq!(run_fueled(&["-W", "fuel=1000"]).1, "6765\n");
    let (code, _, stderr) = run_fueled(&[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("different engine configuration") && stderr.contains("consume_fuel"),
        "{stderr}"
    );
    // Truncated or corrupted artifacts are refused, not run.
    let bytes = std::fs::read(cwasm).unwrap();
    let bad = dir.path().join("bad.cwasm");
    for (broken, message) in [
        (bytes[..bytes.len() / 2].to_vec(), "truncated"),
        (
            {
                let mut b = bytes.clone();
                let mid = b.len() / 2;
                b[mid] ^= 1;
                b
            },
            "checksum mismatch",
        ),
    ] {
        std::fs::write(&bad, broken).unwrap();
        let (code, _, stderr) = outcome(&[
            "run",
            "--allow-precompiled",
            "--invoke",
            "fib",
            bad.to_str().unwrap(),
            "1",
        ]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    let (code, _, stderr) = outcome(&["compile", cwasm]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("already a precompiled module"), "{stderr}");
}

/// The entries of a cache directory (no temporary file may be left behind).
fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let entries: Vec<PathBuf> = read.map(|e| e.unwrap().path()).collect();
    for e in &entries {
        assert_eq!(
            e.extension().unwrap_or_default(),
            "cwasm",
            "{}",
            e.display()
        );
    }
    entries
}

#[test]
fn the_cache_is_on_by_default_and_moves_or_turns_off_with_c() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let flag = format!("cache-dir={}", cache.display());
    let run = |c: &str| {
        outcome(&[
            "run",
            "-C",
            c,
            "--invoke",
            "fib",
            "tests/data/fib.wat",
            "30",
        ])
    };
    assert_eq!(run(&flag).1, "832040\n");
    let [entry] = &cache_entries(&cache)[..] else {
        panic!("one entry")
    };
    let good = std::fs::read(entry).unwrap();
    // A corrupted or truncated entry is replaced, and the program still runs.
    let mut bad = good.clone();
    bad[good.len() - 3] ^= 0x40;
    for broken in [bad, good[..100].to_vec()] {
        std::fs::write(entry, broken).unwrap();
        assert_eq!(run(&flag).1, "832040\n");
        assert_eq!(std::fs::read(entry).unwrap(), good);
    }
    let off = dir.path().join("off");
    let (code, stdout, _) = run(&format!("cache=n,cache-dir={}", off.display()));
    assert_eq!((code, stdout.as_str()), (Some(0), "832040\n"));
    assert!(!off.exists(), "`-C cache=n` wrote a cache");
    // By default: $XDG_CACHE_HOME/runtime/modules.
    let xdg = dir.path().join("xdg");
    let out = Command::new(runtime_bin())
        .args(["--invoke", "fib", "tests/data/fib.wat", "10"])
        .current_dir(harness::workspace_root())
        .env("XDG_CACHE_HOME", &xdg)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "55\n");
    assert_eq!(cache_entries(&xdg.join("runtime/modules")).len(), 1);
}

#[test]
fn processes_racing_to_fill_one_cache_entry_all_run_the_right_code() {
    let dir = tempfile::tempdir().unwrap();
    // Many functions, so that compiling takes a while and the processes overlap.
    let funcs: String = (0..2000)
        .map(|i| format!("(func $f{i} (result i64) (i64.mul (i64.const {i}) (i64.const 3)))\n"))
        .collect();
    let wat = dir.path().join("many.wat");
    std::fs::write(
        &wat,
        format!("(module {funcs} (func (export \"main\") (result i64) (call $f1999)))"),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let flag = format!("cache-dir={}", cache.display());
    for _round in 0..2 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                runtime_cmd()
                    .args(["run", "-C", &flag, "--invoke", "main"])
                    .arg(&wat)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{out:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "5997\n");
        }
        assert_eq!(cache_entries(&cache).len(), 1);
    }
}

#[test]
fn compile_emits_clif_and_disassembly_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let (clif, asm) = (dir.path().join("clif"), dir.path().join("asm"));
    let out = dir.path().join("fib.cwasm");
    let (code, _, stderr) = outcome(&[
        "compile",
        "--emit-clif",
        clif.to_str().unwrap(),
        "--emit-asm",
        asm.to_str().unwrap(),
        "tests/data/fib.wat",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    // fib.wat defines one function, index 0; the artifact is still written.
    let clif = std::fs::read_to_string(clif.join("wasm_func_0.clif")).unwrap();
    assert!(
        clif.starts_with("function ") && clif.contains("icmp"),
        "{clif}"
    );
    let asm = std::fs::read_to_string(asm.join("wasm_func_0.s")).unwrap();
    assert!(asm.contains("ret") && asm.contains("%rsp"), "{asm}");
    assert!(out.is_file());
}

#[test]
fn profile_perfmap_names_each_wasm_function_for_perf() {
    let out = runtime_cmd()
        .args([
            "run",
            "--profile",
            "perfmap",
            "--invoke",
            "fib",
            "tests/data/fib.wat",
            "10",
        ])
        .current_dir(harness::workspace_root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = out.id();
    let out = out.wait_with_output().unwrap();
    assert_eq!(
        (out.status.code(), out.stdout.as_slice()),
        (Some(0), &b"55\n"[..])
    );
    let map = format!("/tmp/perf-{pid}.map");
    let text = std::fs::read_to_string(&map).unwrap();
    std::fs::remove_file(&map).unwrap();
    // `start size name`, hexadecimal; fib.wat names its function $fib.
    let line = text.lines().find(|l| l.ends_with("::fib")).expect(&text);
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.len(), 3, "{line}");
    assert!(u64::from_str_radix(fields[0], 16).unwrap() > 0);
    assert!(u64::from_str_radix(fields[1], 16).unwrap() > 0);
    let (code, _, stderr) = outcome(&["run", "--profile", "jitdump", "tests/data/fib.wat"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("unknown profiling strategy `jitdump`"),
        "{stderr}"
    );
}
