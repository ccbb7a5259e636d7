"""Wasmtime's side of `cargo xtask bench`'s phase figures, through its Python embedding.

usage: python3 phases.py REPORT.json FILE.wasm

Runs the WASI command FILE.wasm in the current directory (preopened as ".", stdio inherited)
and writes {"compile_ns", "instantiate_ns", "execution_ns"} to REPORT.json: `Module(...)`
with Wasmtime's cache off (its embedding default), `linker.instantiate`, and the time
between the guest's `bench.start` and `bench.end` calls (summed over all pairs), timed by
those host functions. The same figures as `runtime/examples/phases.rs` gives for ours.
"""

import json
import sys
import time

import wasmtime


def main():
    report, wasm = sys.argv[1], sys.argv[2]
    config = wasmtime.Config()
    # Parallel compilation stays on (the default), as in ours.
    engine = wasmtime.Engine(config)
    with open(wasm, "rb") as f:
        binary = f.read()
    t0 = time.perf_counter_ns()
    module = wasmtime.Module(engine, binary)
    compile_ns = time.perf_counter_ns() - t0

    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    execution = {"ns": 0, "start": None}

    def start():
        execution["start"] = time.perf_counter_ns()

    def end():
        execution["ns"] += time.perf_counter_ns() - execution["start"]

    empty = wasmtime.FuncType([], [])
    linker.define_func("bench", "start", empty, start)
    linker.define_func("bench", "end", empty, end)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [wasm]
    wasi.preopen_dir(".", ".")
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)

    t0 = time.perf_counter_ns()
    instance = linker.instantiate(store, module)
    instantiate_ns = time.perf_counter_ns() - t0

    code = 0
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        code = e.code
    with open(report, "w") as f:
        json.dump(
            {
                "compile_ns": compile_ns,
                "instantiate_ns": instantiate_ns,
                "execution_ns": execution["ns"],
            },
            f,
        )
    sys.exit(code)


main()
