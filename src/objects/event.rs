//! Events (core/v1 and events.k8s.io/v1): evidence for findings, and what node-level detectors
//! read (system OOM kills are recorded only as Events on the Node).

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
    #[serde(alias = "deprecatedCount")]
    pub count: Option<i64>,
    #[serde(alias = "deprecatedFirstTimestamp")]
    pub first_timestamp: Option<Timestamp>,
    #[serde(alias = "deprecatedLastTimestamp")]
    pub last_timestamp: Option<Timestamp>,
    pub event_time: Option<Timestamp>,
    /// Repeats of an events.k8s.io/v1 Event (and of core/v1 Events written through it).
    pub series: Option<EventSeries>,
    #[serde(alias = "deprecatedSource")]
    pub source: EventSource,
    /// Who wrote it, in events.k8s.io/v1 terms (core/v1: `reportingComponent`).
    #[serde(alias = "reportingComponent")]
    pub reporting_controller: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InvolvedObject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventSeries {
    pub count: Option<i64>,
    pub last_observed_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventSource {
    pub component: Option<String>,
    pub host: Option<String>,
}

impl Event {
    /// When it last happened: the series' last observation, the last timestamp, the event
    /// time, then (for an Event that only says when it began) the first timestamp.
    pub fn time(&self) -> Option<&Timestamp> {
        self.series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .or(self.last_timestamp.as_ref())
            .or(self.event_time.as_ref())
            .or(self.first_timestamp.as_ref())
            .or(self.metadata.creation_timestamp.as_ref())
    }

    /// How many times it happened (at least once).
    pub fn occurrences(&self) -> i64 {
        self.series
            .as_ref()
            .and_then(|s| s.count)
            .or(self.count)
            .unwrap_or(1)
            .max(1)
    }

    /// The component that reported it (`kernel-monitor`, `kubelet`...).
    pub fn reporter(&self) -> Option<&str> {
        self.source
            .component
            .as_deref()
            .or(self.reporting_controller.as_deref())
            .filter(|s| !s.is_empty())
    }
}
