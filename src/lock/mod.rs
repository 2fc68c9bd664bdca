//! The lock: `playbooks.lock` records the sha256 of each reviewed playbook's canonical content
//! and of the runner config, so the runner can refuse to act on anything that was not approved
//! (an out-of-band edit of the ConfigMap) and CI can tell which files changed without a new
//! lock.
//!
//! Digests are those of [`crate::playbook::digest`]: the document's canonical JSON, so comments
//! and formatting do not change them and any change of meaning does. Files are named relative to
//! the lock's directory, so the same lock verifies in a checkout, in CI and in a base/head pair.

pub mod check;
pub mod config;
pub mod verify;

use crate::playbook::document::Source;
use crate::playbook::{self, Diagnostic};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

pub use check::LockCheck;

/// The default lock file name, next to the playbooks' repository root.
pub const DEFAULT_FILE: &str = "playbooks.lock";

const HEADER: &str = "\
# Written by `rounds lock`: the sha256 of each playbook's canonical content (comments and
# formatting do not count) and of the runner config. Commit it with the playbooks; a runner
# with a lock refuses to apply any playbook whose digest is not here. Do not edit by hand:
# run `rounds lock` again and review the change.
";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "PlaybookLock")]
pub struct Lock {
    pub api_version: LockApiVersion,
    pub kind: LockKind,
    /// The rounds version that wrote the lock.
    pub rounds_version: String,
    /// The playbook paths `rounds lock` was given, relative to the lock's directory; `rounds lock`
    /// and `rounds verify-lock` without paths use these.
    pub paths: Vec<String>,
    /// The runner config, when one was locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<LockedFile>,
    /// Every playbook, sorted by file and name.
    pub playbooks: Vec<LockedPlaybook>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LockApiVersion {
    #[serde(rename = "rounds.dev/v1alpha1")]
    V1alpha1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LockKind {
    PlaybookLock,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedFile {
    pub file: String,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockedPlaybook {
    pub file: String,
    pub name: String,
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{} is not a valid lock ({} error(s))", .file, .diagnostics.len())]
    Invalid {
        file: String,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("cannot write the lock {file}: {error}")]
    Write { file: String, error: std::io::Error },
    #[error("{0}")]
    Path(String),
}

impl Lock {
    pub fn schema() -> serde_json::Value {
        schemars::generate::SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<Lock>()
            .to_value()
    }

    /// Reads and checks a lock file; every problem is reported with its place.
    pub fn read(path: &Path) -> Result<Self, LockError> {
        let invalid = |diagnostics| LockError::Invalid {
            file: path.display().to_string(),
            diagnostics,
        };
        let source = Source::read(path).map_err(|d| invalid(vec![d]))?;
        let docs = source.documents().map_err(|d| invalid(vec![d]))?;
        let [doc] = docs.as_slice() else {
            return Err(invalid(vec![Diagnostic::new(
                &source.file,
                &source.text,
                Default::default(),
                "(document)".into(),
                format!("a lock is one YAML document, found {}", docs.len()),
            )]));
        };
        source.typed(&Self::schema(), doc).map_err(invalid)
    }

    /// The lock as written to disk: a header that says what it is, then YAML.
    pub fn render(&self) -> String {
        let body = serde_saphyr::to_string(self).unwrap_or_default();
        format!("{HEADER}{body}")
    }

    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        // Write beside and rename, so a reader never sees half a lock.
        let tmp = path.with_extension("lock.tmp");
        let fail = |error| LockError::Write {
            file: path.display().to_string(),
            error,
        };
        std::fs::write(&tmp, self.render()).map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// Whether a playbook with this digest was locked.
    pub fn admits(&self, digest: &str) -> bool {
        self.playbooks.iter().any(|p| p.digest == digest)
    }
}

/// What one playbook file holds, as the lock records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// Relative to the lock's directory.
    pub file: String,
    pub playbooks: Vec<(String, String)>,
}

/// Builds a lock from validated playbooks and, optionally, the runner config.
pub fn build(
    lock_path: &Path,
    paths: &[PathBuf],
    playbooks: &[playbook::Loaded],
    config: Option<(&Path, String)>,
) -> Result<Lock, LockError> {
    let base = lock_dir(lock_path)?;
    let mut locked: Vec<LockedPlaybook> = playbooks
        .iter()
        .map(|p| {
            Ok(LockedPlaybook {
                file: relative(&base, Path::new(&p.file))?,
                name: p.name().to_owned(),
                digest: p.digest.clone(),
            })
        })
        .collect::<Result<_, LockError>>()?;
    locked.sort();
    let config = match config {
        Some((file, digest)) => Some(LockedFile {
            file: relative(&base, file)?,
            digest,
        }),
        None => None,
    };
    Ok(Lock {
        api_version: LockApiVersion::V1alpha1,
        kind: LockKind::PlaybookLock,
        rounds_version: env!("CARGO_PKG_VERSION").to_owned(),
        paths: paths
            .iter()
            .map(|p| relative(&base, p))
            .collect::<Result<_, _>>()?,
        config,
        playbooks: locked,
    })
}

/// The directory a lock's relative paths start from.
pub fn lock_dir(lock_path: &Path) -> Result<PathBuf, LockError> {
    let dir = match lock_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::path::absolute(&dir).map_err(|e| {
        LockError::Path(format!(
            "cannot resolve the lock's directory {}: {e}",
            dir.display()
        ))
    })
}

/// `path` relative to `base` (both made absolute, `.` and `..` resolved by name), written
/// with `/` so a lock made on one machine verifies on another.
pub fn relative(base: &Path, path: &Path) -> Result<String, LockError> {
    let abs = std::path::absolute(path)
        .map_err(|e| LockError::Path(format!("cannot resolve the path {}: {e}", path.display())))?;
    let (base, abs) = (normalize(base), normalize(&abs));
    let common = base
        .iter()
        .zip(abs.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_owned(); base.len() - common];
    parts.extend(abs[common..].iter().cloned());
    if parts.is_empty() {
        return Ok(".".into());
    }
    Ok(parts.join("/"))
}

fn normalize(p: &Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n.to_string_lossy().into_owned()),
        }
    }
    out
}

