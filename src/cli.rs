//! Command-line interface. Raw arguments become validated options here, once.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rounds",
    version,
    about = "Scheduled, guarded remediation rounds through a Kubernetes cluster.",
    long_about = "rounds makes one remediation round and exits: it reads the cluster (or a snapshot \
of it), runs the detectors of the playbooks that are due, plans the exact requests its \
remediations would send, and reports. Dry-run is the default.\n\n\
Exit codes: 0 done; 1 invalid input or config; 2 could not run; 3 done, but an action or a \
notification failed, or the lock refused an action of an apply round.",
    after_help = "Examples:\n  rounds plan --snapshot tests/fixtures/demo-cluster --playbooks playbooks\n  \
rounds validate playbooks/\n  rounds explain oomKilled\n  rounds schema > playbook.schema.json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on stderr: text, or JSON with the run id on every line and the report last
    /// (what the CronJob sets, for `kubectl logs`).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "ROUNDS_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: crate::job::log::LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect and plan; never writes, never notifies.
    Plan(RoundArgs),
    /// Make a whole round: dry-run by default (every change sent with dryRun=All), --apply to
    /// make the changes every guard allows.
    Run(RunArgs),
    /// Check playbooks (and runner configs); print every error as file:line:col.
    Validate(ValidateArgs),
    /// Print the JSON Schema of playbooks (or of the runner config).
    Schema(SchemaArgs),
    /// Check that rounds can run here: config, API, every needed permission (with the RBAC rule
    /// to add), rounds' namespace, secrets and channels. Exit 0 only when all is well, 1 when the
    /// config, a playbook or a secret file is invalid, 2 when anything else is missing.
    Doctor(DoctorArgs),
    /// Explain a detector, action, guard or notification channel; without a name, list them all.
    Explain(ExplainArgs),
    /// Write playbooks.lock: the sha256 of each playbook and of the runner config.
    Lock(LockArgs),
    /// Check playbooks.lock against the files: name every file that differs, is missing or is new.
    VerifyLock(VerifyLockArgs),
    /// Compare the plans of two playbook sets (a pull request's base and head) on one read of
    /// the same cluster state.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct RoundArgs {
    /// Read cluster state from a snapshot instead of the API: what `kubectl get ... -o yaml|json`
    /// prints, multi-document YAML, or a directory of such files (repeatable; `-` is stdin).
    #[arg(long, value_name = "PATH")]
    pub snapshot: Vec<PathBuf>,
    /// The most bytes one object of a snapshot may span (a quantity: 16Mi).
    #[arg(long, value_name = "SIZE", default_value = "16Mi", value_parser = parse_size)]
    pub max_object_size: u64,
    /// The longest single value or line of a snapshot (a quantity: 4Mi).
    #[arg(long, value_name = "SIZE", default_value = "4Mi", value_parser = parse_size)]
    pub max_token_size: u64,
    /// Playbook files or directories (repeatable). Default: the runner config's `playbooks`,
    /// else /etc/rounds/playbooks.
    #[arg(long, value_name = "PATH")]
    pub playbooks: Vec<PathBuf>,
    /// Runner config file (kind: RunnerConfig).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Reference time for every time window, as RFC 3339 (default: now). Makes a plan reproducible.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Output format. Default: text on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
    /// Kubeconfig file for operators. Without it (and without --snapshot) rounds uses the
    /// in-cluster service account when KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long, value_name = "NAME", conflicts_with = "snapshot")]
    pub context: Option<String>,
    /// Objects per list page against the API.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,
    /// The round's deadline: no action starts after it (default: the runner config's
    /// `job.deadline`, 200s). Notifications, the ledger and the report then get
    /// `job.flushTimeout` (25s); keep both below the Job's activeDeadlineSeconds.
    #[arg(long, value_parser = parse_duration)]
    pub deadline: Option<std::time::Duration>,
    /// Prometheus base URL for detectors with `source: prometheus` (overrides the config).
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// A ledger file for a snapshot round (the JSON of the ledger ConfigMap's ledger.json), so
    /// cooldowns are checked; read only.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Only the playbooks with these names (comma-separated or repeated), e.g. for a manual run.
    #[arg(long, value_name = "NAME", env = "ROUNDS_ONLY", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Client-side limit on API requests per second.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub qps: u32,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let q: crate::playbook::values::Quantity = s.parse()?;
    if q.value() < 1.0 {
        return Err(format!("{s:?} is less than one byte"));
    }
    Ok(q.value() as u64)
}

