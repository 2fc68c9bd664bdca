//! The playbook document: `apiVersion: rounds.dev/v1alpha1`, `kind: Playbook`.

use super::values::{CronSchedule, Duration, Glob, IntOrPercent, LabelSelector, TimeZoneName};
use crate::detect::Detector;
use crate::plan::Action;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(
    title = "Playbook",
    description = "A rounds playbook: what to detect, how to remediate, which guards apply."
)]
pub struct Playbook {
    pub api_version: ApiVersion,
    pub kind: PlaybookKind,
    pub metadata: Metadata,
    pub spec: PlaybookSpec,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "rounds.dev/v1alpha1")]
    V1alpha1,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum PlaybookKind {
    Playbook,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Unique among the loaded playbooks; a DNS label.
    #[schemars(extend("format" = "dns-label"))]
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlaybookSpec {
    /// What the playbook is for, in a sentence; shown in reports and notifications.
    #[serde(default)]
    pub description: Option<String>,
    /// When the playbook is due (five-field cron, as in a CronJob). Default: every round.
    #[serde(default)]
    pub schedule: Option<CronSchedule>,
    /// The time zone `schedule` is read in (IANA name, as a CronJob's timeZone); default UTC.
    #[serde(default)]
    pub time_zone: Option<TimeZoneName>,
    /// Which objects the playbook looks at.
    #[serde(default)]
    pub scope: Scope,
    /// The one detector this playbook runs.
    pub detect: Detector,
    #[serde(default)]
    pub severity: Severity,
    /// Remediations, planned in order for every finding.
    #[serde(default)]
    #[schemars(length(max = 10))]
    pub remediate: Vec<Action>,
    #[serde(default)]
    pub guards: Guards,
    #[serde(default)]
    pub notify: Notify,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scope {
    /// Namespace globs to include; empty means all namespaces.
    #[serde(default)]
    pub namespaces: Vec<Glob>,
    /// Namespace globs to leave out (wins over `namespaces`).
    #[serde(default)]
    pub exclude_namespaces: Vec<Glob>,
    /// Label selector on the object a finding is about.
    #[serde(default)]
    pub selector: Option<LabelSelector>,
    /// Label selector on the object's namespace.
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Guards {
    /// At most this many actions of this playbook per round.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub max_actions_per_round: Option<u32>,
    /// At most this many actions of this playbook per namespace per round.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub max_actions_per_namespace: Option<u32>,
    /// Do not act on the same target again within this time.
    #[serde(default)]
    pub cooldown: Option<Duration>,
    /// Act only inside these windows; none means any time.
    #[serde(default)]
    pub windows: Vec<Window>,
    /// Largest share of a workload's replicas that may be unavailable because of an action.
    #[serde(default)]
    pub max_unavailable: Option<IntOrPercent>,
    /// Circuit breaker: with more findings than this in one round, act on none and escalate.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100000))]
    pub max_findings: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Window {
    /// When the window opens (five-field cron).
    pub schedule: CronSchedule,
    /// How long it stays open.
    pub duration: Duration,
    /// The time zone the schedule is read in (IANA name); default UTC.
    #[serde(default)]
    pub time_zone: Option<TimeZoneName>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Notify {
    /// The notification route (from the runner config) to use; default by severity.
    #[serde(default)]
    pub route: Option<String>,
    #[serde(default)]
    pub evidence: EvidenceOptions,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EvidenceOptions {
    /// Lines of the previous container's log to attach (0 for none).
    #[serde(default = "default_log_tail")]
    #[schemars(range(min = 0, max = 1000))]
    pub log_tail_lines: u32,
    /// Attach the target's recent Events.
    #[serde(default = "yes")]
    pub events: bool,
}

impl Default for EvidenceOptions {
    fn default() -> Self {
        Self {
            log_tail_lines: default_log_tail(),
            events: true,
        }
    }
}

fn default_log_tail() -> u32 {
    20
}

fn yes() -> bool {
    true
}
