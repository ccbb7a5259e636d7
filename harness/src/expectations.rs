//! Expectations: a suite's committed list of known failures. Each line is
//! `PATTERN # reason`; the pattern is a trial name or a glob over its parts:
//!
//! ```text
//! spec/simd_*.wast                        # a whole file (or several)
//! spec/linking.wast:assert_unlinkable     # one directive kind within a file
//! spec/i32.wast:L123                      # every directive on one line
//! spec/i32.wast:L123:assert_return        # one trial (duplicates on a line end in #2, #3, ...)
//! ```
//!
//! Listed trials still run: one that fails is an expected failure; one that passes fails the
//! run until its entry is removed or narrowed.

use crate::glob;
use libtest_mimic::{Failed, Trial};
use std::path::Path;

/// One line of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line in the list file.
    pub line: usize,
    pub pattern: String,
    pub reason: String,
    file: String,
    line_no: Option<String>,
    kind: Option<String>,
}

/// A parsed list.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// File name shown in messages.
    pub source: String,
    pub entries: Vec<Entry>,
}

/// The parts of a trial name `<file>:L<line>:<kind>`.
fn split_trial(name: &str) -> Option<(&str, &str, &str)> {
    let mut parts = name.rsplitn(3, ':');
    let kind = parts.next()?;
    let line = parts.next()?;
    let file = parts.next()?;
    Some((file, line, kind))
}

fn is_line_part(part: &str) -> bool {
    part.strip_prefix('L')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '*'))
}

impl Entry {
    fn parse(line: usize, pattern: &str, reason: &str) -> Result<Entry, String> {
        let mut parts = pattern.split(':');
        let file = parts.next().unwrap_or_default().to_string();
        let rest: Vec<&str> = parts.collect();
        let (line_no, kind) = match rest.as_slice() {
            [] => (None, None),
            [l] if is_line_part(l) => (Some(l.to_string()), None),
            [k] => (None, Some(k.to_string())),
            [l, k] if is_line_part(l) => (Some(l.to_string()), Some(k.to_string())),
            _ => {
                return Err(format!(
                    "`{pattern}` is not FILE, FILE:KIND, FILE:L<n> or FILE:L<n>:KIND"
                ))
            }
        };
        if file.is_empty() {
            return Err(format!("`{pattern}` names no file"));
        }
        Ok(Entry {
            line,
            pattern: pattern.to_string(),
            reason: reason.to_string(),
            file,
            line_no,
            kind,
        })
    }

    /// Whether this entry covers the trial called `name`.
    pub fn matches(&self, name: &str) -> bool {
        let Some((file, line, kind)) = split_trial(name) else {
            return glob::matches(&self.pattern, name);
        };
        glob::matches(&self.file, file)
            && self.line_no.as_ref().is_none_or(|l| glob::matches(l, line))
            && self.kind.as_ref().is_none_or(|k| glob::matches(k, kind))
    }
}

