//! `evictPod`: ask the Eviction API to remove a pod, which respects PodDisruptionBudgets.

use super::{JSON, PlanAction, PlanContext, Request, Skip, Step, target};
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EvictPod {
    /// Grace period for the pod's containers; default the pod's own.
    #[serde(default)]
    #[schemars(range(min = 0, max = 3600))]
    pub grace_period_seconds: Option<u32>,
}

impl EvictPod {
    pub const EXPLAIN: &str = "\
Evicts the pod through the Eviction API (POST pods/NAME/eviction), so PodDisruptionBudgets
are honoured: the API answers 429 when the budget is spent. The controller replaces the pod.
Arguments: gracePeriodSeconds (optional).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: evict-crashlooping
spec:
  detect:
    crashLoopBackOff: { minRestarts: 10 }
  remediate:
    - evictPod: { gracePeriodSeconds: 30 }
  guards:
    maxActionsPerRound: 2
    maxUnavailable: 1
"#;
}

impl PlanAction for EvictPod {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, (super::ObjectRef, Skip)> {
        let (pod, path) = target::pod(f)?;
        let mut body = json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod.name, "namespace": pod.namespace},
        });
        if let Some(g) = self.grace_period_seconds {
            body["deleteOptions"] = json!({"gracePeriodSeconds": g});
        }
        Ok(Step {
            summary: format!("evict {}", pod.display()),
            target: pod,
            request: Some(Request {
                method: "POST",
                path: format!("{path}/eviction"),
                content_type: Some(JSON),
                body: Some(body),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{index, now, pod_finding};

    #[test]
    fn posts_an_eviction() {
        let idx = index("");
        let step = EvictPod {
            grace_period_seconds: Some(30),
        }
        .plan(
            &pod_finding(None),
            &PlanContext {
                now: now(),
                index: &idx,
            },
        )
        .expect("planned");
        let req = step.request.expect("request");
        assert_eq!(
            req.path,
            "/api/v1/namespaces/shop/pods/api-5d9f-x1/eviction"
        );
        assert_eq!(
            req.body.expect("body")["deleteOptions"]["gracePeriodSeconds"],
            30
        );
    }
}
