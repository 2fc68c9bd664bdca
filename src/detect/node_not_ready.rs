//! `nodeNotReady`: nodes whose Ready condition is not True.

use super::util::{lasted, node_target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::Object;
use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NodeNotReady {
    /// How long Ready must have been False or Unknown (by lastTransitionTime).
    #[serde(rename = "for")]
    pub for_: Duration,
}

impl Default for NodeNotReady {
    fn default() -> Self {
        Self {
            for_: Duration::from_secs(300),
        }
    }
}

impl NodeNotReady {
    pub const EXPLAIN: &str = "\
Finds nodes whose Ready condition is False (the kubelet says it is not ready) or Unknown (the
node controller lost contact). Only the condition's status is read: reason and message are
evidence and are sometimes stale. A node without a Ready condition is not reported.
Arguments: for (default 5m); a missing lastTransitionTime counts as long enough.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: node-not-ready
spec:
  description: Page about nodes NotReady for 5 minutes.
  detect:
    nodeNotReady: { for: 5m }
  severity: critical
  remediate:
    - notifyOnly: {}
"#;
}

impl Detect for NodeNotReady {
    fn reads(&self) -> Reads {
        Reads::Nodes
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Node
    }

    fn detect(&self, object: &Object, ctx: &DetectContext, out: &mut Out) {
        let Object::Node(node) = object else { return };
        let Some(c) = node.condition("Ready").filter(|c| c.status != "True") else {
            return;
        };
        if !lasted(c.last_transition_time.as_ref(), self.for_.chrono(), ctx.now) {
            return;
        }
        let evidence = Evidence {
            reason: c.reason.clone(),
            message: c.message.clone(),
            since: c.last_transition_time.clone(),
            phase: Some(format!("Ready={}", c.status)),
            ..Evidence::default()
        };
        let message = format!(
            "node is not ready (Ready={}{})",
            c.status,
            c.reason
                .as_deref()
                .map(|r| format!(", reason {r}"))
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

    fn run(ready: &str, since: &str) -> Out {
        let node = object(&format!(
            "kind: Node\nmetadata: {{name: n1}}\nstatus:\n  conditions:\n  - {{type: Ready, status: \"{ready}\", reason: NodeStatusUnknown{since}}}\n"
        ));
        let mut out = Out::default();
        NodeNotReady::default().detect(&node, &at("2026-11-22T10:00:00Z"), &mut out);
        out
    }

    #[test]
    fn false_and_unknown_count_after_the_grace_period() {
        assert_eq!(
            run("Unknown", ", lastTransitionTime: \"2026-11-22T09:00:00Z\"").len(),
            1
        );
        assert_eq!(run("False", "").len(), 1, "no transition time counts");
        assert!(run("False", ", lastTransitionTime: \"2026-11-22T09:58:00Z\"").is_empty());
        assert!(run("True", "").is_empty());
    }
}
