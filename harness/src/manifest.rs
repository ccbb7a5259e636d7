//! Fetch: a suite's pinned `manifest.json` (upstream repository, commit, paths, licence, and
//! the file count and checksum of the fetched data).

use serde::Deserialize;
use std::path::Path;

/// Which upstream files go where.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PathMap {
    /// Folder in the upstream repository (`""` = its root).
    pub from: String,
    /// Folder under `data/` (`""` = `data/` itself).
    pub to: String,
    /// Globs, relative to `from`, of the files to take.
    pub include: Vec<String>,
}

/// A suite's manifest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Manifest {
    pub suite: String,
    pub repository: String,
    #[serde(default)]
    pub branch: Option<String>,
    pub commit: String,
    pub license: String,
    /// Name of the suite's folder in a mirror (`<mirror>/<name>/`).
    pub mirror: String,
    /// The folder of `../shared/` that holds the suite's mirror folder (`"shared"`; default
    /// `suites`, the benchmarks are in `bench`).
    #[serde(default = "default_shared")]
    pub shared: String,
    pub paths: Vec<PathMap>,
    /// Whether `.debug_*` custom sections are removed from `.wasm` files taken from upstream.
    #[serde(default)]
    pub strip_debug_sections: bool,
    /// Number of files in `data/`.
    pub files: usize,
    /// [`crate::hash::tree_checksum`] of `data/`.
    pub checksum: String,
}

impl Manifest {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Manifest::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Manifest, String> {
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| format!("not a valid JSON manifest: {e}"))?;
        let commit = &manifest.commit;
        if commit.len() != 40 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "`commit` must be a full 40-digit hash, not `{commit}`"
            ));
        }
        Ok(manifest)
    }
}

fn default_shared() -> String {
    "suites".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_manifests_parse() {
        let root = crate::workspace_root();
        for suite in crate::fetch::SUITES {
            let m = Manifest::load(&root.join(suite.dir).join("manifest.json")).unwrap();
            assert_eq!(m.suite, suite.name);
            assert!(m.files > 0 && m.checksum.starts_with("fnv1a64:"));
        }
    }

    #[test]
    fn bad_manifests_are_explained() {
        assert!(Manifest::parse("{").unwrap_err().contains("JSON"));
        let err = Manifest::parse(r#"{"suite":"x","commit":"abc","paths":[]}"#).unwrap_err();
        assert!(err.contains("missing field `repository`"), "{err}");
        let full = |commit: &str| {
            format!(
                r#"{{"suite": "x", "repository": "r", "commit": "{commit}", "license": "l",
                    "mirror": "x", "paths": [{{"from": "", "to": "", "include": ["*"]}}],
                    "files": 1, "checksum": "fnv1a64:0"}}"#
            )
        };
        let err = Manifest::parse(&full("abc")).unwrap_err();
        assert!(err.contains("40-digit"), "{err}");
        let ok = Manifest::parse(&full(&"a".repeat(40))).unwrap();
        assert_eq!(
            (ok.shared.as_str(), ok.branch, ok.strip_debug_sections),
            ("suites", None, false)
        );
    }
}
