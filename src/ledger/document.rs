//! The ledger document: what rounds remembers between rounds, in typed sections. Every section
//! is a map with stable keys, so two writers' changes merge key by key (see `merge`).

use crate::api::resource::ObjectRef;
use crate::notify::log::NotificationLog;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the document's shape; a newer one is refused rather than overwritten.
pub const VERSION: u32 = 1;

/// How long history and cooldowns are kept at least.
pub const RETENTION_DAYS: i64 = 30;
/// History entries kept at most (the newest).
pub const MAX_HISTORY: usize = 2000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub version: u32,
    /// Action and target → when it was last applied. The cooldown guard reads this.
    #[serde(default)]
    pub cooldowns: BTreeMap<String, Cooldown>,
    /// Applied and failed actions, keyed `time/runId/action/target` (sorted by time).
    #[serde(default)]
    pub history: BTreeMap<String, HistoryEntry>,
    /// Writes announced before they were sent and not yet confirmed: a round that finds one
    /// from another run reads the target to learn whether the write happened.
    #[serde(default)]
    pub intents: BTreeMap<String, Intent>,
    /// Finding fingerprint → remediation and how many rounds the finding outlived it.
    #[serde(default)]
    pub escalations: BTreeMap<String, Escalation>,
    /// Playbook name → its schedule state (when it was last due and last succeeded).
    #[serde(default)]
    pub schedules: BTreeMap<String, ScheduleState>,
    /// Owned by notifications; stored as it is.
    #[serde(default)]
    pub notifications: NotificationLog,
}

