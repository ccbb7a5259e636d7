//! WASI suite: every `wasm32-wasip1` program of the wasi-testsuite (`c/`, `rust/`,
//! `assemblyscript/`) becomes one trial `wasi/<lang>/<name>`. A program runs on its own
//! thread (32 MiB stack) with the arguments and environment of its `.json` spec, its
//! `root` directory preopened as `/` from a fresh temporary copy (removed afterwards),
//! and must end with the expected exit code, stdout and stderr.

use crate::expectations::Expectations;
use libtest_mimic::Trial;
use runtime::wasi::{OutputBuffer, WasiCtx};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The suite's language folders, in trial order.
pub const LANGUAGES: [&str; 3] = ["c", "rust", "assemblyscript"];

/// Stack size of the thread each program runs on.
pub const STACK_SIZE: usize = 32 << 20;

/// What a program's `.json` file asks for (defaults when there is none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spec {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Directory (relative to the program's folder) preopened as `/`.
    pub root: Option<String>,
    pub exit_code: i32,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// A `.json` spec as the suite writes it; unknown keys are an error.
#[derive(Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SpecFile {
    args: Vec<String>,
    env: std::collections::BTreeMap<String, String>,
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
    stderr: Option<String>,
}

impl Spec {
    pub fn parse(text: &str) -> Result<Spec, String> {
        let file: SpecFile =
            serde_json::from_str(text).map_err(|e| format!("invalid spec: {e}"))?;
        Ok(Spec {
            args: file.args,
            env: file.env.into_iter().collect(),
            root: file.root,
            exit_code: file.exit_code,
            stdout: file.stdout,
            stderr: file.stderr,
        })
    }
}

/// One program of the suite.
#[derive(Clone, Debug)]
pub struct WasiTest {
    /// `wasi/<lang>/<name>`.
    pub name: String,
    pub wasm: PathBuf,
    /// The `.json` spec, if the program has one.
    pub spec_file: Option<PathBuf>,
}

/// Lists the programs under the suite's `data/` folder.
pub fn discover(data: &Path) -> std::io::Result<Vec<WasiTest>> {
    let mut tests = Vec::new();
    for lang in LANGUAGES {
        let dir = data.join(lang);
        let mut wasms: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        wasms.sort();
        for wasm in wasms {
            let stem = wasm
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let json = wasm.with_extension("json");
            tests.push(WasiTest {
                name: format!("wasi/{lang}/{stem}"),
                spec_file: json.is_file().then_some(json),
                wasm,
            });
        }
    }
    Ok(tests)
}

fn show(bytes: &str) -> String {
    format!("{bytes:?}")
}

/// Runs one program and compares what it did with its spec.
pub fn run_test(test: &WasiTest) -> Result<(), String> {
    let spec = match &test.spec_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Spec::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Spec::default(),
    };
    let folder = test.wasm.parent().unwrap_or(Path::new("."));
    let temp = match &spec.root {
        Some(root) => {
            let temp = crate::programs::TempDir::new("wasi", &test.name)
                .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
            crate::programs::copy_fixture(&folder.join(root), temp.path())
                .map_err(|e| format!("cannot copy the fixture `{root}`: {e}"))?;
            Some(temp)
        }
        None => None,
    };
    let program = test
        .wasm
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut builder = WasiCtx::builder()
        .arg(program)
        .args(spec.args.clone())
        .envs(spec.env.clone());
    if let Some(temp) = &temp {
        builder = builder.preopened_dir(temp.path(), "/");
    }
    let (stdout, stderr) = (OutputBuffer::new(), OutputBuffer::new());
    let ctx = builder
        .stdout_buffer(&stdout)
        .stderr_buffer(&stderr)
        .build()
        .map_err(|e| e.to_string())?;
    let engine = runtime::Engine::default();
    let module = runtime::Module::from_file(&engine, &test.wasm).map_err(|e| e.to_string())?;
    let result = runtime::wasi::run(&engine, &module, ctx);
    let (out, err) = (stdout.to_string_lossy(), stderr.to_string_lossy());
    let outputs = format!("stdout: {}\nstderr: {}", show(&out), show(&err));
    let code = result.map_err(|e| format!("the program did not exit normally: {e}\n{outputs}"))?;
    if code != spec.exit_code {
        return Err(format!(
            "exit code {code}, expected {}\n{outputs}",
            spec.exit_code
        ));
    }
    if let Some(expected) = &spec.stdout {
        if *expected != out {
            return Err(format!(
                "stdout differs: expected {}\n{outputs}",
                show(expected)
            ));
        }
    }
    if let Some(expected) = &spec.stderr {
        if *expected != err {
            return Err(format!(
                "stderr differs: expected {}\n{outputs}",
                show(expected)
            ));
        }
    }
    drop(temp);
    Ok(())
}

/// Runs [`run_test`] on a thread with a [`STACK_SIZE`] stack, within the time limit.
pub fn run_test_on_thread(test: &WasiTest) -> Result<(), String> {
    let owned = test.clone();
    let limit = crate::programs::time_limit(300);
    crate::programs::run_on_thread(&test.name, STACK_SIZE, limit, move || run_test(&owned))
}

/// One trial per program, plus one that fails if the expectation list has entries that
/// match no program.
pub fn trials(tests: &[WasiTest], expectations: &Arc<Expectations>) -> Vec<Trial> {
    crate::programs::trials(
        tests,
        |t| t.name.clone(),
        run_test_on_thread,
        expectations,
        "wasi-testsuite",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_defaults() {
        let s = Spec::parse(r#"{"args": ["a", "b\"c"], "env": {"K": "V"}, "root": "fs", "exit_code": 3, "stdout": "x"}"#)
            .unwrap();
        assert_eq!(s.args, ["a", "b\"c"]);
        assert_eq!(s.env, [("K".to_string(), "V".to_string())]);
        assert_eq!(
            (
                s.root.as_deref(),
                s.exit_code,
                s.stdout.as_deref(),
                s.stderr
            ),
            (Some("fs"), 3, Some("x"), None)
        );
        assert_eq!(Spec::parse("{}").unwrap(), Spec::default());
        assert!(Spec::parse(r#"{"dirs": []}"#).is_err());
    }
}
