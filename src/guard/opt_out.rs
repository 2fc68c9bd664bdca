//! `optOut`: owners of an object say "leave it alone" with annotations, on the object itself,
//! on any workload above it, or on its namespace:
//! `rounds.dev/exclude: "true"` or `rounds.dev/exclude-until: <RFC 3339>`.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::objects::WorkloadKind;
use crate::round::context::RoundContext;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::BTreeMap;

pub const EXCLUDE: &str = "rounds.dev/exclude";
pub const EXCLUDE_UNTIL: &str = "rounds.dev/exclude-until";

pub struct OptOut;

impl OptOut {
    pub const EXPLAIN: &str = "Skips actions on objects annotated rounds.dev/exclude: \"true\" (any value but \"false\" counts) or rounds.dev/exclude-until: an RFC 3339 time in the future, on the finding's object, the workloads above it, the action's target or their namespace. An unreadable value counts as excluded; a namespace that is not in the inventory is not checked, and the report says so. No settings: the annotations are the owners' switch.";

    pub const SETTINGS: &[Setting] = &[];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"# Owners opt out with annotations, without a playbook change:
#   kubectl annotate namespace payments rounds.dev/exclude=true
#   kubectl -n shop annotate deployment api rounds.dev/exclude-until=2026-12-01T00:00:00Z
apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: restart-crashlooping
spec:
  detect:
    crashLoopBackOff: { minRestarts: 10 }
  remediate:
    - rolloutRestart: {}
  guards:
    maxActionsPerRound: 2
"#;
}

/// Why the annotations exclude the object at `now`, if they do.
pub fn excluded(annotations: &BTreeMap<String, String>, now: DateTime<Utc>) -> Option<String> {
    if let Some(v) = annotations.get(EXCLUDE) {
        let v = v.trim();
        if v.eq_ignore_ascii_case("true") {
            return Some(format!("{EXCLUDE}: \"true\""));
        }
        if !v.eq_ignore_ascii_case("false") {
            return Some(format!(
                "{EXCLUDE} is {v:?}; anything but \"false\" counts as excluded"
            ));
        }
    }
    if let Some(v) = annotations.get(EXCLUDE_UNTIL) {
        return match DateTime::parse_from_rfc3339(v.trim()) {
            Ok(t) if t.to_utc() > now => Some(format!("{EXCLUDE_UNTIL}: {v}")),
            Ok(_) => None,
            Err(_) => Some(format!(
                "{EXCLUDE_UNTIL} {v:?} is not an RFC 3339 time, so it counts as excluded"
            )),
        };
    }
    None
}

impl GuardCheck for OptOut {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let f = input.finding;
        // A workload is decoded for each lookup, so its annotations are its own here.
        let mut sources: Vec<(String, Cow<BTreeMap<String, String>>)> =
            vec![(f.target.display(), Cow::Borrowed(&f.facts.annotations))];
        if let (Some(owner), Some(ns)) = (&f.owner, f.target.namespace.as_deref()) {
            for link in owner.chain.iter().filter(|l| l.found) {
                let w = WorkloadKind::from_kind(&link.kind)
                    .and_then(|k| ctx.index.workload(k, ns, &link.name));
                if let Some(w) = w {
                    sources.push((
                        format!("its owner {} {ns}/{}", link.kind, link.name),
                        Cow::Owned(w.metadata.annotations),
                    ));
                }
            }
        }
        let t = &input.step.target;
        if let Some(w) = WorkloadKind::from_kind(t.kind())
            .zip(t.namespace())
            .and_then(|(k, ns)| ctx.index.workload(k, ns, t.name()))
        {
            sources.push((
                format!("the target {t}"),
                Cow::Owned(w.metadata.annotations),
            ));
        }
        if let (Some(ns), "PersistentVolumeClaim") = (t.namespace(), t.kind())
            && let Some(meta) = ctx.index.pvc_meta(ns, t.name())
        {
            sources.push((format!("the target {t}"), Cow::Borrowed(&meta.annotations)));
        }
        let mut namespaces: Vec<&str> = [f.target.namespace.as_deref(), t.namespace()]
            .into_iter()
            .flatten()
            .collect();
        namespaces.dedup();
        let mut unknown = Vec::new();
        for ns in namespaces {
            match ctx.index.namespace(ns) {
                Some(meta) => sources.push((
                    format!("its namespace {ns}"),
                    Cow::Borrowed(&meta.annotations),
                )),
                None => unknown.push(ns),
            }
        }
        for (what, annotations) in sources {
            if let Some(why) = excluded(&annotations, ctx.now) {
                return Check::Block(format!("{what} opted out ({why})"));
            }
        }
        if !unknown.is_empty() {
            return Check::Unchecked(format!(
                "namespace {} is not in the inventory, so its opt-out annotations were not checked",
                unknown.join(", ")
            ));
        }
        Check::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).expect("time").to_utc()
    }

    #[test]
    fn reads_both_annotations_and_is_safe_with_bad_values() {
        let now = at("2026-11-22T10:00:00Z");
        let a = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(excluded(&a(EXCLUDE, "true"), now).is_some());
        assert!(excluded(&a(EXCLUDE, "false"), now).is_none());
        assert!(excluded(&a(EXCLUDE, "yes please"), now).is_some());
        assert!(excluded(&a(EXCLUDE_UNTIL, "2026-11-23T00:00:00Z"), now).is_some());
        assert!(excluded(&a(EXCLUDE_UNTIL, "2026-11-21T00:00:00Z"), now).is_none());
        assert!(excluded(&a(EXCLUDE_UNTIL, "tomorrow"), now).is_some());
        assert!(excluded(&BTreeMap::new(), now).is_none());
    }
}
