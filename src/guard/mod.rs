//! Guards: for each planned action, in one fixed order, a check that allows it or skips it with
//! a reason. The first guard that skips decides; every check made is in the report.
//!
//! Adding a guard: one file with a unit struct implementing [`GuardCheck`] (with its `EXPLAIN`,
//! `EXAMPLE` and `SETTINGS` for `rounds explain`), and one line in [`guards!`] below (its place
//! in the list is its place in the order).

mod answered;
mod blast_radius;
mod budget;
pub mod circuit_breaker;
pub mod config;
mod cooldown;
pub mod gitops;
mod lock;
mod mode;
pub mod opt_out;
pub mod pause;
mod protected_namespace;
mod safe_to_evict;
mod window;

pub use pause::Pause;

use crate::detect::Finding;
use crate::plan::{Action, Planned, Step};
use crate::playbook::Loaded;
use crate::round::context::RoundContext;
use serde::Serialize;
use std::collections::BTreeMap;

/// What one guard says about one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Pass,
    /// The guard could not look (a snapshot has no ledger); the action is not held back by it.
    Unchecked(String),
    Block(String),
}

/// The guards' decision about one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Skip { guard: Guard, reason: String },
}

/// One check as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictEntry {
    pub guard: Guard,
    pub verdict: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    Allow,
    Unchecked,
    Skip,
}

/// What held an action back: a guard, or a check of the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SkippedBy {
    Guard(Guard),
    Plan(crate::plan::PlanCheck),
}

impl SkippedBy {
    pub fn name(self) -> &'static str {
        match self {
            Self::Guard(g) => g.name(),
            Self::Plan(c) => c.as_str(),
        }
    }
}

/// What a guard looks at: the action, the finding that led to it, and the planned step.
pub struct GuardInput<'a> {
    pub playbook: &'a Loaded,
    pub action: &'a Action,
    pub finding: &'a Finding,
    pub step: &'a Step,
}

/// What the round has allowed so far, for budgets and blast radius.
#[derive(Debug, Default)]
pub struct Tally {
    pub total: u32,
    pub per_playbook: BTreeMap<String, u32>,
    pub per_namespace: BTreeMap<(String, String), u32>,
    pub per_action: BTreeMap<(String, &'static str), u32>,
    /// Ready pods this round takes away, per owning workload key.
    pub disrupted: BTreeMap<String, u32>,
    /// Nodes this round cordons.
    pub nodes: u32,
}

impl Tally {
    fn record(&mut self, input: &GuardInput) {
        let pb = input.playbook.name().to_owned();
        self.total += 1;
        *self.per_playbook.entry(pb.clone()).or_default() += 1;
        if let Some(ns) = input.step.target.namespace() {
            *self
                .per_namespace
                .entry((pb.clone(), ns.to_owned()))
                .or_default() += 1;
        }
        *self
            .per_action
            .entry((pb, input.action.name()))
            .or_default() += 1;
        if let Some(key) = blast_radius::disrupted_workload(input) {
            *self.disrupted.entry(key).or_default() += 1;
        }
        if matches!(input.action, Action::CordonNode(_)) {
            self.nodes += 1;
        }
    }
}

pub trait GuardCheck {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, tally: &Tally) -> Check;
}

macro_rules! guards {
    (
        checked: { $($name:literal => $variant:ident($module:ident::$ty:ident)),* $(,)? }
        answered: { $($sname:literal => $svariant:ident($smodule:ident::$sty:ident)),* $(,)? }
    ) => {
        /// A guard, by name. The checked ones run before a write, in this order; the answered
        /// ones are the API server's decisions about a write.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum Guard {
            $(#[serde(rename = $name)] $variant,)*
            $(#[serde(rename = $sname)] $svariant,)*
        }

        impl Guard {
            /// The guards checked before a write, in their order.
            pub const ORDER: &'static [Guard] = &[$(Guard::$variant),*];

            /// Every guard: the checked ones, then the API server's answers.
            pub const ALL: &'static [Guard] = &[$(Guard::$variant,)* $(Guard::$svariant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                    $(Self::$svariant => $sname,)*
                }
            }

            fn check(self, input: &GuardInput, ctx: &RoundContext, tally: &Tally) -> Check {
                match self {
                    $(Self::$variant => $module::$ty.check(input, ctx, tally),)*
                    $(Self::$svariant => Check::Pass,)*
                }
            }

            /// Every guard with its explanation, settings and example (see [`crate::catalog`]).
            pub const CATALOG: &'static [crate::catalog::Entry] = &[
                $(crate::catalog::Entry {
                    name: $name,
                    kind: crate::catalog::Kind::Guard,
                    text: $module::$ty::EXPLAIN,
                    example: $module::$ty::EXAMPLE,
                    settings: $module::$ty::SETTINGS,
                },)*
                $(crate::catalog::Entry {
                    name: $sname,
                    kind: crate::catalog::Kind::Guard,
                    text: $smodule::$sty::EXPLAIN,
                    example: $smodule::$sty::EXAMPLE,
                    settings: &[],
                },)*
            ];
        }
    };
}

