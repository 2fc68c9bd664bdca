//! `cooldown`: the same action on the same target at most once per `guards.cooldown`, across
//! rounds, from the ledger. Also where idempotency shows: an earlier round's write that could
//! not be confirmed holds the target back until it is.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::ledger::LedgerState;
use crate::ledger::document::action_key;
use crate::round::context::RoundContext;
use crate::round::mode::Mode;

pub struct CooldownGuard;

impl CooldownGuard {
    pub const EXPLAIN: &str = "Skips an action applied to the same target within the playbook's guards.cooldown (read from the ledger, by any round), and any action whose earlier write could not be confirmed. With an unreadable ledger an apply round changes nothing; a round without a ledger (a snapshot without --ledger) cannot check a cooldown, and the report says so.";

    pub const SETTINGS: &[Setting] = &[Setting::playbook("spec.guards.cooldown")];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: restart-once-a-day
spec:
  detect:
    oomKilled: { minCount: 3, within: 1h }
  remediate:
    - rolloutRestart: {}
  guards:
    maxActionsPerRound: 1
    cooldown: 24h
"#;
}

impl GuardCheck for CooldownGuard {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let state = ctx.ledger.borrow();
        let target = &input.step.target;
        let action = input.action.name();
        let cooldown = input.playbook.playbook.spec.guards.cooldown;
        let ledger = match &*state {
            LedgerState::Unreadable(e) if ctx.mode == Mode::Apply => {
                return Check::Block(format!(
                    "the ledger cannot be read, so neither cooldowns nor earlier writes can be checked: {e}"
                ));
            }
            other => match other.ledger() {
                Some(l) => l,
                None if cooldown.is_none() => return Check::Pass,
                None => {
                    return Check::Unchecked(other.missing_reason().unwrap_or_default());
                }
            },
        };
        let key = action_key(action, target);
        if let Some(i) = ledger
            .intents
            .values()
            .find(|i| action_key(&i.action, &i.target) == key && i.run_id != ctx.run_id)
        {
            return Check::Block(format!(
                "run {} started this {action} at {} and it could not be confirmed yet",
                i.run_id,
                i.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        let Some(cooldown) = cooldown else {
            return Check::Pass;
        };
        match ledger.last_applied(action, target) {
            Some(c) if ctx.now - c.applied_at < cooldown.chrono() => {
                let until = c.applied_at + cooldown.chrono();
                Check::Block(format!(
                    "{action} was applied to {target} at {} by run {} (playbook {}); cooldown {cooldown} until {}",
                    c.applied_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    c.run_id,
                    c.playbook,
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))
            }
            _ => Check::Pass,
        }
    }
}
