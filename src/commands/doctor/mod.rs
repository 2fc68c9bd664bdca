//! `rounds doctor`: whether a round can run here, stage by stage, with what to fix. The runner
//! config and playbooks load; the API answers; every permission the config's rounds need is
//! granted (one SelfSubjectAccessReview each; a missing one is printed with the exact RBAC rule
//! to add); rounds' namespace exists and its ledger and pause switch are readable; the secret
//! files are valid and the notification channels, Prometheus and the Pushgateway accept
//! connections. Nothing is written and nothing is sent.
//!
//! Exit 0 only when all is well; 1 when the config, a playbook or a secret file is invalid
//! (what `rounds run` refuses with 1); 2 when anything else a round needs is missing.

pub mod output;
pub mod permissions;

use super::plan::{build, connect, settle_namespace};
use super::{CommandError, Exit};
use crate::api::request::Request;
use crate::api::resource::{ObjectRef, Resource};
use crate::api::{Api, ApiError, Operation};
use crate::cli::{DoctorArgs, OutputFormat};
use crate::config::RunnerConfig;
use crate::detect::Reads;
use crate::guard::Pause;
use crate::ledger::LedgerStore;
use crate::round::{Mode, RoundConfig, Source};
use futures::StreamExt;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use output::{Check, DoctorReport, Stage, Status};
use permissions::{Need, Permission, Verb};
use std::io::IsTerminal;
use std::time::Duration;

/// How long the doctor waits for the API in all (`--deadline` overrides): it asks little.
const API_BUDGET: Duration = Duration::from_secs(30);
/// Reviews in flight at once.
const CONCURRENCY: usize = 4;

pub fn doctor(args: &DoctorArgs) -> Result<Exit, CommandError> {
    if !args.round.snapshot.is_empty() {
        return Err(CommandError::Invalid(
            "rounds doctor checks a cluster; --snapshot has none".into(),
        ));
    }
    let apply = args.apply;
    let (mut config, runner) = build(&args.round, false, |r| {
        Ok(if apply { Mode::Apply } else { r.mode })
    })?;
    let Source::Live(mut opts) = config.source.clone() else {
        return Err(CommandError::Invalid("rounds doctor needs the API".into()));
    };
    opts.deadline = args.round.deadline.unwrap_or(API_BUDGET);
    let mut checks = vec![Check::ok(
        Stage::Config,
        "runner config and playbooks",
        format!("{} playbook(s) load", config.playbooks.len()),
    )];
    checks.extend(prometheus_configured(&config));
    let runtime = super::plan::runtime()?;
    runtime.block_on(async {
        match connect(&opts).await {
            Ok(api) => {
                settle_namespace(&mut config, &runner, &api);
                checks.extend(cluster(&api, &config).await);
            }
            Err(e) => checks.push(Check::fail(Stage::Api, "the Kubernetes API", e.to_string())),
        }
        checks.extend(secrets(&runner));
        checks.extend(channels(&runner, args.channel_timeout).await);
        checks.extend(endpoints(&config, &runner).await);
    });
    let exit = exit_of(&checks);
    let report = DoctorReport {
        api_version: "rounds.dev/v1alpha1",
        kind: "DoctorReport",
        mode: config.mode.as_str(),
        namespace: config.namespace.clone(),
        shard: (!config.shard.is_whole()).then(|| config.shard.describe()),
        playbooks: config.playbooks.len(),
        summary: DoctorReport::count(&checks),
        exit_code: exit as u8,
        checks,
    };
    print(&report, args.round.output)?;
    Ok(exit)
}

/// 1 for invalid input (config, secrets), 2 for anything else missing, 0 when all is well.
fn exit_of(checks: &[Check]) -> Exit {
    let failed = |input: bool| {
        checks
            .iter()
            .any(|c| c.status == Status::Fail && c.stage.is_input() == input)
    };
    if failed(true) {
        Exit::Invalid
    } else if failed(false) {
        Exit::CouldNotRun
    } else {
        Exit::Done
    }
}

