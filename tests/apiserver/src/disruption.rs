//! PodDisruptionBudget status as the disruption controller (`pkg/controller/disruption`) keeps
//! it: expected pods (from the owners' replicas for `maxUnavailable` and percentages, the
//! matching pods for an integer `minAvailable`), currentHealthy, desiredHealthy,
//! disruptionsAllowed, disruptedPods, observedGeneration and the DisruptionAllowed condition.
//!
//! In [`Mode::Auto`] (the default) the status is recomputed after every write to pods, PDBs
//! or the workloads that own pods, as if the controller reacted at once; in [`Mode::Paused`]
//! it changes only when a test asks (`TestApiServer::sync_disruption_budgets`) or writes it
//! (`set_pdb_status`), so a lagging status can be held as seeded.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::registry::write_status;
use crate::resources::ResourceInfo;
use crate::selectors::LabelSelector;
use crate::store::{Store, metadata_str, now_timestamp};
use crate::strategy::pod::{is_ready, is_terminating};

/// How long an eviction's entry in `disruptedPods` counts (`DeletionTimeout`).
pub const DELETION_TIMEOUT_SECONDS: i64 = 120;

/// When the controller updates statuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// After every relevant write.
    #[default]
    Auto,
    /// Only on request.
    Paused,
}

/// The computed numbers of one budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    /// `expectedPods`.
    pub expected: i64,
    /// `desiredHealthy`.
    pub desired_healthy: i64,
    /// `currentHealthy`.
    pub current_healthy: i64,
    /// `disruptionsAllowed`.
    pub disruptions_allowed: i64,
    /// `disruptedPods` still counted.
    pub disrupted: BTreeMap<String, String>,
}

fn pdb_info(store: &Store) -> Option<ResourceInfo> {
    store.info("policy", "poddisruptionbudgets")
}

/// Recomputes the budgets of a namespace after a write, in [`Mode::Auto`].
pub fn on_change(store: &mut Store, info: &ResourceInfo, namespace: &str) {
    if store.disruption != Mode::Auto || namespace.is_empty() {
        return;
    }
    let key = info.storage_key();
    let relevant = matches!(
        (key.group.as_str(), key.resource.as_str()),
        ("", "pods" | "replicationcontrollers")
            | ("policy", "poddisruptionbudgets")
            | ("apps", "deployments" | "replicasets" | "statefulsets")
    );
    if relevant {
        sync_namespace(store, namespace);
    }
}

/// Recomputes every budget of a namespace now.
pub fn sync_namespace(store: &mut Store, namespace: &str) {
    let Some(pdbs) = pdb_info(store) else {
        return;
    };
    let names: Vec<String> = store
        .iter_namespace(&pdbs, namespace)
        .filter_map(|p| metadata_str(&p, "name").map(str::to_string))
        .collect();
    for name in names {
        sync_one(store, &pdbs, namespace, &name);
    }
}

/// Recomputes every budget now.
pub fn sync_all(store: &mut Store) {
    let Some(pdbs) = pdb_info(store) else {
        return;
    };
    let keys: Vec<(String, String)> = store
        .iter(&pdbs)
        .filter_map(|p| {
            Some((
                metadata_str(&p, "namespace")?.to_string(),
                metadata_str(&p, "name")?.to_string(),
            ))
        })
        .collect();
    for (namespace, name) in keys {
        sync_one(store, &pdbs, &namespace, &name);
    }
}

fn sync_one(store: &mut Store, pdbs: &ResourceInfo, namespace: &str, name: &str) {
    let Some(pdb) = store.get(pdbs, namespace, name) else {
        return;
    };
    let now = chrono::Utc::now();
    let status = match compute(store, &pdb, now) {
        Ok(computed) => status_of(&pdb, &computed),
        Err(message) => fail_safe(&pdb, &message),
    };
    write_status(store, pdbs, namespace, name, status);
}

