//! Reports: per-group and per-kind pass/fail counts of a suite run, as a table and as the
//! JSON written to `target/conformance/<suite>.json`.

use crate::groups::Groups;
use runtime::wast::Outcome;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Counts of one row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub files: usize,
    pub directives: usize,
    pub passed: usize,
    pub failed: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        self.directives += 1;
        if outcome.is_pass() {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

/// One file's results: its path (relative to the suite root) and `(kind, outcome)` per directive.
pub struct FileResults<'a> {
    pub rel: &'a str,
    pub directives: Vec<(&'a str, &'a Outcome)>,
}

/// A suite's report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub suite: String,
    /// In the order the group mapping names them (groups with no file included).
    pub groups: Vec<(String, Counts)>,
    /// Sorted by kind.
    pub kinds: BTreeMap<String, Counts>,
    pub total: Counts,
}

impl Report {
    /// Counts `files`; fails if a file has no group.
    pub fn build(
        suite: &str,
        groups: &Groups,
        files: &[FileResults<'_>],
    ) -> Result<Report, String> {
        let mut by_group: Vec<(String, Counts)> = groups
            .names()
            .iter()
            .map(|n| (n.clone(), Counts::default()))
            .collect();
        let mut report = Report {
            suite: suite.to_string(),
            ..Report::default()
        };
        let mut unmapped = Vec::new();
        for file in files {
            let Some(group) = groups.group_of(file.rel) else {
                unmapped.push(file.rel.to_string());
                continue;
            };
            let Some((_, counts)) = by_group.iter_mut().find(|(n, _)| n == group) else {
                unmapped.push(file.rel.to_string());
                continue;
            };
            counts.files += 1;
            report.total.files += 1;
            for (kind, outcome) in &file.directives {
                counts.add(outcome);
                report.total.add(outcome);
                report
                    .kinds
                    .entry(kind.to_string())
                    .or_default()
                    .add(outcome);
            }
        }
        if !unmapped.is_empty() {
            return Err(format!(
                "files with no group in groups.txt: {}",
                unmapped.join(", ")
            ));
        }
        report.groups = by_group;
        Ok(report)
    }

    /// The report as JSON:
    /// `{"suite", "groups": {name: counts}, "kinds": {kind: counts without files}, "total"}`,
    /// groups in the mapping's order.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            suite: &'a str,
            #[serde(serialize_with = "in_order")]
            groups: &'a [(String, Counts)],
            kinds: BTreeMap<&'a str, KindCounts>,
            total: &'a Counts,
        }
        /// A kind's counts: files are not counted per kind.
        #[derive(serde::Serialize)]
        struct KindCounts {
            directives: usize,
            passed: usize,
            failed: usize,
        }
        fn in_order<S: serde::Serializer>(
            groups: &&[(String, Counts)],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_map(groups.iter().map(|(name, counts)| (name, counts)))
        }
        let json = Json {
            suite: &self.suite,
            groups: &self.groups,
            kinds: self
                .kinds
                .iter()
                .map(|(k, c)| {
                    let counts = KindCounts {
                        directives: c.directives,
                        passed: c.passed,
                        failed: c.failed,
                    };
                    (k.as_str(), counts)
                })
                .collect(),
            total: &self.total,
        };
        let mut text = serde_json::to_string_pretty(&json).expect("a report serialises");
        text.push('\n');
        text
    }

    /// The report as two text tables (groups, then kinds).
    pub fn table(&self) -> String {
        let mut out = String::new();
        let pct = |c: &Counts| {
            if c.directives == 0 {
                "-".to_string()
            } else {
                format!("{:.1}%", 100.0 * c.passed as f64 / c.directives as f64)
            }
        };
        let _ = writeln!(
            out,
            "{:<22} {:>6} {:>10} {:>9} {:>9} {:>8}",
            "group", "files", "directives", "passed", "failed", "pass"
        );
        for (name, c) in self
            .groups
            .iter()
            .chain(std::iter::once(&("total".to_string(), self.total)))
        {
            let _ = writeln!(
                out,
                "{:<22} {:>6} {:>10} {:>9} {:>9} {:>8}",
                name,
                c.files,
                c.directives,
                c.passed,
                c.failed,
                pct(c)
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<29} {:>10} {:>9} {:>9} {:>8}",
            "directive kind", "directives", "passed", "failed", "pass"
        );
        for (kind, c) in &self.kinds {
            let _ = writeln!(
                out,
                "{:<29} {:>10} {:>9} {:>9} {:>8}",
                kind,
                c.directives,
                c.passed,
                c.failed,
                pct(c)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_groups_and_kinds() {
        let groups = Groups::parse("simd_*.wast simd\ngroup empty\n*.wast core\n").unwrap();
        let (pass, fail) = (Outcome::Pass, Outcome::Fail("x".into()));
        let files = [
            FileResults {
                rel: "simd_a.wast",
                directives: vec![("module", &pass), ("assert_return", &fail)],
            },
            FileResults {
                rel: "i32.wast",
                directives: vec![("assert_return", &pass)],
            },
        ];
        let report = Report::build("spec", &groups, &files).unwrap();
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["suite"], "spec");
        assert_eq!(json["groups"]["simd"]["files"], 1);
        assert_eq!(json["groups"]["simd"]["failed"], 1);
        assert_eq!(json["groups"]["empty"]["directives"], 0);
        assert_eq!(json["kinds"]["assert_return"]["directives"], 2);
        assert!(json["kinds"]["assert_return"].get("files").is_none());
        assert_eq!(json["total"]["passed"], 2);
        assert!(report.table().contains("total"));
        let only_simd = Groups::parse("simd_*.wast simd\n").unwrap();
        assert!(Report::build("spec", &only_simd, &files)
            .unwrap_err()
            .contains("i32.wast"));
    }
}