impl RoundArgs {
    pub fn snapshot_limits(&self) -> crate::inventory::snapshot::Limits {
        crate::inventory::snapshot::Limits {
            max_object_bytes: self.max_object_size,
            max_token_bytes: self.max_token_size,
        }
    }
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<crate::playbook::values::Duration>().map(|d| d.0)
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub round: RoundArgs,
    /// Make the changes that every guard allows (default: dry-run).
    #[arg(long)]
    pub apply: bool,
    /// Dry-run even with --apply or `mode: apply` in the runner config (e.g. a manual run).
    #[arg(
        long,
        env = "ROUNDS_DRY_RUN",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub round: RoundArgs,
    /// Check what `rounds run --apply` needs (default: the runner config's mode).
    #[arg(long)]
    pub apply: bool,
    /// How long each notification channel may take to accept a connection.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub channel_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories to check: playbooks, and runner configs (kind: RunnerConfig), which
    /// are checked together with the playbooks given with them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format: text for people, json for tools, github for GitHub Actions annotations.
    #[arg(long, value_enum, default_value = "text")]
    pub output: ValidateOutput,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateOutput {
    Text,
    Json,
    /// `::error file=…,line=…,col=…::message` workflow commands.
    Github,
}

/// What `lock` writes and `verify-lock` checks: the same three arguments for both.
#[derive(Debug, Args)]
pub struct LockFiles {
    /// Playbook files or directories. Default: the paths recorded in the lock.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The runner config locked with them. Default: the one recorded in the lock.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The lock file.
    #[arg(long, value_name = "FILE", default_value = crate::lock::DEFAULT_FILE)]
    pub lock: PathBuf,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    #[command(flatten)]
    pub files: LockFiles,
}

#[derive(Debug, Args)]
pub struct VerifyLockArgs {
    #[command(flatten)]
    pub files: LockFiles,
    /// Output format; github prints an Actions annotation per file.
    #[arg(long, value_enum, default_value = "text")]
    pub output: ValidateOutput,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The playbooks before the change (files or directories, repeatable). A path that does
    /// not exist is an empty set (a pull request that adds the first playbooks).
    #[arg(long, value_name = "PATH", required = true)]
    pub base: Vec<PathBuf>,
    /// The playbooks after the change (repeatable).
    #[arg(long, value_name = "PATH", required = true)]
    pub head: Vec<PathBuf>,
    /// Cluster state from a snapshot (repeatable), as for `rounds plan`.
    #[arg(long, value_name = "PATH", required_unless_present = "kubeconfig")]
    pub snapshot: Vec<PathBuf>,
    /// The most bytes one object of a snapshot may span (a quantity: 16Mi).
    #[arg(long, value_name = "SIZE", default_value = "16Mi", value_parser = parse_size)]
    pub max_object_size: u64,
    /// The longest single value or line of a snapshot (a quantity: 4Mi).
    #[arg(long, value_name = "SIZE", default_value = "4Mi", value_parser = parse_size)]
    pub max_token_size: u64,
    /// Cluster state from the API server of this kubeconfig.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use.
    #[arg(long, value_name = "NAME", conflicts_with = "snapshot")]
    pub context: Option<String>,
    /// Reference time for every time window, as RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// text for a terminal, json for tools, markdown for a pull-request comment.
    #[arg(long, value_enum, default_value = "text")]
    pub output: DiffOutput,
    /// Prometheus base URL for detectors with `source: prometheus`.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Objects per list page against the API.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,
    /// Everything asked of the API must finish within this.
    #[arg(long, default_value = "4m", value_parser = parse_duration)]
    pub deadline: std::time::Duration,
    /// Client-side limit on API requests per second.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub qps: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffOutput {
    Text,
    Json,
    /// A pull-request comment (GitHub-flavoured Markdown, within 65,536 characters).
    Markdown,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which document's schema.
    #[arg(long, value_enum, default_value = "playbook")]
    pub kind: SchemaKind,
    /// JSON Schema dialect. draft-07 is what editors read (yaml-language-server in VS Code,
    /// Neovim and Helix; JetBrains IDEs); 2020-12 is what `rounds validate` checks against.
    #[arg(long, value_enum, default_value = "draft-07")]
    pub draft: SchemaDraft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaDraft {
    #[value(name = "draft-07")]
    Draft07,
    #[value(name = "2020-12")]
    Draft2020_12,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A detector (oomKilled, ...), an action (raiseMemoryLimit, ...), a guard (cooldown, ...)
    /// or a notification channel (slack, ...).
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Playbook,
    Config,
    /// playbooks.lock
    Lock,
}