/// `trySync` without the write: the budget's numbers now, or why they cannot be computed.
pub fn compute(
    store: &Store,
    pdb: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Computed, String> {
    let namespace = metadata_str(pdb, "namespace").unwrap_or_default();
    let spec = pdb.get("spec").cloned().unwrap_or(Value::Null);
    let selector = LabelSelector::from_object(spec.get("selector")).map_err(|e| e.0)?;
    let pods_info = store
        .info("", "pods")
        .ok_or_else(|| "pods are not served".to_string())?;
    // Only the selected pods are decoded: a namespace may hold thousands.
    let pods: Vec<Value> = store
        .iter_namespace_selected(&pods_info, namespace, &selector)
        .collect();
    let (expected, desired_healthy) = match (
        nonnull(spec.get("maxUnavailable")),
        nonnull(spec.get("minAvailable")),
    ) {
        (Some(max), _) => {
            let expected = expected_scale(store, &pods)?;
            let max = scaled(max, expected)?;
            (expected, (expected - max).max(0))
        }
        (None, Some(min)) if min.is_i64() => (pods.len() as i64, min.as_i64().unwrap_or(0)),
        (None, Some(min)) => {
            let expected = expected_scale(store, &pods)?;
            (expected, scaled(min, expected)?)
        }
        (None, None) => (0, 0),
    };
    let disrupted = disrupted_pods(pdb, &pods, now);
    let current_healthy = pods
        .iter()
        .filter(|pod| {
            !is_terminating(pod)
                && !metadata_str(pod, "name").is_some_and(|n| disrupted.contains_key(n))
                && is_ready(pod)
        })
        .count() as i64;
    let mut disruptions_allowed = current_healthy - desired_healthy;
    if expected <= 0 || disruptions_allowed <= 0 {
        disruptions_allowed = 0;
    }
    Ok(Computed {
        expected,
        desired_healthy,
        current_healthy,
        disruptions_allowed,
        disrupted,
    })
}

fn nonnull(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// `intstr.GetScaledValueFromIntOrPercent(value, total, roundUp=true)`.
fn scaled(value: &Value, total: i64) -> Result<i64, String> {
    if let Some(n) = value.as_i64() {
        return Ok(n);
    }
    let text = value.as_str().unwrap_or_default();
    let percent: i64 = text
        .strip_suffix('%')
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("invalid value for IntOrString: invalid value {text:?}"))?;
    Ok((percent * total + 99) / 100)
}

/// `buildDisruptedPodMap`: the entries of pods that still exist, are not being deleted, and
/// were disrupted less than [`DELETION_TIMEOUT_SECONDS`] ago.
fn disrupted_pods(
    pdb: &Value,
    pods: &[Value],
    now: chrono::DateTime<chrono::Utc>,
) -> BTreeMap<String, String> {
    let mut result = BTreeMap::new();
    let Some(entries) = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
    else {
        return result;
    };
    for pod in pods {
        if is_terminating(pod) {
            continue;
        }
        let Some(name) = metadata_str(pod, "name") else {
            continue;
        };
        let Some(time) = entries.get(name).and_then(Value::as_str) else {
            continue;
        };
        let recent = chrono::DateTime::parse_from_rfc3339(time).is_ok_and(|t| {
            t.with_timezone(&chrono::Utc) + chrono::Duration::seconds(DELETION_TIMEOUT_SECONDS)
                > now
        });
        if recent {
            result.insert(name.to_string(), time.to_string());
        }
    }
    result
}

/// `getExpectedScale`: the sum of the replicas of the controllers of the pods (pods without a
/// controller are skipped, as the controller only warns about them).
fn expected_scale(store: &Store, pods: &[Value]) -> Result<i64, String> {
    let mut scales: BTreeMap<String, i64> = BTreeMap::new();
    for pod in pods {
        let Some(controller) = controller_of(pod) else {
            continue;
        };
        let uid = text(controller, "uid");
        if scales.contains_key(uid) {
            continue;
        }
        let namespace = metadata_str(pod, "namespace").unwrap_or_default();
        match find_controller(store, controller, namespace)? {
            Some((uid, replicas)) => {
                scales.insert(uid, replicas);
            }
            None => {
                return Err(format!(
                    "found no controllers for pod {:?}",
                    metadata_str(pod, "name").unwrap_or_default()
                ));
            }
        }
    }
    Ok(scales.values().sum())
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The owner reference with `controller: true`.
pub fn controller_of(object: &Value) -> Option<&Value> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(group, _)| group)
}

