//! `unschedulable`: pods the scheduler cannot place.

use super::util::lasted;
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, Target, TargetKind};
use crate::objects::Object;
use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Unschedulable {
    /// How long the pod must have been unschedulable (by the condition's lastTransitionTime).
    #[serde(rename = "for")]
    pub for_: Duration,
}

impl Default for Unschedulable {
    fn default() -> Self {
        Self {
            for_: Duration::from_secs(300),
        }
    }
}

impl Unschedulable {
    pub const EXPLAIN: &str = "\
Finds pods whose PodScheduled condition is False with reason Unschedulable: no node fits
(resources, affinity, taints, ports). The scheduler's message is evidence.
Arguments: for (default 5m); a missing lastTransitionTime counts as long enough.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: unschedulable-notify
spec:
  description: Tell the owners about pods that cannot be scheduled for 15 minutes.
  detect:
    unschedulable: { for: 15m }
  remediate:
    - notifyOnly: {}
"#;
}

impl Detect for Unschedulable {
    fn reads(&self) -> Reads {
        Reads::Pods
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Pod
    }

    fn detect(&self, object: &Object, ctx: &DetectContext, out: &mut Out) {
        let Object::Pod(pod) = object else { return };
        let Some(c) = pod
            .condition("PodScheduled")
            .filter(|c| c.status == "False" && c.reason.as_deref() == Some("Unschedulable"))
        else {
            return;
        };
        if !lasted(c.last_transition_time.as_ref(), self.for_.chrono(), ctx.now) {
            return;
        }
        let evidence = Evidence {
            reason: c.reason.clone(),
            message: c.message.clone(),
            since: c.last_transition_time.clone(),
            phase: pod.status.phase.clone(),
            ..Evidence::default()
        };
        let message = format!(
            "pod cannot be scheduled{}",
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        let target = Target {
            kind: TargetKind::Pod,
            namespace: Some(pod.namespace().to_owned()),
            name: pod.metadata.name.clone(),
            container: None,
        };
        out.push(Detection::new(target, message, evidence).with_pod(pod));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, pod};

    #[test]
    fn finds_long_unschedulable_pods() {
        let p = pod(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  phase: Pending
  conditions:
  - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available: 3 Insufficient cpu.", lastTransitionTime: "2026-11-22T09:00:00Z"}
"#);
        let mut out = Out::default();
        Unschedulable::default().detect(&p, &at("2026-11-22T09:02:00Z"), &mut out);
        assert!(out.is_empty(), "still within the grace period");
        Unschedulable::default().detect(&p, &at("2026-11-22T10:00:00Z"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].message,
            "pod cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu."
        );
    }
}
