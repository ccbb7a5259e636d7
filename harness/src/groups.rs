//! Reports: the hand-reviewed mapping of spec files to proposal groups (`spec-suite/groups.txt`).
//! Each line is `GLOB GROUP`; the first matching line wins; a file that no line matches is an
//! error, so new upstream files get a group on purpose.

use crate::glob;
use std::path::Path;

/// The mapping, in file order.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    rules: Vec<(String, String)>,
    /// Every group named, in first-mention order (including ones declared with `group NAME`).
    names: Vec<String>,
}

impl Groups {
    /// Parses the mapping. `group NAME` declares a group that may own no file yet.
    pub fn parse(text: &str) -> Result<Groups, String> {
        let mut groups = Groups::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or_default().trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let (glob, group) = match words.as_slice() {
                ["group", name] => (None, *name),
                [glob, group] => (Some(*glob), *group),
                _ => {
                    return Err(format!(
                        "groups.txt:{}: expected `GLOB GROUP`, got `{line}`",
                        i + 1
                    ))
                }
            };
            if !groups.names.iter().any(|n| n == group) {
                groups.names.push(group.to_string());
            }
            if let Some(glob) = glob {
                groups.rules.push((glob.to_string(), group.to_string()));
            }
        }
        Ok(groups)
    }

    pub fn load(path: &Path) -> Result<Groups, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Groups::parse(&text)
    }

    /// The group of a file (path relative to the suite's `data/`).
    pub fn group_of(&self, file: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|(g, _)| glob::matches(g, file))
            .map(|(_, group)| group.as_str())
    }

    /// All group names, in the order the mapping first mentions them.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_and_empty_groups_are_kept() {
        let g = Groups::parse(
            "# c\nsimd_memory-multi.wast multi-memory\nsimd_*.wast simd # x\ngroup empty\n",
        )
        .unwrap();
        assert_eq!(g.group_of("simd_memory-multi.wast"), Some("multi-memory"));
        assert_eq!(g.group_of("simd_lane.wast"), Some("simd"));
        assert_eq!(g.group_of("i32.wast"), None);
        assert_eq!(g.names(), ["multi-memory", "simd", "empty"]);
        assert!(Groups::parse("a b c\n").is_err());
    }

    #[test]
    fn committed_mapping_covers_the_fetched_files() {
        let root = crate::workspace_root();
        let groups = Groups::load(&root.join("spec-suite/groups.txt")).unwrap();
        for required in [
            "core",
            "simd",
            "relaxed-simd",
            "tail-call",
            "extended-const",
            "multi-memory",
            "memory64",
            "exceptions",
            "function-references",
            "gc",
            "annotations",
            "threads",
            "wide-arithmetic",
            "custom-page-sizes",
            "custom-descriptors",
        ] {
            assert!(
                groups.names().iter().any(|n| n == required),
                "group {required} missing"
            );
        }
        let data = crate::fetch::SPEC.data_dir(&root);
        if let Ok(files) = crate::spec::discover(&data) {
            let unmapped: Vec<_> = files
                .iter()
                .filter(|f| groups.group_of(f).is_none())
                .collect();
            assert!(
                unmapped.is_empty(),
                "files without a group in groups.txt: {unmapped:?}"
            );
        }
    }
}
