//! Build script of the engine: a hash of its sources and of the workspace's lock file
//! (which pins Cranelift and wasmparser), so a precompiled artifact records the exact build
//! that made it and another build refuses it (`serialize`).

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let manifest = Path::new(&manifest);
    let mut files = Vec::new();
    collect(&manifest.join("src"), &mut files);
    files.push(manifest.join("Cargo.toml"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    // In the workspace, the lock file pins the dependencies' versions.
    for lock in [
        manifest.join("../../Cargo.lock"),
        manifest.join("Cargo.lock"),
    ] {
        if lock.is_file() {
            println!("cargo:rerun-if-changed={}", lock.display());
            files.push(lock);
        }
    }
    files.sort();
    // FNV-1a, 64 bits, over each file's path (relative to the crate) and contents.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for file in &files {
        let rel = file.strip_prefix(manifest).unwrap_or(file);
        eat(rel.to_string_lossy().as_bytes());
        eat(&std::fs::read(file).unwrap_or_default());
        eat(&[0xff]);
    }
    println!("cargo:rustc-env=RUNTIME_ENGINE_BUILD={hash:016x}");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
