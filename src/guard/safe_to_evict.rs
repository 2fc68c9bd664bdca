//! `safeToEvict`: the cluster autoscaler's annotation that users already put on pods which
//! must not be evicted is honoured for evictions and deletions.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::plan::Action;
use crate::round::context::RoundContext;

pub const ANNOTATION: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";

pub struct SafeToEvict;

impl SafeToEvict {
    pub const EXPLAIN: &str = "Skips evictPod and deletePod for pods annotated cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\".";
}

impl GuardCheck for SafeToEvict {
    fn check(&self, input: &GuardInput, _: &RoundContext, _: &Tally) -> Check {
        if !matches!(input.action, Action::EvictPod(_) | Action::DeletePod(_)) {
            return Check::Pass;
        }
        match input.finding.facts.annotations.get(ANNOTATION) {
            Some(v) if v.trim().eq_ignore_ascii_case("false") => {
                Check::Block(format!("the pod is annotated {ANNOTATION}: \"false\""))
            }
            _ => Check::Pass,
        }
    }
}
