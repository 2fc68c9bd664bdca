//! One round: inventory → findings → plan → guards → execute → report. The inventory is a
//! snapshot or the API; everything after it is the same code, with one [`RoundContext`].

pub mod collect;
pub mod config;
pub mod context;
pub mod evidence;
pub mod mode;
pub mod sets;

use crate::api::Api;
use crate::audit::events::{self, Reason};
use crate::detect::{DetectContext, Finding, Reads};
use crate::execute::{self, Executed, Outcome};
use crate::guard::{self, Guard, Pause, Verdict};
use crate::inventory::live::{self, Collection, LiveError};
use crate::inventory::reread;
use crate::inventory::snapshot::{self, SnapshotError};
use crate::ledger::LedgerState;
use crate::objects::{Decoded, Object};
use crate::plan::{self, PlanContext, Planned};
use crate::playbook::Loaded;
use crate::report::{self, RoundReport};
use chrono::{DateTime, Utc};
use collect::{Collected, Collector};
pub use config::{RoundConfig, Source};
pub use context::RoundContext;
pub use mode::Mode;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Instant;

/// What the playbooks due at `now` read, so the caller can prepare sources (Prometheus).
pub fn reads_of_due(config: &RoundConfig) -> BTreeSet<Reads> {
    let playbooks = &config.playbooks;
    let (due, _) = config.schedules.due(playbooks, config.now);
    active(playbooks, &due)
        .iter()
        .map(|p| p.playbook.spec.detect.imp().reads())
        .collect()
}

/// What the inventory gave, before planning.
pub struct Inventory {
    pub due: Vec<bool>,
    pub collected: Collected,
    /// Where the state came from, for the report.
    pub source: String,
}

/// Reads a snapshot and runs the due detectors over it.
pub fn inventory_snapshot(
    config: &RoundConfig,
    paths: &[std::path::PathBuf],
    extra: &[Object],
) -> Result<Inventory, SnapshotError> {
    let playbooks = &config.playbooks;
    let (due, schedule_notes) = config.schedules.due(playbooks, config.now);
    let mut collector = Collector::new(active(playbooks, &due), DetectContext { now: config.now })
        .with_shard(config.shard);
    let again = reread::rereadable(paths);
    if again {
        collector = collector.keeping_wanted_owners();
    }
    let read_notes = snapshot::read(paths, config.snapshot_limits, &mut |d| collector.accept(d))?;
    if again {
        reread::owners(paths, config.snapshot_limits, &mut [&mut collector.index])?;
    }
    collector.index.done_reading();
    collector.accept_all(extra);
    let source = paths
        .iter()
        .map(|p| format!("snapshot {}", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
        + &shard_suffix(config.shard);
    let mut collected = collector.finish();
    collected
        .notes
        .splice(0..0, schedule_notes.into_iter().chain(read_notes));
    evidence::from_index(&mut collected.findings, playbooks, &mut collected.index);
    Ok(Inventory {
        due,
        collected,
        source,
    })
}

/// Lists what the due detectors read, then fetches what the findings refer to.
pub async fn inventory_live(
    config: &RoundConfig,
    api: &Api,
    extra: &[Object],
) -> Result<Inventory, LiveError> {
    let playbooks = &config.playbooks;
    let (due, schedule_notes) = config.schedules.due(playbooks, config.now);
    let mut collector = Collector::new(active(playbooks, &due), DetectContext { now: config.now })
        .with_shard(config.shard);
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
        live::list_all(api, c, config.page_size, &mut |d| {
            // Only this shard's nodes: their kubelet summaries are the costly requests.
            if wants_summaries
                && let Decoded::Object(Object::Node(n)) = &d
                && config.shard.owns_node(&n.metadata.name)
            {
                nodes.push(n.metadata.name.clone());
            }
            collector.accept(d);
        })
        .await?;
    }
    let mut notes = schedule_notes;
    if wants_summaries {
        live::stats_summaries(api, &nodes, &mut |d| collector.accept(d), &mut notes).await?;
    }
    collector.accept_all(extra);
    let wanted = collector.wanted();
    let started = Instant::now();
    live::resolve(api, &mut collector.index, wanted).await?;
    let source = format!("cluster {}{}", api.url(), shard_suffix(config.shard));
    let mut collected = collector.finish();
    let owners_ms = started.elapsed().as_millis() as u64;
    evidence::fetch(api, &mut collected.findings, playbooks, &mut notes).await;
    tracing::info!(
        findings = collected.findings.len(),
        owners_ms,
        evidence_ms = started.elapsed().as_millis() as u64 - owners_ms,
        "Fetched what the findings refer to."
    );
    notes.extend(collected.notes);
    collected.notes = notes;
    Ok(Inventory {
        due,
        collected,
        source,
    })
}

/// ` (shard 1 of 4)` for a sharded round's source.
fn shard_suffix(shard: crate::shard::Shard) -> String {
    if shard.is_whole() {
        String::new()
    } else {
        format!(" ({})", shard.describe())
    }
}

fn active<'a>(playbooks: &'a [Loaded], due: &[bool]) -> Vec<&'a Loaded> {
    playbooks
        .iter()
        .zip(due)
        .filter(|(_, d)| **d)
        .map(|(p, _)| p)
        .collect()
}

