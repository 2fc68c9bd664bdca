//! One round: inventory → findings → plan → report. The inventory is a snapshot or the API;
//! everything after it is the same code.

pub mod collect;
pub mod context;
pub mod sets;

use crate::api::Api;
use crate::detect::{DetectContext, Finding, Reads};
use crate::inventory::Index;
use crate::inventory::live::{self, Collection, LiveError};
use crate::inventory::snapshot::{self, SnapshotError};
use crate::objects::{Decoded, Object};
use crate::plan::{PlanContext, Step};
use crate::playbook::Loaded;
use crate::report::{ActionEntry, ActionStatus, PlaybookEntry, RoundReport, Summary};
use chrono::{DateTime, Utc};
use collect::{Collected, Collector};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Apply,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry-run",
            Self::Apply => "apply",
        }
    }
}

pub struct RoundOptions {
    pub now: DateTime<Utc>,
    pub mode: Mode,
    pub snapshot: Vec<PathBuf>,
    /// Bounds of reading a snapshot (object and token sizes).
    pub snapshot_limits: snapshot::Limits,
    /// Items per list page against the API.
    pub page_size: u32,
    /// Objects from other sources (disk usage from Prometheus), added to the inventory.
    pub extra: Vec<Object>,
}

/// What the playbooks due at `now` read, so the caller can prepare sources (Prometheus).
pub fn reads_of_due(playbooks: &[Loaded], now: DateTime<Utc>) -> BTreeSet<Reads> {
    let due = due(playbooks, now);
    active(playbooks, &due)
        .iter()
        .map(|p| p.playbook.spec.detect.imp().reads())
        .collect()
}

/// Runs detection and planning over a snapshot. Writes nothing.
pub fn plan_snapshot(
    playbooks: &[Loaded],
    opts: &RoundOptions,
) -> Result<RoundReport, SnapshotError> {
    let due = due(playbooks, opts.now);
    let mut collector = Collector::new(active(playbooks, &due), DetectContext { now: opts.now });
    let read_notes = snapshot::read(&opts.snapshot, opts.snapshot_limits, &mut |d| {
        collector.accept(d)
    })?;
    collector.accept_all(&opts.extra);
    let source = opts
        .snapshot
        .iter()
        .map(|p| format!("snapshot {}", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut collected = collector.finish();
    collected.notes.splice(0..0, read_notes);
    context::from_index(&mut collected.findings, playbooks, &collected.index);
    Ok(report(playbooks, &due, collected, source, opts))
}

/// Runs detection and planning against the API: lists what the due detectors read, then
/// fetches what the findings refer to. Writes nothing.
pub async fn plan_live(
    playbooks: &[Loaded],
    opts: &RoundOptions,
    api: &Api,
) -> Result<RoundReport, LiveError> {
    let due = due(playbooks, opts.now);
    let mut collector = Collector::new(active(playbooks, &due), DetectContext { now: opts.now });
    let reads = collector.reads();
    let mut collections: BTreeSet<Collection> = reads
        .iter()
        .filter_map(|r| Collection::for_reads(*r))
        .collect();
    if collector.needs_namespaces() {
        collections.insert(Collection::Namespaces);
    }
    let wants_summaries = reads.contains(&Reads::StatsSummaries);
    let mut nodes = Vec::new();
    for c in collections {
        live::list_all(api, c, opts.page_size, &mut |d| {
            if wants_summaries && let Decoded::Object(Object::Node(n)) = &d {
                nodes.push(n.metadata.name.clone());
            }
            collector.accept(d);
        })
        .await?;
    }
    let mut notes = Vec::new();
    if wants_summaries {
        live::stats_summaries(api, &nodes, &mut |d| collector.accept(d), &mut notes).await?;
    }
    collector.accept_all(&opts.extra);
    let wanted = collector.wanted();
    live::resolve(api, &mut collector.index, wanted).await?;
    let source = format!("cluster {}", api.url());
    let mut collected = collector.finish();
    context::fetch(api, &mut collected.findings, playbooks, &mut notes).await;
    notes.append(&mut collected.notes);
    collected.notes = notes;
    Ok(report(playbooks, &due, collected, source, opts))
}

fn due(playbooks: &[Loaded], now: DateTime<Utc>) -> Vec<bool> {
    playbooks
        .iter()
        .map(|p| {
            p.playbook
                .spec
                .schedule
                .as_ref()
                .is_none_or(|s| s.fires_in_minute_of(now))
        })
        .collect()
}

fn active<'a>(playbooks: &'a [Loaded], due: &[bool]) -> Vec<&'a Loaded> {
    playbooks
        .iter()
        .zip(due)
        .filter(|(_, d)| **d)
        .map(|(p, _)| p)
        .collect()
}

