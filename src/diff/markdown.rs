//! The plan diff as a pull-request comment: a summary line, a table of the action changes,
//! collapsible details, all within GitHub's comment limit.
//!
//! GitHub refuses a comment body over 65,536 characters. Rows and details are added in order
//! of importance while they fit; what does not fit is counted in a closing note that says how
//! to get the whole diff.

use super::{ActionView, Changed, FindingView, PlanDiff};
use crate::lock::verify::short;
use std::fmt::Write as _;

/// GitHub's limit on an issue or pull-request comment body.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept for the note about what was cut.
const NOTE_ROOM: usize = 400;

/// A table cell: one line, no column breaks, no HTML.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

struct Budget {
    out: String,
    limit: usize,
    cut_rows: usize,
    cut_details: usize,
}

impl Budget {
    fn len(&self) -> usize {
        self.out.chars().count()
    }

    /// Appends `text` if it fits before the note's room.
    fn push(&mut self, text: &str) -> bool {
        if self.len() + text.chars().count() + NOTE_ROOM > self.limit {
            return false;
        }
        self.out.push_str(text);
        true
    }
}

fn row(kind: &str, a: &ActionView, verdict: &str) -> String {
    format!(
        "| {kind} | {} | {} | {} | {} |\n",
        cell(&a.playbook),
        code(&a.action),
        cell(&a.target),
        cell(verdict)
    )
}

fn details_of(a: &ActionView) -> String {
    let mut s = format!("{}\n", cell(&a.summary));
    if let Some(r) = &a.request {
        let body = a
            .body
            .as_ref()
            .and_then(|b| serde_json::to_string_pretty(b).ok())
            .map(|b| format!("\n{b}"))
            .unwrap_or_default();
        let _ = write!(s, "\n```http\n{r}{body}\n```\n");
    }
    s
}

fn action_details(title: &str, a: &ActionView) -> String {
    format!(
        "<details><summary>{title}: {} {} on {}</summary>\n\n{}\n</details>\n\n",
        cell(&a.playbook),
        cell(&a.action),
        cell(&a.target),
        details_of(a)
    )
}

fn changed_details(c: &Changed<ActionView>) -> String {
    format!(
        "<details><summary>changed: {} {} on {} ({})</summary>\n\n**base**: {}\n**head**: {}\n</details>\n\n",
        cell(&c.head.playbook),
        cell(&c.head.action),
        cell(&c.head.target),
        c.fields.join(", "),
        details_of(&c.base),
        details_of(&c.head)
    )
}

fn finding_row(kind: &str, f: &FindingView) -> String {
    format!(
        "| {kind} | {} | {} | {} | {} |\n",
        cell(&f.playbook),
        f.severity,
        cell(&f.target),
        cell(&f.message)
    )
}

pub fn render(d: &PlanDiff) -> String {
    render_within(d, GITHUB_COMMENT_LIMIT)
}

pub fn render_within(d: &PlanDiff, limit: usize) -> String {
    let mut b = Budget {
        out: String::new(),
        limit,
        cut_rows: 0,
        cut_details: 0,
    };
    let a = &d.actions;
    let f = &d.findings;
    let head = format!(
        "### rounds plan diff\n\n**{}**\n\nOn {} at {}: base {} playbook(s), {} action(s); head {} playbook(s), {} action(s). {} action(s) and {} finding(s) unchanged.\n\n",
        d.summary(),
        cell(&d.source),
        d.now,
        d.base.playbooks,
        d.base.actions,
        d.head.playbooks,
        d.head.actions,
        a.unchanged,
        f.unchanged
    );
    b.out.push_str(&head);
    if !d.playbooks.is_empty() {
        let mut s =
            String::from("| playbook | change | base | head |\n| --- | --- | --- | --- |\n");
        for p in &d.playbooks {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                cell(&p.name),
                p.change.as_str(),
                p.base_digest
                    .as_deref()
                    .map(|x| code(short(x)))
                    .unwrap_or_default(),
                p.head_digest
                    .as_deref()
                    .map(|x| code(short(x)))
                    .unwrap_or_default()
            );
        }
        s.push('\n');
        if !b.push(&s) {
            b.cut_rows += d.playbooks.len();
        }
    }
    // The table: every action change in one line each.
    let mut rows: Vec<String> = Vec::new();
    rows.extend(a.added.iter().map(|x| row("added", x, &x.verdict)));
    rows.extend(a.removed.iter().map(|x| row("removed", x, &x.verdict)));
    rows.extend(a.changed.iter().map(|c| {
        let verdict = if c.base.verdict == c.head.verdict {
            format!("{} ({} changed)", c.head.verdict, c.fields.join(", "))
        } else {
            format!("{} → {}", c.base.verdict, c.head.verdict)
        };
        row("changed", &c.head, &verdict)
    }));
    if !rows.is_empty() {
        b.push(
            "| change | playbook | action | target | verdict |\n| --- | --- | --- | --- | --- |\n",
        );
        let total = rows.len();
        for (i, r) in rows.iter().enumerate() {
            if !b.push(r) {
                b.cut_rows += total - i;
                break;
            }
        }
        b.push("\n");
    }
    let mut findings: Vec<String> = Vec::new();
    findings.extend(f.added.iter().map(|x| finding_row("added", x)));
    findings.extend(f.removed.iter().map(|x| finding_row("removed", x)));
    findings.extend(f.changed.iter().map(|c| {
        let mut head = c.head.clone();
        if c.base.severity != c.head.severity {
            head.severity = format!("{} → {}", c.base.severity, c.head.severity);
        }
        finding_row("changed", &head)
    }));
    if !findings.is_empty() {
        let title = format!(
            "<details><summary>Findings: {} added, {} removed, {} changed</summary>\n\n| change | playbook | severity | target | message |\n| --- | --- | --- | --- | --- |\n",
            f.added.len(),
            f.removed.len(),
            f.changed.len()
        );
        if b.push(&title) {
            let total = findings.len();
            for (i, r) in findings.iter().enumerate() {
                if !b.push(r) {
                    b.cut_rows += total - i;
                    break;
                }
            }
            b.out.push_str("\n</details>\n\n");
        } else {
            b.cut_rows += findings.len();
        }
    }
    // Details: the exact requests, last because the table already says what changes.
    let mut details: Vec<String> = Vec::new();
    details.extend(a.added.iter().map(|x| action_details("added", x)));
    details.extend(a.removed.iter().map(|x| action_details("removed", x)));
    details.extend(a.changed.iter().map(changed_details));
    let total = details.len();
    for (i, x) in details.iter().enumerate() {
        if !b.push(x) {
            b.cut_details += total - i;
            break;
        }
    }
    for n in &d.notes {
        if !b.push(&format!("> note: {}\n\n", cell(n))) {
            break;
        }
    }
    if b.cut_rows > 0 || b.cut_details > 0 {
        let _ = writeln!(
            b.out,
            "_Cut to stay within GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit: {} table row(s) and {} detail block(s). `rounds diff --output json` gives the whole diff._",
            b.cut_rows, b.cut_details
        );
    }
    b.out
}
