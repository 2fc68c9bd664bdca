//! The plan diff: what a change of playbooks would change in what rounds does to the cluster as
//! it is now. Both plans come from one read of the cluster (`round::sets`); this module only
//! compares them and renders the comparison as text, JSON or Markdown for a pull request.

pub mod markdown;
pub mod text;

use crate::report::{ActionEntry, RoundReport};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An action as the diff shows it: what it acts on, what it would send, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionView {
    pub playbook: String,
    pub action: String,
    pub target: String,
    /// planned | applied | skipped | failed, with the guard and reason when skipped.
    pub verdict: String,
    pub summary: String,
    /// The exact request, as `METHOD path` and its body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// How many findings the action answers.
    pub findings: usize,
}

impl ActionView {
    fn of(a: &ActionEntry) -> Self {
        let guard = a.guard.map(|g| g.name());
        let verdict = match (&guard, &a.reason) {
            (Some(g), Some(r)) => format!("{} ({g}: {r})", a.status.as_str()),
            (Some(g), None) => format!("{} ({g})", a.status.as_str()),
            (None, Some(r)) => format!("{} ({r})", a.status.as_str()),
            (None, None) => a.status.as_str().to_owned(),
        };
        Self {
            playbook: a.playbook.clone(),
            action: a.action.to_string(),
            // Unnamed targets are never acted on; the summary says which finding it was.
            target: a
                .target
                .as_ref()
                .map_or_else(|| "(unnamed)".to_owned(), |t| t.display()),
            verdict,
            summary: a.summary.clone(),
            request: a
                .patch
                .as_ref()
                .map(|r| format!("{} {}", r.method(), r.path())),
            body: a.patch.as_ref().and_then(|r| r.body()),
            findings: a.findings.len(),
        }
    }

    fn key(&self) -> (&str, &str, &str) {
        (&self.playbook, &self.action, &self.target)
    }

