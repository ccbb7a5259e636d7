//! WASI sandbox attacks, as an attacker would write them: the C programs in
//! `tests/wasi-programs/` (rebuilt by its `build.sh`) try every way out of their preopens
//! and check each errno themselves; these tests run them on a fresh host tree with
//! secrets around the sandboxes and check that nothing outside was read, created,
//! changed or deleted, and that no secret or host path reached the guest. With
//! `WASI_PEER=/path/to/wasmtime` each program also runs under that CLI, which must agree.

mod wasi_support;

use wasi_support::{attack, World};

const BOX: &[(&str, &str)] = &[("box", "/")];

/// Every attack program (and `poll`, run by `wasi_poll.rs`) has its source, its built
/// module and a test.
#[test]
fn every_program_is_built_and_run() {
    const RUN: &[&str] = &[
        "dotdot", "escapes", "fds", "names", "nested", "poll", "renamed", "swap", "symlinks",
    ];
    let dir = wasi_support::program("x");
    let dir = dir.parent().unwrap();
    let mut sources: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".c").map(str::to_string)
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources, RUN,
        "a program without a test, or a test without a program"
    );
    for name in RUN {
        let wasm = wasi_support::program(name);
        assert!(
            wasm.is_file(),
            "{} is missing: run build.sh",
            wasm.display()
        );
    }
}

/// The snapshot the attack tests compare sees each kind of access from outside.
#[test]
fn the_snapshot_sees_every_kind_of_access() {
    type Touch = fn(&World);
    let touches: &[(&str, Touch)] = &[
        ("read", |w| {
            drop(std::fs::read(w.path("secret.txt")).unwrap())
        }),
        ("list", |w| {
            std::fs::read_dir(w.path("outside")).unwrap().for_each(drop)
        }),
        ("write", |w| {
            std::fs::write(w.path("outside/secret2.txt"), "x").unwrap()
        }),
        ("create", |w| {
            std::fs::write(w.path("new.txt"), "x").unwrap()
        }),
        ("create and delete", |w| {
            std::fs::write(w.path("outside/tmp"), "x").unwrap();
            std::fs::remove_file(w.path("outside/tmp")).unwrap();
        }),
        ("delete", |w| {
            std::fs::remove_file(w.path("secret.txt")).unwrap()
        }),
        ("hard link", |w| {
            std::fs::hard_link(w.path("secret.txt"), w.path("box/stolen")).unwrap()
        }),
        ("rename inside", |w| {
            std::fs::rename(w.path("outside"), w.path("box/outside")).unwrap()
        }),
    ];
    for (what, touch) in touches {
        let world = World::new("snapshot");
        let before = world.outside(&["box"]);
        // Nothing changes by itself, and looking inside the sandbox is not outside.
        drop(std::fs::read(world.path("box/file.txt")).unwrap());
        assert_eq!(world.outside(&["box"]), before);
        touch(&world);
        assert_ne!(world.outside(&["box"]), before, "{what} went unseen");
    }
}

#[test]
fn dotdot_and_absolute_paths() {
    attack("dotdot", BOX, |_| {});
}

#[test]
fn symlinks_to_outside() {
    attack("symlinks", BOX, |w| {
        assert!(!w.path("created_outside.txt").exists());
        assert!(!w.path("outside/created.txt").exists());
        // Removing the links removed only them.
        assert!(std::fs::symlink_metadata(w.path("box/abs_file")).is_err());
        assert!(w.path("secret.txt").is_file());
    });
}

#[test]
fn symlink_swapped_in_for_a_directory() {
    attack("swap", BOX, |w| {
        assert_eq!(
            std::fs::read_to_string(w.path("box/d_real/written.txt")).unwrap(),
            "via fd\n"
        );
        assert!(!w.path("planted").exists());
    });
}

#[test]
fn nested_and_overlapping_preopens() {
    let preopens = &[("outer", "/x"), ("outer/inner", "/y"), ("outer", "/z")];
    attack("nested", preopens, |w| {
        assert!(!w.path("made.txt").exists() && !w.path("outer/made.txt").exists());
        assert_eq!(
            std::fs::read_to_string(w.path("outer/again/from_y.txt")).unwrap(),
            "y\n"
        );
        assert!(w.path("outer/both3.txt").is_file());
    });
}

#[test]
fn directory_renamed_while_open() {
    attack("renamed", BOX, |w| {
        assert!(!w.path("b").exists() && !w.path("box/b").exists());
        assert!(w.path("box/a/decoy.txt").is_file());
        assert!(!w.path("box/a/two.txt").exists());
    });
}

#[test]
fn renames_links_and_symlinks_pointing_outside() {
    attack("escapes", &[("box", "/"), ("box2", "/b")], |w| {
        for name in [
            "file.txt",
            "hard",
            "l4",
            "moved.txt",
            "s.txt",
            "stolen",
            "here",
        ] {
            assert!(!w.path(name).exists(), "{name}");
        }
        assert_eq!(
            std::fs::read_to_string(w.path("box/file.txt")).unwrap(),
            "file\n"
        );
    });
}

#[test]
fn long_nul_and_invalid_names() {
    attack("names", BOX, |w| {
        let names: Vec<_> = std::fs::read_dir(w.path("box"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        // Only the link made on purpose is new; nothing was made from a cut-short name.
        let mut extra: Vec<_> = names
            .iter()
            .filter(|n| {
                ![
                    "file.txt", "sub", "abs_file", "abs_dir", "abs_etc", "abs_root",
                ]
                .contains(&n.as_str())
            })
            .collect();
        extra.sort();
        assert_eq!(extra, ["long"]);
    });
}

#[test]
fn bad_closed_and_renumbered_descriptors() {
    attack("fds", &[("box", "/"), ("box2", "/b")], |_| {});
}
