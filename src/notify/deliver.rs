//! Delivery: channels in parallel, each channel's messages one after another within the
//! channel's total timeout (cut to the round's deadline); retries with jittered backoff for
//! network errors, timeouts, 5xx and 429 (after its Retry-After when that fits), none for
//! other 4xx.

use super::channels::{Channel, SendContext, SendError};
use super::config::NotifyConfig;
use super::message::Message;
use crate::secrets::{Redactor, Secrets};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// One message for one channel.
pub struct Job {
    pub id: usize,
    pub channel: String,
    pub message: Message,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: usize,
    pub attempts: u32,
    /// The error, already scrubbed of URLs and secret values.
    pub result: Result<(), String>,
}

pub struct Env<'a> {
    pub cfg: &'a NotifyConfig,
    pub secrets: &'a Secrets,
    pub redactor: &'a Redactor,
    pub ca: &'a BTreeMap<String, Vec<u8>>,
    pub now: DateTime<Utc>,
    pub deadline: Instant,
}

/// Sends every job; returns one delivery per job, in no particular order.
pub async fn deliver(env: &Env<'_>, jobs: Vec<Job>) -> Vec<Delivery> {
    let mut by_channel: BTreeMap<String, Vec<Job>> = BTreeMap::new();
    for j in jobs {
        by_channel.entry(j.channel.clone()).or_default().push(j);
    }
    let tasks = by_channel
        .into_iter()
        .map(|(name, jobs)| channel_queue(env, name, jobs));
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn channel_queue(env: &Env<'_>, name: String, jobs: Vec<Job>) -> Vec<Delivery> {
    let fail_all = |jobs: Vec<Job>, why: String| {
        jobs.into_iter()
            .map(|j| Delivery {
                id: j.id,
                attempts: 0,
                result: Err(why.clone()),
            })
            .collect::<Vec<_>>()
    };
    let Some(channel) = env.cfg.channels.get(&name) else {
        return fail_all(jobs, format!("channel {name} is not configured"));
    };
    let ca = env.ca.get(&name).map(Vec::as_slice);
    let connect = env.cfg.timeouts.connect.0;
    let http = match super::http::client(connect, ca) {
        Ok(c) => c,
        Err(e) => return fail_all(jobs, env.redactor.scrub(&e)),
    };
    let end = (Instant::now() + env.cfg.timeouts.total.0).min(env.deadline);
    let mut out = Vec::new();
    for j in jobs {
        let (attempts, result) =
            send_with_retries(env, channel, &name, &http, ca, &j.message, end).await;
        if let Err(e) = &result {
            tracing::warn!(channel = %name, attempts, error = %e, "A notification was not delivered.");
        } else {
            tracing::info!(channel = %name, attempts, "A notification was delivered.");
        }
        out.push(Delivery {
            id: j.id,
            attempts,
            result,
        });
    }
    out
}

async fn send_with_retries(
    env: &Env<'_>,
    channel: &Channel,
    name: &str,
    http: &reqwest::Client,
    ca: Option<&[u8]>,
    msg: &Message,
    end: Instant,
) -> (u32, Result<(), String>) {
    let retries = &env.cfg.retries;
    let total = env.cfg.timeouts.total;
    let mut attempts = 0;
    let mut last = String::new();
    while attempts < retries.attempts {
        let now = Instant::now();
        if now >= end {
            let why = format!(
                "no time left for this channel (timeouts.total {total}, or the round's deadline)"
            );
            return (attempts, Err(join(&last, &why)));
        }
        attempts += 1;
        let remaining = end - now;
        let ctx = SendContext {
            name,
            secrets: env.secrets,
            http,
            now: env.now,
            connect_timeout: env.cfg.timeouts.connect.0.min(remaining),
            attempt_timeout: remaining,
            extra_ca_pem: ca,
        };
        let result = match tokio::time::timeout(remaining, channel.send(&ctx, msg)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Transient(format!(
                "timed out after {}",
                humantime::format_duration(Duration::from_secs(remaining.as_secs()))
            ))),
        };
        let wait = match result {
            Ok(()) => return (attempts, Ok(())),
            Err(SendError::Permanent(e)) => return (attempts, Err(env.redactor.scrub(&e))),
            Err(SendError::Transient(e)) => {
                last = env.redactor.scrub(&e);
                backoff(retries, attempts)
            }
            Err(SendError::Throttled {
                retry_after,
                detail,
            }) => {
                last = env.redactor.scrub(&detail);
                match retry_after {
                    Some(ra) if Instant::now() + ra > end => {
                        return (
                            attempts,
                            Err(format!(
                                "{last}; Retry-After {}s does not fit within this channel's time",
                                ra.as_secs()
                            )),
                        );
                    }
                    Some(ra) => ra,
                    None => backoff(retries, attempts),
                }
            }
        };
        if attempts >= retries.attempts {
            break;
        }
        if Instant::now() + wait > end {
            return (
                attempts,
                Err(join(&last, "no time left for another attempt")),
            );
        }
        tokio::time::sleep(wait).await;
    }
    (
        attempts,
        Err(join(&last, &format!("gave up after {attempts} attempt(s)"))),
    )
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}; {b}")
    }
}

/// Exponential backoff with jitter: base·2^(n-1), capped, times a random factor in [0.5, 1).
pub fn backoff(r: &super::config::Retries, attempt: u32) -> Duration {
    let exp = r
        .backoff
        .0
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(r.max_backoff.0);
    capped.mul_f64(0.5 + fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let r = super::super::config::Retries::default();
        for _ in 0..100 {
            let b1 = backoff(&r, 1);
            assert!(b1 >= r.backoff.0 / 2 && b1 < r.backoff.0, "{b1:?}");
            let b3 = backoff(&r, 3);
            assert!(b3 >= r.backoff.0 * 2 && b3 < r.backoff.0 * 4, "{b3:?}");
            assert!(backoff(&r, 30) < r.max_backoff.0);
        }
    }
}
