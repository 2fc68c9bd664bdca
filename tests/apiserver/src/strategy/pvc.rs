//! PersistentVolumeClaims (`pkg/registry/core/persistentvolumeclaim/strategy.go` and
//! `ValidatePersistentVolumeClaim[Update]`): the spec is fixed after creation except the
//! storage request of a bound claim, which may not go down to the recorded capacity. Whether it
//! may grow is decided by the resize admission plugin (`crate::admission::pvc_resize`).

use serde_json::{Value, json};

use super::{Context, Strategy, keep_status};
use crate::field::{ErrorList, FieldError, Path, go};
use crate::quantity::Quantity;

/// The PersistentVolumeClaim strategy.
pub struct PvcStrategy;

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// The storage request of a claim (`spec.resources.requests.storage`).
pub fn requested_storage(pvc: &Value) -> Option<Quantity> {
    Quantity::from_json(pvc.pointer("/spec/resources/requests/storage")?).ok()
}

/// Whether the claim is Bound.
pub fn is_bound(pvc: &Value) -> bool {
    pvc.pointer("/status/phase").and_then(Value::as_str) == Some("Bound")
}

/// The claim's class: `spec.storageClassName`, or the beta annotation.
pub fn storage_class(pvc: &Value) -> &str {
    pvc.pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .and_then(Value::as_str)
        .or_else(|| {
            pvc.pointer("/spec/storageClassName")
                .and_then(Value::as_str)
        })
        .unwrap_or_default()
}

impl Strategy for PvcStrategy {
    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), json!({}));
        }
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let spec = Path::new("spec");
        let mut errors = Vec::new();
        let modes: Vec<&str> = object
            .pointer("/spec/accessModes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if modes.is_empty() {
            errors.push(FieldError::required(
                &spec.child("accessModes"),
                "at least 1 access mode is required",
            ));
        }
        for mode in modes {
            if !ACCESS_MODES.contains(&mode) {
                errors.push(FieldError::not_supported(
                    &spec.child("accessModes"),
                    go::quote(mode),
                    ACCESS_MODES,
                ));
            }
        }
        let storage_path = spec.child("resources").key("storage");
        match object.pointer("/spec/resources/requests/storage") {
            None => errors.push(FieldError::required(&storage_path, "")),
            Some(value) => {
                if let Ok(quantity) = Quantity::from_json(value)
                    && quantity <= Quantity::parse("0").expect("0 parses")
                {
                    errors.push(FieldError::invalid(
                        &storage_path,
                        go::quote(&quantity.canonical()),
                        "must be greater than zero",
                    ));
                }
            }
        }
        errors
    }

    fn prepare_for_update(&self, _ctx: &Context, new: &mut Value, old: &Value) {
        keep_status(new, old);
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = self.validate(ctx, new);
        // The status was taken from the stored claim, so this is the stored phase.
        let bound = is_bound(new);
        let mut new_spec = new.get("spec").cloned().unwrap_or(Value::Null);
        let mut old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
        if bound {
            // A bound claim may change its storage request (and volumeAttributesClassName).
            for spec in [&mut new_spec, &mut old_spec] {
                if let Some(requests) = spec
                    .pointer_mut("/resources/requests")
                    .and_then(Value::as_object_mut)
                {
                    requests.remove("storage");
                }
                if let Some(map) = spec.as_object_mut() {
                    map.remove("volumeAttributesClassName");
                }
            }
        }
        if normalized(&new_spec) != normalized(&old_spec) {
            errors.push(FieldError::forbidden(
                &Path::new("spec"),
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            ));
        }
        // RecoverVolumeExpansionFailure (on in 1.32): a request may go back down after a failed
        // expansion, but never to the capacity already recorded.
        let (new_size, old_size) = (requested_storage(new), requested_storage(old));
        let capacity = old
            .pointer("/status/capacity/storage")
            .and_then(|v| Quantity::from_json(v).ok());
        if let (Some(new_size), Some(old_size)) = (new_size, old_size)
            && new_size < old_size
            && capacity.is_some_and(|c| new_size <= c)
        {
            errors.push(FieldError::forbidden(
                &Path::new("spec")
                    .child("resources")
                    .child("requests")
                    .child("storage"),
                "field can not be less than status.capacity",
            ));
        }
        errors
    }
}

/// A spec with its storage quantities replaced by their values, so `1Gi` equals `1024Mi`
/// (`apiequality.Semantic` compares quantities by value).
fn normalized(spec: &Value) -> Value {
    let mut spec = spec.clone();
    for field in ["requests", "limits"] {
        if let Some(list) = spec
            .pointer_mut(&format!("/resources/{field}"))
            .and_then(Value::as_object_mut)
        {
            for value in list.values_mut() {
                if let Ok(quantity) = Quantity::from_json(value) {
                    *value = json!(quantity.canonical());
                }
            }
        }
    }
    spec
}