/// A path of the lock (relative to its directory) as a path to open.
pub fn resolve(base: &Path, file: &str) -> PathBuf {
    base.join(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_lock() {
        let base = Path::new("/repo/deploy");
        assert_eq!(
            relative(base, Path::new("/repo/deploy/playbooks/a.yaml")).ok(),
            Some("playbooks/a.yaml".into())
        );
        assert_eq!(
            relative(base, Path::new("/repo/playbooks/./a.yaml")).ok(),
            Some("../playbooks/a.yaml".into())
        );
        assert_eq!(relative(base, base).ok(), Some(".".into()));
    }

    #[test]
    fn a_lock_reads_back_what_it_wrote() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = Lock {
            api_version: LockApiVersion::V1alpha1,
            kind: LockKind::PlaybookLock,
            rounds_version: "0.1.0".into(),
            paths: vec!["playbooks".into()],
            config: Some(LockedFile {
                file: "config.yaml".into(),
                digest: "sha256:aa".into(),
            }),
            playbooks: vec![LockedPlaybook {
                file: "playbooks/a.yaml".into(),
                name: "a".into(),
                digest: "sha256:bb".into(),
            }],
        };
        let path = dir.path().join(DEFAULT_FILE);
        lock.write(&path).expect("write");
        assert_eq!(Lock::read(&path).expect("read"), lock);
        assert!(lock.admits("sha256:bb") && !lock.admits("sha256:aa"));
    }

    #[test]
    fn a_broken_lock_names_the_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(DEFAULT_FILE);
        std::fs::write(
            &path,
            "apiVersion: rounds.dev/v1alpha1\nkind: PlaybookLock\nroundsVersion: 0.1.0\npaths: []\nplaybooks:\n- {file: a.yaml, name: a}\n",
        )
        .expect("write");
        let Err(LockError::Invalid { diagnostics, .. }) = Lock::read(&path) else {
            panic!("accepted a playbook without a digest");
        };
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, 6);
        assert_eq!(diagnostics[0].message, "missing required field `digest`");
    }
}
