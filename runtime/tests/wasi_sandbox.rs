//! WASI: sandbox escapes, bad guest pointers, big transfers, closed and renumbered
//! descriptors, rights, and a stdin → file round trip. Small `.wat` programs only; every
//! test works in its own temporary directory and removes it.

use runtime::wasi::{self, Errno, OutputBuffer, WasiCtx, WasiCtxBuilder, WasiP1Ctx};
use runtime::*;
use std::path::{Path, PathBuf};

/// (name, params) of the WASI functions the proxy module re-exports; `L` = i64.
const FUNCS: &[(&str, &str)] = &[
    ("args_sizes_get", "II"),
    ("fd_close", "I"),
    ("fd_fdstat_get", "II"),
    ("fd_fdstat_set_rights", "ILL"),
    ("fd_filestat_get", "II"),
    ("fd_pread", "IIILI"),
    ("fd_prestat_get", "II"),
    ("fd_read", "IIII"),
    ("fd_readdir", "IIILI"),
    ("fd_renumber", "II"),
    ("fd_seek", "ILII"),
    ("fd_write", "IIII"),
    ("path_create_directory", "III"),
    ("path_filestat_get", "IIIII"),
    ("path_link", "IIIIIII"),
    ("path_open", "IIIIILLII"),
    ("path_readlink", "IIIIII"),
    ("path_remove_directory", "III"),
    ("path_rename", "IIIIII"),
    ("path_symlink", "IIIII"),
    ("path_unlink_file", "III"),
    ("random_get", "II"),
    ("sock_shutdown", "II"),
];

/// A module that re-exports every function of [`FUNCS`] and its memory (2 pages).
fn proxy_wat() -> String {
    let mut imports = String::new();
    let mut exports = String::new();
    for (name, sig) in FUNCS {
        let params: Vec<&str> = sig
            .chars()
            .map(|c| if c == 'L' { "i64" } else { "i32" })
            .collect();
        let p = params.join(" ");
        imports.push_str(&format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {p}) (result i32)))\n"
        ));
        let gets: String = (0..params.len())
            .map(|i| format!("local.get {i} "))
            .collect();
        exports.push_str(&format!(
            "(func (export \"{name}\") (param {p}) (result i32) {gets} call ${name})\n"
        ));
    }
    format!("(module {imports} (memory (export \"memory\") 2) {exports})")
}

/// A temporary directory (tempfile's), removed with everything in it on drop.
struct TempDir(tempfile::TempDir);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("runtime-wasi-sandbox-{label}-"))
            .tempdir()
            .unwrap();
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// The proxy instance, its memory and a bump allocator for guest data.
struct Guest {
    store: Store<WasiP1Ctx>,
    instance: Instance,
    memory: Memory,
    next: u32,
}

const FIRST_PREOPEN: u32 = 3;
const RIGHTS_ALL: i64 = (1 << 30) - 1;
const FD_READ: i64 = 1 << 1;
const FD_WRITE: i64 = 1 << 6;
/// Opening a directory for writing is `ISDIR` (as on Linux), so directories get these.
const DIR_RIGHTS: i64 = RIGHTS_ALL & !FD_WRITE;
const OFLAGS_CREAT: i32 = 1;
const OFLAGS_DIRECTORY: i32 = 2;
const FOLLOW: i32 = 1;

