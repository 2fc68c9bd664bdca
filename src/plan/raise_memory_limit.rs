//! `raiseMemoryLimit`: raise the memory limit of the OOM-killed container in its workload's
//! pod template, by a factor and never above a cap.

use super::{
    ObjectRef, PlanAction, PlanContext, Request, STRATEGIC_MERGE_PATCH, Skip, Step, target,
};
use crate::detect::{Finding, TargetKind};
use crate::objects::WorkloadKind;
use crate::playbook::values::Quantity;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RaiseMemoryLimit {
    /// Multiply the current limit by this.
    #[serde(default = "default_factor")]
    #[schemars(range(min = 1.05, max = 10.0))]
    pub factor: f64,
    /// Never set a limit above this.
    pub max: Quantity,
}

fn default_factor() -> f64 {
    1.5
}

impl RaiseMemoryLimit {
    pub const EXPLAIN: &str = "\
Raises the memory limit of the finding's container in the pod template of the owning
workload (Deployment, StatefulSet, DaemonSet, CronJob or a bare ReplicaSet, found through
ownerReferences) with a strategic merge patch on that one container, by `factor`, rounded up
to whole MiB and capped at `max`. A container without a memory limit, or already at the cap,
is skipped. Jobs are skipped: their pod template cannot change.
Arguments: factor (default 1.5), max (required, e.g. 4Gi).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: raise-memory
spec:
  detect:
    oomKilled: { minCount: 2, within: 6h }
  remediate:
    - raiseMemoryLimit: { factor: 1.5, max: 4Gi }
  guards:
    maxActionsPerRound: 3
    cooldown: 24h
"#;
}

const KINDS: &[WorkloadKind] = &[
    WorkloadKind::Deployment,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
    WorkloadKind::CronJob,
    WorkloadKind::ReplicaSet,
];

impl PlanAction for RaiseMemoryLimit {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, (ObjectRef, Skip)> {
        let (owner, workload) = target::owning_workload(f, ctx.index, KINDS)?;
        let Some(name) = f.target.container.as_deref() else {
            return Err((owner, Skip::new("target", "the finding names no container")));
        };
        let init = f.evidence.container_role.is_some_and(|r| r != "app");
        let list = if init {
            &workload.init_containers
        } else {
            &workload.containers
        };
        let Some(container) = list.iter().find(|c| c.name == name) else {
            return Err((
                owner,
                Skip::new(
                    "target",
                    format!("the pod template has no container {name}"),
                ),
            ));
        };
        let Some(current_text) = container.resources.limits.get("memory") else {
            return Err((
                owner,
                Skip::new(
                    "target",
                    format!("container {name} has no memory limit to raise"),
                ),
            ));
        };
        let current: Quantity = current_text
            .0
            .parse()
            .map_err(|e: String| (owner.clone(), Skip::new("target", e)))?;
        if current.value() >= self.max.value() {
            return Err((
                owner,
                Skip::new(
                    "cap",
                    format!(
                        "the memory limit {} is already at or above the cap {}",
                        current_text.0,
                        self.max.to_binary_text()
                    ),
                ),
            ));
        }
        let raised = Quantity::from_value((current.value() * self.factor).min(self.max.value()));
        let new_text = raised.to_binary_text();
        let list_key = if init { "initContainers" } else { "containers" };
        let pod_spec =
            json!({ list_key: [{"name": name, "resources": {"limits": {"memory": new_text}}}] });
        let body = if workload.kind == WorkloadKind::CronJob {
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}})
        } else {
            json!({"spec": {"template": {"spec": pod_spec}}})
        };
        Ok(Step {
            summary: format!(
                "raise the memory limit of container {name} in {} from {} to {new_text}",
                owner.display(),
                current_text.0
            ),
            target: owner,
            request: Some(Request {
                method: "PATCH",
                path: target::workload_path(workload),
                content_type: Some(STRATEGIC_MERGE_PATCH),
                body: Some(body),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{index, now, pod_finding};

    const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: api, resources: {limits: {memory: 256Mi}}}
"#;

    fn plan(max: &str, yaml: &str) -> Result<Step, (ObjectRef, Skip)> {
        let idx = index(yaml);
        let action = RaiseMemoryLimit {
            factor: 1.5,
            max: max.parse().expect("quantity"),
        };
        action.plan(
            &pod_finding(Some(("Deployment", "api", true))),
            &PlanContext {
                now: now(),
                index: &idx,
            },
        )
    }

    #[test]
    fn patches_one_container_by_the_factor() {
        let step = plan("4Gi", DEPLOY).expect("planned");
        assert_eq!(
            step.summary,
            "raise the memory limit of container api in Deployment shop/api from 256Mi to 384Mi"
        );
        assert_eq!(
            step.request.expect("request").body.expect("body"),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "api", "resources": {"limits": {"memory": "384Mi"}}}
            ]}}}})
        );
    }

    #[test]
    fn stops_at_the_cap() {
        let step = plan("300Mi", DEPLOY).expect("planned");
        assert!(step.summary.ends_with("to 300Mi"), "{}", step.summary);
        let (_, skip) = plan("256Mi", DEPLOY).expect_err("at the cap");
        assert_eq!(skip.guard, "cap");
    }

    #[test]
    fn skips_containers_without_a_limit() {
        let (_, skip) = plan(
            "4Gi",
            &DEPLOY.replace("resources: {limits: {memory: 256Mi}}", "resources: {}"),
        )
        .expect_err("no limit");
        assert_eq!(skip.reason, "container api has no memory limit to raise");
    }
}
