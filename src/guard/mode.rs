//! `mode`: plan and dry-run rounds hold every write back; apply lets it through.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::round::context::RoundContext;
use crate::round::mode::Mode;

pub struct ModeGuard;

impl ModeGuard {
    pub const EXPLAIN: &str = "Plan rounds send nothing; dry-run rounds send every write with dryRun=All so the API server checks it without a change; only apply (--apply or mode: apply) writes. The guards after it are still checked, so a plan or dry-run shows what apply would do.";
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
