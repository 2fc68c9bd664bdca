//! Slim, typed views of the Kubernetes objects rounds reads.
//!
//! Only the fields detectors and actions use are kept: a dump's managedFields, annotations of
//! other tools and unknown kinds cost nothing after decoding, so memory follows findings, not
//! cluster size.

pub mod event;
pub mod from_text;
pub mod meta;
pub mod node;
pub mod pod;
pub mod storage;
pub mod time;
pub mod workload;

pub use event::Event;
pub use meta::{ObjectMeta, OwnerReference};
pub use node::Node;
pub use pod::Pod;
pub use storage::{Pvc, StatsSummary, StorageClass};
pub use time::Timestamp;
pub use workload::{Workload, WorkloadKind};

use serde_json::Value;

/// A decoded object of a kind rounds understands.
#[derive(Debug, Clone)]
pub enum Object {
    Pod(Box<Pod>),
    Node(Box<Node>),
    Workload(Box<Workload>),
    Pvc(Box<Pvc>),
    StorageClass(Box<StorageClass>),
    Namespace(Box<ObjectMeta>),
    Event(Box<Event>),
    PodDisruptionBudget(Box<ObjectMeta>),
    StatsSummary(Box<StatsSummary>),
}

/// The result of decoding one document or list item.
#[derive(Debug)]
pub enum Decoded {
    Object(Object),
    /// A well-formed object of a kind rounds does not read (Services, ConfigMaps, CRDs...).
    Ignored {
        api_version: String,
        kind: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not an object rounds can name exactly: it is never read and never a target.
    #[error("{0}")]
    Unreadable(#[from] Unreadable),
    /// An object of a kind rounds reads, with a field of the wrong shape.
    #[error("{object}: {path}: {message}")]
    Shape {
        /// `Pod shop/api-1`
        object: String,
        /// `status.containerStatuses[0].restartCount`
        path: String,
        message: String,
    },
}

/// Why an object cannot be named exactly (kind, namespace, name): an empty name would make a
/// collection URL, a name with `/` another object's URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("not a Kubernetes object: it has no `kind` (and is not a kubelet stats summary)")]
    NoKind,
    #[error("a {kind} without metadata.name")]
    NoName { kind: String },
    #[error("{kind} {name} without metadata.namespace (a {kind} always has one)")]
    NoNamespace { kind: String, name: String },
    #[error(
        "a {kind} whose {field} is {value:?}, which the API server never gives (no '/', '%', '.' or '..')"
    )]
    BadName {
        kind: String,
        field: &'static str,
        value: String,
    },
    #[error("an Event that does not name its object (involvedObject.kind and .name)")]
    EventWithoutObject,
    #[error("a kubelet stats summary without node.nodeName")]
    SummaryWithoutNode,
}

/// Whether rounds decodes objects of this kind (others are counted and skipped unread).
pub fn reads_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Pod"
            | "Node"
            | "PersistentVolumeClaim"
            | "StorageClass"
            | "Event"
            | "Namespace"
            | "PodDisruptionBudget"
    ) || WorkloadKind::from_kind(kind).is_some()
}

/// Whether objects of a kind rounds reads live in a namespace.
fn namespaced(kind: &str) -> bool {
    !matches!(kind, "Node" | "StorageClass" | "Namespace")
}

/// The top-level fields any object view reads. A reader may drop every other field unread
/// (a ConfigMap's `data`, a Secret's `stringData`) before decoding.
pub const READ_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "status",
    // StorageClass
    "provisioner",
    "allowVolumeExpansion",
    // Event (core/v1 and events.k8s.io/v1)
    "involvedObject",
    "regarding",
    "reason",
    "message",
    "note",
    "type",
    "count",
    "deprecatedCount",
    "firstTimestamp",
    "deprecatedFirstTimestamp",
    "lastTimestamp",
    "deprecatedLastTimestamp",
    "eventTime",
    "series",
    "source",
    "deprecatedSource",
    "reportingComponent",
    "reportingController",
    // kubelet stats summary
    "node",
    "pods",
];

/// A name the API server could have given: not empty, no `/` or `%`, not `.` or `..` (the
/// rules of its path segments). Anything else would address another URL.
fn check_name(kind: &str, field: &'static str, value: &str) -> Result<(), Unreadable> {
    if value.is_empty() || value == "." || value == ".." || value.contains(['/', '%']) {
        return Err(Unreadable::BadName {
            kind: kind.to_owned(),
            field,
            value: crate::wording::cut(value),
        });
    }
    Ok(())
}

