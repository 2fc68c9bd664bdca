//! `rolloutRestart`: what `kubectl rollout restart` does, on the pod's owning workload.

use super::{PlanAction, PlanContext, Refusal, Step, target};
use crate::api::request::{ContentType, Request};
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

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, Refusal> {
        let kinds = [
            WorkloadKind::Deployment,
            WorkloadKind::StatefulSet,
            WorkloadKind::DaemonSet,
        ];
        let (owner, _) = target::owning_workload(f, ctx.index, &kinds)?;
        let at = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(Step {
            summary: format!("restart the pods of {}", owner.display()),
            request: Some(Request::patch(
                &owner,
                ContentType::StrategicMergePatch,
                json!({"spec": {"template": {"metadata": {"annotations": {
                    "kubectl.kubernetes.io/restartedAt": at
                }}}}}),
            )),
            target: owner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanCheck;
    use crate::plan::testing::{ctx, index, pod_finding};

    #[test]
    fn patches_the_owning_deployment_and_refuses_to_guess() {
        let idx = index(
            "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: api, namespace: shop}\n",
        );
        let ctx = ctx(&idx);
        let step = RolloutRestart {}
            .plan(&pod_finding(Some(("Deployment", "api", true))), &ctx)
            .expect("planned");
        let req = step.request.expect("request");
        assert_eq!(req.path(), "/apis/apps/v1/namespaces/shop/deployments/api");
        assert_eq!(
            req.body().expect("body")["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2026-11-22T10:00:00Z"
        );
        let refusal = RolloutRestart {}
            .plan(&pod_finding(None), &ctx)
            .expect_err("no owner");
        assert_eq!(refusal.check, PlanCheck::Owner);
        let refusal = RolloutRestart {}
            .plan(&pod_finding(Some(("ReplicaSet", "api-5d9f", false))), &ctx)
            .expect_err("unresolved");
        assert_eq!(refusal.target.expect("target").kind(), "ReplicaSet");
        assert!(
            refusal.reason.contains("not in the inventory"),
            "{}",
            refusal.reason
        );
    }
}
