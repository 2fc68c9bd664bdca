//! Events (core/v1 and events.k8s.io/v1), kept as evidence for findings.

use super::meta::ObjectMeta;
use super::time::Timestamp;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    pub metadata: ObjectMeta,
    /// core/v1 names the object `involvedObject`; events.k8s.io/v1 calls it `regarding`.
    #[serde(alias = "regarding")]
    pub involved_object: InvolvedObject,
    pub reason: Option<String>,
    #[serde(alias = "note")]
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub count: Option<i64>,
    pub last_timestamp: Option<Timestamp>,
    pub event_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InvolvedObject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Event {
    pub fn time(&self) -> Option<&Timestamp> {
        self.last_timestamp
            .as_ref()
            .or(self.event_time.as_ref())
            .or(self.metadata.creation_timestamp.as_ref())
    }
}
