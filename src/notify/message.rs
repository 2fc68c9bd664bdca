//! One notification: a group of findings of one route, with their evidence and what was done,
//! built once per (route, group, channel) and rendered by each channel within its limits.

use super::Tier;
use super::log::Member;
use super::redact::LogRedactor;
use crate::detect::{Finding, Target, TargetKind};
use crate::guard::{Guard, SkippedBy};
use crate::report::{ActionEntry, ActionStatus};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Firing,
    Resolved,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }
}

/// Why a firing group is sent this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    New,
    Changed,
    Repeat,
    /// Alertmanager expects firing alerts to be re-sent every round.
    Refresh,
    Resolved,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Changed => "changed",
            Self::Repeat => "repeat",
            Self::Refresh => "refresh",
            Self::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    pub reason: Reason,
    pub tier: Tier,
    pub route: String,
    /// The group as people read it: `playbook=oom-raise-memory`.
    pub group: String,
    /// Stable across rounds for (route, group): PagerDuty's dedup_key, the webhook groupKey.
    pub group_key: String,
    pub group_labels: BTreeMap<String, String>,
    pub run_id: String,
    pub dry_run: bool,
    /// Set when this is a fallback delivery for a channel that failed.
    pub fallback_for: Option<String>,
    pub playbooks: Vec<PlaybookRef>,
    pub items: Vec<Item>,
    /// Findings of the group that are gone since the last message.
    pub resolved: Vec<Gone>,
    /// Findings of the group muted by inhibition.
    pub muted: usize,
    pub started_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub external_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlaybookRef {
    pub name: String,
    pub digest: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub fingerprint: String,
    pub new: bool,
    pub tier: Tier,
    /// Why the tier is above the playbook's severity.
    pub raised: Vec<String>,
    pub playbook: String,
    pub detector: &'static str,
    pub target: Target,
    pub owner: Option<String>,
    pub message: String,
    /// Facts from the evidence, in reading order: ("reason", "OOMKilled"), ("exit code", "137").
    pub facts: Vec<(&'static str, String)>,
    pub actions: Vec<ActionLine>,
    pub events: Vec<String>,
    pub log_tail: Option<LogLines>,
}

#[derive(Debug, Clone)]
pub struct ActionLine {
    pub action: &'static str,
    pub status: &'static str,
    pub guard: Option<&'static str>,
    pub reason: Option<String>,
    pub summary: String,
    /// The request (or, for a GitOps-managed object, the suggested change) as JSON.
    pub patch: Option<String>,
    pub suggested: bool,
}

#[derive(Debug, Clone)]
pub struct LogLines {
    pub container: String,
    pub previous: bool,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Gone {
    pub fingerprint: String,
    pub member: Member,
}

impl Gone {
    pub fn label(&self) -> String {
        member_label(&self.member)
    }
}

pub fn member_label(m: &Member) -> String {
    let mut s = format!("{} ", m.k);
    if let Some(ns) = &m.ns {
        s.push_str(ns);
        s.push('/');
    }
    s.push_str(&m.n);
    if let Some(c) = &m.c {
        s.push_str(&format!(" container={c}"));
    }
    s
}

pub fn member_of(f: &Finding) -> Member {
    Member {
        p: f.playbook.clone(),
        d: f.detector.to_owned(),
        k: f.target.kind.as_str().to_owned(),
        ns: f.target.namespace.clone(),
        n: f.target.name.clone(),
        c: f.target.container.clone(),
    }
}

/// Alert labels of a finding: the same for every round, so Alertmanager and webhook receivers
/// see one alert per finding.
pub fn alert_labels(m: &Member, tier: Tier, route: &str) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert("alertname".into(), m.p.clone());
    l.insert("playbook".into(), m.p.clone());
    l.insert("detector".into(), m.d.clone());
    l.insert("severity".into(), tier.as_str().into());
    l.insert("kind".into(), m.k.clone());
    if let Some(ns) = &m.ns {
        l.insert("namespace".into(), ns.clone());
    }
    l.insert(
        match m.k.as_str() {
            "Pod" => "pod",
            "Node" => "node",
            "Job" => "job_name",
            _ => "object",
        }
        .into(),
        m.n.clone(),
    );
    if let Some(c) = &m.c {
        l.insert("container".into(), c.clone());
    }
    l.insert("rounds_route".into(), route.into());
    l
}

/// What a finding's target is called in "… and 37 more pods".
pub fn noun(kind: TargetKind, n: usize) -> &'static str {
    match (kind, n == 1) {
        (TargetKind::Pod, true) => "pod",
        (TargetKind::Pod, false) => "pods",
        (TargetKind::Node, true) => "node",
        (TargetKind::Node, false) => "nodes",
        (TargetKind::Job, true) => "job",
        (TargetKind::Job, false) => "jobs",
        (TargetKind::PersistentVolumeClaim, true) => "PVC",
        (TargetKind::PersistentVolumeClaim, false) => "PVCs",
    }
}

impl Message {
    /// The sha256 of one of the message's playbooks (as in the report and the lock), for the
    /// channels that carry it on each alert.
    pub fn digest_of(&self, playbook: &str) -> Option<&str> {
        self.playbooks
            .iter()
            .find(|p| p.name == playbook)
            .map(|p| p.digest.as_str())
    }

