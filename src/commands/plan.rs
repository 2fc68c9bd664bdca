//! `rounds plan` and `rounds run`.

use super::{CommandError, Exit};
use crate::api::ConnectOptions;
use crate::cli::{OutputFormat, RoundArgs, RunArgs};
use crate::config::{self, ConfigMode, RunnerConfig};
use crate::detect::Reads;
use crate::inventory::prometheus::Prometheus;
use crate::metrics::{ApiStats, RunMetrics};
use crate::objects::Object;
use crate::playbook::{self, Diagnostic, Loaded};
use crate::report::{RoundReport, text};
use crate::round::{self, Mode, RoundOptions};
use chrono::{DateTime, Utc};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

const DEFAULT_PLAYBOOKS: &str = "/etc/rounds/playbooks";

pub fn plan(args: &RoundArgs) -> Result<Exit, CommandError> {
    let prepared = prepare(args, load_config(args)?)?;
    let runtime = runtime()?;
    let (report, _) = runtime.block_on(round(args, &prepared, Mode::DryRun));
    let report = report?;
    print_report(&report, args.output)?;
    let exit = exit_of(&report);
    crate::job::log::report(&report, exit as u8);
    Ok(exit)
}

pub fn run(args: &RunArgs) -> Result<Exit, CommandError> {
    let config = load_config(&args.round)?;
    // The gateway's secrets are read once, before the round; a bad metrics config is bad input.
    let metrics = RunMetrics::start(&config).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.apply || config.mode == ConfigMode::Apply {
        Mode::Apply
    } else {
        Mode::DryRun
    };
    let runtime = runtime()?;
    let (outcome, api) =
        match prepare(&args.round, config).and_then(|p| check_run(args, mode).map(|()| p)) {
            Ok(prepared) => runtime.block_on(round_and_notify(&args.round, &prepared, mode)),
            Err(e) => (Err(e), ApiStats::default()),
        };
    // The end of every round, however it ended (invalid playbooks, API unreachable, deadline).
    let (mut report, round_exit) = match outcome {
        Ok((report, exit)) => (Some(report), Ok(exit)),
        Err(e) => (None, Err(e)),
    };
    let code = match &round_exit {
        Ok(exit) => *exit,
        Err(e) => e.exit(),
    } as u8;
    // The ledger's last success is not carried yet: the gateway's group is read back instead.
    let code = runtime.block_on(metrics.finish(report.as_mut(), mode.as_str(), code, api, None));
    round_exit?;
    if let Some(report) = &report {
        print_report(report, args.round.output)?;
        crate::job::log::report(report, code);
    }
    Ok(match code {
        0 => Exit::Done,
        _ => Exit::Failures,
    })
}

