//! `rounds doctor`: whether a round can run here, stage by stage, with what to fix. The runner
//! config and playbooks load; the API answers; every permission the config's rounds need is
//! granted (SelfSubjectAccessReview, one per permission; a missing one is printed with the
//! exact RBAC rule to add); rounds' namespace exists; the notification secrets are readable and
//! the channels accept connections. Exit 0 only when all is well.

use super::plan::{build, connect, settle_namespace};
use super::{CommandError, Exit};
use crate::api::request::Request;
use crate::api::resource::{ObjectRef, Resource};
use crate::api::{Api, Operation};
use crate::cli::{DoctorArgs, OutputFormat};
use crate::detect::Reads;
use crate::plan::Action;
use crate::round::{Mode, RoundConfig, Source};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// One permission a round needs: the attributes a SelfSubjectAccessReview asks about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    pub verb: &'static str,
    pub group: &'static str,
    /// The resource, with `/subresource` where there is one (`pods/log`).
    pub resource: &'static str,
    /// Where it is needed: rounds' namespace, or None for every namespace (a ClusterRole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Permission {
    fn cluster(verb: &'static str, group: &'static str, resource: &'static str) -> Self {
        Self {
            verb,
            group,
            resource,
            namespace: None,
        }
    }

    fn own(verb: &'static str, group: &'static str, resource: &'static str, ns: &str) -> Self {
        Self {
            namespace: Some(ns.to_owned()),
            ..Self::cluster(verb, group, resource)
        }
    }

    /// The RBAC rule that grants it, as YAML to paste into the Role or ClusterRole.
    pub fn rule(&self) -> String {
        format!(
            "- apiGroups: [\"{}\"]\n  resources: [\"{}\"]\n  verbs: [\"{}\"]",
            self.group, self.resource, self.verb
        )
    }

    pub fn describe(&self) -> String {
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group
        };
        match &self.namespace {
            Some(ns) => format!("{} {group}/{} in namespace {ns}", self.verb, self.resource),
            None => format!("{} {group}/{} in every namespace", self.verb, self.resource),
        }
    }
}

/// Whether a round cannot do without a permission, or only does less without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Need {
    Required,
    /// Dry runs of writes: without it a dry-run round reports each action as skipped by
    /// `forbidden` (the observe overlay's read-only RBAC).
    DryRunOnly,
}

/// What each permission is for (the first reasons), by permission.
pub type Needed = BTreeMap<Permission, (Need, Vec<String>)>;

fn add(out: &mut Needed, p: Permission, need: Need, why: String) {
    let entry = out.entry(p).or_insert((need, Vec::new()));
    entry.0 = entry.0.min(need);
    if entry.1.len() < 3 && !entry.1.contains(&why) {
        entry.1.push(why);
    }
}

/// The writes an action may send, as permissions (a closed match: a new action must say).
fn writes(action: &Action) -> Vec<(&'static str, &'static str, &'static str)> {
    const WORKLOADS: [&str; 3] = ["deployments", "statefulsets", "daemonsets"];
    match action {
        Action::EvictPod(_) => vec![("create", "", "pods/eviction")],
        Action::DeletePod(_) | Action::DeleteFailedPods(_) => vec![("delete", "", "pods")],
        Action::RolloutRestart(_) => WORKLOADS.iter().map(|r| ("patch", "apps", *r)).collect(),
        Action::RaiseMemoryLimit(_) => WORKLOADS
            .iter()
            .chain(&["replicasets"])
            .map(|r| ("patch", "apps", *r))
            .chain([("patch", "batch", "cronjobs")])
            .collect(),
        Action::Scale(_) => ["deployments", "statefulsets", "replicasets"]
            .iter()
            .map(|r| ("patch", "apps", *r))
            .collect(),
        Action::CordonNode(_) => vec![("patch", "", "nodes")],
        Action::ExpandPvc(_) => vec![("patch", "", "persistentvolumeclaims")],
        Action::RunJob(_) => vec![("create", "batch", "jobs")],
        Action::NotifyOnly(_) => Vec::new(),
    }
}

