//! `deletePod`: delete a pod so its controller recreates it.

use super::{JSON, PlanAction, PlanContext, Request, Skip, Step, target};
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeletePod {
    /// Grace period for the pod's containers; default the pod's own.
    #[serde(default)]
    #[schemars(range(min = 0, max = 3600))]
    pub grace_period_seconds: Option<u32>,
}

impl DeletePod {
    pub const EXPLAIN: &str = "\
Deletes the pod (DELETE pods/NAME). Unlike evictPod it does not consult
PodDisruptionBudgets; prefer evictPod for pods that serve traffic. A pod without a controller
is not recreated. Arguments: gracePeriodSeconds (optional).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: delete-stuck-pods
spec:
  detect:
    imagePullBackOff: {}
  remediate:
    - deletePod: { gracePeriodSeconds: 0 }
  guards:
    maxActionsPerRound: 5
    cooldown: 1h
"#;
}

impl PlanAction for DeletePod {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, (super::ObjectRef, Skip)> {
        let (pod, path) = target::pod(f)?;
        Ok(Step {
            summary: format!("delete {}", pod.display()),
            target: pod,
            request: Some(delete_request(path, self.grace_period_seconds)),
        })
    }
}

pub(super) fn delete_request(path: String, grace: Option<u32>) -> Request {
    let mut body = json!({"apiVersion": "v1", "kind": "DeleteOptions"});
    if let Some(g) = grace {
        body["gracePeriodSeconds"] = json!(g);
    }
    Request {
        method: "DELETE",
        path,
        content_type: Some(JSON),
        body: Some(body),
    }
}
