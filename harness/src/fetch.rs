//! Fetch: populates `<suite>/data/` from a local mirror or a pinned `git` checkout, then
//! checks the file count and checksum the suite's manifest records.
//!
//! Sources, in order: `--mirror DIR`, `$RUNTIME_SUITES_DIR`, `../shared/suites` next to the
//! workspace (`../shared/bench` for the benchmarks), then a shallow `git` fetch of the pinned
//! commit. A mirror holds one folder per suite (`spec/`, `threads/`, `stack-switching/`,
//! `wasi/`, `emscripten/`, `sightglass/`) laid out exactly like `data/`; a suite
//! `$RUNTIME_SUITES_DIR` lacks comes from the next source (one `--mirror DIR` lacks is an
//! error).

use crate::glob;
use crate::hash::{relative_path, tree_checksum};
use crate::manifest::{Manifest, PathMap};
use crate::strip::strip_debug_sections;
use runtime::WasmFeatures;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A suite known to the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// Short name, used in trial names (`spec/i32.wast:...`).
    pub name: &'static str,
    /// Folder (relative to the workspace root) with the manifest, the expectation list and `data/`.
    pub dir: &'static str,
    /// For a script suite, the proposals its scripts run with; `None`: judged per file by its
    /// folder (`runtime::wast::features_for_path`).
    pub features: Option<WasmFeatures>,
}

pub const SPEC: Suite = Suite {
    name: "spec",
    dir: "spec-suite",
    features: None,
};
/// The threads proposal's own scripts (`thread`/`wait` directives across host threads).
pub const THREADS: Suite = Suite {
    name: "threads",
    dir: "threads-suite",
    features: None,
};
/// The stack-switching proposal's own scripts, run with the proposal on.
pub const STACK_SWITCHING: Suite = Suite {
    name: "stack-switching",
    dir: "stack-switching-suite",
    features: Some(WasmFeatures::WASM3.union(WasmFeatures::STACK_SWITCHING)),
};
pub const WASI: Suite = Suite {
    name: "wasi",
    dir: "wasi-testsuite",
    features: None,
};
pub const EMSCRIPTEN: Suite = Suite {
    name: "emscripten",
    dir: "emscripten-tests",
    features: None,
};
/// The sightglass benchmark programs: `cargo xtask bench` runs them, `tests/cli.rs` checks a
/// few of their outputs.
pub const SIGHTGLASS: Suite = Suite {
    name: "sightglass",
    dir: "xtask/bench/sightglass",
    features: None,
};
pub const SUITES: [Suite; 6] = [SPEC, THREADS, STACK_SWITCHING, WASI, EMSCRIPTEN, SIGHTGLASS];

/// The environment variable naming a mirror of all suites.
pub const SUITES_DIR_VAR: &str = "RUNTIME_SUITES_DIR";

impl Suite {
    pub fn by_name(name: &str) -> Option<Suite> {
        SUITES.into_iter().find(|s| s.name == name)
    }
    /// `<root>/<dir>`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(self.dir)
    }
    /// Where the fetched files live.
    pub fn data_dir(&self, root: &Path) -> PathBuf {
        self.path(root).join("data")
    }
}

/// What [`fetch`] did.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub data_dir: PathBuf,
    pub files: usize,
    /// `None` if verified data was already present, else where it came from.
    pub source: Option<String>,
}

/// Makes sure `<root>/<suite.dir>/data` holds exactly the manifest's files.
/// `mirror` is a folder holding one sub-folder per suite (`--mirror DIR`).
pub fn fetch(root: &Path, suite: Suite, mirror: Option<&Path>) -> Result<Fetched, String> {
    let manifest = Manifest::load(&suite.path(root).join("manifest.json"))?;
    let data = suite.data_dir(root);
    if data.is_dir() && verify(&data, &manifest).is_ok() {
        return Ok(Fetched {
            data_dir: data,
            files: manifest.files,
            source: None,
        });
    }
    let staging = suite
        .path(root)
        .join(format!("data.partial-{}", std::process::id()));
    remove_dir(&staging)?;
    let source = populate(root, &manifest, mirror, &staging).and_then(|source| {
        verify(&staging, &manifest).map_err(|e| format!("{e} (source: {source})"))?;
        Ok(source)
    });
    let source = match source {
        Ok(source) => source,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(format!("fetching the {} suite failed: {e}", suite.name));
        }
    };
    remove_dir(&data)?;
    if let Err(e) = std::fs::rename(&staging, &data) {
        // Another process may have finished first; its data counts if it verifies.
        let _ = std::fs::remove_dir_all(&staging);
        verify(&data, &manifest).map_err(|v| {
            format!(
                "cannot move fetched files into {}: {e} ({v})",
                data.display()
            )
        })?;
    }
    Ok(Fetched {
        data_dir: data,
        files: manifest.files,
        source: Some(source),
    })
}

