//! Fetch: a suite's pinned `manifest.json` (upstream repository, commit, paths, licence, and
//! the file count and checksum of the fetched data).

use serde_json::Value;
use std::path::Path;

/// Which upstream files go where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMap {
    /// Folder in the upstream repository (`""` = its root).
    pub from: String,
    /// Folder under `data/` (`""` = `data/` itself).
    pub to: String,
    /// Globs, relative to `from`, of the files to take.
    pub include: Vec<String>,
}

/// A suite's manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub suite: String,
    pub repository: String,
    pub branch: Option<String>,
    pub commit: String,
    pub license: String,
    /// Name of the suite's folder in a mirror (`<mirror>/<name>/`).
    pub mirror: String,
    /// The folder of `../shared/` that holds the suite's mirror folder (`"shared"`; default
    /// `suites`, the benchmarks are in `bench`).
    pub shared: String,
    pub paths: Vec<PathMap>,
    /// Whether `.debug_*` custom sections are removed from `.wasm` files taken from upstream.
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
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let string = |key: &str| -> Result<String, String> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("missing string field `{key}`"))
        };
        let paths = v
            .get("paths")
            .and_then(Value::as_array)
            .ok_or("missing array field `paths`")?
            .iter()
            .map(parse_path_map)
            .collect::<Result<Vec<_>, _>>()?;
        let commit = string("commit")?;
        if commit.len() != 40 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "`commit` must be a full 40-digit hash, not `{commit}`"
            ));
        }
        Ok(Manifest {
            suite: string("suite")?,
            repository: string("repository")?,
            branch: v.get("branch").and_then(Value::as_str).map(str::to_string),
            commit,
            license: string("license")?,
            mirror: string("mirror")?,
            shared: v
                .get("shared")
                .and_then(Value::as_str)
                .unwrap_or("suites")
                .to_string(),
            paths,
            strip_debug_sections: v
                .get("strip_debug_sections")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            files: v
                .get("files")
                .and_then(Value::as_u64)
                .ok_or("missing number field `files`")? as usize,
            checksum: string("checksum")?,
        })
    }
}

fn parse_path_map(v: &Value) -> Result<PathMap, String> {
    let string = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let include = v
        .get("include")
        .and_then(Value::as_array)
        .ok_or("each `paths` entry needs an `include` array")?
        .iter()
        .map(|g| {
            g.as_str()
                .map(str::to_string)
                .ok_or("`include` holds strings")
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PathMap {
        from: string("from").ok_or("each `paths` entry needs `from`")?,
        to: string("to").ok_or("each `paths` entry needs `to`")?,
        include,
    })
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
        assert!(err.contains("commit"), "{err}");
    }
}
