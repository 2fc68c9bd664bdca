//! `budget`: how many changes a round makes at most: over all playbooks (runner config
//! `guards.maxActionsPerRound`), per playbook (`guards.maxActionsPerRound`), per namespace
//! (`guards.maxActionsPerNamespace`) and per action where the action has its own limit.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::round::context::RoundContext;

pub struct Budget;

impl Budget {
    pub const EXPLAIN: &str = "Skips actions once a budget of the round is spent: guards.maxActionsPerRound of the runner config (all playbooks, default 10), the playbook's guards.maxActionsPerRound and guards.maxActionsPerNamespace, and an action's own limit (deleteFailedPods maxCount). Only actions every guard allows count.";

    pub const SETTINGS: &[Setting] = &[
        Setting::playbook("spec.guards.maxActionsPerRound"),
        Setting::playbook("spec.guards.maxActionsPerNamespace"),
        Setting::config("guards.maxActionsPerRound"),
    ];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: clean-failed-pods
spec:
  detect:
    evicted: {}
  remediate:
    - deleteFailedPods: { maxCount: 20 }
  guards:
    maxActionsPerRound: 20
    maxActionsPerNamespace: 5
"#;
}

impl GuardCheck for Budget {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, tally: &Tally) -> Check {
        let round = ctx.config.guards.max_actions_per_round;
        if tally.total >= round {
            return Check::Block(format!(
                "the round's budget of {round} change(s) is spent (runner config guards.maxActionsPerRound)"
            ));
        }
        let pb = input.playbook.name();
        let guards = &input.playbook.playbook.spec.guards;
        let done = tally.per_playbook.get(pb).copied().unwrap_or(0);
        if let Some(max) = guards.max_actions_per_round
            && done >= max
        {
            return Check::Block(format!(
                "the playbook's budget of {max} change(s) per round is spent (guards.maxActionsPerRound)"
            ));
        }
        if let (Some(max), Some(ns)) = (
            guards.max_actions_per_namespace,
            input.step.target.namespace(),
        ) {
            let done = tally
                .per_namespace
                .get(&(pb.to_owned(), ns.to_owned()))
                .copied()
                .unwrap_or(0);
            if done >= max {
                return Check::Block(format!(
                    "the playbook's budget of {max} change(s) in namespace {ns} per round is spent (guards.maxActionsPerNamespace)"
                ));
            }
        }
        if let Some(max) = input.action.imp().max_per_round() {
            let done = tally
                .per_action
                .get(&(pb.to_owned(), input.action.name()))
                .copied()
                .unwrap_or(0);
            if done >= max {
                return Check::Block(format!(
                    "{} does at most {max} per round (its maxCount)",
                    input.action.name()
                ));
            }
        }
        Check::Pass
    }
}