impl Guest {
    fn new(ctx: WasiCtx) -> Guest {
        let engine = Engine::default();
        let module = Module::new(&engine, proxy_wat()).unwrap();
        let mut store = Store::new(&engine, WasiP1Ctx::new(ctx).unwrap());
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |wasi: &mut WasiP1Ctx| wasi).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&store, "memory").unwrap();
        Guest {
            store,
            instance,
            memory,
            next: 1024,
        }
    }

    /// Copies `bytes` into guest memory; returns (pointer, length).
    fn put(&mut self, bytes: &[u8]) -> (i32, i32) {
        let ptr = self.next;
        self.memory.data_mut(&mut self.store)[ptr as usize..ptr as usize + bytes.len()]
            .copy_from_slice(bytes);
        self.next += (bytes.len() as u32 + 15) & !7;
        (ptr as i32, bytes.len() as i32)
    }

    /// Room for `len` bytes of results.
    fn alloc(&mut self, len: u32) -> i32 {
        self.put(&vec![0; len as usize]).0
    }

    fn bytes(&self, ptr: i32, len: usize) -> Vec<u8> {
        self.memory.data(&self.store)[ptr as usize..ptr as usize + len].to_vec()
    }

    fn u32_at(&self, ptr: i32) -> u32 {
        u32::from_le_bytes(self.bytes(ptr, 4).try_into().unwrap())
    }

    fn try_call(&mut self, name: &str, args: &[Val]) -> Result<u16> {
        let f = self.instance.get_func(&self.store, name).unwrap();
        let mut results = [Val::I32(0)];
        f.call(&mut self.store, args, &mut results)?;
        Ok(results[0].i32().unwrap() as u16)
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Errno {
        Errno(
            self.try_call(name, args)
                .unwrap_or_else(|e| panic!("{name} trapped: {e}")),
        )
    }

    /// `path_open` below `dir`; the new descriptor or the errno.
    fn open(
        &mut self,
        dir: u32,
        lookup: i32,
        path: &str,
        oflags: i32,
        rights: i64,
    ) -> Result<u32, Errno> {
        let (p, l) = self.put(path.as_bytes());
        let out = self.alloc(4);
        let args = [
            Val::I32(dir as i32),
            Val::I32(lookup),
            Val::I32(p),
            Val::I32(l),
            Val::I32(oflags),
            Val::I64(rights),
            Val::I64(rights),
            Val::I32(0),
            Val::I32(out),
        ];
        match self.call("path_open", &args) {
            Errno::SUCCESS => Ok(self.u32_at(out)),
            e => Err(e),
        }
    }

    /// A call taking `(fd, path_ptr, path_len)`.
    fn path_op(&mut self, name: &str, dir: u32, path: &str) -> Errno {
        let (p, l) = self.put(path.as_bytes());
        self.call(name, &[Val::I32(dir as i32), Val::I32(p), Val::I32(l)])
    }

    fn stat(&mut self, dir: u32, lookup: i32, path: &str) -> Errno {
        let (p, l) = self.put(path.as_bytes());
        let out = self.alloc(64);
        self.call(
            "path_filestat_get",
            &[
                Val::I32(dir as i32),
                Val::I32(lookup),
                Val::I32(p),
                Val::I32(l),
                Val::I32(out),
            ],
        )
    }

    fn write(&mut self, fd: u32, data: &[u8]) -> Result<u32, Errno> {
        let (p, l) = self.put(data);
        let (iov, _) = self.put(&[p.to_le_bytes(), l.to_le_bytes()].concat());
        let out = self.alloc(4);
        match self.call(
            "fd_write",
            &[
                Val::I32(fd as i32),
                Val::I32(iov),
                Val::I32(1),
                Val::I32(out),
            ],
        ) {
            Errno::SUCCESS => Ok(self.u32_at(out)),
            e => Err(e),
        }
    }

    fn read(&mut self, fd: u32, len: u32) -> Result<Vec<u8>, Errno> {
        let buf = self.alloc(len);
        let (iov, _) = self.put(&[buf.to_le_bytes(), (len as i32).to_le_bytes()].concat());
        let out = self.alloc(4);
        match self.call(
            "fd_read",
            &[
                Val::I32(fd as i32),
                Val::I32(iov),
                Val::I32(1),
                Val::I32(out),
            ],
        ) {
            Errno::SUCCESS => Ok(self.bytes(buf, self.u32_at(out) as usize)),
            e => Err(e),
        }
    }
}

/// A sandbox `root/box` (preopened as `/`) next to `root/secret.txt`, which no guest
/// path may reach.
fn sandbox(label: &str) -> (TempDir, PathBuf) {
    let root = TempDir::new(label);
    std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
    let sandbox = root.path().join("box");
    std::fs::create_dir_all(sandbox.join("sub")).unwrap();
    std::fs::write(sandbox.join("sub/inner.txt"), "inner").unwrap();
    (root, sandbox)
}