/// A whole round of `run`: notification secrets are read first (a bad one is a config error),
/// then the round, then its notifications. The exit code counts lost notifications.
async fn round_and_notify(
    args: &RoundArgs,
    prepared: &Prepared,
    mode: Mode,
) -> (Result<(RoundReport, Exit), CommandError>, ApiStats) {
    let deadline = std::time::Instant::now() + args.deadline;
    let c = &prepared.config;
    let ready = match crate::notify::prepare(&c.notifications, &c.secrets_dir, &prepared.playbooks)
    {
        Ok(r) => r,
        Err(p) => {
            return (
                Err(CommandError::Invalid(p.join("\n"))),
                ApiStats::default(),
            );
        }
    };
    // SIGTERM (a deleted pod, a node drain) ends the round's reading early; what follows still
    // runs: its notifications, the push of its metrics, its report.
    let stop = crate::job::stop::Stop::new(std::time::Instant::now(), args.deadline);
    let watch = tokio::spawn(stop.clone().watch_signals());
    let signalled = async {
        while stop.reason() != Some(crate::job::stop::StopReason::Signal) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let (report, api) = tokio::select! {
        r = round(args, prepared, mode) => r,
        () = signalled => (
            Err(CommandError::CouldNotRun(format!(
                "{}; the round was not finished",
                crate::job::stop::StopReason::Signal.describe(args.deadline)
            ))),
            ApiStats::default(),
        ),
    };
    watch.abort();
    let mut report = match report {
        Ok(r) => r,
        Err(e) => return (Err(e), api),
    };
    // The ledger (and with it the notification log) is not part of this build yet.
    let mut log = crate::notify::NotificationLog::default();
    let lost = crate::notify::notify_report(
        &c.notifications,
        &ready,
        &mut report,
        &prepared.playbooks,
        mode,
        deadline,
        &mut log,
    )
    .await;
    let exit = if lost {
        Exit::Failures
    } else {
        exit_of(&report)
    };
    (Ok((report, exit)), api)
}

/// What `run` refuses before the round starts.
fn check_run(args: &RunArgs, mode: Mode) -> Result<(), CommandError> {
    if mode == Mode::Apply && !args.round.snapshot.is_empty() {
        return Err(CommandError::Invalid(
            "--apply cannot be used with --snapshot: a snapshot is a copy, there is nothing to change".into(),
        ));
    }
    if mode == Mode::Apply {
        // Refuse rather than report "apply" for a round that changes nothing.
        return Err(CommandError::Invalid(
            "this build cannot apply changes yet: the guarded executor is not part of it; \
             run without --apply (and with mode: dryRun) for a dry run"
                .into(),
        ));
    }
    Ok(())
}

fn exit_of(report: &RoundReport) -> Exit {
    if report.summary.failed > 0 {
        Exit::Failures
    } else {
        Exit::Done
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::CouldNotRun(format!("cannot start the async runtime: {e}")))
}

fn load_config(args: &RoundArgs) -> Result<RunnerConfig, CommandError> {
    match &args.config {
        Some(path) => config::load(path).map_err(|d| invalid_input(&d)),
        None => Ok(RunnerConfig::default()),
    }
}

struct Prepared {
    config: RunnerConfig,
    playbooks: Vec<Loaded>,
    now: DateTime<Utc>,
}

fn prepare(args: &RoundArgs, config: RunnerConfig) -> Result<Prepared, CommandError> {
    let paths: Vec<PathBuf> = if !args.playbooks.is_empty() {
        args.playbooks.clone()
    } else if !config.playbooks.is_empty() {
        config.playbooks.clone()
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
    crate::job::log::set_run_id(&round::run_id(
        now,
        playbooks.iter().map(|p| p.digest.as_str()),
    ));
    Ok(Prepared {
        config,
        playbooks,
        now,
    })
}

/// One round on a snapshot or against the API, with the API requests it made (also when it
/// failed, for rounds' metrics).
async fn round(
    args: &RoundArgs,
    prepared: &Prepared,
    mode: Mode,
) -> (Result<RoundReport, CommandError>, ApiStats) {
    let extra = match prometheus_objects(args, prepared).await {
        Ok(e) => e,
        Err(e) => return (Err(e), ApiStats::default()),
    };
    let opts = RoundOptions {
        now: prepared.now,
        mode,
        snapshot: args.snapshot.clone(),
        snapshot_limits: args.snapshot_limits(),
        page_size: args.page_size,
        extra,
    };
    if args.snapshot.is_empty() {
        live_round(args, prepared, &opts).await
    } else {
        let report = round::plan_snapshot(&prepared.playbooks, &opts)
            .map_err(|e| CommandError::Invalid(e.to_string()));
        (report, ApiStats::default())
    }
}

/// Disk usage from Prometheus, when a due playbook reads it.
async fn prometheus_objects(
    args: &RoundArgs,
    prepared: &Prepared,
) -> Result<Vec<Object>, CommandError> {
    if !round::reads_of_due(&prepared.playbooks, prepared.now).contains(&Reads::PrometheusDisk) {
        return Ok(Vec::new());
    }
    let configured = prepared.config.prometheus.as_ref();
    let Some(url) = args
        .prometheus
        .clone()
        .or_else(|| configured.map(|p| p.url.clone()))
    else {
        return Err(CommandError::Invalid(
            "a due playbook reads disk usage from Prometheus (source: prometheus): give --prometheus URL or set prometheus.url in the runner config".into(),
        ));
    };
    let timeout = configured
        .and_then(|p| p.timeout)
        .map_or(Duration::from_secs(10), |d| d.0);
    let prometheus =
        Prometheus::new(&url, timeout).map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
    let summaries = prometheus
        .disk_summaries()
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
    Ok(summaries
        .into_iter()
        .map(|s| Object::StatsSummary(Box::new(s)))
        .collect())
}

/// A round against the API server; anything the API refuses means the round could not run.
async fn live_round(
    args: &RoundArgs,
    prepared: &Prepared,
    opts: &RoundOptions,
) -> (Result<RoundReport, CommandError>, ApiStats) {
    let connect = ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        qps: args.qps,
        burst: args.qps.saturating_mul(2),
        deadline: args.deadline,
    };
    let api = match crate::api::connect::connect(&connect).await {
        Ok(api) => api,
        Err(e) => {
            return (
                Err(CommandError::CouldNotRun(e.to_string())),
                ApiStats::default(),
            );
        }
    };
    let report = round::plan_live(&prepared.playbooks, opts, &api)
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()));
    let stats = ApiStats::from_requests(&api.requests(), api.retries());
    if report.is_ok() {
        tracing::info!(
            requests = api.requests().len(),
            "The round's inventory is complete."
        );
    }
    (report, stats)
}

fn print_report(report: &RoundReport, format: Option<OutputFormat>) -> Result<(), CommandError> {
    let format = format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Text
    } else {
        OutputFormat::Json
    });
    match format {
        OutputFormat::Text => print!("{}", text::render(report)),
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(report)
                .map_err(|e| CommandError::CouldNotRun(format!("cannot write the report: {e}")))?;
            println!("{json}");
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
