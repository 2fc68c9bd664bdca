//! `pause`: one switch that stops every change: the key `paused` of a ConfigMap in rounds'
//! namespace (`kubectl -n rounds create configmap rounds-control --from-literal=paused=true`),
//! either `"true"` or an RFC 3339 time until which rounds is paused.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::api::resource::{ObjectRef, Resource};
use crate::api::{Api, Operation};
use crate::catalog::Setting;
use crate::round::context::RoundContext;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub const KEY: &str = "paused";

/// What the round read about the pause switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pause {
    /// A snapshot round reads no ConfigMap.
    NotRead(String),
    NotPaused,
    Paused {
        source: String,
        until: Option<DateTime<Utc>>,
    },
    /// The switch exists but cannot be read: treated as paused.
    Unreadable(String),
}

impl Pause {
    /// Reads the switch from the ConfigMap; a missing ConfigMap or key means not paused.
    pub async fn read(api: &Api, namespace: &str, name: &str) -> Pause {
        let Ok(r) = ObjectRef::namespaced(&Resource::CONFIG_MAP, namespace, name) else {
            return Pause::Unreadable(format!("{namespace}/{name} is not a ConfigMap name"));
        };
        let op = Operation::new("get", "configmaps", Some(namespace));
        let text = match api.get(&r.path(), op).await {
            Ok(None) => return Pause::NotPaused,
            Ok(Some(t)) => t,
            Err(e) => return Pause::Unreadable(e.to_string()),
        };
        let cm: Value = serde_json::from_str(&text).unwrap_or_default();
        Self::from_value(cm["data"][KEY].as_str(), &r.display())
    }

    pub fn from_value(value: Option<&str>, source: &str) -> Pause {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Pause::NotPaused;
        };
        if v.eq_ignore_ascii_case("false") {
            return Pause::NotPaused;
        }
        if v.eq_ignore_ascii_case("true") {
            return Pause::Paused {
                source: format!("{source} {KEY}: \"true\""),
                until: None,
            };
        }
        match DateTime::parse_from_rfc3339(v) {
            Ok(t) => Pause::Paused {
                source: format!("{source} {KEY}: {v}"),
                until: Some(t.to_utc()),
            },
            Err(_) => Pause::Unreadable(format!(
                "{source} {KEY} is {v:?}: neither \"true\", \"false\" nor an RFC 3339 time"
            )),
        }
    }
}

pub struct PauseGuard;

impl PauseGuard {
    pub const EXPLAIN: &str = "Skips every action while the key paused of the pause ConfigMap in rounds' namespace (runner config guards.pauseConfigMap, default rounds-control) is \"true\" or an RFC 3339 time in the future. A missing ConfigMap or key is no pause; a value it cannot read, or a ConfigMap it cannot get, counts as paused. A snapshot round reads no ConfigMap: the guard is unchecked there.";

    pub const SETTINGS: &[Setting] = &[
        Setting::config("guards.pauseConfigMap"),
        Setting::config("namespace"),
    ];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"# Pause every change until a time (or with "true", until the key is removed):
#   kubectl -n rounds create configmap rounds-control --from-literal=paused=2026-11-23T08:00:00Z
apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
mode: apply
namespace: rounds
guards:
  pauseConfigMap: rounds-control
"#;
}

impl GuardCheck for PauseGuard {
    fn check(&self, _: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        match ctx.pause {
            Pause::NotRead(why) => Check::Unchecked(why.clone()),
            Pause::NotPaused => Check::Pass,
            Pause::Paused { until: Some(t), .. } if *t <= ctx.now => Check::Pass,
            Pause::Paused { source, .. } => Check::Block(format!("rounds is paused ({source})")),
            Pause::Unreadable(why) => Check::Block(format!(
                "cannot tell whether rounds is paused, so it acts as if it were: {why}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_true_false_and_times() {
        assert_eq!(Pause::from_value(None, "cm"), Pause::NotPaused);
        assert_eq!(Pause::from_value(Some("false"), "cm"), Pause::NotPaused);
        assert!(matches!(
            Pause::from_value(Some("true"), "cm"),
            Pause::Paused { until: None, .. }
        ));
        assert!(matches!(
            Pause::from_value(Some("2026-11-23T08:00:00Z"), "cm"),
            Pause::Paused { until: Some(_), .. }
        ));
        assert!(matches!(
            Pause::from_value(Some("soon"), "cm"),
            Pause::Unreadable(_)
        ));
    }
}
