//! `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, answered from RBAC.

use http::Method;
use serde_json::{Value, json};

use super::{ApiRequest, Outcome, Reply};
use crate::rbac::{self, Attributes};
use crate::server::State;
use crate::status::ApiError;

pub(super) fn self_subject_access_review(state: &State, request: &ApiRequest) -> Outcome {
    if request.method != Method::POST {
        return Err(ApiError::method_not_allowed());
    }
    let mut review = request.json_body()?;
    let spec = review.get("spec").cloned().unwrap_or(Value::Null);
    let text = |v: &Value, field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let attributes = if let Some(resource) = spec.get("resourceAttributes") {
        Attributes {
            verb: text(resource, "verb"),
            group: text(resource, "group"),
            resource: text(resource, "resource"),
            subresource: text(resource, "subresource"),
            namespace: text(resource, "namespace"),
            name: text(resource, "name"),
            path: String::new(),
        }
    } else if let Some(non_resource) = spec.get("nonResourceAttributes") {
        Attributes {
            verb: text(non_resource, "verb"),
            path: text(non_resource, "path"),
            ..Attributes::default()
        }
    } else {
        return Err(ApiError::new(
            422,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    let allowed = {
        let store = state.read_store();
        rbac::allowed(&store, &request.identity, &attributes)
    };
    let status = if allowed {
        json!({"allowed": true, "reason": "RBAC: allowed"})
    } else {
        json!({"allowed": false})
    };
    if let Some(map) = review.as_object_mut() {
        map.insert("apiVersion".into(), json!("authorization.k8s.io/v1"));
        map.insert("kind".into(), json!("SelfSubjectAccessReview"));
        map.entry("metadata").or_insert_with(|| json!({}));
        map.insert("status".into(), status);
    }
    Ok(Reply::Json(201, review))
}
