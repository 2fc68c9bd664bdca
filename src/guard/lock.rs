//! `lock`: with a lock configured (runner config `lock.file`, written by `rounds lock`), an
//! action of a playbook whose digest is not in it (an edit that skipped review, e.g. of the
//! ConfigMap) never acts in apply mode. Plan and dry-run rounds go on and say so, so the
//! mismatch is seen before anyone applies.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::lock::LockCheck;
use crate::round::context::RoundContext;
use crate::round::mode::Mode;

pub struct LockGuard;

impl LockGuard {
    pub const EXPLAIN: &str = "With a lock configured (runner config lock.file, written by `rounds lock`), refuses in apply mode every action of a playbook whose sha256 is not in the lock, and every action when the runner config is not the locked one; plan and dry-run rounds go on with a warning in the report and the log. Nothing is sent for a refused action, and an apply round that refused one exits 3, so the Job fails; a lock that cannot be read stops the round (exit 1).";

    pub const SETTINGS: &[Setting] = &[Setting::config("lock.file")];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
mode: apply
# Written by `rounds lock playbooks/ --config runner.yaml`; mount it with the playbooks.
lock:
  file: /etc/rounds/playbooks/playbooks.lock
"#;
}

impl GuardCheck for LockGuard {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        decide(ctx.config.lock.as_ref(), input.playbook.name(), ctx.mode)
    }
}

fn decide(lock: Option<&LockCheck>, playbook: &str, mode: Mode) -> Check {
    match lock.and_then(|l| l.refusal(playbook)) {
        None => Check::Pass,
        Some(why) if mode == Mode::Apply => Check::Block(why),
        Some(why) => Check::Unchecked(format!("{why}; apply would refuse it")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::check::Unlocked;

    fn unlocked(name: &str) -> LockCheck {
        LockCheck {
            lock_file: "playbooks.lock".into(),
            unlocked: vec![Unlocked {
                name: name.into(),
                file: "playbooks/oom.yaml".into(),
                digest: format!("sha256:{}", "ab".repeat(32)),
            }],
            config: None,
        }
    }

    #[test]
    fn refuses_in_apply_and_warns_otherwise() {
        let why = "playbook oom (playbooks/oom.yaml, sha256:abababababab) is not in the lock playbooks.lock: it is not the reviewed version";
        let lock = unlocked("oom");
        let warned = Check::Unchecked(format!("{why}; apply would refuse it"));
        assert_eq!(
            decide(Some(&lock), "oom", Mode::Apply),
            Check::Block(why.into())
        );
        assert_eq!(decide(Some(&lock), "oom", Mode::DryRun), warned);
        assert_eq!(decide(Some(&lock), "oom", Mode::Plan), warned);
        assert_eq!(
            decide(Some(&lock), "other", Mode::Apply),
            Check::Pass,
            "only the unlocked playbook is refused"
        );
        assert_eq!(decide(None, "oom", Mode::Apply), Check::Pass, "no lock");
    }

    #[test]
    fn another_runner_config_refuses_every_playbook() {
        let lock = LockCheck {
            lock_file: "playbooks.lock".into(),
            unlocked: Vec::new(),
            config: Some("the runner config (sha256:dd) is not the one in the lock playbooks.lock (sha256:cc)".into()),
        };
        assert!(matches!(
            decide(Some(&lock), "any", Mode::Apply),
            Check::Block(_)
        ));
    }
}
