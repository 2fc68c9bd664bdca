//! The metric families of one round, written in the Prometheus text format by
//! `prometheus-client`.
//!
//! A round is a batch job and the group is replaced on every push, so every number describes
//! the last round and is a gauge (as the Prometheus instrumentation guide advises for batch
//! jobs): a counter that starts again at every push would make `rate()` and `increase()` lie.
//! Label values are bounded: playbook, detector, severity, action, status, guard, channel,
//! tier, HTTP method and code — never a pod, namespace or node name.

use crate::api::RequestCounts;
use crate::report::RoundReport;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

/// The `Content-Type` of what [`encode`] writes.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The API requests of a round: one entry per attempt, and how many were retries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiStats {
    /// (method, status code or `error` when no response came) → requests.
    pub requests: BTreeMap<(String, String), u64>,
    pub retries: u64,
}

impl ApiStats {
    pub fn from_requests(made: &RequestCounts, retries: u64) -> Self {
        let requests = made
            .iter()
            .map(|(method, status, n)| {
                let code = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
                ((method.to_owned(), code), n)
            })
            .collect();
        Self { requests, retries }
    }
}

/// Everything the metrics of one round are made of.
#[derive(Debug, Clone)]
pub struct RoundRecord<'a> {
    /// The round's report; `None` when the round stopped before it had one (exit 1 or 2).
    pub report: Option<&'a RoundReport>,
    pub mode: &'static str,
    pub started: SystemTime,
    pub finished: SystemTime,
    /// The round's exit code (before the push's own outcome is counted).
    pub exit_code: u8,
    pub api: ApiStats,
}

impl RoundRecord<'_> {
    /// A round succeeded when it ran to the end with nothing failed (exit 0), which is also
    /// when its Job succeeds.
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }
}

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

type FloatGauge = Gauge<f64, AtomicU64>;
type Labels = Vec<(&'static str, String)>;

fn gauge(registry: &mut Registry, name: &str, help: &str, unit: Option<Unit>, value: f64) {
    let g = FloatGauge::default();
    g.set(value);
    match unit {
        Some(u) => registry.register_with_unit(name, help, u, g),
        None => registry.register(name, help, g),
    }
}

fn int_gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let g = Gauge::<i64>::default();
    g.set(value);
    registry.register(name, help, g);
}

fn counted(registry: &mut Registry, name: &str, help: &str, counts: BTreeMap<Labels, i64>) {
    let family = Family::<Labels, Gauge>::default();
    for (labels, n) in counts {
        family.get_or_create(&labels).set(n);
    }
    registry.register(name, help, family);
}

