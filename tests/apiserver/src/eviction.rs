//! The Eviction subresource as `pkg/registry/core/pod/storage/eviction.go` decides it: from the
//! PodDisruptionBudget's *stored* status (never a fresh count), decrementing
//! `disruptionsAllowed` and recording the pod in `disruptedPods`, answering 429 while the
//! budget's status lags its generation, letting unready pods go by
//! `unhealthyPodEvictionPolicy`, and deleting pods that are not running without a budget check.

use serde_json::{Value, json};

use crate::disruption;
use crate::registry::{self, DeleteOptions};
use crate::resources::ResourceInfo;
use crate::selectors::LabelSelector;
use crate::status::ApiError;
use crate::store::{Store, metadata_str, now_timestamp};
use crate::strategy::pod::{is_ready, is_terminating, phase};

/// `MaxDisruptedPodSize`.
pub const MAX_DISRUPTED_PODS: usize = 2000;

const VIOLATION: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// The 429 for a budget whose status has not caught up with its spec (`Retry-After: 10`).
fn still_processing(pdb: &str) -> ApiError {
    ApiError::too_many_requests(VIOLATION, 10).with_cause(json!({
        "reason": "DisruptionBudget",
        "message": format!("The disruption budget {pdb} is still being processed by the server."),
    }))
}

/// `canIgnorePDB`: terminal, pending and terminating pods are deleted without a budget check.
fn can_ignore_pdb(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed" | "Pending") || is_terminating(pod)
}

/// `shouldEnforceResourceVersion`.
fn should_enforce_resource_version(pod: &Value) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && !is_terminating(pod)
}

