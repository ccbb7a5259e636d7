//! `cargo xtask bench-wast`: how the `.wast` runner's time grows with the number of
//! modules in a script. Scripts of N and 4N trivial modules (each instantiated and called
//! once) run through our release CLI's `runtime wast` and, in the same run, Wasmtime's
//! `wasmtime wast`; linear behaviour is a time per module that stays flat from N to 4N.
//! (Wasmtime refuses more than 10,000 instances in one store, so 4N stays below that.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A script of `n` modules, each with one export and one assertion on it.
pub fn script(n: usize) -> String {
    let mut s = String::with_capacity(n * 110);
    for i in 0..n {
        s.push_str(&format!(
            "(module (func (export \"f\") (result i32) i32.const {i}))\n\
             (assert_return (invoke \"f\") (i32.const {i}))\n"
        ));
    }
    s
}

fn time(command: &[String], file: &Path, repeat: usize) -> Result<Duration, String> {
    let mut best = Duration::MAX;
    for _ in 0..repeat {
        let started = Instant::now();
        let status = Command::new(&command[0])
            .args(&command[1..])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {}: {e}", command[0]))?;
        if !status.success() {
            return Err(format!(
                "{} failed on {}",
                command.join(" "),
                file.display()
            ));
        }
        best = best.min(started.elapsed());
    }
    Ok(best)
}

/// Runs the comparison for `n` and `4n` modules, best of `repeat` runs each.
pub fn run(n: usize, repeat: usize) -> Result<(), String> {
    let root = harness::workspace_root();
    crate::bench::build_release_cli(&root)?;
    let dir = root.join("target/bench/wast");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut runners: Vec<(&str, Vec<String>)> = vec![(
        "ours",
        vec![
            root.join("target/release/runtime").display().to_string(),
            "wast".into(),
        ],
    )];
    let wasmtime = std::env::var("WASMTIME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("../bin/wasmtime"));
    if wasmtime.is_file() {
        runners.push((
            "wasmtime",
            vec![wasmtime.display().to_string(), "wast".into()],
        ));
    } else {
        println!("wasmtime not found (set $WASMTIME): ours only");
    }
    println!(
        "{:<10} {:>8} {:>10} {:>14} {:>16}",
        "runner", "modules", "time", "per module", "growth (4N/N)"
    );
    let mut per_module: Vec<(String, f64, f64)> = Vec::new();
    for (name, command) in &runners {
        let mut times = Vec::new();
        for count in [n, 4 * n] {
            let file = dir.join(format!("modules-{count}.wast"));
            std::fs::write(&file, script(count)).map_err(|e| format!("{}: {e}", file.display()))?;
            let t = time(command, &file, repeat)?;
            let each = t.as_secs_f64() / count as f64;
            times.push(each);
            let growth = if times.len() == 2 {
                format!("{:.2}", times[1] / times[0])
            } else {
                String::new()
            };
            println!(
                "{name:<10} {count:>8} {:>9.3}s {:>12.1}µs {growth:>16}",
                t.as_secs_f64(),
                each * 1e6
            );
        }
        per_module.push((name.to_string(), times[0], times[1]));
    }
    if let [(_, o1, o4), (_, w1, w4)] = per_module[..] {
        println!(
            "ours / wasmtime, time per module: {:.2} at {n} modules, {:.2} at {} modules",
            o1 / w1,
            o4 / w4,
            4 * n
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_has_two_directives_per_module() {
        let s = super::script(3);
        let listed = runtime::wast::list_directives(&s).unwrap();
        assert_eq!(listed.len(), 6);
        assert_eq!(listed[5].line, 6);
    }
}