/// Everything after the inventory: plan, guards, execute (as the mode says), Events, the
/// ledger's bookkeeping, and the report, assembled last.
pub struct Finish<'a> {
    pub config: &'a RoundConfig,
    pub run_id: &'a str,
    pub api: Option<&'a Api>,
    pub ledger: &'a RefCell<LedgerState>,
    pub pause: &'a Pause,
    /// Who reports Events (the pod rounds runs as).
    pub instance: &'a str,
    /// The round's deadline and SIGTERM: no new action starts once it says stop.
    pub stop: &'a crate::job::stop::Stop,
    /// Notes from before the inventory (reconciled intents, the ledger).
    pub notes: Vec<String>,
}

pub async fn finish(f: Finish<'_>, inventory: Inventory) -> RoundReport {
    let Inventory {
        due,
        collected,
        source,
    } = inventory;
    let config = f.config;
    let ctx = RoundContext {
        config,
        run_id: f.run_id,
        now: config.now,
        mode: config.mode,
        stop: f.stop,
        source: &config.source,
        api: f.api,
        index: &collected.index,
        ledger: f.ledger,
        pause: f.pause,
        nodes: collected.nodes,
        findings_per_playbook: RoundContext::count_findings(&collected.findings),
    };
    let planned = plan_stamped(&ctx, &collected.findings);
    let decisions = guard::decide_all(&planned, &collected.findings, &ctx);
    let mut notes = f.notes;
    // Playbooks that are not the reviewed version: refused by the lock guard, or warned of.
    for w in config
        .lock
        .iter()
        .flat_map(|l| l.warnings(config.mode == Mode::Apply))
    {
        tracing::warn!("{w}");
        notes.push(w);
    }
    let mut executed: Vec<Option<Executed>> = Vec::with_capacity(planned.len());
    let mut event_errors = BTreeSet::new();
    for (p, d) in planned.iter().zip(&decisions) {
        let (Ok(step), Some((verdict, _))) = (&p.result, d) else {
            executed.push(None);
            continue;
        };
        let finding = &collected.findings[p.finding];
        let run = execute::execute(&ctx, p, finding, step, verdict).await;
        notes.extend(run.notes.iter().cloned());
        if let Err(e) = record_event(&ctx, f.instance, p, finding, step, verdict, &run).await {
            event_errors.insert(e);
        }
        executed.push(Some(run));
    }
    for e in event_errors {
        notes.push(format!("cannot record Events: {e}"));
    }
    let escalations = escalate(&ctx, &collected.findings, &due);
    // What the report does not show is let go before it is assembled: the index (workloads,
    // events) is the largest part of a round's memory.
    drop(ctx);
    drop(collected.index);
    notes.extend(collected.notes);
    report::assemble(report::Parts {
        config,
        run_id: f.run_id,
        source,
        due: &due,
        objects: collected.objects,
        findings: collected.findings,
        planned,
        decisions: &decisions,
        executed,
        escalations,
        notes,
    })
}

