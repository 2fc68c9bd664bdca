//! The Eviction API's PodDisruptionBudget check, computed from the PDBs and pods in the store.

use serde_json::{Value, json};

use crate::selectors::LabelSelector;
use crate::status::ApiError;
use crate::store::{Store, metadata_str};

/// The arithmetic of one PodDisruptionBudget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Matching pods that are not terminal.
    pub expected: i64,
    /// Matching pods that are Ready and not being deleted.
    pub current_healthy: i64,
    /// How many healthy pods the budget requires.
    pub desired_healthy: i64,
}

impl Budget {
    /// `status.disruptionsAllowed` as the disruption controller would compute it.
    pub fn disruptions_allowed(&self) -> i64 {
        (self.current_healthy - self.desired_healthy).max(0)
    }
}

fn phase(pod: &Value) -> &str {
    pod.get("status")
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_terminal(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

fn is_deleting(pod: &Value) -> bool {
    pod.get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|t| !t.is_null())
}

/// Ready, and not being deleted.
pub fn is_healthy(pod: &Value) -> bool {
    let ready = pod
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Ready")
                && c.get("status").and_then(Value::as_str) == Some("True")
        });
    ready && !is_deleting(pod)
}

/// An `intstr` of a PDB scaled against `expected` (percentages round up, as Kubernetes does).
fn scaled(value: &Value, expected: i64) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return Some(n);
    }
    let percent: i64 = value.as_str()?.strip_suffix('%')?.trim().parse().ok()?;
    Some((percent * expected + 99) / 100)
}

/// The budget of a PDB over the pods of its namespace.
pub fn budget(store: &Store, pdb: &Value) -> Result<Budget, ApiError> {
    let namespace = metadata_str(pdb, "namespace").unwrap_or_default();
    let spec = pdb.get("spec").cloned().unwrap_or(Value::Null);
    let selector = LabelSelector::from_object(spec.get("selector"))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let pods = store
        .registry()
        .lookup("", "v1", "pods")
        .ok_or_else(|| ApiError::internal("pods are not served"))?;
    let (mut expected, mut current_healthy) = (0, 0);
    for pod in store.iter_namespace(pods, namespace) {
        if !selector.matches(pod) || is_terminal(pod) {
            continue;
        }
        expected += 1;
        if is_healthy(pod) {
            current_healthy += 1;
        }
    }
    let invalid = || ApiError::internal("invalid PodDisruptionBudget minAvailable/maxUnavailable");
    let desired_healthy = match (spec.get("minAvailable"), spec.get("maxUnavailable")) {
        (Some(min), _) if !min.is_null() => scaled(min, expected).ok_or_else(invalid)?,
        (_, Some(max)) if !max.is_null() => {
            (expected - scaled(max, expected).ok_or_else(invalid)?).max(0)
        }
        _ => 1,
    };
    Ok(Budget {
        expected,
        current_healthy,
        desired_healthy,
    })
}

