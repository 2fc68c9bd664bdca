//! Warning: a cron schedule that never fires (`0 0 31 2 *`, the 31st of February). A playbook
//! with one is never due; a window with one never opens, so its actions never run.

use super::{Input, path};
use crate::playbook::Diagnostic;
use crate::playbook::tree::PathSeg;
use crate::playbook::values::CronSchedule;

/// Cron patterns repeat with the calendar, and croner searches back to year 1: a schedule with
/// no firing before now has none after it either.
fn never_fires(s: &CronSchedule) -> bool {
    s.previous_at_or_before(chrono::Utc::now()).is_none()
}

pub fn check(input: &Input, out: &mut Vec<Diagnostic>) {
    for p in input.playbooks {
        let spec = &p.playbook.spec;
        if let Some(s) = &spec.schedule
            && never_fires(s)
        {
            out.push(
                p.located
                    .diagnostic(
                        &path(&["spec", "schedule"]),
                        format!(
                            "the schedule {:?} never fires, so the playbook is never due",
                            s.to_string()
                        ),
                    )
                    .warning(),
            );
        }
        for (i, w) in spec.guards.windows.iter().enumerate() {
            if never_fires(&w.schedule) {
                let mut at = path(&["spec", "guards", "windows"]);
                at.extend([PathSeg::Index(i), PathSeg::Key("schedule".into())]);
                out.push(
                    p.located
                        .diagnostic(
                            &at,
                            format!(
                                "the window's schedule {:?} never fires, so the window never opens and no action of this playbook can run",
                                w.schedule.to_string()
                            ),
                        )
                        .warning(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{messages, playbook};

    #[test]
    fn impossible_dates_never_fire() {
        let pb = playbook(
            "  schedule: \"0 0 31 2 *\"\n  detect: {oomKilled: {}}\n  guards:\n    windows:\n    - {schedule: \"0 9 * * 1-5\", duration: 8h}\n    - {schedule: \"0 0 31 4,6,9,11 *\", duration: 1h}\n",
        );
        assert_eq!(
            messages(&[("a.yaml", &pb)]),
            [
                "warning spec.schedule: the schedule \"0 0 31 2 *\" never fires, so the playbook is never due",
                "warning spec.guards.windows[1].schedule: the window's schedule \"0 0 31 4,6,9,11 *\" never fires, so the window never opens and no action of this playbook can run",
            ]
        );
    }

    #[test]
    fn leap_days_and_day_of_week_or_day_of_month_fire() {
        for s in ["0 0 29 2 *", "0 0 31 2 5", "@yearly"] {
            let pb = playbook(&format!(
                "  schedule: \"{s}\"\n  detect: {{oomKilled: {{}}}}\n"
            ));
            assert!(messages(&[("a.yaml", &pb)]).is_empty(), "{s}");
        }
    }
}