guards! {
    checked: {
        "mode" => Mode(mode::ModeGuard),
        "lock" => Lock(lock::LockGuard),
        "protectedNamespace" => ProtectedNamespace(protected_namespace::ProtectedNamespace),
        "optOut" => OptOut(opt_out::OptOut),
        "pause" => Pause(pause::PauseGuard),
        "gitOps" => GitOps(gitops::GitOps),
        "window" => Window(window::WindowGuard),
        "cooldown" => Cooldown(cooldown::CooldownGuard),
        "budget" => Budget(budget::Budget),
        "blastRadius" => BlastRadius(blast_radius::BlastRadius),
        "circuitBreaker" => CircuitBreaker(circuit_breaker::CircuitBreaker),
        "safeToEvict" => SafeToEvict(safe_to_evict::SafeToEvict),
    }
    answered: {
        "disruptionBudget" => DisruptionBudget(answered::DisruptionBudget),
        "targetGone" => TargetGone(answered::TargetGone),
        "alreadyDone" => AlreadyDone(answered::AlreadyDone),
        "forbidden" => Forbidden(answered::Forbidden),
    }
}

/// Whether a guard reads this annotation of a finding's own object: a finding keeps only
/// those (a pod's annotations are often kilobytes of checksums and configuration, held for
/// every finding until the report). A guard that reads another one adds it here.
pub fn reads_annotation(key: &str) -> bool {
    [
        opt_out::EXCLUDE,
        opt_out::EXCLUDE_UNTIL,
        gitops::ARGO_TRACKING_ID,
        safe_to_evict::ANNOTATION,
    ]
    .contains(&key)
}

/// Whether a guard reads this label of a finding's own object; the same for labels, which a
/// finding keeps once its playbook's scope has been checked against all of them.
pub fn reads_label(key: &str) -> bool {
    gitops::reads_label(key)
}

/// The guards' verdict on one planned step, with every check made. In plan and dry-run modes
/// the mode guard holds every write back, but the guards after it are still checked, so the
/// report shows what an apply would do.
pub fn decide(
    input: &GuardInput,
    ctx: &RoundContext,
    tally: &mut Tally,
) -> (Verdict, Vec<VerdictEntry>) {
    if input.step.request.is_none() {
        // Nothing is written (notifyOnly): there is nothing to guard.
        return (Verdict::Allow, Vec::new());
    }
    let mut entries = Vec::new();
    let mut verdict = Verdict::Allow;
    let mut mode_skip = None;
    for &guard in Guard::ORDER {
        let check = guard.check(input, ctx, tally);
        let (decision, reason) = match check {
            Check::Pass => (Decision::Allow, None),
            Check::Unchecked(r) => (Decision::Unchecked, Some(r)),
            Check::Block(r) => (Decision::Skip, Some(r)),
        };
        entries.push(VerdictEntry {
            guard,
            verdict: decision,
            reason: reason.clone(),
        });
        if decision == Decision::Skip {
            let skip = Verdict::Skip {
                guard,
                reason: reason.unwrap_or_default(),
            };
            if guard == Guard::Mode {
                mode_skip = Some(skip);
                continue;
            }
            verdict = skip;
            break;
        }
    }
    if verdict == Verdict::Allow {
        tally.record(input);
        if let Some(skip) = mode_skip {
            verdict = skip;
        }
    }
    (verdict, entries)
}

/// Decides every planned step, in plan order.
pub fn decide_all(
    planned: &[Planned],
    findings: &[Finding],
    ctx: &RoundContext,
) -> Vec<Option<(Verdict, Vec<VerdictEntry>)>> {
    let mut tally = Tally::default();
    planned
        .iter()
        .map(|p| {
            let step = p.result.as_ref().ok()?;
            let playbook = &ctx.config.playbooks[p.playbook];
            let input = GuardInput {
                playbook,
                action: &playbook.playbook.spec.remediate[p.action],
                finding: &findings[p.finding],
                step,
            };
            Some(decide(&input, ctx, &mut tally))
        })
        .collect()
}