    /// The fields that differ from `other`, by name.
    fn differences(&self, other: &Self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.verdict != other.verdict {
            out.push("verdict");
        }
        if self.request != other.request || self.body != other.body {
            out.push("patch");
        }
        if self.summary != other.summary {
            out.push("summary");
        }
        if self.findings != other.findings {
            out.push("findings");
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingView {
    pub playbook: String,
    pub detector: String,
    pub severity: String,
    pub target: String,
    pub message: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Changed<T> {
    pub base: T,
    pub head: T,
    /// Which fields differ.
    pub fields: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Changes<T> {
    pub added: Vec<T>,
    pub removed: Vec<T>,
    pub changed: Vec<Changed<T>>,
    pub unchanged: usize,
}

impl<T> Default for Changes<T> {
    fn default() -> Self {
        Self {
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
            unchanged: 0,
        }
    }
}

impl<T> Changes<T> {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlaybookChange {
    Added,
    Removed,
    Changed,
}

impl PlaybookChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookDiff {
    pub name: String,
    pub change: PlaybookChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_digest: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    pub playbooks: usize,
    pub findings: usize,
    pub actions: usize,
}

impl Side {
    fn of(r: &RoundReport) -> Self {
        Self {
            playbooks: r.playbooks.len(),
            findings: r.findings.len(),
            actions: r.actions.len(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDiff {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// Where the cluster state came from (one read for both plans).
    pub source: String,
    pub now: String,
    pub base: Side,
    pub head: Side,
    pub playbooks: Vec<PlaybookDiff>,
    pub actions: Changes<ActionView>,
    pub findings: Changes<FindingView>,
    pub notes: Vec<String>,
}

impl PlanDiff {
    pub fn is_empty(&self) -> bool {
        self.playbooks.is_empty() && self.actions.is_empty() && self.findings.is_empty()
    }

    /// `+2 −1 ~1 actions; +3 −0 ~0 findings`, as the first line of every output.
    pub fn summary(&self) -> String {
        if self.actions.is_empty() && self.findings.is_empty() {
            return format!(
                "no change to the plan ({} action(s), {} finding(s) unchanged; {} playbook(s) changed)",
                self.actions.unchanged,
                self.findings.unchanged,
                self.playbooks.len()
            );
        }
        let a = &self.actions;
        let f = &self.findings;
        format!(
            "actions: {} added, {} removed, {} changed; findings: {} added, {} removed, {} changed",
            a.added.len(),
            a.removed.len(),
            a.changed.len(),
            f.added.len(),
            f.removed.len(),
            f.changed.len()
        )
    }
}

/// Compares the plan of the base playbooks with the plan of the head playbooks, both made on
/// the same cluster state.
pub fn compare(base: &RoundReport, head: &RoundReport) -> PlanDiff {
    let mut notes: Vec<String> = head.notes.clone();
    for n in &base.notes {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }
    PlanDiff {
        api_version: "rounds.dev/v1alpha1",
        kind: "PlanDiff",
        source: head.source.clone(),
        now: head.now.clone(),
        base: Side::of(base),
        head: Side::of(head),
        playbooks: playbooks(base, head),
        actions: actions(base, head),
        findings: findings(base, head),
        notes,
    }
}

fn playbooks(base: &RoundReport, head: &RoundReport) -> Vec<PlaybookDiff> {
    let b: BTreeMap<&str, &str> = base
        .playbooks
        .iter()
        .map(|p| (p.name.as_str(), p.digest.as_str()))
        .collect();
    let h: BTreeMap<&str, &str> = head
        .playbooks
        .iter()
        .map(|p| (p.name.as_str(), p.digest.as_str()))
        .collect();
    let names: BTreeSet<&str> = b.keys().chain(h.keys()).copied().collect();
    names
        .into_iter()
        .filter_map(|name| {
            let change = match (b.get(name), h.get(name)) {
                (None, Some(_)) => PlaybookChange::Added,
                (Some(_), None) => PlaybookChange::Removed,
                (Some(x), Some(y)) if x != y => PlaybookChange::Changed,
                _ => return None,
            };
            Some(PlaybookDiff {
                name: name.to_owned(),
                change,
                base_digest: b.get(name).map(|d| (*d).to_owned()),
                head_digest: h.get(name).map(|d| (*d).to_owned()),
            })
        })
        .collect()
}

/// Actions are matched by playbook, action and target. Where one target gets several actions
/// of a kind (two containers of one Deployment), equal ones are matched first and the rest in
/// plan order.
fn actions(base: &RoundReport, head: &RoundReport) -> Changes<ActionView> {
    let b: Vec<ActionView> = base.actions.iter().map(ActionView::of).collect();
    let h: Vec<ActionView> = head.actions.iter().map(ActionView::of).collect();
    let mut out = Changes::default();
    let mut used = vec![false; h.len()];
    let mut left: Vec<&ActionView> = Vec::new();
    for a in &b {
        match (0..h.len()).find(|&i| !used[i] && h[i] == *a) {
            Some(i) => {
                used[i] = true;
                out.unchanged += 1;
            }
            None => left.push(a),
        }
    }
    for a in left {
        match (0..h.len()).find(|&i| !used[i] && h[i].key() == a.key()) {
            Some(i) => {
                used[i] = true;
                out.changed.push(Changed {
                    fields: a.differences(&h[i]),
                    base: a.clone(),
                    head: h[i].clone(),
                });
            }
            None => out.removed.push(a.clone()),
        }
    }
    out.added = h
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(a, _)| a.clone())
        .collect();
    out
}

fn findings(base: &RoundReport, head: &RoundReport) -> Changes<FindingView> {
    let view = |f: &crate::detect::Finding| FindingView {
        playbook: f.playbook.clone(),
        detector: f.detector.to_owned(),
        severity: f.severity.as_str().to_owned(),
        target: f.target.display(),
        message: f.message.clone(),
        fingerprint: f.fingerprint.clone(),
    };
    let b: BTreeMap<&str, FindingView> = base
        .findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), view(f)))
        .collect();
    let h: BTreeMap<&str, FindingView> = head
        .findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), view(f)))
        .collect();
    let mut out = Changes::default();
    // In plan order (playbook, then target), not by fingerprint.
    for f in &base.findings {
        let (Some(x), y) = (b.get(f.fingerprint.as_str()), h.get(f.fingerprint.as_str())) else {
            continue;
        };
        match y {
            None => out.removed.push(x.clone()),
            Some(y) if x == y => out.unchanged += 1,
            Some(y) => {
                let mut fields = Vec::new();
                if x.severity != y.severity {
                    fields.push("severity");
                }
                if x.message != y.message {
                    fields.push("message");
                }
                out.changed.push(Changed {
                    base: x.clone(),
                    head: y.clone(),
                    fields,
                });
            }
        }
    }
    for f in &head.findings {
        if !b.contains_key(f.fingerprint.as_str())
            && let Some(y) = h.get(f.fingerprint.as_str())
        {
            out.added.push(y.clone());
        }
    }
    out
}
