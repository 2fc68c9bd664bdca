//! rounds' own metrics. A CronJob cannot be scraped, so at the end of every round rounds
//! pushes one group to a Prometheus Pushgateway, replacing the previous round's (PUT), under
//! job `rounds` and a grouping key of cluster and shard.
//!
//! **The last success time survives failed rounds.** A PUT replaces the whole group, so a
//! failed round that simply left `rounds_last_success_timestamp_seconds` out would erase it,
//! and an alert on its age would go quiet exactly when it should fire. So a failed round pushes
//! the newest success it knows of: the one the gateway holds for this group (read back from
//! `/api/v1/metrics` before the PUT) or one the caller carries (the ledger), whichever is later.
//! If neither is known the value is 0 ("never"), so the alert fires. If the gateway cannot be
//! read and the caller carries nothing, the group is not replaced at all (the old one, with its
//! success time, stays) and the push is reported as failed. The gateway's own
//! `push_time_seconds`/`push_failure_time_seconds` say when the group last changed or was
//! refused; they do not say whether the round succeeded, hence this gauge.
//!
//! A failed push is logged, recorded in the report (`push`), and makes a round that was
//! otherwise done exit with 3.

pub mod auth;
pub mod config;
pub mod families;
pub mod gateway;

pub use families::{ApiStats, RoundRecord};
pub use gateway::Group;

use auth::Credentials;
use chrono::{DateTime, SecondsFormat, Utc};
use config::PushgatewayConfig;
use gateway::{Gateway, GatewayError};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The gauge carried from round to round.
pub const LAST_SUCCESS: &str = "rounds_last_success_timestamp_seconds";

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics.pushgateway.cluster must not be empty: it names this cluster's group")]
    NoCluster,
    #[error("metrics.pushgateway.url: {0}")]
    Url(String),
    #[error("the shard of this runner: {0}")]
    Shard(#[from] crate::shard::ShardError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("metrics.pushgateway: {0}")]
    Client(#[from] GatewayError),
}

/// What became of the push, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushEntry {
    /// The gateway's base URL (it never holds credentials).
    pub gateway: String,
    /// The group's path, e.g. `/metrics/job/rounds/cluster/prod/shard/0`.
    pub group: String,
    pub status: PushStatus,
    /// The `rounds_last_success_timestamp_seconds` pushed (RFC 3339), absent when none is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// Where that time came from.
    pub last_success_from: SuccessSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PushStatus {
    Pushed,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SuccessSource {
    /// This round succeeded.
    ThisRound,
    /// The group the gateway held before this push.
    Gateway,
    /// What the caller carried over (the ledger).
    Carried,
    /// No success is known: pushed as 0.
    None,
}

impl PushEntry {
    pub fn failed(&self) -> bool {
        self.status == PushStatus::Failed
    }
}

/// The exit code once the push is counted: a failed push turns "done" into 3, the code for
/// "done, but something the user must see failed"; a round that already failed keeps its code.
pub fn exit_code(round_exit: u8, push: Option<&PushEntry>) -> u8 {
    match push {
        Some(p) if p.failed() && round_exit == 0 => 3,
        _ => round_exit,
    }
}

/// The `shard` label: this runner's index among `ROUNDS_SHARDS` (an Indexed Job's
/// `JOB_COMPLETION_INDEX`), `0` for a runner of the whole cluster.
pub fn shard_label() -> Result<String, MetricsError> {
    Ok(crate::shard::Shard::from_env()?.index.to_string())
}

pub struct Pusher {
    gateway: Gateway,
    group: Group,
    interval: Duration,
}

impl Pusher {
    /// A pusher for the configured gateway; its secrets are read here, once per round.
    pub fn new(
        config: &PushgatewayConfig,
        secrets_dir: &Path,
        shard: String,
    ) -> Result<Self, MetricsError> {
        if config.cluster.trim().is_empty() {
            return Err(MetricsError::NoCluster);
        }
        let credentials = Credentials::load(
            config.auth.as_ref(),
            &crate::secrets::SecretsDir::new(secrets_dir),
        )?;
        Ok(Self {
            gateway: Gateway::new(
                config.gateway_url().map_err(MetricsError::Url)?,
                credentials,
                config.timeout(),
            )?,
            group: Group {
                cluster: config.cluster.clone(),
                shard,
            },
            interval: config.interval(),
        })
    }

    /// Pushes the round's metrics, replacing the group. `carried` is the last success the
    /// caller knows from elsewhere (the ledger). Never fails: the outcome is in the entry, and
    /// a failure is logged.
    pub async fn push(&self, record: &RoundRecord<'_>, carried: Option<SystemTime>) -> PushEntry {
        let mut entry = PushEntry {
            gateway: self.gateway.url().to_owned(),
            group: self.group.path(),
            status: PushStatus::Failed,
            last_success: None,
            last_success_from: SuccessSource::None,
            error: None,
        };
        let known = if record.succeeded() {
            Ok((Some(record.finished), SuccessSource::ThisRound))
        } else {
            self.previous_success(carried).await
        };
        let (last_success, source) = match known {
            Ok(k) => k,
            Err(e) => {
                let message = self.gateway.scrub(&format!(
                    "{e}; the group was not replaced, so the last success time it holds is kept"
                ));
                tracing::error!(gateway = %entry.gateway, group = %entry.group, error = %message, "Could not push the round's metrics.");
                entry.error = Some(message);
                return entry;
            }
        };
        entry.last_success = last_success.map(rfc3339);
        entry.last_success_from = source;
        let text = families::encode(&families::registry(record, last_success, self.interval));
        match self.gateway.put(&self.group, text).await {
            Ok(()) => {
                tracing::info!(gateway = %entry.gateway, group = %entry.group, "Pushed the round's metrics.");
                entry.status = PushStatus::Pushed;
            }
            Err(e) => {
                let message = self.gateway.scrub(&e.to_string());
                tracing::error!(gateway = %entry.gateway, group = %entry.group, error = %message, "Could not push the round's metrics.");
                entry.error = Some(message);
            }
        }
        entry
    }

    async fn previous_success(
        &self,
        carried: Option<SystemTime>,
    ) -> Result<(Option<SystemTime>, SuccessSource), GatewayError> {
        let from_gateway = match self.gateway.read_gauge(&self.group, LAST_SUCCESS).await {
            Ok(v) => v
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s)),
            // What the caller carries is enough: replacing the group loses nothing.
            Err(e) if carried.is_some() => {
                let e = self.gateway.scrub(&e.to_string());
                tracing::warn!(error = %e, "Could not read the last success time from the Pushgateway; using the carried one.");
                None
            }
            Err(e) => return Err(e),
        };
        Ok(match (from_gateway, carried) {
            (Some(g), Some(c)) if c > g => (Some(c), SuccessSource::Carried),
            (Some(g), _) => (Some(g), SuccessSource::Gateway),
            (None, Some(c)) => (Some(c), SuccessSource::Carried),
            (None, None) => (None, SuccessSource::None),
        })
    }
}

