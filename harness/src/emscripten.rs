//! Emscripten suite: every prebuilt legacy program of `emscripten-tests/data/` (emcc 1.38,
//! from wasmer's emtests) becomes a trial `emscripten/<name>`, and every program of our own
//! `emscripten-tests/modern/` (built by today's emcc) a trial `emscripten/modern/<name>`.
//! A program runs through `runtime::emscripten::run` on its own thread (256 MiB stack)
//! within a time limit, with captured stdout and stderr.
//!
//! Legacy verdicts follow upstream Emscripten's own test runner: the expected output (`X.out`
//! or `X.txt`) must equal the program's stdout (trailing whitespace aside) or be contained in
//! it (`assertContained`), or in stdout followed by stderr; an expected output that is a
//! 40-digit hex string is the SHA-1 of stdout. A program with no recorded output must run to
//! completion (or to its documented trap, see [`DOCUMENTED_TRAPS`]). Modern programs must
//! print exactly their `X.out` and exit with 0 (or the code in `X.exit`).

use crate::expectations::Expectations;
use crate::programs::{copy_fixture, TempDir};
use libtest_mimic::Trial;
use runtime::emscripten::{self, Capture, Options};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Stack size of the thread each program runs on.
pub const STACK_SIZE: usize = 256 << 20;

/// Command-line arguments upstream's runner (`tests/test_core.py`) passes to these programs.
pub const ARGS: &[(&str, &[&str])] = &[
    ("test_strings", &["wowie", "too", "74"]),
    ("test_getopt", &["-t", "12", "-n", "foobar"]),
    ("test_getopt_long", &["--file", "foobar", "-b"]),
    ("test_i64_7z", &["hallo"]),
    ("test_i64_varargs", &["waka", "fleefl", "asdfasdfasdfasdf"]),
];

/// Replacements upstream applies to an expected output before comparing.
pub const REPLACE: &[(&str, &str, &str)] = &[
    // `test_emscripten_get_compiler_setting` substitutes the emcc version for `waka`.
    ("emscripten_get_compiler_setting", "waka", "1.38.21"),
];

/// Programs without recorded output that stop on purpose, with text their trap contains.
pub const DOCUMENTED_TRAPS: &[(&str, &str)] = &[("test_intentional_fault", "abort(")];

/// One program.
#[derive(Clone, Debug)]
pub struct EmTest {
    /// `emscripten/<name>` or `emscripten/modern/<name>`.
    pub name: String,
    pub wasm: PathBuf,
    /// The expected stdout file, if any.
    pub expected: Option<PathBuf>,
    pub modern: bool,
    /// A directory copied to a fresh temporary root for the program's `/`.
    pub fixture: Option<PathBuf>,
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn wasm_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut wasms: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    wasms.sort();
    Ok(wasms)
}

/// Lists the legacy programs in `data` (fixtures from `suite/fixtures/<name>/`) and the
/// modern ones in `suite/modern/`.
pub fn discover(data: &Path, suite: &Path) -> std::io::Result<Vec<EmTest>> {
    let mut tests = Vec::new();
    for wasm in wasm_files(data)? {
        let name = stem(&wasm);
        let expected = ["out", "txt"]
            .iter()
            .map(|e| wasm.with_extension(e))
            .find(|p| p.is_file());
        let fixture = Some(suite.join("fixtures").join(&name)).filter(|p| p.is_dir());
        tests.push(EmTest {
            name: format!("emscripten/{name}"),
            wasm,
            expected,
            modern: false,
            fixture,
        });
    }
    let modern = suite.join("modern");
    if modern.is_dir() {
        for wasm in wasm_files(&modern)? {
            let name = stem(&wasm);
            let expected = Some(wasm.with_extension("out")).filter(|p| p.is_file());
            let fixture = Some(modern.join("fixtures").join(&name)).filter(|p| p.is_dir());
            tests.push(EmTest {
                name: format!("emscripten/modern/{name}"),
                wasm,
                expected,
                modern: true,
                fixture,
            });
        }
    }
    Ok(tests)
}

/// SHA-1 of `data` in lowercase hex (upstream checks some outputs by hash).
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

fn normalize(s: &str) -> String {
    s.replace("\r\n", "\n").trim_end().to_string()
}

/// Whether `stdout`/`stderr` satisfy the expected output, by upstream's rules.
pub fn output_matches(expected: &str, stdout: &str, stderr: &str) -> bool {
    let want = normalize(expected);
    let out = normalize(stdout);
    if want == out || out.contains(&want) {
        return true;
    }
    if want.len() == 40
        && want.bytes().all(|b| b.is_ascii_hexdigit())
        && sha1_hex(stdout.as_bytes()) == want
    {
        return true;
    }
    normalize(&format!("{stdout}{stderr}")).contains(&want)
}

fn short(s: &str) -> String {
    const MAX: usize = 2000;
    if s.len() <= MAX {
        format!("{s:?}")
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?}… ({} bytes)", &s[..end], s.len())
    }
}

