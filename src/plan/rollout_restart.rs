//! `rolloutRestart`: what `kubectl rollout restart` does, on the pod's owning workload.

use super::{
    ObjectRef, PlanAction, PlanContext, Request, STRATEGIC_MERGE_PATCH, Skip, Step, target,
};
use crate::detect::{Finding, TargetKind};
use crate::objects::WorkloadKind;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRestart {}

impl RolloutRestart {
    pub const EXPLAIN: &str = "\
Restarts the pods of the workload that owns the finding's pod (Deployment, StatefulSet or
DaemonSet, found through ownerReferences), exactly as `kubectl rollout restart`: it sets the
pod template annotation kubectl.kubernetes.io/restartedAt, and the controller rolls pods by
its own update strategy. No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: restart-crashlooping
spec:
  detect:
    crashLoopBackOff: { minRestarts: 5 }
  remediate:
    - rolloutRestart: {}
  guards:
    maxActionsPerRound: 2
    cooldown: 6h
"#;
}

impl PlanAction for RolloutRestart {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, (ObjectRef, Skip)> {
        let kinds = [
            WorkloadKind::Deployment,
            WorkloadKind::StatefulSet,
            WorkloadKind::DaemonSet,
        ];
        let (owner, workload) = target::owning_workload(f, ctx.index, &kinds)?;
        let at = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(Step {
            summary: format!("restart the pods of {}", owner.display()),
            target: owner,
            request: Some(Request {
                method: "PATCH",
                path: target::workload_path(workload),
                content_type: Some(STRATEGIC_MERGE_PATCH),
                body: Some(json!({"spec": {"template": {"metadata": {"annotations": {
                    "kubectl.kubernetes.io/restartedAt": at
                }}}}})),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{index, now, pod_finding};

    #[test]
    fn patches_the_owning_deployment_and_refuses_to_guess() {
        let idx = index(
            "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: api, namespace: shop}\n",
        );
        let ctx = PlanContext {
            now: now(),
            index: &idx,
        };
        let step = RolloutRestart {}
            .plan(&pod_finding(Some(("Deployment", "api", true))), &ctx)
            .expect("planned");
        let req = step.request.expect("request");
        assert_eq!(req.path, "/apis/apps/v1/namespaces/shop/deployments/api");
        assert_eq!(
            req.body.expect("body")["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2026-11-22T10:00:00Z"
        );
        let (_, skip) = RolloutRestart {}
            .plan(&pod_finding(None), &ctx)
            .expect_err("no owner");
        assert_eq!(skip.guard, "owner");
        let (r, skip) = RolloutRestart {}
            .plan(&pod_finding(Some(("ReplicaSet", "api-5d9f", false))), &ctx)
            .expect_err("unresolved");
        assert_eq!(r.kind, "ReplicaSet");
        assert!(
            skip.reason.contains("not in the inventory"),
            "{}",
            skip.reason
        );
    }
}
