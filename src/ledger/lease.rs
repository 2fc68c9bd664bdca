//! The run lock: a coordination.k8s.io/v1 Lease held for the whole round, so two rounds (a
//! manual Job overlapping a scheduled one) never act at once. A holder past its
//! leaseDurationSeconds (a round that was killed) is taken over.

use crate::api::request::Request;
use crate::api::resource::{ObjectRef, Resource};
use crate::api::{Api, ApiError, Operation};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "another round holds the lease {lease}: {holder} (renewed {renewed}, held until {until}); this round does nothing"
    )]
    Held {
        lease: String,
        holder: String,
        renewed: String,
        until: String,
    },
    #[error("cannot take the lease {lease}: {source}")]
    Api { lease: String, source: ApiError },
    #[error("cannot name the lease: {0}")]
    Name(#[from] crate::api::resource::RefError),
}

/// A lease this round holds.
#[derive(Debug)]
pub struct Held {
    lease: ObjectRef,
    holder: String,
    duration: Duration,
    object: Value,
    renewed: std::time::Instant,
}

fn micro_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.to_utc())
}

/// The lease's holder, and until when it holds it, if anyone validly does at `now`.
fn current_holder(
    lease: &Value,
    now: DateTime<Utc>,
) -> Option<(String, DateTime<Utc>, DateTime<Utc>)> {
    let spec = &lease["spec"];
    let holder = spec["holderIdentity"].as_str().filter(|h| !h.is_empty())?;
    let renewed = parse_time(&spec["renewTime"]).or_else(|| parse_time(&spec["acquireTime"]))?;
    let secs = spec["leaseDurationSeconds"].as_i64().unwrap_or(0);
    let until = renewed + chrono::Duration::seconds(secs);
    (until > now).then(|| (holder.to_owned(), renewed, until))
}

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX).max(1)
}

/// Takes the lease for `holder` for `duration`, or says who holds it.
pub async fn acquire(
    api: &Api,
    namespace: &str,
    name: &str,
    holder: &str,
    duration: Duration,
) -> Result<Held, LeaseError> {
    let lease = ObjectRef::namespaced(&Resource::LEASE, namespace, name)?;
    let fail = |source| LeaseError::Api {
        lease: lease.display(),
        source,
    };
    for _ in 0..3 {
        let now = Utc::now();
        let op = Operation::new("get", "leases", Some(namespace));
        let current = api.get(&lease.path(), op).await.map_err(fail)?;
        let spec = json!({
            "holderIdentity": holder,
            "leaseDurationSeconds": seconds(duration),
            "acquireTime": micro_time(now),
            "renewTime": micro_time(now),
        });
        let request = match current {
            None => {
                let mut spec = spec;
                spec["leaseTransitions"] = json!(0);
                Request::create(
                    &lease,
                    json!({
                        "apiVersion": "coordination.k8s.io/v1",
                        "kind": "Lease",
                        "metadata": {"name": name, "namespace": namespace,
                            "labels": {"app.kubernetes.io/managed-by": "rounds"}},
                        "spec": spec,
                    }),
                )
            }
            Some(text) => {
                let mut object: Value = serde_json::from_str(&text).unwrap_or_default();
                if let Some((other, renewed, until)) = current_holder(&object, now) {
                    return Err(LeaseError::Held {
                        lease: lease.display(),
                        holder: other,
                        renewed: micro_time(renewed),
                        until: micro_time(until),
                    });
                }
                let transitions = object["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
                let had_holder = object["spec"]["holderIdentity"]
                    .as_str()
                    .is_some_and(|h| !h.is_empty());
                if had_holder {
                    tracing::warn!(
                        lease = %lease,
                        holder = object["spec"]["holderIdentity"].as_str().unwrap_or_default(),
                        "The lease's holder let it expire (a round that was killed?); taking it over."
                    );
                }
                let mut spec = spec;
                spec["leaseTransitions"] = json!(transitions + 1);
                object["spec"] = spec;
                Request::update(&lease, object)
            }
        };
        match api.send(&request).await {
            Ok(response) => {
                return Ok(Held {
                    lease,
                    holder: holder.to_owned(),
                    duration,
                    object: response.json(),
                    renewed: std::time::Instant::now(),
                });
            }
            // Someone else created or renewed it between our read and write: read again.
            Err(ApiError::Status { code: 409, .. }) => continue,
            Err(e) => return Err(fail(e)),
        }
    }
    Err(fail(ApiError::Config(
        "the lease kept changing while rounds tried to take it".into(),
    )))
}

impl Held {
    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn reference(&self) -> &ObjectRef {
        &self.lease
    }

    /// Renews the lease if a third of its duration has passed since the last renewal.
    pub async fn renew_if_due(&mut self, api: &Api) -> Result<(), LeaseError> {
        if self.renewed.elapsed() < self.duration / 3 {
            return Ok(());
        }
        self.renew(api).await
    }

    pub async fn renew(&mut self, api: &Api) -> Result<(), LeaseError> {
        let mut object = self.object.clone();
        object["spec"]["renewTime"] = json!(micro_time(Utc::now()));
        let response = api
            .send(&Request::update(&self.lease, object))
            .await
            .map_err(|source| LeaseError::Api {
                lease: self.lease.display(),
                source,
            })?;
        self.object = response.json();
        self.renewed = std::time::Instant::now();
        Ok(())
    }

    /// Gives the lease up, so the next round need not wait for it to expire.
    pub async fn release(self, api: &Api) -> Result<(), LeaseError> {
        let mut object = self.object;
        object["spec"]["holderIdentity"] = json!("");
        object["spec"]["leaseDurationSeconds"] = json!(1);
        object["spec"]["renewTime"] = json!(micro_time(Utc::now()));
        api.send(&Request::update(&self.lease, object))
            .await
            .map(drop)
            .map_err(|source| LeaseError::Api {
                lease: self.lease.display(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_past_its_duration_has_no_holder() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .expect("time")
            .to_utc();
        let lease = |renew: &str, secs: i64, holder: &str| json!({"spec": {"holderIdentity": holder, "renewTime": renew, "leaseDurationSeconds": secs}});
        let held = current_holder(&lease("2026-11-22T09:59:30.000000Z", 60, "pod-a/r1"), now);
        assert_eq!(held.map(|h| h.0), Some("pod-a/r1".to_owned()));
        assert!(
            current_holder(&lease("2026-11-22T09:58:00.000000Z", 60, "pod-a/r1"), now).is_none()
        );
        assert!(current_holder(&lease("2026-11-22T09:59:59.000000Z", 60, ""), now).is_none());
        assert!(current_holder(&json!({"spec": {}}), now).is_none());
    }
}