fn guest_in(sandbox: &Path) -> Guest {
    Guest::new(
        WasiCtx::builder()
            .preopened_dir(sandbox, "/")
            .build()
            .unwrap(),
    )
}

#[test]
fn dotdot_and_absolute_paths_stay_inside() {
    let (root, sandbox) = sandbox("dotdot");
    let mut g = guest_in(&sandbox);
    for path in [
        "../secret.txt",
        "sub/../../secret.txt",
        "sub/./../../box/../secret.txt",
        "/secret.txt",
        "/etc/passwd",
        "//x",
    ] {
        assert_eq!(
            g.open(FIRST_PREOPEN, FOLLOW, path, 0, RIGHTS_ALL),
            Err(Errno::PERM),
            "{path}"
        );
        assert_eq!(g.stat(FIRST_PREOPEN, FOLLOW, path), Errno::PERM, "{path}");
    }
    assert_eq!(
        g.path_op("path_create_directory", FIRST_PREOPEN, "../made"),
        Errno::PERM
    );
    assert_eq!(
        g.path_op("path_unlink_file", FIRST_PREOPEN, "../secret.txt"),
        Errno::PERM
    );
    assert_eq!(
        g.path_op("path_remove_directory", FIRST_PREOPEN, ".."),
        Errno::PERM
    );
    assert!(!root.path().join("made").exists() && root.path().join("secret.txt").exists());
    // `..` that stays inside is fine.
    let fd = g
        .open(FIRST_PREOPEN, 0, "sub/../sub/inner.txt", 0, RIGHTS_ALL)
        .unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inner");
    // A directory descriptor is its own sandbox: `..` cannot leave it either.
    let sub = g
        .open(FIRST_PREOPEN, 0, "sub", OFLAGS_DIRECTORY, DIR_RIGHTS)
        .unwrap();
    assert_eq!(
        g.open(sub, 0, "../sub/inner.txt", 0, RIGHTS_ALL),
        Err(Errno::PERM)
    );
    assert_eq!(g.stat(sub, 0, "inner.txt"), Errno::SUCCESS);
    // Interior NUL and empty paths.
    assert_eq!(
        g.open(FIRST_PREOPEN, 0, "sub/inner.txt\0", 0, RIGHTS_ALL),
        Err(Errno::INVAL)
    );
    assert_eq!(
        g.open(FIRST_PREOPEN, 0, "", 0, RIGHTS_ALL),
        Err(Errno::NOENT)
    );
}

