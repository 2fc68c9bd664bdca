//! ReplicaSets, StatefulSets and DaemonSets (`pkg/registry/apps/*/strategy.go`): status reset on
//! create, `generation` moved by spec changes, templates that restart Always and match the
//! selector, and an immutable selector.

use serde_json::{Value, json};

use super::{Context, Strategy, start_generation};
use crate::field::{ErrorList, FieldError, Path, go};
use crate::selectors::LabelSelector;
use crate::validation::pod_spec::{self, Owner};

/// The strategy of ReplicaSets, StatefulSets and DaemonSets.
pub struct WorkloadStrategy;

impl Strategy for WorkloadStrategy {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, ctx: &Context, object: &mut Value) {
        let status = match ctx.info.resource.as_str() {
            "daemonsets" => json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
                "desiredNumberScheduled": 0, "numberReady": 0}),
            "statefulsets" => json!({"replicas": 0, "availableReplicas": 0}),
            _ => json!({"replicas": 0}),
        };
        start_generation(object, Some(status));
        if ctx.info.resource != "daemonsets"
            && let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut)
        {
            spec.entry("replicas").or_insert_with(|| json!(1));
        }
    }

    fn validate(&self, ctx: &Context, object: &Value) -> ErrorList {
        let mut errors = Vec::new();
        if ctx.info.resource != "daemonsets" {
            errors.extend(replicas(object));
        }
        errors.extend(selector_and_template(object));
        errors
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = self.validate(ctx, new);
        errors.extend(immutable_selector(new, old));
        if ctx.info.resource == "statefulsets" {
            let mutable = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ];
            let strip = |object: &Value| {
                let mut spec = object.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(map) = spec.as_object_mut() {
                    for field in mutable {
                        map.remove(field);
                    }
                }
                spec
            };
            if strip(new) != strip(old) {
                errors.push(FieldError::forbidden(
                    &Path::new("spec"),
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        errors
    }
}

/// `spec.replicas` is not negative.
pub fn replicas(object: &Value) -> ErrorList {
    match object.pointer("/spec/replicas").and_then(Value::as_i64) {
        Some(replicas) if replicas < 0 => vec![FieldError::invalid(
            &Path::new("spec").child("replicas"),
            replicas.to_string(),
            "must be greater than or equal to 0",
        )],
        _ => Vec::new(),
    }
}

/// The selector is required and not empty, and the template (restarting Always) matches it.
pub fn selector_and_template(object: &Value) -> ErrorList {
    let spec = Path::new("spec");
    let mut errors = Vec::new();
    let selector = object.pointer("/spec/selector").filter(|s| !s.is_null());
    match selector {
        None => errors.push(FieldError::required(&spec.child("selector"), "")),
        Some(selector) => {
            let empty = selector
                .get("matchLabels")
                .and_then(Value::as_object)
                .is_none_or(|m| m.is_empty())
                && selector
                    .get("matchExpressions")
                    .and_then(Value::as_array)
                    .is_none_or(|e| e.is_empty());
            if empty {
                errors.push(FieldError::invalid(
                    &spec.child("selector"),
                    go::label_selector(selector),
                    "empty selector is invalid for deployment",
                ));
            }
        }
    }
    let template = object.pointer("/spec/template");
    if let (Some(selector), Some(template)) = (selector, template)
        && let Ok(parsed) = LabelSelector::from_object(Some(selector))
        && !parsed.is_empty()
        && !parsed.matches(template)
    {
        errors.push(FieldError::invalid(
            &spec.child("template").child("metadata").child("labels"),
            go::string_map(
                template
                    .pointer("/metadata/labels")
                    .and_then(Value::as_object),
            ),
            "`selector` does not match template `labels`",
        ));
    }
    errors.extend(pod_spec::pod_template(
        template,
        &spec.child("template"),
        Owner::Workload,
    ));
    errors
}

/// apps/v1 selectors may not change.
pub fn immutable_selector(new: &Value, old: &Value) -> ErrorList {
    let (new_selector, old_selector) = (
        new.pointer("/spec/selector")
            .cloned()
            .unwrap_or(Value::Null),
        old.pointer("/spec/selector")
            .cloned()
            .unwrap_or(Value::Null),
    );
    if new_selector != old_selector {
        vec![FieldError::invalid(
            &Path::new("spec").child("selector"),
            go::label_selector(&new_selector),
            "field is immutable",
        )]
    } else {
        Vec::new()
    }
}
