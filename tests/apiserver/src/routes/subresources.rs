//! Subresources: `status`, `scale`, `pods/eviction`, `pods/log` and `nodes/proxy`.

use http::Method;
use serde_json::{Value, json};

use super::codec::{Expected, check_type, decode_object, present};
use super::objects::{apply_patch, patched_object};
use super::options::{RawDeleteOptions, Write, write_options};
use super::{ApiRequest, Outcome, Reply, ResourceRoute};
use crate::eviction;
use crate::field::{self, FieldError, Path, go};
use crate::logs::tail;
use crate::registry::{self, UpdateTarget};
use crate::resources::ResourceInfo;
use crate::server::State;
use crate::status::ApiError;
use crate::store::metadata_str;

pub(super) fn handle(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    match route.subresource.as_str() {
        "status" => status(state, request, route),
        "scale" => scale(state, request, route),
        "eviction" if route.info.resource == "pods" => evict(state, request, route),
        "log" if route.info.resource == "pods" => log(state, request, route),
        "proxy" if route.info.resource == "nodes" => node_proxy(state, request, route),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn status(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    let info = &route.info;
    match request.method {
        Method::GET => state
            .read_store()
            .get(info, &route.namespace, &route.name)
            .map(|object| Reply::Json(200, present(info, object.clone())))
            .ok_or_else(|| ApiError::not_found(info, &route.name)),
        Method::PUT | Method::PATCH => {
            request.body()?;
            let write = if request.method == Method::PUT {
                Write::Update
            } else {
                Write::Patch
            };
            let dry_run = write_options(&request.query, write)?;
            let mut store = state.write_store();
            let object = if request.method == Method::PUT {
                let body = decode_object(&store, request, info)?;
                if let Some(name) = metadata_str(&body, "name")
                    && !name.is_empty()
                    && name != route.name
                {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({name}) does not match the name on the URL ({})",
                        route.name
                    )));
                }
                body
            } else {
                patched_object(&store, request, route)?
            };
            let updated = registry::update(
                &mut store,
                info,
                &route.namespace,
                &route.name,
                object,
                UpdateTarget::Status,
                dry_run,
                false,
            )?;
            Ok(Reply::Json(200, present(info, updated.object)))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The autoscaling/v1 Scale of a workload.
fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    let selector = object
        .get("spec")
        .and_then(|s| s.get("selector"))
        .map(selector_string)
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector,
        },
    })
}

/// A LabelSelector object as the `key=value,key in (a,b)` string a Scale's status carries.
fn selector_string(selector: &Value) -> String {
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match expression["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "DoesNotExist" => format!("!{key}"),
            _ => key.to_string(),
        });
    }
    parts.join(",")
}