/// A playbook that reads disk usage from Prometheus needs its URL (else `rounds run` exits 1).
fn prometheus_configured(config: &RoundConfig) -> Option<Check> {
    let readers: Vec<&str> = config
        .playbooks
        .iter()
        .filter(|p| p.playbook.spec.detect.imp().reads() == Reads::PrometheusDisk)
        .map(|p| p.name())
        .collect();
    if readers.is_empty() || config.prometheus.is_some() {
        return None;
    }
    Some(Check::fail(
        Stage::Config,
        "prometheus.url",
        format!(
            "playbook(s) {} read disk usage from Prometheus (source: prometheus): set prometheus.url in the runner config or give --prometheus URL",
            readers.join(", ")
        ),
    ))
}

/// The API, every permission, and rounds' namespace with its ledger and pause switch.
async fn cluster(api: &Api, config: &RoundConfig) -> Vec<Check> {
    let mut out = Vec::new();
    match api
        .get("/version", Operation::new("get", "version", None))
        .await
    {
        Ok(text) => {
            let v: serde_json::Value = text
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            let version = v["gitVersion"].as_str().unwrap_or("version unknown");
            out.push(Check::ok(
                Stage::Api,
                api.url().to_owned(),
                format!("answers (Kubernetes {version})"),
            ));
        }
        Err(e) => {
            let hint = match e {
                ApiError::Unreachable { .. }
                | ApiError::GaveUp { .. }
                | ApiError::Deadline { .. } => {
                    "; check the server address (the kubeconfig's cluster, or KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT in a pod)"
                }
                _ => "",
            };
            out.push(Check::fail(
                Stage::Api,
                api.url().to_owned(),
                format!("{e}{hint}"),
            ));
            return out;
        }
    }
    out.extend(check_permissions(api, permissions::needed(config, config.mode)).await);
    out.extend(ledger(api, config).await);
    out
}

/// What the API server answered about one permission.
enum Answer {
    Allowed,
    Denied(String),
    /// The review itself was refused or failed.
    CannotAsk(ApiError),
}

async fn review(api: &Api, p: &Permission) -> Answer {
    let target = match ObjectRef::cluster(&Resource::SELF_SUBJECT_ACCESS_REVIEW, "rounds-doctor") {
        Ok(t) => t,
        Err(e) => return Answer::CannotAsk(ApiError::Config(e.to_string())),
    };
    let body = match serde_json::to_value(p.review()) {
        Ok(b) => b,
        Err(e) => return Answer::CannotAsk(ApiError::Config(e.to_string())),
    };
    let response = match api.send(&Request::create(&target, body)).await {
        Ok(r) => r,
        Err(e) => return Answer::CannotAsk(e),
    };
    let status = serde_json::from_str::<SelfSubjectAccessReview>(&response.body)
        .ok()
        .and_then(|r| r.status);
    match status {
        Some(s) if s.allowed => Answer::Allowed,
        Some(s) => Answer::Denied(
            [s.reason, s.evaluation_error]
                .into_iter()
                .flatten()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        None => Answer::CannotAsk(ApiError::Config(
            "the API server answered a SelfSubjectAccessReview without a status".into(),
        )),
    }
}

/// Asks the API server about each permission, a few at a time.
async fn check_permissions(api: &Api, needed: permissions::Needed) -> Vec<Check> {
    let needed: Vec<_> = needed.0.into_iter().collect();
    let answers: Vec<Answer> = futures::stream::iter(needed.iter().map(|(p, _)| review(api, p)))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    // Refused reviews say nothing about the permissions: one check says what to grant.
    if answers
        .iter()
        .any(|a| matches!(a, Answer::CannotAsk(ApiError::Forbidden { .. })))
    {
        let p = Permission::cluster(Verb::Create, &Resource::SELF_SUBJECT_ACCESS_REVIEW);
        return vec![
            Check::fail(
                Stage::Rbac,
                p.describe(),
                "refused, so no permission can be checked (Kubernetes grants it to every authenticated user through system:basic-user unless that was changed)",
            )
            .about(&p, &permissions::Uses { need: Need::Required, reasons: Vec::new() }),
        ];
    }
    needed
        .iter()
        .zip(answers)
        .map(|((p, uses), answer)| {
            let what = p.describe();
            let why = uses.describe();
            let check = match answer {
                Answer::Allowed => Check::ok(Stage::Rbac, what, format!("granted; for {why}")),
                Answer::CannotAsk(e) => {
                    Check::fail(Stage::Rbac, what, format!("cannot ask the API server: {e}"))
                }
                Answer::Denied(reason) => {
                    let reason = if reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({reason})")
                    };
                    match uses.need.without() {
                        None => Check::fail(
                            Stage::Rbac,
                            what,
                            format!("missing{reason}; needed for {why}"),
                        ),
                        Some(without) => Check::optional(
                            Stage::Rbac,
                            what,
                            format!("not granted{reason}; used for {why}; {without}"),
                        ),
                    }
                }
            };
            check.about(p, uses)
        })
        .collect()
}