/// Everything `rounds run` with `config` needs, in `mode`.
pub fn needed(config: &RoundConfig, mode: Mode) -> Needed {
    let mut out = Needed::new();
    let ns = config.namespace.as_str();
    let req = Need::Required;
    for p in &config.playbooks {
        let spec = &p.playbook.spec;
        let why = |what: &str| format!("{what} (playbook {})", p.name());
        let detector = spec.detect.name();
        let listed: &[(&str, &str)] = match spec.detect.imp().reads() {
            Reads::Pods => &[("", "pods")],
            Reads::Nodes => &[("", "nodes")],
            Reads::Jobs => &[("batch", "jobs")],
            Reads::Events => &[("", "events")],
            Reads::StatsSummaries => &[("", "nodes")],
            Reads::PrometheusDisk => &[],
        };
        for (group, resource) in listed {
            add(
                &mut out,
                Permission::cluster("list", group, resource),
                req,
                why(detector),
            );
        }
        match spec.detect.imp().reads() {
            Reads::StatsSummaries => add(
                &mut out,
                Permission::cluster("get", "", "nodes/proxy"),
                req,
                why("kubelet stats summaries"),
            ),
            // Findings on pods and Jobs are acted on through their owners.
            Reads::Pods | Reads::Jobs => {
                for (group, resource) in [
                    ("", "replicationcontrollers"),
                    ("apps", "replicasets"),
                    ("apps", "deployments"),
                    ("apps", "statefulsets"),
                    ("apps", "daemonsets"),
                    ("batch", "jobs"),
                    ("batch", "cronjobs"),
                ] {
                    add(
                        &mut out,
                        Permission::cluster("get", group, resource),
                        req,
                        why("owners"),
                    );
                }
            }
            Reads::Nodes | Reads::Events | Reads::PrometheusDisk => {}
        }
        if spec.detect.imp().target_kind() == crate::detect::TargetKind::PersistentVolumeClaim {
            for (group, resource) in [
                ("", "persistentvolumeclaims"),
                ("storage.k8s.io", "storageclasses"),
            ] {
                add(
                    &mut out,
                    Permission::cluster("get", group, resource),
                    req,
                    why("claims"),
                );
            }
        }
        if spec.scope.namespace_selector.is_some() {
            for verb in ["list", "get"] {
                add(
                    &mut out,
                    Permission::cluster(verb, "", "namespaces"),
                    req,
                    why("namespaceSelector"),
                );
            }
        }
        let evidence = &spec.notify.evidence;
        if evidence.events {
            add(
                &mut out,
                Permission::cluster("list", "", "events"),
                req,
                why("evidence: Events"),
            );
        }
        if evidence.log_tail_lines > 0 {
            add(
                &mut out,
                Permission::cluster("get", "", "pods/log"),
                req,
                why("evidence: log tail"),
            );
        }
        if mode.sends() {
            let need = if mode == Mode::Apply {
                req
            } else {
                Need::DryRunOnly
            };
            for action in &spec.remediate {
                for (verb, group, resource) in writes(action) {
                    let why = why(action.name());
                    add(
                        &mut out,
                        Permission::cluster(verb, group, resource),
                        need,
                        why.clone(),
                    );
                    // A conflict or an unconfirmed write makes rounds read the target again.
                    let base = resource.split('/').next().unwrap_or(resource);
                    let base: &'static str = Resource::ALL
                        .iter()
                        .find(|r| r.plural == base)
                        .map_or(resource, |r| r.plural);
                    add(&mut out, Permission::cluster("get", group, base), need, why);
                }
                if !writes(action).is_empty() {
                    add(
                        &mut out,
                        Permission::cluster("create", "events.k8s.io", "events"),
                        need,
                        why("the audit Event of each action"),
                    );
                }
            }
        }
    }
    // Rounds' own state in its namespace: the pause switch and the ledger (ConfigMaps), the
    // Lease that keeps rounds from overlapping.
    add(
        &mut out,
        Permission::own("get", "", "configmaps", ns),
        req,
        "the ledger and the pause switch".into(),
    );
    for verb in ["create", "update"] {
        add(
            &mut out,
            Permission::own(verb, "", "configmaps", ns),
            req,
            "the ledger".into(),
        );
    }
    for verb in ["get", "create", "update"] {
        add(
            &mut out,
            Permission::own(verb, "coordination.k8s.io", "leases", ns),
            req,
            "the run lock".into(),
        );
    }
    out
}

