//! Snapshots: the diagnostics the runtime gives for a script's `assert_invalid` and
//! `assert_malformed` modules, one line each, for insta snapshots.

use runtime::wast::features_for_path;
use runtime::{Config, Engine, Module};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};

/// `L<line> <kind> "<expected message>": <what the runtime said>` for each negative assertion
/// of the script at `path` (`rel` is its path in the suite, which selects the features).
pub fn rejections(path: &Path, rel: &str) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut config = Config::new();
    config.wasm_features(features_for_path(Path::new(rel)));
    let engine = Engine::new(&config).map_err(|e| e.to_string())?;
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(|e| e.to_string())?;
    let script = parser::parse::<Wast>(&buffer).map_err(|e| e.to_string())?;
    let index = runtime::wast::LineIndex::new(&text);
    let mut lines = Vec::new();
    for directive in script.directives {
        let line = index.line_of(&directive);
        let (kind, mut module, message) = match directive {
            WastDirective::AssertInvalid {
                module, message, ..
            } => ("assert_invalid", module, message),
            WastDirective::AssertMalformed {
                module, message, ..
            } => ("assert_malformed", module, message),
            _ => continue,
        };
        let said = match module.encode() {
            Err(e) => format!("text error: {}", e.message()),
            Ok(binary) => {
                match catch_unwind(AssertUnwindSafe(|| Module::from_binary(&engine, &binary))) {
                    Ok(Ok(_)) => "ACCEPTED (not rejected)".to_string(),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "PANICKED".to_string(),
                }
            }
        };
        lines.push(format!("L{line} {kind} {message:?}: {said}"));
    }
    Ok(lines)
}

/// `L<line> "<expected message>": <the trap as users read it>` for each passing `assert_trap`
/// and `assert_exhaustion` of the script at `path` (failing ones say so).
pub fn traps(path: &Path, rel: &str) -> Result<Vec<String>, String> {
    let options = runtime::wast::WastOptions {
        features: features_for_path(Path::new(rel)),
        ..Default::default()
    };
    let results = runtime::wast::run_file(path, &options)?;
    Ok(results
        .iter()
        .filter(|r| r.kind == "assert_trap" || r.kind == "assert_exhaustion")
        .map(|r| match (&r.outcome, &r.detail) {
            (runtime::wast::Outcome::Pass, Some(detail)) => {
                format!("L{} {}: {}", r.line, r.kind, detail.replace('\n', "\n    "))
            }
            (outcome, _) => format!("L{} {}: NOT AS EXPECTED: {outcome:?}", r.line, r.kind),
        })
        .collect())
}
