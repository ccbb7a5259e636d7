#!/bin/sh
# Rebuilds the WASI benchmark programs (*.c -> *.wasm) with Debian's clang and wasi-libc
# (packages clang, lld, wasi-libc, libclang-rt-14-dev-wasm32). The .wasm files are
# committed; `cargo xtask bench --filter wasi` runs them.
set -eu
cd "$(dirname "$0")"
for c in *.c; do
    clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-all \
        -o "${c%.c}.wasm" "$c"
    echo "built ${c%.c}.wasm"
done
