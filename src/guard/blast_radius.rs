//! `blastRadius`: how much one round may take away: never the last ready replica of a
//! workload, at most the playbook's `guards.maxUnavailable` of its replicas, and node actions
//! at most the runner config's share of the nodes.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::objects::WorkloadKind;
use crate::plan::Action;
use crate::playbook::values::IntOrPercent;
use crate::round::context::RoundContext;

pub struct BlastRadius;

impl BlastRadius {
    pub const EXPLAIN: &str = "For evictPod and deletePod of a ready pod: never the last ready replica of its workload, and at most the playbook's guards.maxUnavailable (a count or a share of the replicas) unavailable, counting pods that are not ready and those this round already took; a ready pod without a controller is not taken at all. For cordonNode: at most guards.maxUnavailableNodes of the runner config (default 10%, at least one node) unschedulable.";

    pub const SETTINGS: &[Setting] = &[
        Setting::playbook("spec.guards.maxUnavailable"),
        Setting::config("guards.maxUnavailableNodes"),
    ];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: evict-crashlooping
spec:
  detect:
    crashLoopBackOff: { minRestarts: 10 }
  remediate:
    - evictPod: {}
  guards:
    maxActionsPerRound: 5
    maxUnavailable: 25%
"#;
}

/// How many of `total` a limit allows (a share rounds down, as Kubernetes' maxUnavailable does).
fn allowed(limit: IntOrPercent, total: i64) -> i64 {
    match limit {
        IntOrPercent::Count(n) => i64::from(n),
        IntOrPercent::Percent(p) => (p.value() * total as f64 / 100.0).floor() as i64,
    }
}

/// The workload whose ready replica this action takes away, if it takes one.
pub fn disrupted_workload(input: &GuardInput) -> Option<String> {
    if !matches!(input.action, Action::EvictPod(_) | Action::DeletePod(_)) {
        return None;
    }
    if input.finding.facts.pod_ready != Some(true) {
        return None;
    }
    let o = input.finding.owner.as_ref()?;
    Some(format!("{}/{}/{}", o.kind, o.namespace, o.name))
}

impl GuardCheck for BlastRadius {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, tally: &Tally) -> Check {
        match input.action {
            Action::EvictPod(_) | Action::DeletePod(_) => pods(input, ctx, tally),
            Action::CordonNode(_) => nodes(ctx, tally),
            _ => Check::Pass,
        }
    }
}

fn pods(input: &GuardInput, ctx: &RoundContext, tally: &Tally) -> Check {
    let f = input.finding;
    if f.facts.pod_ready != Some(true) {
        return Check::Pass;
    }
    let Some(owner) = &f.owner else {
        return Check::Block(
            "the pod is ready and has no controller: nothing would bring it back".into(),
        );
    };
    let workload = WorkloadKind::from_kind(&owner.kind)
        .and_then(|k| ctx.index.workload(k, &owner.namespace, &owner.name));
    let Some(w) = workload else {
        return Check::Block(format!(
            "{} {}/{} is not in the inventory, so its ready replicas are unknown",
            owner.kind, owner.namespace, owner.name
        ));
    };
    let ready = w.ready_replicas.unwrap_or(0);
    let replicas = w.replicas.unwrap_or(ready).max(ready);
    let key = disrupted_workload(input).unwrap_or_default();
    let taken = i64::from(tally.disrupted.get(&key).copied().unwrap_or(0));
    let ready_after = ready - taken - 1;
    let name = format!("{} {}/{}", owner.kind, owner.namespace, owner.name);
    if ready_after < 1 {
        return Check::Block(format!(
            "it would take the last ready replica of {name} ({ready} ready, {taken} already taken this round)"
        ));
    }
    if let Some(limit) = input.playbook.playbook.spec.guards.max_unavailable {
        let unavailable = replicas - ready_after;
        let max = allowed(limit, replicas);
        if unavailable > max {
            return Check::Block(format!(
                "{name} would have {unavailable} of {replicas} replicas unavailable; guards.maxUnavailable {limit} allows {max}"
            ));
        }
    }
    Check::Pass
}

fn nodes(ctx: &RoundContext, tally: &Tally) -> Check {
    let total = i64::from(ctx.nodes.total);
    let after = i64::from(ctx.nodes.unschedulable) + i64::from(tally.nodes) + 1;
    let limit = ctx.config.guards.max_unavailable_nodes;
    let max = allowed(limit, total).max(1);
    if after > max {
        Check::Block(format!(
            "it would leave {after} of {total} nodes unschedulable; guards.maxUnavailableNodes {limit} allows {max}"
        ))
    } else {
        Check::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_down() {
        let p = |s: &str| s.parse::<IntOrPercent>().expect("value");
        assert_eq!(allowed(p("25%"), 4), 1);
        assert_eq!(allowed(p("25%"), 3), 0);
        assert_eq!(allowed(p("2"), 3), 2);
    }
}
