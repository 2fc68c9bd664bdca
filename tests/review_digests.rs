//! Every report, Event and notification names the version of each playbook that spoke: its
//! sha256, the same canonical digest `rounds lock` writes to `playbooks.lock`. The bundled
//! playbooks on the demo snapshot, locked first; the digests are read back from the lock.

// Shared with the notify tests; this one uses only part of it.
#[allow(dead_code)]
#[path = "receivers/http.rs"]
mod http;

use http::{Receiver, Reply};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEMO: &str = "tests/fixtures/demo-cluster";
const NOW: &str = "2026-11-22T10:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rounds lock` over the bundled playbooks; name → digest as the lock records it.
fn locked(dir: &Path) -> BTreeMap<String, String> {
    let lock = dir.join("playbooks.lock");
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("lock")
        .arg(root().join("playbooks"))
        .arg("--lock")
        .arg(&lock)
        .output()
        .expect("rounds lock");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&lock).expect("the lock");
    let doc: Value = serde_saphyr::from_str(&text).expect("lock YAML");
    let digests = names_and_digests(&doc["playbooks"]);
    assert_eq!(digests.len(), 12, "{digests:?}");
    assert!(
        digests
            .values()
            .all(|d| d.starts_with("sha256:") && d.len() == 71)
    );
    digests
}

/// Each playbook's name with its digest, from the lock's or the report's `playbooks` list.
fn names_and_digests(playbooks: &Value) -> BTreeMap<String, String> {
    playbooks
        .as_array()
        .expect("playbooks")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_owned(),
                p["digest"].as_str().expect("digest").to_owned(),
            )
        })
        .collect()
}

fn rounds(args: &[&str], extra: &[&Path]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .current_dir(root())
        .args(args)
        .args(extra)
        .env_remove("ROUNDS_DRY_RUN")
        .env_remove("ROUNDS_ONLY")
        .output()
        .expect("run rounds");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_report_names_each_playbook_with_the_locked_digest() {
    let dir = tempfile::tempdir().expect("tmp");
    let digests = locked(dir.path());
    let plan = [
        "plan",
        "--snapshot",
        DEMO,
        "--playbooks",
        "playbooks",
        "--now",
        NOW,
    ];
    let (code, stdout, stderr) = rounds(&[&plan[..], &["--output", "json"]].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    let reported = names_and_digests(&report["playbooks"]);
    assert_eq!(reported, digests);

    // The text report shows each playbook's digest, cut to its first 12 hex digits.
    let (code, text, stderr) = rounds(&[&plan[..], &["--output", "text"]].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    for (name, digest) in &digests {
        let short = &digest[..19];
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("playbook {name} [")) && l.ends_with(short)),
            "{name} {short}:\n{text}"
        );
    }
}

/// The digest each alert of a webhook or Alertmanager payload carries, by playbook label.
fn alert_digests(alerts: &[Value]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for a in alerts {
        let playbook = a["labels"]["playbook"].as_str().expect("playbook label");
        let digest = a["annotations"]["playbook_digest"]
            .as_str()
            .unwrap_or_else(|| panic!("no playbook_digest annotation: {a:#}"));
        if let Some(before) = out.insert(playbook.to_owned(), digest.to_owned()) {
            assert_eq!(before, digest, "one digest per playbook");
        }
    }
    out
}

/// `playbook NAME (sha256:…)`, as the text header of a message says it.
fn named_in_text(text: &str, digests: &BTreeMap<String, String>) -> Vec<String> {
    digests
        .iter()
        .filter(|(name, digest)| text.contains(&format!("playbook {name} ({digest})")))
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn every_notification_carries_the_playbook_digest() {
    let dir = tempfile::tempdir().expect("tmp");
    let digests = locked(dir.path());
    let hook = Receiver::start(Reply::status(200, ""));
    let am = Receiver::start(Reply::status(200, ""));
    let slack = Receiver::start(Reply::status(200, "ok"));
    let teams = Receiver::start(Reply::status(202, ""));
    let pd = Receiver::start(Reply::status(202, r#"{"status":"success"}"#));
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).expect("mkdir");
    for (file, value) in [
        ("hook-url", hook.url("/alerts")),
        ("slack-url", slack.url("/services/T0/B0/x")),
        ("teams-url", teams.url("/workflows/run")),
        ("pd-key", "0123456789abcdef0123456789abcdef".to_owned()),
    ] {
        std::fs::write(secrets.join(file), format!("{value}\n")).expect("secret");
    }
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nsecretsDir: {}\nnotifications:\n  channels:\n    hook:\n      webhook: {{ urlFile: hook-url }}\n    am:\n      alertmanager: {{ url: '{}' }}\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    teams:\n      teams: {{ webhookUrlFile: teams-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    stderr:\n      console: {{}}\n  routes:\n    - name: all\n      channels: [hook, am, slack, teams, pd, stderr]\n",
            secrets.display(),
            am.url(""),
            pd.url(""),
        ),
    )
    .expect("config");
    let (code, stdout, stderr) = rounds(
        &[
            "run",
            "--snapshot",
            DEMO,
            "--playbooks",
            "playbooks",
            "--now",
            NOW,
            "--output",
            "json",
            "--config",
        ],
        &[&config],
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    // The groups sent (one per playbook; info is below every channel's tier and suppressed).
    let entries = report["notifications"].as_array().expect("notifications");
    let mut speaking: BTreeMap<String, String> = BTreeMap::new();
    for e in entries {
        match e["status"].as_str() {
            Some("sent" | "dry-run") => {
                let group = e["group"].as_str().expect("group");
                let p = group
                    .strip_prefix("playbook=")
                    .expect("grouped by playbook");
                speaking.insert(p.to_owned(), digests[p].clone());
            }
            _ => assert_eq!(
                (&e["status"], &e["tier"]),
                (&"suppressed".into(), &"info".into()),
                "{e}"
            ),
        }
    }
    assert!(speaking.len() >= 6, "{speaking:?}");

    // Webhook and Alertmanager: an annotation on every alert (not a label: a new version of
    // a playbook is no new alert).
    let hook_alerts: Vec<Value> = hook
        .requests()
        .iter()
        .flat_map(|r| r.json()["alerts"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(alert_digests(&hook_alerts), speaking);
    let am_alerts: Vec<Value> = am
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v2/alerts")
        .flat_map(|r| r.json().as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(alert_digests(&am_alerts), speaking);

    // PagerDuty: in custom_details.playbooks.
    let mut pd_digests = BTreeMap::new();
    for r in pd.requests() {
        let body = r.json();
        for p in body["payload"]["custom_details"]["playbooks"]
            .as_array()
            .unwrap_or_else(|| panic!("custom_details.playbooks: {body:#}"))
        {
            pd_digests.insert(
                p["name"].as_str().expect("name").to_owned(),
                p["digest"].as_str().expect("digest").to_owned(),
            );
        }
    }
    assert_eq!(pd_digests, speaking);

    // Slack, Teams and the text of the console (and of email, which renders the same text):
    // the header line `playbook NAME (sha256:…)` of each message.
    let expected: Vec<String> = speaking.keys().cloned().collect();
    for (channel, receiver) in [("slack", &slack), ("teams", &teams)] {
        let bodies: String = receiver
            .requests()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert_eq!(named_in_text(&bodies, &digests), expected, "{channel}");
    }
    assert_eq!(named_in_text(&stderr, &digests), expected, "console");
}
