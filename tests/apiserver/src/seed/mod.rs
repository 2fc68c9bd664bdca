//! Seeding the store from snapshot files: `kubectl get ... -o yaml|json` lists, multi-document
//! YAML, single objects, kubelet `stats/summary` documents, or directories of such files.

mod stream;

use std::fs::File;
use std::io::BufReader;
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
    let read_error = |source| SeedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let object_error = |source| SeedError::Object {
        path: path.to_path_buf(),
        source,
    };
    let is_json = path.extension().and_then(|e| e.to_str()) == Some("json");
    let mut stats = if is_json {
        // Streamed: a JSON snapshot may be gigabytes.
        let file = File::open(path).map_err(read_error)?;
        load_json_stream(store, BufReader::with_capacity(1 << 20, file), filter).map_err(
            |error| match error {
                StreamError::Parse(message) => SeedError::Parse {
                    path: path.to_path_buf(),
                    message,
                },
                StreamError::Object(source) => object_error(source),
            },
        )?
    } else {
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        let documents = parse_documents(&text, false).map_err(|message| SeedError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        load_documents(store, documents, filter).map_err(object_error)?
    };
    stats.files = 1;
    Ok(stats)
}

/// Why a streamed JSON snapshot stopped loading.
enum StreamError {
    Parse(String),
    Object(StoreError),
}

/// Loads the documents of a JSON text as they are read; a list's items are stored one by
/// one, each decoded from its compact form only then (and that form freed).
fn load_json_stream(
    store: &mut Store,
    reader: impl std::io::Read,
    filter: SeedFilter,
) -> Result<SeedStats, StreamError> {
    let mut stats = SeedStats::default();
    for document in stream::documents(reader) {
        let document = document.map_err(StreamError::Parse)?;
        let list_kind = match &document {
            stream::Document::WithItems { fields, .. } => fields
                .get("kind")
                .and_then(Value::as_str)
                .filter(|kind| kind.ends_with("List")),
            stream::Document::Whole(_) => None,
        };
        let Some(list_kind) = list_kind else {
            load_document(store, document.into_value(), filter, &mut stats)
                .map_err(StreamError::Object)?;
            continue;
        };
        let defaults = ItemDefaults::of_list(list_kind, document_fields(&document));
        let stream::Document::WithItems { items, .. } = document else {
            continue;
        };
        for item in items {
            let item = defaults.apply(stream::decode(&item));
            load_document(store, item, filter, &mut stats).map_err(StreamError::Object)?;
        }
    }
    Ok(stats)
}

fn document_fields(document: &stream::Document) -> Option<&serde_json::Map<String, Value>> {
    match document {
        stream::Document::WithItems { fields, .. } => Some(fields),
        stream::Document::Whole(_) => None,
    }
}

/// What the items of a typed list (`PodList`) get from the list when they lack it.
struct ItemDefaults {
    kind: Option<String>,
    api_version: Option<Value>,
}

impl ItemDefaults {
    fn of_list(kind: &str, list: Option<&serde_json::Map<String, Value>>) -> Self {
        Self {
            kind: kind
                .strip_suffix("List")
                .filter(|k| !k.is_empty())
                .map(str::to_string),
            api_version: list.and_then(|l| l.get("apiVersion")).cloned(),
        }
    }

    fn apply(&self, mut item: Value) -> Value {
        if let (Some(kind), Some(map)) = (&self.kind, item.as_object_mut()) {
            map.entry("kind")
                .or_insert_with(|| Value::from(kind.as_str()));
            if let Some(api_version) = &self.api_version {
                map.entry("apiVersion")
                    .or_insert_with(|| api_version.clone());
            }
        }
        item
    }
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
    for document in documents {
        load_document(store, document, filter, &mut stats)?;
    }
    Ok(stats)
}

/// Stores one parsed document (a list with the lists inside it unpacked, in order).
fn load_document(
    store: &mut Store,
    document: Value,
    filter: SeedFilter,
    stats: &mut SeedStats,
) -> Result<(), StoreError> {
    let mut queue = vec![document];
    while let Some(document) = queue.pop() {
        if document.is_null() {
            continue;
        }
        let kind = document
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if document.get("items").is_some_and(Value::is_array) && kind.ends_with("List") {
            let defaults = ItemDefaults::of_list(kind, document.as_object());
            let mut document = document;
            if let Some(Value::Array(items)) = document.get_mut("items").map(Value::take) {
                queue.extend(items.into_iter().rev().map(|item| defaults.apply(item)));
            }
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
    Ok(())
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

    /// Streaming a JSON file stores what parsing it whole stores, in the same order.
    #[test]
    fn streamed_json_loads_as_parsed_json() {
        let json = r#"{"apiVersion":"v1","items":[{"metadata":{"name":"p","namespace":"x"}},
            {"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap",
            "metadata":{"name":"c"}}]}],"kind":"PodList"}
{"node":{"nodeName":"n1"},"pods":[]} null [1]
{"apiVersion":"example.com/v1","kind":"Widget","items":[1],"metadata":{"name":"w"}}"#;
        let mut parsed = Store::new();
        let documents = parse_documents(json, true).expect("json");
        let expected =
            load_documents(&mut parsed, documents, SeedFilter::Everything).expect("load");
        let mut streamed = Store::new();
        let stats = load_json_stream(&mut streamed, json.as_bytes(), SeedFilter::Everything)
            .unwrap_or_else(|_| panic!("stream loads"));
        assert_eq!(stats, expected);
        assert_eq!((stats.objects, stats.summaries, stats.skipped), (3, 1, 1));
        assert_eq!(streamed.resource_version(), parsed.resource_version());
        for info in parsed.registry().all() {
            let want: Vec<Value> = parsed.iter(info).collect();
            let got: Vec<Value> = streamed.iter(info).collect();
            assert_eq!(got, want, "{}", info.resource);
        }
        assert!(streamed.summary("n1").is_some());
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
