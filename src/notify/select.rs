//! Which findings go where this round: tiers (raised by failed remediations, escalating guards
//! and escalation), inhibition, routes and groups. Pure functions over the round's values.

use super::Tier;
use super::config::{GroupBy, NotifyConfig, Route};
use super::log::{NotificationLog, Watched, short};
use crate::detect::{Finding, TargetKind};
use crate::guard::{Guard, SkippedBy};
use crate::playbook::Loaded;
use crate::report::{ActionEntry, ActionStatus};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Guards whose skip means "people must look at this now".
const ESCALATING_GUARDS: &[Guard] = &[Guard::CircuitBreaker];

fn raise(t: Tier) -> Tier {
    match t {
        Tier::Info => Tier::Warning,
        Tier::Warning | Tier::Critical => Tier::Critical,
    }
}

/// The tier of every finding and why it is above the playbook's severity. Updates the
/// escalation watch: findings with an applied remediation are counted round by round.
pub fn tiers(
    findings: &[Finding],
    actions: &[ActionEntry],
    cfg: &NotifyConfig,
    log: &mut NotificationLog,
    due: &BTreeSet<&str>,
    now: DateTime<Utc>,
) -> Vec<(Tier, Vec<String>)> {
    let mut seen = BTreeSet::new();
    let out = findings
        .iter()
        .map(|f| {
            let mut tier = f.severity;
            let mut why = Vec::new();
            let answering: Vec<&ActionEntry> = actions
                .iter()
                .filter(|a| a.findings.contains(&f.fingerprint))
                .collect();
            if let Some(a) = answering.iter().find(|a| a.status == ActionStatus::Failed) {
                tier = raise(tier);
                why.push(format!("remediation {} failed", a.action));
            }
            if let Some(a) = answering.iter().find(|a| {
                a.status == ActionStatus::Skipped
                    && a.guard.is_some_and(
                        |g| matches!(g, SkippedBy::Guard(g) if ESCALATING_GUARDS.contains(&g)),
                    )
            }) {
                tier = raise(tier);
                why.push(format!(
                    "guard {} escalated: {}",
                    a.guard.map_or("", SkippedBy::name),
                    a.reason.as_deref().unwrap_or("")
                ));
            }
            let s = short(&f.fingerprint);
            seen.insert(s.clone());
            let applied = answering.iter().find(|a| a.status == ActionStatus::Applied);
            match log.watched.get_mut(&s) {
                Some(w) => {
                    w.rounds += 1;
                    let after = cfg.escalation.after_rounds;
                    if after > 0 && w.rounds >= after {
                        tier = raise(tier);
                        why.push(format!(
                            "still there {} rounds after {} was applied",
                            w.rounds, w.action
                        ));
                    }
                }
                None => {
                    if let Some(a) = applied {
                        log.watched.insert(
                            s,
                            Watched {
                                remediated_at: now,
                                rounds: 0,
                                action: a.action.to_owned(),
                                playbook: f.playbook.clone(),
                            },
                        );
                    }
                }
            }
            (tier, why)
        })
        .collect();
    // Findings that are gone need no watching; those of playbooks that were not due are
    // simply not looked at this round.
    log.watched
        .retain(|k, w| seen.contains(k) || !due.contains(w.playbook.as_str()));
    out
}

/// Which findings are muted: a critical finding about an object mutes its lower ones; a
/// NotReady node mutes the findings about pods on it.
pub fn muted(findings: &[Finding], tiers: &[(Tier, Vec<String>)], cfg: &NotifyConfig) -> Vec<bool> {
    let mut critical = BTreeSet::new();
    let mut not_ready = BTreeSet::new();
    for (f, (t, _)) in findings.iter().zip(tiers) {
        if *t == Tier::Critical {
            critical.insert((&f.target.kind, &f.target.namespace, &f.target.name));
        }
        if f.detector == "nodeNotReady" && f.target.kind == TargetKind::Node {
            not_ready.insert(f.target.name.as_str());
        }
    }
    findings
        .iter()
        .zip(tiers)
        .map(|(f, (t, _))| {
            let by_critical = cfg.inhibit.critical_mutes_lower
                && *t < Tier::Critical
                && critical.contains(&(&f.target.kind, &f.target.namespace, &f.target.name));
            let by_node = cfg.inhibit.node_not_ready_mutes_pods
                && f.target.kind == TargetKind::Pod
                && f.evidence
                    .node
                    .as_deref()
                    .is_some_and(|n| not_ready.contains(n));
            by_critical || by_node
        })
        .collect()
}

fn matches(route: &Route, f: &Finding, tier: Tier, labels: &BTreeMap<String, String>) -> bool {
    let m = &route.matchers;
    (m.playbooks.is_empty() || m.playbooks.iter().any(|g| g.matches(&f.playbook)))
        && (m.detectors.is_empty() || m.detectors.iter().any(|d| d == f.detector))
        && (m.namespaces.is_empty()
            || f.target
                .namespace
                .as_deref()
                .is_some_and(|ns| m.namespaces.iter().any(|g| g.matches(ns))))
        && (m.tiers.is_empty() || m.tiers.contains(&tier))
        && m.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The routes (indexes) of each finding: the playbook's own route when it names one, else the
/// first matching route and the ones after it while they say `continue`.
pub fn routes(
    findings: &[Finding],
    tiers: &[(Tier, Vec<String>)],
    cfg: &NotifyConfig,
    playbooks: &[Loaded],
) -> Vec<Vec<usize>> {
    findings
        .iter()
        .zip(tiers)
        .map(|(f, (tier, _))| {
            let pb = playbooks.iter().find(|p| p.name() == f.playbook);
            if let Some(name) = pb.and_then(|p| p.playbook.spec.notify.route.as_deref())
                && let Some(i) = cfg.routes.iter().position(|r| r.name == name)
            {
                return vec![i];
            }
            let empty = BTreeMap::new();
            let labels = pb.map_or(&empty, |p| &p.playbook.metadata.labels);
            let mut out = Vec::new();
            for (i, r) in cfg.routes.iter().enumerate() {
                if matches(r, f, *tier, labels) {
                    out.push(i);
                    if !r.continue_matching {
                        break;
                    }
                }
            }
            out
        })
        .collect()
}

/// The group of a finding within a route: its text (part of the log key) and labels.
pub fn group_of(route: &Route, f: &Finding, tier: Tier) -> (String, BTreeMap<String, String>) {
    let mut labels = BTreeMap::new();
    for g in &route.group_by {
        let (k, v) = match g {
            GroupBy::Playbook => ("playbook", f.playbook.clone()),
            GroupBy::Detector => ("detector", f.detector.to_owned()),
            GroupBy::Namespace => (
                "namespace",
                f.target
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "(cluster)".into()),
            ),
            GroupBy::Tier => ("tier", tier.as_str().to_owned()),
        };
        labels.insert(k.to_owned(), v);
    }
    let text = if labels.is_empty() {
        "all".to_owned()
    } else {
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    (text, labels)
}
