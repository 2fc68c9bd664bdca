//! The executor: the only path by which rounds changes the cluster. Plan rounds send nothing;
//! dry-run rounds send each write with `dryRun=All`; apply rounds send the same dry run first
//! and only if the server accepts it the real write, with the intent recorded in the ledger
//! before and confirmed after, so a round that dies in between is reconciled by the next one.

pub mod reconcile;

use crate::api::request::{Request, Verb};
use crate::api::{ApiError, Operation};
use crate::audit::annotation::{self, Stamp};
use crate::detect::Finding;
use crate::guard::{Guard, SkippedBy, Verdict};
use crate::inventory::Index;
use crate::ledger::{Cooldown, Effect, HistoryEntry, Intent, LedgerState, LedgerStore, Recorded};
use crate::objects::{self, Decoded, Object};
use crate::plan::{PlanContext, Planned, Step};
use crate::round::context::RoundContext;
use crate::round::mode::Mode;

/// What became of one planned action.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing was sent: a plan round, or a guard held it back.
    NotSent,
    /// A dry-run round: the server accepted the request with dryRun=All.
    DryRunAccepted,
    Applied,
    /// The guards, the planner (on a re-plan) or the server said no, and that is no failure.
    Skipped {
        by: SkippedBy,
        reason: String,
    },
    Failed {
        error: String,
    },
}

/// An outcome with the request that was sent last (a re-plan may have changed it).
#[derive(Debug, Clone)]
pub struct Executed {
    pub outcome: Outcome,
    /// The request as sent, when it differs from the planned one (stamped, retried); `None`
    /// when nothing was sent: the planned request is the one to show.
    pub request: Option<Request>,
    /// Statuses the server answered: the dry run, then the real write.
    pub dry_run_status: Option<u16>,
    pub status: Option<u16>,
    /// Things the report should say (a ledger that could not be saved after a write).
    pub notes: Vec<String>,
}

impl Executed {
    fn just(outcome: Outcome, request: Option<Request>) -> Self {
        Self {
            outcome,
            request,
            dry_run_status: None,
            status: None,
            notes: Vec::new(),
        }
    }
}

/// What a write removes, makes or marks, for the intent in the ledger.
fn effect(verb: Verb) -> Effect {
    match verb {
        Verb::Delete | Verb::Evict => Effect::Removed,
        Verb::Create => Effect::Created,
        Verb::Patch | Verb::Update => Effect::Annotated,
    }
}

/// How an error of the server maps to an outcome of the action.
fn answered(e: ApiError, request: &Request, mode: Mode) -> Outcome {
    match e {
        // A dry run is a check: read-only RBAC (the observe overlay) makes every check answer
        // 403, which says what apply would need, not that the round failed.
        e @ ApiError::Forbidden { .. } if mode == Mode::DryRun => Outcome::Skipped {
            by: SkippedBy::Guard(Guard::Forbidden),
            reason: e.to_string(),
        },
        ApiError::DisruptionBudget { message, .. } => Outcome::Skipped {
            by: SkippedBy::Guard(Guard::DisruptionBudget),
            reason: message,
        },
        ApiError::NotServed { .. } => Outcome::Skipped {
            by: SkippedBy::Guard(Guard::TargetGone),
            reason: format!("{} no longer exists", request.target()),
        },
        ApiError::Status { code: 409, .. } if request.verb() == Verb::Create => Outcome::Skipped {
            by: SkippedBy::Guard(Guard::AlreadyDone),
            reason: format!("{} already exists", request.target()),
        },
        other => Outcome::Failed {
            error: other.to_string(),
        },
    }
}

fn is_conflict(e: &ApiError) -> bool {
    matches!(e, ApiError::Status { code: 409, .. })
}