/// Plans every finding and stamps rounds' annotation into the writes that keep their target.
fn plan_stamped(ctx: &RoundContext, findings: &[Finding]) -> Vec<Planned> {
    let pctx = PlanContext {
        now: ctx.now,
        index: ctx.index,
    };
    let mut planned = plan::plan_all(&ctx.config.playbooks, findings, &pctx);
    for p in &mut planned {
        let pb = &ctx.config.playbooks[p.playbook];
        let action = pb.playbook.spec.remediate[p.action].name();
        if let Ok(step) = &mut p.result
            && let Some(r) = step.request.as_mut()
        {
            crate::audit::annotation::stamp(
                r,
                &crate::audit::annotation::Stamp::new(ctx.now, ctx.run_id, pb.name(), action),
            );
        }
    }
    planned
}

/// Records the Event of one action on its target (a dry run of it in dry-run rounds).
async fn record_event(
    ctx: &RoundContext<'_>,
    instance: &str,
    p: &Planned,
    finding: &Finding,
    step: &plan::Step,
    verdict: &Verdict,
    run: &Executed,
) -> Result<(), String> {
    let Some(api) = ctx.api.filter(|_| ctx.mode.sends()) else {
        return Ok(());
    };
    if step.request.is_none() {
        return Ok(());
    }
    let playbook = &ctx.config.playbooks[p.playbook];
    let action = playbook.playbook.spec.remediate[p.action].name();
    let (reason, what) = match &run.outcome {
        Outcome::Applied => (Reason::Applied, "applied".to_owned()),
        Outcome::DryRunAccepted => (
            Reason::Applied,
            "would apply (dry-run accepted by the API server)".to_owned(),
        ),
        Outcome::Skipped { by, reason } => (
            Reason::Skipped,
            format!("skipped by {}: {reason}", by.name()),
        ),
        Outcome::Failed { error } => (Reason::Failed, format!("failed: {error}")),
        Outcome::NotSent => match verdict {
            Verdict::Skip { guard, reason } if *guard != Guard::Mode => (
                Reason::Skipped,
                format!("skipped by {}: {reason}", guard.name()),
            ),
            _ => return Ok(()),
        },
    };
    let finding_ref = plan::target::of_finding(finding).ok();
    let (regarding, related) = match (&step.request, &finding_ref) {
        (Some(r), Some(f)) if r.verb() == crate::api::request::Verb::Create => {
            (f, Some(&step.target))
        }
        _ => (&step.target, None),
    };
    let note = format!(
        "{action} {what}. Run {}, playbook {} ({}). {}",
        ctx.run_id,
        playbook.name(),
        playbook.digest,
        step.summary
    );
    let record = events::Record {
        regarding,
        related,
        reason,
        action,
        note,
        run_id: ctx.run_id,
        instance,
    };
    let Some(mut request) = events::request(&record, Utc::now()) else {
        return Ok(());
    };
    if ctx.mode != Mode::Apply {
        request = request.dry_run();
    }
    match api.send(&request).await {
        Ok(_) | Err(crate::api::ApiError::Status { code: 409, .. }) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Findings that outlived their remediation by `escalateAfterRounds` rounds, and those of
/// playbooks whose circuit breaker tripped. Updates the ledger's counters.
fn escalate(
    ctx: &RoundContext,
    findings: &[Finding],
    due: &[bool],
) -> Vec<report::EscalationEntry> {
    let mut out = Vec::new();
    let after = ctx.config.guards.escalate_after_rounds;
    let counting = ctx.mode.sends();
    let mut state = ctx.ledger.borrow_mut();
    if let Some(ledger) = state.ledger_mut().filter(|_| counting) {
        let present: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let due_playbooks: BTreeSet<&str> = ctx
            .config
            .playbooks
            .iter()
            .zip(due)
            .filter(|(_, d)| **d)
            .map(|(p, _)| p.name())
            .collect();
        // A finding that is gone is resolved; one of a playbook that did not run is unknown.
        ledger.escalations.retain(|fp, e| {
            present.contains(fp.as_str()) || !due_playbooks.contains(e.playbook.as_str())
        });
        for f in findings {
            if let Some(e) = ledger.escalations.get_mut(&f.fingerprint)
                && e.run_id != ctx.run_id
            {
                e.rounds += 1;
                if e.rounds >= after {
                    e.escalated = true;
                }
            }
        }
    }
    if let Some(ledger) = state.ledger() {
        for f in findings {
            if let Some(e) = ledger
                .escalations
                .get(&f.fingerprint)
                .filter(|e| e.escalated)
            {
                out.push(report::EscalationEntry {
                    fingerprint: f.fingerprint.clone(),
                    playbook: f.playbook.clone(),
                    reason: format!(
                        "still there {} round(s) after run {} remediated it at {}",
                        e.rounds,
                        e.run_id,
                        e.remediated_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                });
            }
        }
    }
    for f in findings {
        let Some(p) = ctx.config.playbook(&f.playbook) else {
            continue;
        };
        let n = ctx
            .findings_per_playbook
            .get(&f.playbook)
            .copied()
            .unwrap_or(0);
        if let Some(max) = guard::circuit_breaker::tripped(
            n,
            p.playbook.spec.guards.max_findings,
            ctx.config.guards.max_findings,
        ) {
            out.push(report::EscalationEntry {
                fingerprint: f.fingerprint.clone(),
                playbook: f.playbook.clone(),
                reason: format!("circuit breaker: {n} findings in the playbook, more than {max}"),
            });
        }
    }
    out
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

/// The run id of a round with these playbooks.
pub fn run_id_of(now: DateTime<Utc>, playbooks: &[Loaded]) -> String {
    run_id(now, playbooks.iter().map(|p| p.digest.as_str()))
}

/// What a snapshot round needs, for library users (tests) that make one without the CLI.
pub struct RoundOptions {
    pub now: DateTime<Utc>,
    pub mode: Mode,
    pub snapshot: Vec<std::path::PathBuf>,
    /// Bounds of reading a snapshot (object and token sizes).
    pub snapshot_limits: snapshot::Limits,
    pub page_size: u32,
    /// Objects from other sources (disk usage from Prometheus), added to the inventory.
    pub extra: Vec<Object>,
}

/// The configuration of a round made without the CLI (library users, tests, `rounds diff`):
/// the runner config's defaults.
pub fn default_config(playbooks: &[Loaded], opts: &RoundOptions) -> RoundConfig {
    let defaults = crate::config::RunnerConfig::default();
    RoundConfig {
        run_id: run_id_of(opts.now, playbooks),
        playbooks: playbooks.to_vec(),
        mode: opts.mode,
        now: opts.now,
        deadline: defaults.job.deadline.0,
        flush_timeout: defaults.job.flush_timeout.0,
        schedules: crate::job::schedule::Schedules::new(defaults.job.starting_deadline.chrono()),
        shard: crate::shard::Shard::WHOLE,
        source: Source::Snapshot(opts.snapshot.clone()),
        page_size: opts.page_size,
        snapshot_limits: opts.snapshot_limits,
        namespace: "rounds".into(),
        protected_namespaces: defaults.protected_namespaces,
        guards: defaults.guards,
        ledger_name: "rounds-ledger".into(),
        lease_name: "rounds".into(),
        ledger_file: None,
        prometheus: None,
        lock: None,
    }
}

/// The end of a round without an API (a snapshot round, a plan diff): no pause switch is read,
/// so that guard says it did not check; `what` names the round in that verdict.
pub async fn finish_offline(
    config: &RoundConfig,
    inventory: Inventory,
    ledger: LedgerState,
    what: &str,
) -> RoundReport {
    let pause = Pause::NotRead(format!(
        "not checked: {what} does not read the pause ConfigMap"
    ));
    let parts = Finish {
        config,
        run_id: &config.run_id,
        api: None,
        ledger: &RefCell::new(ledger),
        pause: &pause,
        instance: "rounds",
        stop: &crate::job::stop::Stop::new(Instant::now(), config.deadline)
            .with_flush(config.flush_timeout),
        notes: Vec::new(),
    };
    finish(parts, inventory).await
}

/// A snapshot round as `rounds plan --snapshot` makes it, with the runner config's defaults
/// (no ledger, no pause switch: those guards say they did not check). Writes nothing.
pub fn plan_snapshot(
    playbooks: &[Loaded],
    opts: &RoundOptions,
) -> Result<RoundReport, SnapshotRoundError> {
    let config = default_config(playbooks, opts);
    let inventory = inventory_snapshot(&config, &opts.snapshot, &opts.extra)?;
    // Without an API nothing in the finish waits; a minimal runtime drives it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(SnapshotRoundError::Runtime)?;
    Ok(runtime.block_on(finish_offline(
        &config,
        inventory,
        LedgerState::Absent,
        "a snapshot round",
    )))
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotRoundError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}
