//! Slim, typed views of the Kubernetes objects rounds reads.
//!
//! Only the fields detectors and actions use are kept: a dump's managedFields, annotations of
//! other tools and unknown kinds cost nothing after decoding, so memory follows findings, not
//! cluster size.

pub mod event;
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
    #[error("not a Kubernetes object: no `kind` field and not a kubelet stats summary")]
    NoKind,
    #[error("{kind} {name}: {source}")]
    Shape {
        kind: String,
        name: String,
        source: serde_path_to_error::Error<serde_json::Error>,
    },
}

/// Decodes one object from its JSON form (YAML is read into the same form first).
pub fn decode(mut value: Value) -> Result<Decoded, DecodeError> {
    strip_nulls(&mut value);
    let kind = value.get("kind").and_then(Value::as_str).map(str::to_owned);
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(kind) = kind else {
        if value.get("node").is_some() && value.get("pods").is_some() {
            return shape("StatsSummary", value, |v| {
                from_value(v).map(|s| Object::StatsSummary(Box::new(s)))
            })
            .map(Decoded::Object);
        }
        return Err(DecodeError::NoKind);
    };
    let object = match kind.as_str() {
        "Pod" => shape(&kind, value, |v| {
            from_value(v).map(|p| Object::Pod(Box::new(p)))
        })?,
        "Node" => shape(&kind, value, |v| {
            from_value(v).map(|n| Object::Node(Box::new(n)))
        })?,
        "PersistentVolumeClaim" => shape(&kind, value, |v| {
            from_value(v).map(|p| Object::Pvc(Box::new(p)))
        })?,
        "StorageClass" => shape(&kind, value, |v| {
            from_value(v).map(|c| Object::StorageClass(Box::new(c)))
        })?,
        "Event" => shape(&kind, value, |v| {
            from_value(v).map(|e| Object::Event(Box::new(e)))
        })?,
        "Namespace" | "PodDisruptionBudget" => {
            let pdb = kind == "PodDisruptionBudget";
            shape(&kind, value, |v| {
                let MetaOnly { metadata: meta } = from_value(v)?;
                Ok(if pdb {
                    Object::PodDisruptionBudget(Box::new(meta))
                } else {
                    Object::Namespace(Box::new(meta))
                })
            })?
        }
        other => match WorkloadKind::from_kind(other) {
            Some(wk) => shape(&kind, value, |v| {
                Workload::from_value(wk, api_version.clone(), v)
                    .map(|w| Object::Workload(Box::new(w)))
            })?,
            None => return Ok(Decoded::Ignored { api_version, kind }),
        },
    };
    Ok(Decoded::Object(object))
}

fn shape(
    kind: &str,
    value: Value,
    f: impl FnOnce(Value) -> Result<Object, serde_path_to_error::Error<serde_json::Error>>,
) -> Result<Object, DecodeError> {
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_owned();
    f(value).map_err(|source| DecodeError::Shape {
        kind: kind.to_owned(),
        name,
        source,
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
