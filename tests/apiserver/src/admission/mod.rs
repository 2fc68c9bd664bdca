//! The admission plugins whose answers rounds' writes meet, in the order kube-apiserver runs
//! them: mutating admission before validation (namespace lifecycle), validating admission after
//! the kind's validation (PVC resize). Webhooks are not modelled.

pub mod namespace_lifecycle;
pub mod pvc_resize;

use serde_json::Value;

use crate::resources::ResourceInfo;
use crate::status::ApiError;
use crate::store::Store;

/// Admission of a create (before validation).
pub fn admit_create(
    store: &Store,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    namespace_lifecycle::admit_create(store, info, namespace, name)
}

/// Validating admission of an update (after the kind's validation).
pub fn validate_update(
    store: &Store,
    info: &ResourceInfo,
    new: &Value,
    old: &Value,
) -> Result<(), ApiError> {
    pvc_resize::validate_update(store, info, new, old)
}
