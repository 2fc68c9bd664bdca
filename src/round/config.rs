//! The round's configuration, built once from the command line and the runner config: the rest
//! of the round never sees raw arguments.

use super::mode::Mode;
use crate::api::ConnectOptions;
use crate::guard::config::GuardSettings;
use crate::playbook::Loaded;
use crate::playbook::values::Glob;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::time::Duration;

/// Where cluster state comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Snapshot(Vec<PathBuf>),
    Live(ConnectOptions),
}

impl Source {
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Live(_))
    }
}

#[derive(Debug)]
pub struct RoundConfig {
    /// The round's id: reproducible for plans, with a nonce for live runs.
    pub run_id: String,
    pub playbooks: Vec<Loaded>,
    pub mode: Mode,
    /// The reference time of every window (`--now`, or the clock at the start).
    pub now: DateTime<Utc>,
    /// No action starts after this (the round's deadline in its Job).
    pub deadline: Duration,
    /// Time for notifications, the ledger and the report after the deadline or SIGTERM; the
    /// API's budget is `deadline + flush_timeout`.
    pub flush_timeout: Duration,
    /// When scheduled playbooks are due: how late a fire may still run, and when each
    /// playbook last succeeded (from the ledger).
    pub schedules: crate::job::schedule::Schedules,
    /// The part of the cluster this runner looks after (an Indexed Job's pod), or all of it.
    pub shard: crate::shard::Shard,
    pub source: Source,
    pub page_size: u32,
    /// Bounds of reading a snapshot (object and token sizes).
    pub snapshot_limits: crate::inventory::snapshot::Limits,
    /// Rounds' own namespace: its ledger, lease and pause ConfigMap live there.
    pub namespace: String,
    /// Namespaces rounds never changes (rounds' own included).
    pub protected_namespaces: Vec<Glob>,
    pub guards: GuardSettings,
    /// The ConfigMap that holds the ledger, and the Lease.
    pub ledger_name: String,
    pub lease_name: String,
    /// A ledger file for snapshot rounds (read only).
    pub ledger_file: Option<PathBuf>,
    /// Prometheus, for detectors that read disk usage from it.
    pub prometheus: Option<(String, Duration)>,
    /// The playbook lock the runner config names, compared with this round's playbooks.
    pub lock: Option<crate::lock::LockCheck>,
}

impl RoundConfig {
    /// How long the lease is held: longer than the round may take, so it cannot expire under
    /// a round that keeps its deadline, and not much longer, so a killed round's lease is
    /// taken over soon.
    pub fn lease_duration(&self) -> Duration {
        let round = self.deadline + self.flush_timeout;
        round + (round / 8).max(Duration::from_secs(5))
    }

    pub fn playbook(&self, name: &str) -> Option<&Loaded> {
        self.playbooks.iter().find(|p| p.name() == name)
    }
}
