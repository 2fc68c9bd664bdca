//! `rounds run`: a whole round against the cluster. It takes the Lease (another round holding
//! it means exit 2, naming the holder), loads the ledger, settles what an earlier round left
//! unconfirmed, makes the inventory, plans, guards and executes as the mode says, records
//! Events, saves the ledger, gives the Lease back, and reports.

use super::plan::{
    build, connect, exit_of, load_ledger, print_report, prometheus_objects, read_pause, runtime,
    settle_namespace,
};
use super::{CommandError, Exit};
use crate::cli::RunArgs;
use crate::execute::reconcile;
use crate::ledger::{LedgerState, LedgerStore, lease};
use crate::metrics::{ApiStats, RunMetrics};
use crate::round::{self, Finish, Mode, Source};
use std::cell::RefCell;
use std::time::{Duration, Instant};

pub fn run(args: &RunArgs) -> Result<Exit, CommandError> {
    // rounds' metrics are pushed at the end of every round, however it ended: the hook is made
    // first (the gateway's secrets read once), so a round stopped by bad playbooks is pushed too.
    let metrics = start_metrics(args)?;
    let runtime = runtime()?;
    let mut api = ApiStats::default();
    let (mut report, result) = match round(args, &runtime, &mut api) {
        Ok((report, exit)) => (Some(report), Ok(exit)),
        Err(e) => (None, Err(e)),
    };
    let code = match &result {
        Ok(exit) => *exit as u8,
        Err(e) => e.exit() as u8,
    };
    let mode = report
        .as_ref()
        .map_or(if args.apply { "apply" } else { "dry-run" }, |r| r.mode);
    // The ledger keeps per-playbook successes, not the round's: the gateway's group is read back.
    let code = runtime.block_on(metrics.finish(report.as_mut(), mode, code, api, None));
    result?;
    if let Some(report) = &report {
        print_report(report, args.round.output)?;
        crate::job::log::report(report, code);
    }
    Ok(if code == 0 {
        Exit::Done
    } else {
        Exit::Failures
    })
}

/// The metrics hook from the runner config; a config that does not load is reported by the
/// round itself (with every diagnostic), and then nothing can be pushed.
fn start_metrics(args: &RunArgs) -> Result<RunMetrics, CommandError> {
    let runner = match &args.round.config {
        Some(path) => match crate::config::load(path) {
            Ok(c) => c,
            Err(_) => return Ok(RunMetrics::disabled()),
        },
        None => crate::config::RunnerConfig::default(),
    };
    RunMetrics::start(&runner).map_err(|e| CommandError::Invalid(e.to_string()))
}