/// Rounds' namespace, the ledger in it (readable; its shards), and the pause switch.
async fn ledger(api: &Api, config: &RoundConfig) -> Vec<Check> {
    let ns = &config.namespace;
    let what = format!("namespace {ns}");
    let path = format!("/api/v1/namespaces/{ns}");
    let namespace = api
        .get(&path, Operation::new("get", "namespaces", None))
        .await;
    let mut out = vec![match &namespace {
        Ok(Some(_)) => Check::ok(
            Stage::Ledger,
            what,
            "exists; the ledger, the pause switch and the Lease live there",
        ),
        Ok(None) => Check::fail(
            Stage::Ledger,
            what,
            format!(
                "does not exist: rounds keeps its ledger and Lease there; install an overlay (kubectl apply -k manifests/overlays/observe), create it (kubectl create namespace {ns}) or set `namespace` in the runner config"
            ),
        ),
        // Its playbooks may not need namespaces; the ConfigMap checks below still tell.
        Err(e @ ApiError::Forbidden { .. }) => Check::optional(
            Stage::Ledger,
            what,
            format!("cannot tell whether it exists: {e}"),
        ),
        Err(e) => Check::fail(Stage::Ledger, what, e.to_string()),
    }];
    if matches!(namespace, Ok(None)) {
        return out;
    }
    let (check, shards) = ledger_document(api, config).await;
    out.push(check);
    let pause_name = &config.guards.pause_config_map;
    let what = format!("pause switch ConfigMap {ns}/{pause_name}");
    out.push(match Pause::read(api, ns, pause_name).await {
        Pause::NotPaused | Pause::NotRead(_) => Check::ok(Stage::Ledger, what, "not paused"),
        Pause::Paused { source, until } => Check::ok(
            Stage::Ledger,
            what,
            match until {
                Some(t) => format!("paused until {t} by {source}: every action is skipped"),
                None => format!("paused by {source}: every action is skipped"),
            },
        ),
        Pause::Unreadable(e) => Check::fail(
            Stage::Ledger,
            what,
            format!("unreadable, so rounds counts as paused: {e}"),
        ),
    });
    // Apply rounds always ask (see `permissions::needed`); others only once there are shards.
    if shards > 0 && config.mode != Mode::Apply {
        out.extend(shard_cleanup(api, config).await);
    }
    out
}

/// Whether the ledger is readable, and how many shards it is kept in.
async fn ledger_document(api: &Api, config: &RoundConfig) -> (Check, usize) {
    let ns = &config.namespace;
    let what = format!("ledger ConfigMap {ns}/{}", config.ledger_name);
    let store = match LedgerStore::new(api, ns, &config.ledger_name) {
        Ok(s) => s,
        Err(e) => return (Check::fail(Stage::Ledger, what, e.to_string()), 0),
    };
    let op = Operation::new("get", "configmaps", Some(ns));
    match api.get(&store.reference().path(), op).await {
        Ok(None) => {
            let detail = "does not exist yet; the first round creates it";
            return (Check::ok(Stage::Ledger, what, detail), 0);
        }
        Ok(Some(_)) => {}
        Err(e) => return (Check::fail(Stage::Ledger, what, e.to_string()), 0),
    }
    match store.load().await {
        Ok(stored) => {
            let l = &stored.ledger;
            let mut detail = format!(
                "readable: {} cooldown(s), {} intent(s) to confirm, {} history entries",
                l.cooldowns.len(),
                l.intents.len(),
                l.history.len()
            );
            if stored.shards() > 0 {
                detail.push_str(&format!(", kept in {} shard(s)", stored.shards()));
            }
            for note in &stored.notes {
                detail.push_str(&format!("; {note}"));
            }
            (Check::ok(Stage::Ledger, what, detail), stored.shards())
        }
        Err(e) => {
            let detail = format!(
                "{e}; a round then does nothing that needs it (cooldowns, earlier writes) and exits 3"
            );
            (Check::fail(Stage::Ledger, what, detail), 0)
        }
    }
}

