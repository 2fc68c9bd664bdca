//! API errors as users need to read them: what failed, why, and what to do.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot configure the Kubernetes client: {0}")]
    Config(String),
    #[error("cannot reach the Kubernetes API at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error(
        "TLS with the Kubernetes API at {url} failed: {detail}; check the cluster's CA certificate"
    )]
    Tls { url: String, detail: String },
    #[error(
        "the Kubernetes API refused rounds' credentials (401 Unauthorized): {message}; check the service account token or the kubeconfig user"
    )]
    Unauthorized { message: String },
    #[error(
        "rounds may not {verb} {resource}{scope} (403 Forbidden): grant `{verb}` on `{resource}` to rounds' service account in its Role or ClusterRole"
    )]
    Forbidden {
        verb: &'static str,
        resource: String,
        scope: String,
        message: String,
    },
    #[error("the Kubernetes API does not serve {resource} ({path} answered 404 Not Found)")]
    NotServed { resource: String, path: String },
    #[error("{what} did not finish within the round deadline of {}s{}", deadline.as_secs(), last.as_ref().map(|l| format!("; the last attempt failed: {l}")).unwrap_or_default())]
    Deadline {
        what: String,
        deadline: Duration,
        /// Why the attempts before the deadline failed, if they did.
        last: Option<String>,
    },
    #[error("{what}: the list's continue token expired (410 Gone)")]
    Expired {
        what: String,
        /// The server's token to go on from where the list stopped, if it gave one.
        continue_token: Option<String>,
    },
    /// An eviction the PodDisruptionBudget does not allow now (429 with a DisruptionBudget
    /// cause): a decision of the server, not a failure.
    #[error("{what}: {message}")]
    DisruptionBudget { what: String, message: String },
    #[error("{what} failed with {code} {reason}: {message}")]
    Status {
        what: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// A body longer than any page: endless, or not what was asked for. Not tried again.
    #[error(
        "the response to {what} went past {limit_mib} MiB and was not read further: no list page is that large"
    )]
    TooLarge { what: String, limit_mib: usize },
    #[error("{what} failed after {attempts} attempt(s): {last}")]
    GaveUp {
        what: String,
        attempts: u32,
        last: String,
    },
}

impl ApiError {
    /// Worth trying again within the deadline: throttling, server errors, cut connections.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Status { code, .. } => matches!(code, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// Whether a Status body is the Eviction API's "the budget does not allow it" answer.
pub fn is_disruption_budget(status: &serde_json::Value) -> bool {
    causes(status).any(|c| c["reason"] == "DisruptionBudget")
        || status["message"]
            .as_str()
            .is_some_and(|m| m.contains("disruption budget"))
}

/// The budget's own words ("The disruption budget web needs 2 healthy pods and has 2
/// currently"), else the Status message.
pub fn budget_message(status: &serde_json::Value) -> Option<String> {
    causes(status)
        .find(|c| c["reason"] == "DisruptionBudget")
        .and_then(|c| c["message"].as_str())
        .or_else(|| status["message"].as_str())
        .map(str::to_owned)
}

fn causes(status: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    status
        .pointer("/details/causes")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
}
