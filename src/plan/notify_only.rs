//! `notifyOnly`: change nothing; the finding goes to the notification route.

use super::{ALL_TARGETS, PlanAction, PlanContext, Refusal, Step, target};
use crate::detect::{Finding, TargetKind};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyOnly {}

impl NotifyOnly {
    pub const EXPLAIN: &str = "\
Changes nothing: the finding is only reported and notified. Useful for detectors whose fix
needs a human (image pull failures, unschedulable pods). No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: notify-image-pull
spec:
  detect:
    imagePullBackOff: {}
  severity: warning
  remediate:
    - notifyOnly: {}
"#;
}

impl PlanAction for NotifyOnly {
    fn acts_on(&self) -> &'static [TargetKind] {
        ALL_TARGETS
    }

    fn plan(&self, f: &Finding, _: &PlanContext) -> Result<Step, Refusal> {
        let target = target::of_finding(f)?;
        Ok(Step {
            summary: format!("notify about {}", target.display()),
            target,
            request: None,
        })
    }
}