/// The registry of one round. `last_success` is the end of the newest successful round known
/// (this one, or one carried over from before); `None` is written as 0: "never, as far as
/// anyone knows".
/// `interval` is how often rounds is meant to run, for the "not succeeding" alert.
pub fn registry(
    record: &RoundRecord,
    last_success: Option<SystemTime>,
    interval: Duration,
) -> Registry {
    let mut r = Registry::with_prefix("rounds");
    r.register(
        "build",
        "The rounds version and the mode of the last round",
        Info::new(vec![
            ("version", env!("CARGO_PKG_VERSION").to_owned()),
            ("mode", record.mode.to_owned()),
        ]),
    );
    let ts = Some(Unit::Seconds);
    gauge(
        &mut r,
        "last_start_timestamp",
        "When the last round started, in seconds since the epoch",
        ts.clone(),
        seconds(record.started),
    );
    gauge(
        &mut r,
        "last_end_timestamp",
        "When the last round ended, in seconds since the epoch",
        ts.clone(),
        seconds(record.finished),
    );
    gauge(
        &mut r,
        "last_success_timestamp",
        "When the last successful round (exit code 0) ended, in seconds since the epoch; 0 if none is known",
        ts.clone(),
        last_success.map_or(0.0, seconds),
    );
    gauge(
        &mut r,
        "last_duration",
        "How long the last round took",
        ts.clone(),
        record
            .finished
            .duration_since(record.started)
            .map_or(0.0, |d| d.as_secs_f64()),
    );
    gauge(
        &mut r,
        "interval",
        "How often rounds is configured to run (metrics.pushgateway.interval)",
        ts,
        interval.as_secs_f64(),
    );
    int_gauge(
        &mut r,
        "last_exit_code",
        "The exit code of the last round: 0 done, 1 invalid input, 2 could not run, 3 an action or notification failed",
        i64::from(record.exit_code),
    );

    let mut findings: BTreeMap<Labels, i64> = BTreeMap::new();
    let mut actions: BTreeMap<Labels, i64> = BTreeMap::new();
    let mut notifications: BTreeMap<Labels, i64> = BTreeMap::new();
    let mut guard_skips: BTreeMap<Labels, i64> = BTreeMap::new();
    let mut objects = 0;
    if let Some(report) = record.report {
        objects = i64::try_from(report.summary.objects).unwrap_or(i64::MAX);
        // Every due playbook has a series, so "no findings" is a 0 and not a gap.
        for p in report.playbooks.iter().filter(|p| p.due) {
            findings.insert(
                vec![
                    ("playbook", p.name.clone()),
                    ("detector", p.detector.to_owned()),
                    ("severity", p.severity.to_owned()),
                ],
                0,
            );
        }
        for f in &report.findings {
            *findings
                .entry(vec![
                    ("playbook", f.playbook.clone()),
                    ("detector", f.detector.to_owned()),
                    ("severity", f.severity.as_str().to_owned()),
                ])
                .or_insert(0) += 1;
        }
        for a in &report.actions {
            *actions
                .entry(vec![
                    ("playbook", a.playbook.clone()),
                    ("action", a.action.to_owned()),
                    ("status", a.status.as_str().to_owned()),
                    ("guard", a.guard.map_or("", |g| g.name()).to_owned()),
                ])
                .or_insert(0) += 1;
            // Every guard that would skip, not only the one that decided: in plan and dry-run
            // rounds the mode guard decides first, and the others are still checked.
            for v in &a.verdicts {
                if v.verdict == crate::guard::Decision::Skip {
                    *guard_skips
                        .entry(vec![
                            ("playbook", a.playbook.clone()),
                            ("guard", v.guard.name().to_owned()),
                        ])
                        .or_insert(0) += 1;
                }
            }
        }
        for n in &report.notifications {
            *notifications
                .entry(vec![
                    ("channel", n.channel.clone()),
                    ("tier", n.tier.to_owned()),
                    ("status", n.status.to_owned()),
                ])
                .or_insert(0) += 1;
        }
    }
    counted(
        &mut r,
        "findings",
        "Findings of the last round by playbook, detector and severity",
        findings,
    );
    counted(
        &mut r,
        "actions",
        "Actions of the last round by playbook, action, status (planned, applied, skipped, failed) and the guard that skipped them",
        actions,
    );
    counted(
        &mut r,
        "guard_skips",
        "Actions of the last round each guard would skip, by playbook and guard (checked even when an earlier guard decided, as the mode guard does in plan and dry-run rounds)",
        guard_skips,
    );
    counted(
        &mut r,
        "notifications",
        "Notifications of the last round by channel, tier and status",
        notifications,
    );
    int_gauge(
        &mut r,
        "inventory_objects",
        "Kubernetes objects the last round read",
        objects,
    );
    let requests = record
        .api
        .requests
        .iter()
        .map(|((method, code), n)| {
            (
                vec![("method", method.clone()), ("code", code.clone())],
                i64::try_from(*n).unwrap_or(i64::MAX),
            )
        })
        .collect();
    counted(
        &mut r,
        "api_requests",
        "Requests the last round sent to the Kubernetes API, by method and status code (error: no response)",
        requests,
    );
    int_gauge(
        &mut r,
        "api_retries",
        "Requests of the last round that were retried after throttling, a server error or a cut connection",
        i64::try_from(record.api.retries).unwrap_or(i64::MAX),
    );
    r
}

/// The text exposition of a registry.
pub fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail; an encoder error would be a bug in a metric.
    if let Err(e) = prometheus_text::encode(&mut text, registry) {
        tracing::error!(error = %e, "Could not encode the round's metrics.");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_round_without_a_report_still_has_its_times_and_exit_code() {
        let record = RoundRecord {
            report: None,
            mode: "dry-run",
            started: at(1_700_000_000),
            finished: at(1_700_000_003),
            exit_code: 2,
            api: ApiStats::from_requests(
                &{
                    let mut made = RequestCounts::default();
                    made.add(&http::Method::GET, Some(500));
                    made.add(&http::Method::GET, None);
                    made.add(&http::Method::GET, Some(500));
                    made
                },
                2,
            ),
        };
        let interval = Duration::from_secs(300);
        assert!(!record.succeeded());
        let text = encode(&registry(&record, Some(at(1_699_999_700)), interval));
        for line in [
            "# TYPE rounds_build_info gauge",
            &format!(
                "rounds_build_info{{version=\"{}\",mode=\"dry-run\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
            "# TYPE rounds_last_start_timestamp_seconds gauge",
            "rounds_last_start_timestamp_seconds 1700000000.0",
            "rounds_last_end_timestamp_seconds 1700000003.0",
            "rounds_last_success_timestamp_seconds 1699999700.0",
            "rounds_last_duration_seconds 3.0",
            "rounds_interval_seconds 300.0",
            "rounds_last_exit_code 2",
            "rounds_api_requests{method=\"GET\",code=\"500\"} 2",
            "rounds_api_requests{method=\"GET\",code=\"error\"} 1",
            "rounds_api_retries 2",
            "rounds_inventory_objects 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
        assert!(
            !text.contains("rounds_findings") && !text.contains("rounds_actions"),
            "no report, no per-finding families:\n{text}"
        );
        assert!(
            !text.contains("_total"),
            "no counters in a replaced group:\n{text}"
        );
        let never = encode(&registry(&record, None, interval));
        assert!(
            never
                .lines()
                .any(|l| l == "rounds_last_success_timestamp_seconds 0.0")
        );
    }
}
