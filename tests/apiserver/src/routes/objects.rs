//! get, list, create, update, patch and delete on a main resource.

use http::Method;
use serde_json::{Value, json};

use super::{ApiRequest, ListReply, Outcome, Reply, ResourceRoute};
use crate::patch::{self, PatchError, PatchType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::State;
use crate::status::ApiError;
use crate::store::{ListQuery, Preconditions, Store, UpdateTarget};

pub(super) fn handle(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    let info = &route.info;
    match (&request.method, route.is_collection()) {
        (&Method::GET | &Method::HEAD, true) => list(state, request, route),
        (&Method::GET | &Method::HEAD, false) => {
            let store = state.read_store();
            store
                .get(info, &route.namespace, &route.name)
                .map(|object| Reply::Json(200, object.clone()))
                .ok_or_else(|| ApiError::not_found(info, &route.name))
        }
        (&Method::POST, true) => {
            if info.namespaced && route.namespace.is_empty() {
                return Err(ApiError::method_not_allowed());
            }
            let body = request.json_body()?;
            let dry_run = request.query.dry_run()?;
            let created = state
                .write_store()
                .create(info, &route.namespace, body, dry_run)?;
            Ok(Reply::Json(201, created))
        }
        (&Method::PUT, false) => {
            let body = request.json_body()?;
            let dry_run = request.query.dry_run()?;
            let updated = state.write_store().update(
                info,
                &route.namespace,
                &route.name,
                body,
                UpdateTarget::Main,
                dry_run,
            )?;
            Ok(Reply::Json(200, updated))
        }
        (&Method::PATCH, false) => {
            let dry_run = request.query.dry_run()?;
            let mut store = state.write_store();
            let patched = patched_object(&store, request, route)?;
            let updated = store.update(
                info,
                &route.namespace,
                &route.name,
                patched,
                UpdateTarget::Main,
                dry_run,
            )?;
            Ok(Reply::Json(200, updated))
        }
        (&Method::DELETE, false) => {
            let options = DeleteOptions::from_request(request)?;
            let deleted = state.write_store().delete(
                info,
                &route.namespace,
                &route.name,
                &options.preconditions,
                options.dry_run,
            )?;
            Ok(Reply::Json(200, deleted))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn list(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if request.query.flag("watch") {
        return Err(ApiError::bad_request(
            "watch is not supported by the test API server",
        ));
    }
    let labels = LabelSelector::parse(request.query.get("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(request.query.get("fieldSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = match request.query.get("limit") {
        None | Some("") => None,
        Some(limit) => Some(limit.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid limit {limit:?}: must be a positive integer"
            ))
        })?),
    };
    let query = ListQuery {
        namespace: Some(route.namespace.clone()).filter(|ns| !ns.is_empty()),
        labels,
        fields,
        limit,
        continue_token: request.query.get("continue").map(str::to_string),
    };
    let page = state.read_store().list(&route.info, &query)?;
    let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
    if let Some(map) = metadata.as_object_mut() {
        if let Some(token) = page.continue_token {
            map.insert("continue".into(), json!(token));
        }
        if let Some(count) = page.remaining_item_count {
            map.insert("remainingItemCount".into(), json!(count));
        }
    }
    Ok(Reply::List(ListReply {
        kind: format!("{}List", route.info.kind),
        api_version: route.info.api_version(),
        metadata,
        items: page.items,
    }))
}

/// The stored object with the request's patch applied (not stored yet).
pub(super) fn patched_object(
    store: &Store,
    request: &ApiRequest,
    route: &ResourceRoute,
) -> Result<Value, ApiError> {
    let current = store
        .get(&route.info, &route.namespace, &route.name)
        .ok_or_else(|| ApiError::not_found(&route.info, &route.name))?;
    apply_patch(request, current)
}

/// Applies the request's patch to a value, answering 415 for unknown patch types.
pub(super) fn apply_patch(request: &ApiRequest, current: &Value) -> Result<Value, ApiError> {
    let patch_type = PatchType::from_content_type(&request.content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(&request.content_type))?;
    patch::apply(patch_type, current, &request.body).map_err(|error| match error {
        PatchError::Body(message) => ApiError::bad_request(message),
        PatchError::Operation(message) => ApiError::new(422, "Invalid", message),
    })
}

/// The DeleteOptions of a request (body and query).
pub(super) struct DeleteOptions {
    pub(super) preconditions: Preconditions,
    pub(super) dry_run: bool,
}

impl DeleteOptions {
    pub(super) fn from_request(request: &ApiRequest) -> Result<Self, ApiError> {
        let body = request.json_body()?;
        let mut options = Self::from_value(&body)?;
        options.dry_run |= request.query.dry_run()?;
        if let Some(grace) = request.query.get("gracePeriodSeconds")
            && grace.parse::<i64>().is_err()
        {
            return Err(ApiError::bad_request(format!(
                "invalid gracePeriodSeconds {grace:?}"
            )));
        }
        Ok(options)
    }

    /// Reads a DeleteOptions object (`preconditions`, `dryRun`, `gracePeriodSeconds`).
    pub(super) fn from_value(body: &Value) -> Result<Self, ApiError> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let preconditions = body.get("preconditions");
        let dry_run = match body.get("dryRun") {
            None | Some(Value::Null) => false,
            Some(Value::Array(values)) => {
                if values.iter().any(|v| v.as_str() != Some("All")) {
                    return Err(ApiError::bad_request(
                        "Invalid dry run value: only \"All\" is supported",
                    ));
                }
                !values.is_empty()
            }
            Some(_) => return Err(ApiError::bad_request("dryRun must be a list")),
        };
        if let Some(grace) = body.get("gracePeriodSeconds")
            && !grace.is_null()
            && !grace.is_i64()
        {
            return Err(ApiError::bad_request(
                "gracePeriodSeconds must be an integer",
            ));
        }
        Ok(Self {
            preconditions: Preconditions {
                uid: text(preconditions.and_then(|p| p.get("uid"))),
                resource_version: text(preconditions.and_then(|p| p.get("resourceVersion"))),
            },
            dry_run,
        })
    }
}
