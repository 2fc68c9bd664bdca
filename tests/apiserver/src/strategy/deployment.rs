//! Deployments (`pkg/registry/apps/deployment/strategy.go`): defaults and status reset on
//! create; `generation` moves when the spec or the annotations change (annotations are copied
//! to ReplicaSets, and `kubectl rollout restart` changes the template's).

use serde_json::{Value, json};

use super::workload::{immutable_selector, replicas, selector_and_template};
use super::{Context, Strategy, bump_generation, keep_status, start_generation};
use crate::field::ErrorList;

/// The Deployment strategy.
pub struct DeploymentStrategy;

impl Strategy for DeploymentStrategy {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        start_generation(object, Some(json!({})));
        if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
            spec.entry("replicas").or_insert_with(|| json!(1));
            spec.entry("revisionHistoryLimit")
                .or_insert_with(|| json!(10));
            spec.entry("progressDeadlineSeconds")
                .or_insert_with(|| json!(600));
            spec.entry("strategy").or_insert_with(|| {
                json!({"type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
            });
        }
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let mut errors = replicas(object);
        errors.extend(selector_and_template(object));
        errors
    }

    fn prepare_for_update(&self, _ctx: &Context, new: &mut Value, old: &Value) {
        keep_status(new, old);
        let annotations = |o: &Value| o.pointer("/metadata/annotations").cloned();
        if new.get("spec") != old.get("spec") || annotations(new) != annotations(old) {
            bump_generation(new, old);
        }
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = self.validate(ctx, new);
        errors.extend(immutable_selector(new, old));
        errors
    }
}
