//! The runner config's `metrics` section: where rounds pushes its metrics at the end of a round.
//!
//! ```yaml
//! metrics:
//!   pushgateway:
//!     url: http://pushgateway.monitoring:9091
//!     cluster: prod-eu-1
//!     interval: 5m          # the CronJob's schedule; the "not succeeding" alert uses it
//!     timeout: 10s
//!     auth:
//!       basic: { username: rounds, passwordFile: pushgateway-password }
//!       # or: bearer: { tokenFile: pushgateway-token }
//! ```

use crate::playbook::Diagnostic;
use crate::playbook::tree::PathSeg;
use crate::playbook::values::Duration;
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;

/// Default time for each request to the gateway.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The schedule of the shipped CronJob (`*/5 * * * *`).
pub const DEFAULT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsConfig {
    /// Push the round's metrics to a Prometheus Pushgateway at the end of every round.
    #[serde(default)]
    pub pushgateway: Option<PushgatewayConfig>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PushgatewayConfig {
    /// Base URL of the Pushgateway, e.g. http://pushgateway.monitoring:9091 (no credentials:
    /// they come from `auth`).
    #[schemars(extend("format" = "uri"))]
    pub url: String,
    /// This cluster's name: the `cluster` label of the pushed group.
    pub cluster: String,
    /// How often rounds runs (the CronJob's schedule), exported as `rounds_interval_seconds`
    /// so one alert rule fits every cluster. Default 5m.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Time for each request to the gateway. Default 10s.
    #[serde(default)]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub auth: Option<PushAuth>,
}

impl PushgatewayConfig {
    pub fn gateway_url(&self) -> Result<GatewayUrl, String> {
        self.url.parse()
    }
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0)
    }

    pub fn interval(&self) -> std::time::Duration {
        self.interval.map_or(DEFAULT_INTERVAL, |d| d.0)
    }
}

/// How rounds authenticates to the gateway; every secret is a file under the secrets directory.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum PushAuth {
    /// HTTP basic auth (the Pushgateway's own `--web.config.file` basic_auth_users).
    Basic(BasicAuth),
    /// `Authorization: Bearer …` (for a gateway behind an authenticating proxy).
    Bearer(BearerAuth),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BasicAuth {
    pub username: String,
    /// File under the secrets directory holding the password.
    pub password_file: SecretFile,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BearerAuth {
    /// File under the secrets directory holding the token.
    pub token_file: SecretFile,
}

/// An http(s) URL without credentials, query or fragment, kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayUrl(String);

impl GatewayUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for GatewayUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let url = reqwest::Url::parse(s.trim())
            .map_err(|e| format!("invalid Pushgateway URL {s:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the Pushgateway URL must be http or https, found {}:",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // Never echo the URL: it holds a secret.
            return Err(
                "the Pushgateway URL must not hold credentials: use auth.basic.passwordFile or \
                 auth.bearer.tokenFile"
                    .into(),
            );
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "the Pushgateway URL {s:?} must not have a query or fragment"
            ));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }
}

/// A config problem found after the schema check: its path and the message.
pub type Problem = (Vec<PathSeg>, String);

fn path(fields: &[&str]) -> Vec<PathSeg> {
    fields
        .iter()
        .map(|f| PathSeg::Key((*f).to_owned()))
        .collect()
}

impl MetricsConfig {
    /// Checks the schema cannot make, each at its field.
    pub fn problems(&self) -> Vec<Problem> {
        let Some(gw) = &self.pushgateway else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Err(m) = gw.gateway_url() {
            out.push((path(&["metrics", "pushgateway", "url"]), m));
        }
        if gw.cluster.trim().is_empty() {
            out.push((
                path(&["metrics", "pushgateway", "cluster"]),
                "must name this cluster: it is the `cluster` label of the pushed group".into(),
            ));
        }
        let file = match &gw.auth {
            Some(PushAuth::Basic(b)) => Some((&b.password_file, ["basic", "passwordFile"])),
            Some(PushAuth::Bearer(b)) => Some((&b.token_file, ["bearer", "tokenFile"])),
            None => None,
        };
        if let Some((file, [kind, field])) = file
            && let Some(m) = file.problem()
        {
            out.push((path(&["metrics", "pushgateway", "auth", kind, field]), m));
        }
        out
    }
}

/// A diagnostic about the gateway's URL or credentials shows no value in its source line: a
/// URL may carry a password, and a `*File` field may hold a secret pasted inline.
pub fn mask(mut d: Diagnostic) -> Diagnostic {
    if d.path == "metrics.pushgateway.url" || d.path.starts_with("metrics.pushgateway.auth") {
        d.source_line = d.source_line.map(|line| match line.find(':') {
            Some(i) if !line[i + 1..].trim().is_empty() => {
                format!("{}: (value not shown)", &line[..i])
            }
            _ => line,
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_without_credentials() {
        assert_eq!(
            "http://gw.monitoring:9091/"
                .parse::<GatewayUrl>()
                .map(|u| u.0),
            Ok("http://gw.monitoring:9091".to_owned())
        );
        assert_eq!(
            "https://gw/prefix".parse::<GatewayUrl>().map(|u| u.0),
            Ok("https://gw/prefix".to_owned())
        );
        let err = "http://rounds:hunter2@gw:9091"
            .parse::<GatewayUrl>()
            .unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("auth.basic.passwordFile"), "{err}");
        assert!(
            "ftp://gw"
                .parse::<GatewayUrl>()
                .unwrap_err()
                .contains("http or https")
        );
        assert!("gw:9091".parse::<GatewayUrl>().is_err());
        assert!("http://gw/?a=b".parse::<GatewayUrl>().is_err());
    }

    #[test]
    fn a_config_reads_with_defaults() {
        let config: MetricsConfig = serde_json::from_value(serde_json::json!({
            "pushgateway": {
                "url": "http://gw:9091",
                "cluster": "prod",
                "auth": {"basic": {"username": "rounds", "passwordFile": "gw-password"}}
            }
        }))
        .expect("config");
        let gw = config.pushgateway.expect("pushgateway");
        assert_eq!(gw.timeout(), DEFAULT_TIMEOUT);
        assert_eq!(gw.interval(), DEFAULT_INTERVAL);
        assert!(
            matches!(gw.auth, Some(PushAuth::Basic(BasicAuth { ref username, .. })) if username == "rounds")
        );
        let both = serde_json::from_value::<MetricsConfig>(serde_json::json!({
            "pushgateway": {
                "url": "http://gw:9091",
                "cluster": "prod",
                "auth": {"basic": {"username": "u", "passwordFile": "p"}, "bearer": {"tokenFile": "t"}}
            }
        }));
        assert!(both.is_err(), "one kind of auth at a time");
    }
}
