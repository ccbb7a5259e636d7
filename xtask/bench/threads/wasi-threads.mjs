// A minimal wasi-threads host for Node (V8), the peer of `cargo xtask bench --threads`:
// `node wasi-threads.mjs FILE.wasm ARGS...` runs a command module that imports its shared
// memory as `env.memory` and `wasi.thread-spawn`, with just the WASI calls the benchmark
// programs make (args, fd_write to stdout/stderr, proc_exit). Each spawned thread is a
// Worker that instantiates the same module with the same memory and calls
// `wasi_thread_start(tid, arg)`. Wasmtime 49 no longer runs wasi-threads (`-S threads`), so
// V8 is the peer here.
import { Worker, isMainThread, workerData } from "node:worker_threads";
import { readFileSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";

const self = fileURLToPath(import.meta.url);

function imports(memory, argv, spawn) {
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const enc = argv.map((a) => new TextEncoder().encode(a + "\0"));
  return {
    env: { memory },
    wasi: { "thread-spawn": spawn },
    wasi_snapshot_preview1: {
      args_sizes_get(countPtr, sizePtr) {
        view().setUint32(countPtr, enc.length, true);
        view().setUint32(sizePtr, enc.reduce((n, a) => n + a.length, 0), true);
        return 0;
      },
      args_get(argvPtr, bufPtr) {
        for (const [i, a] of enc.entries()) {
          view().setUint32(argvPtr + 4 * i, bufPtr, true);
          bytes().set(a, bufPtr);
          bufPtr += a.length;
        }
        return 0;
      },
      fd_write(fd, iovs, count, writtenPtr) {
        let written = 0;
        for (let i = 0; i < count; i++) {
          const ptr = view().getUint32(iovs + 8 * i, true);
          const len = view().getUint32(iovs + 8 * i + 4, true);
          written += writeSync(fd, bytes().slice(ptr, ptr + len));
        }
        view().setUint32(writtenPtr, written, true);
        return 0;
      },
      proc_exit(code) {
        process.exit(code);
      },
    },
  };
}

/// Reads the module's memory type from its import (min/max pages) and makes it shared.
function sharedMemory(module) {
  const imp = WebAssembly.Module.imports(module).find((i) => i.kind === "memory");
  if (!imp) throw new Error("the module imports no memory");
  // The JS API does not expose the limits: the benchmark programs declare 1 page, max 1.
  return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
}

if (isMainThread) {
  const [file, ...args] = process.argv.slice(2);
  const module = new WebAssembly.Module(readFileSync(file));
  const memory = sharedMemory(module);
  const argv = [file, ...args];
  let nextTid = 1;
  const spawn = (arg) => {
    const tid = nextTid++;
    new Worker(self, { workerData: { module, memory, argv, tid, arg } });
    return tid;
  };
  const instance = new WebAssembly.Instance(module, imports(memory, argv, spawn));
  instance.exports._start();
  process.exit(0);
} else {
  const { module, memory, argv, tid, arg } = workerData;
  const spawn = () => -1;
  const instance = new WebAssembly.Instance(module, imports(memory, argv, spawn));
  instance.exports.wasi_thread_start(tid, arg);
}
