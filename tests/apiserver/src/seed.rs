//! Seeding the store from snapshot files: `kubectl get ... -o yaml|json` lists, multi-document
//! YAML, single objects, kubelet `stats/summary` documents, or directories of such files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::store::{Store, StoreError};

/// A snapshot file that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file or directory cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML or JSON.
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// An object in the file cannot be stored.
    #[error("{path}: {source}")]
    Object {
        /// The file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
}

/// Which documents of the files to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedFilter {
    /// Every object and kubelet summary.
    Everything,
    /// Only Role, ClusterRole, RoleBinding and ClusterRoleBinding objects (for `--rbac`
    /// folders that also hold Deployments, CronJobs and kustomizations).
    RbacOnly,
}

/// What a load added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedStats {
    /// Files read.
    pub files: usize,
    /// Objects stored.
    pub objects: usize,
    /// kubelet summaries stored.
    pub summaries: usize,
    /// Documents skipped (no kind, or filtered out).
    pub skipped: usize,
}

impl std::ops::AddAssign for SeedStats {
    fn add_assign(&mut self, other: Self) {
        self.files += other.files;
        self.objects += other.objects;
        self.summaries += other.summaries;
        self.skipped += other.skipped;
    }
}

/// Loads a file, or every `*.yaml`, `*.yml` and `*.json` file under a directory (recursively,
/// in name order).
pub fn load_path(
    store: &mut Store,
    path: &Path,
    filter: SeedFilter,
) -> Result<SeedStats, SeedError> {
    let read_error = |source| SeedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_dir() {
        return load_file(store, path, filter);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_error)?;
    entries.sort();
    let mut stats = SeedStats::default();
    for entry in entries {
        let is_snapshot = entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if entry.is_dir() || is_snapshot {
            stats += load_path(store, &entry, filter)?;
        }
    }
    Ok(stats)
}

fn load_file(store: &mut Store, path: &Path, filter: SeedFilter) -> Result<SeedStats, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let is_json = path.extension().and_then(|e| e.to_str()) == Some("json");
    let documents = parse_documents(&text, is_json).map_err(|message| SeedError::Parse {
        path: path.to_path_buf(),
        message,
    })?;
    let mut stats =
        load_documents(store, documents, filter).map_err(|source| SeedError::Object {
            path: path.to_path_buf(),
            source,
        })?;
    stats.files = 1;
    Ok(stats)
}

/// Parses YAML (one or more documents) or JSON (one or more concatenated values).
pub fn parse_documents(text: &str, is_json: bool) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    if is_json || trimmed.starts_with('{') || trimmed.starts_with('[') {
        let parsed: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect();
        match parsed {
            Ok(values) => return Ok(values),
            Err(error) if is_json => return Err(error.to_string()),
            Err(_) => {}
        }
    }
    let mut options = serde_saphyr::Options::default();
    // Snapshots are trusted test input and may hold tens of thousands of objects.
    options.budget = None;
    serde_saphyr::from_multiple_with_options::<Value>(text, options).map_err(|e| e.to_string())
}

/// Stores parsed documents: lists are unpacked (items of typed lists such as `PodList` get
/// their kind from the list), kubelet summaries are stored per node.
pub fn load_documents(
    store: &mut Store,
    documents: Vec<Value>,
    filter: SeedFilter,
) -> Result<SeedStats, StoreError> {
    let mut stats = SeedStats::default();
    let mut queue: Vec<Value> = documents;
    queue.reverse();
    while let Some(document) = queue.pop() {
        if document.is_null() {
            continue;
        }
        let kind = document
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(items) = document.get("items").and_then(Value::as_array)
            && kind.ends_with("List")
        {
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            let api_version = document.get("apiVersion").cloned();
            let mut unpacked = Vec::with_capacity(items.len());
            for item in items {
                let mut item = item.clone();
                if let (Some(item_kind), Some(map)) = (item_kind, item.as_object_mut()) {
                    map.entry("kind").or_insert_with(|| Value::from(item_kind));
                    if let Some(api_version) = &api_version {
                        map.entry("apiVersion")
                            .or_insert_with(|| api_version.clone());
                    }
                }
                unpacked.push(item);
            }
            queue.extend(unpacked.into_iter().rev());
            continue;
        }
        if kind.is_empty() {
            let node = document
                .get("node")
                .and_then(|n| n.get("nodeName"))
                .and_then(Value::as_str)
                .map(str::to_string);
            match node {
                Some(node)
                    if document.get("pods").is_some() && filter == SeedFilter::Everything =>
                {
                    store.insert_summary(&node, document);
                    stats.summaries += 1;
                }
                _ => stats.skipped += 1,
            }
            continue;
        }
        let is_rbac = document
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("rbac.authorization.k8s.io/"));
        if filter == SeedFilter::RbacOnly && !is_rbac {
            stats.skipped += 1;
            continue;
        }
        store.insert(document)?;
        stats.objects += 1;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_lists_and_multi_document_yaml() {
        let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: shop\n---\n";
        let mut store = Store::new();
        let documents = parse_documents(yaml, false).expect("yaml");
        let stats = load_documents(&mut store, documents, SeedFilter::Everything).expect("load");
        assert_eq!(stats.objects, 2);
        let pods = store
            .registry()
            .lookup("", "v1", "pods")
            .expect("pods")
            .clone();
        let pod = store.get(&pods, "default", "a").expect("pod in default");
        assert!(pod["metadata"]["uid"].is_string());
        assert!(pod["metadata"]["resourceVersion"].is_string());
    }

    #[test]
    fn typed_lists_summaries_and_unknown_kinds() {
        let json = r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"p","namespace":"x"}}]}
{"node":{"nodeName":"n1"},"pods":[]}
{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"x"}}"#;
        let mut store = Store::new();
        let documents = parse_documents(json, true).expect("json");
        let stats = load_documents(&mut store, documents, SeedFilter::Everything).expect("load");
        assert_eq!((stats.objects, stats.summaries), (2, 1));
        assert!(store.summary("n1").is_some());
        let widgets = store
            .registry()
            .lookup("example.com", "v1", "widgets")
            .expect("registered")
            .clone();
        assert!(widgets.namespaced);
        assert!(store.get(&widgets, "x", "w").is_some());
    }

    #[test]
    fn rbac_filter_keeps_only_rbac_objects() {
        let yaml = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: rounds\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: rounds\nrules: []\n";
        let mut store = Store::new();
        let documents = parse_documents(yaml, false).expect("yaml");
        let stats = load_documents(&mut store, documents, SeedFilter::RbacOnly).expect("load");
        assert_eq!((stats.objects, stats.skipped), (1, 1));
    }
}
