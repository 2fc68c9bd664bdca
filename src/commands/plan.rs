//! `rounds plan`: detect, plan and guard; never writes, never notifies. Also what `plan` and
//! `run` share: building the round's configuration and printing the report.

use super::{CommandError, Exit};
use crate::api::{Api, ConnectOptions};
use crate::cli::{OutputFormat, RoundArgs};
use crate::config::{self, RunnerConfig};
use crate::detect::Reads;
use crate::guard::{Guard, Pause, SkippedBy};
use crate::inventory::prometheus::Prometheus;
use crate::ledger::{Ledger, LedgerState, LedgerStore};
use crate::objects::Object;
use crate::playbook::{self, Diagnostic};
use crate::report::{RoundReport, text};
use crate::round::{self, Finish, Mode, RoundConfig, Source};
use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const DEFAULT_PLAYBOOKS: &str = "/etc/rounds/playbooks";
/// Rounds' namespace when neither the config nor the pod says.
pub const DEFAULT_NAMESPACE: &str = "rounds";

pub fn plan(args: &RoundArgs) -> Result<Exit, CommandError> {
    let (mut config, runner) = build(args, false, |_| Ok(Mode::Plan))?;
    let runtime = runtime()?;
    let started = Instant::now();
    let report = runtime.block_on(async {
        let api = match &config.source {
            Source::Live(opts) => Some(connect(opts).await?),
            Source::Snapshot(_) => None,
        };
        if let Some(api) = &api {
            settle_namespace(&mut config, &runner, api);
        }
        let config = &config;
        match (&config.source, &api) {
            (Source::Snapshot(_), _) => snapshot_round(config).await,
            (Source::Live(_), Some(api)) => {
                let extra = prometheus_objects(config).await?;
                let mut notes = Vec::new();
                let ledger = load_ledger(api, config, &mut notes).await;
                let pause = read_pause(api, config).await;
                let inventory = round::inventory_live(config, api, &extra)
                    .await
                    .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
                let finish = Finish {
                    config,
                    run_id: &config.run_id,
                    api: Some(api),
                    ledger: &RefCell::new(ledger),
                    pause: &pause,
                    instance: "rounds",
                    stop: &crate::job::stop::Stop::new(started, config.deadline)
                        .with_flush(config.flush_timeout),
                    notes,
                };
                let report = round::finish(finish, inventory).await;
                tracing::info!(
                    requests = api.requests().total(),
                    "The round's inventory is complete."
                );
                Ok(report)
            }
            (Source::Live(_), None) => {
                Err(CommandError::CouldNotRun("not connected to the API".into()))
            }
        }
    })?;
    let mut report = report;
    crate::notify::redact::redact_report(&runner.notifications.redact, &mut report);
    print_report(&report, args.output)?;
    let exit = exit_of(&report);
    crate::job::log::report(&report, exit as u8);
    Ok(exit)
}

/// A round on a snapshot: no ledger (unless a file is given) and no pause switch.
pub(super) async fn snapshot_round(config: &RoundConfig) -> Result<RoundReport, CommandError> {
    let Source::Snapshot(paths) = &config.source else {
        return Err(CommandError::Invalid("not a snapshot round".into()));
    };
    let extra = prometheus_objects(config).await?;
    let inventory = round::inventory_snapshot(config, paths, &extra)
        .map_err(|e| CommandError::Invalid(e.to_string()))?;
    let ledger = match &config.ledger_file {
        Some(path) => LedgerState::File(read_ledger_file(path)?),
        None => LedgerState::Absent,
    };
    Ok(round::finish_offline(config, inventory, ledger, "a snapshot round").await)
}

/// Exit 3 when an action failed, or when the lock refused one: a playbook that is not the
/// reviewed version must fail the Job, not only warn (the lock refuses in apply rounds only;
/// plan and dry-run rounds warn and exit 0). 0 otherwise.
pub(super) fn exit_of(report: &RoundReport) -> Exit {
    let refused_by_lock = report
        .actions
        .iter()
        .any(|a| a.guard == Some(SkippedBy::Guard(Guard::Lock)));
    if report.summary.failed > 0 || refused_by_lock {
        Exit::Failures
    } else {
        Exit::Done
    }
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::CouldNotRun(format!("cannot start the async runtime: {e}")))
}