#[test]
fn symlinks_cannot_point_outside() {
    let (root, sandbox) = sandbox("symlinks");
    let link =
        |target: &str, name: &str| std::os::unix::fs::symlink(target, sandbox.join(name)).unwrap();
    link("../secret.txt", "rel_out");
    link(root.path().join("secret.txt").to_str().unwrap(), "abs_out");
    link(root.path().to_str().unwrap(), "abs_dir");
    link("..", "up");
    link("sub", "sub_link");
    link("sub/..", "dot_link");
    link("missing", "dangling");
    link("loop_b", "loop_a");
    link("loop_a", "loop_b");
    link("self", "self");
    std::os::unix::fs::symlink("../../secret.txt", sandbox.join("sub/deep_out")).unwrap();
    std::os::unix::fs::symlink("../inner_up", sandbox.join("sub/chain")).unwrap();
    link("up/secret.txt", "inner_up");
    let mut g = guest_in(&sandbox);
    let p = FIRST_PREOPEN;
    for path in [
        "rel_out",
        "abs_out",
        "abs_dir/secret.txt",
        "up/secret.txt",
        "sub/deep_out",
        "sub/chain",
        "up/box/sub/inner.txt",
    ] {
        assert_eq!(
            g.open(p, FOLLOW, path, 0, RIGHTS_ALL),
            Err(Errno::PERM),
            "{path}"
        );
        assert_eq!(g.stat(p, FOLLOW, path), Errno::PERM, "{path}");
        let with_slash = g.open(p, FOLLOW, &format!("{path}/"), 0, DIR_RIGHTS);
        assert!(
            matches!(with_slash, Err(Errno::PERM | Errno::NOTDIR)),
            "{path}/: {with_slash:?}"
        );
    }
    // Intermediate components are always followed, and checked.
    assert_eq!(
        g.open(p, 0, "abs_dir/secret.txt", 0, RIGHTS_ALL),
        Err(Errno::PERM)
    );
    assert_eq!(
        g.open(p, 0, "up/secret.txt", 0, RIGHTS_ALL),
        Err(Errno::PERM)
    );
    // A trailing slash follows even without SYMLINK_FOLLOW.
    assert_eq!(
        g.open(p, 0, "abs_dir/", OFLAGS_DIRECTORY, DIR_RIGHTS),
        Err(Errno::PERM)
    );
    // Not following: the link itself (open refuses it, stat sees a symlink).
    assert_eq!(g.open(p, 0, "rel_out", 0, RIGHTS_ALL), Err(Errno::LOOP));
    assert_eq!(g.stat(p, 0, "abs_out"), Errno::SUCCESS);
    // Links that stay inside work.
    let fd = g
        .open(p, FOLLOW, "sub_link/inner.txt", 0, RIGHTS_ALL)
        .unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inner");
    let fd = g
        .open(p, FOLLOW, "dot_link/sub/inner.txt", 0, RIGHTS_ALL)
        .unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inner");
    // Dangling and looping links.
    assert_eq!(
        g.open(p, FOLLOW, "dangling", 0, RIGHTS_ALL),
        Err(Errno::NOENT)
    );
    assert_eq!(g.open(p, FOLLOW, "loop_a", 0, RIGHTS_ALL), Err(Errno::LOOP));
    assert_eq!(g.open(p, FOLLOW, "self/x", 0, RIGHTS_ALL), Err(Errno::LOOP));
    assert_eq!(g.stat(p, FOLLOW, "loop_b"), Errno::LOOP);
    // Creating through a dangling link creates its (inside) target.
    let fd = g
        .open(p, FOLLOW, "dangling", OFLAGS_CREAT, RIGHTS_ALL)
        .unwrap();
    g.write(fd, b"made").unwrap();
    assert_eq!(std::fs::read(sandbox.join("missing")).unwrap(), b"made");
    // The guest cannot create links to absolute paths; links to `..` it can make but not use.
    let (t, tl) = g.put(b"/etc/passwd");
    let (n, nl) = g.put(b"mine");
    assert_eq!(
        g.call(
            "path_symlink",
            &[
                Val::I32(t),
                Val::I32(tl),
                Val::I32(p as i32),
                Val::I32(n),
                Val::I32(nl)
            ]
        ),
        Errno::PERM
    );
    let (t, tl) = g.put(b"../../secret.txt");
    assert_eq!(
        g.call(
            "path_symlink",
            &[
                Val::I32(t),
                Val::I32(tl),
                Val::I32(p as i32),
                Val::I32(n),
                Val::I32(nl)
            ]
        ),
        Errno::SUCCESS
    );
    assert_eq!(g.open(p, FOLLOW, "mine", 0, RIGHTS_ALL), Err(Errno::PERM));
    // Writing through any of them never touched the secret.
    assert_eq!(
        std::fs::read(root.path().join("secret.txt")).unwrap(),
        b"secret"
    );
}

