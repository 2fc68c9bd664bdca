//! Scripted faults: rules matched by method and path that answer an error status (optionally
//! with `Retry-After`), delay the answer, or drop the connection in the middle of a list.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::status::ApiError;

/// A fault rule; every given matcher must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method (`GET`, `PATCH`, ...), any if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Prefix of the path (without the query), any if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Regular expression searched in the path with its query (`/api/v1/pods?limit=2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<String>,
    /// Only the nth matching request (1-based) is faulted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// At most this many requests are faulted (then the rule is spent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// What happens.
    pub action: FaultAction,
}

/// What a fault does. A delay combines with the other two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultAction {
    /// Answer this HTTP status with a `Status` body instead of serving the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds to send with `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// The `message` of the `Status` body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wait this long before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Send the headers and this many items of a list page (or half of any other body), then
    /// close the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_after_items: Option<usize>,
}

impl FaultRule {
    /// A rule for requests with this method whose path starts with `path_prefix`.
    pub fn new(method: &str, path_prefix: &str, action: FaultAction) -> Self {
        Self {
            method: Some(method.to_string()),
            path_prefix: Some(path_prefix.to_string()),
            action,
            ..Self::default()
        }
    }

    /// Limits the rule to the first `times` matching requests.
    pub fn times(mut self, times: u64) -> Self {
        self.times = Some(times);
        self
    }

    /// Limits the rule to the nth matching request (1-based).
    pub fn nth(mut self, nth: u64) -> Self {
        self.nth = Some(nth);
        self
    }
}

impl FaultAction {
    /// Answer `code` with a `Status` body.
    pub fn status(code: u16) -> Self {
        Self {
            status: Some(code),
            ..Self::default()
        }
    }

    /// Answer 429 with `Retry-After: seconds`.
    pub fn too_many_requests(seconds: u64) -> Self {
        Self {
            status: Some(429),
            retry_after_seconds: Some(seconds),
            ..Self::default()
        }
    }

    /// Wait before answering normally.
    pub fn delay(ms: u64) -> Self {
        Self {
            delay_ms: Some(ms),
            ..Self::default()
        }
    }

    /// Drop the connection after `items` items of a list page.
    pub fn drop_after_items(items: usize) -> Self {
        Self {
            drop_after_items: Some(items),
            ..Self::default()
        }
    }
}

/// A fault file or rule that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// `pathRegex` is not a valid regular expression.
    #[error("invalid pathRegex {pattern:?}: {source}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        source: regex::Error,
    },
    /// The fault file cannot be read.
    #[error("cannot read fault file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The fault file is not a list of rules.
    #[error("invalid fault file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
}

/// The faults that fire for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FiredFault {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Answer this error instead of serving the request.
    pub error: Option<ApiError>,
    /// Drop the connection after this many list items.
    pub drop_after_items: Option<usize>,
}

#[derive(Debug)]
struct ActiveRule {
    rule: FaultRule,
    regex: Option<Regex>,
    seen: u64,
    fired: u64,
}

/// The fault rules of a server, changeable while it runs.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<ActiveRule>>,
}

impl Faults {
    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) -> Result<(), FaultError> {
        let regex = match &rule.path_regex {
            Some(pattern) => Some(Regex::new(pattern).map_err(|source| FaultError::Regex {
                pattern: pattern.clone(),
                source,
            })?),
            None => None,
        };
        self.lock().push(ActiveRule {
            rule,
            regex,
            seen: 0,
            fired: 0,
        });
        Ok(())
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many times each rule fired so far, in the order they were added.
    pub fn fired_counts(&self) -> Vec<u64> {
        self.lock().iter().map(|r| r.fired).collect()
    }

    /// Reads rules from a YAML or JSON file holding a list of rules.
    pub fn load_file(&self, path: &Path) -> Result<usize, FaultError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FaultError::Read {
            path: shown.clone(),
            source,
        })?;
        let rules: Vec<FaultRule> =
            serde_saphyr::from_str(&text).map_err(|e| FaultError::Parse {
                path: shown,
                message: e.to_string(),
            })?;
        let count = rules.len();
        for rule in rules {
            self.add(rule)?;
        }
        Ok(count)
    }

    /// The faults that fire for a request; counts it against every matching rule.
    pub fn evaluate(&self, method: &str, path: &str, path_and_query: &str) -> FiredFault {
        let mut fired = FiredFault::default();
        for active in self.lock().iter_mut() {
            let rule = &active.rule;
            let matches = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && rule
                    .path_prefix
                    .as_deref()
                    .is_none_or(|p| path.starts_with(p))
                && active
                    .regex
                    .as_ref()
                    .is_none_or(|r| r.is_match(path_and_query));
            if !matches {
                continue;
            }
            active.seen += 1;
            if rule.nth.is_some_and(|n| n != active.seen)
                || rule.times.is_some_and(|t| active.fired >= t)
            {
                continue;
            }
            active.fired += 1;
            let action = &rule.action;
            if let Some(ms) = action.delay_ms {
                let total = fired.delay.unwrap_or_default() + Duration::from_millis(ms);
                fired.delay = Some(total);
            }
            if fired.error.is_none()
                && let Some(code) = action.status
            {
                let message = action
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("injected fault: HTTP {code}"));
                let mut error = ApiError::new(code, reason_for(code), message);
                if let Some(seconds) = action.retry_after_seconds {
                    error = error.with_retry_after(seconds);
                }
                fired.error = Some(error);
            }
            if fired.drop_after_items.is_none() {
                fired.drop_after_items = action.drop_after_items;
            }
        }
        fired
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ActiveRule>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The `reason` the real server uses for a status code.
fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_limited_and_nth_rules() {
        let faults = Faults::default();
        faults
            .add(FaultRule::new("GET", "/api/v1/pods", FaultAction::status(500)).times(2))
            .expect("add");
        let codes: Vec<Option<u16>> = (0..3)
            .map(|_| {
                faults
                    .evaluate("GET", "/api/v1/pods", "/api/v1/pods")
                    .error
                    .map(|e| e.code)
            })
            .collect();
        assert_eq!(codes, [Some(500), Some(500), None]);
        faults.clear();
        faults
            .add(FaultRule::new("GET", "/api", FaultAction::too_many_requests(3)).nth(2))
            .expect("add");
        assert!(faults.evaluate("GET", "/api", "/api").error.is_none());
        let second = faults.evaluate("GET", "/api", "/api").error.expect("fires");
        assert_eq!((second.code, second.retry_after), (429, Some(3)));
        assert!(faults.evaluate("GET", "/api", "/api").error.is_none());
        assert!(faults.evaluate("POST", "/api", "/api").error.is_none());
    }

    #[test]
    fn regex_matches_query_and_rules_parse_from_yaml() {
        let rules: Vec<FaultRule> = serde_saphyr::from_str(
            "- pathRegex: 'limit=2'\n  action: { dropAfterItems: 1, delayMs: 5 }\n",
        )
        .expect("yaml");
        let faults = Faults::default();
        for rule in rules {
            faults.add(rule).expect("add");
        }
        assert_eq!(
            faults
                .evaluate("GET", "/api/v1/pods", "/api/v1/pods")
                .drop_after_items,
            None
        );
        let fired = faults.evaluate("GET", "/api/v1/pods", "/api/v1/pods?limit=2");
        assert_eq!(fired.drop_after_items, Some(1));
        assert_eq!(fired.delay, Some(Duration::from_millis(5)));
        let bad = FaultRule {
            path_regex: Some("(".into()),
            ..FaultRule::default()
        };
        assert!(matches!(faults.add(bad), Err(FaultError::Regex { .. })));
    }
}
