// The smallest WASI command worth starting: `cargo xtask bench` times its whole cached run
// beside Wasmtime's (start-up, not execution). Built with
// `clang --target=wasm32-wasi --sysroot=/usr -O2 -o benchmark.wasm hello.c` (Debian's
// wasi-libc).
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    return 0;
}
