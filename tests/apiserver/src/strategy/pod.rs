//! Pods (`pkg/registry/core/pod/strategy.go`): status reset on create, a spec that may change
//! only in images, deadlines, tolerations and grace period, and graceful deletion for pods
//! bound to a node.

use serde_json::{Value, json};

use super::{Context, Deletion, Strategy, keep_status};
use crate::field::{ErrorList, FieldError, Path};
use crate::validation::pod_spec::{self, Owner};

/// The default of `spec.terminationGracePeriodSeconds`.
pub const DEFAULT_GRACE_PERIOD: i64 = 30;

/// The Pod strategy.
pub struct PodStrategy;

const UPDATABLE: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

impl Strategy for PodStrategy {
    fn returns_deleted_object(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        let qos = qos_class(object);
        if let Some(map) = object.as_object_mut() {
            map.insert(
                "status".into(),
                json!({"phase": "Pending", "qosClass": qos}),
            );
            // Defaults the API server applies on decode.
            if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
                spec.entry("restartPolicy")
                    .or_insert_with(|| json!("Always"));
                spec.entry("terminationGracePeriodSeconds")
                    .or_insert_with(|| json!(DEFAULT_GRACE_PERIOD));
            }
        }
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        pod_spec::pod_spec(object.get("spec"), &Path::new("spec"), Owner::Pod)
    }

    fn prepare_for_update(&self, _ctx: &Context, new: &mut Value, old: &Value) {
        keep_status(new, old);
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = self.validate(ctx, new);
        let old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
        let munged = munge(new.get("spec").cloned().unwrap_or(Value::Null), &old_spec);
        if munged != old_spec {
            errors.push(FieldError::forbidden(
                &Path::new("spec"),
                &format!("{UPDATABLE}\n{}", spec_diff(&old_spec, &munged)),
            ));
        }
        errors
    }

    fn deletion(&self, pod: &Value, grace_period: Option<i64>) -> Deletion {
        let mut period = grace_period.unwrap_or_else(|| {
            pod.get("spec")
                .and_then(|s| s.get("terminationGracePeriodSeconds"))
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_GRACE_PERIOD)
        });
        let node = pod
            .get("spec")
            .and_then(|s| s.get("nodeName"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Not scheduled, or already terminated: nothing runs that needs time to stop.
        if node.is_empty() || matches!(phase(pod), "Failed" | "Succeeded") {
            period = 0;
        }
        if period < 0 {
            period = 1;
        }
        Deletion::Graceful(period)
    }
}

/// `status.phase`.
pub fn phase(pod: &Value) -> &str {
    pod.get("status")
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `podutil.IsPodReady`: the Ready condition is True.
pub fn is_ready(pod: &Value) -> bool {
    pod.get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Ready")
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_terminating(object: &Value) -> bool {
    object
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|t| !t.is_null())
}

/// The new spec with the fields an update may change taken from the old one, so that what is
/// left to compare is what may not change.
fn munge(mut new: Value, old: &Value) -> Value {
    for field in ["containers", "initContainers"] {
        let old_images: Vec<Option<Value>> = old
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| c.get("image").cloned())
            .collect();
        if let Some(containers) = new.get_mut(field).and_then(Value::as_array_mut)
            && containers.len() == old_images.len()
        {
            for (container, image) in containers.iter_mut().zip(old_images) {
                if let Some(map) = container.as_object_mut() {
                    match image {
                        Some(image) => map.insert("image".into(), image),
                        None => map.remove("image"),
                    };
                }
            }
        }
    }
    let Some(map) = new.as_object_mut() else {
        return new;
    };
    let copy = |map: &mut serde_json::Map<String, Value>, field: &str| match old.get(field) {
        Some(value) => {
            map.insert(field.to_string(), value.clone());
        }
        None => {
            map.remove(field);
        }
    };
    // activeDeadlineSeconds may be set or shortened.
    let old_deadline = old.get("activeDeadlineSeconds").and_then(Value::as_i64);
    let new_deadline = map.get("activeDeadlineSeconds").and_then(Value::as_i64);
    if new_deadline.is_some() && old_deadline.is_none_or(|o| new_deadline.is_some_and(|n| n <= o)) {
        copy(map, "activeDeadlineSeconds");
    }
    // Tolerations may only be added.
    let old_tolerations = old
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let new_tolerations = map
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if old_tolerations.iter().all(|t| new_tolerations.contains(t)) {
        copy(map, "tolerations");
    }
    // A negative grace period may be corrected to 1.
    let old_grace = old
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if old_grace.is_some_and(|g| g < 0)
        && map
            .get("terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            == Some(1)
    {
        copy(map, "terminationGracePeriodSeconds");
    }
    new
}

/// A diff in the shape of the `cmp.Diff` the real message appends (field by field; the real
/// one prints Go structs).
fn spec_diff(old: &Value, new: &Value) -> String {
    let mut keys: Vec<&String> = old
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .chain(new.as_object().into_iter().flat_map(|m| m.keys()))
        .collect();
    keys.sort();
    keys.dedup();
    let mut out = String::from("  core.PodSpec{\n");
    for key in keys {
        let (before, after) = (old.get(key), new.get(key));
        if before != after {
            if let Some(before) = before {
                out.push_str(&format!("- \t{key}: {before},\n"));
            }
            if let Some(after) = after {
                out.push_str(&format!("+ \t{key}: {after},\n"));
            }
        }
    }
    out.push_str("  }\n");
    out
}

/// `qos.GetPodQOS`: Guaranteed when every container has equal CPU and memory requests and
/// limits, BestEffort when none has any, Burstable otherwise.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .flat_map(|field| {
            pod.get("spec")
                .and_then(|s| s.get(*field))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .collect();
    let list = |c: &Value, field: &str| {
        c.get("resources")
            .and_then(|r| r.get(field))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let any = containers
        .iter()
        .any(|c| !list(c, "limits").is_empty() || !list(c, "requests").is_empty());
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let (limits, requests) = (list(c, "limits"), list(c, "requests"));
        ["cpu", "memory"].iter().all(|r| {
            limits.get(*r).is_some() && requests.get(*r).is_none_or(|q| Some(q) == limits.get(*r))
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}