#[test]
fn replaced_directories_do_not_leak() {
    let (root, sandbox) = sandbox("replaced");
    let mut g = guest_in(&sandbox);
    let sub = g
        .open(FIRST_PREOPEN, 0, "sub", OFLAGS_DIRECTORY, DIR_RIGHTS)
        .unwrap();
    // Someone swaps the opened directory for a symlink to the outside.
    std::fs::rename(sandbox.join("sub"), sandbox.join("old")).unwrap();
    std::os::unix::fs::symlink(root.path(), sandbox.join("sub")).unwrap();
    // The descriptor still is the directory it was opened as (now `old`).
    assert_eq!(
        g.open(sub, 0, "secret.txt", 0, RIGHTS_ALL),
        Err(Errno::NOENT)
    );
    assert_eq!(g.stat(sub, 0, "secret.txt"), Errno::NOENT);
    let fd = g.open(sub, 0, "inner.txt", 0, RIGHTS_ALL).unwrap();
    assert_eq!(g.read(fd, 100).unwrap(), b"inner");
    // Nor can its listing show the outside: it lists the directory itself.
    let buf = g.alloc(256);
    let out = g.alloc(4);
    let args = [
        Val::I32(sub as i32),
        Val::I32(buf),
        Val::I32(256),
        Val::I64(0),
        Val::I32(out),
    ];
    assert_eq!(g.call("fd_readdir", &args), Errno::SUCCESS);
    let listing = String::from_utf8_lossy(&g.bytes(buf, 256)).into_owned();
    assert!(listing.contains("inner.txt") && !listing.contains("secret"));
    // Through the preopen, the swapped-in link is refused.
    assert_eq!(
        g.open(FIRST_PREOPEN, FOLLOW, "sub/secret.txt", 0, RIGHTS_ALL),
        Err(Errno::PERM)
    );
}

#[test]
fn renames_and_links_across_preopens() {
    let a = TempDir::new("rename-a");
    let b = TempDir::new("rename-b");
    std::fs::write(a.path().join("f"), "data").unwrap();
    let ctx = WasiCtx::builder()
        .preopened_dir(a.path(), "/a")
        .preopened_dir(b.path(), "/b")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    let (pa, pb) = (FIRST_PREOPEN, FIRST_PREOPEN + 1);
    let rename = |g: &mut Guest, from: &str, to: &str| {
        let (f, fl) = g.put(from.as_bytes());
        let (t, tl) = g.put(to.as_bytes());
        g.call(
            "path_rename",
            &[
                Val::I32(pa as i32),
                Val::I32(f),
                Val::I32(fl),
                Val::I32(pb as i32),
                Val::I32(t),
                Val::I32(tl),
            ],
        )
    };
    assert_eq!(rename(&mut g, "f", "g"), Errno::SUCCESS);
    assert_eq!(std::fs::read(b.path().join("g")).unwrap(), b"data");
    assert_eq!(rename(&mut g, "missing", "../g"), Errno::PERM);
    assert_eq!(rename(&mut g, "../x", "h"), Errno::PERM);
    std::fs::write(a.path().join("f2"), "x").unwrap();
    let (f, fl) = g.put(b"f2");
    let (t, tl) = g.put(b"../escaped");
    let link = g.call(
        "path_link",
        &[
            Val::I32(pa as i32),
            Val::I32(0),
            Val::I32(f),
            Val::I32(fl),
            Val::I32(pb as i32),
            Val::I32(t),
            Val::I32(tl),
        ],
    );
    assert_eq!(link, Errno::PERM);
    // Preopens are listed with their guest names.
    let out = g.alloc(8);
    assert_eq!(
        g.call("fd_prestat_get", &[Val::I32(pb as i32), Val::I32(out)]),
        Errno::SUCCESS
    );
    assert_eq!(g.u32_at(out + 4), 2);
    assert_eq!(
        g.call("fd_prestat_get", &[Val::I32(pb as i32 + 1), Val::I32(out)]),
        Errno::BADF
    );
}