/// One finding of the doctor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub stage: &'static str,
    pub what: String,
    pub ok: bool,
    /// A check that fails but lets rounds run with less (a dry run without write RBAC).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    pub detail: String,
    /// The RBAC rule that grants a missing permission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Check {
    fn ok(stage: &'static str, what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            stage,
            what: what.into(),
            ok: true,
            warning: false,
            detail: detail.into(),
            rule: None,
        }
    }

    fn fail(stage: &'static str, what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: false,
            ..Self::ok(stage, what, detail)
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DoctorReport {
    api_version: &'static str,
    kind: &'static str,
    mode: &'static str,
    namespace: String,
    problems: usize,
    warnings: usize,
    checks: Vec<Check>,
}

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
    let mut checks = vec![Check::ok(
        "config",
        "runner config and playbooks",
        format!("{} playbook(s) are valid", config.playbooks.len()),
    )];
    let Source::Live(opts) = config.source.clone() else {
        return Err(CommandError::Invalid("rounds doctor needs the API".into()));
    };
    let runtime = super::plan::runtime()?;
    runtime.block_on(async {
        let api = match connect(&opts).await {
            Ok(api) => api,
            Err(e) => {
                checks.push(Check::fail("api", "the Kubernetes API", e.to_string()));
                return;
            }
        };
        settle_namespace(&mut config, &runner, &api);
        match api.get("/version", Operation::new("get", "version", None)).await {
            Ok(Some(text)) => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                checks.push(Check::ok(
                    "api",
                    api.url().to_owned(),
                    format!("answers, Kubernetes {}", v["gitVersion"].as_str().unwrap_or("(no version)")),
                ));
            }
            Ok(None) => checks.push(Check::fail("api", api.url().to_owned(), "/version answered 404")),
            Err(e) => {
                checks.push(Check::fail("api", api.url().to_owned(), e.to_string()));
                return;
            }
        }
        checks.extend(check_permissions(&api, &config).await);
        let ns = &config.namespace;
        let path = format!("/api/v1/namespaces/{ns}");
        checks.push(match api.get(&path, Operation::new("get", "namespaces", None)).await {
            Ok(Some(_)) => Check::ok("ledger", format!("namespace {ns}"), "exists; the ledger and the Lease live there"),
            Ok(None) => Check::fail(
                "ledger",
                format!("namespace {ns}"),
                format!("does not exist: create it (kubectl create namespace {ns}) or set `namespace` in the runner config"),
            ),
            Err(e) => Check::fail("ledger", format!("namespace {ns}"), e.to_string()),
        });
        for c in crate::notify::doctor::check_secrets(&runner.notifications, &runner.secrets_dir) {
            checks.push(Check { stage: "secret", what: c.what, ok: c.ok, warning: false, detail: c.detail, rule: None });
        }
        for c in crate::notify::doctor::check_channels(&runner.notifications, &runner.secrets_dir, args.channel_timeout).await {
            checks.push(Check { stage: "channel", what: c.what, ok: c.ok, warning: false, detail: c.detail, rule: None });
        }
    });
    let problems = checks.iter().filter(|c| !c.ok && !c.warning).count();
    let warnings = checks.iter().filter(|c| c.warning).count();
    let report = DoctorReport {
        api_version: "rounds.dev/v1alpha1",
        kind: "DoctorReport",
        mode: config.mode.as_str(),
        namespace: config.namespace.clone(),
        problems,
        warnings,
        checks,
    };
    print(&report, args.round.output)?;
    let failed = |stage: &str| {
        report
            .checks
            .iter()
            .any(|c| c.stage == stage && !c.ok && !c.warning)
    };
    Ok(if failed("secret") {
        Exit::Invalid
    } else if problems > 0 {
        Exit::CouldNotRun
    } else {
        Exit::Done
    })
}

/// Asks the API server about each needed permission.
async fn check_permissions(api: &Api, config: &RoundConfig) -> Vec<Check> {
    let mut out = Vec::new();
    let review = match ObjectRef::cluster(&Resource::SELF_SUBJECT_ACCESS_REVIEW, "rounds-doctor") {
        Ok(r) => r,
        Err(e) => {
            return vec![Check::fail(
                "rbac",
                "SelfSubjectAccessReview",
                e.to_string(),
            )];
        }
    };
    for (p, (need, why)) in needed(config, config.mode) {
        let (resource, subresource) = match p.resource.split_once('/') {
            Some((r, s)) => (r, s),
            None => (p.resource, ""),
        };
        let mut attributes =
            serde_json::json!({"verb": p.verb, "group": p.group, "resource": resource});
        if !subresource.is_empty() {
            attributes["subresource"] = subresource.into();
        }
        if let Some(ns) = &p.namespace {
            attributes["namespace"] = ns.as_str().into();
        }
        let body = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        });
        let what = p.describe();
        let answer = api.send(&Request::create(&review, body)).await;
        let allowed = match answer {
            Ok(r) => r.json()["status"]["allowed"].as_bool().unwrap_or(false),
            Err(e) => {
                out.push(Check::fail("rbac", what, format!("cannot ask: {e}")));
                continue;
            }
        };
        if allowed {
            out.push(Check::ok(
                "rbac",
                what,
                format!("granted; for {}", why.join(", ")),
            ));
            continue;
        }
        let place = match &p.namespace {
            Some(ns) => format!("a Role in namespace {ns}"),
            None => "a ClusterRole".to_owned(),
        };
        let detail = match need {
            Need::Required => format!("missing; needed for {}", why.join(", ")),
            Need::DryRunOnly => format!(
                "not granted: dry runs of {} are reported as skipped by `forbidden` (fine for the observe overlay; grant it to have the server check them)",
                why.join(", ")
            ),
        };
        out.push(Check {
            stage: "rbac",
            what,
            ok: false,
            warning: need == Need::DryRunOnly,
            detail: format!("{detail}; add to {place} bound to rounds' service account:"),
            rule: Some(p.rule()),
        });
    }
    out
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
        OutputFormat::Text => {
            for c in &report.checks {
                let mark = match (c.ok, c.warning) {
                    (true, _) => "ok  ",
                    (false, true) => "warn",
                    (false, false) => "FAIL",
                };
                println!("{mark}  {:<7}  {}: {}", c.stage, c.what, c.detail);
                if let Some(rule) = &c.rule {
                    for line in rule.lines() {
                        println!("                 {line}");
                    }
                }
            }
            println!(
                "{} problem(s), {} warning(s) ({} mode, namespace {})",
                report.problems, report.warnings, report.mode, report.namespace
            );
        }
    }
    Ok(())
}
