//! get, list, create, update, patch, delete and deletecollection on a main resource: the
//! handlers of `endpoints/handlers/{get,create,update,patch,delete}.go`, in front of the
//! generic write path (`crate::registry`).

use http::Method;
use serde_json::{Value, json};

use super::codec::{decode_object, present, present_encoded, to_storage};
use super::options::{RawDeleteOptions, Write, write_options};
use super::{ApiRequest, ListReply, Outcome, Reply, ResourceRoute};
use crate::field::{self, FieldError, Path, go};
use crate::patch::{self, PatchError, PatchType};
use crate::registry::{self, UpdateTarget};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::State;
use crate::status::ApiError;
use crate::store::{EncodedObject, ListQuery, Store, metadata_str};
use crate::validation::quantity_syntax;

pub(super) fn handle(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    let info = &route.info;
    match (&request.method, route.is_collection()) {
        (&Method::GET | &Method::HEAD, true) => list(state, request, route),
        (&Method::GET | &Method::HEAD, false) => {
            let store = state.read_store();
            store
                .get(info, &route.namespace, &route.name)
                .map(|object| Reply::Json(200, present(info, object)))
                .ok_or_else(|| ApiError::not_found(info, &route.name))
        }
        (&Method::POST, true) => {
            if info.namespaced && route.namespace.is_empty() {
                return Err(ApiError::method_not_allowed());
            }
            request.body()?;
            let dry_run = write_options(&request.query, Write::Create)?;
            let mut store = state.write_store();
            let body = decode_object(&store, request, info)?;
            let created = registry::create(&mut store, info, &route.namespace, body, dry_run)?;
            Ok(Reply::Json(201, present(info, created)))
        }
        (&Method::PUT, false) => {
            request.body()?;
            let dry_run = write_options(&request.query, Write::Update)?;
            let mut store = state.write_store();
            let body = decode_object(&store, request, info)?;
            check_name(&body, &route.name)?;
            let updated = registry::update(
                &mut store,
                info,
                &route.namespace,
                &route.name,
                body,
                UpdateTarget::Main,
                dry_run,
                true,
            )?;
            let code = if updated.created { 201 } else { 200 };
            Ok(Reply::Json(code, present(info, updated.object)))
        }
        (&Method::PATCH, false) => {
            request.body()?;
            let dry_run = write_options(&request.query, Write::Patch)?;
            let mut store = state.write_store();
            let patched = patched_object(&store, request, route)?;
            let updated = registry::update(
                &mut store,
                info,
                &route.namespace,
                &route.name,
                patched,
                UpdateTarget::Main,
                dry_run,
                false,
            )?;
            Ok(Reply::Json(200, present(info, updated.object)))
        }
        (&Method::DELETE, false) => {
            let options = RawDeleteOptions::from_request(request)?.validate()?;
            let deleted = registry::delete(
                &mut state.write_store(),
                info,
                &route.namespace,
                &route.name,
                &options,
            )?;
            let body = if deleted.body.get("kind") == Some(&json!("Status")) {
                deleted.body
            } else {
                present(info, deleted.body)
            };
            Ok(Reply::Json(200, body))
        }
        (&Method::DELETE, true) => delete_collection(state, request, route),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `checkName`: the object's name, when set, is the URL's.
fn check_name(body: &Value, name: &str) -> Result<(), ApiError> {
    match metadata_str(body, "name") {
        Some(body_name) if !body_name.is_empty() && body_name != name => {
            Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )))
        }
        _ => Ok(()),
    }
}

/// Field selector names of events.k8s.io/v1, as the core/v1 fields they are stored in.
fn stored_field_selector(route: &ResourceRoute, selector: &str) -> String {
    if route.info.storage_key() == route.info.key() {
        return selector.to_string();
    }
    selector
        .replace("regarding.", "involvedObject.")
        .replace("reportingController", "reportingComponent")
        .replace("deprecatedSource", "source")
}

