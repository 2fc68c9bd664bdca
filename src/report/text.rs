//! The report as text for a terminal: grouped by playbook, one summary line at the end.

use super::{ActionStatus, RoundReport};
use std::fmt::Write as _;

pub fn render(r: &RoundReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Round {} ({}) at {} on {}",
        r.run_id, r.mode, r.now, r.source
    );
    for p in &r.playbooks {
        let _ = writeln!(out);
        let short = p.digest.get(..19).unwrap_or(&p.digest);
        let _ = writeln!(
            out,
            "playbook {} [{} {}] {}{}",
            p.name,
            p.severity,
            p.detector,
            short,
            if p.due { "" } else { " (not due)" }
        );
        let findings: Vec<_> = r.findings.iter().filter(|f| f.playbook == p.name).collect();
        if p.due && findings.is_empty() {
            let _ = writeln!(out, "  no findings");
        }
        for f in findings {
            let _ = writeln!(out, "  finding {}: {}", f.target.display(), f.message);
            if let Some(o) = &f.owner {
                let state = if o.resolved {
                    ""
                } else {
                    " (chain incomplete)"
                };
                let _ = writeln!(
                    out,
                    "    owner {} {}/{}{state}",
                    o.kind, o.namespace, o.name
                );
            }
            for a in r
                .actions
                .iter()
                .filter(|a| a.playbook == p.name && a.findings.first() == Some(&f.fingerprint))
            {
                let _ = write!(out, "    {} {}: {}", a.status.as_str(), a.action, a.summary);
                match a.status {
                    ActionStatus::Skipped => {
                        let _ = write!(
                            out,
                            " [{}: {}]",
                            a.guard.map_or("guard", |g| g.name()),
                            a.reason.as_deref().unwrap_or("")
                        );
                    }
                    ActionStatus::Failed => {
                        let _ = write!(out, " [{}]", a.reason.as_deref().unwrap_or(""));
                    }
                    _ => {}
                }
                let _ = writeln!(out);
                if let Some(req) = &a.patch {
                    let _ = writeln!(out, "      {} {}", req.method(), req.path());
                    if let Some(body) = req.body_text() {
                        let _ = writeln!(out, "      {body}");
                    }
                }
                if a.findings.len() > 1 {
                    let _ = writeln!(
                        out,
                        "      (also answers {} more finding(s))",
                        a.findings.len() - 1
                    );
                }
            }
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out);
        for n in &r.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }
    let s = &r.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} playbook(s), {} due; {} object(s) read; {} finding(s); actions: {} planned, {} applied, {} skipped, {} failed.",
        s.playbooks, s.due, s.objects, s.findings, s.planned, s.applied, s.skipped, s.failed
    );
    if let Some(p) = &r.push {
        let _ = match &p.error {
            Some(e) => writeln!(out, "metrics push to {}{} FAILED: {e}", p.gateway, p.group),
            None => writeln!(out, "metrics pushed to {}{}", p.gateway, p.group),
        };
    }
    out
}
