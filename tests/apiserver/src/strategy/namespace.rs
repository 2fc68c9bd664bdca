//! Namespaces (`pkg/registry/core/namespace`): DNS-label names, Active on create with the
//! `kubernetes` finalizer and the `kubernetes.io/metadata.name` label, and a delete that only
//! marks them Terminating until the namespace controller has emptied them.

use serde_json::{Value, json};

use super::{Context, Deletion, Strategy, keep_status};
use crate::store::metadata_mut;
use crate::validation::NameRule;

/// The Namespace strategy.
pub struct NamespaceStrategy;

fn label_name(object: &mut Value) {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let meta = metadata_mut(object);
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if let Some(labels) = labels.as_object_mut() {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
}

impl Strategy for NamespaceStrategy {
    fn returns_deleted_object(&self) -> bool {
        true
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Label
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), json!({"phase": "Active"}));
            let spec = map.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                spec.entry("finalizers")
                    .or_insert_with(|| json!(["kubernetes"]));
            }
        }
        label_name(object);
    }

    fn prepare_for_update(&self, _ctx: &Context, new: &mut Value, old: &Value) {
        keep_status(new, old);
        if let Some(map) = new.as_object_mut() {
            match old.get("spec") {
                Some(spec) => map.insert("spec".into(), spec.clone()),
                None => map.remove("spec"),
            };
        }
        label_name(new);
    }

    fn deletion(&self, _object: &Value, _grace_period: Option<i64>) -> Deletion {
        Deletion::Finalize
    }
}

/// Whether a namespace is being deleted.
pub fn is_terminating(namespace: &Value) -> bool {
    namespace.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        || super::pod::is_terminating(namespace)
}
