//! When a playbook with a `schedule` is due, across rounds that run every few minutes and may
//! not run at all for a while (a cluster upgrade, a paused CronJob): as a CronJob controller
//! decides, but against the ledger's schedule state instead of a controller's memory.
//!
//! - Due when the schedule fired since the playbook's last successful round, and its latest
//!   such fire is no older than the starting deadline. It runs once for all of them.
//! - Fires it will never run for (older than the one it runs now, or all of them when the
//!   latest is past the starting deadline) are reported as missed, never run later.
//! - A round that failed does not count as a success, so the fire stays due (within the
//!   starting deadline) and the next round tries again.

use crate::playbook::Loaded;
use crate::playbook::values::{CronSchedule, TimeZoneName};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What decides whether scheduled playbooks are due in a round.
#[derive(Debug, Clone)]
pub struct Schedules {
    /// How late a fire may still run (the runner config's `job.startingDeadline`).
    pub starting_deadline: chrono::Duration,
    /// Playbook name → the round time of its last successful round (the ledger's schedule
    /// state; empty without a ledger).
    pub last_success: BTreeMap<String, DateTime<Utc>>,
}

impl Schedules {
    pub fn new(starting_deadline: chrono::Duration) -> Self {
        Self {
            starting_deadline,
            last_success: BTreeMap::new(),
        }
    }

    /// Takes the last successes from the ledger's schedule state.
    pub fn read_ledger(&mut self, ledger: &crate::ledger::Ledger) {
        self.last_success = ledger
            .schedules
            .iter()
            .filter_map(|(name, s)| s.last_success.map(|t| (name.clone(), t)))
            .collect();
    }

    /// Whether each playbook is due at `now` (one without a schedule always is), and a note
    /// for each that missed fires.
    pub fn due(&self, playbooks: &[Loaded], now: DateTime<Utc>) -> (Vec<bool>, Vec<String>) {
        let mut notes = Vec::new();
        let due = playbooks
            .iter()
            .map(|p| {
                let spec = &p.playbook.spec;
                let Some(schedule) = &spec.schedule else {
                    return true;
                };
                let d = evaluate(
                    schedule,
                    spec.time_zone.as_ref(),
                    self.last_success.get(p.name()).copied(),
                    now,
                    self.starting_deadline,
                );
                notes.extend(d.missed_note(p.name(), schedule));
                d.due
            })
            .collect();
        (due, notes)
    }
}

/// At most this many missed fires are counted (a CronJob controller gives up at 100 too).
pub const MAX_COUNTED: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Due {
    pub due: bool,
    /// The fire this round answers, when due.
    pub fire: Option<DateTime<Utc>>,
    /// Fires since the last success that will not be run, newest first, at most
    /// [`MAX_COUNTED`].
    pub missed: Vec<DateTime<Utc>>,
}

impl Due {
    /// For the report's notes: `"3 fire(s) of ... missed (... to ...)"`.
    pub fn missed_note(&self, playbook: &str, schedule: &CronSchedule) -> Option<String> {
        let (newest, oldest) = (self.missed.first()?, self.missed.last()?);
        let more = if self.missed.len() >= MAX_COUNTED {
            " or more"
        } else {
            ""
        };
        Some(format!(
            "playbook {playbook}: {}{more} fire(s) of its schedule \"{schedule}\" were missed and are not run ({} to {}); rounds runs a playbook only for a fire within the starting deadline",
            self.missed.len(),
            oldest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            newest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ))
    }
}

