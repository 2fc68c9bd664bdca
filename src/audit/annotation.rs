//! `rounds.dev/last-remediation` on a changed target: when, which run, playbook and action. It
//! is written in the same request as the change (a patch of the target, or the object a create
//! makes), so a later round can read from the target alone whether a write happened.

use crate::api::request::{Request, Verb};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const ANNOTATION: &str = "rounds.dev/last-remediation";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    pub time: String,
    pub run_id: String,
    pub playbook: String,
    pub action: String,
}

impl Stamp {
    pub fn new(at: DateTime<Utc>, run_id: &str, playbook: &str, action: &str) -> Self {
        Self {
            time: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            run_id: run_id.to_owned(),
            playbook: playbook.to_owned(),
            action: action.to_owned(),
        }
    }

    /// The annotation on an object as read from the API, if it is there and readable.
    pub fn of(object: &Value) -> Option<Stamp> {
        let text = object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ANNOTATION))
            .and_then(Value::as_str)?;
        serde_json::from_str(text).ok()
    }

    fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Puts the stamp into a patch or a create; other writes (deletes, evictions) remove their
/// target and carry none.
pub fn stamp(request: &mut Request, stamp: &Stamp) {
    if !matches!(request.verb(), Verb::Patch | Verb::Create) {
        return;
    }
    request.edit_body(|body| {
        if !body["metadata"].is_object() {
            body["metadata"] = json!({});
        }
        if !body["metadata"]["annotations"].is_object() {
            body["metadata"]["annotations"] = json!({});
        }
        body["metadata"]["annotations"][ANNOTATION] = json!(stamp.text());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::ContentType;
    use crate::api::resource::{ObjectRef, Resource};

    #[test]
    fn a_patch_carries_the_stamp_and_it_reads_back() {
        let d = ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", "api").expect("ref");
        let mut r = Request::patch(&d, ContentType::StrategicMergePatch, json!({"spec": {}}));
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .expect("time")
            .to_utc();
        let s = Stamp::new(at, "run-1", "pb", "rolloutRestart");
        stamp(&mut r, &s);
        let body = r.body().expect("body");
        assert_eq!(Stamp::of(&body), Some(s));
        let pod = ObjectRef::namespaced(&Resource::POD, "shop", "web").expect("ref");
        let mut del = Request::delete(&pod, None);
        stamp(&mut del, &Stamp::new(at, "run-1", "pb", "deletePod"));
        assert_eq!(
            del.body().and_then(|b| Stamp::of(&b)),
            None,
            "deletes carry no stamp"
        );
    }
}
