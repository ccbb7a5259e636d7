//! Runs every program in `runtime/examples/` and checks what it observed.

#[path = "../examples/epoch.rs"]
mod epoch;
#[path = "../examples/fuel.rs"]
mod fuel;
#[path = "../examples/hello.rs"]
mod hello;
#[path = "../examples/limits.rs"]
mod limits;
#[path = "../examples/linking.rs"]
mod linking;
#[path = "../examples/memory.rs"]
mod memory;
#[path = "../examples/wasi.rs"]
mod wasi;

#[test]
fn hello_world_reads_and_changes_host_state() {
    assert_eq!(
        hello::run().unwrap(),
        ["Hello, wasm! (call 1)", "Hello, wasm! (call 2)"]
    );
}

#[test]
fn linking_two_modules_in_two_stores() {
    // 1 + 2 + 3 (the third `next`) + 3 (the counter read from the shared memory), per store.
    assert_eq!(
        linking::run().unwrap(),
        [(6, vec![1, 2, 3]), (6, vec![1, 2, 3])]
    );
}

#[test]
fn wasi_command_with_host_state_beside_the_wasi_context() {
    let (code, output, ticks) = wasi::run(&["echo", "a", "bc"]).unwrap();
    assert_eq!(code, 0);
    assert_eq!(output, "echo\na\nbc\n");
    assert_eq!(ticks, 3);
}

#[test]
fn memory_is_read_written_and_grown_from_the_host() {
    assert_eq!(
        memory::run().unwrap(),
        [
            "pages: 2 (guest says 2), bytes: 131072",
            "data segment: [1, 2, 3, 4]",
            "load(0x1002) = 3",
            "load(0x20000) traps: true",
            "after the host's write, load(0x1003) = 5",
            "after the guest's write, byte 0x1000 = 0xff",
            "grow(1) returned 2",
            "pages now: 3",
            "load(0x20000) = 0",
            "grow(1) past the maximum fails: true",
        ]
    );
}

#[test]
fn fuel_runs_out_computing_fibonacci_numbers() {
    let lines = fuel::run().unwrap();
    // Wasmtime 49 prints the same numbers for the book's example.
    assert_eq!(lines[0], "fib(1) = 1 [consumed 6 fuel]");
    assert_eq!(lines[1], "fib(2) = 1 [consumed 26 fuel]");
    assert_eq!(lines[12], "fib(13) = 233 [consumed 7526 fuel]");
    assert_eq!(lines.last().unwrap(), "Exhausted fuel computing fib(14)");
    assert_eq!(lines.len(), 14);
}

#[test]
fn epoch_interrupts_an_infinite_loop_from_another_thread() {
    let (lines, ran) = epoch::run().unwrap();
    assert_eq!(lines[0], "Entering an infinite loop ...");
    assert!(
        lines[1].starts_with("Trap received: wasm trap: interrupt"),
        "{lines:?}"
    );
    assert!(lines[1].ends_with("(interrupt: true)"), "{lines:?}");
    // Not before the other thread's tick (200 ms); a generous upper bound on a loaded machine.
    assert!(ran >= std::time::Duration::from_millis(200), "{ran:?}");
    assert!(ran < std::time::Duration::from_secs(10), "{ran:?}");
}

#[test]
fn limits_cap_memory_growth_and_instances() {
    assert_eq!(
        limits::run().unwrap(),
        [
            "memory.grow refused at 4 pages",
            "a second instance: resource limit exceeded: instance count too high at 2",
            "with trap_on_grow_failure: forcing trap when growing memory to 327680 bytes",
            "memory 0 -> 65536 bytes: true",
            "memory 65536 -> 131072 bytes: true",
            "memory 131072 -> 196608 bytes: false",
        ]
    );
}
