//! Keeping secrets out of everything rounds prints or sends: errors, log lines, the report,
//! Events. Every channel passes its error text through a [`Redactor`].
//!
//! Two rules: a URL keeps only its scheme and host (webhook URLs carry their token in the path
//! or query, and HTTP client errors repeat the URL), and any of the round's secret values is
//! replaced wherever it appears (a server that echoes a key back in its error body).

use regex::Regex;
use std::sync::LazyLock;

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b([a-z][a-z0-9+.-]*)://(?:[^\s/@"'<>()]*@)?([^\s/?#"'<>()]*)[^\s"'<>()]*"#)
        .unwrap_or_else(|e| unreachable!("valid regex: {e}"))
});

/// Replaces every URL by `scheme://host/…`: no user, password, path or query.
pub fn strip_urls(text: &str) -> String {
    URL.replace_all(text, |c: &regex::Captures| {
        let whole = &c[0];
        let base = format!("{}://{}", &c[1], &c[2]);
        if whole.len() > base.len() {
            format!("{base}/…")
        } else {
            base
        }
    })
    .into_owned()
}

/// Scrubs URLs and the round's secret values from text.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    values: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.values.len())
    }
}

impl Redactor {
    pub fn new(mut values: Vec<String>) -> Self {
        // Very short values would blank out ordinary words; they are not credentials anyway.
        values.retain(|v| v.chars().count() >= 4);
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Self { values }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "[secret]");
            }
        }
        strip_urls(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_only_scheme_and_host() {
        assert_eq!(
            strip_urls(
                "error sending request for url (https://hooks.slack.com/services/T0/B1/XyZ?x=1): timed out"
            ),
            "error sending request for url (https://hooks.slack.com/…): timed out"
        );
        assert_eq!(
            strip_urls("POST http://user:pw@127.0.0.1:9093/api/v2/alerts failed"),
            "POST http://127.0.0.1:9093/… failed"
        );
        assert_eq!(
            strip_urls("see https://example.com"),
            "see https://example.com"
        );
        assert_eq!(strip_urls("no url here"), "no url here");
    }

    #[test]
    fn secret_values_are_replaced_longest_first() {
        let r = Redactor::new(vec!["abc".into(), "s3cr3t-key".into(), "s3cr3t".into()]);
        assert_eq!(
            r.scrub("bad key s3cr3t-key and s3cr3t, abc"),
            "bad key [secret] and [secret], abc"
        );
    }
}
