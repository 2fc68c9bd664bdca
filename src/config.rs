//! The runner configuration (`kind: RunnerConfig`): how rounds runs in this cluster.

use crate::guard::config::GuardSettings;
use crate::playbook::document::Source;
use crate::playbook::values::Glob;
use crate::playbook::{Diagnostic, spec::ApiVersion};
use crate::round::mode::Mode;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "RunnerConfig")]
pub struct RunnerConfig {
    pub api_version: ApiVersion,
    pub kind: RunnerConfigKind,
    /// `dryRun` (default) sends every change with dryRun=All; `apply` makes the changes every
    /// guard allows; `plan` sends no change at all.
    #[serde(default)]
    pub mode: Mode,
    /// Rounds' own namespace (its ledger, lease and pause ConfigMap). Default: the service
    /// account's namespace in a pod, else `rounds`.
    #[serde(default)]
    #[schemars(extend("format" = "dns-label"))]
    pub namespace: Option<String>,
    /// Playbook files or directories, used when `--playbooks` is not given.
    #[serde(default)]
    pub playbooks: Vec<PathBuf>,
    /// Namespaces rounds never changes (globs); rounds' own namespace is always protected.
    /// Default: kube-system, kube-public, kube-node-lease.
    #[serde(default = "default_protected")]
    pub protected_namespaces: Vec<Glob>,
    /// Limits across playbooks.
    #[serde(default)]
    pub guards: GuardSettings,
    /// Where mounted Secrets are read from.
    #[serde(default = "default_secrets_dir")]
    pub secrets_dir: PathBuf,
    /// Prometheus, for detectors with `source: prometheus`.
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
    /// The playbook lock to enforce (see `rounds lock`).
    #[serde(default)]
    pub lock: Option<crate::lock::config::LockConfig>,
    /// Channels, routes and tiers of notifications (`rounds explain slack` and friends).
    #[serde(default)]
    pub notifications: crate::notify::NotifyConfig,
    /// The round's deadline in its Job, and how late scheduled playbooks may still run.
    #[serde(default)]
    pub job: crate::job::config::JobConfig,
    /// rounds' own metrics (a Pushgateway to push to at the end of every round).
    #[serde(default)]
    pub metrics: Option<crate::metrics::config::MetricsConfig>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrometheusConfig {
    /// Base URL, e.g. http://prometheus-operated.monitoring:9090
    pub url: String,
    /// Per-query timeout (default 10s).
    #[serde(default)]
    pub timeout: Option<crate::playbook::values::Duration>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum RunnerConfigKind {
    RunnerConfig,
}

fn default_protected() -> Vec<Glob> {
    ["kube-system", "kube-public", "kube-node-lease"]
        .iter()
        .map(|n| n.parse().unwrap_or_else(|_| unreachable!("valid glob")))
        .collect()
}

fn default_secrets_dir() -> PathBuf {
    PathBuf::from("/etc/rounds/secrets")
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            api_version: ApiVersion::V1alpha1,
            kind: RunnerConfigKind::RunnerConfig,
            mode: Mode::DryRun,
            namespace: None,
            playbooks: Vec::new(),
            protected_namespaces: default_protected(),
            guards: GuardSettings::default(),
            secrets_dir: default_secrets_dir(),
            prometheus: None,
            lock: None,
            notifications: Default::default(),
            job: Default::default(),
            metrics: None,
        }
    }
}

pub fn schema() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RunnerConfig>()
        .to_value()
}

/// Reads and checks the runner config, reporting every problem.
pub fn load(path: &Path) -> Result<RunnerConfig, Vec<Diagnostic>> {
    let source = Source::read(path).map_err(|d| vec![d])?;
    let docs = source.documents().map_err(|d| vec![d])?;
    let [doc] = docs.as_slice() else {
        return Err(vec![Diagnostic::new(
            &source.file,
            &source.text,
            Default::default(),
            "(document)".into(),
            format!("a runner config is one YAML document, found {}", docs.len()),
        )]);
    };
    check_document(&source, doc)
}

/// Checks one `kind: RunnerConfig` document: inline secrets (refused with how to mount a
/// Secret), the schema, then the checks across fields; every problem with its place.
pub fn check_document(
    source: &Source,
    doc: &crate::playbook::tree::Node,
) -> Result<RunnerConfig, Vec<Diagnostic>> {
    let place = |(path, message): (Vec<crate::playbook::tree::PathSeg>, String)| {
        source.diagnostic(doc.locate(&path), &path, message)
    };
    let result = check_unmasked(source, doc, place);
    // Values under notifications.channels may be secrets written inline: never print them.
    result.map_err(|ds| {
        ds.into_iter()
            .map(crate::notify::config::mask)
            .map(crate::metrics::config::mask)
            .collect()
    })
}

fn check_unmasked(
    source: &Source,
    doc: &crate::playbook::tree::Node,
    place: impl Fn((Vec<crate::playbook::tree::PathSeg>, String)) -> Diagnostic,
) -> Result<RunnerConfig, Vec<Diagnostic>> {
    let refused: Vec<Diagnostic> = crate::notify::config::refused_inline(doc)
        .into_iter()
        .map(&place)
        .collect();
    match source.typed::<RunnerConfig>(&schema(), doc) {
        Ok(config) => {
            let mut problems = refused;
            problems.extend(config.notifications.problems().into_iter().map(&place));
            problems.extend(config.metrics.iter().flat_map(|m| m.problems()).map(&place));
            if problems.is_empty() {
                Ok(config)
            } else {
                Err(problems)
            }
        }
        Err(mut d) => {
            // The schema check calls a refused field unknown; the refusal says more.
            d.retain(|x| !refused.iter().any(|r| r.path == x.path));
            let mut all = refused;
            all.append(&mut d);
            all.sort_by_key(|x| (x.line, x.column));
            Err(all)
        }
    }
}

/// A runner config found among the files given to `rounds validate`.
pub type LoadedConfig = crate::playbook::LoadedConfig<RunnerConfig>;

/// Playbooks and runner configs among `paths`, each checked, for `rounds validate`.
pub fn load_with_playbooks(paths: &[PathBuf]) -> crate::playbook::Loading<RunnerConfig> {
    crate::playbook::load_all(paths, &[("RunnerConfig", &check_document)])
}
