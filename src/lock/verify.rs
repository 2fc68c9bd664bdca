//! `rounds verify-lock`: compares the lock with what the files hold now and names every file
//! that differs, is missing or is new.
//!
//! Only YAML is parsed here: the lock is about integrity (is this what was approved?), and
//! `rounds validate` is about meaning. A file whose YAML cannot be read is an error.

use super::{Lock, LockError, lock_dir, relative, resolve};
use crate::playbook::document::Source;
use crate::playbook::{self, Diagnostic};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Differs,
    Missing,
    New,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Differs => "differs",
            Self::Missing => "missing",
            Self::New => "new",
        }
    }
}

/// One file that does not match the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Relative to the lock's directory.
    pub file: String,
    pub status: Status,
    /// What differs, one sentence each.
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub lock: String,
    pub matches: bool,
    /// Playbooks and files that were compared.
    pub playbooks: usize,
    pub files: usize,
    pub config: Option<String>,
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{} error(s) reading the playbooks", .0.len())]
    Read(Vec<Diagnostic>),
}

/// Per file (relative to the lock's directory), the playbooks it holds: name → digest.
type Files = BTreeMap<String, BTreeMap<String, String>>;

/// What the files under `paths` hold now.
pub fn current(base: &Path, paths: &[PathBuf]) -> Result<Files, VerifyError> {
    let mut files = Files::new();
    let mut problems = Vec::new();
    for path in paths {
        let listed = match playbook::playbook_files(path) {
            Ok(f) => f,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        for file in listed {
            let docs = Source::read(&file).and_then(|s| s.documents());
            let docs = match docs {
                Ok(d) => d,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            let name = relative(base, &file)?;
            let entry = files.entry(name).or_default();
            for doc in docs {
                let kind = doc.get("kind").map(|k| k.to_json());
                if kind.as_ref().and_then(|k| k.as_str()) != Some("Playbook") {
                    continue;
                }
                let pb_name = doc
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(|n| n.to_json().as_str().map(str::to_owned))
                    .unwrap_or_else(|| "(unnamed)".into());
                entry.insert(pb_name, playbook::digest(&doc));
            }
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(VerifyError::Read(problems))
    }
}

/// The digest of a runner config file (one document).
pub fn config_digest(path: &Path) -> Result<String, Diagnostic> {
    let source = Source::read(path)?;
    let docs = source.documents()?;
    match docs.as_slice() {
        [doc] => Ok(playbook::digest(doc)),
        _ => Err(Diagnostic::new(
            &source.file,
            &source.text,
            Default::default(),
            "(document)".into(),
            format!("a runner config is one YAML document, found {}", docs.len()),
        )),
    }
}

/// `sha256:` and the first 12 hex digits, for messages.
pub fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// Compares the lock at `lock_path` with the files under `paths` (default: the lock's own) and
/// the runner config `config` (default: the locked one).
pub fn verify(
    lock_path: &Path,
    paths: &[PathBuf],
    config: Option<&Path>,
) -> Result<Verification, VerifyError> {
    let lock = Lock::read(lock_path)?;
    let base = lock_dir(lock_path)?;
    let paths: Vec<PathBuf> = if paths.is_empty() {
        lock.paths.iter().map(|p| resolve(&base, p)).collect()
    } else {
        paths.to_vec()
    };
    let mut notes = Vec::new();
    if lock.rounds_version != env!("CARGO_PKG_VERSION") {
        notes.push(format!(
            "the lock was written by rounds {}; this is rounds {}",
            lock.rounds_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    // Missing paths are not an error of their own: their files are reported as missing.
    let present: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
    let now = current(&base, &present)?;
    let mut locked = Files::new();
    for p in &lock.playbooks {
        locked
            .entry(p.file.clone())
            .or_default()
            .insert(p.name.clone(), p.digest.clone());
    }
    let mut changes = Vec::new();
    let all: BTreeSet<&String> = locked.keys().chain(now.keys()).collect();
    for file in all {
        match (locked.get(file), now.get(file)) {
            (Some(l), None) => changes.push(Change {
                file: file.clone(),
                status: Status::Missing,
                details: l
                    .keys()
                    .map(|n| format!("playbook {n} is in the lock, the file is gone"))
                    .collect(),
            }),
            (None, Some(n)) => changes.push(Change {
                file: file.clone(),
                status: Status::New,
                details: n
                    .iter()
                    .map(|(name, d)| format!("playbook {name} ({}) is not in the lock", short(d)))
                    .collect(),
            }),
            (Some(l), Some(n)) if l != n => changes.push(Change {
                file: file.clone(),
                status: Status::Differs,
                details: differences(l, n),
            }),
            _ => {}
        }
    }
    let config_file = match (config, &lock.config) {
        (Some(c), _) => Some(c.to_owned()),
        (None, Some(l)) => Some(resolve(&base, &l.file)),
        (None, None) => None,
    };
    let mut config_name = None;
    if let Some(file) = &config_file {
        let name = relative(&base, file)?;
        config_name = Some(name.clone());
        let digest = if file.exists() {
            Some(config_digest(file).map_err(|d| VerifyError::Read(vec![d]))?)
        } else {
            None
        };
        let change = match (&lock.config, digest) {
            (Some(l), None) => Some((
                Status::Missing,
                format!(
                    "the runner config {} is in the lock, the file is gone",
                    l.file
                ),
            )),
            (None, Some(d)) => Some((
                Status::New,
                format!("the runner config ({}) is not in the lock", short(&d)),
            )),
            (Some(l), Some(d)) if l.digest != d => Some((
                Status::Differs,
                format!(
                    "the runner config is {} now, {} in the lock",
                    short(&d),
                    short(&l.digest)
                ),
            )),
            _ => None,
        };
        if let Some((status, detail)) = change {
            changes.push(Change {
                file: name,
                status,
                details: vec![detail],
            });
        }
    }
    Ok(Verification {
        lock: lock_path.display().to_string(),
        matches: changes.is_empty(),
        playbooks: now.values().map(BTreeMap::len).sum(),
        files: now.len(),
        config: config_name,
        changes,
        notes,
    })
}

fn differences(locked: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    let names: BTreeSet<&String> = locked.keys().chain(now.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (locked.get(name), now.get(name)) {
            (Some(l), Some(n)) if l != n => Some(format!(
                "playbook {name} is {} now, {} in the lock",
                short(n),
                short(l)
            )),
            (Some(_), None) => Some(format!(
                "playbook {name} is in the lock, no longer in the file"
            )),
            (None, Some(n)) => Some(format!("playbook {name} ({}) is not in the lock", short(n))),
            _ => None,
        })
        .collect()
}
