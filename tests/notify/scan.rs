//! The secret scan. Every scenario of the notify tests gets a [`Ctx`]; it is the only way a
//! scenario runs the binary or starts a receiver, so every stdout, stderr and report of every
//! round, every Event and ledger ConfigMap of the test API server after each live round, and
//! every message a receiver got (HTTP bodies and headers, stored mails, Alertmanager's alerts)
//! lands in one collector. After the last scenario, [`Scan::check`] looks for every secret value
//! in all of it: raw, by its distinctive tail (a cut-off value), base64, percent- and
//! JSON-escaped.

use base64::Engine as _;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::http::Receiver;

pub const SLACK_TOKEN: &str = "slack-T0K3N-sqsq1111";
pub const TEAMS_SIG: &str = "teams-SIG-tqtq2222";
pub const PD_KEY: &str = "pdkey-pqpq3333pqpq4444";
pub const WEBHOOK_TOKEN: &str = "webhook-bearer-wqwq6666";
pub const WEBHOOK_PATH_TOKEN: &str = "hookpath-hqhq7777";
pub const BASIC_PASSWORD: &str = "basic-pw-bqbq5555";
pub const SMTP_PASSWORD: &str = "smtp-pässword-mqmq8888";
pub const INLINE_SECRET: &str = "XXXINLINESECRET9999";
/// In a crash-looping container's log: the messages quote the log tail, redacted.
pub const LOG_PASSWORD: &str = "logged-pw-lqlq9999";
pub const LOG_BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.logged-bearer-jqjq0000";
/// The service account's bearer token for the test API server.
pub const SA_TOKEN: &str = crate::guarded::SA_TOKEN;

pub const ALL_SECRETS: &[&str] = &[
    SLACK_TOKEN,
    TEAMS_SIG,
    PD_KEY,
    WEBHOOK_TOKEN,
    WEBHOOK_PATH_TOKEN,
    BASIC_PASSWORD,
    SMTP_PASSWORD,
    INLINE_SECRET,
    LOG_PASSWORD,
    LOG_BEARER,
    SA_TOKEN,
];

/// Secrets a scenario must really have used (a receiver got them where they belong, or a
/// server that requires them accepted the message), so that finding none is worth something.
pub const MUST_BE_USED: &[&str] = &[
    SLACK_TOKEN,
    TEAMS_SIG,
    PD_KEY,
    WEBHOOK_TOKEN,
    WEBHOOK_PATH_TOKEN,
    BASIC_PASSWORD,
    SMTP_PASSWORD,
    SA_TOKEN,
];

/// What a collected text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Stdout,
    Stderr,
    Report,
    Event,
    Ledger,
    Message,
}

struct Item {
    scenario: String,
    kind: Kind,
    what: String,
    text: String,
}

#[derive(Default)]
struct Inner {
    items: Vec<Item>,
    /// Rounds run per scenario.
    rounds: BTreeMap<String, usize>,
    used: BTreeSet<&'static str>,
}

#[derive(Default)]
pub struct Scan {
    inner: Mutex<Inner>,
}

/// A scenario's handle on the collector.
pub struct Ctx<'a> {
    pub name: &'static str,
    scan: &'a Scan,
    receivers: Mutex<Vec<(String, Arc<Receiver>)>>,
}

