//! Text and HTML renderings shared by the channels, and the one rule every channel follows
//! when it must cut: keep whole items while they fit and say what was left out.

use super::message::{Item, Kind, Message};
use std::fmt::Write as _;

/// Cuts `s` to at most `max` characters, ending with `…` when it cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Renders items while they fit `max_items` and `max_chars` (counting `sep` between them);
/// returns the renderings and how many were left out.
pub fn fit<T>(
    items: &[T],
    max_items: usize,
    max_chars: usize,
    sep: usize,
    render: impl Fn(&T) -> String,
) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut used = 0;
    for (i, it) in items.iter().enumerate() {
        if out.len() >= max_items {
            return (out, items.len() - i);
        }
        let r = render(it);
        let len = r.chars().count() + if out.is_empty() { 0 } else { sep };
        if used + len > max_chars {
            return (out, items.len() - i);
        }
        used += len;
        out.push(r);
    }
    (out, 0)
}

/// "… and 37 more pods".
pub fn more(msg: &Message, n: usize) -> String {
    format!("… and {n} more {}", msg.noun(n))
}

/// How much of the context one item shows.
#[derive(Debug, Clone, Copy)]
pub struct Detail {
    pub events: usize,
    pub log_lines: usize,
    pub patch_chars: usize,
}

pub const FULL: Detail = Detail {
    events: 5,
    log_lines: 50,
    patch_chars: 2000,
};

/// One finding as plain text: a headline, the facts, what was done, Events, the log tail.
pub fn item_text(it: &Item, d: Detail) -> String {
    let mut s = String::new();
    let mark = if it.new { "NEW " } else { "" };
    let _ = writeln!(
        s,
        "{mark}{} [{} {}] {}",
        it.target.display(),
        it.tier.as_str(),
        it.detector,
        it.message
    );
    if let Some(o) = &it.owner {
        let _ = writeln!(s, "  owner: {o}");
    }
    if !it.facts.is_empty() {
        let facts: Vec<String> = it.facts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(s, "  {}", facts.join(", "));
    }
    for r in &it.raised {
        let _ = writeln!(s, "  raised to {}: {r}", it.tier.as_str());
    }
    for a in &it.actions {
        let _ = write!(s, "  action {} {}: {}", a.action, a.status, a.summary);
        if let Some(g) = a.guard {
            let _ = write!(s, " [guard {g}: {}]", a.reason.as_deref().unwrap_or(""));
        }
        let _ = writeln!(s);
        if let Some(p) = &a.patch {
            let label = if a.suggested {
                "suggested change"
            } else {
                "request"
            };
            let _ = writeln!(s, "    {label}: {}", truncate(p, d.patch_chars));
        }
    }
    if d.events > 0 && !it.events.is_empty() {
        let _ = writeln!(s, "  events:");
        for e in it.events.iter().take(d.events) {
            let _ = writeln!(s, "    {e}");
        }
    }
    if let Some(l) = it.log_tail.as_ref().filter(|_| d.log_lines > 0) {
        let which = if l.previous {
            "previous run"
        } else {
            "current run"
        };
        let skip = l.lines.len().saturating_sub(d.log_lines);
        let _ = writeln!(
            s,
            "  log of {} ({which}, last {} lines):",
            l.container,
            l.lines.len() - skip
        );
        for line in &l.lines[skip..] {
            let _ = writeln!(s, "    | {}", truncate(line, 500));
        }
    }
    s
}

/// The header lines of a message: playbooks with digests, the round, the mode.
pub fn header_text(msg: &Message) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", msg.title());
    if msg.dry_run {
        let _ = writeln!(
            s,
            "DRY RUN: nothing was changed; actions show what an apply round would do."
        );
    }
    if let Some(f) = &msg.fallback_for {
        let _ = writeln!(s, "Sent to this fallback because channel {f} failed.");
    }
    for p in &msg.playbooks {
        let _ = write!(s, "playbook {} ({})", p.name, p.digest);
        if let Some(d) = &p.description {
            let _ = write!(s, ": {d}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "round {} at {}, route {}",
        msg.run_id,
        msg.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        msg.route
    );
    if let Some(u) = &msg.external_url {
        let _ = writeln!(s, "{u}");
    }
    s
}

/// The resolved part: "resolved: Pod shop/api-1, …".
pub fn resolved_text(msg: &Message, max_chars: usize) -> String {
    if msg.resolved.is_empty() {
        return String::new();
    }
    let (lines, left) = fit(&msg.resolved, usize::MAX, max_chars, 1, |g| {
        format!("  resolved: {}", g.label())
    });
    let mut s = lines.join("\n");
    if left > 0 {
        let _ = write!(s, "\n  … and {left} more resolved");
    }
    s.push('\n');
    s
}

/// The whole message as text, within `max_chars`: full detail while it fits, then headlines,
/// then "… and N more pods".
pub fn message_text(msg: &Message, max_chars: usize) -> String {
    let mut s = header_text(msg);
    s.push('\n');
    let budget = max_chars.saturating_sub(s.chars().count() + 200);
    if msg.kind == Kind::Firing {
        let (parts, left) = fit(&msg.items, usize::MAX, budget * 3 / 4, 1, |i| {
            item_text(i, FULL)
        });
        let shown = parts.len();
        s.push_str(&parts.join("\n"));
        if left > 0 {
            // The rest as one line each, while they fit.
            let rest = &msg.items[shown..];
            let remaining = budget.saturating_sub(s.chars().count());
            let (lines, left2) = fit(rest, usize::MAX, remaining / 2, 1, |i| {
                format!(
                    "{} [{}] {}",
                    i.target.display(),
                    i.detector,
                    truncate(&i.message, 120)
                )
            });
            s.push('\n');
            s.push_str(&lines.join("\n"));
            if left2 > 0 {
                let _ = write!(s, "\n{}", more(msg, left2));
            }
            s.push('\n');
        }
        if msg.muted > 0 {
            let _ = writeln!(s, "({} muted by inhibition)", msg.muted);
        }
    }
    let remaining = max_chars.saturating_sub(s.chars().count() + 50);
    s.push_str(&resolved_text(msg, remaining));
    truncate(&s, max_chars)
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The message as a small HTML document (email): the same content as the text, with each
/// finding's evidence in a <pre>.
pub fn message_html(msg: &Message, max_chars: usize) -> String {
    let mut s = String::from("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
    let _ = write!(s, "<h2>{}</h2>", html_escape(&msg.title()));
    let header = header_text(msg);
    for line in header.lines().skip(1) {
        let _ = write!(s, "<p>{}</p>", html_escape(line));
    }
    let budget = max_chars.saturating_sub(s.len() + 500);
    if msg.kind == Kind::Firing {
        let (parts, left) = fit(&msg.items, usize::MAX, budget, 0, |i| {
            format!(
                "<h3>{}</h3><pre>{}</pre>",
                html_escape(&i.target.display()),
                html_escape(&item_text(i, FULL))
            )
        });
        s.push_str(&parts.concat());
        if left > 0 {
            let _ = write!(s, "<p>{}</p>", html_escape(&more(msg, left)));
        }
    }
    if !msg.resolved.is_empty() {
        let _ = write!(
            s,
            "<pre>{}</pre>",
            html_escape(&resolved_text(msg, budget / 4))
        );
    }
    s.push_str("</body></html>");
    s
}