impl Expectations {
    /// Parses a list; `source` names it in messages.
    pub fn parse(source: &str, text: &str) -> Result<Expectations, String> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((pattern, reason)) = line.split_once(" # ") else {
                return Err(format!(
                    "{source}:{}: `{line}` needs a reason after ` # `",
                    i + 1
                ));
            };
            let (pattern, reason) = (pattern.trim(), reason.trim());
            if reason.is_empty() {
                return Err(format!(
                    "{source}:{}: the reason after ` # ` is empty",
                    i + 1
                ));
            }
            entries.push(
                Entry::parse(i + 1, pattern, reason)
                    .map_err(|e| format!("{source}:{}: {e}", i + 1))?,
            );
        }
        Ok(Expectations {
            source: source.to_string(),
            entries,
        })
    }

    /// Reads a list file; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Expectations, String> {
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read_to_string(path) {
            Ok(text) => Expectations::parse(&source, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Expectations {
                source,
                entries: vec![],
            }),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// The first entry covering the trial `name`.
    pub fn lookup(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.matches(name))
    }

    /// Entries that cover none of `names`.
    pub fn unused<'a>(&'a self, names: &[String]) -> Vec<&'a Entry> {
        self.entries
            .iter()
            .filter(|e| !names.iter().any(|n| e.matches(n)))
            .collect()
    }

    /// A trial's verdict: listed trials must fail, others must pass.
    pub fn judge(&self, result: Result<(), String>, entry: Option<&Entry>) -> Result<(), Failed> {
        match (result, entry) {
            (Ok(()), None) | (Err(_), Some(_)) => Ok(()),
            (Err(reason), None) => Err(reason.into()),
            (Ok(()), Some(entry)) => Err(self.unexpected_pass(entry).into()),
        }
    }

    /// A trial `<suite_dir>/<list>:entries` that fails if entries cover none of `names`.
    pub fn unused_entries_trial(&self, suite_dir: &str, names: &[String]) -> Trial {
        let unused: Vec<String> = self
            .unused(names)
            .iter()
            .map(|e| format!("line {}: {}", e.line, e.pattern))
            .collect();
        let source = self.source.clone();
        Trial::test(format!("{suite_dir}/{source}:entries"), move || {
            if unused.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "entries in {source} that match no trial (remove them):\n  {}",
                    unused.join("\n  ")
                )
                .into())
            }
        })
    }

    /// The message for a listed trial that passed.
    pub fn unexpected_pass(&self, entry: &Entry) -> String {
        format!(
            "unexpected pass: this trial is listed as an expected failure by `{}` ({}:{}, \"{}\"); \
             it passes now, so remove that entry (or narrow it to the trials that still fail)",
            entry.pattern, self.source, entry.line, entry.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\
# comment
spec/simd_*.wast # no SIMD yet
spec/linking.wast:assert_unlinkable # link errors
spec/i32.wast:L12 # one line
spec/i64.wast:L7:assert_return#2 # one trial
";

    #[test]
    fn patterns_cover_files_kinds_lines_and_trials() {
        let e = Expectations::parse("x.txt", LIST).unwrap();
        let hit = |n: &str| e.lookup(n).map(|e| e.line);
        assert_eq!(hit("spec/simd_lane.wast:L3:assert_return"), Some(2));
        assert_eq!(
            hit("spec/proposals/a/simd_lane.wast:L3:assert_return"),
            None
        );
        assert_eq!(hit("spec/linking.wast:L9:assert_unlinkable"), Some(3));
        assert_eq!(hit("spec/linking.wast:L9:assert_return"), None);
        assert_eq!(hit("spec/i32.wast:L12:assert_trap"), Some(4));
        assert_eq!(hit("spec/i32.wast:L13:assert_trap"), None);
        assert_eq!(hit("spec/i64.wast:L7:assert_return#2"), Some(5));
        assert_eq!(hit("spec/i64.wast:L7:assert_return"), None);
        let names = vec!["spec/simd_lane.wast:L3:assert_return".to_string()];
        assert_eq!(e.unused(&names).len(), 3);
    }

    #[test]
    fn reasons_are_mandatory() {
        let err = Expectations::parse("x.txt", "spec/a.wast\n").unwrap_err();
        assert!(err.contains("x.txt:1") && err.contains("reason"), "{err}");
        assert!(Expectations::parse("x.txt", "spec/a.wast #  \n").is_err());
        assert!(Expectations::parse("x.txt", "spec/a.wast:a:b:c # r\n").is_err());
    }

    #[test]
    fn listed_trials_invert() {
        let list = Expectations::parse("x.txt", "spec/a.wast # known\n").unwrap();
        let entry = list.lookup("spec/a.wast:L1:module");
        assert!(list.judge(Err("x".into()), entry).is_ok());
        let err = list.judge(Ok(()), entry).unwrap_err();
        assert!(format!("{err:?}").contains("remove that entry"));
        assert!(list.judge(Ok(()), None).is_ok());
        assert!(list.judge(Err("x".into()), None).is_err());
    }
}
