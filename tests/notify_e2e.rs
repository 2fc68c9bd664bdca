//! End to end: notifications from real rounds of the compiled binary, on snapshots and live
//! against the test API server (the ledger with its notification log in a ConfigMap there),
//! to loopback HTTP receivers (Slack, Teams, PagerDuty, webhook), a real SMTP server (aiosmtpd:
//! STARTTLS and AUTH required) and a real Alertmanager, all started here on 127.0.0.1.
//!
//! One test runs every scenario (two at a time) and then the secret scan over everything any
//! of their rounds produced: see `notify/scan.rs`. `ROUNDS_NOTIFY_SCENARIOS=name,name` runs only
//! those (while working on one).

#[path = "guarded/mod.rs"]
mod guarded;
#[path = "receivers/http.rs"]
mod http;
mod notify;

use notify::scan::{Ctx, Scan};
use notify::{live, snapshot};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::Instant;

type Scenario = (&'static str, fn(&Ctx));

/// Slowest first, so two workers finish together.
const SCENARIOS: &[Scenario] = &[
    (
        "across_rounds_every_channel",
        live::across_rounds_every_channel,
    ),
    (
        "an_unreadable_ledger_still_notifies",
        live::an_unreadable_ledger_still_notifies,
    ),
    (
        "faults_retry_where_it_helps_fall_back_and_a_lost_critical_exits_3",
        snapshot::faults_retry_where_it_helps_fall_back_and_a_lost_critical_exits_3,
    ),
    (
        "a_real_alertmanager_shows_it_resolved",
        live::a_real_alertmanager_shows_it_resolved,
    ),
    (
        "a_lost_critical_notification_exits_3",
        live::a_lost_critical_notification_exits_3,
    ),
    ("dry_run_and_plan", live::dry_run_and_plan),
    (
        "email_is_delivered_by_a_real_smtp_server_with_starttls_and_auth_required",
        snapshot::email_is_delivered_by_a_real_smtp_server_with_starttls_and_auth_required,
    ),
    (
        "five_hundred_findings_reach_every_http_channel_within_its_limits",
        snapshot::five_hundred_findings_reach_every_http_channel_within_its_limits,
    ),
    (
        "a_plaintext_only_smtp_server_is_refused",
        snapshot::a_plaintext_only_smtp_server_is_refused,
    ),
    (
        "inline_secrets_and_environment_variables_are_refused_without_echoing_them",
        snapshot::inline_secrets_and_environment_variables_are_refused_without_echoing_them,
    ),
];

const WORKERS: usize = 2;

#[test]
fn every_scenario_and_then_no_secret_in_anything_their_rounds_produced() {
    let only: Option<Vec<String>> = std::env::var("ROUNDS_NOTIFY_SCENARIOS")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let selected: Vec<&Scenario> = SCENARIOS
        .iter()
        .filter(|(name, _)| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name)))
        .collect();
    assert!(!selected.is_empty(), "no scenario matches {only:?}");
    let scan = Scan::default();
    let queue = Mutex::new(selected.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let next = queue.lock().expect("lock").next().copied();
                    let Some((name, scenario)) = next else { break };
                    let started = Instant::now();
                    let result = {
                        let ctx = scan.ctx(name);
                        std::panic::catch_unwind(AssertUnwindSafe(|| scenario(&ctx)))
                    };
                    let took = started.elapsed();
                    match result {
                        Ok(()) => eprintln!("scenario {name}: ok in {took:.1?}"),
                        Err(p) => {
                            let why = p
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                                .unwrap_or_default();
                            eprintln!("scenario {name}: FAILED in {took:.1?}");
                            failures
                                .lock()
                                .expect("lock")
                                .push(format!("{name}: {why}"));
                        }
                    }
                }
            });
        }
    });
    // The scan runs whatever failed: a leak is worth knowing about in any case.
    let failures = failures.into_inner().expect("lock");
    let leaks = scan.leaks();
    assert!(
        failures.is_empty() && leaks.is_empty(),
        "{} scenario(s) failed:\n{}\n\nsecrets leaked: {}\n{}",
        failures.len(),
        failures.join("\n\n"),
        leaks.len(),
        leaks.join("\n")
    );
    let names: Vec<&str> = selected.iter().map(|(n, _)| *n).collect();
    scan.check_coverage(&names, only.is_none());
}

#[test]
fn the_scan_finds_a_secret_in_every_form_it_looks_for() {
    use base64::Engine as _;
    let s = notify::scan::SMTP_PASSWORD;
    let b64 = base64::engine::general_purpose::STANDARD.encode(s);
    for text in [
        format!("error: {s}"),
        "…word-mqmq8888 was cut".to_owned(),
        format!("AUTH PLAIN {b64}"),
        "p=smtp-p%C3%A4ssword-mqmq8888".to_owned(),
        "\"smtp-p\\u00e4ssword-mqmq8888\"".to_owned(),
    ] {
        assert!(notify::scan::leaked(&text, s).is_some(), "{text}");
    }
    assert_eq!(
        notify::scan::leaked(&format!("AUTH PLAIN {b64}"), s),
        Some("base64")
    );
    assert_eq!(
        notify::scan::leaked("[secret] https://127.0.0.1/…", s),
        None
    );
}
