//! The runner config's `guards:` section: limits that hold across playbooks.

use crate::playbook::values::IntOrPercent;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardSettings {
    /// At most this many changes in one round, over all playbooks.
    #[serde(default = "default_max_actions")]
    #[schemars(range(min = 0, max = 10000))]
    pub max_actions_per_round: u32,
    /// Circuit breaker for playbooks that set no `guards.maxFindings`: with more findings
    /// than this in one playbook, act on none of them and escalate.
    #[serde(default = "default_max_findings")]
    #[schemars(range(min = 1, max = 100000))]
    pub max_findings: u32,
    /// A finding still there this many rounds after its remediation is escalated.
    #[serde(default = "default_escalate")]
    #[schemars(range(min = 1, max = 1000))]
    pub escalate_after_rounds: u32,
    /// Read the label `app.kubernetes.io/instance` as Argo CD's tracking label (Argo CD's
    /// default label tracking). Off by default: Helm sets that label too.
    #[serde(default)]
    pub argo_cd_instance_label: bool,
    /// The ConfigMap in rounds' namespace whose key `paused` pauses every change: `"true"`,
    /// or an RFC 3339 time until which it is paused.
    #[serde(default = "default_pause")]
    pub pause_config_map: String,
    /// Node actions (cordonNode) may leave at most this share of the nodes unschedulable.
    #[serde(default = "default_nodes")]
    pub max_unavailable_nodes: IntOrPercent,
}

fn default_max_actions() -> u32 {
    10
}

fn default_max_findings() -> u32 {
    50
}

fn default_escalate() -> u32 {
    3
}

fn default_pause() -> String {
    "rounds-control".into()
}

fn default_nodes() -> IntOrPercent {
    "10%"
        .parse()
        .unwrap_or_else(|_| unreachable!("valid literal"))
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            max_actions_per_round: default_max_actions(),
            max_findings: default_max_findings(),
            escalate_after_rounds: default_escalate(),
            argo_cd_instance_label: false,
            pause_config_map: default_pause(),
            max_unavailable_nodes: default_nodes(),
        }
    }
}
