//! What kubelets and the namespace controller do after a graceful delete: a pod bound to a
//! node stays Terminating until its grace period ends (a background task of the server then
//! removes it, as the kubelet's final delete would), or until a test finishes it at once
//! (`TestApiServer::finish_deletions`). A Terminating namespace is emptied and removed when a
//! test finishes deletions.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::disruption;
use crate::resources::ResourceInfo;
use crate::store::{Store, metadata_str};
use crate::strategy::pod::is_terminating;

/// Pending graceful deletions.
#[derive(Debug, Clone)]
pub struct Terminations {
    pending: BTreeMap<(String, String), Pending>,
    /// Whether grace periods end by themselves (otherwise only the test hooks finish them).
    pub after_grace_period: bool,
}

impl Default for Terminations {
    fn default() -> Self {
        Self {
            pending: BTreeMap::new(),
            after_grace_period: true,
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    uid: String,
    deadline: Instant,
}

/// Notes a pod whose graceful deletion was committed.
pub fn schedule(store: &mut Store, info: &ResourceInfo, pod: &Value, period: i64) {
    if info.storage_key().resource != "pods" || !info.storage_key().group.is_empty() {
        return;
    }
    let key = (
        metadata_str(pod, "namespace")
            .unwrap_or_default()
            .to_string(),
        metadata_str(pod, "name").unwrap_or_default().to_string(),
    );
    let deadline = Instant::now() + Duration::from_secs(u64::try_from(period).unwrap_or(0));
    store.terminations.pending.insert(
        key,
        Pending {
            uid: metadata_str(pod, "uid").unwrap_or_default().to_string(),
            deadline,
        },
    );
}

/// Forgets a pod that is gone.
pub fn forget(store: &mut Store, namespace: &str, name: &str) {
    store
        .terminations
        .pending
        .remove(&(namespace.to_string(), name.to_string()));
}

/// When the next grace period ends, if they end by themselves.
pub fn next_deadline(store: &Store) -> Option<Instant> {
    if !store.terminations.after_grace_period {
        return None;
    }
    store
        .terminations
        .pending
        .values()
        .map(|p| p.deadline)
        .min()
}

/// Removes the pods whose grace period has ended; returns how many.
pub fn finish_due(store: &mut Store, now: Instant) -> usize {
    let due: Vec<(String, String)> = store
        .terminations
        .pending
        .iter()
        .filter(|(_, p)| p.deadline <= now)
        .map(|(k, _)| k.clone())
        .collect();
    due.iter()
        .filter(|(namespace, name)| finish_pod(store, namespace, name))
        .count()
}

/// Removes one Terminating pod now (as its kubelet's final delete does); false if there is
/// no such pod, it is not being deleted, or finalizers still hold it.
pub fn finish_pod(store: &mut Store, namespace: &str, name: &str) -> bool {
    let pending = store
        .terminations
        .pending
        .remove(&(namespace.to_string(), name.to_string()));
    let Some(pods) = store.info("", "pods") else {
        return false;
    };
    let Some(pod) = store.get(&pods, namespace, name) else {
        return false;
    };
    let same_pod = pending.is_none_or(|p| metadata_str(&pod, "uid") == Some(p.uid.as_str()));
    let held = pod
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if !same_pod || !is_terminating(&pod) || held {
        return false;
    }
    store.remove(&pods, namespace, name);
    disruption::on_change(store, &pods, namespace);
    true
}

/// Finishes every pending deletion: Terminating pods are removed, Terminating namespaces are
/// emptied and removed. Returns how many objects went.
pub fn finish_all(store: &mut Store) -> usize {
    let mut finished = 0;
    if let Some(pods) = store.info("", "pods") {
        let terminating: Vec<(String, String)> = store
            .iter(&pods)
            .filter(is_terminating)
            .map(|p| {
                (
                    metadata_str(&p, "namespace")
                        .unwrap_or_default()
                        .to_string(),
                    metadata_str(&p, "name").unwrap_or_default().to_string(),
                )
            })
            .collect();
        for (namespace, name) in terminating {
            if finish_pod(store, &namespace, &name) {
                finished += 1;
            }
        }
    }
    if let Some(namespaces) = store.info("", "namespaces") {
        let terminating: Vec<String> = store
            .iter(&namespaces)
            .filter(crate::strategy::namespace::is_terminating)
            .filter_map(|n| metadata_str(&n, "name").map(str::to_string))
            .collect();
        for namespace in terminating {
            let resources: Vec<ResourceInfo> = store
                .registry()
                .all()
                .iter()
                .filter(|i| i.namespaced && i.storage_key() == i.key())
                .cloned()
                .collect();
            for info in resources {
                let names: Vec<String> = store
                    .iter_namespace(&info, &namespace)
                    .filter_map(|o| metadata_str(&o, "name").map(str::to_string))
                    .collect();
                for name in names {
                    store.remove(&info, &namespace, &name);
                    forget(store, &namespace, &name);
                    finished += 1;
                }
            }
            store.remove(&namespaces, "", &namespace);
            finished += 1;
        }
    }
    finished
}