#[test]
fn bad_guest_pointers_trap_and_huge_transfers_work() {
    let dir = TempDir::new("pointers");
    let mut g = guest_in(dir.path());
    let end = 2 * 65536;
    let is_oob = |r: Result<u16>| {
        let e = r.expect_err("should trap");
        assert_eq!(
            e.as_trap().map(|t| t.code()),
            Some(TrapCode::MemoryOutOfBounds),
            "{e}"
        );
    };
    let p = FIRST_PREOPEN as i32;
    // A path past the end of memory, or wrapping around.
    let open = |g: &mut Guest, ptr: i32, len: i32| {
        let args = [
            Val::I32(p),
            Val::I32(0),
            Val::I32(ptr),
            Val::I32(len),
            Val::I32(0),
            Val::I64(0),
            Val::I64(0),
            Val::I32(0),
            Val::I32(0),
        ];
        g.try_call("path_open", &args)
    };
    is_oob(open(&mut g, end - 2, 4));
    is_oob(open(&mut g, -1, 2));
    is_oob(open(&mut g, 16, -1));
    // Result pointers past the end.
    is_oob(g.try_call("args_sizes_get", &[Val::I32(end - 2), Val::I32(0)]));
    is_oob(g.try_call("fd_fdstat_get", &[Val::I32(1), Val::I32(end - 8)]));
    // iovec arrays and buffers past the end.
    is_oob(g.try_call(
        "fd_write",
        &[Val::I32(1), Val::I32(end - 4), Val::I32(1), Val::I32(0)],
    ));
    is_oob(g.try_call(
        "fd_write",
        &[Val::I32(1), Val::I32(0), Val::I32(0x2000_0000), Val::I32(0)],
    ));
    let (iov, _) = g.put(&[16i32.to_le_bytes(), (-1i32).to_le_bytes()].concat());
    is_oob(g.try_call(
        "fd_write",
        &[Val::I32(1), Val::I32(iov), Val::I32(1), Val::I32(0)],
    ));
    is_oob(g.try_call(
        "fd_read",
        &[Val::I32(0), Val::I32(iov), Val::I32(1), Val::I32(0)],
    ));
    is_oob(g.try_call("random_get", &[Val::I32(end - 10), Val::I32(11)]));
    // The instance is still usable afterwards.
    assert_eq!(
        g.call("random_get", &[Val::I32(end - 10), Val::I32(10)]),
        Errno::SUCCESS
    );
    // A big write and a read whose buffer is the rest of memory.
    let fd = g
        .open(FIRST_PREOPEN, 0, "big", OFLAGS_CREAT, RIGHTS_ALL)
        .unwrap();
    let data: Vec<u8> = (0..60000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(g.write(fd, &data).unwrap(), 60000);
    let seek_out = g.alloc(8);
    assert_eq!(
        g.call(
            "fd_seek",
            &[
                Val::I32(fd as i32),
                Val::I64(0),
                Val::I32(0),
                Val::I32(seek_out)
            ]
        ),
        Errno::SUCCESS
    );
    let buf = g.next as i32;
    let (iov, _) = g.put(&[buf.to_le_bytes(), 0i32.to_le_bytes()].concat());
    let len = end - buf - 64;
    g.memory.data_mut(&mut g.store)[iov as usize..iov as usize + 8]
        .copy_from_slice(&[(buf + 64).to_le_bytes(), len.to_le_bytes()].concat());
    let out = g.alloc(4);
    assert_eq!(
        g.call(
            "fd_read",
            &[
                Val::I32(fd as i32),
                Val::I32(iov),
                Val::I32(1),
                Val::I32(out)
            ]
        ),
        Errno::SUCCESS
    );
    assert_eq!(g.u32_at(out), 60000);
    assert_eq!(g.bytes(buf + 64, 60000), data);
    // pread far past the end reads nothing.
    let (iov, _) = g.put(&[(buf + 64).to_le_bytes(), 16i32.to_le_bytes()].concat());
    let args = [
        Val::I32(fd as i32),
        Val::I32(iov),
        Val::I32(1),
        Val::I64(1 << 40),
        Val::I32(out),
    ];
    assert_eq!(g.call("fd_pread", &args), Errno::SUCCESS);
    assert_eq!(g.u32_at(out), 0);
}

#[test]
fn closed_and_renumbered_descriptors() {
    let dir = TempDir::new("fds");
    let mut g = guest_in(dir.path());
    let p = FIRST_PREOPEN;
    let a = g.open(p, 0, "a", OFLAGS_CREAT, RIGHTS_ALL).unwrap();
    let b = g.open(p, 0, "b", OFLAGS_CREAT, RIGHTS_ALL).unwrap();
    assert_eq!((a, b), (4, 5));
    g.write(a, b"to a").unwrap();
    // Renumber: b now is a's file, a is gone.
    assert_eq!(
        g.call("fd_renumber", &[Val::I32(a as i32), Val::I32(b as i32)]),
        Errno::SUCCESS
    );
    assert_eq!(g.write(a, b"x"), Err(Errno::BADF));
    g.write(b, b" via b").unwrap();
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"to a via b");
    assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), b"");
    // Renumbering onto or from a closed descriptor fails.
    assert_eq!(
        g.call("fd_renumber", &[Val::I32(b as i32), Val::I32(99)]),
        Errno::BADF
    );
    assert_eq!(
        g.call("fd_renumber", &[Val::I32(99), Val::I32(b as i32)]),
        Errno::BADF
    );
    // Closing twice; using a closed descriptor.
    assert_eq!(g.call("fd_close", &[Val::I32(b as i32)]), Errno::SUCCESS);
    assert_eq!(g.call("fd_close", &[Val::I32(b as i32)]), Errno::BADF);
    assert_eq!(g.read(b, 4), Err(Errno::BADF));
    assert_eq!(
        g.call(
            "fd_fdstat_get",
            &[Val::I32(b as i32), Val::I32(g.next as i32)]
        ),
        Errno::BADF
    );
    assert_eq!(
        g.call("sock_shutdown", &[Val::I32(b as i32), Val::I32(0)]),
        Errno::BADF
    );
    assert_eq!(
        g.call("sock_shutdown", &[Val::I32(1), Val::I32(0)]),
        Errno::NOTSOCK
    );
    // Freed numbers are reused.
    assert_eq!(g.open(p, 0, "a", 0, RIGHTS_ALL), Ok(5));
    // Standard output renumbered onto a file writes the file.
    let (buf, out) = (OutputBuffer::new(), TempDir::new("stdout"));
    let ctx = WasiCtx::builder()
        .stdout_buffer(&buf)
        .preopened_dir(out.path(), "/")
        .build()
        .unwrap();
    let mut g = Guest::new(ctx);
    g.write(1, b"console ").unwrap();
    let f = g
        .open(FIRST_PREOPEN, 0, "log", OFLAGS_CREAT, RIGHTS_ALL)
        .unwrap();
    assert_eq!(
        g.call("fd_renumber", &[Val::I32(f as i32), Val::I32(1)]),
        Errno::SUCCESS
    );
    g.write(1, b"file").unwrap();
    assert_eq!(buf.contents(), b"console ");
    assert_eq!(std::fs::read(out.path().join("log")).unwrap(), b"file");
}