/// `(kind, name)` exactly as a target needs them, or why the object cannot be one.
fn check_identity(kind: &str, value: &Value) -> Result<String, Unreadable> {
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
    if kind == "Event" {
        // Events are evidence, never targets: what must be exact is the object they are about.
        let about = value.get("involvedObject").or(value.get("regarding"));
        let name = about.and_then(|o| o.get("name")).and_then(Value::as_str);
        let about_kind = about.and_then(|o| o.get("kind")).and_then(Value::as_str);
        return match (about_kind, name) {
            (Some(k), Some(n)) if !k.is_empty() && !n.is_empty() => {
                check_name(k, "involvedObject.name", n)?;
                Ok(text("/metadata/name").unwrap_or("(unnamed)").to_owned())
            }
            _ => Err(Unreadable::EventWithoutObject),
        };
    }
    check_named(kind, text("/metadata/name"), text("/metadata/namespace"))
}

/// `name` or `namespace/name` of an object that is not an Event, exactly as a target needs
/// them, or why the object cannot be one.
pub fn check_named(
    kind: &str,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Result<String, Unreadable> {
    let name = match name {
        Some(n) if !n.is_empty() => n,
        _ => {
            return Err(Unreadable::NoName {
                kind: kind.to_owned(),
            });
        }
    };
    check_name(kind, "metadata.name", name)?;
    if !namespaced(kind) {
        return Ok(name.to_owned());
    }
    match namespace {
        Some(ns) if !ns.is_empty() => {
            check_name(kind, "metadata.namespace", ns)?;
            Ok(format!("{ns}/{name}"))
        }
        _ => Err(Unreadable::NoNamespace {
            kind: kind.to_owned(),
            name: crate::wording::cut(name),
        }),
    }
}

/// Decodes one object from its JSON form (YAML is read into the same form first). An object
/// rounds cannot name exactly is [`Unreadable`]: it never reaches a detector.
pub fn decode(mut value: Value) -> Result<Decoded, DecodeError> {
    strip_nulls(&mut value);
    let kind = value.get("kind").and_then(Value::as_str).map(str::to_owned);
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(kind) = kind.filter(|k| !k.is_empty()) else {
        if value.get("node").is_some() && value.get("pods").is_some() {
            let node = value.pointer("/node/nodeName").and_then(Value::as_str);
            match node {
                Some(n) if !n.is_empty() => check_name("Node", "node.nodeName", n)?,
                _ => return Err(Unreadable::SummaryWithoutNode.into()),
            }
            let name = format!("kubelet stats summary of node {}", node.unwrap_or_default());
            return shape(name, value, |v| {
                from_value(v).map(|s| Object::StatsSummary(Box::new(s)))
            })
            .map(Decoded::Object);
        }
        return Err(Unreadable::NoKind.into());
    };
    if !reads_kind(&kind) {
        return Ok(Decoded::Ignored { api_version, kind });
    }
    let object = format!("{kind} {}", check_identity(&kind, &value)?);
    let decoded = match kind.as_str() {
        "Pod" => shape(object, value, |v| {
            from_value(v).map(|p| Object::Pod(Box::new(p)))
        })?,
        "Node" => shape(object, value, |v| {
            from_value(v).map(|n| Object::Node(Box::new(n)))
        })?,
        "PersistentVolumeClaim" => shape(object, value, |v| {
            from_value(v).map(|p| Object::Pvc(Box::new(p)))
        })?,
        "StorageClass" => shape(object, value, |v| {
            from_value(v).map(|c| Object::StorageClass(Box::new(c)))
        })?,
        "Event" => shape(object, value, |v| {
            from_value(v).map(|e| Object::Event(Box::new(e)))
        })?,
        "Namespace" | "PodDisruptionBudget" => {
            let pdb = kind == "PodDisruptionBudget";
            shape(object, value, |v| {
                let MetaOnly { metadata: meta } = from_value(v)?;
                Ok(if pdb {
                    Object::PodDisruptionBudget(Box::new(meta))
                } else {
                    Object::Namespace(Box::new(meta))
                })
            })?
        }
        other => match WorkloadKind::from_kind(other) {
            Some(wk) => shape(object, value, |v| {
                Workload::from_value(wk, api_version.clone(), v)
                    .map(|w| Object::Workload(Box::new(w)))
            })?,
            None => return Ok(Decoded::Ignored { api_version, kind }),
        },
    };
    Ok(Decoded::Object(decoded))
}

fn shape(
    object: String,
    value: Value,
    f: impl FnOnce(Value) -> Result<Object, serde_path_to_error::Error<serde_json::Error>>,
) -> Result<Object, DecodeError> {
    f(value).map_err(|e| DecodeError::Shape {
        object,
        path: e.path().to_string(),
        message: crate::wording::plain_serde_message(&e.inner().to_string()),
    })
}

/// `null` means "absent" in Kubernetes JSON; removing it lets every field default.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Decodes with the path of the offending field in the error (`status.containerStatuses[0]...`).
fn from_value<T: serde::de::DeserializeOwned>(
    value: Value,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(value)
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct MetaOnly {
    metadata: ObjectMeta,
}
