//! Script runner: parsing a `.wast` text into directives, and naming each directive by its
//! keyword and line (the names the harness gives its trials).

use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute};

/// Where a directive is and what it is, known without running anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectiveInfo {
    /// 1-based line of the directive's keyword.
    pub line: u32,
    /// The keyword as written (`module`, `assert_return`, ...), except that
    /// `(module definition ...)` and `(module instance ...)` are `module_definition` and
    /// `module_instance`.
    pub kind: &'static str,
}

/// A script that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line of the error.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Lists a script's top-level directives in order, without running them.
pub fn list_directives(text: &str) -> Result<Vec<DirectiveInfo>, ScriptError> {
    with_parsed(text, |wast, lines| {
        wast.directives
            .iter()
            .map(|d| DirectiveInfo {
                line: lines.line_of(d),
                kind: kind(d),
            })
            .collect()
    })
}

/// A module directive's binary, or why it does not encode.
pub type EncodedModule = Result<Vec<u8>, String>;

/// The binary of every `module` and `module definition` directive of a script, with its
/// line, in order (text modules encoded, `module quote` parsed); a module that does not
/// encode gives its error instead. Nothing runs.
pub fn module_binaries(text: &str) -> Result<Vec<(u32, EncodedModule)>, ScriptError> {
    with_parsed(text, |wast, lines| {
        let mut out = Vec::new();
        for directive in wast.directives {
            let line = lines.line_of(&directive);
            if let WastDirective::Module(mut module) | WastDirective::ModuleDefinition(mut module) =
                directive
            {
                out.push((line, module.encode().map_err(|e| e.message())));
            }
        }
        out
    })
}

/// Parses `text` as a script (folded legacy `try` forms unfolded first) and hands the
/// directives to `f`, with the lines of the text that was parsed.
pub(crate) fn with_parsed<R>(
    text: &str,
    f: impl FnOnce(Wast<'_>, &LineIndex) -> R,
) -> Result<R, ScriptError> {
    let text = &*super::unfold::unfold_legacy_try(text);
    let mut lexer = Lexer::new(text);
    // The suite's own files use characters the lexer calls confusing (in names.wast, ...).
    lexer.allow_confusing_unicode(true);
    let error = |mut e: wast::Error| {
        e.set_text(text);
        ScriptError {
            line: e.span().linecol_in(text).0 as u32 + 1,
            message: e.message(),
        }
    };
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(error)?;
    let wast = parser::parse::<Wast>(&buffer).map_err(error)?;
    Ok(f(wast, &LineIndex::new(text)))
}

/// Where each line of a script starts, to find a directive's line in logarithmic time
/// (`Span::linecol_in` scans the text from its start: per directive, that made running a
/// script quadratic in its length).
pub struct LineIndex {
    /// Byte offset of the start of every line after the first.
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        LineIndex {
            starts: text.match_indices('\n').map(|(i, _)| i + 1).collect(),
        }
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> u32 {
        self.starts.partition_point(|s| *s <= offset) as u32 + 1
    }

    /// The 1-based line of a directive's keyword.
    pub fn line_of(&self, directive: &WastDirective<'_>) -> u32 {
        self.line(directive.span().offset())
    }
}

/// The name of a directive's kind.
pub(crate) fn kind(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module_definition",
        WastDirective::ModuleInstance { .. } => "module_instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// A short description of what a directive executes, for failure messages.
pub(crate) fn describe_exec(exec: &WastExecute<'_>) -> String {
    match exec {
        WastExecute::Invoke(i) => format!("invoke \"{}\"", i.name),
        WastExecute::Get { global, .. } => format!("get \"{global}\""),
        WastExecute::Wat(_) => "module".to_string(),
    }
}

/// The module's `$name`, if it has one.
pub(crate) fn module_name(module: &QuoteWat<'_>) -> Option<String> {
    module.name().map(|id| id.name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_listed_with_lines() {
        let text = "(module $m (func (export \"f\")))\n\n(assert_return (invoke \"f\"))\n\
                    (module definition $d) (module instance $i $d)\n(register \"m\" $m)";
        let kinds: Vec<_> = list_directives(text)
            .unwrap()
            .into_iter()
            .map(|d| (d.line, d.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, "module"),
                (3, "assert_return"),
                (4, "module_definition"),
                (4, "module_instance"),
                (5, "register")
            ]
        );
    }

    #[test]
    fn the_line_index_agrees_with_the_lexer() {
        let text = "(module)\n\n  (module $a)\r\n(module $b) (module $c)\n;; x\n\n(module $d)";
        let lines = LineIndex::new(text);
        with_parsed(text, |wast, _| {
            for d in &wast.directives {
                let expected = d.span().linecol_in(text).0 as u32 + 1;
                assert_eq!(lines.line_of(d), expected, "{d:?}");
            }
        })
        .unwrap();
        assert_eq!(lines.line(0), 1);
        assert_eq!(lines.line(text.len()), 7);
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err =
            list_directives("(module)\n(assert_return (invoke \"f\") (i32.const))").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }
}
