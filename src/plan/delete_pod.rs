//! `deletePod`: delete a pod so its controller recreates it.

use super::{PlanAction, PlanContext, Refusal, Step, target};
use crate::api::request::Request;
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeletePod {
    /// Must be true: a deletion does not consult PodDisruptionBudgets (evictPod does), so a
    /// playbook opts in to that explicitly.
    pub ignore_disruption_budgets: bool,
    /// Grace period for the pod's containers; default the pod's own.
    #[serde(default)]
    #[schemars(range(min = 0, max = 3600))]
    pub grace_period_seconds: Option<u32>,
}

impl DeletePod {
    pub const EXPLAIN: &str = "\
Deletes the pod (DELETE pods/NAME, with the pod's uid as a precondition). Unlike evictPod
it does not consult PodDisruptionBudgets, so a playbook must opt in with
ignoreDisruptionBudgets: true; prefer evictPod for pods that serve traffic. A pod without a
controller is not recreated. Arguments: ignoreDisruptionBudgets (required, true),
gracePeriodSeconds (optional).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: delete-stuck-pods
spec:
  detect:
    imagePullBackOff: {}
  remediate:
    - deletePod: { ignoreDisruptionBudgets: true, gracePeriodSeconds: 0 }
  guards:
    maxActionsPerRound: 5
    cooldown: 1h
"#;
}

impl PlanAction for DeletePod {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, Refusal> {
        let pod = target::pod(f)?;
        Ok(Step {
            summary: format!("delete {}", pod.display()),
            request: Some(Request::delete(&pod, self.grace_period_seconds)),
            target: pod,
        })
    }

    fn problems(&self) -> Vec<(String, String)> {
        if self.ignore_disruption_budgets {
            Vec::new()
        } else {
            vec![(
                "ignoreDisruptionBudgets".into(),
                "deletePod deletes without consulting PodDisruptionBudgets: set ignoreDisruptionBudgets: true to opt in, or use evictPod".into(),
            )]
        }
    }
}