impl Scan {
    pub fn ctx(&self, name: &'static str) -> Ctx<'_> {
        self.inner
            .lock()
            .expect("lock")
            .rounds
            .insert(name.into(), 0);
        Ctx {
            name,
            scan: self,
            receivers: Mutex::new(Vec::new()),
        }
    }

    fn push(&self, scenario: &str, kind: Kind, what: String, text: String) {
        self.inner.lock().expect("lock").items.push(Item {
            scenario: scenario.into(),
            kind,
            what,
            text,
        });
    }

    /// Every place a secret was found, in every collected text.
    pub fn leaks(&self) -> Vec<String> {
        let inner = self.inner.lock().expect("lock");
        let mut leaks = Vec::new();
        for item in &inner.items {
            for s in ALL_SECRETS {
                if let Some(form) = leaked(&item.text, s) {
                    leaks.push(format!(
                        "{}: {:?} {} contains the secret {s:?} ({form})",
                        item.scenario, item.kind, item.what
                    ));
                }
            }
        }
        leaks
    }

    /// The scan covered something: every scenario ran rounds through the collector and, in a
    /// full run, every kind of output was collected and every secret was really used.
    pub fn check_coverage(&self, scenarios_run: &[&str], full: bool) {
        let inner = self.inner.lock().expect("lock");
        for name in scenarios_run {
            let n = inner.rounds.get(*name).copied().unwrap_or(0);
            assert!(n > 0, "scenario {name} ran no round through the collector");
        }
        if full {
            for kind in [
                Kind::Stdout,
                Kind::Stderr,
                Kind::Report,
                Kind::Event,
                Kind::Ledger,
                Kind::Message,
            ] {
                let n = inner.items.iter().filter(|i| i.kind == kind).count();
                assert!(n > 0, "nothing of kind {kind:?} was collected");
            }
            for s in MUST_BE_USED {
                assert!(inner.used.contains(s), "no scenario used the secret {s:?}");
            }
        }
        let total: usize = inner.rounds.values().sum();
        eprintln!(
            "secret scan: {} texts ({} bytes) from {total} rounds of {} scenarios, {} secrets in 5 forms each: none found",
            inner.items.len(),
            inner.items.iter().map(|i| i.text.len()).sum::<usize>(),
            inner.rounds.len(),
            ALL_SECRETS.len(),
        );
    }
}

/// The form in which `secret` appears in `text`, if it does.
pub fn leaked(text: &str, secret: &str) -> Option<&'static str> {
    let tail: String = {
        let chars: Vec<char> = secret.chars().collect();
        chars[chars.len().saturating_sub(8)..].iter().collect()
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let forms: [(&'static str, String); 5] = [
        ("as is", secret.to_owned()),
        ("its tail", tail),
        ("base64", b64.trim_end_matches('=').to_owned()),
        ("percent-encoded", percent(secret)),
        ("JSON-escaped", json_escaped(secret)),
    ];
    forms
        .into_iter()
        .find(|(_, f)| text.contains(f.as_str()))
        .map(|(name, _)| name)
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn json_escaped(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                format!("\\u{:04x}", c as u32)
            }
        })
        .collect()
}

impl Ctx<'_> {
    pub fn record(&self, kind: Kind, what: impl Into<String>, text: impl Into<String>) {
        self.scan.push(self.name, kind, what.into(), text.into());
    }

    pub fn round_done(&self) {
        *self
            .scan
            .inner
            .lock()
            .expect("lock")
            .rounds
            .entry(self.name.into())
            .or_default() += 1;
    }

    /// A secret this scenario really used (the server that needs it accepted the message).
    pub fn used(&self, secret: &'static str) {
        self.scan.inner.lock().expect("lock").used.insert(secret);
    }

    /// A loopback receiver whose every request is collected when the scenario ends.
    pub fn receiver(&self, name: &str, default: crate::http::Reply) -> Arc<Receiver> {
        let r = Arc::new(Receiver::start(default));
        self.receivers
            .lock()
            .expect("lock")
            .push((name.into(), r.clone()));
        r
    }

    /// Collects what every receiver got. The places a secret belongs (the URL a channel posts
    /// to, the Authorization header, PagerDuty's routing_key) are checked to hold it, then left
    /// out; everything else is scanned.
    pub fn collect_receivers(&self) {
        for (name, r) in self.receivers.lock().expect("lock").iter() {
            for (i, req) in r.requests().iter().enumerate() {
                for s in ALL_SECRETS {
                    if req.path.contains(s) {
                        self.used(s);
                    }
                }
                let mut headers = String::new();
                for (k, v) in &req.headers {
                    if k.eq_ignore_ascii_case("authorization") {
                        self.authorization(v);
                    } else {
                        headers.push_str(&format!("{k}: {v}\n"));
                    }
                }
                let mut body = String::from_utf8_lossy(&req.body).into_owned();
                if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&req.body)
                    && let Some(key) = v.get("routing_key").and_then(|k| k.as_str())
                {
                    if key == PD_KEY {
                        self.used(PD_KEY);
                    }
                    v["routing_key"] = serde_json::Value::Null;
                    body = v.to_string();
                }
                self.record(
                    Kind::Message,
                    format!("{name} request {i} ({} {})", req.method, req.path.len()),
                    format!("{headers}\n{body}"),
                );
            }
        }
    }

    fn authorization(&self, value: &str) {
        if let Some(t) = value.strip_prefix("Bearer ")
            && t == WEBHOOK_TOKEN
        {
            self.used(WEBHOOK_TOKEN);
        }
        if let Some(b) = value.strip_prefix("Basic ")
            && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b)
            && String::from_utf8_lossy(&raw).ends_with(&format!(":{BASIC_PASSWORD}"))
        {
            self.used(BASIC_PASSWORD);
        }
    }
}

impl Drop for Ctx<'_> {
    fn drop(&mut self) {
        self.collect_receivers();
    }
}
