//! Kubernetes `Status` bodies and the API errors that produce them.

use serde_json::{Value, json};

use crate::resources::ResourceInfo;

/// An error answered to a client as a Kubernetes `Status` object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code, also the `code` field of the body.
    pub code: u16,
    /// The `reason` field (`NotFound`, `Forbidden`, ...).
    pub reason: String,
    /// The human readable `message` field.
    pub message: String,
    /// The `details` field, if any.
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code, a reason and a message.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Adds a `details` object.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Appends a cause to `details.causes`.
    pub fn with_cause(mut self, cause: Value) -> Self {
        let details = self.details.get_or_insert_with(|| json!({}));
        if let Some(map) = details.as_object_mut() {
            let causes = map.entry("causes").or_insert_with(|| json!([]));
            if let Some(list) = causes.as_array_mut() {
                list.push(cause);
            }
        }
        self
    }

    /// Adds a `Retry-After` header (also `details.retryAfterSeconds`).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        let details = self.details.get_or_insert_with(|| json!({}));
        if let Some(map) = details.as_object_mut() {
            map.insert("retryAfterSeconds".into(), json!(seconds));
        }
        self
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401 Unauthorized, as the real API server answers a missing or unknown token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 404 for a path that names no API resource.
    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 404 for a missing object.
    pub fn not_found(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", info.qualified_resource()),
        )
        .with_details(resource_details(info, name))
    }

    /// 409 AlreadyExists.
    pub fn already_exists(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", info.qualified_resource()),
        )
        .with_details(resource_details(info, name))
    }

    /// 409 Conflict with the real "the object has been modified" wording or another cause.
    pub fn conflict(info: &ResourceInfo, name: &str, cause: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {cause}",
                info.qualified_resource()
            ),
        )
        .with_details(resource_details(info, name))
    }

    /// 409 Conflict naming a kind instead of a resource, as `rest.BeforeDelete` words failed
    /// preconditions (`Operation cannot be fulfilled on Pod "web": ...`).
    pub fn conflict_on_kind(info: &ResourceInfo, name: &str, cause: &str) -> Self {
        let qualified = info.qualified_kind();
        let mut details = serde_json::Map::new();
        details.insert("name".into(), json!(name));
        if !info.group.is_empty() {
            details.insert("group".into(), json!(info.group));
        }
        details.insert("kind".into(), json!(info.kind));
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {cause}"),
        )
        .with_details(Value::Object(details))
    }

    /// 409 Conflict for a stale `metadata.resourceVersion`.
    pub fn modified(info: &ResourceInfo, name: &str) -> Self {
        Self::conflict(
            info,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 403 Forbidden for one object (`errors.NewForbidden`): `{resource}.{group} "name" is
    /// forbidden: {reason}`.
    pub fn forbidden(group: &str, resource: &str, name: &str, reason: &str) -> Self {
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        let message = if name.is_empty() {
            format!("{qualified} is forbidden: {reason}")
        } else {
            format!("{qualified} \"{name}\" is forbidden: {reason}")
        };
        let mut details = serde_json::Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            details.insert("group".into(), json!(group));
        }
        details.insert("kind".into(), json!(resource));
        Self::new(403, "Forbidden", message).with_details(Value::Object(details))
    }

    /// 429 TooManyRequests (`errors.NewTooManyRequests`); a positive `retry_after` also sets
    /// `details.retryAfterSeconds` and the `Retry-After` header.
    pub fn too_many_requests(message: &str, retry_after: u64) -> Self {
        let error = Self::new(429, "TooManyRequests", message).with_details(json!({}));
        if retry_after > 0 {
            error.with_retry_after(retry_after)
        } else {
            error
        }
    }

    /// 413 RequestEntityTooLarge, as a body over the limit is answered.
    pub fn request_entity_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// An error that is not a Status in the real server (a plain Go error): `reason` is
    /// empty and omitted, as `ErrorToAPIStatus` answers it.
    pub fn unknown(code: u16, message: impl Into<String>) -> Self {
        Self::new(code, "", message)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {content_type:?})"
            ),
        )
    }

    /// 410 Expired for a continue token that is too old or malformed.
    pub fn expired_continue() -> Self {
        Self::new(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter, or use the continue token \
             in this response to retrieve the remainder of the results. Continuing with the \
             provided token results in an inconsistent list - objects that were created, \
             modified, or deleted between the time the first chunk was returned and now may \
             show up in the list.",
        )
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` body.
    pub fn to_status(&self) -> Value {
        let mut status = serde_json::Map::new();
        status.insert("kind".into(), json!("Status"));
        status.insert("apiVersion".into(), json!("v1"));
        status.insert("metadata".into(), json!({}));
        status.insert("status".into(), json!("Failure"));
        status.insert("message".into(), json!(self.message));
        if !self.reason.is_empty() {
            status.insert("reason".into(), json!(self.reason));
        }
        if let Some(details) = &self.details {
            status.insert("details".into(), details.clone());
        }
        status.insert("code".into(), json!(self.code));
        Value::Object(status)
    }
}

/// What a delete of a kind that does not return the deleted object answers
/// (`Store.finalizeDelete`): Success with name, group, the plural resource as `kind`, and uid.
pub fn deleted_status(info: &ResourceInfo, name: &str, uid: &str) -> Value {
    let mut details = serde_json::Map::new();
    details.insert("name".into(), json!(name));
    if !info.group.is_empty() {
        details.insert("group".into(), json!(info.group));
    }
    details.insert("kind".into(), json!(info.resource));
    if !uid.is_empty() {
        details.insert("uid".into(), json!(uid));
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// The `details` object of errors about one object: `name`, `group` (omitted when core) and
/// `kind` (the plural resource, as the real server writes it).
pub fn resource_details(info: &ResourceInfo, name: &str) -> Value {
    let mut details = serde_json::Map::new();
    if !name.is_empty() {
        details.insert("name".into(), json!(name));
    }
    if !info.group.is_empty() {
        details.insert("group".into(), json!(info.group));
    }
    details.insert("kind".into(), json!(info.resource));
    Value::Object(details)
}
