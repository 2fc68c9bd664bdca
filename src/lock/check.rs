//! The lock as a round applies it: which loaded playbooks (and whether the runner config) are
//! the ones that were locked. Built once with the round's configuration; the `lock` guard
//! (`crate::guard`) asks it about each action.

use super::config::LockConfig;
use super::verify::{config_digest, short};
use super::{Lock, LockError};
use crate::playbook::Loaded;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockCheck {
    pub lock_file: String,
    /// Playbooks whose digest is not in the lock.
    pub unlocked: Vec<Unlocked>,
    /// Why the runner config is not the locked one, when it is not.
    pub config: Option<String>,
}

/// A playbook that is not the reviewed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocked {
    pub name: String,
    /// The file it was loaded from.
    pub file: String,
    pub digest: String,
}

impl LockCheck {
    /// Reads the lock the runner config names and compares this round's playbooks and runner
    /// config (`config`, the file the round was given, if any) with it.
    pub fn for_round(
        lock: &LockConfig,
        playbooks: &[Loaded],
        config: Option<&Path>,
    ) -> Result<Self, LockError> {
        let locked = Lock::read(&lock.file)?;
        let digest = config
            .map(|c| {
                config_digest(c).map_err(|d| LockError::Invalid {
                    file: c.display().to_string(),
                    diagnostics: vec![d],
                })
            })
            .transpose()?;
        Ok(Self::new(
            &locked,
            &lock.file.display().to_string(),
            playbooks,
            digest.as_deref(),
        ))
    }

    pub fn new(
        lock: &Lock,
        lock_file: &str,
        playbooks: &[Loaded],
        config_digest: Option<&str>,
    ) -> Self {
        let unlocked = playbooks
            .iter()
            .filter(|p| !lock.admits(&p.digest))
            .map(|p| Unlocked {
                name: p.name().to_owned(),
                file: p.file.clone(),
                digest: p.digest.clone(),
            })
            .collect();
        let config = match (&lock.config, config_digest) {
            (Some(l), Some(d)) if l.digest != d => Some(format!(
                "the runner config ({}) is not the one in the lock {lock_file} ({})",
                short(d),
                short(&l.digest)
            )),
            (Some(l), None) => Some(format!(
                "the lock {lock_file} pins a runner config ({}), but this round runs without one",
                short(&l.digest)
            )),
            _ => None,
        };
        Self {
            lock_file: lock_file.to_owned(),
            unlocked,
            config,
        }
    }

    /// Why a playbook must not act, if it must not.
    pub fn refusal(&self, playbook: &str) -> Option<String> {
        if let Some(c) = &self.config {
            return Some(c.clone());
        }
        self.unlocked
            .iter()
            .find(|u| u.name == playbook)
            .map(|u| format!("{}: it is not the reviewed version", self.describe(u)))
    }

    fn describe(&self, u: &Unlocked) -> String {
        format!(
            "playbook {} ({}, {}) is not in the lock {}",
            u.name,
            u.file,
            short(&u.digest),
            self.lock_file
        )
    }

    pub fn is_clean(&self) -> bool {
        self.unlocked.is_empty() && self.config.is_none()
    }

    /// One sentence per problem, for the report's notes and the log.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self.config.iter().cloned().collect();
        out.extend(self.unlocked.iter().map(|u| self.describe(u)));
        out
    }

    /// The problems with what the round does about them: an apply refuses to act, a plan or a
    /// dry run goes on.
    pub fn warnings(&self, apply: bool) -> Vec<String> {
        let (config, playbook) = if apply {
            ("every action is refused", "its actions are refused")
        } else {
            (
                "this round goes on, but apply would refuse every action",
                "this round goes on, but apply would refuse its actions",
            )
        };
        let mut out: Vec<String> = self
            .config
            .iter()
            .map(|c| format!("{c}: {config}"))
            .collect();
        out.extend(
            self.unlocked
                .iter()
                .map(|u| format!("{}: {playbook}", self.describe(u))),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{LockApiVersion, LockKind, LockedFile, LockedPlaybook};

    fn loaded(dir: &std::path::Path, name: &str, within: &str) -> Loaded {
        let text = format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {{name: {name}}}\nspec:\n  detect: {{oomKilled: {{within: {within}}}}}\n"
        );
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, text).expect("write");
        crate::playbook::load(&[file]).expect("valid").remove(0)
    }

    #[test]
    fn only_locked_digests_may_act() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reviewed = loaded(dir.path(), "oom", "6h");
        let lock = Lock {
            api_version: LockApiVersion::V1alpha1,
            kind: LockKind::PlaybookLock,
            rounds_version: "0.1.0".into(),
            paths: vec![],
            config: Some(LockedFile {
                file: "config.yaml".into(),
                digest: "sha256:cc".into(),
            }),
            playbooks: vec![LockedPlaybook {
                file: "oom.yaml".into(),
                name: "oom".into(),
                digest: reviewed.digest.clone(),
            }],
        };
        let check = LockCheck::new(
            &lock,
            "playbooks.lock",
            std::slice::from_ref(&reviewed),
            Some("sha256:cc"),
        );
        assert!(check.is_clean() && check.refusal("oom").is_none());

        let edited = loaded(dir.path(), "oom", "1h");
        let check = LockCheck::new(
            &lock,
            "playbooks.lock",
            std::slice::from_ref(&edited),
            Some("sha256:cc"),
        );
        let why = check.refusal("oom").expect("refused");
        let file = format!("{}/oom.yaml", dir.path().display());
        assert!(
            why.starts_with(&format!("playbook oom ({file}, sha256:"))
                && why.ends_with(
                    ") is not in the lock playbooks.lock: it is not the reviewed version"
                ),
            "{why}"
        );
        assert_eq!(check.problems().len(), 1);

        let check = LockCheck::new(&lock, "playbooks.lock", &[reviewed], Some("sha256:dd"));
        assert_eq!(
            check.refusal("oom").as_deref(),
            Some(
                "the runner config (sha256:dd) is not the one in the lock playbooks.lock (sha256:cc)"
            )
        );
    }
}