/// Whether evicting the pod is allowed by the PodDisruptionBudgets of its namespace; the
/// real server's 429 (or 500 for several PDBs) otherwise.
pub fn check(store: &Store, pod: &Value) -> Result<(), ApiError> {
    if is_terminal(pod) || phase(pod) == "Pending" || is_deleting(pod) {
        return Ok(());
    }
    let namespace = metadata_str(pod, "namespace").unwrap_or_default();
    let Some(pdbs_info) = store
        .registry()
        .lookup("policy", "v1", "poddisruptionbudgets")
    else {
        return Ok(());
    };
    let mut matching = Vec::new();
    for pdb in store.iter_namespace(pdbs_info, namespace) {
        let selector = LabelSelector::from_object(pdb.get("spec").and_then(|s| s.get("selector")))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        if selector.matches(pod) {
            matching.push(pdb);
        }
    }
    let pdb = match matching.as_slice() {
        [] => return Ok(()),
        [pdb] => *pdb,
        _ => {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    let budget = budget(store, pdb)?;
    let always_allow = pdb
        .get("spec")
        .and_then(|s| s.get("unhealthyPodEvictionPolicy"))
        .and_then(Value::as_str)
        == Some("AlwaysAllow");
    if !is_healthy(pod) && (always_allow || budget.current_healthy >= budget.desired_healthy) {
        return Ok(());
    }
    if budget.disruptions_allowed() > 0 {
        return Ok(());
    }
    let name = metadata_str(pdb, "name").unwrap_or_default();
    Err(ApiError::new(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    )
    .with_details(json!({"causes": [{
        "reason": "DisruptionBudget",
        "message": format!(
            "The disruption budget {name} needs {} healthy pods and has {} currently",
            budget.desired_healthy, budget.current_healthy
        ),
    }]})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
    }

    fn pdb(spec: Value) -> Value {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "web"}});
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": spec})
    }

    fn store(pods: &[(&str, bool)], pdb_spec: Option<Value>) -> Store {
        let mut store = Store::new();
        for (name, ready) in pods {
            store.insert(pod(name, *ready)).expect("pod");
        }
        if let Some(spec) = pdb_spec {
            store.insert(pdb(spec)).expect("pdb");
        }
        store
    }

    #[test]
    fn budget_arithmetic() {
        let cases = [
            (json!({"minAvailable": 2}), 3, 2, 1),
            (json!({"minAvailable": "50%"}), 3, 2, 1),
            (json!({"maxUnavailable": 1}), 3, 2, 1),
            (json!({"maxUnavailable": "34%"}), 3, 1, 2),
            (json!({"maxUnavailable": 0}), 3, 3, 0),
        ];
        for (spec, pods, desired, allowed) in cases {
            let names: Vec<String> = (0..pods).map(|i| format!("p{i}")).collect();
            let list: Vec<(&str, bool)> = names.iter().map(|n| (n.as_str(), true)).collect();
            let store = store(&list, Some(spec.clone()));
            let pdbs = store
                .registry()
                .lookup("policy", "v1", "poddisruptionbudgets")
                .expect("pdbs")
                .clone();
            let object = store.get(&pdbs, "shop", "web").expect("pdb").clone();
            let budget = budget(&store, &object).expect("budget");
            assert_eq!(budget.desired_healthy, desired, "{spec}");
            assert_eq!(budget.disruptions_allowed(), allowed, "{spec}");
        }
    }

    #[test]
    fn blocks_a_healthy_pod_when_no_disruption_is_allowed() {
        let store = store(
            &[("a", true), ("b", true)],
            Some(json!({"minAvailable": 2})),
        );
        let error = check(&store, &pod("a", true)).expect_err("blocked");
        assert_eq!(error.code, 429);
        assert_eq!(error.reason, "TooManyRequests");
        assert_eq!(
            error.details.expect("details")["causes"][0]["message"],
            "The disruption budget web needs 2 healthy pods and has 2 currently"
        );
    }

    #[test]
    fn allows_without_pdb_or_with_room() {
        let without = store(&[("a", true)], None);
        assert!(check(&without, &pod("a", true)).is_ok());
        let room = store(
            &[("a", true), ("b", true)],
            Some(json!({"minAvailable": 1})),
        );
        assert!(check(&room, &pod("a", true)).is_ok());
    }

    #[test]
    fn unhealthy_pods_may_go_when_the_budget_is_met() {
        let met = store(
            &[("a", true), ("b", true), ("c", false)],
            Some(json!({"minAvailable": 2})),
        );
        assert!(check(&met, &pod("c", false)).is_ok());
        let unmet = store(
            &[("a", true), ("c", false)],
            Some(json!({"minAvailable": 2})),
        );
        assert_eq!(
            check(&unmet, &pod("c", false)).expect_err("unmet").code,
            429
        );
    }
}
