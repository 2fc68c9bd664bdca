//! Intents left in the ledger by a round that ended between announcing a write and confirming
//! it (killed, out of time, its node gone). The target tells what happened: rounds' annotation
//! naming that run on a patched object, a removed (or replaced) object for a delete or an
//! eviction, an existing object for a create.

use crate::api::{Api, Operation};
use crate::audit::annotation::Stamp;
use crate::ledger::{Cooldown, Effect, HistoryEntry, Intent, Ledger, Recorded};
use serde_json::Value;

/// What reading the target said about an intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Done,
    NotDone,
}

/// Whether the write an intent announced is visible on the target as read (`None`: gone).
pub fn judge(intent: &Intent, target: Option<&Value>) -> Found {
    match (intent.effect, target) {
        (Effect::Annotated, Some(object)) => match Stamp::of(object) {
            Some(s) if s.run_id == intent.run_id && s.action == intent.action => Found::Done,
            _ => Found::NotDone,
        },
        (Effect::Annotated, None) => Found::NotDone,
        (Effect::Removed, None) => Found::Done,
        (Effect::Removed, Some(object)) => {
            let meta = &object["metadata"];
            let replaced = intent
                .target
                .uid()
                .is_some_and(|uid| meta["uid"].as_str().is_some_and(|u| u != uid));
            let deleting = !meta["deletionTimestamp"].is_null();
            if replaced || deleting {
                Found::Done
            } else {
                Found::NotDone
            }
        }
        (Effect::Created, Some(_)) => Found::Done,
        (Effect::Created, None) => Found::NotDone,
    }
}

/// Reads the target of every intent from an earlier run and settles it in the ledger. An
/// intent whose target cannot be read stays (the cooldown guard holds that target back).
/// Returns what the report should say.
pub async fn reconcile(api: &Api, ledger: &mut Ledger, run_id: &str) -> Vec<String> {
    let mut notes = Vec::new();
    let pending: Vec<(String, Intent)> = ledger
        .intents
        .iter()
        .filter(|(_, i)| i.run_id != run_id)
        .map(|(k, i)| (k.clone(), i.clone()))
        .collect();
    for (key, intent) in pending {
        let t = &intent.target;
        let op = Operation::new("get", t.resource().plural, t.namespace());
        let object = match api.get(&t.path(), op).await {
            Ok(text) => text.and_then(|t| serde_json::from_str::<Value>(&t).ok()),
            Err(e) => {
                notes.push(format!(
                    "cannot tell whether run {}'s {} on {t} happened: {e}; it is held back until rounds can",
                    intent.run_id, intent.action
                ));
                continue;
            }
        };
        ledger.intents.remove(&key);
        match judge(&intent, object.as_ref()) {
            Found::Done => {
                notes.push(format!(
                    "run {} applied {} to {t} but ended before confirming it; the target shows it was done, so it counts as applied",
                    intent.run_id, intent.action
                ));
                ledger.record_applied(
                    Cooldown {
                        action: intent.action.clone(),
                        target: intent.target.clone(),
                        playbook: intent.playbook.clone(),
                        run_id: intent.run_id.clone(),
                        applied_at: intent.at,
                    },
                    Recorded::Reconciled,
                    None,
                );
            }
            Found::NotDone => {
                notes.push(format!(
                    "run {} announced {} on {t} but ended before sending it; it was not done",
                    intent.run_id, intent.action
                ));
                ledger.push_history(HistoryEntry {
                    at: intent.at,
                    run_id: intent.run_id.clone(),
                    playbook: intent.playbook.clone(),
                    action: intent.action.clone(),
                    target: intent.target.clone(),
                    outcome: Recorded::NotApplied,
                    detail: None,
                });
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::{ObjectRef, Resource};
    use serde_json::json;

    fn intent(effect: Effect, uid: Option<&str>) -> Intent {
        Intent {
            run_id: "r1".into(),
            playbook: "pb".into(),
            action: "evictPod".into(),
            target: ObjectRef::namespaced(&Resource::POD, "shop", "web-0")
                .expect("ref")
                .with_uid(uid),
            at: chrono::Utc::now(),
            effect,
            findings: Vec::new(),
        }
    }

    #[test]
    fn the_target_tells_whether_the_write_happened() {
        let removed = intent(Effect::Removed, Some("u1"));
        assert_eq!(judge(&removed, None), Found::Done);
        let same = json!({"metadata": {"uid": "u1"}});
        assert_eq!(judge(&removed, Some(&same)), Found::NotDone);
        let replaced = json!({"metadata": {"uid": "u2"}});
        assert_eq!(judge(&removed, Some(&replaced)), Found::Done);
        let terminating =
            json!({"metadata": {"uid": "u1", "deletionTimestamp": "2026-11-22T10:00:00Z"}});
        assert_eq!(judge(&removed, Some(&terminating)), Found::Done);
        let mut patched = intent(Effect::Annotated, None);
        patched.action = "rolloutRestart".into();
        let stamp = serde_json::to_string(&Stamp {
            time: "t".into(),
            run_id: "r1".into(),
            playbook: "pb".into(),
            action: "rolloutRestart".into(),
        })
        .expect("json");
        let annotated =
            json!({"metadata": {"annotations": {crate::audit::annotation::ANNOTATION: stamp}}});
        assert_eq!(judge(&patched, Some(&annotated)), Found::Done);
        assert_eq!(judge(&patched, Some(&same)), Found::NotDone);
        assert_eq!(
            judge(&intent(Effect::Created, None), Some(&same)),
            Found::Done
        );
    }
}
