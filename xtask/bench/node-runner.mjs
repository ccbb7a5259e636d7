// Runs a sightglass benchmark under Node's V8 with WASI preview1, for `cargo xtask bench`.
// usage: node node-runner.mjs BENCHMARK.wasm   (run in the benchmark's folder)
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv, exit } from "node:process";

const wasi = new WASI({ version: "preview1", args: [argv[2]], env: {}, preopens: { ".": "." }, returnOnExit: true });
const bytes = await readFile(argv[2]);
const { instance } = await WebAssembly.instantiate(bytes, {
  wasi_snapshot_preview1: wasi.wasiImport,
  bench: { start() {}, end() {} },
});
exit(wasi.start(instance) ?? 0);