fn replicas(object: &Value) -> i64 {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// The owner named by a reference, if it exists with that uid.
fn owner(
    store: &Store,
    group: &str,
    resource: &str,
    namespace: &str,
    reference: &Value,
) -> Option<Value> {
    let info = store.info(group, resource)?;
    store
        .get(&info, namespace, text(reference, "name"))
        .filter(|o| metadata_str(o, "uid") == Some(text(reference, "uid")))
}

/// The finders, in the controller's order: ReplicationController, Deployment (through its
/// ReplicaSet), ReplicaSet, StatefulSet, then anything with a scale subresource.
fn find_controller(
    store: &Store,
    reference: &Value,
    namespace: &str,
) -> Result<Option<(String, i64)>, String> {
    let kind = text(reference, "kind");
    let group = group_of(text(reference, "apiVersion"));
    let uid_and_replicas = |object: &Value| {
        (
            metadata_str(object, "uid").unwrap_or_default().to_string(),
            replicas(object),
        )
    };
    match (group, kind) {
        ("", "ReplicationController") => {
            if let Some(rc) = owner(store, "", "replicationcontrollers", namespace, reference) {
                return Ok(Some(uid_and_replicas(&rc)));
            }
        }
        ("apps" | "extensions", "ReplicaSet") => {
            if let Some(rs) = owner(store, "apps", "replicasets", namespace, reference) {
                match controller_of(&rs) {
                    Some(rs_owner) if text(rs_owner, "kind") == "Deployment" => {
                        if let Some(deployment) =
                            owner(store, "apps", "deployments", namespace, rs_owner)
                        {
                            return Ok(Some(uid_and_replicas(&deployment)));
                        }
                    }
                    _ => return Ok(Some(uid_and_replicas(&rs))),
                }
            }
        }
        ("apps", "StatefulSet") => {
            if let Some(sts) = owner(store, "apps", "statefulsets", namespace, reference) {
                return Ok(Some(uid_and_replicas(&sts)));
            }
        }
        _ => {}
    }
    // `getScaleController`: the scale subresource of whatever the owner is.
    let version = text(reference, "apiVersion");
    let Some(info) = store
        .registry()
        .by_kind(version, kind)
        .cloned()
        .filter(|i| i.builtin)
    else {
        return Err(format!(
            "no matches for kind {kind:?} in version {version:?}"
        ));
    };
    if info.subresource("scale").is_none() {
        return Err(format!(
            "{} does not implement the scale subresource",
            info.qualified_resource()
        ));
    }
    Ok(store
        .get(&info, namespace, text(reference, "name"))
        .filter(|o| metadata_str(o, "uid") == Some(text(reference, "uid")))
        .map(|o| uid_and_replicas(&o)))
}

/// The status the controller writes for computed numbers (`updatePdbStatus`).
pub fn status_of(pdb: &Value, computed: &Computed) -> Value {
    let old = pdb.get("status").cloned().unwrap_or(json!({}));
    let generation = pdb
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut status = Map::new();
    status.insert("observedGeneration".into(), json!(generation));
    if !computed.disrupted.is_empty() {
        status.insert("disruptedPods".into(), json!(computed.disrupted));
    }
    status.insert(
        "disruptionsAllowed".into(),
        json!(computed.disruptions_allowed),
    );
    status.insert("currentHealthy".into(), json!(computed.current_healthy));
    status.insert("desiredHealthy".into(), json!(computed.desired_healthy));
    status.insert("expectedPods".into(), json!(computed.expected));
    let mut status = Value::Object(status);
    if let Some(conditions) = old.get("conditions") {
        status["conditions"] = conditions.clone();
    }
    update_condition(&mut status, None);
    status
}

/// `failSafe`: the old status with no disruption allowed and a SyncFailed condition.
fn fail_safe(pdb: &Value, message: &str) -> Value {
    let mut status = pdb.get("status").cloned().unwrap_or(json!({}));
    if !status.is_object() {
        status = json!({});
    }
    status["disruptionsAllowed"] = json!(0);
    set_condition(&mut status, "False", "SyncFailed", message);
    status
}

/// `pdbhelper.UpdateDisruptionAllowedCondition`: SufficientPods while disruptions are
/// allowed, InsufficientPods otherwise (`reason` overrides).
pub fn update_condition(status: &mut Value, reason: Option<&str>) {
    let allowed = status
        .get("disruptionsAllowed")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let (value, default_reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    set_condition(status, value, reason.unwrap_or(default_reason), "");
}

/// `apimeta.SetStatusCondition` for the DisruptionAllowed condition.
fn set_condition(status: &mut Value, value: &str, reason: &str, message: &str) {
    let observed = status
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let conditions = status
        .as_object_mut()
        .map(|m| m.entry("conditions").or_insert_with(|| json!([])));
    let Some(Value::Array(conditions)) = conditions else {
        return;
    };
    let existing = conditions
        .iter()
        .position(|c| c.get("type").and_then(Value::as_str) == Some("DisruptionAllowed"));
    let transition = existing
        .map(|i| &conditions[i])
        .filter(|c| c.get("status").and_then(Value::as_str) == Some(value))
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now_timestamp()));
    let mut condition = json!({"type": "DisruptionAllowed", "status": value,
        "lastTransitionTime": transition, "reason": reason, "message": message});
    if observed > 0 {
        condition["observedGeneration"] = json!(observed);
    }
    match existing {
        Some(index) => conditions[index] = condition,
        None => conditions.push(condition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool, owner: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1",
                    "uid": owner, "controller": true}]},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
    }

    fn store(pods: &[Value], replicas: i64, spec: Value) -> (Store, Value) {
        let mut store = Store::new();
        store
            .insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "d1"},
            "spec": {"replicas": replicas}}))
            .expect("deployment");
        store
            .insert(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "rs1",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                    "uid": "d1", "controller": true}]},
            "spec": {"replicas": replicas}}))
            .expect("rs");
        for pod in pods {
            store.insert(pod.clone()).expect("pod");
        }
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "web"}});
        let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "shop", "generation": 1}, "spec": spec});
        (store, pdb)
    }

    #[test]
    fn max_unavailable_counts_the_owner_replicas() {
        // Two ready pods of a Deployment scaled to 2, one of them already gone: expected 2.
        let (store, pdb) = store(&[pod("a", true, "rs1")], 2, json!({"maxUnavailable": 1}));
        let computed = compute(&store, &pdb, chrono::Utc::now()).expect("computed");
        assert_eq!(
            (
                computed.expected,
                computed.desired_healthy,
                computed.current_healthy,
                computed.disruptions_allowed
            ),
            (2, 1, 1, 0)
        );
    }

    #[test]
    fn integer_min_available_counts_matching_pods() {
        let pods = [
            pod("a", true, "rs1"),
            pod("b", true, "rs1"),
            pod("c", false, "rs1"),
        ];
        let (store, pdb) = store(&pods, 3, json!({"minAvailable": 2}));
        let computed = compute(&store, &pdb, chrono::Utc::now()).expect("computed");
        assert_eq!(
            (
                computed.expected,
                computed.desired_healthy,
                computed.current_healthy,
                computed.disruptions_allowed
            ),
            (3, 2, 2, 0)
        );
        let (store, pdb) = store_with_percent();
        let computed = compute(&store, &pdb, chrono::Utc::now()).expect("computed");
        assert_eq!((computed.expected, computed.desired_healthy), (4, 2));
    }

    fn store_with_percent() -> (Store, Value) {
        let pods = [pod("a", true, "rs1"), pod("b", true, "rs1")];
        store(&pods, 4, json!({"minAvailable": "50%"}))
    }

    #[test]
    fn recent_disruptions_do_not_count_as_healthy() {
        let pods = [pod("a", true, "rs1"), pod("b", true, "rs1")];
        let (store, mut pdb) = store(&pods, 2, json!({"maxUnavailable": 1}));
        pdb["status"] = json!({"disruptedPods": {"a": now_timestamp(), "gone": now_timestamp()}});
        let computed = compute(&store, &pdb, chrono::Utc::now()).expect("computed");
        assert_eq!(computed.current_healthy, 1);
        assert_eq!(computed.disrupted.keys().collect::<Vec<_>>(), ["a"]);
        let later = chrono::Utc::now() + chrono::Duration::seconds(DELETION_TIMEOUT_SECONDS + 1);
        assert_eq!(
            compute(&store, &pdb, later)
                .expect("computed")
                .current_healthy,
            2
        );
    }

    #[test]
    fn unsupported_owners_fail_safe() {
        let mut daemon_pod = pod("a", true, "ds1");
        daemon_pod["metadata"]["ownerReferences"][0]["kind"] = json!("DaemonSet");
        let (store, pdb) = store(&[daemon_pod], 1, json!({"maxUnavailable": 1}));
        let error = compute(&store, &pdb, chrono::Utc::now()).expect_err("no scale");
        assert_eq!(
            error,
            "daemonsets.apps does not implement the scale subresource"
        );
        let status = fail_safe(&pdb, &error);
        assert_eq!(status["conditions"][0]["reason"], "SyncFailed");
        assert_eq!(status["disruptionsAllowed"], 0);
    }
}
