//! `evictPod`: ask the Eviction API to remove a pod, which respects PodDisruptionBudgets.

use super::{PlanAction, PlanContext, Refusal, Step, target};
use crate::api::request::Request;
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;

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

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, Refusal> {
        let pod = target::pod(f)?;
        Ok(Step {
            summary: format!("evict {}", pod.display()),
            request: Some(Request::evict(&pod, self.grace_period_seconds)),
            target: pod,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{ctx, index, pod_finding};

    #[test]
    fn posts_an_eviction() {
        let idx = index("");
        let step = EvictPod {
            grace_period_seconds: Some(30),
        }
        .plan(&pod_finding(None), &ctx(&idx))
        .expect("planned");
        let req = step.request.expect("request");
        assert_eq!(
            req.path(),
            "/api/v1/namespaces/shop/pods/api-5d9f-x1/eviction"
        );
        assert_eq!(
            req.body().expect("body")["deleteOptions"]["gracePeriodSeconds"],
            30
        );
    }
}