/// Builds the round's configuration from the arguments and the runner config; `mode` picks
/// the mode from the runner config.
pub(super) fn build(
    args: &RoundArgs,
    unique_run_id: bool,
    mode: impl FnOnce(&RunnerConfig) -> Result<Mode, CommandError>,
) -> Result<(RoundConfig, RunnerConfig), CommandError> {
    let runner = match &args.config {
        Some(path) => config::load(path).map_err(|d| invalid_input(&d))?,
        None => RunnerConfig::default(),
    };
    let mode = mode(&runner)?;
    let paths: Vec<PathBuf> = if !args.playbooks.is_empty() {
        args.playbooks.clone()
    } else if !runner.playbooks.is_empty() {
        runner.playbooks.clone()
    } else {
        vec![PathBuf::from(DEFAULT_PLAYBOOKS)]
    };
    for p in &paths {
        if !p.exists() {
            return Err(CommandError::Invalid(format!(
                "playbook path {} does not exist (give --playbooks PATH)",
                p.display()
            )));
        }
    }
    let playbooks = playbook::load(&paths).map_err(|d| invalid_input(&d))?;
    let playbooks =
        crate::job::select::only(playbooks, &args.only).map_err(CommandError::Invalid)?;
    if playbooks.is_empty() {
        return Err(CommandError::Invalid(format!(
            "no playbooks found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let now = match &args.now {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|e| {
                CommandError::Invalid(format!("--now {text:?} is not an RFC 3339 time: {e}"))
            })?
            .to_utc(),
        None => Utc::now(),
    };
    // A plan's id is reproducible; a live `rounds run` adds a nonce, so two rounds started in
    // the same second (or a rerun with the same --now) are told apart in the ledger and Lease.
    let run_id = if unique_run_id && args.snapshot.is_empty() {
        format!("{}-{}", round::run_id_of(now, &playbooks), nonce())
    } else {
        round::run_id_of(now, &playbooks)
    };
    crate::job::log::set_run_id(&run_id);
    let deadline = args.deadline.unwrap_or(runner.job.deadline.0);
    // A short round (a manual run with --deadline 10s) gets a short flush too.
    let flush_timeout = runner.job.flush_timeout.0.min(deadline);
    let source = if args.snapshot.is_empty() {
        Source::Live(ConnectOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            qps: args.qps,
            burst: args.qps.saturating_mul(2),
            deadline,
            // Writes after the stop (the action in flight, the ledger, the Lease) get the flush.
            flush: flush_timeout,
        })
    } else {
        Source::Snapshot(args.snapshot.clone())
    };
    if args.ledger.is_some() && source.is_live() {
        return Err(CommandError::Invalid(
            "--ledger is for snapshot rounds; a live round reads the ledger from the cluster"
                .into(),
        ));
    }
    let prometheus_url = args
        .prometheus
        .clone()
        .or_else(|| runner.prometheus.as_ref().map(|p| p.url.clone()));
    let timeout = runner
        .prometheus
        .as_ref()
        .and_then(|p| p.timeout)
        .map_or(Duration::from_secs(10), |d| d.0);
    let shard =
        crate::shard::Shard::from_env().map_err(|e| CommandError::Invalid(e.to_string()))?;
    // Compared once, here: the lock guard asks the result about each action.
    let lock = runner
        .lock
        .as_ref()
        .map(|l| crate::lock::LockCheck::for_round(l, &playbooks, args.config.as_deref()))
        .transpose()
        .map_err(|e| match e {
            crate::lock::LockError::Invalid { diagnostics, .. } => invalid_input(&diagnostics),
            e => CommandError::Invalid(e.to_string()),
        })?;
    let config = RoundConfig {
        run_id,
        playbooks,
        mode,
        now,
        deadline,
        flush_timeout,
        schedules: crate::job::schedule::Schedules::new(runner.job.starting_deadline.chrono()),
        shard,
        source,
        page_size: args.page_size,
        snapshot_limits: args.snapshot_limits(),
        // Settled once the API tells the pod's namespace (see `connect`).
        namespace: runner
            .namespace
            .clone()
            .unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
        protected_namespaces: runner.protected_namespaces.clone(),
        guards: runner.guards.clone(),
        ledger_name: "rounds-ledger".into(),
        // Shards run at once, each holding its own lease; they share the ledger (merged).
        lease_name: if shard.is_whole() {
            "rounds".into()
        } else {
            format!("rounds-shard-{}", shard.index)
        },
        ledger_file: args.ledger.clone(),
        prometheus: prometheus_url.map(|u| (u, timeout)),
        lock,
    };
    Ok((config, runner))
}