fn status_int(pdb: &Value, field: &str) -> i64 {
    pdb.pointer(&format!("/status/{field}"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Evicts a pod. `options` are the Eviction's DeleteOptions with the request's dry-run
/// already propagated into them. Answers the Success Status.
pub fn evict(
    store: &mut Store,
    pods: &ResourceInfo,
    namespace: &str,
    name: &str,
    options: DeleteOptions,
) -> Result<Value, ApiError> {
    let pod = store
        .get(pods, namespace, name)
        .ok_or_else(|| ApiError::not_found(pods, name))?;
    if can_ignore_pdb(&pod) {
        let mut options = options;
        if should_enforce_resource_version(&pod) && options.resource_version.is_none() {
            options.resource_version = metadata_str(&pod, "resourceVersion").map(str::to_string);
        }
        delete_with_condition(store, pods, namespace, name, options)?;
        return Ok(success());
    }
    let pdbs = matching_budgets(store, &pod);
    let pdb = match pdbs.as_slice() {
        [] => None,
        [pdb] => Some(pdb.clone()),
        _ => {
            // A Failure Status that the request finisher turns into a plain error.
            return Err(ApiError::unknown(
                500,
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    let mut check_resource_version = false;
    let mut pdb_name = String::new();
    if let Some(pdb) = pdb {
        pdb_name = metadata_str(&pdb, "name").unwrap_or_default().to_string();
        let always_allow = pdb
            .pointer("/spec/unhealthyPodEvictionPolicy")
            .and_then(Value::as_str)
            == Some("AlwaysAllow");
        let desired = status_int(&pdb, "desiredHealthy");
        if !is_ready(&pod)
            && (always_allow || (status_int(&pdb, "currentHealthy") >= desired && desired > 0))
        {
            // An unhealthy pod does not count towards the budget: delete it without a
            // decrement, provided it does not become ready meanwhile.
            check_resource_version = true;
        } else {
            check_and_decrement(store, &pdb, name, options.dry_run)?;
        }
    }
    let original_resource_version = options.resource_version.clone();
    let mut options = options;
    if check_resource_version {
        options.resource_version = metadata_str(&pod, "resourceVersion").map(str::to_string);
    }
    match delete_with_condition(store, pods, namespace, name, options) {
        Err(error)
            if error.code == 409
                && check_resource_version
                && original_resource_version.is_none() =>
        {
            Err(still_processing(&pdb_name))
        }
        Err(error) => Err(error),
        Ok(()) => Ok(success()),
    }
}

fn success() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

/// `getPodDisruptionBudgets`: budgets of the namespace whose valid selector matches the pod.
fn matching_budgets(store: &Store, pod: &Value) -> Vec<Value> {
    let Some(pdbs) = store.info("policy", "poddisruptionbudgets") else {
        return Vec::new();
    };
    let namespace = metadata_str(pod, "namespace").unwrap_or_default();
    store
        .iter_namespace(&pdbs, namespace)
        .filter(|pdb| {
            LabelSelector::from_object(pdb.pointer("/spec/selector"))
                .is_ok_and(|selector| selector.matches(pod))
        })
        .collect()
}

/// `checkAndDecrement`: refuses when the stored status forbids a disruption, otherwise
/// decrements it and records the pod (not for a dry run).
fn check_and_decrement(
    store: &mut Store,
    pdb: &Value,
    pod_name: &str,
    dry_run: bool,
) -> Result<(), ApiError> {
    let name = metadata_str(pdb, "name").unwrap_or_default();
    let generation = pdb
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if status_int(pdb, "observedGeneration") < generation {
        return Err(still_processing(name));
    }
    let allowed = status_int(pdb, "disruptionsAllowed");
    if allowed < 0 {
        return Err(ApiError::forbidden(
            "policy",
            "poddisruptionbudget",
            name,
            "pdb disruptions allowed is negative",
        ));
    }
    let disrupted = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len);
    if disrupted > MAX_DISRUPTED_PODS {
        return Err(ApiError::forbidden(
            "policy",
            "poddisruptionbudget",
            name,
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        ));
    }
    if allowed == 0 {
        return Err(ApiError::too_many_requests(VIOLATION, 0).with_cause(json!({
            "reason": "DisruptionBudget",
            "message": format!(
                "The disruption budget {name} needs {} healthy pods and has {} currently",
                status_int(pdb, "desiredHealthy"),
                status_int(pdb, "currentHealthy")
            ),
        })));
    }
    if dry_run {
        return Ok(());
    }
    let mut status = pdb.get("status").cloned().unwrap_or(json!({}));
    status["disruptionsAllowed"] = json!(allowed - 1);
    if allowed - 1 == 0 {
        disruption::update_condition(&mut status, None);
    }
    let entries = status
        .as_object_mut()
        .map(|m| m.entry("disruptedPods").or_insert_with(|| json!({})));
    if let Some(Value::Object(entries)) = entries {
        entries.insert(pod_name.to_string(), json!(now_timestamp()));
    }
    let namespace = metadata_str(pdb, "namespace")
        .unwrap_or_default()
        .to_string();
    if let Some(pdbs) = store.info("policy", "poddisruptionbudgets") {
        registry::write_status(store, &pdbs, &namespace, name, status);
        disruption::on_change(store, &pdbs, &namespace);
    }
    Ok(())
}

/// `addConditionAndDeletePod`: the DisruptionTarget condition is written first (not for a
/// dry run), then the pod is deleted (gracefully, if it is bound to a node).
fn delete_with_condition(
    store: &mut Store,
    pods: &ResourceInfo,
    namespace: &str,
    name: &str,
    mut options: DeleteOptions,
) -> Result<(), ApiError> {
    if !options.dry_run
        && let Some(pod) = store.get(pods, namespace, name)
    {
        let uid = metadata_str(&pod, "uid").unwrap_or_default();
        if let Some(expected) = &options.uid
            && expected != uid
        {
            return Err(ApiError::conflict_on_kind(
                pods,
                name,
                &format!(
                    "the UID in the precondition ({expected}) does not match the UID in record ({uid}). The object might have been deleted and then recreated"
                ),
            ));
        }
        let rv = metadata_str(&pod, "resourceVersion").unwrap_or_default();
        if let Some(expected) = &options.resource_version
            && expected != rv
        {
            return Err(ApiError::conflict_on_kind(
                pods,
                name,
                &format!(
                    "the ResourceVersion in the precondition ({expected}) does not match the ResourceVersion in record ({rv}). The object might have been modified"
                ),
            ));
        }
        let mut status = pod.get("status").cloned().unwrap_or(json!({}));
        set_disruption_target(&mut status);
        if let Some(updated) = registry::write_status(store, pods, namespace, name, status)
            && options.resource_version.is_some()
        {
            options.resource_version =
                metadata_str(&updated, "resourceVersion").map(str::to_string);
        }
    }
    registry::delete(store, pods, namespace, name, &options).map(|_| ())
}

fn set_disruption_target(status: &mut Value) {
    if !status.is_object() {
        *status = json!({});
    }
    let conditions = status
        .as_object_mut()
        .map(|m| m.entry("conditions").or_insert_with(|| json!([])));
    let Some(Value::Array(conditions)) = conditions else {
        return;
    };
    let condition = json!({"type": "DisruptionTarget", "status": "True", "lastProbeTime": null,
        "lastTransitionTime": now_timestamp(), "reason": "EvictionByEvictionAPI",
        "message": "Eviction API: evicting"});
    match conditions
        .iter()
        .position(|c| c.get("type").and_then(Value::as_str) == Some("DisruptionTarget"))
    {
        Some(index) => conditions[index] = condition,
        None => conditions.push(condition),
    }
}
