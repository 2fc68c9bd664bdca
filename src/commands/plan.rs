//! `rounds plan` and `rounds run`.

use super::{CommandError, Exit};
use crate::api::ConnectOptions;
use crate::cli::{OutputFormat, RoundArgs, RunArgs};
use crate::config::{self, ConfigMode, RunnerConfig};
use crate::detect::Reads;
use crate::inventory::prometheus::Prometheus;
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
    let prepared = prepare(args)?;
    round_on_snapshot(args, &prepared, Mode::DryRun, false)
}

pub fn run(args: &RunArgs) -> Result<Exit, CommandError> {
    let prepared = prepare(&args.round)?;
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.apply || prepared.config.mode == ConfigMode::Apply {
        Mode::Apply
    } else {
        Mode::DryRun
    };
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
    round_on_snapshot(&args.round, &prepared, mode, true)
}

struct Prepared {
    config: RunnerConfig,
    playbooks: Vec<Loaded>,
    now: DateTime<Utc>,
}

fn prepare(args: &RoundArgs) -> Result<Prepared, CommandError> {
    let config = match &args.config {
        Some(path) => config::load(path).map_err(|d| invalid_input(&d))?,
        None => RunnerConfig::default(),
    };
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

fn round_on_snapshot(
    args: &RoundArgs,
    prepared: &Prepared,
    mode: Mode,
    notify: bool,
) -> Result<Exit, CommandError> {
    let deadline = std::time::Instant::now() + args.deadline;
    // Secrets are read once, before anything else happens: a bad one is a config error.
    let ready = if notify {
        let c = &prepared.config;
        crate::notify::prepare(&c.notifications, &c.secrets_dir, &prepared.playbooks)
            .map_err(|p| CommandError::Invalid(p.join("\n")))?
    } else {
        Default::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::CouldNotRun(format!("cannot start the async runtime: {e}")))?;
    let extra = runtime.block_on(prometheus_objects(args, prepared))?;
    let opts = RoundOptions {
        now: prepared.now,
        mode,
        snapshot: args.snapshot.clone(),
        snapshot_limits: args.snapshot_limits(),
        page_size: args.page_size,
        extra,
    };
    let report = if args.snapshot.is_empty() {
        runtime.block_on(live_round(args, prepared, &opts))?
    } else {
        round::plan_snapshot(&prepared.playbooks, &opts)
            .map_err(|e| CommandError::Invalid(e.to_string()))?
    };
    let mut report = report;
    let mut lost = false;
    if notify {
        // The ledger (and with it the notification log) is not part of this build yet.
        let mut log = crate::notify::NotificationLog::default();
        lost = runtime.block_on(crate::notify::notify_report(
            &prepared.config.notifications,
            &ready,
            &mut report,
            &prepared.playbooks,
            mode,
            deadline,
            &mut log,
        ));
    }
    print_report(&report, args.output)?;
    let exit = if report.summary.failed > 0 || lost {
        Exit::Failures
    } else {
        Exit::Done
    };
    crate::job::log::report(&report, exit as u8);
    Ok(exit)
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
) -> Result<RoundReport, CommandError> {
    let connect = ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        qps: args.qps,
        burst: args.qps.saturating_mul(2),
        deadline: args.deadline,
    };
    let api = crate::api::connect::connect(&connect)
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
    let report = round::plan_live(&prepared.playbooks, opts, &api)
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
    tracing::info!(
        requests = api.requests().len(),
        "The round's inventory is complete."
    );
    Ok(report)
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