/// The metrics side of `rounds run`, as a hook around the round: [`RunMetrics::start`] before
/// it (the gateway's secrets are read then, once), [`RunMetrics::finish`] at its end, however it
/// ended. Without `metrics.pushgateway` both do nothing.
pub struct RunMetrics {
    pusher: Option<Pusher>,
    started: SystemTime,
}

impl RunMetrics {
    /// A hook that pushes nothing (no usable runner config).
    pub fn disabled() -> Self {
        Self {
            pusher: None,
            started: SystemTime::now(),
        }
    }

    pub fn start(config: &crate::config::RunnerConfig) -> Result<Self, MetricsError> {
        let started = SystemTime::now();
        let pusher = match config.metrics.as_ref().and_then(|m| m.pushgateway.as_ref()) {
            Some(gw) => Some(Pusher::new(gw, &config.secrets_dir, shard_label()?)?),
            None => None,
        };
        Ok(Self { pusher, started })
    }

    /// Pushes the round (`report` is `None` when it stopped before it had one), records the
    /// outcome in the report, and returns the exit code with the push counted. `carried` is a
    /// last success time known from elsewhere (the ledger).
    pub async fn finish(
        &self,
        report: Option<&mut crate::report::RoundReport>,
        mode: &'static str,
        exit_code: u8,
        api: ApiStats,
        carried: Option<SystemTime>,
    ) -> u8 {
        let Some(pusher) = &self.pusher else {
            return exit_code;
        };
        let record = RoundRecord {
            report: report.as_deref(),
            mode,
            started: self.started,
            finished: SystemTime::now(),
            exit_code,
            api,
        };
        let entry = pusher.push(&record, carried).await;
        let exit = self::exit_code(exit_code, Some(&entry));
        if let Some(report) = report {
            report.push = Some(entry);
        }
        exit
    }
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: PushStatus) -> PushEntry {
        PushEntry {
            gateway: "http://gw".into(),
            group: "/metrics/job/rounds/cluster/c/shard/0".into(),
            status,
            last_success: None,
            last_success_from: SuccessSource::None,
            error: None,
        }
    }

    #[test]
    fn a_failed_push_fails_a_round_that_was_done() {
        assert_eq!(exit_code(0, None), 0);
        assert_eq!(exit_code(0, Some(&entry(PushStatus::Pushed))), 0);
        assert_eq!(exit_code(0, Some(&entry(PushStatus::Failed))), 3);
        assert_eq!(exit_code(2, Some(&entry(PushStatus::Failed))), 2);
        assert_eq!(exit_code(1, Some(&entry(PushStatus::Failed))), 1);
        assert_eq!(exit_code(3, Some(&entry(PushStatus::Pushed))), 3);
    }
}
