//! The `notifications` section of the runner config: channels, routes, tiers, timeouts.
//!
//! Checked like playbooks: the schema check reports every problem with `file:line:col`, then
//! [`NotifyConfig::problems`] checks what spans fields (route → channel names, regexes, secret
//! file names). Inline secrets and environment variables are refused before the schema check
//! with a message that says how to mount a Secret ([`refused_inline`]), never echoing the value.

use super::Tier;
use super::channels::Channel;
use crate::playbook::tree::{Node, NodeValue, PathSeg};
use crate::playbook::values::{Duration, Glob};
use crate::secrets::{HOW_TO_MOUNT, SecretFile};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotifyConfig {
    /// Where messages go, by name (a DNS label), e.g. `ops-slack: { slack: {...} }`.
    #[serde(default)]
    pub channels: BTreeMap<String, Channel>,
    /// Which findings go to which channels, tried in order; the first match wins unless it
    /// says `continue: true`.
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub tiers: Tiers,
    /// What `rounds run` does with notifications in dry-run mode.
    #[serde(default)]
    pub dry_run: DryRun,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default)]
    pub retries: Retries,
    #[serde(default)]
    pub inhibit: Inhibit,
    #[serde(default)]
    pub escalation: Escalation,
    /// Redaction of container log lines before they leave the cluster.
    #[serde(default)]
    pub redact: Redact,
    /// A link put in every message (a dashboard, the runbook index); must carry no secret.
    #[serde(default)]
    pub external_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Route {
    /// Part of the dedupe fingerprint: renaming a route notifies its findings anew.
    #[schemars(extend("format" = "dns-label"))]
    pub name: String,
    /// All given matchers must match; an empty `match` matches every finding.
    #[serde(default, rename = "match")]
    pub matchers: Matchers,
    /// Channels that get every group of this route.
    #[schemars(length(min = 1, max = 20))]
    pub channels: Vec<String>,
    /// A channel that gets a group when one of `channels` still fails after its retries.
    #[serde(default)]
    pub fallback: Option<String>,
    /// Go on to the next routes after this one matched.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    /// Send an unchanged group again after this long (default: by tier, see `tiers`).
    #[serde(default)]
    pub repeat_interval: Option<Duration>,
    /// One message per distinct value of these per round (default: per playbook); `[]` puts
    /// all of the route's findings in one message.
    #[serde(default = "default_group_by")]
    pub group_by: Vec<GroupBy>,
    /// Tell the channels when findings are gone (default true).
    #[serde(default = "yes")]
    pub send_resolved: bool,
}