/// Connects to the API.
pub(super) async fn connect(opts: &ConnectOptions) -> Result<Api, CommandError> {
    crate::api::connect::connect(opts)
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()))
}

/// Rounds' namespace once connected: the runner config's, else the pod's, else `rounds`.
pub(super) fn settle_namespace(config: &mut RoundConfig, runner: &RunnerConfig, api: &Api) {
    if runner.namespace.is_none()
        && let Some(ns) = api.pod_namespace()
    {
        config.namespace = ns.to_owned();
    }
}

/// The ledger of a live round; an unreadable one is noted and kept out of reach.
pub(super) async fn load_ledger(
    api: &Api,
    config: &RoundConfig,
    notes: &mut Vec<String>,
) -> LedgerState {
    let store = match LedgerStore::new(api, &config.namespace, &config.ledger_name) {
        Ok(s) => s,
        Err(e) => return LedgerState::Unreadable(e.to_string()),
    };
    match store.load().await {
        Ok(mut stored) => {
            notes.append(&mut stored.notes);
            LedgerState::Live(stored)
        }
        Err(e) => {
            notes.push(format!(
                "{e}; cooldowns and earlier writes cannot be checked, so nothing that needs them is done"
            ));
            LedgerState::Unreadable(e.to_string())
        }
    }
}

pub(super) async fn read_pause(api: &Api, config: &RoundConfig) -> Pause {
    Pause::read(api, &config.namespace, &config.guards.pause_config_map).await
}

fn read_ledger_file(path: &std::path::Path) -> Result<Ledger, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::Invalid(format!(
            "cannot read the ledger file {}: {e}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        CommandError::Invalid(format!(
            "the ledger file {} is not a rounds ledger: {e}",
            path.display()
        ))
    })
}

/// Disk usage from Prometheus, when a due playbook reads it.
pub(super) async fn prometheus_objects(config: &RoundConfig) -> Result<Vec<Object>, CommandError> {
    if !round::reads_of_due(config).contains(&Reads::PrometheusDisk) {
        return Ok(Vec::new());
    }
    let Some((url, timeout)) = &config.prometheus else {
        return Err(CommandError::Invalid(
            "a due playbook reads disk usage from Prometheus (source: prometheus): give --prometheus URL or set prometheus.url in the runner config".into(),
        ));
    };
    disk_summaries(url, *timeout).await
}

/// The kubelet-summary objects Prometheus' disk usage stands in for.
pub(super) async fn disk_summaries(
    url: &str,
    timeout: std::time::Duration,
) -> Result<Vec<Object>, CommandError> {
    let prometheus =
        Prometheus::new(url, timeout).map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
    let summaries = prometheus
        .disk_summaries()
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
    Ok(summaries
        .into_iter()
        .map(|s| Object::StatsSummary(Box::new(s)))
        .collect())
}

pub(super) fn print_report(
    report: &RoundReport,
    format: Option<OutputFormat>,
) -> Result<(), CommandError> {
    let format = format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Text
    } else {
        OutputFormat::Json
    });
    match format {
        OutputFormat::Text => print!("{}", text::render(report)),
        OutputFormat::Json => {
            // Written as it is serialized: a report of thousands of actions is megabytes of
            // text, which need not be held whole.
            let cannot = |e: &dyn std::fmt::Display| {
                CommandError::CouldNotRun(format!("cannot write the report: {e}"))
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, report).map_err(|e| cannot(&e))?;
            out.write_all(b"\n")
                .and_then(|()| out.flush())
                .map_err(|e| cannot(&e))?;
        }
    }
    Ok(())
}

/// Prints every diagnostic and turns them into one error for the exit code.
fn invalid_input(diagnostics: &[Diagnostic]) -> CommandError {
    for d in diagnostics {
        crate::job::log::diagnostic(d);
    }
    CommandError::Invalid(format!("{} error(s); nothing was done", diagnostics.len()))
}

/// A few random hex digits (a process's own), so ids made in the same second differ.
fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:06x}", h.finish() & 0xff_ffff)
}
