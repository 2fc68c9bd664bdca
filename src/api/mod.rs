//! The one way rounds talks to the Kubernetes API: rate-limited, counted, retried on
//! throttling and server errors within the round deadline, with errors a user can act on.

pub mod body;
pub mod connect;
pub mod error;
pub mod request;
pub mod resource;

pub use connect::ConnectOptions;
pub use error::ApiError;
pub use request::Request as WriteRequest;
pub use resource::{ObjectRef, Resource};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::{Method, Request, StatusCode};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// What a request is for, to name the missing permission in a 403.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    pub verb: &'static str,
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
}

impl<'a> Operation<'a> {
    pub fn new(verb: &'static str, resource: &'a str, namespace: Option<&'a str>) -> Self {
        Self {
            verb,
            resource,
            namespace,
        }
    }
}

/// How many requests a round made, by method and status (`None`: no response came), for the
/// log and the metrics. Counts, not a log of each: a 100,000-pod round makes 7,577 requests,
/// and their paths were 1.2 MB held to the end for these few numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    counts: Vec<(Method, Option<u16>, u64)>,
}

impl RequestCounts {
    pub fn add(&mut self, method: &Method, status: Option<u16>) {
        match self
            .counts
            .iter_mut()
            .find(|(m, s, _)| m == method && *s == status)
        {
            Some((_, _, n)) => *n += 1,
            None => self.counts.push((method.clone(), status, 1)),
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, _, n)| n).sum()
    }

    /// (method, status, requests), in the order first made.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<u16>, u64)> {
        self.counts.iter().map(|(m, s, n)| (m.as_str(), *s, *n))
    }
}

/// An answer to a write: its status and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

pub struct Api {
    client: kube::Client,
    /// The namespace of the kubeconfig context, or of the service account in a pod.
    default_namespace: String,
    in_cluster: bool,
    url: String,
    limiter: DefaultDirectRateLimiter,
    started: Instant,
    deadline: Duration,
    /// Writes may go on this long after the deadline: the action in flight, and the flush of
    /// the ledger and the Lease once the round stopped acting. Reads end at the deadline.
    flush: Duration,
    log: Mutex<RequestCounts>,
    retries: std::sync::atomic::AtomicU64,
}

/// Which failures a request retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Throttling, server errors and cut connections, until the round deadline.
    UntilDeadline,
    /// Throttling and cut connections only.
    OnlyThrottling,
    /// Throttling only: a write whose connection was cut may have been applied, so it is not
    /// sent again blindly (the caller reads the target and decides).
    Never,
}

impl Retry {
    fn retries(self, e: &ApiError) -> bool {
        match self {
            Self::UntilDeadline => true,
            Self::OnlyThrottling => !matches!(e, ApiError::Status { code, .. } if *code != 429),
            Self::Never => matches!(e, ApiError::Status { code: 429, .. }),
        }
    }
}