/// Saves the ledger (live rounds), without holding a borrow of it across the save.
pub async fn save_ledger(
    ctx: &RoundContext<'_>,
) -> Result<crate::ledger::Saved, crate::ledger::LedgerError> {
    let Some(api) = ctx.api else {
        return Ok(Default::default());
    };
    let store = LedgerStore::new(api, &ctx.config.namespace, &ctx.config.ledger_name)?;
    let mut state = ctx.ledger.replace(LedgerState::Absent);
    let result = match &mut state {
        LedgerState::Live(stored) => store.save(stored).await,
        _ => Ok(Default::default()),
    };
    ctx.ledger.replace(state);
    result
}

/// Reads the target again and plans the action once more, after a 409 Conflict (the object
/// changed since the inventory read it).
async fn replan(
    ctx: &RoundContext<'_>,
    planned: &Planned,
    finding: &Finding,
    step: &Step,
) -> Result<Step, Outcome> {
    let Some(api) = ctx.api else {
        return Err(Outcome::NotSent);
    };
    let t = &step.target;
    let resource = t.resource().plural;
    let op = Operation::new("get", resource, t.namespace());
    let fresh = match api.get(&t.path(), op).await {
        Ok(Some(text)) => text,
        Ok(None) => {
            return Err(Outcome::Skipped {
                by: SkippedBy::Guard(Guard::TargetGone),
                reason: format!("{t} no longer exists"),
            });
        }
        Err(e) => {
            return Err(Outcome::Failed {
                error: e.to_string(),
            });
        }
    };
    let value: serde_json::Value = serde_json::from_str(&fresh).unwrap_or_default();
    let mut index = Index::default();
    if let Ok(Decoded::Object(o)) = objects::decode(value) {
        if let Object::Pvc(p) = &o
            && let Some(class) = p
                .spec
                .storage_class_name
                .as_deref()
                .and_then(|c| ctx.index.storage_class(c))
        {
            index.add(Object::StorageClass(Box::new(class.clone())));
        }
        index.add(o);
    }
    let playbook = &ctx.config.playbooks[planned.playbook];
    let action = &playbook.playbook.spec.remediate[planned.action];
    let pctx = PlanContext {
        now: ctx.now,
        index: &index,
    };
    match action.imp().plan(finding, &pctx) {
        Ok(mut s) => {
            if let Some(r) = s.request.as_mut() {
                annotation::stamp(
                    r,
                    &Stamp::new(ctx.now, ctx.run_id, playbook.name(), action.name()),
                );
            }
            Ok(s)
        }
        Err(refusal) => Err(Outcome::Skipped {
            by: SkippedBy::Plan(refusal.check),
            reason: format!("after re-reading {t}: {}", refusal.reason),
        }),
    }
}