/// Findings → plan → report, the same for every inventory.
fn report(
    playbooks: &[Loaded],
    due: &[bool],
    Collected {
        findings,
        index,
        notes,
        objects,
    }: Collected,
    source: String,
    opts: &RoundOptions,
) -> RoundReport {
    let actions = plan(playbooks, &findings, &index, opts.now);
    let entries: Vec<PlaybookEntry> = playbooks
        .iter()
        .zip(due)
        .map(|(p, due)| PlaybookEntry {
            name: p.name().to_owned(),
            file: p.file.clone(),
            digest: p.digest.clone(),
            due: *due,
            detector: p.playbook.spec.detect.name(),
            severity: p.playbook.spec.severity.as_str(),
        })
        .collect();
    let count = |s: ActionStatus| actions.iter().filter(|a| a.status == s).count();
    let summary = Summary {
        playbooks: entries.len(),
        due: due.iter().filter(|d| **d).count(),
        objects,
        findings: findings.len(),
        planned: count(ActionStatus::Planned),
        applied: count(ActionStatus::Applied),
        skipped: count(ActionStatus::Skipped),
        failed: count(ActionStatus::Failed),
    };
    RoundReport {
        api_version: "rounds.dev/v1alpha1",
        kind: "RoundReport",
        run_id: run_id(opts.now, entries.iter().map(|p| p.digest.as_str())),
        mode: opts.mode.as_str(),
        now: opts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source,
        playbooks: entries,
        findings,
        actions,
        notifications: Vec::new(),
        notes,
        summary,
    }
}

/// Plans every remediation of every finding. The same request for several findings (three
/// OOM-killed pods of one Deployment) is planned once and lists all of them.
fn plan(
    playbooks: &[Loaded],
    findings: &[Finding],
    index: &Index,
    now: DateTime<Utc>,
) -> Vec<ActionEntry> {
    let ctx = PlanContext { now, index };
    let mut entries: Vec<ActionEntry> = Vec::new();
    for f in findings {
        let Some(p) = playbooks.iter().find(|p| p.name() == f.playbook) else {
            continue;
        };
        for action in &p.playbook.spec.remediate {
            let entry = match action.imp().plan(f, &ctx) {
                Ok(Step {
                    target,
                    request,
                    summary,
                }) => ActionEntry {
                    playbook: f.playbook.clone(),
                    action: action.name(),
                    target,
                    status: ActionStatus::Planned,
                    guard: None,
                    reason: None,
                    summary,
                    patch: request,
                    findings: vec![f.fingerprint.clone()],
                },
                Err((target, skip)) => ActionEntry {
                    playbook: f.playbook.clone(),
                    action: action.name(),
                    summary: format!("{} {}", action.name(), target.display()),
                    target,
                    status: ActionStatus::Skipped,
                    guard: Some(skip.guard),
                    reason: Some(skip.reason),
                    patch: None,
                    findings: vec![f.fingerprint.clone()],
                },
            };
            let same = entries.iter_mut().find(|e| {
                e.playbook == entry.playbook
                    && e.action == entry.action
                    && e.target == entry.target
                    && e.status == entry.status
                    && e.patch == entry.patch
                    && e.reason == entry.reason
            });
            match same {
                Some(e) => e.findings.push(f.fingerprint.clone()),
                None => entries.push(entry),
            }
        }
    }
    entries
}

/// Deterministic for the same time and playbooks, so a plan can be reproduced exactly. (Known
/// before the round starts, so every log line can carry it.)
pub fn run_id<'a>(now: DateTime<Utc>, digests: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for d in digests {
        h.update(d.as_bytes());
    }
    let digest = hex::encode(h.finalize());
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &digest[..8])
}