fn not_found_is_none(result: Result<String, ApiError>) -> Result<Option<String>, ApiError> {
    match result {
        Ok(text) => Ok(Some(text)),
        Err(ApiError::NotServed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Backoff for transient failures: doubles from 200ms up to 5s.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MAX_ATTEMPTS: u32 = 6;

impl Api {
    pub fn new(
        client: kube::Client,
        url: String,
        qps: u32,
        burst: u32,
        deadline: Duration,
    ) -> Self {
        let default_namespace = client.default_namespace().to_owned();
        let qps = NonZeroU32::new(qps.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            client,
            default_namespace,
            in_cluster: false,
            url,
            limiter: RateLimiter::direct(Quota::per_second(qps).allow_burst(burst)),
            started: Instant::now(),
            deadline,
            flush: Duration::ZERO,
            log: Mutex::new(RequestCounts::default()),
            retries: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Lets writes go on for `flush` after the deadline (see the field).
    pub fn with_flush(mut self, flush: Duration) -> Self {
        self.flush = flush;
        self
    }

    /// How long requests of this kind may take from the start: writes get the flush too.
    fn budget(&self, retry: Retry) -> Duration {
        match retry {
            Retry::Never => self.deadline + self.flush,
            Retry::UntilDeadline | Retry::OnlyThrottling => self.deadline,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The namespace rounds runs in when it runs in a pod (its service account's).
    pub fn pod_namespace(&self) -> Option<&str> {
        self.in_cluster.then_some(self.default_namespace.as_str())
    }

    pub(crate) fn set_in_cluster(&mut self, in_cluster: bool) {
        self.in_cluster = in_cluster;
    }

    /// Time left before the round deadline.
    pub fn time_left(&self) -> Duration {
        self.remaining()
    }

    /// The requests made so far.
    pub fn requests(&self) -> RequestCounts {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// How many requests were retried (for rounds' metrics).
    pub fn retries(&self) -> u64 {
        self.retries.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn remaining(&self) -> Duration {
        self.deadline.saturating_sub(self.started.elapsed())
    }

    fn record(&self, method: &Method, status: Option<u16>) {
        if let Ok(mut log) = self.log.lock() {
            log.add(method, status);
        }
    }

    /// GET a path; `Ok(None)` when it answers 404 (the object does not exist).
    pub async fn get(&self, path: &str, op: Operation<'_>) -> Result<Option<String>, ApiError> {
        not_found_is_none(self.get_with(path, op, Retry::UntilDeadline).await)
    }

    /// GET evidence that a round can do without (kubelet summaries, logs, Events): throttling
    /// and cut connections are retried, but a server error answers at once, so a cluster with
    /// many unreachable kubelets cannot spend the round's deadline on them.
    pub async fn get_evidence(
        &self,
        path: &str,
        op: Operation<'_>,
    ) -> Result<Option<String>, ApiError> {
        not_found_is_none(self.get_with(path, op, Retry::OnlyThrottling).await)
    }

    /// GET a collection path that must exist.
    pub async fn list(&self, path: &str, op: Operation<'_>) -> Result<String, ApiError> {
        self.get_with(path, op, Retry::UntilDeadline).await
    }

    /// A GET, rate-limited and retried as `retry` says, within the round deadline.
    async fn get_with(
        &self,
        path: &str,
        op: Operation<'_>,
        retry: Retry,
    ) -> Result<String, ApiError> {
        self.exchange(Method::GET, path, None, None, op, retry)
            .await
            .map(|r| r.body)
    }

    /// Sends a write (or a dry run of one). Only throttling is retried: a write whose answer
    /// was lost may have been applied.
    pub async fn send(&self, req: &WriteRequest) -> Result<Response, ApiError> {
        let resource = req.rbac_resource();
        let op = Operation::new(req.verb().rbac(), &resource, req.target().namespace());
        let body = req.body_text().map(|b| b.as_bytes().to_vec());
        self.exchange(
            req.method().clone(),
            req.path(),
            req.content_type().map(|c| c.as_str()),
            body,
            op,
            Retry::Never,
        )
        .await
    }

    /// One request, rate-limited and retried as `retry` says, within the round deadline.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        op: Operation<'_>,
        retry: Retry,
    ) -> Result<Response, ApiError> {
        let what = format!("{method} {path}");
        let budget = self.budget(retry);
        let remaining = || budget.saturating_sub(self.started.elapsed());
        let mut backoff = FIRST_BACKOFF;
        let mut last = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                self.retries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let deadline_hit = |last: &str| ApiError::Deadline {
                what: what.clone(),
                deadline: budget,
                last: (!last.is_empty()).then(|| last.to_owned()),
            };
            if tokio::time::timeout(remaining(), self.limiter.until_ready())
                .await
                .is_err()
            {
                return Err(deadline_hit(&last));
            }
            let mut builder = Request::builder().method(method.clone()).uri(path);
            if let Some(ct) = content_type {
                builder = builder.header(http::header::CONTENT_TYPE, ct);
            }
            let req = builder
                .body(match &body {
                    Some(b) => kube::client::Body::from(b.clone()),
                    None => kube::client::Body::empty(),
                })
                .map_err(|e| ApiError::Config(format!("bad request {what}: {e}")))?;
            let outcome =
                match tokio::time::timeout(remaining(), self.attempt(req, path, &what, op)).await {
                    Ok(o) => o,
                    Err(_) => return Err(deadline_hit(&last)),
                };
            let wait = match outcome {
                Ok((status, text)) => {
                    self.record(&method, Some(status));
                    return Ok(Response { status, body: text });
                }
                Err((status, e)) => {
                    self.record(&method, status);
                    if !e.is_transient() || !retry.retries(&e) {
                        return Err(e);
                    }
                    // The last attempt: give up now rather than wait for an attempt never made.
                    if attempt == MAX_ATTEMPTS {
                        last = e.to_string();
                        break;
                    }
                    tracing::warn!(request = %what, attempt, error = %e, "Retrying a failed request.");
                    last = e.to_string();
                    match e {
                        ApiError::Status { code: 429, .. } => None,
                        _ => Some(backoff),
                    }
                }
            };
            let wait = wait.unwrap_or(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if wait >= remaining() {
                return Err(deadline_hit(&last));
            }
            tokio::time::sleep(wait).await;
        }
        Err(ApiError::GaveUp {
            what,
            attempts: MAX_ATTEMPTS,
            last,
        })
    }

    /// One try: the response body on success, else the status (if any) and the error.
    async fn attempt(
        &self,
        req: Request<kube::client::Body>,
        path: &str,
        what: &str,
        op: Operation<'_>,
    ) -> Result<(u16, String), (Option<u16>, ApiError)> {
        let response = self
            .client
            .send(req)
            .await
            .map_err(|e| (None, self.transport_error(e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let expected = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let bytes = match body::read(response.into_body(), expected, body::LIMIT).await {
            Ok(b) => b,
            // A connection cut while the body streams: nothing of it was used, so try again.
            Err(body::BodyError::Cut(e)) => {
                return Err((
                    Some(status.as_u16()),
                    ApiError::Unreachable {
                        url: self.url.clone(),
                        detail: format!("the response to {what} was cut off: {e}"),
                    },
                ));
            }
            Err(body::BodyError::TooLarge { limit }) => {
                return Err((
                    Some(status.as_u16()),
                    ApiError::TooLarge {
                        what: what.to_owned(),
                        limit_mib: limit >> 20,
                    },
                ));
            }
        };
        // A list page is megabytes: taken over as it is when it is UTF-8, not copied.
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if status.is_success() {
            return Ok((status.as_u16(), text));
        }
        let code = status.as_u16();
        let status_body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let message = status_body["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text.chars().take(200).collect());
        let reason = status_body["reason"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
        let err = match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized { message },
            StatusCode::FORBIDDEN => ApiError::Forbidden {
                verb: op.verb,
                resource: op.resource.to_owned(),
                scope: match op.namespace {
                    Some(ns) => format!(" in namespace {ns}"),
                    None => " at the cluster scope".to_owned(),
                },
                message,
            },
            StatusCode::NOT_FOUND => ApiError::NotServed {
                resource: op.resource.to_owned(),
                path: path.to_owned(),
            },
            StatusCode::GONE => ApiError::Expired {
                what: what.to_owned(),
                continue_token: status_body
                    .pointer("/metadata/continue")
                    .and_then(|v| v.as_str())
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            },
            _ if code == 429 && error::is_disruption_budget(&status_body) => {
                ApiError::DisruptionBudget {
                    what: what.to_owned(),
                    message: error::budget_message(&status_body).unwrap_or(message),
                }
            }
            _ => {
                if code == 429
                    && let Some(secs) = retry_after
                {
                    // Honour the server's Retry-After before the next attempt.
                    let wait = Duration::from_secs(secs).min(self.remaining());
                    tokio::time::sleep(wait).await;
                }
                ApiError::Status {
                    what: what.to_owned(),
                    code,
                    reason,
                    message,
                }
            }
        };
        Err((Some(code), err))
    }

    fn transport_error(&self, e: kube::Error) -> ApiError {
        // The root cause says it best ("Connection refused", "invalid peer certificate");
        // the layers above it repeat "client error (Connect)".
        let mut root: &dyn std::error::Error = &e;
        while let Some(s) = root.source() {
            root = s;
        }
        let detail = root.to_string();
        let lower = format!("{e} {detail}").to_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            ApiError::Tls {
                url: self.url.clone(),
                detail,
            }
        } else {
            ApiError::Unreachable {
                url: self.url.clone(),
                detail,
            }
        }
    }
}