/// Carries out one planned step as the round's mode and the guards' verdict say.
pub async fn execute(
    ctx: &RoundContext<'_>,
    planned: &Planned,
    finding: &Finding,
    step: &Step,
    verdict: &Verdict,
) -> Executed {
    let Some(request) = &step.request else {
        // notifyOnly: nothing to write; in an apply round it is done.
        let outcome = if ctx.mode == Mode::Apply {
            Outcome::Applied
        } else {
            Outcome::NotSent
        };
        return Executed::just(outcome, None);
    };
    match verdict {
        Verdict::Skip { guard, reason } if *guard != Guard::Mode => {
            return Executed::just(
                Outcome::Skipped {
                    by: SkippedBy::Guard(*guard),
                    reason: reason.clone(),
                },
                None,
            );
        }
        _ => {}
    }
    let Some(api) = ctx.api.filter(|_| ctx.mode.sends()) else {
        return Executed::just(Outcome::NotSent, None);
    };
    if let Some(why) = ctx.stopped() {
        return Executed::just(
            Outcome::Failed {
                error: format!("not started: {why}"),
            },
            None,
        );
    }
    let mut run = Executed::just(Outcome::NotSent, None);
    let mut request = request.clone();
    let mut replanned = false;
    // The dry run: the server checks RBAC, validation, admission and PDBs.
    loop {
        match api.send(&request.dry_run()).await {
            Ok(r) => {
                run.dry_run_status = Some(r.status);
                break;
            }
            Err(e) if is_conflict(&e) && request.verb() != Verb::Create && !replanned => {
                replanned = true;
                match replan(ctx, planned, finding, step).await {
                    Ok(s) => match s.request {
                        Some(r) => request = r,
                        None => break,
                    },
                    Err(outcome) => {
                        run.outcome = outcome;
                        return run;
                    }
                }
            }
            Err(e) => {
                run.outcome = answered(e, &request, ctx.mode);
                run.request = Some(request);
                return run;
            }
        }
    }
    run.request = Some(request.clone());
    if ctx.mode != Mode::Apply {
        run.outcome = Outcome::DryRunAccepted;
        return run;
    }
    // Apply: announce the write in the ledger, send it, confirm it.
    let playbook = &ctx.config.playbooks[planned.playbook];
    let action = playbook.playbook.spec.remediate[planned.action].name();
    let intent_id = format!(
        "{}/{}",
        ctx.run_id,
        crate::ledger::document::action_key(action, request.target())
    );
    let live = {
        let mut state = ctx.ledger.borrow_mut();
        match state.ledger_mut() {
            Some(l) => {
                l.intents.insert(
                    intent_id.clone(),
                    Intent {
                        run_id: ctx.run_id.to_owned(),
                        playbook: playbook.name().to_owned(),
                        action: action.to_owned(),
                        target: request.target().clone(),
                        at: ctx.now,
                        effect: effect(request.verb()),
                        findings: planned.findings.clone(),
                    },
                );
                true
            }
            None => false,
        }
    };
    if !live {
        run.outcome = Outcome::Failed {
            error: "no ledger to record the write in, so it was not sent".into(),
        };
        return run;
    }
    match save_ledger(ctx).await {
        Ok(saved) => merged_note(&mut run, &saved),
        Err(e) => {
            if let Some(l) = ctx.ledger.borrow_mut().ledger_mut() {
                l.intents.remove(&intent_id);
            }
            run.outcome = Outcome::Failed {
                error: format!("the write was not sent: its intent could not be recorded: {e}"),
            };
            return run;
        }
    }
    let sent = api.send(&request).await;
    {
        let mut state = ctx.ledger.borrow_mut();
        if let Some(l) = state.ledger_mut() {
            l.intents.remove(&intent_id);
            match &sent {
                Ok(_) => {
                    l.record_applied(
                        Cooldown {
                            action: action.to_owned(),
                            target: request.target().clone(),
                            playbook: playbook.name().to_owned(),
                            run_id: ctx.run_id.to_owned(),
                            applied_at: ctx.now,
                        },
                        Recorded::Applied,
                        None,
                    );
                    for fp in &planned.findings {
                        l.escalations.insert(
                            fp.clone(),
                            crate::ledger::Escalation {
                                playbook: playbook.name().to_owned(),
                                target: finding.target.display(),
                                remediated_at: ctx.now,
                                run_id: ctx.run_id.to_owned(),
                                rounds: 0,
                                escalated: false,
                            },
                        );
                    }
                }
                Err(e) => l.push_history(HistoryEntry {
                    at: ctx.now,
                    run_id: ctx.run_id.to_owned(),
                    playbook: playbook.name().to_owned(),
                    action: action.to_owned(),
                    target: request.target().clone(),
                    outcome: Recorded::Failed,
                    detail: Some(e.to_string()),
                }),
            }
        }
    }
    run.outcome = match sent {
        Ok(r) => {
            run.status = Some(r.status);
            Outcome::Applied
        }
        Err(e) => answered(e, &request, ctx.mode),
    };
    match save_ledger(ctx).await {
        Ok(saved) => merged_note(&mut run, &saved),
        Err(e) => run.notes.push(format!(
            "the ledger could not be saved after {action} on {}: {e}; the next round reads the target to confirm it",
            request.target()
        )),
    }
    run
}

fn merged_note(run: &mut Executed, saved: &crate::ledger::Saved) {
    if saved.merged > 0 {
        run.notes.push(format!(
            "the ledger changed while this round ran; {} conflict(s) merged, no entry lost",
            saved.merged
        ));
    }
}
