//! Expectations: drafts expected-failure entries from a run's failures (whole files, then
//! directive kinds, then single trials), for a person to review before committing.

use crate::spec::SpecFile;
use runtime::wast::Outcome;
use std::collections::BTreeMap;

/// Draft entries for every failing trial of `files`.
pub fn draft(files: &[(&SpecFile, &[Outcome])]) -> String {
    let mut out = String::new();
    for (file, outcomes) in files {
        let failing: Vec<usize> = (0..outcomes.len())
            .filter(|i| !outcomes[*i].is_pass())
            .collect();
        if failing.is_empty() {
            continue;
        }
        let reasons = |indices: &[usize]| common_reason(indices.iter().map(|i| &outcomes[*i]));
        if failing.len() == outcomes.len() {
            out.push_str(&format!("spec/{} # {}\n", file.rel, reasons(&failing)));
            continue;
        }
        let mut by_kind: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, (_, kind)) in file.directives.iter().enumerate() {
            by_kind.entry(kind).or_default().push(i);
        }
        for (kind, indices) in by_kind {
            let failed: Vec<usize> = indices
                .iter()
                .copied()
                .filter(|i| !outcomes[*i].is_pass())
                .collect();
            if failed.is_empty() {
                continue;
            }
            if failed.len() == indices.len() {
                out.push_str(&format!(
                    "spec/{}:{kind} # {}\n",
                    file.rel,
                    reasons(&failed)
                ));
            } else {
                for i in failed {
                    out.push_str(&format!("{} # {}\n", file.names()[i], reasons(&[i])));
                }
            }
        }
    }
    out
}

/// The most frequent summarised reason among `outcomes`.
fn common_reason<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes {
        if let Outcome::Fail(reason) = o {
            *counts.entry(summarize(reason)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(r, _)| r)
        .unwrap_or_default()
}

/// One short line saying why a directive failed.
pub fn summarize(reason: &str) -> String {
    let first = reason.lines().next().unwrap_or_default();
    let short = if let Some(i) = first.find("unsupported: ") {
        &first[i..]
    } else if let Some(i) = first.find("panicked: ") {
        &first[i..]
    } else {
        first
    };
    let mut s: String = short.chars().take(110).collect();
    if s.len() < short.len() {
        s.push_str("...");
    }
    if s.trim().is_empty() {
        "fails".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_shortened() {
        assert_eq!(summarize("x: unsupported: simd\nmore"), "unsupported: simd");
        assert_eq!(
            summarize("the runtime panicked: not yet implemented"),
            "panicked: not yet implemented"
        );
        assert!(summarize(&"y".repeat(300)).ends_with("..."));
        assert_eq!(summarize(""), "fails");
    }
}
