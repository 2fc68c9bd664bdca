//! The round's report: one `RoundReport` document (JSON), or text for a person.

pub mod text;

use crate::detect::Finding;
use crate::plan::{ObjectRef, Request};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub run_id: String,
    /// `dry-run` or `apply`.
    pub mode: &'static str,
    /// The reference time of the round (`--now`, or the clock).
    pub now: String,
    pub source: String,
    pub playbooks: Vec<PlaybookEntry>,
    pub findings: Vec<Finding>,
    pub actions: Vec<ActionEntry>,
    pub notifications: Vec<NotificationEntry>,
    /// Things the user should know that are not errors (ignored kinds, skipped scope checks).
    pub notes: Vec<String>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookEntry {
    pub name: String,
    pub file: String,
    pub digest: String,
    pub due: bool,
    pub detector: &'static str,
    pub severity: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionStatus {
    Planned,
    Applied,
    Skipped,
    Failed,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Applied => "applied",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionEntry {
    pub playbook: String,
    pub action: &'static str,
    pub target: ObjectRef,
    pub status: ActionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub summary: String,
    /// The exact request the action sends (or would send in dry-run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<Request>,
    /// Fingerprints of the findings this action answers.
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEntry {
    pub channel: String,
    pub tier: &'static str,
    /// sent | suppressed | failed | fallback | dry-run
    pub status: &'static str,
    pub attempts: u32,
    /// Why delivery failed, without secrets (URLs are stripped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The route and the group (e.g. `playbook=oom-raise-memory`) the message was for.
    pub route: String,
    pub group: String,
    /// Why it was sent: new | changed | repeat | refresh | resolved (none when suppressed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Findings in the message (firing and resolved).
    pub findings: usize,
    /// For a fallback delivery: the channel that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_for: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub playbooks: usize,
    pub due: usize,
    pub objects: usize,
    pub findings: usize,
    pub planned: usize,
    pub applied: usize,
    pub skipped: usize,
    pub failed: usize,
}