/// Runs one program and judges its output.
pub fn run_test(test: &EmTest) -> Result<(), String> {
    let base = test.name.rsplit('/').next().unwrap_or_default().to_string();
    let temp = match &test.fixture {
        Some(dir) => {
            let root = TempDir::new("emscripten", &base)
                .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
            copy_fixture(dir, root.path())
                .map_err(|e| format!("cannot copy the fixture {}: {e}", dir.display()))?;
            Some(root)
        }
        // As the CLI does without `--dir`: a scratch root with Emscripten's default layout.
        None => {
            let root = TempDir::new("emscripten", &base)
                .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
            emscripten::default_layout(root.path())
                .map_err(|e| format!("cannot lay out {}: {e}", root.path().display()))?;
            Some(root)
        }
    };
    let args: Vec<String> = if test.modern {
        let file = test.wasm.with_extension("args");
        std::fs::read_to_string(&file)
            .map(|t| t.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    } else {
        ARGS.iter()
            .find(|(n, _)| *n == base)
            .map(|(_, a)| a.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    };
    let (stdout, stderr) = (Capture::new(), Capture::new());
    let options = Options {
        args,
        root: temp.as_ref().map(|t| t.path().to_path_buf()),
        stdout: stdout.sink(),
        stderr: stderr.sink(),
        ..Options::default()
    };
    // As in the CLI, the legacy exception instructions of `-fwasm-exceptions` builds are on.
    let mut config = runtime::Config::new();
    config.wasm_legacy_exceptions(true);
    let result = runtime::Engine::new(&config).and_then(|engine| {
        let module = runtime::Module::from_file(&engine, &test.wasm)?;
        let mut store = runtime::Store::new(&engine, emscripten::Emscripten::default());
        emscripten::run(&mut store, &module, &options)
    });
    let out = String::from_utf8_lossy(&stdout.contents()).into_owned();
    let err = String::from_utf8_lossy(&stderr.contents()).into_owned();
    let outputs = format!("stdout: {}\nstderr: {}", short(&out), short(&err));
    let expected = match &test.expected {
        Some(path) => {
            let mut text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for (name, from, to) in REPLACE {
                if *name == base && !test.modern {
                    text = text.replace(from, to);
                }
            }
            Some(text)
        }
        None => None,
    };
    if test.modern {
        let want_code: i32 = std::fs::read_to_string(test.wasm.with_extension("exit"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        let code =
            result.map_err(|e| format!("the program did not exit normally: {e}\n{outputs}"))?;
        if code != want_code {
            return Err(format!("exit code {code}, expected {want_code}\n{outputs}"));
        }
        if let Some(want) = expected {
            if normalize(&want) != normalize(&out) {
                return Err(format!(
                    "stdout differs: expected {}\n{outputs}",
                    short(&want)
                ));
            }
        }
        return Ok(());
    }
    match expected {
        Some(want) => {
            if output_matches(&want, &out, &err) {
                Ok(())
            } else {
                let status = match &result {
                    Ok(code) => format!("exit code {code}"),
                    Err(e) => format!("error: {e}"),
                };
                Err(format!(
                    "output differs ({status}): expected {}\n{outputs}",
                    short(&want)
                ))
            }
        }
        None => match (result, DOCUMENTED_TRAPS.iter().find(|(n, _)| *n == base)) {
            (Ok(_), None) => Ok(()),
            (Err(e), Some((_, text))) if e.to_string().contains(text) => Ok(()),
            (Ok(code), Some((_, text))) => Err(format!(
                "exit code {code}, expected a trap containing {text:?}\n{outputs}"
            )),
            (Err(e), _) => Err(format!(
                "the program did not run to completion: {e}\n{outputs}"
            )),
        },
    }
}

/// Runs [`run_test`] on a thread with a [`STACK_SIZE`] stack, within the time limit; a
/// program that hangs fails its trial (its thread is left behind).
pub fn run_test_on_thread(test: &EmTest) -> Result<(), String> {
    let owned = test.clone();
    let limit = crate::programs::time_limit(120);
    crate::programs::run_on_thread(&test.name, STACK_SIZE, limit, move || run_test(&owned))
}

/// One trial per program, plus one that fails if the expectation list has entries that
/// match no program.
pub fn trials(tests: &[EmTest], expectations: &Arc<Expectations>) -> Vec<Trial> {
    crate::programs::trials(
        tests,
        |t| t.name.clone(),
        run_test_on_thread,
        expectations,
        "emscripten-tests",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_known_digests() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn outputs_match_by_upstream_rules() {
        assert!(output_matches("hello\n", "hello", ""));
        assert!(output_matches("time: ", "time: Sat Jan  1\n", ""));
        assert!(output_matches(
            "No such file",
            "",
            "x: No such file or directory\n"
        ));
        assert!(!output_matches("a", "b", "c"));
        assert!(output_matches(&sha1_hex(b"xyz\n"), "xyz\n", ""));
    }
}
