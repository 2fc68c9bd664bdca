//! `mode`: plan and dry-run rounds hold every write back; apply lets it through.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::round::context::RoundContext;
use crate::round::mode::Mode;

pub struct ModeGuard;

impl ModeGuard {
    pub const EXPLAIN: &str = "Holds every write back unless the round applies: plan rounds send nothing; dry-run rounds (the default) send every write with dryRun=All, so the API server checks it without a change; only apply rounds (rounds run --apply, or mode: apply in the runner config) write, and --dry-run (a manual run) wins over both. The guards after it are still checked, so a plan or dry-run shows what apply would do.";

    pub const SETTINGS: &[Setting] = &[Setting::config("mode")];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
# dryRun (the default), apply or plan; `rounds run --apply` applies, `--dry-run` never does.
mode: apply
"#;
}

impl GuardCheck for ModeGuard {
    fn check(&self, _: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        match ctx.mode {
            Mode::Apply => Check::Pass,
            Mode::DryRun => Check::Block(
                "dry-run: sent with dryRun=All, nothing changes (--apply or mode: apply makes the change)"
                    .into(),
            ),
            Mode::Plan => Check::Block("plan: nothing is sent".into()),
        }
    }
}
