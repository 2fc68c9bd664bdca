//! `PersistentVolumeClaimResize` (`plugin/pkg/admission/storage/persistentvolume/resize`): a
//! claim may grow only when it is bound and its StorageClass allows volume expansion.

use serde_json::Value;

use crate::resources::ResourceInfo;
use crate::status::ApiError;
use crate::store::Store;
use crate::strategy::pvc::{is_bound, requested_storage, storage_class};

/// Refuses growing claims that are not bound or whose class does not allow expansion.
pub fn validate_update(
    store: &Store,
    info: &ResourceInfo,
    new: &Value,
    old: &Value,
) -> Result<(), ApiError> {
    if (info.group.as_str(), info.resource.as_str()) != ("", "persistentvolumeclaims") {
        return Ok(());
    }
    let (Some(new_size), Some(old_size)) = (requested_storage(new), requested_storage(old)) else {
        return Ok(());
    };
    if new_size <= old_size {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let forbidden = |reason: &str| Err(ApiError::forbidden("", &info.resource, name, reason));
    if !is_bound(old) {
        return forbidden("Only bound persistent volume claims can be expanded");
    }
    if !allows_resize(store, new, old) {
        return forbidden(
            "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
        );
    }
    Ok(())
}

fn allows_resize(store: &Store, new: &Value, old: &Value) -> bool {
    let (class, old_class) = (storage_class(new), storage_class(old));
    if class.is_empty() || class != old_class {
        return false;
    }
    let Some(classes) = store.info("storage.k8s.io", "storageclasses") else {
        return false;
    };
    store
        .get(&classes, "", class)
        .and_then(|sc| sc.get("allowVolumeExpansion").and_then(Value::as_bool))
        .unwrap_or(false)
}
