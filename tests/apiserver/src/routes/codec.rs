//! Request bodies decoded as the typed decoder would (apiVersion and kind checked against the
//! resource, quantities parsed), and the conversion between what is stored and what the
//! requested API version serves (events.k8s.io/v1 Events are stored as core/v1 Events).

use serde_json::Value;

use super::ApiRequest;
use crate::resources::ResourceInfo;
use crate::status::ApiError;
use crate::store::{EncodedObject, Store};
use crate::strategy::event;
use crate::validation::quantity_syntax;

/// The Go package of a group's internal types, as conversion errors name it.
fn internal_package(group: &str) -> &str {
    match group {
        "" | "events.k8s.io" => "core",
        "coordination.k8s.io" => "coordination",
        "storage.k8s.io" => "storage",
        "rbac.authorization.k8s.io" => "rbac",
        "authorization.k8s.io" => "authorization",
        other => other.split('.').next().unwrap_or(other),
    }
}

/// What a body must be: the kind, its group/version, and the other versions accepted.
pub(crate) struct Expected<'a> {
    pub(crate) kind: &'a str,
    pub(crate) group: &'a str,
    pub(crate) version: &'a str,
    pub(crate) also: &'a [&'a str],
}

impl<'a> Expected<'a> {
    /// The kind of a resource's objects.
    pub(crate) fn of(info: &'a ResourceInfo) -> Self {
        Self {
            kind: &info.kind,
            group: &info.group,
            version: &info.version,
            also: &[],
        }
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Checks a body's `apiVersion` and `kind` (absent ones default to the expected) the way
/// decoding and `AcceptsGroupVersion` refuse them (400).
pub(crate) fn check_type(store: &Store, body: &Value, expected: &Expected) -> Result<(), ApiError> {
    let expected_api_version = expected.api_version();
    let api_version = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or(&expected_api_version);
    let kind = body
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .unwrap_or(expected.kind);
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    let known = store.registry().by_kind(api_version, kind).is_some()
        || (kind == expected.kind
            && (api_version == expected_api_version || expected.also.contains(&api_version)));
    if !known {
        return Err(ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {}: no kind {kind:?} is registered for version {api_version:?} in scheme \"pkg/api/legacyscheme/scheme.go:30\"",
            expected.kind
        )));
    }
    if kind != expected.kind {
        return Err(ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {}: converting ({version}.{kind}) to ({}.{}): unknown conversion",
            expected.kind,
            internal_package(expected.group),
            expected.kind
        )));
    }
    if api_version != expected_api_version && !expected.also.contains(&api_version) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({expected_api_version})"
        )));
    }
    Ok(())
}

/// The body of a create or update as the typed decoder accepts it, in the stored shape.
pub(crate) fn decode_object(
    store: &Store,
    request: &ApiRequest,
    info: &ResourceInfo,
) -> Result<Value, ApiError> {
    let body = request.json_body()?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    }
    check_type(store, &body, &Expected::of(info))?;
    if let Err(error) = quantity_syntax(&body) {
        return Err(ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {kind}: {error}",
            kind = info.kind,
            version = info.version
        )));
    }
    Ok(to_storage(info, body))
}

/// The stored shape of an object sent to this resource.
pub(crate) fn to_storage(info: &ResourceInfo, object: Value) -> Value {
    if info.storage_key() != info.key() {
        event::to_core(&object)
    } else if info.group.is_empty() && info.resource == "events" {
        event::normalize_core(object)
    } else {
        object
    }
}

/// A stored object as this resource serves it.
pub(crate) fn present(info: &ResourceInfo, object: Value) -> Value {
    if info.storage_key() != info.key() {
        event::to_events_v1(&object)
    } else {
        object
    }
}

/// [`present`] on stored bytes: decoded only when the served shape differs from the stored.
pub(crate) fn present_encoded(info: &ResourceInfo, object: EncodedObject) -> EncodedObject {
    if info.storage_key() != info.key() {
        EncodedObject::encode(&event::to_events_v1(&object.decode()))
    } else {
        object
    }
}