#[test]
fn rights_are_enforced() {
    let dir = TempDir::new("rights");
    std::fs::write(dir.path().join("f"), "content").unwrap();
    let mut g = guest_in(dir.path());
    let read_only = g.open(FIRST_PREOPEN, 0, "f", 0, FD_READ).unwrap();
    assert_eq!(g.write(read_only, b"x"), Err(Errno::NOTCAPABLE));
    assert_eq!(g.read(read_only, 3).unwrap(), b"con");
    let rw = g
        .open(FIRST_PREOPEN, 0, "f", 0, FD_READ | FD_WRITE)
        .unwrap();
    // Dropping a right works, taking it back does not.
    let set = |g: &mut Guest, fd: u32, base: i64| {
        g.call(
            "fd_fdstat_set_rights",
            &[Val::I32(fd as i32), Val::I64(base), Val::I64(0)],
        )
    };
    assert_eq!(set(&mut g, rw, FD_READ), Errno::SUCCESS);
    assert_eq!(g.write(rw, b"x"), Err(Errno::NOTCAPABLE));
    assert_eq!(set(&mut g, rw, FD_READ | FD_WRITE), Errno::NOTCAPABLE);
    // A directory whose rights were dropped cannot open anything.
    let sub = g.open(FIRST_PREOPEN, 0, ".", OFLAGS_DIRECTORY, 0).unwrap();
    assert_eq!(g.open(sub, 0, "f", 0, FD_READ), Err(Errno::NOTCAPABLE));
    // Rights of a child are at most the parent's inheriting rights.
    let limited = g
        .open(
            FIRST_PREOPEN,
            0,
            ".",
            OFLAGS_DIRECTORY,
            RIGHTS_ALL & !FD_WRITE,
        )
        .unwrap();
    let rights = |g: &mut Guest, fd: u32| {
        let out = g.alloc(24);
        assert_eq!(
            g.call("fd_fdstat_get", &[Val::I32(fd as i32), Val::I32(out)]),
            Errno::SUCCESS
        );
        i64::from_le_bytes(g.bytes(out + 8, 8).try_into().unwrap())
    };
    // (`open` passes the same set as base and inheriting.)
    let child = g.open(limited, 0, "f", 0, RIGHTS_ALL).unwrap();
    assert_eq!(rights(&mut g, child) & FD_WRITE, 0);
    assert_ne!(rights(&mut g, child) & FD_READ, 0);
}

