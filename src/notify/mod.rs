//! Notifications: tiers, routes, channels, and the durable notification log.
//!
//! The notify stage is a function over the round's values (findings, actions, the report's
//! parts), the notification log and the time: [`stage`]. The log lives in the ledger between
//! rounds (the process exits after every round), so dedupe, repeat intervals and resolves need
//! no process memory. State advances only for a channel that delivered.

pub mod channels;
pub mod config;
pub mod decide;
pub mod deliver;
pub mod doctor;
pub mod explain;
pub mod http;
pub mod log;
pub mod message;
pub mod redact;
pub mod render;
pub mod select;

pub use crate::playbook::Severity as Tier;
pub use config::NotifyConfig;
pub use log::NotificationLog;

use crate::playbook::Loaded;
use crate::report::{NotificationEntry, RoundReport};
use crate::round::Mode;
use crate::secrets::{Secrets, SecretsDir};
use chrono::{DateTime, Utc};
use config::DryRunNotify;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;

/// A CA bundle larger than this is not a CA bundle.
const MAX_CA_BYTES: u64 = 1024 * 1024;

/// What a round needs for notifications, read once at its start: the secrets and CA files.
#[derive(Debug, Default)]
pub struct Ready {
    pub secrets: Secrets,
    /// Extra CA bundles (PEM) by channel name.
    pub ca: BTreeMap<String, Vec<u8>>,
}

/// Reads every secret file and CA file the config names, and checks the routes playbooks
/// name. Every problem together; none quotes a secret.
pub fn prepare(
    cfg: &NotifyConfig,
    secrets_dir: &Path,
    playbooks: &[Loaded],
) -> Result<Ready, Vec<String>> {
    let mut problems = Vec::new();
    let secrets = match Secrets::load(&SecretsDir::new(secrets_dir), cfg.secret_files()) {
        Ok(s) => s,
        Err(errs) => {
            problems.extend(errs.iter().map(ToString::to_string));
            Secrets::default()
        }
    };
    let mut ca = BTreeMap::new();
    for (name, channel) in &cfg.channels {
        let Some(path) = channel.imp().ca_file() else {
            continue;
        };
        let read = std::fs::File::open(path).and_then(|f| {
            let mut v = Vec::new();
            f.take(MAX_CA_BYTES + 1).read_to_end(&mut v).map(|_| v)
        });
        match read {
            Ok(v) if v.len() as u64 > MAX_CA_BYTES => problems.push(format!(
                "CA file {} (channel {name}): larger than 1 MiB",
                path.display()
            )),
            Ok(v) => {
                if let Err(e) = http::client(std::time::Duration::from_secs(1), Some(&v)) {
                    problems.push(format!("CA file {} (channel {name}): {e}", path.display()));
                }
                ca.insert(name.clone(), v);
            }
            Err(e) => problems.push(format!(
                "CA file {} (channel {name}): cannot read it: {e}",
                path.display()
            )),
        }
    }
    for p in playbooks {
        if let Some(route) = &p.playbook.spec.notify.route
            && !cfg.routes.iter().any(|r| &r.name == route)
        {
            let known: Vec<&str> = cfg.routes.iter().map(|r| r.name.as_str()).collect();
            problems.push(format!(
                "{}: playbook {} names notification route `{route}`, which the runner config does not define (routes: {})",
                p.file,
                p.name(),
                if known.is_empty() { "none".into() } else { known.join(", ") }
            ));
        }
    }
    if problems.is_empty() {
        Ok(Ready { secrets, ca })
    } else {
        Err(problems)
    }
}

/// What the notify stage did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub entries: Vec<NotificationEntry>,
    pub notes: Vec<String>,
    /// A warning or critical notification was not delivered: the round exits 3.
    pub lost: bool,
}

/// The round's values the stage reads.
pub struct RoundView<'a> {
    pub report: &'a RoundReport,
    pub playbooks: &'a [Loaded],
    pub now: DateTime<Utc>,
    pub mode: Mode,
    /// Everything must be sent before this.
    pub deadline: std::time::Instant,
}

