//! Subresources: `status`, `scale`, `pods/eviction`, `pods/log` and `nodes/proxy`.

use http::Method;
use serde_json::{Value, json};

use super::objects::{DeleteOptions, apply_patch, patched_object};
use super::{ApiRequest, Outcome, Reply, ResourceRoute};
use crate::eviction;
use crate::logs::tail;
use crate::server::State;
use crate::status::{ApiError, success_status};
use crate::store::{UpdateTarget, metadata_str};

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
            .map(|object| Reply::Json(200, object.clone()))
            .ok_or_else(|| ApiError::not_found(info, &route.name)),
        Method::PUT | Method::PATCH => {
            let dry_run = request.query.dry_run()?;
            let mut store = state.write_store();
            let object = if request.method == Method::PUT {
                request.json_body()?
            } else {
                patched_object(&store, request, route)?
            };
            let updated = store.update(
                info,
                &route.namespace,
                &route.name,
                object,
                UpdateTarget::Status,
                dry_run,
            )?;
            Ok(Reply::Json(200, updated))
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
    let dry_run = request.query.dry_run()?;
    let mut store = state.write_store();
    let current = store
        .get(info, &route.namespace, &route.name)
        .ok_or_else(|| ApiError::not_found(info, &route.name))?
        .clone();
    let current_scale = scale_of(&current);
    let new_scale = match request.method {
        Method::GET => return Ok(Reply::Json(200, current_scale)),
        Method::PUT => request.json_body()?,
        Method::PATCH => apply_patch(request, &current_scale)?,
        _ => return Err(ApiError::method_not_allowed()),
    };
    let replicas = new_scale
        .get("spec")
        .and_then(|s| s.get("replicas"))
        .and_then(Value::as_i64)
        .filter(|r| *r >= 0)
        .ok_or_else(|| {
            ApiError::invalid(
                info,
                &route.name,
                "spec.replicas: Invalid value: must be >= 0",
            )
        })?;
    let mut updated = current;
    updated["spec"]["replicas"] = json!(replicas);
    if let Some(rv) = metadata_str(&new_scale, "resourceVersion") {
        updated["metadata"]["resourceVersion"] = json!(rv);
    }
    let stored = store.update(
        info,
        &route.namespace,
        &route.name,
        updated,
        UpdateTarget::Main,
        dry_run,
    )?;
    Ok(Reply::Json(200, scale_of(&stored)))
}

fn evict(state: &State, request: &ApiRequest, route: &ResourceRoute) -> Outcome {
    if request.method != Method::POST {
        return Err(ApiError::method_not_allowed());
    }
    let body = request.json_body()?;
    if let Some(name) = metadata_str(&body, "name")
        && name != route.name
    {
        return Err(ApiError::bad_request(format!(
            "name in URL does not match name in Eviction object: {} vs {name}",
            route.name
        )));
    }
    let mut options = match body.get("deleteOptions") {
        Some(options) if !options.is_null() => DeleteOptions::from_value(options)?,
        _ => DeleteOptions::from_value(&Value::Null)?,
    };
    options.dry_run |= request.query.dry_run()?;
    let mut store = state.write_store();
    let pod = store
        .get(&route.info, &route.namespace, &route.name)
        .ok_or_else(|| ApiError::not_found(&route.info, &route.name))?
        .clone();
    eviction::check(&store, &pod)?;
    store.delete(
        &route.info,
        &route.namespace,
        &route.name,
        &options.preconditions,
        options.dry_run,
    )?;
    Ok(Reply::Json(201, success_status(201)))
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
