//! The lock as a round applies it: which loaded playbooks (and whether the runner config) are
//! the ones that were locked.

use super::Lock;
use super::verify::short;
use crate::playbook::Loaded;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockCheck {
    pub lock_file: String,
    /// Playbooks whose digest is not in the lock: (name, digest).
    pub unlocked: Vec<(String, String)>,
    /// Why the runner config is not the locked one, when it is not.
    pub config: Option<String>,
}

impl LockCheck {
    pub fn new(
        lock: &Lock,
        lock_file: &str,
        playbooks: &[Loaded],
        config_digest: Option<&str>,
    ) -> Self {
        let unlocked = playbooks
            .iter()
            .filter(|p| !lock.admits(&p.digest))
            .map(|p| (p.name().to_owned(), p.digest.clone()))
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
            .find(|(name, _)| name == playbook)
            .map(|(name, digest)| {
                format!(
                    "playbook {name} ({}) is not in the lock {}: it is not the reviewed version",
                    short(digest),
                    self.lock_file
                )
            })
    }

    pub fn is_clean(&self) -> bool {
        self.unlocked.is_empty() && self.config.is_none()
    }

    /// One sentence per problem, for the report's notes and the log.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self.config.iter().cloned().collect();
        out.extend(self.unlocked.iter().map(|(name, digest)| {
            format!(
                "playbook {name} ({}) is not in the lock {}",
                short(digest),
                self.lock_file
            )
        }));
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
        assert!(
            why.starts_with("playbook oom (sha256:")
                && why.ends_with(
                    ") is not in the lock playbooks.lock: it is not the reviewed version"
                ),
            "{why}"
        );

        let check = LockCheck::new(&lock, "playbooks.lock", &[reviewed], Some("sha256:dd"));
        assert_eq!(
            check.refusal("oom").as_deref(),
            Some(
                "the runner config (sha256:dd) is not the one in the lock playbooks.lock (sha256:cc)"
            )
        );
    }
}
