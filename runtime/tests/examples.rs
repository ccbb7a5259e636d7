//! Runs every program in `runtime/examples/` and checks what it observed.

#[path = "../examples/hello.rs"]
mod hello;
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
