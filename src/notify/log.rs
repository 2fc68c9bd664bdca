//! The notification log: what was delivered to whom, keyed by a sha256 fingerprint of
//! (route, channel, finding group). The ledger stores it between rounds (the process exits
//! after every round); this module owns its shape and keeps it bounded, because the ledger is a
//! ConfigMap (at most 1 MiB).

use super::Tier;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Groups remembered at most; the ones sent longest ago go first (they notify anew if they
/// still fire).
pub const MAX_ENTRIES: usize = 300;
/// Finding members remembered per group, and over all groups. Past that a group keeps its
/// exact count and digest (so "unchanged" is still exact) but lists fewer findings in a resolve.
pub const MAX_MEMBERS_PER_ENTRY: usize = 500;
pub const MAX_MEMBERS: usize = 2000;
/// Findings whose remediation is being watched for escalation.
pub const MAX_WATCHED: usize = 2000;
/// An entry nobody touched for this long belongs to a config that changed; forget it.
pub const RETENTION_DAYS: i64 = 30;

/// Persisted by the ledger as one section of its document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationLog {
    /// Fingerprint (`sha256:…` of route, channel, group) → what was last delivered for it.
    #[serde(default)]
    pub entries: BTreeMap<String, LogEntry>,
    /// Findings with an applied remediation, by short fingerprint: how many rounds they
    /// outlived it (for escalation).
    #[serde(default)]
    pub watched: BTreeMap<String, Watched>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub route: String,
    pub channel: String,
    /// The group as people read it, e.g. `playbook=oom-raise-memory`.
    pub group: String,
    pub tier: Tier,
    pub first_sent: DateTime<Utc>,
    /// When a message for this group was last delivered.
    pub last_sent: DateTime<Utc>,
    /// sha256 of the group's sorted finding fingerprints when last delivered.
    pub digest: String,
    /// How many findings the group had.
    pub count: usize,
    /// The findings (by short fingerprint), as many as the bounds allow.
    #[serde(default)]
    pub members: BTreeMap<String, Member>,
    /// Delivered through the route's fallback because a channel failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_fallback: bool,
}

/// Enough of a finding to tell a channel it is resolved (Alertmanager needs the same labels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Playbook.
    pub p: String,
    /// Detector.
    pub d: String,
    /// Target kind, namespace, name, container.
    pub k: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    pub n: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Watched {
    pub remediated_at: DateTime<Utc>,
    /// Rounds in which the finding was still there after the remediation.
    pub rounds: u32,
    /// The remediation, for the message.
    pub action: String,
    /// The finding's playbook: a playbook that is not due this round keeps its watch.
    pub playbook: String,
}

