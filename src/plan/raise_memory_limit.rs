//! `raiseMemoryLimit`: raise the memory limit of the OOM-killed container in its workload's
//! pod template, by a factor or a step, never above a cap and never down.

use super::{PlanAction, PlanCheck, PlanContext, Refusal, Step, target};
use crate::api::request::{ContentType, Request};
use crate::detect::{Finding, TargetKind};
use crate::objects::WorkloadKind;
use crate::objects::pod::ContainerRole;
use crate::playbook::values::Quantity;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RaiseMemoryLimit {
    /// Multiply the current limit by this (default 1.5 when no `step` is given).
    #[serde(default)]
    #[schemars(range(min = 1.05, max = 10.0))]
    pub factor: Option<f64>,
    /// Add this to the current limit instead of multiplying (e.g. 256Mi).
    #[serde(default)]
    pub step: Option<Quantity>,
    /// Never set a limit above this.
    pub max: Quantity,
    /// Raise the memory request by the same ratio too (never above the new limit). Default:
    /// requests are left as they are.
    #[serde(default)]
    pub raise_requests: bool,
}

const DEFAULT_FACTOR: f64 = 1.5;

impl RaiseMemoryLimit {
    pub const EXPLAIN: &str = "\
Raises the memory limit of the finding's container in the pod template of the owning
workload (Deployment, StatefulSet, DaemonSet, CronJob or a bare ReplicaSet, found through
ownerReferences) with a strategic merge patch on that one container, by `factor` or by
`step`, rounded up to whole MiB and capped at `max`; it never lowers a limit. The patch
carries the workload's resourceVersion, so a workload changed since it was read is re-read
first. A container without a memory limit, already at the cap, or not in the owner's
template is skipped. Jobs are skipped: their pod template cannot change. Requests are left
alone unless raiseRequests is true.
Arguments: factor (default 1.5) or step, max (required, e.g. 4Gi), raiseRequests (false).";

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

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, Refusal> {
        let (owner, workload) = target::owning_workload(f, ctx.index, KINDS)?;
        let refuse = |check, reason: String| Err(Refusal::new(Some(owner.clone()), check, reason));
        let Some(name) = f.target.container.as_deref() else {
            return refuse(PlanCheck::Target, "the finding names no container".into());
        };
        let init = f
            .facts
            .container_role
            .is_some_and(|r| r != ContainerRole::App);
        let list = if init {
            &workload.init_containers
        } else {
            &workload.containers
        };
        let Some(container) = list.iter().find(|c| c.name == name) else {
            return refuse(
                PlanCheck::Target,
                format!("the pod template of {owner} has no container {name}"),
            );
        };
        let Some(current_text) = container.resources.limits.get("memory") else {
            return refuse(
                PlanCheck::Target,
                format!("container {name} has no memory limit to raise"),
            );
        };
        let current: Quantity = match current_text.0.parse() {
            Ok(q) => q,
            Err(e) => return refuse(PlanCheck::Target, e),
        };
        if current.value() >= self.max.value() {
            return refuse(
                PlanCheck::Cap,
                format!(
                    "the memory limit {} is already at or above the cap {}",
                    current_text.0,
                    self.max.to_binary_text()
                ),
            );
        }
        let wanted = match self.step {
            Some(step) => current.value() + step.value(),
            None => current.value() * self.factor.unwrap_or(DEFAULT_FACTOR),
        };
        let raised = Quantity::from_value(wanted.min(self.max.value()));
        let new_text = raised.to_binary_text();
        let mut resources = json!({"limits": {"memory": new_text}});
        if self.raise_requests
            && let Some(request) = container
                .resources
                .requests
                .get("memory")
                .and_then(|q| q.0.parse::<Quantity>().ok())
        {
            let ratio = raised.value() / current.value();
            let new_request = Quantity::from_value((request.value() * ratio).min(raised.value()));
            if new_request.value() > request.value() {
                resources["requests"] = json!({"memory": new_request.to_binary_text()});
            }
        }
        let list_key = if init { "initContainers" } else { "containers" };
        let pod_spec = json!({ list_key: [{"name": name, "resources": resources}] });
        let mut body = if workload.kind == WorkloadKind::CronJob {
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}})
        } else {
            json!({"spec": {"template": {"spec": pod_spec}}})
        };
        // Computed from the limit as read: refuse to apply it over a newer version.
        if let Some(rv) = &workload.metadata.resource_version {
            body["metadata"] = json!({"resourceVersion": rv});
        }
        Ok(Step {
            summary: format!(
                "raise the memory limit of container {name} in {owner} from {} to {new_text}",
                current_text.0
            ),
            request: Some(Request::patch(
                &owner,
                ContentType::StrategicMergePatch,
                body,
            )),
            target: owner,
        })
    }

    fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.factor.is_some() && self.step.is_some() {
            out.push(("step".into(), "give either factor or step, not both".into()));
        }
        if self.step.is_some_and(|s| s.value() <= 0.0) {
            out.push(("step".into(), "step must be larger than zero".into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{ctx, index, pod_finding};

    const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, resourceVersion: "41"}
spec:
  template:
    spec:
      containers:
      - {name: api, resources: {limits: {memory: 256Mi}, requests: {memory: 128Mi}}}
"#;

    fn action(max: &str) -> RaiseMemoryLimit {
        RaiseMemoryLimit {
            factor: Some(1.5),
            step: None,
            max: max.parse().expect("quantity"),
            raise_requests: false,
        }
    }

    fn plan(action: &RaiseMemoryLimit, yaml: &str) -> Result<Step, Refusal> {
        let idx = index(yaml);
        action.plan(&pod_finding(Some(("Deployment", "api", true))), &ctx(&idx))
    }

    #[test]
    fn patches_one_container_by_the_factor_against_the_version_read() {
        let step = plan(&action("4Gi"), DEPLOY).expect("planned");
        assert_eq!(
            step.summary,
            "raise the memory limit of container api in Deployment shop/api from 256Mi to 384Mi"
        );
        assert_eq!(
            step.request.expect("request").body(),
            Some(
                json!({"metadata": {"resourceVersion": "41"}, "spec": {"template": {"spec": {"containers": [
                    {"name": "api", "resources": {"limits": {"memory": "384Mi"}}}
                ]}}}})
            )
        );
    }

    #[test]
    fn a_step_adds_and_requests_follow_only_when_asked() {
        let mut a = action("4Gi");
        a.factor = None;
        a.step = Some("64Mi".parse().expect("q"));
        a.raise_requests = true;
        let step = plan(&a, DEPLOY).expect("planned");
        let body = step.request.expect("request").body().expect("body");
        assert_eq!(
            body["spec"]["template"]["spec"]["containers"][0]["resources"],
            json!({"limits": {"memory": "320Mi"}, "requests": {"memory": "160Mi"}})
        );
        a.factor = Some(2.0);
        assert_eq!(a.problems().len(), 1, "factor and step together");
    }

    #[test]
    fn stops_at_the_cap_and_never_lowers() {
        let step = plan(&action("300Mi"), DEPLOY).expect("planned");
        assert!(step.summary.ends_with("to 300Mi"), "{}", step.summary);
        let refusal = plan(&action("256Mi"), DEPLOY).expect_err("at the cap");
        assert_eq!(refusal.check, PlanCheck::Cap);
        let refusal = plan(&action("128Mi"), DEPLOY).expect_err("above the cap");
        assert_eq!(refusal.check, PlanCheck::Cap);
    }

    #[test]
    fn skips_containers_without_a_limit_or_not_in_the_template() {
        let refusal = plan(
            &action("4Gi"),
            &DEPLOY.replace(
                "resources: {limits: {memory: 256Mi}, requests: {memory: 128Mi}}",
                "resources: {}",
            ),
        )
        .expect_err("no limit");
        assert_eq!(refusal.reason, "container api has no memory limit to raise");
        let refusal = plan(
            &action("4Gi"),
            &DEPLOY.replace("name: api, res", "name: web, res"),
        )
        .expect_err("not in the template");
        assert_eq!(
            refusal.reason,
            "the pod template of Deployment shop/api has no container api"
        );
    }
}
