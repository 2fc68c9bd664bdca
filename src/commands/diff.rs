//! `rounds diff --base DIR --head DIR (--snapshot PATH | --kubeconfig FILE)`: what a change of
//! playbooks would change in the plan, on one read of the cluster.

use super::{CommandError, Exit};
use crate::api::ConnectOptions;
use crate::cli::{DiffArgs, DiffOutput};
use crate::detect::Reads;
use crate::diff::{self, markdown, text};
use crate::objects::Object;
use crate::playbook::{self, Diagnostic, Loaded};
use crate::round::{self, Mode, RoundOptions, sets};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::time::Duration;

fn load(
    which: &str,
    paths: &[PathBuf],
    notes: &mut Vec<String>,
) -> Result<Vec<Loaded>, CommandError> {
    let present: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
    for p in paths.iter().filter(|p| !p.exists()) {
        notes.push(format!(
            "{which} path {} does not exist: read as no playbooks",
            p.display()
        ));
    }
    playbook::load(&present).map_err(|d| invalid(which, &d))
}

pub fn diff(args: &DiffArgs) -> Result<Exit, CommandError> {
    let mut notes = Vec::new();
    let base = load("base", &args.base, &mut notes)?;
    let head = load("head", &args.head, &mut notes)?;
    let now = match &args.now {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|e| {
                CommandError::Invalid(format!("--now {text:?} is not an RFC 3339 time: {e}"))
            })?
            .to_utc(),
        None => Utc::now(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::CouldNotRun(format!("cannot start the async runtime: {e}")))?;
    let mut opts = RoundOptions {
        now,
        mode: Mode::Plan,
        snapshot: args.snapshot.clone(),
        snapshot_limits: crate::inventory::snapshot::Limits {
            max_object_bytes: args.max_object_size,
            max_token_bytes: args.max_token_size,
        },
        page_size: args.page_size,
        extra: Vec::new(),
    };
    opts.extra = runtime.block_on(prometheus_objects(args, &[&base, &head], &opts))?;
    let sets: [&[Loaded]; 2] = [&base, &head];
    let reports = if args.snapshot.is_empty() {
        runtime.block_on(async {
            let connect = ConnectOptions {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                qps: args.qps,
                burst: args.qps.saturating_mul(2),
                deadline: args.deadline,
                // A diff only reads.
                flush: Duration::ZERO,
            };
            let api = crate::api::connect::connect(&connect)
                .await
                .map_err(|e| CommandError::CouldNotRun(e.to_string()))?;
            sets::plan_live_sets(&sets, &opts, &api)
                .await
                .map_err(|e| CommandError::CouldNotRun(e.to_string()))
        })?
    } else {
        sets::plan_snapshot_sets(&sets, &opts).map_err(|e| match e {
            round::SnapshotRoundError::Snapshot(e) => CommandError::Invalid(e.to_string()),
            e => CommandError::CouldNotRun(e.to_string()),
        })?
    };
    let [base_report, head_report] = reports.as_slice() else {
        return Err(CommandError::CouldNotRun(
            "planning did not give two plans".into(),
        ));
    };
    let mut d = diff::compare(base_report, head_report);
    notes.append(&mut d.notes);
    d.notes = notes;
    match args.output {
        DiffOutput::Text => print!("{}", text::render(&d)),
        DiffOutput::Markdown => print!("{}", markdown::render(&d)),
        DiffOutput::Json => {
            let json = serde_json::to_string_pretty(&d)
                .map_err(|e| CommandError::CouldNotRun(format!("cannot write the diff: {e}")))?;
            println!("{json}");
        }
    }
    Ok(Exit::Done)
}

/// Disk usage from Prometheus, read once for both sets when either needs it.
async fn prometheus_objects(
    args: &DiffArgs,
    sets: &[&[Loaded]],
    opts: &RoundOptions,
) -> Result<Vec<Object>, CommandError> {
    if !sets.iter().any(|s| {
        round::reads_of_due(&round::default_config(s, opts)).contains(&Reads::PrometheusDisk)
    }) {
        return Ok(Vec::new());
    }
    let Some(url) = &args.prometheus else {
        return Err(CommandError::Invalid(
            "a due playbook reads disk usage from Prometheus (source: prometheus): give --prometheus URL".into(),
        ));
    };
    super::plan::disk_summaries(url, Duration::from_secs(10)).await
}

fn invalid(which: &str, diagnostics: &[Diagnostic]) -> CommandError {
    for d in diagnostics {
        eprint!("{}", d.render());
    }
    CommandError::Invalid(format!(
        "the {which} playbooks have {} error(s); nothing was compared",
        diagnostics.len()
    ))
}