/// The log key of (route, channel, group).
pub fn key(route: &str, channel: &str, group: &str) -> String {
    let mut h = Sha256::new();
    for part in [route, channel, group] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// Short form of a finding fingerprint for the log (64 bits: collisions within one group of a
/// few thousand findings are out of reach).
pub fn short(fingerprint: &str) -> String {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    hex.chars().take(16).collect()
}

/// The digest of a set of (short) fingerprints, order-independent.
pub fn digest<'a>(fingerprints: impl IntoIterator<Item = &'a str>) -> String {
    let mut all: Vec<&str> = fingerprints.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    let mut h = Sha256::new();
    for f in all {
        h.update(f.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

impl NotificationLog {
    /// Keeps the log within its bounds: forgets stale entries, then the oldest, then members
    /// of the largest groups.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let cutoff = now - chrono::Duration::days(RETENTION_DAYS);
        self.entries.retain(|_, e| e.last_sent >= cutoff);
        if self.entries.len() > MAX_ENTRIES {
            let mut by_age: Vec<(DateTime<Utc>, String)> = self
                .entries
                .iter()
                .map(|(k, e)| (e.last_sent, k.clone()))
                .collect();
            by_age.sort();
            let excess = self.entries.len() - MAX_ENTRIES;
            for (_, k) in by_age.into_iter().take(excess) {
                self.entries.remove(&k);
            }
        }
        for e in self.entries.values_mut() {
            trim_members(e, MAX_MEMBERS_PER_ENTRY);
        }
        let mut total: usize = self.entries.values().map(|e| e.members.len()).sum();
        while total > MAX_MEMBERS {
            let Some(largest) = self.entries.values_mut().max_by_key(|e| e.members.len()) else {
                break;
            };
            let keep = largest.members.len() / 2;
            total -= largest.members.len() - keep;
            trim_members(largest, keep);
        }
        if self.watched.len() > MAX_WATCHED {
            let mut by_age: Vec<(DateTime<Utc>, String)> = self
                .watched
                .iter()
                .map(|(k, w)| (w.remediated_at, k.clone()))
                .collect();
            by_age.sort();
            let excess = self.watched.len() - MAX_WATCHED;
            for (_, k) in by_age.into_iter().take(excess) {
                self.watched.remove(&k);
            }
        }
    }
}

fn trim_members(e: &mut LogEntry, keep: usize) {
    while e.members.len() > keep {
        if e.members.pop_last().is_none() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn entry(i: usize, members: usize, at: DateTime<Utc>) -> LogEntry {
        LogEntry {
            route: "r".into(),
            channel: "c".into(),
            group: format!("playbook=p{i}"),
            tier: Tier::Warning,
            first_sent: at,
            last_sent: at,
            digest: "d".into(),
            count: members,
            members: (0..members)
                .map(|m| {
                    (
                        format!("{i:08x}{m:08x}"),
                        Member {
                            p: format!("playbook-{i}"),
                            d: "crashLoopBackOff".into(),
                            k: "Pod".into(),
                            ns: Some("some-namespace".into()),
                            n: format!("a-fairly-long-pod-name-{m}-7d9f8b6c5d-x2x4q"),
                            c: Some("app".into()),
                        },
                    )
                })
                .collect(),
            via_fallback: false,
        }
    }

    #[test]
    fn stays_within_its_bounds_and_well_below_a_configmap() {
        let now = t("2026-11-22T10:00:00Z");
        let mut log = NotificationLog::default();
        for i in 0..2000 {
            let at = now - chrono::Duration::minutes(i as i64);
            log.entries
                .insert(key("r", "c", &format!("g{i}")), entry(i, 600, at));
        }
        for i in 0..5000 {
            log.watched.insert(
                format!("{i:016x}"),
                Watched {
                    remediated_at: now - chrono::Duration::minutes(i),
                    rounds: 1,
                    action: "rolloutRestart".into(),
                    playbook: "p".into(),
                },
            );
        }
        log.prune(now);
        assert_eq!(log.entries.len(), MAX_ENTRIES);
        assert!(log.entries.values().map(|e| e.members.len()).sum::<usize>() <= MAX_MEMBERS);
        assert_eq!(log.watched.len(), MAX_WATCHED);
        // The newest entries are kept, with their exact counts.
        assert!(
            log.entries
                .values()
                .all(|e| e.last_sent > now - chrono::Duration::minutes(500))
        );
        assert!(log.entries.values().all(|e| e.count == 600));
        let size = serde_json::to_vec(&log).expect("json").len();
        assert!(size < 600 * 1024, "{size} bytes");
    }

    #[test]
    fn forgets_stale_entries_and_round_trips() {
        let now = t("2026-11-22T10:00:00Z");
        let mut log = NotificationLog::default();
        log.entries
            .insert("old".into(), entry(1, 1, now - chrono::Duration::days(31)));
        log.entries.insert("new".into(), entry(2, 2, now));
        log.prune(now);
        assert_eq!(log.entries.keys().collect::<Vec<_>>(), ["new"]);
        let json = serde_json::to_string(&log).expect("json");
        let back: NotificationLog = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, log);
        // An empty section (a fresh ledger) reads as an empty log.
        assert_eq!(
            serde_json::from_str::<NotificationLog>("{}").expect("parse"),
            NotificationLog::default()
        );
    }

    #[test]
    fn keys_and_digests_are_stable_and_distinct() {
        assert_eq!(key("r", "c", "g"), key("r", "c", "g"));
        assert_ne!(key("r", "c", "g"), key("r", "cg", ""));
        assert_eq!(digest(["b", "a"]), digest(["a", "b", "a"]));
        assert_ne!(digest(["a"]), digest(["a", "b"]));
        assert_eq!(short("sha256:0123456789abcdef0123"), "0123456789abcdef");
    }
}
