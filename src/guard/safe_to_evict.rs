//! `safeToEvict`: the cluster autoscaler's annotation that users already put on pods which
//! must not be evicted is honoured for evictions and deletions.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::plan::Action;
use crate::round::context::RoundContext;

pub const ANNOTATION: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";

pub struct SafeToEvict;

impl SafeToEvict {
    pub const EXPLAIN: &str = "Skips evictPod and deletePod for pods annotated cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\" (the cluster autoscaler's annotation, which pods that must not move already carry). No settings: the annotation is the pod owner's switch.";

    pub const SETTINGS: &[Setting] = &[];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"# Pods that must stay say so (the cluster autoscaler reads the same annotation):
#   metadata:
#     annotations:
#       cluster-autoscaler.kubernetes.io/safe-to-evict: "false"
apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: delete-stuck-pods
spec:
  detect:
    crashLoopBackOff: { minRestarts: 20 }
  remediate:
    - deletePod: { ignoreDisruptionBudgets: true }
  guards:
    maxActionsPerRound: 2
"#;
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
