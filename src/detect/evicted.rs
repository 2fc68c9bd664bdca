//! `evicted`: pods the kubelet or the Eviction API removed from their node.

use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, Target, TargetKind};
use crate::objects::Object;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evicted {}

impl Evicted {
    pub const EXPLAIN: &str = "\
Finds pods that were evicted: status.reason Evicted, a DisruptionTarget condition with reason
TerminationByKubelet (newer kubelets may record a node-pressure eviction only so, without
status.reason and, in a pasted dump, without a phase), or phase Failed with any other
DisruptionTarget condition. Evicted pods usually have no containerStatuses, and their
containers may still show as running; neither matters. A pod that failed because its
container exited non-zero is not an eviction. The resource that ran short (memory,
ephemeral-storage...) is evidence. No arguments.";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: evicted-cleanup
spec:
  description: Delete the records of evicted pods.
  detect:
    evicted: {}
  severity: info
  remediate:
    - deleteFailedPods: {}
  guards:
    maxActionsPerRound: 50
"#;
}

impl Detect for Evicted {
    fn reads(&self) -> Reads {
        Reads::Pods
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Pod
    }

    fn detect(&self, object: &Object, _: &DetectContext, out: &mut Out) {
        let Object::Pod(pod) = object else { return };
        let by_reason = pod.status.reason.as_deref() == Some("Evicted");
        let disruption = pod.condition("DisruptionTarget").filter(|c| {
            c.status == "True"
                && (pod.phase() == "Failed" || c.reason.as_deref() == Some("TerminationByKubelet"))
        });
        if !by_reason && disruption.is_none() {
            return;
        }
        let message_text = pod
            .status
            .message
            .clone()
            .or_else(|| disruption.and_then(|c| c.message.clone()));
        let cause = message_text.as_deref().and_then(short_resource);
        let evidence = Evidence {
            reason: pod
                .status
                .reason
                .clone()
                .or_else(|| disruption.and_then(|c| c.reason.clone())),
            message: message_text.clone(),
            phase: pod.status.phase.clone(),
            node: pod.spec.node_name.clone(),
            since: disruption.and_then(|c| c.last_transition_time.clone()),
            resource: cause.clone(),
            ..Evidence::default()
        };
        let message = match cause {
            Some(resource) => format!("pod was evicted: the node was low on {resource}"),
            None => format!(
                "pod was evicted{}",
                message_text.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        };
        let target = Target {
            kind: TargetKind::Pod,
            namespace: Some(pod.namespace().to_owned()),
            name: pod.metadata.name.clone(),
            container: None,
        };
        out.push(Detection::new(target, message, evidence).with_pod(pod));
    }
}

/// "The node was low on resource: memory. Threshold..." -> "memory".
fn short_resource(message: &str) -> Option<String> {
    let rest = message.split("low on resource:").nth(1)?;
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!word.is_empty()).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, pod};

    fn run(yaml: &str) -> Out {
        let mut out = Out::default();
        Evicted::default().detect(&pod(yaml), &at("2026-11-22T10:00:00Z"), &mut out);
        out
    }

    #[test]
    fn finds_kubelet_evictions_and_names_the_resource() {
        let found = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status: {phase: Failed, reason: Evicted, message: "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi."}
"#);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "pod was evicted: the node was low on ephemeral-storage"
        );
    }

    #[test]
    fn finds_disruption_target_but_not_a_plain_failure() {
        let found = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  phase: Failed
  conditions: [{type: DisruptionTarget, status: "True", reason: EvictionByEvictionAPI, message: "Eviction API: evicting"}]
"#);
        assert_eq!(found.len(), 1);
        assert!(
            run("kind: Pod\nmetadata: {name: p, namespace: ns}\nstatus: {phase: Failed, reason: Error}\n")
                .is_empty()
        );
    }

    #[test]
    fn a_kubelet_termination_without_reason_or_phase_is_an_eviction() {
        let found = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  conditions:
  - type: DisruptionTarget
    status: "True"
    reason: TerminationByKubelet
    message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 92040Ki. "
    lastTransitionTime: "2026-11-22T09:40:00Z"
"#);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "pod was evicted: the node was low on memory"
        );
        assert_eq!(found[0].evidence.resource.as_deref(), Some("memory"));
        assert_eq!(
            found[0].evidence.reason.as_deref(),
            Some("TerminationByKubelet")
        );
        // The Eviction API marks a pod before it stops: not evicted until it has failed.
        let pending = run(r#"
kind: Pod
metadata: {name: p, namespace: ns}
status:
  phase: Running
  conditions: [{type: DisruptionTarget, status: "True", reason: EvictionByEvictionAPI}]
"#);
        assert!(pending.is_empty());
    }
}