impl Default for Ledger {
    fn default() -> Self {
        Self {
            version: VERSION,
            cooldowns: BTreeMap::new(),
            history: BTreeMap::new(),
            intents: BTreeMap::new(),
            escalations: BTreeMap::new(),
            schedules: BTreeMap::new(),
            notifications: NotificationLog::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cooldown {
    pub action: String,
    pub target: ObjectRef,
    pub playbook: String,
    pub run_id: String,
    pub applied_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Recorded {
    Applied,
    Failed,
    /// An earlier round's write that a later round found done (it crashed before confirming).
    Reconciled,
    /// An earlier round's write that a later round found not done.
    NotApplied,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub run_id: String,
    pub playbook: String,
    pub action: String,
    pub target: ObjectRef,
    pub outcome: Recorded,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a write does to its target, so a later round can tell whether it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    /// The target carries rounds' annotation naming the run (patches).
    Annotated,
    /// The target is gone, being deleted, or replaced by another uid (deletes, evictions).
    Removed,
    /// The object exists (creates).
    Created,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    pub run_id: String,
    pub playbook: String,
    pub action: String,
    pub target: ObjectRef,
    pub at: DateTime<Utc>,
    pub effect: Effect,
    #[serde(default)]
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Escalation {
    pub playbook: String,
    pub target: String,
    pub remediated_at: DateTime<Utc>,
    pub run_id: String,
    /// Rounds that saw the finding again since the remediation.
    pub rounds: u32,
    #[serde(default)]
    pub escalated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleState {
    /// The round time at which the playbook last ran (was due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
    /// The round time of the last round in which it ran and nothing failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_id: Option<String>,
}

/// `raiseMemoryLimit:Deployment.apps/shop/api`
pub fn action_key(action: &str, target: &ObjectRef) -> String {
    format!("{action}:{}", target.key())
}

impl Ledger {
    /// The last time `action` was applied to `target`, by any round.
    pub fn last_applied(&self, action: &str, target: &ObjectRef) -> Option<&Cooldown> {
        self.cooldowns.get(&action_key(action, target))
    }

    /// Records an applied action: its cooldown and its history entry.
    pub fn record_applied(&mut self, c: Cooldown, outcome: Recorded, detail: Option<String>) {
        self.push_history(HistoryEntry {
            at: c.applied_at,
            run_id: c.run_id.clone(),
            playbook: c.playbook.clone(),
            action: c.action.clone(),
            target: c.target.clone(),
            outcome,
            detail,
        });
        self.cooldowns.insert(action_key(&c.action, &c.target), c);
    }

    pub fn push_history(&mut self, e: HistoryEntry) {
        let key = format!(
            "{}/{}/{}",
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            e.run_id,
            action_key(&e.action, &e.target)
        );
        self.history.insert(key, e);
    }

    /// Keeps the document bounded: history and cooldowns older than the retention (or than
    /// the longest cooldown in use), history beyond [`MAX_HISTORY`] entries, escalations of
    /// findings that are gone, schedules of playbooks no longer loaded.
    pub fn prune(
        &mut self,
        now: DateTime<Utc>,
        longest_cooldown: chrono::Duration,
        playbooks: &[&str],
    ) {
        let keep = chrono::Duration::days(RETENTION_DAYS).max(longest_cooldown);
        self.history.retain(|_, e| now - e.at <= keep);
        while self.history.len() > MAX_HISTORY {
            let Some(oldest) = self.history.keys().next().cloned() else {
                break;
            };
            self.history.remove(&oldest);
        }
        self.cooldowns.retain(|_, c| now - c.applied_at <= keep);
        self.schedules
            .retain(|name, _| playbooks.contains(&name.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::Resource;

    fn at(h: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-11-22T{h:02}:00:00Z"))
            .expect("time")
            .to_utc()
    }

    fn cooldown(name: &str, when: DateTime<Utc>) -> Cooldown {
        Cooldown {
            action: "rolloutRestart".into(),
            target: ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", name).expect("ref"),
            playbook: "pb".into(),
            run_id: "r1".into(),
            applied_at: when,
        }
    }

    #[test]
    fn records_cooldowns_and_history_and_reads_them_back() {
        let mut l = Ledger::default();
        l.record_applied(cooldown("api", at(9)), Recorded::Applied, None);
        let d = ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", "api").expect("ref");
        assert_eq!(
            l.last_applied("rolloutRestart", &d).map(|c| c.applied_at),
            Some(at(9))
        );
        assert!(l.last_applied("scale", &d).is_none());
        assert_eq!(l.history.len(), 1);
        let text = serde_json::to_string(&l).expect("json");
        let back: Ledger = serde_json::from_str(&text).expect("back");
        assert_eq!(back, l);
        // Sections a reader does not know yet default, so an older document still reads.
        let old: Ledger = serde_json::from_str(r#"{"version": 1}"#).expect("minimal");
        assert_eq!(old, Ledger::default());
    }

    #[test]
    fn pruning_keeps_it_bounded() {
        let mut l = Ledger::default();
        let now = at(10) + chrono::Duration::days(40);
        l.record_applied(cooldown("old", at(9)), Recorded::Applied, None);
        l.record_applied(cooldown("new", now), Recorded::Applied, None);
        for i in 0..(MAX_HISTORY + 5) {
            l.push_history(HistoryEntry {
                at: now - chrono::Duration::seconds(i as i64),
                run_id: format!("r{i}"),
                playbook: "pb".into(),
                action: "scale".into(),
                target: cooldown("x", now).target,
                outcome: Recorded::Applied,
                detail: None,
            });
        }
        l.schedules.insert("gone".into(), ScheduleState::default());
        l.schedules.insert("kept".into(), ScheduleState::default());
        l.prune(now, chrono::Duration::hours(1), &["kept"]);
        assert_eq!(l.history.len(), MAX_HISTORY);
        assert_eq!(l.cooldowns.len(), 1, "the 40-day-old cooldown is gone");
        assert_eq!(l.schedules.keys().collect::<Vec<_>>(), ["kept"]);
        // A cooldown longer than the retention keeps its entries that long.
        let mut l2 = Ledger::default();
        l2.record_applied(cooldown("old", at(9)), Recorded::Applied, None);
        l2.prune(now, chrono::Duration::days(60), &[]);
        assert_eq!(l2.cooldowns.len(), 1);
    }
}
