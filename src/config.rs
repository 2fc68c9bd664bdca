//! The runner configuration (`kind: RunnerConfig`): how rounds runs in this cluster.

use crate::playbook::document::Source;
use crate::playbook::values::Glob;
use crate::playbook::{Diagnostic, spec::ApiVersion};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "RunnerConfig")]
pub struct RunnerConfig {
    pub api_version: ApiVersion,
    pub kind: RunnerConfigKind,
    /// dryRun (default) plans and reports; apply also makes the changes guards allow.
    #[serde(default)]
    pub mode: ConfigMode,
    /// Playbook files or directories, used when `--playbooks` is not given.
    #[serde(default)]
    pub playbooks: Vec<PathBuf>,
    /// Namespaces rounds never changes (globs). Default: kube-system.
    #[serde(default = "default_protected")]
    pub protected_namespaces: Vec<Glob>,
    /// Where mounted Secrets are read from.
    #[serde(default = "default_secrets_dir")]
    pub secrets_dir: PathBuf,
    /// Prometheus, for detectors with `source: prometheus`.
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
    /// The playbook lock to enforce (see `rounds lock`).
    #[serde(default)]
    pub lock: Option<crate::lock::config::LockConfig>,
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ConfigMode {
    #[default]
    DryRun,
    Apply,
}

fn default_protected() -> Vec<Glob> {
    vec![
        "kube-system"
            .parse()
            .unwrap_or_else(|_| unreachable!("valid glob")),
    ]
}

fn default_secrets_dir() -> PathBuf {
    PathBuf::from("/etc/rounds/secrets")
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            api_version: ApiVersion::V1alpha1,
            kind: RunnerConfigKind::RunnerConfig,
            mode: ConfigMode::DryRun,
            playbooks: Vec::new(),
            protected_namespaces: default_protected(),
            secrets_dir: default_secrets_dir(),
            prometheus: None,
            lock: None,
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
    source.typed(&schema(), doc)
}