    /// "pods" when all items are pods, else "findings".
    pub fn noun(&self, n: usize) -> &'static str {
        let mut kinds = self.items.iter().map(|i| i.target.kind);
        match kinds.next() {
            Some(k) if kinds.all(|o| o == k) => noun(k, n),
            _ if n == 1 => "finding",
            _ => "findings",
        }
    }

    /// One line for subjects, headers and summaries.
    pub fn title(&self) -> String {
        let dry = if self.dry_run { "[dry-run] " } else { "" };
        let tier = self.tier.as_str().to_uppercase();
        match self.kind {
            Kind::Resolved => format!(
                "{dry}[RESOLVED] {}: {} {} resolved",
                self.group_title(),
                self.resolved.len(),
                if self.resolved.len() == 1 {
                    "finding"
                } else {
                    "findings"
                }
            ),
            Kind::Firing => {
                let n = self.items.len();
                let detectors: std::collections::BTreeSet<&str> =
                    self.items.iter().map(|i| i.detector).collect();
                let what: Vec<&str> = detectors.into_iter().collect();
                format!(
                    "{dry}[{tier}] {}: {n} {} ({})",
                    self.group_title(),
                    self.noun(n),
                    what.join(", ")
                )
            }
        }
    }

    fn group_title(&self) -> String {
        if self.group_labels.is_empty() {
            format!("route {}", self.route)
        } else {
            self.group_labels
                .values()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    /// The newest findings first, then the rest in report order.
    pub fn new_count(&self) -> usize {
        self.items.iter().filter(|i| i.new).count()
    }
}

/// Builds the item of one finding: facts, what was done, and redacted context.
pub fn item(
    f: &Finding,
    tier: Tier,
    raised: Vec<String>,
    new: bool,
    actions: &[ActionEntry],
    redactor: &LogRedactor,
) -> Item {
    let e = &f.evidence;
    let mut facts: Vec<(&'static str, String)> = Vec::new();
    let mut fact = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            facts.push((k, v));
        }
    };
    fact("reason", e.reason.clone());
    fact("exit code", e.exit_code.map(|c| c.to_string()));
    fact("restarts", e.restart_count.map(|c| c.to_string()));
    fact("occurrences", e.occurrences.map(|c| c.to_string()));
    fact("started", e.started_at.as_ref().map(|t| t.raw().to_owned()));
    fact(
        "finished",
        e.finished_at.as_ref().map(|t| t.raw().to_owned()),
    );
    fact("since", e.since.as_ref().map(|t| t.raw().to_owned()));
    fact("phase", e.phase.clone());
    fact("node", e.node.clone());
    fact("image", e.image.clone());
    fact("memory limit", e.memory_limit.clone());
    fact("used", e.used_percent.map(|p| format!("{p:.1}%")));
    fact(
        "inodes used",
        e.inodes_used_percent.map(|p| format!("{p:.1}%")),
    );
    fact("detail", e.message.as_ref().map(|m| redactor.redact(m)));
    let actions = actions
        .iter()
        .filter(|a| a.findings.contains(&f.fingerprint))
        .map(|a| {
            let gitops = a.guard == Some(SkippedBy::Guard(Guard::GitOps));
            ActionLine {
                action: a.action,
                status: a.status.as_str(),
                guard: a.guard.map(SkippedBy::name),
                reason: a.reason.as_ref().map(|r| redactor.redact(r)),
                summary: a.summary.clone(),
                patch: a.patch.as_ref().map(|p| {
                    let body = p.body_text().map(|b| format!(" {b}")).unwrap_or_default();
                    format!("{} {}{body}", p.method(), p.path())
                }),
                suggested: gitops && a.status == ActionStatus::Skipped,
            }
        })
        .collect();
    let events = f
        .context
        .events
        .iter()
        .map(|ev| {
            let mut s = String::new();
            if let Some(t) = &ev.type_ {
                s.push_str(t);
                s.push(' ');
            }
            if let Some(r) = &ev.reason {
                s.push_str(r);
            }
            if let Some(c) = ev.count.filter(|c| *c > 1) {
                s.push_str(&format!(" (x{c})"));
            }
            if let Some(m) = &ev.message {
                s.push_str(": ");
                s.push_str(&redactor.redact(m));
            }
            if let Some(t) = &ev.last_seen {
                s.push_str(&format!(" [{}]", t.raw()));
            }
            s
        })
        .collect();
    let log_tail = f.context.log_tail.as_ref().map(|l| LogLines {
        container: l.container.clone(),
        previous: l.previous,
        lines: l.lines.iter().map(|line| redactor.redact(line)).collect(),
    });
    Item {
        fingerprint: f.fingerprint.clone(),
        new,
        tier,
        raised,
        playbook: f.playbook.clone(),
        detector: f.detector,
        target: f.target.clone(),
        owner: f
            .owner
            .as_ref()
            .map(|o| format!("{} {}/{}", o.kind, o.namespace, o.name)),
        message: redactor.redact(&f.message),
        facts,
        actions,
        events,
        log_tail,
    }
}

pub fn member_of_item(i: &Item) -> Member {
    Member {
        p: i.playbook.clone(),
        d: i.detector.to_owned(),
        k: i.target.kind.as_str().to_owned(),
        ns: i.target.namespace.clone(),
        n: i.target.name.clone(),
        c: i.target.container.clone(),
    }
}
