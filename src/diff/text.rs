//! The plan diff as text for a terminal.

use super::{ActionView, PlanDiff};
use crate::lock::verify::short;
use std::fmt::Write as _;

fn action_line(out: &mut String, sign: char, a: &ActionView) {
    let _ = writeln!(
        out,
        "  {sign} {} {} {}: {}: {}",
        a.playbook, a.action, a.target, a.verdict, a.summary
    );
    if let Some(r) = &a.request {
        let _ = writeln!(out, "      {r}");
    }
    if let Some(b) = &a.body {
        let _ = writeln!(out, "      {b}");
    }
}

pub fn render(d: &PlanDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan diff on {} at {}", d.source, d.now);
    let _ = writeln!(out, "{}", d.summary());
    let _ = writeln!(
        out,
        "base: {} playbook(s), {} finding(s), {} action(s); head: {} playbook(s), {} finding(s), {} action(s)",
        d.base.playbooks,
        d.base.findings,
        d.base.actions,
        d.head.playbooks,
        d.head.findings,
        d.head.actions
    );
    if !d.playbooks.is_empty() {
        let _ = writeln!(out, "\nplaybooks:");
        for p in &d.playbooks {
            let digests = match (&p.base_digest, &p.head_digest) {
                (Some(b), Some(h)) => format!("{} -> {}", short(b), short(h)),
                (Some(b), None) => short(b).to_owned(),
                (None, Some(h)) => short(h).to_owned(),
                (None, None) => String::new(),
            };
            let _ = writeln!(out, "  {:<8} {} {digests}", p.change.as_str(), p.name);
        }
    }
    let a = &d.actions;
    if !a.is_empty() {
        let _ = writeln!(out, "\nactions:");
        for x in &a.added {
            action_line(&mut out, '+', x);
        }
        for x in &a.removed {
            action_line(&mut out, '-', x);
        }
        for c in &a.changed {
            let _ = writeln!(
                out,
                "  ~ {} {} {} ({} changed)",
                c.head.playbook,
                c.head.action,
                c.head.target,
                c.fields.join(", ")
            );
            action_line(&mut out, '-', &c.base);
            action_line(&mut out, '+', &c.head);
        }
    }
    let f = &d.findings;
    if !f.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for x in &f.added {
            let _ = writeln!(
                out,
                "  + {} [{}] {}: {}",
                x.playbook, x.severity, x.target, x.message
            );
        }
        for x in &f.removed {
            let _ = writeln!(
                out,
                "  - {} [{}] {}: {}",
                x.playbook, x.severity, x.target, x.message
            );
        }
        for c in &f.changed {
            let _ = writeln!(
                out,
                "  ~ {} {}: [{}] {} -> [{}] {}",
                c.head.playbook,
                c.head.target,
                c.base.severity,
                c.base.message,
                c.head.severity,
                c.head.message
            );
        }
    }
    for n in &d.notes {
        let _ = writeln!(out, "\nnote: {n}");
    }
    let _ = writeln!(
        out,
        "\n{} action(s) and {} finding(s) unchanged.",
        a.unchanged, f.unchanged
    );
    out
}
