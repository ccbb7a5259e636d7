//! `cargo xtask fuzz`: the parent's side of a worker: start it, follow its reports, and on a
//! crash or a hang save the module that was running and start a new worker after it.

use super::job::{case, Job};
use super::worker::save_case;
use super::{Totals, WORKER_VAR};
use fuzz::differential::Stats;
use fuzz::features::Features;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs one job in worker processes until it is done or the deadline passes, restarting
/// after each crash or hang.
pub(super) fn supervise(
    exe: &Path,
    mut job: Job,
    deadline: Option<Instant>,
    timeout: Duration,
    totals: &std::sync::Mutex<Totals>,
) {
    let record = |f: &dyn Fn(&mut Totals)| f(&mut totals.lock().unwrap_or_else(|e| e.into_inner()));
    while job.first < job.end && deadline.is_none_or(|d| Instant::now() < d) {
        let mut child = match Command::new(exe)
            .env(WORKER_VAR, job.encode())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                record(&|t| t.crashes.push(format!("cannot start a worker: {e}")));
                return;
            }
        };
        let (tx, rx) = mpsc::channel::<String>();
        let out = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let err = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || tail(err, 3000));
        let mut running: Option<u64> = None;
        let mut worker_cpu = 0;
        let mut last_progress = Instant::now();
        let ended = loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break End::Deadline;
            }
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    last_progress = Instant::now();
                    let mut words = line.split_whitespace();
                    match words.next() {
                        Some("@@start") => running = words.next().and_then(|w| w.parse().ok()),
                        Some("@@done") => {
                            let n: Vec<u64> = words.filter_map(|w| w.parse().ok()).collect();
                            if let [index, modules, skipped, oskip, inst, calls, comps, exh, cpu] =
                                n[..]
                            {
                                job.first = index + job.stride;
                                running = None;
                                let delta = cpu.saturating_sub(worker_cpu);
                                worker_cpu = cpu;
                                record(&|t| t.cpu_ms += delta);
                                let stats = Stats {
                                    modules,
                                    skipped,
                                    oracle_skipped: oskip,
                                    instantiations: inst,
                                    calls,
                                    comparisons: comps,
                                    exhausted: exh,
                                };
                                let set = if job.replay.is_empty() {
                                    job.features[(index % job.features.len() as u64) as usize]
                                        .clone()
                                } else {
                                    "replay".to_string()
                                };
                                record(&|t| {
                                    t.stats += stats;
                                    match t.per_set.iter_mut().find(|(n, _)| *n == set) {
                                        Some((_, s)) => *s += stats,
                                        None => t.per_set.push((set.clone(), stats)),
                                    }
                                });
                            }
                        }
                        Some("@@found") => {
                            let rest: Vec<&str> = words.collect();
                            let item = rest.join(" ");
                            println!("found a disagreement: {item}");
                            record(&|t| t.disagreements.push(item.clone()));
                        }
                        _ => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if running.is_some() && last_progress.elapsed() > timeout {
                        break End::Hang;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break End::Exited,
            }
        };
        if ended != End::Exited {
            let _ = child.kill();
        }
        let status = child.wait().ok();
        let stderr = stderr.join().unwrap_or_default();
        if ended == End::Deadline {
            return;
        }
        let Some(index) = running else {
            if status.is_some_and(|s| s.success()) {
                return;
            }
            record(&|t| {
                t.crashes.push(format!(
                    "a worker failed between modules ({status:?}): {stderr}"
                ))
            });
            return;
        };
        let how = match ended {
            End::Hang => format!(
                "hang: no instantiation or call finished for {} s",
                timeout.as_secs()
            ),
            _ => format!(
                "crash: the worker died ({})\nlast output on stderr:\n{}",
                status.map_or("unknown status".into(), |s| s.to_string()),
                stderr.trim_end()
            ),
        };
        let saved = describe(exe, &job, index, &how);
        let item = format!("module {index}: {}", saved.unwrap_or_else(|e| e));
        println!(
            "found a {}: {item}",
            if ended == End::Hang { "hang" } else { "crash" }
        );
        record(&|t| {
            if ended == End::Hang {
                t.hangs.push(item.clone())
            } else {
                t.crashes.push(item.clone())
            }
        });
        job.first = index + job.stride;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Exited,
    Hang,
    Deadline,
}

/// Saves module `index` of `job` with a reproducer made by the oracles (in another worker,
/// in case they crash too). Returns where it went.
fn describe(exe: &Path, job: &Job, index: u64, how: &str) -> Result<String, String> {
    let one = Job {
        first: index,
        end: index + 1,
        describe: Some(how.to_string()),
        ..job.clone()
    };
    let mut child = Command::new(exe)
        .env(WORKER_VAR, one.encode())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    let started = Instant::now();
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if started.elapsed() > Duration::from_secs(60) => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break false,
        }
    };
    let sets = job
        .features
        .iter()
        .map(|f| Features::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let case = case(job, &sets, index)?;
    let wasm = job.out.join(format!("{}.wasm", case.name));
    if !ok {
        // The oracles failed too: save the module with a script that just runs it.
        save_case(job, &case, how, &[], &[])?;
    }
    Ok(wasm.display().to_string())
}

/// The last `limit` bytes of a stream, as text.
fn tail(mut input: impl Read, limit: usize) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = input.read(&mut buf) {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * limit {
            kept.drain(..kept.len() - limit);
        }
    }
    if kept.len() > limit {
        kept.drain(..kept.len() - limit);
    }
    String::from_utf8_lossy(&kept).into_owned()
}
