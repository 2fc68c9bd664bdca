//! `window`: a playbook with `guards.windows` acts only while one of them is open (a cron
//! schedule that opens it and a duration).

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::round::context::RoundContext;

pub struct WindowGuard;

impl WindowGuard {
    pub const EXPLAIN: &str = "With guards.windows, acts only while a window is open: a window opens when its five-field cron schedule fires (Kubernetes CronJob semantics, in its timeZone, default UTC) and stays open for its duration. Without windows a playbook may act at any time. The round's time decides (--now in a plan).";

    pub const SETTINGS: &[Setting] = &[Setting::playbook("spec.guards.windows")];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: restart-in-office-hours
spec:
  detect:
    crashLoopBackOff: { minRestarts: 10 }
  remediate:
    - rolloutRestart: {}
  guards:
    maxActionsPerRound: 2
    windows:
      - schedule: "0 9 * * 1-5"
        duration: 8h
        timeZone: Europe/Berlin
"#;
}

impl GuardCheck for WindowGuard {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let windows = &input.playbook.playbook.spec.guards.windows;
        if windows.is_empty() {
            return Check::Pass;
        }
        let open = windows.iter().any(|w| {
            let opened = match &w.time_zone {
                Some(tz) => w.schedule.previous_in(ctx.now, tz),
                None => w.schedule.previous_at_or_before(ctx.now),
            };
            opened.is_some_and(|opened| ctx.now - opened < w.duration.chrono())
        });
        if open {
            return Check::Pass;
        }
        let list: Vec<String> = windows
            .iter()
            .map(|w| match &w.time_zone {
                Some(tz) => format!("\"{}\" {tz} for {}", w.schedule, w.duration),
                None => format!("\"{}\" for {}", w.schedule, w.duration),
            })
            .collect();
        Check::Block(format!(
            "outside the playbook's windows ({}) at {}",
            list.join(", "),
            ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::playbook::values::{CronSchedule, TimeZoneName};

    #[test]
    fn a_window_opens_in_its_time_zone() {
        let nine: CronSchedule = "0 9 * * 1-5".parse().expect("cron");
        let berlin: TimeZoneName = "Europe/Berlin".parse().expect("zone");
        // 08:30 UTC on Monday 2026-11-23 is 09:30 in Berlin: the window opened at 08:00 UTC.
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-23T08:30:00Z")
            .expect("time")
            .to_utc();
        let opened = nine.previous_in(t, &berlin).expect("fired");
        assert_eq!(opened.to_rfc3339(), "2026-11-23T08:00:00+00:00");
        assert_eq!(
            nine.previous_at_or_before(t).map(|p| p.to_rfc3339()),
            Some("2026-11-20T09:00:00+00:00".into()),
            "in UTC it last fired on Friday"
        );
        assert!("Mars/Olympus".parse::<TimeZoneName>().is_err());
    }
}
