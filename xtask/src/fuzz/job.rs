//! `cargo xtask fuzz`: a worker's job (passed in the environment) and the cases it stands
//! for (generated modules, or saved files to replay).

use super::Target;
use fuzz::features::Features;
use fuzz::generate;
use std::path::{Path, PathBuf};

/// One worker's share: modules `first, first + stride, ...` below `end`.
#[derive(Clone, Debug)]
pub(super) struct Job {
    pub(super) seed: u64,
    pub(super) features: Vec<String>,
    pub(super) first: u64,
    pub(super) stride: u64,
    pub(super) end: u64,
    pub(super) rounds: usize,
    pub(super) target: Target,
    pub(super) out: PathBuf,
    pub(super) replay: Vec<PathBuf>,
    pub(super) save_all: bool,
    /// Only run the oracles of module `first` and write its reproducer (after a crash).
    pub(super) describe: Option<String>,
}

impl Job {
    pub(super) fn encode(&self) -> String {
        let replay: Vec<String> = self
            .replay
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        [
            self.seed.to_string(),
            self.features.join(";"),
            self.first.to_string(),
            self.stride.to_string(),
            self.end.to_string(),
            self.rounds.to_string(),
            format!("{:?}", self.target),
            self.out.display().to_string(),
            replay.join(";"),
            self.save_all.to_string(),
            self.describe.clone().unwrap_or_default(),
        ]
        .join("\n")
    }

    pub(super) fn decode(text: &str) -> Option<Job> {
        // The last field (a crash description) may itself hold newlines.
        let parts: Vec<&str> = text.splitn(11, '\n').collect();
        let list = |s: &str| -> Vec<String> {
            s.split(';')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let [seed, features, first, stride, end, rounds, target, out, replay, save_all, describe] =
            parts[..]
        else {
            return None;
        };
        Some(Job {
            seed: seed.parse().ok()?,
            features: list(features),
            first: first.parse().ok()?,
            stride: stride.parse().ok()?,
            end: end.parse().ok()?,
            rounds: rounds.parse().ok()?,
            target: if target == "Compile" {
                Target::Compile
            } else {
                Target::Differential
            },
            out: PathBuf::from(out),
            replay: list(replay).into_iter().map(PathBuf::from).collect(),
            save_all: save_all == "true",
            describe: (!describe.is_empty()).then(|| describe.to_string()),
        })
    }
}

/// The module a job's index stands for, with its feature set and a name for its files.
pub(super) struct Case {
    pub(super) wasm: Vec<u8>,
    pub(super) features: Features,
    pub(super) name: String,
    pub(super) origin: String,
}

pub(super) fn case(job: &Job, sets: &[Features], index: u64) -> Result<Case, String> {
    if let Some(path) = job.replay.get(index as usize) {
        let wasm = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let features = Features::parse(&replay_features(path))?;
        let name = path
            .file_stem()
            .map_or("case".into(), |s| s.to_string_lossy().into_owned());
        return Ok(Case {
            wasm,
            features,
            name,
            origin: format!("replayed from {}", path.display()),
        });
    }
    let features = sets[(index % sets.len() as u64) as usize].clone();
    let mut wasm = generate::generate(&features, job.seed, index)?;
    if job.target == Target::Compile {
        generate::mutate(&mut wasm, &mut generate::module_rng(!job.seed, index));
    }
    Ok(Case {
        wasm,
        name: format!("{}-s{}-m{index}", features.name.replace(',', "+"), job.seed),
        origin: format!(
            "cargo xtask fuzz --seed {} --features {} (module {index}{})",
            job.seed,
            features.name,
            if job.target == Target::Compile {
                ", --target compile"
            } else {
                ""
            }
        ),
        features,
    })
}

/// The feature set recorded in a corpus case's `.wast` (`;; features: NAME`), else `all`.
fn replay_features(wasm: &Path) -> String {
    std::fs::read_to_string(wasm.with_extension("wast"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(";; features: ").map(str::to_string))
        })
        .unwrap_or_else(|| "all".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_survive_the_environment() {
        let job = Job {
            seed: 9,
            features: vec!["wasmi".into(), "gc".into()],
            first: 3,
            stride: 2,
            end: u64::MAX,
            rounds: 4,
            target: Target::Compile,
            out: PathBuf::from("/tmp/x"),
            replay: vec![PathBuf::from("a.wasm")],
            save_all: true,
            describe: Some("crash\nwith lines".into()),
        };
        let back = Job::decode(&job.encode()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{job:?}"));
    }
}
