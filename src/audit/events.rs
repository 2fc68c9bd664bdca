//! events.k8s.io/v1 Events on the targets of actions: `RemediationApplied`,
//! `RemediationSkipped`, `RemediationFailed`, with a note that names the run, the playbook and
//! its digest, and the guard and reason of a skip. `kubectl get events` and `kubectl events`
//! show them with the target's own Events.

use crate::api::request::Request;
use crate::api::resource::{ObjectRef, Resource};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const REPORTING_CONTROLLER: &str = "rounds.dev/rounds";
/// events.k8s.io/v1 refuses longer notes.
const MAX_NOTE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Applied,
    Skipped,
    Failed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "RemediationApplied",
            Self::Skipped => "RemediationSkipped",
            Self::Failed => "RemediationFailed",
        }
    }
}

/// One Event to record.
pub struct Record<'a> {
    pub regarding: &'a ObjectRef,
    /// Another object the action made (the Job of runJob).
    pub related: Option<&'a ObjectRef>,
    pub reason: Reason,
    pub action: &'a str,
    pub note: String,
    pub run_id: &'a str,
    /// Who reports it: the pod (or host) rounds runs as.
    pub instance: &'a str,
}

fn reference(r: &ObjectRef) -> Value {
    let mut v = json!({
        "apiVersion": r.resource().api_version(),
        "kind": r.kind(),
        "name": r.name(),
    });
    if let Some(ns) = r.namespace() {
        v["namespace"] = json!(ns);
    }
    if let Some(uid) = r.uid() {
        v["uid"] = json!(uid);
    }
    v
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The create request for one Event. Its name is derived from the run, action, target and
/// reason, so a retried request cannot record it twice.
pub fn request(record: &Record, at: DateTime<Utc>) -> Option<Request> {
    let t = record.regarding;
    // Events about cluster-scoped objects (nodes) live in `default`, as the kubelet's do.
    let namespace = t.namespace().unwrap_or("default");
    let mut h = Sha256::new();
    for part in [
        record.run_id,
        record.action,
        &t.key(),
        record.reason.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = hex::encode(h.finalize());
    let base: String = t.name().chars().take(200).collect();
    let name = format!("{}.{}", base.trim_end_matches('.'), &digest[..16]);
    let event = ObjectRef::namespaced(&Resource::EVENT, namespace, &name).ok()?;
    let mut body = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "rounds"}},
        "eventTime": at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": truncate(record.instance, 128),
        "action": truncate(record.action, 128),
        "reason": record.reason.as_str(),
        "regarding": reference(t),
        "note": truncate(&record.note, MAX_NOTE),
        "type": if record.reason == Reason::Failed { "Warning" } else { "Normal" },
    });
    if let Some(r) = record.related {
        body["related"] = reference(r);
    }
    Some(Request::create(&event, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_names_its_target_and_stays_within_the_limits() {
        let node = ObjectRef::cluster(&Resource::NODE, "node-b").expect("ref");
        let record = Record {
            regarding: &node,
            related: None,
            reason: Reason::Skipped,
            action: "cordonNode",
            note: "x".repeat(5000),
            run_id: "run-1",
            instance: "rounds-abc",
        };
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .expect("time")
            .to_utc();
        let r = request(&record, at).expect("request");
        assert_eq!(r.path(), "/apis/events.k8s.io/v1/namespaces/default/events");
        let body = r.body().expect("body");
        assert_eq!(
            body["regarding"],
            json!({"apiVersion": "v1", "kind": "Node", "name": "node-b"})
        );
        assert_eq!(body["note"].as_str().map(str::len), Some(1024));
        assert_eq!(body["eventTime"], "2026-11-22T10:00:00.000000Z");
        assert!(
            body["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("node-b."))
        );
        assert_eq!(request(&record, at).map(|r| r.body()), Some(Some(body)));
    }
}