/// The round, with its report and exit code; the API requests it made go to `stats`.
fn round(
    args: &RunArgs,
    runtime: &tokio::runtime::Runtime,
    stats: &mut ApiStats,
) -> Result<(crate::report::RoundReport, Exit), CommandError> {
    let snapshot = !args.round.snapshot.is_empty();
    let (mut config, runner) = build(&args.round, true, |runner| {
        // --dry-run (ROUNDS_DRY_RUN, a manual run) wins over --apply and the config.
        let mode = if args.dry_run {
            Mode::DryRun
        } else if args.apply {
            Mode::Apply
        } else {
            runner.mode
        };
        if snapshot && mode == Mode::Apply {
            return Err(CommandError::Invalid(
                "--apply cannot be used with --snapshot: a snapshot is a copy, there is nothing to change".into(),
            ));
        }
        // A snapshot has no server to send dry runs to: the round is a plan.
        Ok(if snapshot { Mode::Plan } else { mode })
    })?;
    let started = Instant::now();
    // Secrets are read once, before anything else happens: a bad one is a config error.
    let ready = crate::notify::prepare(
        &runner.notifications,
        &runner.secrets_dir,
        &config.playbooks,
    )
    .map_err(|p| CommandError::Invalid(p.join("\n")))?;
    let Source::Live(opts) = config.source.clone() else {
        // A snapshot round: nothing can be changed, but it notifies (without a ledger, so
        // every notification goes out as if for the first time).
        let (report, lost) = runtime.block_on(async {
            let mut report = super::plan::snapshot_round(&config).await?;
            let mut log = crate::notify::NotificationLog::default();
            if !runner.notifications.channels.is_empty() {
                report.notes.push(crate::notify::no_ledger_note());
            }
            let lost = crate::notify::notify_report(
                &runner.notifications,
                &ready,
                &mut report,
                &config.playbooks,
                config.mode,
                started + config.deadline,
                &mut log,
            )
            .await;
            Ok::<_, CommandError>((report, lost))
        })?;
        let exit = match exit_of(&report) {
            Exit::Done if lost => Exit::Failures,
            other => other,
        };
        return Ok((report, exit));
    };
    let stop =
        crate::job::stop::Stop::new(started, config.deadline).with_flush(config.flush_timeout);
    let (report, failed) = runtime.block_on(async {
        // SIGTERM (the Job's deadline, a drain) stops new actions; the round still records
        // what it did, notifies, saves the ledger and reports.
        tokio::spawn(stop.clone().watch_signals());
        let api = connect(&opts).await?;
        let outcome = async {
        settle_namespace(&mut config, &runner, &api);
        let run_id = config.run_id.clone();
        let instance = instance();
        let holder = format!("{instance}/{run_id}");
        let mut lease = lease::acquire(
            &api,
            &config.namespace,
            &config.lease_name,
            &holder,
            config.lease_duration(),
        )
        .await
        .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
        // The ledger first: its schedule state says which scheduled playbooks are due.
        let mut notes = Vec::new();
        let mut ledger = load_ledger(&api, &config, &mut notes).await;
        if let Some(l) = ledger.ledger() {
            config.schedules.read_ledger(l);
        }
        let config = &config;
        let result = async {
            let extra = prometheus_objects(config).await?;
            if let LedgerState::Live(stored) = &mut ledger {
                notes.extend(reconcile::reconcile(&api, &mut stored.ledger, &run_id).await);
            }
            let pause = read_pause(&api, config).await;
            // The inventory changes nothing, so a stop in the middle of it ends the round.
            let inventory = tokio::select! {
                inventory = round::inventory_live(config, &api, &extra) => {
                    inventory.map_err(|e| CommandError::CouldNotRun(e.to_string()))?
                }
                why = stop.wait() => {
                    return Err(CommandError::CouldNotRun(format!(
                        "{} before the inventory was complete; nothing was changed",
                        why.describe(config.deadline)
                    )));
                }
            };
            if let Err(e) = lease.renew_if_due(&api).await {
                return Err(CommandError::CouldNotRun(e.to_string()));
            }
            let ledger = RefCell::new(std::mem::replace(&mut ledger, LedgerState::Absent));
            let finish = Finish {
                config,
                run_id: &run_id,
                api: Some(&api),
                ledger: &ledger,
                pause: &pause,
                instance: &instance,
                stop: &stop,
                notes,
            };
            let mut report = round::finish(finish, inventory).await;
            let mut ledger = ledger.into_inner();
            let unreadable = matches!(ledger, LedgerState::Unreadable(_));
            let mut failed = unreadable;
            // Notifications, with the log kept in the ledger (an unreadable ledger: a fresh
            // log, and the report says so).
            let mut fresh = crate::notify::NotificationLog::default();
            if let LedgerState::Unreadable(reason) = &ledger {
                report
                    .notes
                    .push(crate::notify::ledger_unreadable_note(reason));
            }
            let log = match ledger.ledger_mut() {
                Some(l) => &mut l.notifications,
                None => &mut fresh,
            };
            let lost = crate::notify::notify_report(
                &runner.notifications,
                &ready,
                &mut report,
                &config.playbooks,
                config.mode,
                // The ledger is saved after the notifications: keep it some of the flush.
                stop.flush_deadline() - (config.flush_timeout / 4).min(Duration::from_secs(5)),
                log,
            )
            .await;
            failed |= lost;
            if let LedgerState::Live(stored) = &mut ledger {
                record_schedules(&mut stored.ledger, &report, config, &run_id);
                let longest = config
                    .playbooks
                    .iter()
                    .filter_map(|p| p.playbook.spec.guards.cooldown)
                    .map(|d| d.chrono())
                    .max()
                    .unwrap_or_default();
                let names: Vec<&str> = config.playbooks.iter().map(|p| p.name()).collect();
                stored.ledger.prune(config.now, longest, &names);
                if stored.changed() {
                    let store =
                        LedgerStore::new(&api, &config.namespace, &config.ledger_name)
                            .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
                    // Within the flush: the kubelet kills the pod at the end of its grace period.
                    let saved = tokio::time::timeout(stop.flush_remaining(), store.save(stored))
                        .await
                        .map_err(|_| {
                            "cannot save the ledger: the round's flush time ran out".to_owned()
                        })
                        .and_then(|r| r.map_err(|e| e.to_string()));
                    match saved {
                        Ok(saved) if saved.merged > 0 => report.notes.push(format!(
                            "the ledger changed while this round ran; {} conflict(s) merged, no entry lost",
                            saved.merged
                        )),
                        Ok(_) => {}
                        Err(e) => {
                            report.notes.push(e);
                            failed = true;
                        }
                    }
                }
            }
            Ok::<_, CommandError>((report, failed))
        }
        .await;
        if let Err(e) = lease.release(&api).await {
            tracing::warn!(error = %e, "Could not give the lease back; it expires by itself.");
        }
        result
        }
        .await;
        *stats = ApiStats::from_requests(&api.requests(), api.retries());
        outcome
    })?;
    let exit = match exit_of(&report) {
        Exit::Done if failed => Exit::Failures,
        other => other,
    };
    Ok((report, exit))
}

/// Each due playbook ran now; it succeeded when none of its actions failed. (What the
/// schedule does with this is the scheduler's business; the ledger keeps it.)
fn record_schedules(
    ledger: &mut crate::ledger::Ledger,
    report: &crate::report::RoundReport,
    config: &crate::round::RoundConfig,
    run_id: &str,
) {
    for p in report.playbooks.iter().filter(|p| p.due) {
        let failed = report
            .actions
            .iter()
            .any(|a| a.playbook == p.name && a.status == crate::report::ActionStatus::Failed);
        let state = ledger.schedules.entry(p.name.clone()).or_default();
        state.last_run = Some(config.now);
        state.last_run_id = Some(run_id.to_owned());
        if !failed {
            state.last_success = Some(config.now);
        }
    }
}

/// The pod rounds runs as (its hostname in a pod), for the Lease and Events.
fn instance() -> String {
    std::env::var("POD_NAME")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "rounds".into())
}