fn scale(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    let info = &route.info;
    let mut store = state.write_store();
    let current = store
        .get(info, &route.namespace, &route.name)
        .ok_or_else(|| ApiError::not_found(info, &route.name))?
        .clone();
    let current_scale = scale_of(&current);
    let scale_info = ResourceInfo {
        group: "autoscaling".to_string(),
        version: "v1".to_string(),
        kind: "Scale".to_string(),
        ..info.clone()
    };
    let (new_scale, dry_run) = match request.method {
        Method::GET => return Ok(Reply::Json(200, current_scale)),
        Method::PUT => {
            request.body()?;
            let dry_run = write_options(&request.query, Write::Update)?;
            let body = request.json_body()?;
            check_type(&store, &body, &Expected::of(&scale_info))?;
            (body, dry_run)
        }
        Method::PATCH => {
            request.body()?;
            let dry_run = write_options(&request.query, Write::Patch)?;
            (apply_patch(request, &scale_info, &current_scale)?, dry_run)
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    // `ValidateScale`.
    let replicas = new_scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if replicas < 0 {
        let error = FieldError::invalid(
            &Path::new("spec").child("replicas"),
            replicas.to_string(),
            "must be greater than or equal to 0",
        );
        return Err(field::invalid(
            "autoscaling",
            "Scale",
            &route.name,
            &[error],
        ));
    }
    let mut updated = current;
    updated["spec"]["replicas"] = json!(replicas);
    match metadata_str(&new_scale, "resourceVersion").filter(|rv| !rv.is_empty()) {
        Some(rv) => updated["metadata"]["resourceVersion"] = json!(rv),
        None => {
            if let Some(meta) = updated.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
            }
        }
    }
    let stored = registry::update(
        &mut store,
        info,
        &route.namespace,
        &route.name,
        updated,
        UpdateTarget::Main,
        dry_run,
        false,
    )?;
    Ok(Reply::Json(200, scale_of(&stored.object)))
}

/// POST `pods/{name}/eviction`: decoded as a create (an Eviction of policy/v1 or v1beta1),
/// named as the URL, with the request's dry run pushed into its DeleteOptions.
fn evict(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if request.method != Method::POST {
        return Err(ApiError::method_not_allowed());
    }
    request.body()?;
    let query_dry_run = write_options(&request.query, Write::Create)?;
    let mut store = state.write_store();
    let body = request.json_body()?;
    let body = if body.is_null() { json!({}) } else { body };
    let expected = Expected {
        kind: "Eviction",
        group: "policy",
        version: "v1",
        also: &["policy/v1beta1"],
    };
    check_type(&store, &body, &expected)?;
    if let Some(namespace) = metadata_str(&body, "namespace")
        && !namespace.is_empty()
        && namespace != route.namespace
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if metadata_str(&body, "name").unwrap_or_default() != route.name {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    // `propagateDryRun`.
    let query_values = request.query.all("dryRun");
    let mut raw = RawDeleteOptions::from_value(body.get("deleteOptions").unwrap_or(&Value::Null))?;
    if raw.dry_run.is_empty() {
        raw.dry_run = query_values;
    } else if query_dry_run && raw.dry_run != query_values {
        return Err(ApiError::unknown(
            500,
            format!(
                "Non-matching dry-run options in request and content: {} and {}",
                go::string_slice_plain(&query_values),
                go::string_slice_plain(&raw.dry_run)
            ),
        ));
    }
    let options = raw.validate()?;
    let status = eviction::evict(
        &mut store,
        &route.info,
        &route.namespace,
        &route.name,
        options,
    )?;
    Ok(Reply::Json(201, status))
}

fn container_names(pod: &Value) -> Vec<String> {
    pod.get("spec")
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn all_container_names(pod: &Value) -> Vec<String> {
    let mut names = container_names(pod);
    for field in ["initContainers", "ephemeralContainers"] {
        names.extend(
            pod.get("spec")
                .and_then(|s| s.get(field))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string)),
        );
    }
    names
}

fn had_previous(pod: &Value, container: &str) -> bool {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|field| {
            pod.get("status")
                .and_then(|s| s.get(*field))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .any(|status| {
            status.get("name").and_then(Value::as_str) == Some(container)
                && status
                    .get("lastState")
                    .and_then(|s| s.get("terminated"))
                    .is_some()
        })
}

fn log(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if request.method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    let pod = state
        .read_store()
        .get(&route.info, &route.namespace, &route.name)
        .ok_or_else(|| ApiError::not_found(&route.info, &route.name))?
        .clone();
    let containers = container_names(&pod);
    let container = match request.query.get("container") {
        Some(container) if !container.is_empty() => {
            if !all_container_names(&pod).iter().any(|c| c == container) {
                return Err(ApiError::bad_request(format!(
                    "container {container} is not valid for pod {}",
                    route.name
                )));
            }
            container.to_string()
        }
        _ => match containers.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {}, choose one of: [{}]",
                    route.name,
                    containers.join(" ")
                )));
            }
        },
    };
    let previous = request.query.flag("previous");
    let tail_lines = match request.query.get("tailLines") {
        None => None,
        Some(n) => Some(
            n.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid tailLines {n:?}")))?,
        ),
    };
    let text = match state
        .logs
        .get(&route.namespace, &route.name, &container, previous)
    {
        Some(text) => text,
        None if previous && !had_previous(&pod, &container) => {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{}\" not found",
                route.name
            )));
        }
        None => {
            let which = if previous { "previous " } else { "" };
            format!(
                "{which}log of {}/{}/{container}\n",
                route.namespace, route.name
            )
        }
    };
    Ok(Reply::Text(200, tail(&text, tail_lines)))
}

fn node_proxy(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if request.method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    let store = state.read_store();
    if store.get(&route.info, "", &route.name).is_none() {
        return Err(ApiError::not_found(&route.info, &route.name));
    }
    match route.rest.join("/").as_str() {
        "stats/summary" => store
            .summary(&route.name)
            .map(|summary| Reply::Json(200, summary.clone()))
            .ok_or_else(|| {
                ApiError::new(
                    503,
                    "ServiceUnavailable",
                    format!(
                        "no kubelet stats summary stored for node \"{}\"",
                        route.name
                    ),
                )
            }),
        "healthz" => Ok(Reply::Text(200, "ok".to_string())),
        _ => Err(ApiError::path_not_found()),
    }
}
