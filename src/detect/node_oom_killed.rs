//! `nodeOomKilled`: the kernel of a node killed processes because the node ran out of memory.
//!
//! These kills are not in any pod's status when the victim was not a container's main process
//! (or the kill was system-wide): node-problem-detector (`OOMKilling`) and the kubelet
//! (`SystemOOM`) record them only as Events on the Node.

use super::util::{CLOCK_TOLERANCE, future_note, node_target};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::{Object, Timestamp};
use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

/// Event reasons of system OOM kills: node-problem-detector's kernel monitor, and the kubelet.
const REASONS: &[&str] = &["OOMKilling", "SystemOOM"];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct NodeOomKilled {
    /// Kills needed within `within` on one node, summed over its Events' counts.
    #[schemars(range(min = 1, max = 1000000))]
    pub min_count: u32,
    /// Only Events that last happened this recently count.
    pub within: Duration,
}

impl Default for NodeOomKilled {
    fn default() -> Self {
        Self {
            min_count: 1,
            within: Duration::from_secs(6 * 3600),
        }
    }
}

impl NodeOomKilled {
    pub const EXPLAIN: &str = "\
Finds nodes whose kernel killed processes for lack of memory, from Events on the Node with
reason OOMKilling (node-problem-detector's kernel monitor) or SystemOOM (the kubelet). Such
kills often appear in no pod's status. An Event counts when it last happened (series, last,
event or first timestamp) within `within` before the round; one with no time at all counts,
one dated more than 5 minutes after the round's time does not (and the report says so). Its
count (or series count) is the number of kills.
Arguments: minCount (default 1): kills needed on one node; within (default 6h).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: node-oom-notify
spec:
  description: Warn when a node's kernel killed processes for lack of memory in the last hour.
  detect:
    nodeOomKilled: { minCount: 1, within: 1h }
  severity: warning
  remediate:
    - notifyOnly: {}
"#;
}

impl Detect for NodeOomKilled {
    fn reads(&self) -> Reads {
        Reads::Events
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Node
    }

    fn min_occurrences_per_owner(&self) -> u32 {
        self.min_count
    }

    fn detect(&self, object: &Object, ctx: &DetectContext, out: &mut Out) {
        let Object::Event(event) = object else { return };
        let Some(reason) = event.reason.as_deref().filter(|r| REASONS.contains(r)) else {
            return;
        };
        let about = &event.involved_object;
        if about.kind != "Node" || about.name.is_empty() {
            return;
        }
        match event.time().and_then(Timestamp::time) {
            Some(t) if t > ctx.now + CLOCK_TOLERANCE => {
                out.note(future_note(
                    &format!("the {reason} Event about node {}", about.name),
                    t,
                    ctx.now,
                ));
                return;
            }
            Some(t) if ctx.now - t > self.within.chrono() => return,
            // An Event without any time counts: safer to report.
            _ => {}
        }
        let kills = event.occurrences();
        let evidence = Evidence {
            reason: Some(reason.to_owned()),
            occurrences: u32::try_from(kills).ok(),
            since: event.first_timestamp.clone(),
            finished_at: event.time().cloned(),
            message: event.message.clone().filter(|m| m != "..."),
            node: Some(about.name.clone()),
            reporter: event.reporter().map(str::to_owned),
            ..Evidence::default()
        };
        let message = format!(
            "the kernel of node {} killed processes for lack of memory: {kills} time(s) ({reason}{})",
            about.name,
            event
                .reporter()
                .map(|r| format!(" from {r}"))
                .unwrap_or_default(),
        );
        let mut d = Detection::new(node_target(&about.name), message, evidence);
        d.occurrences = u32::try_from(kills).unwrap_or(u32::MAX);
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, object};

    fn run(d: &NodeOomKilled, yaml: &str) -> Out {
        let mut out = Out::default();
        d.detect(&object(yaml), &at("2026-11-22T10:00:00Z"), &mut out);
        out
    }

    const NPD: &str = r#"
apiVersion: v1
kind: Event
metadata: {name: node-a.17f1, namespace: default}
involvedObject: {kind: Node, name: node-a, uid: node-a}
reason: OOMKilling
message: "Killed process 4242 (java) total-vm:9000000kB, anon-rss:7000000kB, file-rss:0kB"
count: 3
firstTimestamp: "2026-11-22T08:00:00Z"
lastTimestamp: "2026-11-22T09:40:00Z"
source: {component: kernel-monitor, host: node-a}
type: Warning
"#;

    #[test]
    fn finds_kernel_monitor_kills_on_the_node_with_their_count() {
        let found = run(&NodeOomKilled::default(), NPD);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.target.display(), "Node node-a");
        assert_eq!(f.occurrences, 3);
        assert_eq!(
            f.message,
            "the kernel of node node-a killed processes for lack of memory: 3 time(s) (OOMKilling from kernel-monitor)"
        );
        assert_eq!(f.evidence.reporter.as_deref(), Some("kernel-monitor"));
        assert_eq!(
            f.evidence.finished_at.as_ref().map(Timestamp::raw),
            Some("2026-11-22T09:40:00Z")
        );
    }

    #[test]
    fn kubelet_system_oom_in_events_k8s_io_form_counts_too() {
        let found = run(
            &NodeOomKilled::default(),
            r#"
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: node-b.1, namespace: default}
regarding: {kind: Node, name: node-b}
reason: SystemOOM
note: "System OOM encountered, victim process: stress, pid: 1234"
eventTime: "2026-11-22T09:00:00.000000Z"
series: {count: 7, lastObservedTime: "2026-11-22T09:59:00.000000Z"}
reportingController: kubelet
type: Warning
"#,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].occurrences, 7);
        assert_eq!(
            found[0].evidence.message.as_deref(),
            Some("System OOM encountered, victim process: stress, pid: 1234")
        );
    }

    #[test]
    fn old_future_and_other_events_are_not_kills() {
        let d = NodeOomKilled {
            within: "1h".parse().expect("duration"),
            ..NodeOomKilled::default()
        };
        assert_eq!(run(&d, NPD).len(), 1);
        let old = NPD.replace("09:40:00Z", "08:40:00Z");
        assert!(run(&d, &old).is_empty(), "last seen 80 minutes ago");
        let future = NPD.replace("2026-11-22T09:40:00Z", "2026-11-23T09:40:00Z");
        let mut out = Out::default();
        d.detect(&object(&future), &at("2026-11-22T10:00:00Z"), &mut out);
        assert!(out.is_empty(), "dated after the round");
        assert_eq!(
            out.notes,
            [
                "the OOMKilling Event about node node-a is dated 2026-11-23T09:40:00Z, after the round's time 2026-11-22T10:00:00Z: not counted (a wrong clock, or a wrong --now?)"
            ]
        );
        let pod = NPD.replace(
            "kind: Node, name: node-a",
            "kind: Pod, namespace: default, name: p",
        );
        assert!(run(&d, &pod).is_empty(), "not about a node");
        let other = NPD.replace("reason: OOMKilling", "reason: KernelOops");
        assert!(run(&d, &other).is_empty());
    }
}
