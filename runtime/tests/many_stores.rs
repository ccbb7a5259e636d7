//! Issue 11's acceptance test: one `Linker<T>` serves 1,000 stores on 4 threads at once. Each
//! store is created on the main thread, moved to a worker for a first round of calls, moved
//! back and on to another worker for a second round; no panic, and no store's guest sees
//! another's memory or host state.

use runtime::*;
use std::sync::mpsc;
use std::sync::Arc;

const STORES: u32 = 1000;
const THREADS: usize = 4;

/// Each store's host state: its own secret and a log of what its guest reported.
struct Host {
    secret: u64,
    seen: Vec<u64>,
}

const GUEST: &str = r#"(module
    (import "host" "secret" (func $secret (result i64)))
    (import "host" "report" (func $report (param i64)))
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    ;; Stores the host's secret at address 0 (first round) and reports what is there.
    (func (export "round") (result i64)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (if (i32.eq (global.get $calls) (i32.const 1))
        (then (i64.store (i32.const 0) (call $secret))))
      (call $report (i64.load (i32.const 0)))
      (i64.load (i32.const 0)))
    (func (export "calls") (result i32) (global.get $calls)))"#;

struct Job {
    store: Store<Host>,
    instance: Option<Instance>,
    round: u32,
}

/// One round of calls in `job`'s store (instantiating the guest in the first round).
fn work(job: &mut Job, linker: &Linker<Host>, module: &Module, worker: usize) {
    let instance = match job.instance {
        Some(i) => i,
        None => *job
            .instance
            .insert(linker.instantiate(&mut job.store, module).unwrap()),
    };
    let round = instance
        .get_typed_func::<(), i64>(&job.store, "round")
        .unwrap();
    let value = round.call(&mut job.store, ()).unwrap() as u64;
    assert_eq!(
        value,
        job.store.data().secret,
        "worker {worker}: a guest saw another store's memory"
    );
    job.round += 1;
}

#[test]
fn one_linker_serves_a_thousand_stores_on_four_threads() {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST).unwrap();
    let mut linker = Linker::<Host>::new(&engine);
    linker
        .func_wrap("host", "secret", |caller: Caller<'_, Host>| {
            caller.data().secret as i64
        })
        .unwrap();
    linker
        .func_wrap("host", "report", |mut caller: Caller<'_, Host>, v: i64| {
            caller.data_mut().seen.push(v as u64)
        })
        .unwrap();
    let linker = Arc::new(linker);

    // Round r of store i runs on worker (i + r) % THREADS: every store runs on two threads,
    // and the four workers run at once.
    let (done, finished) = mpsc::channel::<(usize, Job)>();
    let (queues, workers): (Vec<_>, Vec<_>) = (0..THREADS)
        .map(|w| {
            let (queue, jobs) = mpsc::channel::<Job>();
            let done = done.clone();
            let linker = linker.clone();
            let module = module.clone();
            let worker = std::thread::spawn(move || {
                for mut job in jobs {
                    work(&mut job, &linker, &module, w);
                    done.send((w, job)).unwrap();
                }
            });
            (queue, worker)
        })
        .unzip();
    drop(done);

    for i in 0..STORES {
        let secret = 0x5eed_0000_0000_0000 | (i as u64) << 8 | 0x42;
        let store = Store::new(
            &engine,
            Host {
                secret,
                seen: Vec::new(),
            },
        );
        let job = Job {
            store,
            instance: None,
            round: 0,
        };
        queues[i as usize % THREADS].send(job).unwrap();
    }
    let mut results = Vec::new();
    let mut workers_of = vec![Vec::new(); STORES as usize];
    while results.len() < STORES as usize {
        let (worker, job) = finished.recv().unwrap();
        let index = ((job.store.data().secret >> 8) & 0xffff) as usize;
        workers_of[index].push(worker);
        if job.round < 2 {
            queues[(index + 1) % THREADS].send(job).unwrap();
        } else {
            results.push(job);
        }
    }
    drop(queues);
    for w in workers {
        w.join().unwrap();
    }

    let mut secrets: Vec<u64> = Vec::new();
    for mut job in results {
        let instance = job.instance.unwrap();
        let calls = instance
            .get_typed_func::<(), i32>(&job.store, "calls")
            .unwrap()
            .call(&mut job.store, ())
            .unwrap();
        assert_eq!(calls, 2, "each guest ran exactly its own two rounds");
        let host = job.store.into_data();
        assert_eq!(host.seen, [host.secret, host.secret]);
        secrets.push(host.secret);
    }
    secrets.sort_unstable();
    secrets.dedup();
    assert_eq!(secrets.len(), STORES as usize, "every store came back");
    for (i, w) in workers_of.iter().enumerate() {
        assert_eq!(w.len(), 2, "store {i} ran two rounds");
        assert_ne!(w[0], w[1], "store {i} moved to another thread");
    }
}