fn default_group_by() -> Vec<GroupBy> {
    vec![GroupBy::Playbook]
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GroupBy {
    Playbook,
    Detector,
    Namespace,
    Tier,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Matchers {
    /// Playbook name globs.
    #[serde(default)]
    pub playbooks: Vec<Glob>,
    /// Detector names (oomKilled, ...).
    #[serde(default)]
    pub detectors: Vec<String>,
    /// Namespace globs; findings about cluster-scoped objects (nodes) have no namespace and do
    /// not match a namespace matcher.
    #[serde(default)]
    pub namespaces: Vec<Glob>,
    /// Tiers after raising (a failed remediation makes a warning critical).
    #[serde(default)]
    pub tiers: Vec<Tier>,
    /// Labels of the playbook (`metadata.labels`), all of which must be equal.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tiers {
    #[serde(default = "TierSettings::info")]
    pub info: TierSettings,
    #[serde(default = "TierSettings::warning")]
    pub warning: TierSettings,
    #[serde(default = "TierSettings::critical")]
    pub critical: TierSettings,
}

impl Default for Tiers {
    fn default() -> Self {
        Self {
            info: TierSettings::info(),
            warning: TierSettings::warning(),
            critical: TierSettings::critical(),
        }
    }
}

impl Tiers {
    pub fn get(&self, t: Tier) -> &TierSettings {
        match t {
            Tier::Info => &self.info,
            Tier::Warning => &self.warning,
            Tier::Critical => &self.critical,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierSettings {
    /// Send an unchanged group of this tier again after this long.
    pub repeat_interval: Duration,
}

impl TierSettings {
    fn info() -> Self {
        Self {
            repeat_interval: Duration::from_secs(24 * 3600),
        }
    }
    fn warning() -> Self {
        Self {
            repeat_interval: Duration::from_secs(4 * 3600),
        }
    }
    fn critical() -> Self {
        Self {
            repeat_interval: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DryRun {
    /// `deliver` (default): a dry-run round sends its messages, each marked as a dry run.
    /// `never`: it sends nothing and reports what it would have sent.
    #[serde(default)]
    pub notify: DryRunNotify,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DryRunNotify {
    #[default]
    Deliver,
    Never,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Timeouts {
    /// To open a connection (TCP and TLS), per attempt.
    #[serde(default = "default_connect")]
    pub connect: Duration,
    /// For everything one channel sends in a round, retries included (always cut to the
    /// round's deadline).
    #[serde(default = "default_total")]
    pub total: Duration,
}

fn default_connect() -> Duration {
    Duration::from_secs(5)
}
fn default_total() -> Duration {
    Duration::from_secs(30)
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: default_connect(),
            total: default_total(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Retries {
    /// Attempts per message, the first included. Only network errors, timeouts, 5xx and 429
    /// are retried.
    #[serde(default = "default_attempts")]
    #[schemars(range(min = 1, max = 10))]
    pub attempts: u32,
    /// The first backoff; it doubles, with jitter, up to `maxBackoff`.
    #[serde(default = "default_backoff")]
    pub backoff: Duration,
    #[serde(default = "default_max_backoff")]
    pub max_backoff: Duration,
}

fn default_attempts() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration(std::time::Duration::from_millis(500))
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(8)
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            attempts: default_attempts(),
            backoff: default_backoff(),
            max_backoff: default_max_backoff(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Inhibit {
    /// A critical finding about an object mutes its warning and info findings.
    #[serde(default = "yes")]
    pub critical_mutes_lower: bool,
    /// A NotReady node mutes the findings about pods on it.
    #[serde(default = "yes")]
    pub node_not_ready_mutes_pods: bool,
}

impl Default for Inhibit {
    fn default() -> Self {
        Self {
            critical_mutes_lower: true,
            node_not_ready_mutes_pods: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Escalation {
    /// A finding still there this many rounds after a remediation was applied to it is raised
    /// one tier (0 turns escalation off).
    #[serde(default = "default_escalate_after")]
    #[schemars(range(min = 0, max = 1000))]
    pub after_rounds: u32,
}

fn default_escalate_after() -> u32 {
    3
}

impl Default for Escalation {
    fn default() -> Self {
        Self {
            after_rounds: default_escalate_after(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Redact {
    /// Apply the built-in patterns (bearer tokens, passwords, API keys, private keys, JWTs,
    /// credentials in URLs).
    #[serde(default = "yes")]
    pub defaults: bool,
    /// More regular expressions; each match is replaced by `[redacted]`.
    #[serde(default)]
    pub patterns: Vec<String>,
}

impl Default for Redact {
    fn default() -> Self {
        Self {
            defaults: true,
            patterns: Vec::new(),
        }
    }
}

/// A config problem found after the schema check: the field path (under `notifications`) and
/// the message.
pub type Problem = (Vec<PathSeg>, String);

fn key(k: &str) -> PathSeg {
    PathSeg::Key(k.to_owned())
}

impl NotifyConfig {
    /// Checks across fields, each with its path from the document root.
    pub fn problems(&self) -> Vec<Problem> {
        let base = vec![key("notifications")];
        let mut out = Vec::new();
        for (name, channel) in &self.channels {
            let mut path = base.clone();
            path.extend([key("channels"), key(name)]);
            if let Err(m) = crate::playbook::values::check_format("dns-label", name) {
                out.push((path.clone(), format!("channel name: {m}")));
            }
            path.push(key(channel.kind()));
            for (field, file) in channel.imp().secret_files() {
                if let Some(m) = file.problem() {
                    let mut p = path.clone();
                    p.extend(field.split('.').map(key));
                    out.push((p, m));
                }
            }
            for (field, m) in channel.imp().problems() {
                let mut p = path.clone();
                p.extend(field.split('.').map(key));
                out.push((p, m));
            }
        }
        let mut names = BTreeSet::new();
        for (i, r) in self.routes.iter().enumerate() {
            let path = {
                let mut p = base.clone();
                p.extend([key("routes"), PathSeg::Index(i)]);
                p
            };
            let at = |field: &str| {
                let mut p = path.clone();
                p.push(key(field));
                p
            };
            if !names.insert(r.name.as_str()) {
                out.push((
                    at("name"),
                    format!("a route named `{}` is already defined", r.name),
                ));
            }
            for (j, c) in r.channels.iter().enumerate() {
                if !self.channels.contains_key(c) {
                    let mut p = at("channels");
                    p.push(PathSeg::Index(j));
                    out.push((p, self.unknown_channel(c)));
                }
            }
            if let Some(f) = &r.fallback {
                if !self.channels.contains_key(f) {
                    out.push((at("fallback"), self.unknown_channel(f)));
                } else if r.channels.contains(f) {
                    out.push((
                        at("fallback"),
                        format!("`{f}` is one of the route's channels; a fallback must be another channel"),
                    ));
                }
            }
            let known: Vec<&str> = crate::detect::Detector::CATALOG
                .iter()
                .map(|e| e.name)
                .collect();
            for (j, d) in r.matchers.detectors.iter().enumerate() {
                if !known.contains(&d.as_str()) {
                    let mut p = at("match");
                    p.extend([key("detectors"), PathSeg::Index(j)]);
                    out.push((
                        p,
                        format!(
                            "unknown detector `{d}`; expected one of: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        for (i, pattern) in self.redact.patterns.iter().enumerate() {
            if let Err(e) = regex::Regex::new(pattern) {
                let mut p = base.clone();
                p.extend([key("redact"), key("patterns"), PathSeg::Index(i)]);
                let first = e.to_string();
                let first = first.lines().last().unwrap_or("").trim().to_owned();
                out.push((p, format!("invalid regular expression: {first}")));
            }
        }
        if let Some(u) = &self.external_url
            && let Some(m) = url_problem(u)
        {
            let mut p = base.clone();
            p.push(key("externalUrl"));
            out.push((p, m));
        }
        out
    }

    fn unknown_channel(&self, name: &str) -> String {
        let known: Vec<&str> = self.channels.keys().map(String::as_str).collect();
        if known.is_empty() {
            format!("no channel is called `{name}`: `notifications.channels` defines none")
        } else {
            format!(
                "no channel is called `{name}`; defined: {}",
                known.join(", ")
            )
        }
    }

    /// Every secret file the config names, with the field that names it.
    pub fn secret_files(&self) -> Vec<(&SecretFile, String)> {
        let mut out = Vec::new();
        for (name, channel) in &self.channels {
            for (field, file) in channel.imp().secret_files() {
                out.push((
                    file,
                    format!("notifications.channels.{name}.{}.{field}", channel.kind()),
                ));
            }
        }
        out
    }

    pub fn repeat_interval(&self, route: &Route, tier: Tier) -> chrono::Duration {
        route
            .repeat_interval
            .unwrap_or(self.tiers.get(tier).repeat_interval)
            .chrono()
    }
}

/// A URL that may be written inline (a base URL): no user or password, no query string.
pub fn url_problem(u: &str) -> Option<String> {
    let Some((scheme, rest)) = u.split_once("://") else {
        return Some("expected an http:// or https:// URL".into());
    };
    if scheme != "http" && scheme != "https" {
        return Some("expected an http:// or https:// URL".into());
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') || rest.contains('?') || rest.contains('#') {
        return Some(format!(
            "a URL with credentials or a query string may carry a secret; {HOW_TO_MOUNT}"
        ));
    }
    if authority.is_empty() {
        return Some("the URL has no host".into());
    }
    None
}

/// Inline secrets and environment variables under `notifications.channels`, refused before the
/// schema check so that the message can say how to mount a Secret. The value is never quoted.
pub fn refused_inline(doc: &Node) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(channels) = doc.get("notifications").and_then(|n| n.get("channels")) else {
        return out;
    };
    let NodeValue::Map(entries) = &channels.value else {
        return out;
    };
    for (name, channel) in entries {
        let NodeValue::Map(kinds) = &channel.value else {
            continue;
        };
        for (kind, body) in kinds {
            let secret_fields = Channel::secret_fields_of(&kind.name);
            let path = vec![
                key("notifications"),
                key("channels"),
                key(&name.name),
                key(&kind.name),
            ];
            walk_inline(body, &path, "", secret_fields, &mut out);
        }
    }
    out
}

fn walk_inline(
    node: &Node,
    path: &[PathSeg],
    prefix: &str,
    secret_fields: &[&str],
    out: &mut Vec<Problem>,
) {
    let NodeValue::Map(entries) = &node.value else {
        return;
    };
    for (k, v) in entries {
        let dotted = format!("{prefix}{}", k.name);
        let mut p = path.to_vec();
        p.push(key(&k.name));
        let lower = k.name.to_ascii_lowercase();
        let with_file = format!("{dotted}File");
        if secret_fields.contains(&with_file.as_str()) {
            out.push((
                p,
                format!(
                    "`{}` would put a secret in the config, where everyone who can read it sees it; write `{}File: KEY` instead: {HOW_TO_MOUNT}",
                    k.name, k.name
                ),
            ));
        } else if lower.ends_with("env")
            || lower.ends_with("fromenv")
            || matches!(lower.as_str(), "valuefrom" | "secretkeyref" | "env")
        {
            out.push((
                p,
                format!(
                    "`{}`: secrets are never read from environment variables (they leak into `kubectl describe`, crash dumps and child processes); {HOW_TO_MOUNT}",
                    k.name
                ),
            ));
        } else if let NodeValue::Map(_) = v.value {
            walk_inline(v, &p, &format!("{dotted}."), secret_fields, out);
        }
    }
}

/// A diagnostic about a field under `notifications.channels` shows no value: neither in its
/// message (the schema check quotes strings it did not expect) nor in the source line.
pub fn mask(mut d: crate::playbook::Diagnostic) -> crate::playbook::Diagnostic {
    if !d.path.starts_with("notifications.channels") {
        return d;
    }
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"the string "(?:[^"\\]|\\.)*""#)
            .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
    });
    d.message = crate::secrets::redact::strip_urls(&QUOTED.replace_all(&d.message, "a string"));
    d.source_line = d.source_line.map(|line| match line.find(':') {
        Some(i) if !line[i + 1..].trim().is_empty() => {
            format!("{}: (value not shown)", &line[..i])
        }
        _ => line,
    });
    d
}
