//! The round's report: one `RoundReport` document (JSON), or text for a person. It is assembled
//! last, from the findings, the planned steps, the guards' verdicts and the outcomes.

pub mod text;

use crate::api::request::Request;
use crate::api::resource::ObjectRef;
use crate::detect::Finding;
use crate::execute::{Executed, Outcome};
use crate::guard::{Guard, SkippedBy, Verdict, VerdictEntry};
use crate::plan::Planned;
use crate::round::config::RoundConfig;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub run_id: String,
    /// `plan`, `dry-run` or `apply`.
    pub mode: &'static str,
    /// The reference time of the round (`--now`, or the clock).
    pub now: String,
    pub source: String,
    pub playbooks: Vec<PlaybookEntry>,
    pub findings: Vec<Finding>,
    pub actions: Vec<ActionEntry>,
    /// Findings that outlived their remediation, or whose playbook's circuit breaker tripped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<EscalationEntry>,
    pub notifications: Vec<NotificationEntry>,
    /// Things the user should know that are not errors (ignored kinds, skipped scope checks).
    pub notes: Vec<String>,
    pub summary: Summary,
    /// What became of the push of rounds' metrics (`run` with `metrics.pushgateway`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<crate::metrics::PushEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybookEntry {
    pub name: String,
    pub file: String,
    pub digest: String,
    pub due: bool,
    pub detector: &'static str,
    pub severity: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ActionStatus {
    Planned,
    Applied,
    Skipped,
    Failed,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Applied => "applied",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// What the API server answered to an action's requests.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerAnswer {
    /// The status of the request sent with dryRun=All.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<u16>,
    /// The status of the real write (apply rounds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionEntry {
    pub playbook: String,
    pub action: &'static str,
    /// What the action acts on (absent only when the finding's object cannot be named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<ObjectRef>,
    pub status: ActionStatus,
    /// The guard (or the planner's check) that skipped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<SkippedBy>,
    /// Why it was skipped, or why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub summary: String,
    /// The exact request the action sends (or would send). For a GitOps-managed target it is
    /// the suggested change to make in Git.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<Request>,
    /// Fingerprints of the findings this action answers.
    pub findings: Vec<String>,
    /// Every guard's verdict, in order, up to the one that decided.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<VerdictEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerAnswer>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalationEntry {
    pub fingerprint: String,
    pub playbook: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationEntry {
    pub channel: String,
    pub tier: &'static str,
    /// sent | suppressed | failed | fallback | dry-run
    pub status: &'static str,
    pub attempts: u32,
    /// Why delivery failed, without secrets (URLs are stripped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The route and the group (e.g. `playbook=oom-raise-memory`) the message was for.
    pub route: String,
    pub group: String,
    /// Why it was sent: new | changed | repeat | refresh | resolved (none when suppressed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Findings in the message (firing and resolved).
    pub findings: usize,
    /// For a fallback delivery: the channel that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_for: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub playbooks: usize,
    pub due: usize,
    pub objects: usize,
    pub findings: usize,
    pub planned: usize,
    pub applied: usize,
    pub skipped: usize,
    pub failed: usize,
}

/// What the report is assembled from.
pub struct Parts<'a> {
    pub config: &'a RoundConfig,
    pub run_id: &'a str,
    pub source: String,
    pub due: &'a [bool],
    pub objects: usize,
    pub findings: Vec<Finding>,
    /// Taken: each action's request moves into its entry, not copied.
    pub planned: Vec<Planned>,
    pub decisions: &'a [Option<(Verdict, Vec<VerdictEntry>)>],
    pub executed: Vec<Option<Executed>>,
    pub escalations: Vec<EscalationEntry>,
    pub notes: Vec<String>,
}

