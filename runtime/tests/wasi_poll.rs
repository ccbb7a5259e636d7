//! `poll_oneoff` on a real standard input: the CLI runs `wasi-programs/poll.wasm` with a
//! pipe as stdin that stays empty (only the 200 ms clock may fire, and not before),
//! holds a byte (stdin is ready at once) or is closed (ready, at end of file). With
//! `WASI_PEER=/path/to/wasmtime` the same runs go through that CLI too.

mod wasi_support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wasi_support::{program, runners, Runner};

/// Runs poll.wasm in `mode` with `feed` deciding what the pipe gets; returns the elapsed
/// time. The child is killed if it runs for more than 20 s (a poll that never returns).
fn run_poll(
    runner: &Runner,
    mode: &str,
    feed: fn(&mut std::process::ChildStdin) -> bool,
) -> Duration {
    let cli = match runner {
        Runner::Ours => env!("CARGO_BIN_EXE_runtime").into(),
        Runner::Peer(p) => p.clone(),
    };
    let start = Instant::now();
    let mut child = Command::new(&cli)
        .arg("run")
        .arg(program("poll"))
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let keep_open = feed(&mut stdin);
    let held = keep_open.then_some(stdin);
    let deadline = start + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{mode} under {runner}: poll_oneoff never returned");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    drop(held);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{mode} under {runner}: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

#[test]
fn empty_stdin_pipe_waits_for_the_clock() {
    for runner in runners() {
        let elapsed = run_poll(&runner, "empty", |_| true);
        assert!(
            elapsed >= Duration::from_millis(200),
            "{runner}: {elapsed:?}"
        );
    }
}

#[test]
fn stdin_with_data_is_ready() {
    for runner in runners() {
        run_poll(&runner, "data", |stdin| {
            stdin.write_all(b"x").unwrap();
            stdin.flush().unwrap();
            true
        });
    }
}

#[test]
fn closed_stdin_is_ready_at_end_of_file() {
    for runner in runners() {
        run_poll(&runner, "closed", |_| false);
    }
}
