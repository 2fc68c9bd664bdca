//! `cordonNode`: mark a node unschedulable, as `kubectl cordon` does.

use super::{ObjectRef, PlanAction, PlanContext, Request, STRATEGIC_MERGE_PATCH, Skip, Step};
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CordonNode {}

impl CordonNode {
    pub const EXPLAIN: &str = "\
Marks the finding's node unschedulable (spec.unschedulable: true), as `kubectl cordon`.
Running pods stay; new pods go elsewhere. Only for node findings (diskPressure,
nodeNotReady). No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: cordon-not-ready
spec:
  detect:
    nodeNotReady: { for: 10m }
  remediate:
    - cordonNode: {}
  guards:
    maxActionsPerRound: 1
"#;
}

impl PlanAction for CordonNode {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Node]
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, (ObjectRef, Skip)> {
        let node = ObjectRef::of_finding(f);
        Ok(Step {
            summary: format!("cordon {}", node.display()),
            request: Some(Request {
                method: "PATCH",
                path: format!("/api/v1/nodes/{}", node.name),
                content_type: Some(STRATEGIC_MERGE_PATCH),
                body: Some(json!({"spec": {"unschedulable": true}})),
            }),
            target: node,
        })
    }
}