/// The notify stage: decides what to send from the findings and the log, sends it, and
/// records in the log what each channel delivered.
pub async fn stage(
    cfg: &NotifyConfig,
    ready: &Ready,
    round: &RoundView<'_>,
    log: &mut NotificationLog,
) -> Outcome {
    let mut out = Outcome::default();
    if cfg.channels.is_empty() {
        return out;
    }
    let dry_run = round.mode != Mode::Apply;
    let refreshes: BTreeSet<String> = cfg
        .channels
        .iter()
        .filter(|(_, c)| c.imp().refreshes_every_round())
        .map(|(n, _)| n.clone())
        .collect();
    let decisions = decide::decide(
        &decide::Inputs {
            cfg,
            report: round.report,
            playbooks: round.playbooks,
            now: round.now,
            dry_run,
            refreshes: &refreshes,
        },
        log,
    );
    out.notes = decisions.notes;
    for q in &decisions.quiet {
        out.entries.push(NotificationEntry {
            channel: q.channel.clone(),
            tier: q.tier.as_str(),
            status: "suppressed",
            attempts: 0,
            error: None,
            route: q.route.clone(),
            group: q.group.clone(),
            reason: None,
            findings: q.findings,
            fallback_for: None,
        });
    }
    for k in &decisions.forget {
        log.entries.remove(k);
    }
    let entry = |o: &decide::Outgoing, status: &'static str| NotificationEntry {
        channel: o.channel.clone(),
        tier: o.message.tier.as_str(),
        status,
        attempts: 0,
        error: None,
        route: o.message.route.clone(),
        group: o.message.group.clone(),
        reason: Some(o.message.reason.as_str()),
        findings: o.message.items.len() + o.message.resolved.len(),
        fallback_for: None,
    };
    if dry_run && cfg.dry_run.notify == DryRunNotify::Never {
        out.entries
            .extend(decisions.send.iter().map(|o| entry(o, "dry-run")));
        out.notes
            .push("dry-run round with notifications.dryRun.notify: never: nothing was sent".into());
        return out;
    }
    let redactor = ready.secrets.redactor();
    let env = deliver::Env {
        cfg,
        secrets: &ready.secrets,
        redactor: &redactor,
        ca: &ready.ca,
        now: round.now,
        deadline: tokio::time::Instant::from_std(round.deadline),
    };
    let jobs = decisions
        .send
        .iter()
        .enumerate()
        .map(|(id, o)| deliver::Job {
            id,
            channel: o.channel.clone(),
            message: o.message.clone(),
        })
        .collect();
    let mut results = deliver::deliver(&env, jobs).await;
    results.sort_by_key(|d| d.id);

    // Fallbacks for firing groups whose channel failed.
    let mut fallback_jobs = Vec::new();
    for d in &results {
        let o = &decisions.send[d.id];
        if d.result.is_err()
            && let Some(fb) = &o.fallback
        {
            let mut message = o.message.clone();
            message.fallback_for = Some(o.channel.clone());
            fallback_jobs.push(deliver::Job {
                id: d.id,
                channel: fb.clone(),
                message,
            });
        }
    }
    let fallback_results = if fallback_jobs.is_empty() {
        Vec::new()
    } else {
        deliver::deliver(&env, fallback_jobs).await
    };

    for d in &results {
        let o = &decisions.send[d.id];
        let mut e = entry(o, if d.result.is_ok() { "sent" } else { "failed" });
        e.attempts = d.attempts;
        e.error = d.result.as_ref().err().cloned();
        match (&d.result, &o.record) {
            (Ok(()), Some(rec)) => {
                log.entries.insert(o.key.clone(), rec.clone());
            }
            (Ok(()), None) => {
                log.entries.remove(&o.key);
            }
            (Err(_), _) => {
                if o.message.tier >= Tier::Warning {
                    out.lost = true;
                }
            }
        }
        out.entries.push(e);
    }
    for d in &fallback_results {
        let o = &decisions.send[d.id];
        let Some(fb) = &o.fallback else { continue };
        let mut e = entry(
            o,
            if d.result.is_ok() {
                "fallback"
            } else {
                "failed"
            },
        );
        e.channel = fb.clone();
        e.fallback_for = Some(o.channel.clone());
        e.attempts = d.attempts;
        e.error = d.result.as_ref().err().cloned();
        if d.result.is_ok()
            && let Some(rec) = &o.record
        {
            let key = log::key(&rec.route, fb, &rec.group);
            let mut rec = rec.clone();
            rec.channel = fb.clone();
            rec.via_fallback = true;
            if let Some(old) = log.entries.get(&key) {
                rec.first_sent = old.first_sent;
            }
            log.entries.insert(key, rec);
        } else if d.result.is_err() {
            out.notes.push(format!(
                "a {} notification for {} was lost: {} and its fallback {fb} both failed",
                o.message.tier.as_str(),
                o.message.group,
                o.channel
            ));
        }
        out.entries.push(e);
    }
    log.prune(round.now);
    out
}

/// The note for a snapshot round that notifies: it has no ledger to keep the log in.
pub fn no_ledger_note() -> String {
    "a snapshot round has no ledger: notifications were sent as if for the first time, and nothing is remembered for repeats or resolves (a --ledger file is read for guards only)".into()
}

/// The note for a round whose ledger could not be read: notifications still go out, without
/// the memory of what was sent before.
pub fn ledger_unreadable_note(reason: &str) -> String {
    format!(
        "the ledger could not be read ({reason}): notifications were sent as if for the first time; repeats and resolves resume once it can be read"
    )
}

/// The notify stage for a whole round report: redacts the report's evidence (as the messages
/// are), reads nothing but what `ready` holds, appends
/// the notification entries and notes to the report, and says whether a warning or critical
/// notification was lost (the round then exits 3).
pub async fn notify_report(
    cfg: &NotifyConfig,
    ready: &Ready,
    report: &mut RoundReport,
    playbooks: &[Loaded],
    mode: Mode,
    deadline: std::time::Instant,
    log: &mut NotificationLog,
) -> bool {
    redact::redact_report(&cfg.redact, report);
    let now = DateTime::parse_from_rfc3339(&report.now)
        .map(|t| t.to_utc())
        .unwrap_or_else(|_| Utc::now());
    let outcome = stage(
        cfg,
        ready,
        &RoundView {
            report,
            playbooks,
            now,
            mode,
            deadline,
        },
        log,
    )
    .await;
    report.notifications.extend(outcome.entries);
    report.notes.extend(outcome.notes);
    outcome.lost
}