/// Checks the file count and checksum of `dir` against the manifest.
pub fn verify(dir: &Path, manifest: &Manifest) -> Result<(), String> {
    let (files, checksum) =
        tree_checksum(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if files != manifest.files || checksum != manifest.checksum {
        return Err(format!(
            "{} holds {files} files with checksum {checksum}; the manifest pins {} files with checksum {}",
            dir.display(),
            manifest.files,
            manifest.checksum
        ));
    }
    Ok(())
}

/// Copies the suite's files into `staging` from the first source available; returns its name.
fn populate(
    root: &Path,
    manifest: &Manifest,
    mirror: Option<&Path>,
    staging: &Path,
) -> Result<String, String> {
    let from_mirror = |dir: &Path, why: &str| -> Result<String, String> {
        let src = dir.join(&manifest.mirror);
        if !src.is_dir() {
            return Err(format!(
                "{why} {} has no `{}` folder",
                dir.display(),
                manifest.mirror
            ));
        }
        // The suite's folder may be a link into another mirror: copy what it points to.
        let src = src.canonicalize().unwrap_or(src);
        copy_tree(&src, staging).map_err(|e| format!("copying {} failed: {e}", src.display()))?;
        Ok(format!("mirror {}", src.display()))
    };
    if let Some(dir) = mirror {
        return from_mirror(dir, "the --mirror folder");
    }
    // The variable names a mirror of some suites: one it lacks comes from the next source.
    if let Some(dir) = std::env::var_os(SUITES_DIR_VAR).filter(|v| !v.is_empty()) {
        if Path::new(&dir).join(&manifest.mirror).is_dir() {
            return from_mirror(Path::new(&dir), &format!("${SUITES_DIR_VAR} ="));
        }
    }
    let shared = root.join("..").join("shared").join(&manifest.shared);
    if shared.join(&manifest.mirror).is_dir() {
        return from_mirror(&shared, "the shared folder");
    }
    from_git(root, manifest, staging).map_err(|e| {
        format!(
            "no mirror found (tried --mirror, ${SUITES_DIR_VAR}, {}) and the git fallback failed: {e}",
            shared.display()
        )
    })
}

/// Fetches the pinned commit with `git` and copies the manifest's paths out of it.
fn from_git(root: &Path, manifest: &Manifest, staging: &Path) -> Result<String, String> {
    let checkout =
        root.join("target")
            .join(format!("fetch-{}-{}", manifest.suite, std::process::id()));
    remove_dir(&checkout)?;
    std::fs::create_dir_all(&checkout)
        .map_err(|e| format!("cannot create {}: {e}", checkout.display()))?;
    // A shallow, blob-less fetch plus a sparse checkout downloads only the files we take.
    let mut sparse = vec!["sparse-checkout", "set", "--no-cone"];
    let patterns: Vec<String> = manifest
        .paths
        .iter()
        .flat_map(|p| {
            p.include
                .iter()
                .map(move |g| format!("/{}/{g}", p.from).replace("//", "/"))
        })
        .collect();
    sparse.extend(patterns.iter().map(String::as_str));
    let result = (|| {
        git(&checkout, &["init", "-q"])?;
        git(
            &checkout,
            &["remote", "add", "origin", &manifest.repository],
        )?;
        git(
            &checkout,
            &[
                "fetch",
                "-q",
                "--depth",
                "1",
                "--filter=blob:none",
                "origin",
                &manifest.commit,
            ],
        )?;
        git(&checkout, &sparse)?;
        git(&checkout, &["checkout", "-q", "FETCH_HEAD"])?;
        copy_upstream(&checkout, manifest, staging)
            .map_err(|e| format!("copying from the checkout failed: {e}"))
    })();
    let _ = std::fs::remove_dir_all(&checkout);
    result.map(|()| format!("git {}@{}", manifest.repository, manifest.commit))
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Copies the files the manifest's `paths` select from an upstream checkout into `staging`,
/// stripping `.debug_*` sections from `.wasm` files if the manifest says so.
pub fn copy_upstream(checkout: &Path, manifest: &Manifest, staging: &Path) -> std::io::Result<()> {
    for PathMap { from, to, include } in &manifest.paths {
        let src_root = checkout.join(from);
        for entry in walkdir::WalkDir::new(&src_root) {
            let entry = entry.map_err(std::io::Error::other)?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = relative_path(&src_root, entry.path())?;
            if rel.starts_with(".git/") || !include.iter().any(|g| glob::matches(g, &rel)) {
                continue;
            }
            let dest = staging.join(to).join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let bytes = std::fs::read(entry.path())?;
            let bytes = if manifest.strip_debug_sections && rel.ends_with(".wasm") {
                strip_debug_sections(&bytes)
            } else {
                bytes
            };
            std::fs::write(dest, bytes)?;
        }
    }
    Ok(())
}

/// Copies the tree under `src` (directories, files, symlinks as links) to `dest`.
pub(crate) fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(src).follow_links(false) {
        let entry = entry.map_err(std::io::Error::other)?;
        let target = dest.join(
            entry
                .path()
                .strip_prefix(src)
                .map_err(std::io::Error::other)?,
        );
        let kind = entry.file_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("harness-fetch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn manifest(files: usize, checksum: &str) -> Manifest {
        Manifest {
            suite: "demo".into(),
            repository: "https://example.invalid/demo".into(),
            branch: None,
            commit: "0".repeat(40),
            license: "MIT".into(),
            mirror: "demo".into(),
            shared: "suites".into(),
            paths: vec![
                PathMap {
                    from: "tests/x".into(),
                    to: "x".into(),
                    include: vec!["*.wasm".into(), "dir/**".into()],
                },
                PathMap {
                    from: "".into(),
                    to: "".into(),
                    include: vec!["LICENSE".into()],
                },
            ],
            strip_debug_sections: true,
            files,
            checksum: checksum.into(),
        }
    }

    #[test]
    fn upstream_paths_are_mapped_and_stripped() {
        let up = temp("up");
        std::fs::create_dir_all(up.join("tests/x/dir/sub")).unwrap();
        std::fs::write(up.join("LICENSE"), "licence").unwrap();
        std::fs::write(up.join("README"), "not taken").unwrap();
        std::fs::write(up.join("tests/x/a.c"), "not taken").unwrap();
        std::fs::write(up.join("tests/x/dir/sub/f"), "fixture").unwrap();
        let wasm = b"\0asm\x01\0\0\0\0\x08\x07.debug_\x01\x04\x01\x60\0\0";
        std::fs::write(up.join("tests/x/a.wasm"), wasm).unwrap();
        let staging = temp("staging");
        copy_upstream(&up, &manifest(0, ""), &staging).unwrap();
        let (files, checksum) = tree_checksum(&staging).unwrap();
        assert_eq!(files, 3);
        assert_eq!(
            std::fs::read(staging.join("x/a.wasm")).unwrap(),
            b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0"
        );
        assert!(staging.join("x/dir/sub/f").is_file() && staging.join("LICENSE").is_file());
        assert!(verify(&staging, &manifest(3, &checksum)).is_ok());
        let err = verify(&staging, &manifest(4, &checksum)).unwrap_err();
        assert!(err.contains("pins 4 files"), "{err}");
        let _ = std::fs::remove_dir_all(up);
        let _ = std::fs::remove_dir_all(staging);
    }

    /// The git fallback against a local repository standing in for upstream.
    #[test]
    fn git_fallback_takes_the_pinned_commit() {
        let up = temp("git-up");
        std::fs::create_dir_all(up.join("tests/x/dir")).unwrap();
        std::fs::create_dir_all(up.join("other")).unwrap();
        std::fs::write(up.join("LICENSE"), "licence").unwrap();
        std::fs::write(up.join("other/big.bin"), "not taken").unwrap();
        std::fs::write(up.join("tests/x/dir/f"), "fixture").unwrap();
        std::fs::write(
            up.join("tests/x/a.wasm"),
            b"\0asm\x01\0\0\0\0\x08\x07.debug_\x01\x04\x01\x60\0\0",
        )
        .unwrap();
        let run = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(&up)
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "git {args:?} failed (is git installed?)");
        };
        run(&["init", "-q"]);
        run(&["add", "-A"]);
        run(&[
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "user.name=test",
            "commit",
            "-qm",
            "upstream",
        ]);
        run(&["config", "uploadpack.allowFilter", "true"]);
        run(&["config", "uploadpack.allowAnySHA1InWant", "true"]);
        let head = Command::new("git")
            .arg("-C")
            .arg(&up)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        let mut m = manifest(0, "");
        m.commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
        m.repository = format!("file://{}", up.display());
        let root = temp("git-root");
        let staging = root.join("staging");
        let source = from_git(&root, &m, &staging).unwrap();
        assert!(source.contains(&m.commit));
        let (files, _) = tree_checksum(&staging).unwrap();
        assert_eq!(files, 3);
        assert_eq!(
            std::fs::read(staging.join("x/a.wasm")).unwrap(),
            b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0"
        );
        assert!(
            !root.join("target").read_dir().unwrap().any(|_| true),
            "the checkout is cleaned up"
        );
        let _ = std::fs::remove_dir_all(up);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_mirror_folder_may_be_a_link() {
        let real = temp("link-real");
        std::fs::write(real.join("a.wast"), "(module)").unwrap();
        let mirror = temp("link-mirror");
        std::os::unix::fs::symlink(&real, mirror.join("demo")).unwrap();
        let root = temp("link-root");
        let staging = root.join("staging");
        let source = populate(&root, &manifest(0, ""), Some(&mirror), &staging).unwrap();
        assert!(source.contains("link-real"), "{source}");
        let copied = std::fs::symlink_metadata(staging.join("a.wast")).unwrap();
        assert!(copied.is_file());
        for dir in [real, mirror, root] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn suites_are_named() {
        assert_eq!(Suite::by_name("spec"), Some(SPEC));
        assert_eq!(Suite::by_name("nope"), None);
    }
}