/// One action's entry: what was planned, decided and done.
fn entry(
    parts: &Parts,
    decision: Option<&(Verdict, Vec<VerdictEntry>)>,
    p: Planned,
    run: Option<Executed>,
) -> ActionEntry {
    let playbook = &parts.config.playbooks[p.playbook];
    let action = playbook.playbook.spec.remediate[p.action].name();
    let base = ActionEntry {
        playbook: playbook.name().to_owned(),
        action,
        target: p.target().cloned(),
        status: ActionStatus::Planned,
        guard: None,
        reason: None,
        summary: String::new(),
        patch: None,
        findings: p.findings,
        verdicts: Vec::new(),
        server: None,
    };
    let step = match p.result {
        Err(refusal) => {
            let what = refusal
                .target
                .as_ref()
                .map(ObjectRef::display)
                .unwrap_or_else(|| parts.findings[p.finding].target.display());
            return ActionEntry {
                status: ActionStatus::Skipped,
                guard: Some(SkippedBy::Plan(refusal.check)),
                reason: Some(refusal.reason),
                summary: format!("{action} {what}"),
                ..base
            };
        }
        Ok(step) => step,
    };
    let mut verdicts = decision.map(|(_, v)| v.clone()).unwrap_or_default();
    // The API server's answer is the last verdict (a PDB's 429, a target that is gone).
    if let Some(Outcome::Skipped {
        by: SkippedBy::Guard(g),
        reason,
    }) = run.as_ref().map(|r| &r.outcome)
        && !Guard::ORDER.contains(g)
    {
        verdicts.push(VerdictEntry {
            guard: *g,
            verdict: crate::guard::Decision::Skip,
            reason: Some(reason.clone()),
        });
    }
    let (status, guard, reason) = match run.as_ref().map(|r| &r.outcome) {
        None | Some(Outcome::NotSent) | Some(Outcome::DryRunAccepted) => {
            match decision.map(|(v, _)| v) {
                Some(Verdict::Skip { guard, reason }) if *guard != Guard::Mode => (
                    ActionStatus::Skipped,
                    Some(SkippedBy::Guard(*guard)),
                    Some(reason.clone()),
                ),
                _ => (ActionStatus::Planned, None, None),
            }
        }
        Some(Outcome::Applied) => (ActionStatus::Applied, None, None),
        Some(Outcome::Skipped { by, reason }) => {
            (ActionStatus::Skipped, Some(*by), Some(reason.clone()))
        }
        Some(Outcome::Failed { error }) => (ActionStatus::Failed, None, Some(error.clone())),
    };
    let server = run
        .as_ref()
        .filter(|r| r.dry_run_status.is_some() || r.status.is_some())
        .map(|r| ServerAnswer {
            dry_run: r.dry_run_status,
            write: r.status,
        });
    ActionEntry {
        status,
        guard,
        reason,
        summary: step.summary,
        // The request as sent, when it was; else as planned.
        patch: run.and_then(|r| r.request).or(step.request),
        target: Some(step.target),
        verdicts,
        server,
        ..base
    }
}

pub fn assemble(mut parts: Parts) -> RoundReport {
    let config = parts.config;
    let planned = std::mem::take(&mut parts.planned);
    let executed = std::mem::take(&mut parts.executed);
    let actions: Vec<ActionEntry> = planned
        .into_iter()
        .zip(executed)
        .enumerate()
        .map(|(i, (p, run))| entry(&parts, parts.decisions[i].as_ref(), p, run))
        .collect();
    let playbooks: Vec<PlaybookEntry> = config
        .playbooks
        .iter()
        .zip(parts.due)
        .map(|(p, due)| PlaybookEntry {
            name: p.name().to_owned(),
            file: p.file.clone(),
            digest: p.digest.clone(),
            due: *due,
            detector: p.playbook.spec.detect.name(),
            severity: p.playbook.spec.severity.as_str(),
        })
        .collect();
    let count = |s: ActionStatus| actions.iter().filter(|a| a.status == s).count();
    let summary = Summary {
        playbooks: playbooks.len(),
        due: parts.due.iter().filter(|d| **d).count(),
        objects: parts.objects,
        findings: parts.findings.len(),
        planned: count(ActionStatus::Planned),
        applied: count(ActionStatus::Applied),
        skipped: count(ActionStatus::Skipped),
        failed: count(ActionStatus::Failed),
    };
    RoundReport {
        api_version: "rounds.dev/v1alpha1",
        kind: "RoundReport",
        run_id: parts.run_id.to_owned(),
        mode: config.mode.as_str(),
        now: config
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: parts.source,
        playbooks,
        findings: parts.findings,
        actions,
        escalations: parts.escalations,
        notifications: Vec::new(),
        notes: parts.notes,
        summary,
        push: None,
    }
}