/// A command: copies standard input into `/out.txt` and exits with status 7.
const COPY_STDIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "out.txt")
  (func (export "_start") (local $fd i32) (local $n i32)
    ;; open /out.txt (preopen 3) for writing, creating and truncating it
    (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 7) (i32.const 9)
                         (i64.const 0x40) (i64.const 0) (i32.const 0) (i32.const 16))
      (then (call $proc_exit (i32.const 1))))
    (local.set $fd (i32.load (i32.const 16)))
    (loop $copy
      ;; iovec at 32: buffer 1024, 7 bytes (short reads on purpose)
      (i32.store (i32.const 32) (i32.const 1024))
      (i32.store (i32.const 36) (i32.const 7))
      (if (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40))
        (then (call $proc_exit (i32.const 2))))
      (local.set $n (i32.load (i32.const 40)))
      (if (local.get $n)
        (then
          (i32.store (i32.const 36) (local.get $n))
          (if (call $fd_write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 44))
            (then (call $proc_exit (i32.const 3))))
          (br $copy))))
    (call $proc_exit (i32.const 7))))"#;

#[test]
fn stdin_to_file_round_trip() {
    let dir = TempDir::new("roundtrip");
    let input: Vec<u8> = b"hello, sandboxed world\n".repeat(50);
    let ctx = WasiCtxBuilder::new()
        .arg("copy")
        .stdin_bytes(input.clone())
        .preopened_dir(dir.path(), "/")
        .build()
        .unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, COPY_STDIN).unwrap();
    assert_eq!(wasi::run(&engine, &module, ctx).unwrap(), 7);
    assert_eq!(std::fs::read(dir.path().join("out.txt")).unwrap(), input);
}

#[test]
fn missing_directories_are_reported() {
    let err = WasiCtx::builder()
        .preopened_dir("/definitely/not/here", "/")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
}

/// Writes "hi\n" through the `wasi_unstable` name, then exits with the status in its
/// first argument's length (`proc_exit(len(argv[1]))`).
const HELLO_UNSTABLE: &str = r#"(module
  (import "wasi_unstable" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_unstable" "args_get" (func $args (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $sizes (i32.const 16) (i32.const 20)))
    (if (i32.lt_u (i32.load (i32.const 16)) (i32.const 2)) (then return))
    (drop (call $args (i32.const 200) (i32.const 300)))
    ;; argv[1] runs from argv[1] to the end of the buffer, minus its NUL
    (call $exit (i32.sub (i32.sub (i32.add (i32.const 300) (i32.load (i32.const 20)))
                                  (i32.load (i32.const 204)))
                         (i32.const 1)))))"#;

#[test]
fn unstable_names_capture_and_exit_codes() {
    let engine = Engine::default();
    let module = Module::new(&engine, HELLO_UNSTABLE).unwrap();
    let run = |args: &[&str]| {
        let (builder, out) = WasiCtx::builder()
            .args(args.iter().copied())
            .capture_stdout();
        (
            wasi::run(&engine, &module, builder.build().unwrap()),
            out.contents(),
        )
    };
    let (code, out) = run(&["hello"]);
    assert_eq!((code.unwrap(), out.as_slice()), (0, &b"hi\n"[..]));
    let (code, _) = run(&["hello", "twelve chars"]);
    assert_eq!(code.unwrap(), 12);
    // Statuses from 126 on are refused, as in Wasmtime: a trap, not an exit code.
    let (code, _) = run(&["hello", &"x".repeat(130)]);
    let err = code.unwrap_err();
    assert!(
        err.as_trap().is_some_and(|t| t.exit_status().is_none()),
        "{err}"
    );
}