/// Whether a playbook with `schedule` (read in `time_zone`, default UTC) is due in the round at
/// `now`, given when it last succeeded (None: it never ran, so only the latest fire counts).
pub fn evaluate(
    schedule: &CronSchedule,
    time_zone: Option<&TimeZoneName>,
    last_success: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    starting_deadline: chrono::Duration,
) -> Due {
    let mut fires = Vec::new();
    let mut t = now;
    let previous = |t| match time_zone {
        Some(tz) => schedule.previous_in(t, tz),
        None => schedule.previous_at_or_before(t),
    };
    while let Some(fire) = previous(t) {
        if last_success.is_some_and(|s| fire <= s) {
            break;
        }
        fires.push(fire);
        if last_success.is_none() || fires.len() > MAX_COUNTED {
            break;
        }
        t = fire - chrono::Duration::seconds(1);
    }
    let Some(&latest) = fires.first() else {
        return Due::default();
    };
    let due = now - latest <= starting_deadline;
    let mut missed: Vec<DateTime<Utc>> = if due { fires[1..].to_vec() } else { fires };
    if last_success.is_none() {
        // A playbook seen for the first time has no history to have missed.
        missed.clear();
    }
    missed.truncate(MAX_COUNTED);
    Due {
        due,
        fire: due.then_some(latest),
        missed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn hourly() -> CronSchedule {
        "0 * * * *".parse().expect("cron")
    }

    const DEADLINE: chrono::Duration = chrono::Duration::minutes(10);

    #[test]
    fn due_once_per_fire() {
        let s = hourly();
        // Fired at 10:00, last success 09:02: due at 10:03, for the 10:00 fire.
        let d = evaluate(
            &s,
            None,
            Some(t("2026-01-01T09:02:00Z")),
            t("2026-01-01T10:03:00Z"),
            DEADLINE,
        );
        assert_eq!((d.due, d.fire), (true, Some(t("2026-01-01T10:00:00Z"))));
        assert!(d.missed.is_empty());
        // After the success at 10:03, not due again at 10:08 or 10:58.
        for now in ["2026-01-01T10:08:00Z", "2026-01-01T10:58:00Z"] {
            let d = evaluate(&s, None, Some(t("2026-01-01T10:03:00Z")), t(now), DEADLINE);
            assert_eq!(d, Due::default(), "{now}");
        }
    }

    #[test]
    fn a_failed_round_leaves_the_fire_due_within_the_starting_deadline() {
        let s = hourly();
        // The 10:03 round failed: the last success is still 09:02.
        let retry = evaluate(
            &s,
            None,
            Some(t("2026-01-01T09:02:00Z")),
            t("2026-01-01T10:08:00Z"),
            DEADLINE,
        );
        assert_eq!(retry.fire, Some(t("2026-01-01T10:00:00Z")));
        // Past the deadline it is missed, and reported.
        let late = evaluate(
            &s,
            None,
            Some(t("2026-01-01T09:02:00Z")),
            t("2026-01-01T10:13:00Z"),
            DEADLINE,
        );
        assert!(!late.due);
        assert_eq!(late.missed, [t("2026-01-01T10:00:00Z")]);
    }

    #[test]
    fn catch_up_runs_once_and_reports_the_rest() {
        let s = hourly();
        // No round from 06:30 to 10:05: fires at 07, 08, 09, 10. One run, for 10:00.
        let d = evaluate(
            &s,
            None,
            Some(t("2026-01-01T06:30:00Z")),
            t("2026-01-01T10:05:00Z"),
            DEADLINE,
        );
        assert_eq!(d.fire, Some(t("2026-01-01T10:00:00Z")));
        assert_eq!(
            d.missed,
            [
                t("2026-01-01T09:00:00Z"),
                t("2026-01-01T08:00:00Z"),
                t("2026-01-01T07:00:00Z")
            ]
        );
        let note = d.missed_note("nightly", &s).expect("a note");
        assert!(
            note.contains("3 fire(s)")
                && note.contains("2026-01-01T07:00:00Z to 2026-01-01T09:00:00Z"),
            "{note}"
        );
    }

    #[test]
    fn a_new_playbook_runs_for_a_recent_fire_only_and_missing_counts_are_bounded() {
        let s = hourly();
        assert!(evaluate(&s, None, None, t("2026-01-01T10:04:00Z"), DEADLINE).due);
        let d = evaluate(&s, None, None, t("2026-01-01T10:30:00Z"), DEADLINE);
        assert_eq!(d, Due::default());
        let every_minute: CronSchedule = "* * * * *".parse().expect("cron");
        let d = evaluate(
            &every_minute,
            None,
            Some(t("2025-12-01T00:00:00Z")),
            t("2026-01-01T00:00:30Z"),
            DEADLINE,
        );
        assert!(d.due);
        assert_eq!(d.missed.len(), MAX_COUNTED);
        assert!(
            d.missed_note("x", &every_minute)
                .expect("note")
                .contains("100 or more")
        );
    }
}
