//! `window`: a playbook with `guards.windows` acts only while one of them is open (a cron
//! schedule that opens it and a duration).

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::round::context::RoundContext;

pub struct WindowGuard;

impl WindowGuard {
    pub const EXPLAIN: &str = "With guards.windows, acts only while a window is open: a window opens when its five-field cron schedule fires (Kubernetes CronJob semantics, UTC) and stays open for its duration.";
}

impl GuardCheck for WindowGuard {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let windows = &input.playbook.playbook.spec.guards.windows;
        if windows.is_empty() {
            return Check::Pass;
        }
        let open = windows.iter().any(|w| {
            w.schedule
                .previous_at_or_before(ctx.now)
                .is_some_and(|opened| ctx.now - opened < w.duration.chrono())
        });
        if open {
            return Check::Pass;
        }
        let list: Vec<String> = windows
            .iter()
            .map(|w| format!("\"{}\" for {}", w.schedule, w.duration))
            .collect();
        Check::Block(format!(
            "outside the playbook's windows ({}) at {}",
            list.join(", "),
            ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))
    }
}
