//! The runner config's `job` section: how long a round may take in its Job, and how late a
//! scheduled playbook may still run.

use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobConfig {
    /// After this, the round starts no new action; it then notifies, saves the ledger and
    /// reports within `flushTimeout`. Keep `deadline + flushTimeout` below the Job's
    /// activeDeadlineSeconds (the manifests: 200s + 25s < 240s). `--deadline` overrides it.
    #[serde(default = "default_deadline")]
    pub deadline: Duration,
    /// Time for notifications, the ledger and the report once the round stopped acting (at its
    /// deadline or on SIGTERM); keep it below the pod's terminationGracePeriodSeconds. At most
    /// the deadline itself is used, so a short manual round also flushes quickly.
    #[serde(default = "default_flush")]
    pub flush_timeout: Duration,
    /// A playbook with a `schedule` runs for a fire at most this late (a CronJob's
    /// startingDeadlineSeconds); older fires are reported as missed and not run.
    #[serde(default = "default_starting")]
    pub starting_deadline: Duration,
}

fn default_deadline() -> Duration {
    Duration::from_secs(200)
}

fn default_flush() -> Duration {
    Duration::from_secs(25)
}

fn default_starting() -> Duration {
    Duration::from_secs(600)
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            deadline: default_deadline(),
            flush_timeout: default_flush(),
            starting_deadline: default_starting(),
        }
    }
}
