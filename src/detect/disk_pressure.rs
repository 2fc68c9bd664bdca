//! `diskPressure`: nodes whose kubelet reports the DiskPressure condition.

use super::util::{lasted, node_target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::Object;
use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DiskPressure {
    /// Only when the condition has held this long (by lastTransitionTime). Default: at once.
    #[serde(rename = "for")]
    pub for_: Option<Duration>,
}

impl DiskPressure {
    pub const EXPLAIN: &str = "\
Finds nodes whose DiskPressure condition is True: the kubelet is evicting pods to free disk.
Status Unknown (the kubelet stopped reporting) is not pressure; nodeNotReady covers that.
Arguments: for (optional): how long the condition must have held.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: disk-pressure-cordon
spec:
  description: Cordon nodes under disk pressure for 10 minutes.
  detect:
    diskPressure: { for: 10m }
  severity: critical
  remediate:
    - cordonNode: {}
  guards:
    maxActionsPerRound: 1
    cooldown: 1h
"#;
}

impl Detect for DiskPressure {
    fn reads(&self) -> Reads {
        Reads::Nodes
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Node
    }

    fn detect(&self, object: &Object, ctx: &DetectContext, out: &mut Out) {
        let Object::Node(node) = object else { return };
        let Some(c) = node
            .condition("DiskPressure")
            .filter(|c| c.status == "True")
        else {
            return;
        };
        let min = self.for_.map(Duration::chrono).unwrap_or_default();
        if !lasted(c.last_transition_time.as_ref(), min, ctx.now) {
            return;
        }
        let evidence = Evidence {
            reason: c.reason.clone(),
            message: c.message.clone(),
            since: c.last_transition_time.clone(),
            ..Evidence::default()
        };
        let message = format!(
            "node has disk pressure{}",
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
        out.push(
            Detection::new(node_target(&node.metadata.name), message, evidence)
                .with_meta(&node.metadata),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, object};

    fn node(status: &str) -> Object {
        object(&format!(
            "kind: Node\nmetadata: {{name: n1}}\nstatus:\n  conditions:\n  - {{type: DiskPressure, status: \"{status}\", reason: KubeletHasDiskPressure, message: \"kubelet has disk pressure\", lastTransitionTime: \"2026-11-22T09:50:00Z\"}}\n"
        ))
    }

    #[test]
    fn true_is_pressure_unknown_is_not() {
        let mut out = Out::default();
        let d = DiskPressure::default();
        d.detect(&node("True"), &at("2026-11-22T10:00:00Z"), &mut out);
        d.detect(&node("Unknown"), &at("2026-11-22T10:00:00Z"), &mut out);
        d.detect(&node("False"), &at("2026-11-22T10:00:00Z"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].message,
            "node has disk pressure: kubelet has disk pressure"
        );
    }

    #[test]
    fn waits_for_the_duration() {
        let d = DiskPressure {
            for_: Some("15m".parse().expect("duration")),
        };
        let mut out = Out::default();
        d.detect(&node("True"), &at("2026-11-22T10:00:00Z"), &mut out);
        assert!(out.is_empty());
        d.detect(&node("True"), &at("2026-11-22T10:05:00Z"), &mut out);
        assert_eq!(out.len(), 1);
    }
}
