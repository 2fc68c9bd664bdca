//! Redaction of evidence text (container log lines, Event messages) before it leaves the
//! cluster: built-in patterns for the usual credentials, plus the config's own.

use regex::Regex;
use std::sync::LazyLock;

/// What each built-in pattern catches; the whole match is replaced, or only the value group
/// when there is one (so `password=[redacted]` still says what was there).
const DEFAULTS: &[&str] = &[
    // Authorization headers and bearer tokens.
    r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9\-._~+/]{8,}=*)",
    // key=value and key: value for secret-ish keys.
    r#"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|auth)\b["']?\s*[:=]\s*["']?([^\s"',;&]+)"#,
    // AWS access key ids.
    r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b",
    // JSON web tokens.
    r"\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})",
    // Slack, GitHub and similar prefixed tokens.
    r"\b((?:xox[abposr]|gh[pousr]|glpat|sk_live|rk_live)[-_][A-Za-z0-9\-_]{10,})",
    // PEM private keys.
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
    // Credentials in URLs.
    r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@]*:([^\s/@]+)@",
];

static BUILT_IN: LazyLock<Vec<Regex>> =
    LazyLock::new(|| DEFAULTS.iter().filter_map(|p| Regex::new(p).ok()).collect());

#[derive(Debug, Clone)]
pub struct LogRedactor {
    defaults: bool,
    extra: Vec<Regex>,
}

impl LogRedactor {
    /// Patterns were checked when the config was loaded; one that does not compile here is
    /// skipped (it cannot happen after validation).
    pub fn new(cfg: &super::config::Redact) -> Self {
        Self {
            defaults: cfg.defaults,
            extra: cfg
                .patterns
                .iter()
                .filter_map(|p| Regex::new(p).ok())
                .collect(),
        }
    }

    pub fn redact(&self, line: &str) -> String {
        let mut out = line.to_owned();
        let built_in: &[Regex] = if self.defaults { &BUILT_IN } else { &[] };
        for re in built_in.iter().chain(&self.extra) {
            if !re.is_match(&out) {
                continue;
            }
            out = re
                .replace_all(&out, |c: &regex::Captures| {
                    let whole = c.get(0).map_or("", |m| m.as_str());
                    match c.get(1) {
                        Some(v) => {
                            let start = v.start() - c.get(0).map_or(0, |m| m.start());
                            format!("{}[redacted]{}", &whole[..start], &whole[start + v.len()..])
                        }
                        None => "[redacted]".into(),
                    }
                })
                .into_owned();
        }
        out
    }
}

/// Redacts the free text a report carries from the cluster (container logs, Event messages,
/// termination messages, action reasons) as the messages do: the report is printed to the
/// Job's log, which more people read than the notifications.
pub fn redact_report(cfg: &super::config::Redact, report: &mut crate::report::RoundReport) {
    let r = LogRedactor::new(cfg);
    for f in &mut report.findings {
        f.message = r.redact(&f.message);
        if let Some(m) = &mut f.evidence.message {
            *m = r.redact(m);
        }
        for e in &mut f.context.events {
            if let Some(m) = &mut e.message {
                *m = r.redact(m);
            }
        }
        if let Some(tail) = &mut f.context.log_tail {
            for line in &mut tail.lines {
                *line = r.redact(line);
            }
        }
    }
    for a in &mut report.actions {
        if let Some(reason) = &mut a.reason {
            *reason = r.redact(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::config::Redact;

    fn r(line: &str) -> String {
        LogRedactor::new(&Redact::default()).redact(line)
    }

    #[test]
    fn default_patterns_hide_the_usual_credentials() {
        assert_eq!(
            r("Authorization: Bearer abcdefghijklmnop123"),
            "Authorization: Bearer [redacted]"
        );
        assert_eq!(
            r("connecting with password=hunter22 user=app"),
            "connecting with password=[redacted] user=app"
        );
        assert_eq!(
            r(r#"{"api_key": "k-123456"}"#),
            r#"{"api_key": "[redacted]"}"#
        );
        assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key [redacted] used");
        assert_eq!(
            r("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlMTIz"),
            "token [redacted]"
        );
        assert_eq!(
            r("db=postgres://app:s3cr3tpw@db:5432/app"),
            "db=postgres://app:[redacted]@db:5432/app"
        );
        assert_eq!(
            r("-----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEA"),
            "[redacted]"
        );
        assert_eq!(
            r("OOMKilled after 3 restarts"),
            "OOMKilled after 3 restarts"
        );
    }

    #[test]
    fn configured_patterns_add_to_the_defaults_or_replace_them() {
        let cfg = Redact {
            defaults: false,
            patterns: vec![r"card=(\d{4})".into(), r"SSN-\d+".into()],
        };
        let red = LogRedactor::new(&cfg);
        assert_eq!(
            red.redact("card=1234 SSN-99 password=x1"),
            "card=[redacted] [redacted] password=x1"
        );
    }
}
