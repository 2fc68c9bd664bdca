//! The Pushgateway's HTTP API as rounds uses it: PUT a group (replacing it) and read one
//! metric of the group back from `/api/v1/metrics`.

use super::auth::Credentials;
use super::config::GatewayUrl;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The `job` label of every group rounds pushes.
pub const JOB: &str = "rounds";
/// The most of `/api/v1/metrics` rounds reads (a shared gateway holds every job's groups).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// How much of an error answer goes into the report.
const MAX_ERROR: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot reach the Pushgateway at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the Pushgateway at {url} answered {what} with {status}: {detail}")]
    Status {
        url: String,
        what: String,
        status: u16,
        detail: String,
    },
    #[error("the Pushgateway at {url} answered {what} with something unreadable: {detail}")]
    Unreadable {
        url: String,
        what: String,
        detail: String,
    },
}

/// The grouping key: job `rounds`, the cluster and the shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub cluster: String,
    pub shard: String,
}

impl Group {
    /// `/metrics/job/rounds/cluster/<c>/shard/<s>`; a value that is empty or is not plain
    /// URL-safe text is written base64url-encoded (`cluster@base64/…`), as the gateway documents.
    pub fn path(&self) -> String {
        format!(
            "/metrics/job/{JOB}/{}/{}",
            segment("cluster", &self.cluster),
            segment("shard", &self.shard)
        )
    }

    fn labels(&self) -> BTreeMap<String, String> {
        [
            ("job", JOB),
            ("cluster", self.cluster.as_str()),
            ("shard", self.shard.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

fn segment(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if plain {
        format!("{name}/{value}")
    } else if value.is_empty() {
        // The gateway's spelling of an empty value.
        format!("{name}@base64/=")
    } else {
        format!(
            "{name}@base64/{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
        )
    }
}

pub struct Gateway {
    client: reqwest::Client,
    url: GatewayUrl,
    credentials: Credentials,
}

#[derive(Deserialize)]
struct ApiAnswer {
    status: String,
    #[serde(default)]
    data: Vec<ApiGroup>,
}

#[derive(Deserialize)]
struct ApiGroup {
    labels: BTreeMap<String, String>,
    #[serde(flatten)]
    families: BTreeMap<String, serde_json::Value>,
}

impl Gateway {
    pub fn new(
        url: GatewayUrl,
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<Self, GatewayError> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(crate::tls::client_config())
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| GatewayError::Unreachable {
                url: url.as_str().to_owned(),
                detail: e.without_url().to_string(),
            })?;
        Ok(Self {
            client,
            url,
            credentials,
        })
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Text without the credentials in it.
    pub fn scrub(&self, text: &str) -> String {
        self.credentials.scrub(text)
    }

    fn unreachable(&self, e: reqwest::Error) -> GatewayError {
        let detail = if e.is_timeout() {
            "no answer within the timeout".to_owned()
        } else {
            error_chain(&e.without_url())
        };
        GatewayError::Unreachable {
            url: self.url().to_owned(),
            detail,
        }
    }

    /// Replaces the group with `body` (Prometheus text format).
    pub async fn put(&self, group: &Group, body: String) -> Result<(), GatewayError> {
        let what = format!("PUT {}", group.path());
        let request = self
            .client
            .put(format!("{}{}", self.url(), group.path()))
            .header(reqwest::header::CONTENT_TYPE, super::families::CONTENT_TYPE)
            .body(body);
        let response = self
            .credentials
            .apply(request)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = read_limited(response, MAX_ERROR * 4)
            .await
            .unwrap_or_default();
        Err(self.status_error(what, status.as_u16(), &text))
    }

    /// The value of a gauge of the group, `None` when the gateway has no such group or metric.
    pub async fn read_gauge(&self, group: &Group, name: &str) -> Result<Option<f64>, GatewayError> {
        let what = "GET /api/v1/metrics".to_owned();
        let request = self.client.get(format!("{}/api/v1/metrics", self.url()));
        let response = self
            .credentials
            .apply(request)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let body =
            read_limited(response, MAX_BODY)
                .await
                .map_err(|detail| GatewayError::Unreadable {
                    url: self.url().to_owned(),
                    what: what.clone(),
                    detail,
                })?;
        if !status.is_success() {
            return Err(self.status_error(what, status.as_u16(), &body));
        }
        let unreadable = |detail: String| GatewayError::Unreadable {
            url: self.url().to_owned(),
            what: what.clone(),
            detail,
        };
        let answer: ApiAnswer =
            serde_json::from_str(&body).map_err(|e| unreadable(e.to_string()))?;
        if answer.status != "success" {
            return Err(unreadable(format!("status {}", answer.status)));
        }
        let labels = group.labels();
        let Some(found) = answer.data.into_iter().find(|g| g.labels == labels) else {
            return Ok(None);
        };
        let Some(family) = found.families.get(name) else {
            return Ok(None);
        };
        let value = family["metrics"][0]["value"]
            .as_str()
            .ok_or_else(|| unreadable(format!("{name} has no value")))?;
        value
            .parse::<f64>()
            .map(Some)
            .map_err(|e| unreadable(format!("{name} = {value:?}: {e}")))
    }

    fn status_error(&self, what: String, status: u16, body: &str) -> GatewayError {
        let detail = match status {
            401 | 403 => "the gateway refused rounds' credentials (check metrics.pushgateway.auth)"
                .to_owned(),
            _ => {
                let line = body.lines().next().unwrap_or("").trim();
                let mut line = line.to_owned();
                if line.len() > MAX_ERROR {
                    let mut cut = MAX_ERROR;
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    line.truncate(cut);
                    line.push('…');
                }
                if line.is_empty() {
                    "no details".to_owned()
                } else {
                    line
                }
            }
        };
        GatewayError::Status {
            url: self.url().to_owned(),
            what,
            status,
            detail,
        }
    }
}

/// The body, at most `limit` bytes: a bigger answer is an error, never a truncated document.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<String, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| error_chain(&e.without_url()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(format!("the answer is larger than {limit} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(cluster: &str, shard: &str) -> Group {
        Group {
            cluster: cluster.into(),
            shard: shard.into(),
        }
    }

    #[test]
    fn grouping_key_paths_encode_what_needs_it() {
        assert_eq!(
            group("prod-eu-1", "0").path(),
            "/metrics/job/rounds/cluster/prod-eu-1/shard/0"
        );
        assert_eq!(
            group("team/a", "").path(),
            "/metrics/job/rounds/cluster@base64/dGVhbS9h/shard@base64/="
        );
        assert_eq!(
            group("prod eu", "1").path(),
            "/metrics/job/rounds/cluster@base64/cHJvZCBldQ/shard/1"
        );
    }
}
