//! Shared by the WASI attack tests: a host directory tree with secrets around the sandboxes
//! (the "world"), a snapshot of everything outside the preopened directories that shows
//! any read, creation, change or deletion, and runners for the attack programs in
//! `tests/wasi-programs/` (ours in-process; a peer CLI such as Wasmtime when `WASI_PEER`
//! names one).

#![allow(dead_code)]

use runtime::wasi::{self, WasiCtx};
use runtime::{Engine, Module};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

/// A marker in every file outside the sandboxes: it must never show up in a guest's output.
pub const SECRET: &str = "SECRET-7f3a";

/// A temporary directory (tempfile's), removed with everything in it on drop; its path is
/// canonical, so the host path a guest might try is the real one.
pub struct TempDir {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("runtime-wasi-{label}-"))
            .tempdir()
            .unwrap();
        let path = std::fs::canonicalize(dir.path()).unwrap();
        TempDir { _dir: dir, path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One entry of the world: a path relative to its root and what it is.
enum Item {
    Dir,
    File(&'static str),
    /// A symlink; `{root}` in the target stands for the world's root.
    Link(&'static str),
}

/// The world's layout. `box`, `box2`, `outer` and `outer/inner` are what programs preopen;
/// the rest is outside every sandbox.
const LAYOUT: &[(&str, Item)] = &[
    ("secret.txt", Item::File("SECRET-7f3a outside\n")),
    ("outside", Item::Dir),
    (
        "outside/secret2.txt",
        Item::File("SECRET-7f3a in a sibling\n"),
    ),
    ("box", Item::Dir),
    ("box/file.txt", Item::File("file\n")),
    ("box/sub", Item::Dir),
    ("box/sub/inner.txt", Item::File("inner\n")),
    ("box/abs_file", Item::Link("{root}/secret.txt")),
    ("box/abs_dir", Item::Link("{root}")),
    ("box/abs_etc", Item::Link("/etc/passwd")),
    ("box/abs_root", Item::Link("/")),
    ("box2", Item::Dir),
    ("outer", Item::Dir),
    ("outer/o.txt", Item::File("outer\n")),
    ("outer/inner", Item::Dir),
    ("outer/inner/in.txt", Item::File("in\n")),
];

/// A fresh world in a temporary directory.
pub struct World {
    dir: TempDir,
}

impl World {
    pub fn new(label: &str) -> World {
        let dir = TempDir::new(label);
        let root = dir.path().to_path_buf();
        for (path, item) in LAYOUT {
            let p = root.join(path);
            match item {
                Item::Dir => std::fs::create_dir(&p).unwrap(),
                Item::File(text) => std::fs::write(&p, text).unwrap(),
                Item::Link(target) => {
                    let target = target.replace("{root}", root.to_str().unwrap());
                    std::os::unix::fs::symlink(target, &p).unwrap();
                }
            }
        }
        let world = World { dir };
        world.age_access_times();
        world.check_reads_are_recorded();
        world
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Sets the access time of every file and directory to 1 s after the epoch, before
    /// their modification time: on a `relatime` mount the next read (or listing) then
    /// moves it, so the snapshot shows what was read.
    fn age_access_times(&self) {
        let old = std::fs::FileTimes::new().set_accessed(UNIX_EPOCH + Duration::from_secs(1));
        let mut paths = vec![self.root().to_path_buf()];
        for (path, item) in LAYOUT {
            if !matches!(item, Item::Link(_)) {
                paths.push(self.path(path));
            }
        }
        for p in paths {
            File::open(&p).unwrap().set_times(old).unwrap();
        }
    }

    /// The snapshot can only show reads if this filesystem records them: check it does.
    fn check_reads_are_recorded(&self) {
        let canary = self.root().join("..").join(format!(
            "{}.canary",
            self.root().file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&canary, "x").unwrap();
        let f = File::open(&canary).unwrap();
        f.set_times(std::fs::FileTimes::new().set_accessed(UNIX_EPOCH + Duration::from_secs(1)))
            .unwrap();
        drop(f);
        std::fs::read(&canary).unwrap();
        let atime = std::fs::metadata(&canary).unwrap().atime();
        std::fs::remove_file(&canary).unwrap();
        assert!(
            atime > 1,
            "this filesystem does not record reads (mounted noatime?): the attack tests \
             could not see a read outside the sandbox"
        );
    }

    /// What is outside the host directories `inside` (relative to the root): for each
    /// layout entry not below one of them, its identity, size, link count, times
    /// (access time included, so a read shows) and link target; for the root, its own.
    /// Any entry created in or deleted from an outside directory changes that
    /// directory's times.
    pub fn outside(&self, inside: &[&str]) -> BTreeMap<String, String> {
        let is_inside = |p: &str| {
            inside
                .iter()
                .any(|i| p == *i || p.starts_with(&format!("{i}/")))
        };
        let mut snap = BTreeMap::new();
        let mut paths = vec![""];
        paths.extend(LAYOUT.iter().map(|(p, _)| *p).filter(|p| !is_inside(p)));
        for rel in paths {
            let p = self.path(rel);
            let value = match std::fs::symlink_metadata(&p) {
                Err(e) => format!("missing: {e}"),
                Ok(m) => {
                    let mut v = format!(
                        "ino {} mode {:o} size {} nlink {} mtime {}.{} ctime {}.{}",
                        m.ino(),
                        m.mode(),
                        m.size(),
                        m.nlink(),
                        m.mtime(),
                        m.mtime_nsec(),
                        m.ctime(),
                        m.ctime_nsec()
                    );
                    if m.file_type().is_symlink() {
                        v.push_str(&format!(" -> {:?}", std::fs::read_link(&p).unwrap()));
                    } else {
                        v.push_str(&format!(" atime {}.{}", m.atime(), m.atime_nsec()));
                    }
                    v
                }
            };
            snap.insert(format!("/{rel}"), value);
        }
        snap
    }
}

/// What runs the attack programs.
#[derive(Clone, Debug)]
pub enum Runner {
    /// Our runtime, in this process.
    Ours,
    /// A WASI CLI that takes `run --dir HOST::GUEST FILE ARGS...` (Wasmtime's syntax).
    Peer(PathBuf),
}

impl std::fmt::Display for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runner::Ours => write!(f, "ours"),
            Runner::Peer(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Ours, then the peer named by `WASI_PEER` if it is set (to check that the errnos the
/// programs expect are the peer's too: `WASI_PEER=/path/to/wasmtime cargo test ...`).
pub fn runners() -> Vec<Runner> {
    let mut runners = vec![Runner::Ours];
    if let Some(peer) = std::env::var_os("WASI_PEER") {
        runners.push(Runner::Peer(PathBuf::from(peer)));
    }
    runners
}

/// The outcome of one program run.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
}

/// The built attack program `name`.
pub fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wasi-programs")
        .join(format!("{name}.wasm"))
}

/// Runs program `name` with `runner`, the world's `preopens` (host path relative to the
/// root, guest name) and `args` after the program name.
pub fn run(
    runner: &Runner,
    name: &str,
    world: &World,
    preopens: &[(&str, &str)],
    args: &[&str],
) -> Run {
    let wasm = program(name);
    match runner {
        Runner::Ours => {
            let mut builder = WasiCtx::builder().arg(name).args(args.iter().copied());
            for (host, guest) in preopens {
                builder = builder.preopened_dir(world.path(host), *guest);
            }
            let (builder, stdout) = builder.capture_stdout();
            let engine = Engine::default();
            let module = Module::from_file(&engine, &wasm).unwrap();
            let status = wasi::run(&engine, &module, builder.build().unwrap())
                .unwrap_or_else(|e| panic!("{name} did not exit normally: {e}"));
            Run {
                status,
                stdout: stdout.to_string_lossy(),
            }
        }
        Runner::Peer(cli) => {
            let mut cmd = Command::new(cli);
            cmd.arg("run");
            for (host, guest) in preopens {
                cmd.arg("--dir")
                    .arg(format!("{}::{guest}", world.path(host).display()));
            }
            let out = cmd
                .arg(&wasm)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", cli.display()));
            Run {
                status: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            }
        }
    }
}

/// Runs attack program `name` with every runner on a fresh world each, and checks that
/// every errno was the expected one (the program's own checks), that nothing outside the
/// preopens was read, created, changed or deleted, and that the guest saw no secret and
/// no host path. `after` checks the world once more (what should have happened inside).
pub fn attack(name: &str, preopens: &[(&str, &str)], after: impl Fn(&World)) {
    let inside: Vec<&str> = preopens.iter().map(|(host, _)| *host).collect();
    let mut failures = Vec::new();
    for runner in runners() {
        let world = World::new(name);
        let root = world.root().to_str().unwrap().to_string();
        let before = world.outside(&inside);
        let mut args = vec![root.as_str()];
        if let Runner::Peer(_) = runner {
            args.push("peer");
        }
        let run = run(&runner, name, &world, preopens, &args);
        let context = format!("{name} under {runner}:\n{}", run.stdout);
        if run.status != 0 || !run.stdout.contains("all checks passed") {
            let fails: Vec<&str> = run
                .stdout
                .lines()
                .filter(|l| l.starts_with("FAIL"))
                .collect();
            failures.push(format!(
                "{name} under {runner}: exit status {}, failed checks:\n{}",
                run.status,
                fails.join("\n")
            ));
        }
        for leak in [SECRET, "root:x:0:0", &root] {
            assert!(!run.stdout.contains(leak), "`{leak}` leaked: {context}");
        }
        let now = world.outside(&inside);
        for (path, was) in &before {
            assert_eq!(
                now.get(path),
                Some(was),
                "{path} outside the sandbox was touched: {context}"
            );
        }
        after(&world);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
