//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with kubectl's usual columns for
//! pods, nodes and deployments, and Name/Age for everything else.

use serde_json::{Value, json};

use crate::resources::ResourceInfo;

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// What each row carries besides its cells (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// A PartialObjectMetadata (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// From the `includeObject` query parameter.
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

fn column(name: &str, kind: &str, priority: u8, description: &str) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": kind, "format": format, "description": description,
           "priority": priority})
}

fn columns(info: &ResourceInfo) -> Vec<Value> {
    let name = column(
        "Name",
        "string",
        0,
        "Name must be unique within a namespace.",
    );
    let age = column("Age", "string", 0, "CreationTimestamp of the object.");
    match (info.group.as_str(), info.resource.as_str()) {
        ("", "pods") => vec![
            name,
            column(
                "Ready",
                "string",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            column(
                "Status",
                "string",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            column(
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been restarted.",
            ),
            age,
            column("IP", "string", 1, "IP address allocated to the pod."),
            column(
                "Node",
                "string",
                1,
                "Name of the node this pod is assigned to.",
            ),
        ],
        ("", "nodes") => vec![
            name,
            column("Status", "string", 0, "The status of the node"),
            column("Roles", "string", 0, "The roles of the node"),
            age,
            column(
                "Version",
                "string",
                0,
                "Kubelet Version reported by the node.",
            ),
        ],
        ("apps", "deployments") => vec![
            name,
            column("Ready", "string", 0, "Number of the pod with ready state"),
            column(
                "Up-to-date",
                "string",
                0,
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            column(
                "Available",
                "string",
                0,
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            age,
        ],
        ("" | "events.k8s.io", "events") => vec![
            column(
                "Last Seen",
                "string",
                0,
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            column(
                "Type",
                "string",
                0,
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            column(
                "Reason",
                "string",
                0,
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            column(
                "Object",
                "string",
                0,
                "The object that this event is about.",
            ),
            column(
                "Subobject",
                "string",
                1,
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
            ),
            column(
                "Source",
                "string",
                1,
                "The component reporting this event. Should be a short machine understandable string.",
            ),
            column(
                "Message",
                "string",
                0,
                "A human-readable description of the status of this operation.",
            ),
            column(
                "First Seen",
                "string",
                1,
                "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
            ),
            column(
                "Count",
                "string",
                1,
                "The number of times this event has occurred.",
            ),
            name_column_last(),
        ],
        ("policy", "poddisruptionbudgets") => vec![
            name,
            column(
                "Min Available",
                "string",
                0,
                "The minimum number of pods that must be available simultaneously. This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
            ),
            column(
                "Max Unavailable",
                "string",
                0,
                "The maximum number of pods that may be unavailable simultaneously. This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
            ),
            column(
                "Allowed Disruptions",
                "integer",
                0,
                "Number of pod disruptions that are currently allowed.",
            ),
            age,
        ],
        _ => vec![name, age],
    }
}

fn name_column_last() -> Value {
    let mut name = column(
        "Name",
        "string",
        1,
        "Name must be unique within a namespace.",
    );
    name["format"] = json!("name");
    name
}

/// How long ago a timestamp was, as kubectl prints it (`<unknown>` when unset).
fn since(value: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(at) => human_duration((now - at.with_timezone(&chrono::Utc)).num_seconds()),
        Err(_) => "<unknown>".to_string(),
    }
}

/// `printEvent` (wide): the cells of a core/v1 Event.
fn event_cells(event: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let first = match text(event, &["firstTimestamp"]) {
        "" => since(text(event, &["eventTime"]), now),
        first => since(first, now),
    };
    let mut last = match text(event, &["lastTimestamp"]) {
        "" => first.clone(),
        last => since(last, now),
    };
    let mut count = int(event, &["count"]);
    if event.get("series").is_some_and(|s| !s.is_null()) {
        last = since(text(event, &["series", "lastObservedTime"]), now);
        count = int(event, &["series", "count"]);
    } else if count == 0 {
        count = 1;
    }
    let kind = text(event, &["involvedObject", "kind"]).to_lowercase();
    let target = match text(event, &["involvedObject", "name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let component = match text(event, &["source", "component"]) {
        "" => text(event, &["reportingComponent"]),
        component => component,
    };
    let instance = match text(event, &["source", "host"]) {
        "" => text(event, &["reportingInstance"]),
        host => host,
    };
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(text(event, &["type"])),
        json!(text(event, &["reason"])),
        json!(target),
        json!(text(event, &["involvedObject", "fieldPath"])),
        json!(source),
        json!(text(event, &["message"]).trim()),
        json!(first),
        json!(count),
        json!(text(event, &["metadata", "name"])),
    ]
}

fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn int(value: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// A duration as kubectl prints ages (`45s`, `12m`, `5h`, `680d`, `3y`).
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s if s < 2 * 365 * 86400 => format!("{}d", s / 86400),
        s => format!("{}y", s / (365 * 86400)),
    }
}

fn age(object: &Value, now: chrono::DateTime<chrono::Utc>) -> String {
    let created = text(object, &["metadata", "creationTimestamp"]);
    match chrono::DateTime::parse_from_rfc3339(created) {
        Ok(created) => human_duration((now - created.with_timezone(&chrono::Utc)).num_seconds()),
        Err(_) => "<unknown>".to_string(),
    }
}

fn pod_status(pod: &Value) -> String {
    if !text(pod, &["metadata", "deletionTimestamp"]).is_empty() {
        return "Terminating".to_string();
    }
    let mut status = match text(pod, &["status", "reason"]) {
        "" => text(pod, &["status", "phase"]).to_string(),
        reason => reason.to_string(),
    };
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for container in statuses.iter().rev() {
        let waiting = text(container, &["state", "waiting", "reason"]);
        let terminated = text(container, &["state", "terminated", "reason"]);
        if !waiting.is_empty() {
            status = waiting.to_string();
        } else if !terminated.is_empty() {
            status = terminated.to_string();
        }
    }
    if status.is_empty() {
        "Unknown".to_string()
    } else {
        status
    }
}

fn cells(info: &ResourceInfo, object: &Value, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    let name = json!(text(object, &["metadata", "name"]));
    let age = json!(age(object, now));
    let or_none = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    match (info.group.as_str(), info.resource.as_str()) {
        ("", "pods") => {
            let containers = object["spec"]["containers"].as_array().map_or(0, Vec::len);
            let statuses = object["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let restarts: i64 = statuses.iter().map(|s| int(s, &["restartCount"])).sum();
            vec![
                name,
                json!(format!("{ready}/{containers}")),
                json!(pod_status(object)),
                json!(restarts.to_string()),
                age,
                json!(or_none(text(object, &["status", "podIP"]))),
                json!(or_none(text(object, &["spec", "nodeName"]))),
            ]
        }
        ("", "nodes") => {
            let ready = object["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready")
                .map(|c| c["status"] == "True");
            let mut status = match ready {
                Some(true) => "Ready".to_string(),
                Some(false) => "NotReady".to_string(),
                None => "Unknown".to_string(),
            };
            if object["spec"]["unschedulable"] == true {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<&str> = object["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(key, _)| key.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            vec![
                name,
                json!(status),
                json!(or_none(&roles.join(","))),
                age,
                json!(text(object, &["status", "nodeInfo", "kubeletVersion"])),
            ]
        }
        ("" | "events.k8s.io", "events") => event_cells(object, now),
        ("policy", "poddisruptionbudgets") => {
            let bound = |field: &str| match object.pointer(&format!("/spec/{field}")) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => "N/A".to_string(),
            };
            vec![
                name,
                json!(bound("minAvailable")),
                json!(bound("maxUnavailable")),
                json!(int(object, &["status", "disruptionsAllowed"])),
                age,
            ]
        }
        ("apps", "deployments") => vec![
            name,
            json!(format!(
                "{}/{}",
                int(object, &["status", "readyReplicas"]),
                int(object, &["spec", "replicas"])
            )),
            json!(int(object, &["status", "updatedReplicas"])),
            json!(int(object, &["status", "availableReplicas"])),
            age,
        ],
        _ => vec![name, age],
    }
}

/// A Table of objects; `metadata` is the list's metadata (resourceVersion, continue...).
pub fn table(
    info: &ResourceInfo,
    objects: &[Value],
    metadata: Value,
    include: IncludeObject,
) -> Value {
    let now = chrono::Utc::now();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut row = json!({"cells": cells(info, object, now)});
            let embedded = match include {
                IncludeObject::None => None,
                IncludeObject::Metadata => Some(json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
                })),
                IncludeObject::Object => Some(object.clone()),
            };
            if let (Some(embedded), Some(map)) = (embedded, row.as_object_mut()) {
                map.insert("object".into(), embedded);
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(info),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;

    #[test]
    fn recognises_kubectl_accept_headers() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }

    #[test]
    fn pod_rows_show_readiness_status_and_restarts() {
        let registry = Registry::builtin();
        let pods = registry.lookup("", "v1", "pods").expect("pods");
        let pod = json!({"metadata": {"name": "web", "namespace": "shop",
                "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 5,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let table = table(
            pods,
            &[pod],
            json!({"resourceVersion": "1"}),
            IncludeObject::Metadata,
        );
        let cells = &table["rows"][0]["cells"];
        assert_eq!(cells[0], "web");
        assert_eq!(cells[1], "1/2");
        assert_eq!(cells[2], "CrashLoopBackOff");
        assert_eq!(cells[3], "7");
        assert_eq!(cells[6], "n1");
        assert_eq!(table["rows"][0]["object"]["metadata"]["namespace"], "shop");
        assert_eq!(table["columnDefinitions"].as_array().map(Vec::len), Some(7));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(7200), "2h");
        assert_eq!(human_duration(86400 * 680), "680d");
        assert_eq!(human_duration(86400 * 365 * 3), "3y");
    }
}
