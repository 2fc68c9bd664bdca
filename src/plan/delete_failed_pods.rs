//! `deleteFailedPods`: clean up pods that have already failed (evicted, failed job pods).

use super::delete_pod::delete_request;
use super::{PlanAction, PlanContext, Skip, Step, target};
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteFailedPods {}

impl DeleteFailedPods {
    pub const EXPLAIN: &str = "\
Deletes the finding's pod only if its phase is Failed (evicted pods, failed job pods), which
frees nothing that runs: those pods hold no containers, only API objects and IP-less records.
A pod in any other phase is skipped. No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: clean-evicted
spec:
  detect:
    evicted: {}
  remediate:
    - deleteFailedPods: {}
  guards:
    maxActionsPerRound: 50
"#;
}

impl PlanAction for DeleteFailedPods {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, (super::ObjectRef, Skip)> {
        let (pod, path) = target::pod(f)?;
        let phase = f.evidence.phase.as_deref().unwrap_or("unknown");
        if phase != "Failed" {
            return Err((
                pod,
                Skip::new(
                    "targetState",
                    format!("the pod's phase is {phase}, not Failed"),
                ),
            ));
        }
        Ok(Step {
            summary: format!("delete failed {}", pod.display()),
            target: pod,
            request: Some(delete_request(path, None)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{index, now, pod_finding};

    #[test]
    fn deletes_only_failed_pods() {
        let idx = index("");
        let ctx = PlanContext {
            now: now(),
            index: &idx,
        };
        let mut f = pod_finding(None);
        f.evidence.phase = Some("Running".into());
        let (_, skip) = DeleteFailedPods {}.plan(&f, &ctx).expect_err("skipped");
        assert_eq!(skip.reason, "the pod's phase is Running, not Failed");
        f.evidence.phase = Some("Failed".into());
        let step = DeleteFailedPods {}.plan(&f, &ctx).expect("planned");
        assert_eq!(step.request.expect("request").method, "DELETE");
    }
}
