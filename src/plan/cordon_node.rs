//! `cordonNode`: mark a node unschedulable, as `kubectl cordon` does.

use super::{PlanAction, PlanContext, Refusal, Step, target};
use crate::api::request::{ContentType, Request};
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

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, Refusal> {
        let node = target::of_finding(f)?;
        Ok(Step {
            summary: format!("cordon {}", node.display()),
            request: Some(Request::patch(
                &node,
                ContentType::StrategicMergePatch,
                json!({"spec": {"unschedulable": true}}),
            )),
            target: node,
        })
    }
}
