//! `NamespaceLifecycle` (`plugin/pkg/admission/namespace/lifecycle`): nothing is created in a
//! namespace that does not exist (404, the namespace's NotFound) or is being deleted (403).

use crate::resources::ResourceInfo;
use crate::status::ApiError;
use crate::store::Store;
use crate::strategy::namespace::is_terminating;

/// Refuses creates in missing or terminating namespaces.
pub fn admit_create(
    store: &Store,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    if !info.namespaced || namespace.is_empty() {
        return Ok(());
    }
    let Some(namespaces) = store.info("", "namespaces") else {
        return Ok(());
    };
    match store.get(&namespaces, "", namespace) {
        None => Err(ApiError::not_found(&namespaces, namespace)),
        Some(object) if is_terminating(&object) => Err(ApiError::forbidden(
            &info.group,
            &info.resource,
            name,
            &format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        )),
        Some(_) => Ok(()),
    }
}