fn list_query(request: &ApiRequest, route: &ResourceRoute) -> Result<ListQuery, ApiError> {
    let labels = LabelSelector::parse(request.query.get("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(&stored_field_selector(
        route,
        request.query.get("fieldSelector").unwrap_or_default(),
    ))
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = match request.query.get("limit") {
        None | Some("") => None,
        Some(limit) => Some(limit.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid limit {limit:?}: must be a positive integer"
            ))
        })?),
    };
    Ok(ListQuery {
        namespace: Some(route.namespace.clone()).filter(|ns| !ns.is_empty()),
        labels,
        fields,
        limit,
        continue_token: request.query.get("continue").map(str::to_string),
    })
}

fn list(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if request.query.flag("watch") {
        return Err(ApiError::bad_request(
            "watch is not supported by the test API server",
        ));
    }
    let query = list_query(request, route)?;
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
        items: page
            .items
            .into_iter()
            .map(|item| present_encoded(&route.info, item))
            .collect(),
    }))
}

/// DELETE on a collection: every matching object is deleted as a single DELETE would, and
/// the list as it was is answered.
fn delete_collection(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if route.info.namespaced && route.namespace.is_empty() {
        return Err(ApiError::method_not_allowed());
    }
    let query = list_query(request, route)?;
    let options = RawDeleteOptions::from_request(request)?.validate()?;
    let mut store = state.write_store();
    let items: Vec<Value> = store
        .list(&route.info, &query)?
        .items
        .iter()
        .map(EncodedObject::decode)
        .collect();
    for item in &items {
        let name = metadata_str(item, "name").unwrap_or_default().to_string();
        match registry::delete(&mut store, &route.info, &route.namespace, &name, &options) {
            Ok(_) => {}
            Err(error) if error.code == 404 => {}
            Err(error) => return Err(error),
        }
    }
    Ok(Reply::Json(
        200,
        json!({"kind": format!("{}List", route.info.kind), "apiVersion": route.info.api_version(),
            "metadata": {"resourceVersion": store.resource_version().to_string()},
            "items": items.into_iter().map(|i| present(&route.info, i)).collect::<Vec<_>>()}),
    ))
}

/// The stored object with the request's patch applied (not stored yet), in the stored shape.
pub(super) fn patched_object(
    store: &Store,
    request: &ApiRequest,
    route: &ResourceRoute,
) -> Result<Value, ApiError> {
    let current = store
        .get(&route.info, &route.namespace, &route.name)
        .ok_or_else(|| ApiError::not_found(&route.info, &route.name))?;
    let current = present(&route.info, current);
    let patched = apply_patch(request, &route.info, &current)?;
    Ok(to_storage(&route.info, patched))
}

/// Applies the request's patch to a value (415 for unknown patch types, and for strategic
/// merge patches of custom resources), then checks the result decodes.
pub(super) fn apply_patch(
    request: &ApiRequest,
    info: &crate::resources::ResourceInfo,
    current: &Value,
) -> Result<Value, ApiError> {
    let patch_type = PatchType::from_content_type(&request.content_type)
        .filter(|t| info.builtin || *t != PatchType::Strategic)
        .ok_or_else(|| ApiError::unsupported_media_type(&request.content_type))?;
    let patched =
        patch::apply(patch_type, current, &request.body).map_err(|error| match error {
            PatchError::Body(message) => ApiError::bad_request(message),
            PatchError::Operation(message) => {
                // `NewGenericServerResponse(422, ...)`: the patch library's text is the cause.
                ApiError::new(
                    422,
                    "Invalid",
                    "the server rejected our request due to an error in our request",
                )
                .with_details(json!({"causes": [
                {"reason": "UnexpectedServerResponse", "message": message}]}))
            }
            // Not a Status error in kube-apiserver either: a bare 500.
            PatchError::NoMergeKey(message) => ApiError::unknown(500, message),
        })?;
    if let Err(error) = quantity_syntax(&patched) {
        // The patched object does not decode: 422 on the field `patch`, showing the patch
        // (strategic merge) or the patched object (JSON and merge patches).
        let shown = match patch_type {
            PatchType::Strategic => serde_json::from_slice::<Value>(&request.body)
                .map(|p| go::value(&p))
                .unwrap_or_default(),
            _ => patched.to_string(),
        };
        let cause = FieldError::invalid(&Path::new("patch"), go::quote(&shown), &error.to_string());
        return Err(field::invalid("", "", "", &[cause]));
    }
    Ok(patched)
}