/// A ledger kept in shards: whether rounds may delete the shards it stops using.
async fn shard_cleanup(api: &Api, config: &RoundConfig) -> Vec<Check> {
    let p = Permission::in_namespace(Verb::Delete, &Resource::CONFIG_MAP, &config.namespace);
    let mut needed = permissions::Needed::default();
    let what = format!(
        "the ledger's old shards (ConfigMaps {}-*)",
        config.ledger_name
    );
    needed.add(p, Need::Cleanup, &what, None);
    check_permissions(api, needed).await
}

/// notify's checks of the secret files, and the Pushgateway's credentials.
fn secrets(runner: &RunnerConfig) -> Vec<Check> {
    let mut out: Vec<Check> =
        crate::notify::doctor::check_secrets(&runner.notifications, &runner.secrets_dir)
            .into_iter()
            .map(|c| from_notify(Stage::Secret, c))
            .collect();
    if let Some(gw) = runner.metrics.as_ref().and_then(|m| m.pushgateway.as_ref())
        && gw.auth.is_some()
    {
        let dir = crate::secrets::SecretsDir::new(&runner.secrets_dir);
        out.push(
            match crate::metrics::auth::Credentials::load(gw.auth.as_ref(), &dir) {
                Ok(_) => Check::ok(Stage::Secret, "secret metrics.pushgateway.auth", "readable"),
                Err(e) => Check::fail(
                    Stage::Secret,
                    "secret metrics.pushgateway.auth",
                    e.to_string(),
                ),
            },
        );
    }
    out
}

async fn channels(runner: &RunnerConfig, timeout: Duration) -> Vec<Check> {
    crate::notify::doctor::check_channels(&runner.notifications, &runner.secrets_dir, timeout)
        .await
        .into_iter()
        .map(|c| from_notify(Stage::Channel, c))
        .collect()
}

fn from_notify(stage: Stage, c: crate::notify::doctor::Check) -> Check {
    if c.ok {
        Check::ok(stage, c.what, c.detail)
    } else {
        Check::fail(stage, c.what, c.detail)
    }
}

/// Prometheus (when a playbook reads it) and the Pushgateway accept connections.
async fn endpoints(config: &RoundConfig, runner: &RunnerConfig) -> Vec<Check> {
    let mut out = Vec::new();
    let reads_prometheus = config
        .playbooks
        .iter()
        .any(|p| p.playbook.spec.detect.imp().reads() == Reads::PrometheusDisk);
    if reads_prometheus && let Some((url, timeout)) = &config.prometheus {
        out.push(reach(Stage::Prometheus, "Prometheus", url, *timeout).await);
    }
    if let Some(gw) = runner.metrics.as_ref().and_then(|m| m.pushgateway.as_ref()) {
        out.push(reach(Stage::Metrics, "Pushgateway", &gw.url, gw.timeout()).await);
    }
    out
}

/// Whether `url`'s host accepts a TCP connection within `timeout`. Only host and port are
/// printed: a URL's path or user part may hold a token.
async fn reach(stage: Stage, name: &str, url: &str, timeout: Duration) -> Check {
    let parsed = reqwest::Url::parse(url.trim());
    let Some((host, port)) = parsed
        .as_ref()
        .ok()
        .and_then(|u| Some((u.host_str()?.to_owned(), u.port_or_known_default()?)))
    else {
        return Check::fail(stage, name, "its URL has no host and port");
    };
    let address = format!("{host}:{port}");
    let connect = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port));
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(_)) => Check::ok(stage, name, format!("{address} accepts connections")),
        Ok(Err(e)) => Check::fail(stage, name, format!("cannot connect to {address}: {e}")),
        Err(_) => Check::fail(
            stage,
            name,
            format!(
                "{address} did not answer within {}",
                humantime::format_duration(timeout)
            ),
        ),
    }
}

fn print(report: &DoctorReport, format: Option<OutputFormat>) -> Result<(), CommandError> {
    let format = format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Text
    } else {
        OutputFormat::Json
    });
    match format {
        OutputFormat::Json => {
            let text = serde_json::to_string_pretty(report)
                .map_err(|e| CommandError::CouldNotRun(format!("cannot write the report: {e}")))?;
            println!("{text}");
        }
        OutputFormat::Text => print!("{}", output::text(report)),
    }
    Ok(())
}
