//! Object metadata and the small shared pieces (conditions, quantities as text).

use super::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    #[serde(
        serialize_with = "super::time::serialize_raw",
        skip_serializing_if = "Option::is_none"
    )]
    pub creation_timestamp: Option<Timestamp>,
    #[serde(
        serialize_with = "super::time::serialize_raw",
        skip_serializing_if = "Option::is_none"
    )]
    pub deletion_timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

impl ObjectMeta {
    /// The owner reference marked as controller, or the only one when none is marked
    /// (old dumps omit `controller`).
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .find(|o| o.controller == Some(true))
            .or(match self.owner_references.as_slice() {
                [only] => Some(only),
                _ => None,
            })
    }
}

/// A status condition; pods, nodes and jobs share this shape.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(serialize_with = "super::time::serialize_raw")]
    pub last_transition_time: Option<Timestamp>,
}

pub fn condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// A quantity exactly as written in the object (`512Mi`, `1`, `0.5`); YAML may give a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct QuantityText(pub String);

impl<'de> Deserialize<'de> for QuantityText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(Self(s)),
            serde_json::Value::Number(n) => Ok(Self(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a quantity such as 512Mi, found {}",
                match other {
                    serde_json::Value::Array(_) => "a list".to_owned(),
                    serde_json::Value::Object(_) => "a mapping".to_owned(),
                    serde_json::Value::Null => "nothing (null)".to_owned(),
                    other => format!("the value {}", crate::wording::cut(&other.to_string())),
                }
            ))),
        }
    }
}

/// `intstr.IntOrString` as used by PDBs and rollout strategies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}
