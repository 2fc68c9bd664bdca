//! Snapshot rounds (`rounds run --snapshot`, no cluster, so no ledger: every round notifies
//! as if for the first time) against loopback HTTP receivers for Slack, Teams, PagerDuty and
//! the webhook, and a real SMTP server: message shapes and limits with 500 findings, faults,
//! refused inline secrets, email over STARTTLS with AUTH, a plaintext-only server refused.

use super::scan::*;
use super::servers::{Smtp, decode_mail, mount_secrets};
use crate::http::Reply;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: &str = "2026-11-22T10:00:00Z";

/// A snapshot with `n` crash-looping pods of one Deployment, and always a healthy node (an
/// empty snapshot is an error, never a healthy cluster).
fn crashloop_snapshot(dir: &Path, n: usize) -> PathBuf {
    let node = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-a", "uid": "10000000-0000-0000-0000-000000000001"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    });
    let items: Vec<Value> = std::iter::once(node).chain((0..n)
        .map(|i| {
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": format!("web-7d9f8b6c5d-{i:05}"),
                    "namespace": "shop",
                    "uid": format!("00000000-0000-0000-0000-{i:012}"),
                    "labels": {"app": "web"},
                },
                "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "registry.example.com/web:1.0"}]},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [{
                        "name": "web",
                        "image": "registry.example.com/web:1.0",
                        "restartCount": 9,
                        "ready": false,
                        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
                        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-11-22T09:50:00Z", "finishedAt": "2026-11-22T09:55:00Z"}},
                    }],
                },
            })
        }))
        .collect();
    let path = dir.join(format!("snapshot-{n}.json"));
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    std::fs::write(&path, serde_json::to_vec(&list).expect("json")).expect("write");
    path
}

fn playbook(dir: &Path, severity: &str) -> PathBuf {
    let pdir = dir.join(format!("playbooks-{severity}"));
    std::fs::create_dir_all(&pdir).expect("mkdir");
    std::fs::write(
        pdir.join("crashloop.yaml"),
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata:\n  name: crashloop\nspec:\n  description: Crash-looping containers.\n  detect:\n    crashLoopBackOff: {{ minRestarts: 5 }}\n  severity: {severity}\n  remediate:\n    - rolloutRestart: {{}}\n"
        ),
    )
    .expect("write");
    pdir
}

struct Round {
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<Value>,
}

fn run_round(ctx: &Ctx, snapshot: &Path, playbooks: &Path, config: &Path) -> Round {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["run", "--snapshot"])
        .arg(snapshot)
        .arg("--playbooks")
        .arg(playbooks)
        .arg("--config")
        .arg(config)
        .args(["--now", NOW, "--output", "json"])
        .env("ROUNDS_LOG", "info")
        .env_remove("ROUNDS_DRY_RUN")
        .env_remove("ROUNDS_ONLY")
        .output()
        .expect("run rounds");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ctx.record(Kind::Stdout, "snapshot round", stdout.clone());
    ctx.record(Kind::Stderr, "snapshot round", stderr.clone());
    let report: Option<Value> = serde_json::from_str(&stdout).ok();
    if let Some(r) = &report {
        ctx.record(Kind::Report, "snapshot round", r.to_string());
    }
    ctx.round_done();
    Round {
        code: out.status.code().unwrap_or(-1),
        report,
        stdout,
        stderr,
    }
}

fn write_config(dir: &Path, secrets: &Path, body: &str) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nsecretsDir: {}\n{body}",
            secrets.display()
        ),
    )
    .expect("write");
    path
}

fn notifications(r: &Round) -> Vec<Value> {
    r.report.as_ref().expect("a report")["notifications"]
        .as_array()
        .expect("notifications")
        .clone()
}

fn entry<'a>(entries: &'a [Value], channel: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["channel"] == channel && e["fallbackFor"].is_null())
        .unwrap_or_else(|| panic!("no entry for {channel}: {entries:?}"))
}

pub fn five_hundred_findings_reach_every_http_channel_within_its_limits(ctx: &Ctx) {
    let dir = tempfile::tempdir().expect("tmp");
    let slack = ctx.receiver("slack", Reply::status(200, "ok"));
    let teams = ctx.receiver("teams", Reply::status(202, ""));
    let pd = ctx.receiver("pd", Reply::status(202, r#"{"status":"success"}"#));
    let hook = ctx.receiver("hook", Reply::status(200, ""));
    let secrets = mount_secrets(
        dir.path(),
        &[
            (
                "slack-url",
                &slack.url(&format!("/services/T0/B0/{SLACK_TOKEN}")),
            ),
            (
                "teams-url",
                &teams.url(&format!("/workflows/run?sig={TEAMS_SIG}")),
            ),
            ("pd-key", PD_KEY),
            (
                "hook-url",
                &hook.url(&format!("/alerts/{WEBHOOK_PATH_TOKEN}")),
            ),
            ("hook-token", WEBHOOK_TOKEN),
        ],
    );
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  channels:\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    teams:\n      teams: {{ webhookUrlFile: teams-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    hook:\n      webhook: {{ urlFile: hook-url, bearerTokenFile: hook-token }}\n  routes:\n    - name: all\n      channels: [slack, teams, pd, hook]\n",
            pd.url("")
        ),
    );
    let snapshot = crashloop_snapshot(dir.path(), 500);
    let r = run_round(ctx, &snapshot, &playbook(dir.path(), "warning"), &config);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let entries = notifications(&r);
    for c in ["slack", "teams", "pd", "hook"] {
        let e = entry(&entries, c);
        assert_eq!(e["status"], "sent", "{c}: {e}");
        assert_eq!(e["tier"], "warning");
        assert_eq!(e["attempts"], 1);
        assert_eq!(e["findings"], 500);
        assert_eq!(e["reason"], "new");
    }

    // Slack: Block Kit within 50 blocks, 3000 per section, 150 per header, with a text fallback.
    let reqs = slack.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/services/T0/B0/{SLACK_TOKEN}"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body = req.json();
    let blocks = body["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50, "{} blocks", blocks.len());
    assert_eq!(blocks[0]["type"], "header");
    let header = blocks[0]["text"]["text"].as_str().expect("header");
    assert!(header.chars().count() <= 150, "{header}");
    assert!(
        header.contains("[WARNING]") && header.contains("500 pods"),
        "{header}"
    );
    for b in blocks.iter().filter(|b| b["type"] == "section") {
        let t = b["text"]["text"].as_str().expect("section text");
        assert!(t.chars().count() <= 3000, "{} chars", t.chars().count());
    }
    let all = body.to_string();
    assert!(all.contains("more pods"), "slack says what it cut");
    assert!(
        body["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty() && t.chars().count() <= 3000)
    );
    assert!(all.contains("web-7d9f8b6c5d-00000") && all.contains("exit code: 1"));
    assert!(all.contains("rolloutRestart") && all.contains("sha256:"));

    // Teams: a Workflows Adaptive Card under 28 KB; 202 with an empty body was success.
    let reqs = teams.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert!(reqs[0].body.len() < 28_000, "{} bytes", reqs[0].body.len());
    let body = reqs[0].json();
    assert_eq!(body["type"], "message");
    let att = &body["attachments"][0];
    assert_eq!(
        att["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(att["content"]["type"], "AdaptiveCard");
    assert!(body.to_string().contains("more pods"));

    // PagerDuty: Events v2 trigger with a stable dedup_key, summary ≤ 1024, under 512 KB.
    let reqs = pd.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v2/enqueue");
    assert!(
        reqs[0].body.len() < 512 * 1024,
        "{} bytes",
        reqs[0].body.len()
    );
    let mut ev = reqs[0].json();
    assert_eq!(
        ev["routing_key"], PD_KEY,
        "the key comes from the file, newline trimmed"
    );
    assert_eq!(ev["event_action"], "trigger");
    let dedup = ev["dedup_key"].as_str().expect("dedup_key");
    assert!(
        dedup.len() <= 255 && dedup.starts_with("rounds-"),
        "{dedup}"
    );
    assert!(
        ev["payload"]["summary"]
            .as_str()
            .expect("summary")
            .chars()
            .count()
            <= 1024
    );
    assert_eq!(ev["payload"]["severity"], "warning");
    assert_eq!(ev["payload"]["source"], "rounds");
    assert!(
        ev["payload"]["custom_details"]["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    ev["routing_key"] = Value::Null;

    // Webhook: Alertmanager's payload v4, with the bearer token from its file.
    let reqs = hook.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {WEBHOOK_TOKEN}").as_str())
    );
    let p = reqs[0].json();
    assert_eq!(p["version"], "4");
    assert_eq!(p["status"], "firing");
    assert_eq!(p["receiver"], "hook");
    assert_eq!(p["groupLabels"]["playbook"], "crashloop");
    assert_eq!(p["commonLabels"]["namespace"], "shop");
    assert_eq!(p["commonLabels"]["severity"], "warning");
    let alerts = p["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 200);
    assert_eq!(p["truncatedAlerts"], 300);
    let a = &alerts[0];
    assert_eq!(a["status"], "firing");
    assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(a["labels"]["alertname"], "crashloop");
    assert_eq!(a["fingerprint"].as_str().map(str::len), Some(16));
    for k in ["groupKey", "externalURL", "commonAnnotations"] {
        assert!(!p[k].is_null(), "{k}");
    }
}

pub fn faults_retry_where_it_helps_fall_back_and_a_lost_critical_exits_3(ctx: &Ctx) {
    let dir = tempfile::tempdir().expect("tmp");
    let slack = ctx.receiver("slack", Reply::status(200, "ok"));
    slack.then(Reply::status(429, "rate_limited").with_header("Retry-After", "1"));
    let teams = ctx.receiver("teams", Reply::status(202, ""));
    teams.then(Reply::status(500, "oops"));
    let pd = ctx.receiver("pd", Reply::status(400, r#"{"status":"invalid event"}"#));
    let hang = ctx.receiver("hang", Reply::Hang);
    let secrets = mount_secrets(
        dir.path(),
        &[
            ("slack-url", &slack.url(&format!("/s/{SLACK_TOKEN}"))),
            ("teams-url", &teams.url(&format!("/t?sig={TEAMS_SIG}"))),
            ("pd-key", PD_KEY),
            ("hang-url", &hang.url(&format!("/h/{WEBHOOK_PATH_TOKEN}"))),
        ],
    );
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  timeouts: {{ connect: 2s, total: 4s }}\n  retries: {{ attempts: 3, backoff: 100ms, maxBackoff: 500ms }}\n  channels:\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    teams:\n      teams: {{ webhookUrlFile: teams-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    stuck:\n      webhook: {{ urlFile: hang-url }}\n    stderr:\n      console: {{}}\n  routes:\n    - name: page\n      channels: [pd]\n      fallback: stderr\n      continue: true\n    - name: chat\n      channels: [slack, teams, stuck]\n",
            pd.url("")
        ),
    );
    let snapshot = crashloop_snapshot(dir.path(), 3);
    let r = run_round(ctx, &snapshot, &playbook(dir.path(), "critical"), &config);
    assert_eq!(
        r.code, 3,
        "a lost critical notification fails the round: {}",
        r.stderr
    );
    let entries = notifications(&r);

    let e = entry(&entries, "slack");
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_u64()),
        (Some("sent"), Some(2)),
        "{e}"
    );
    assert_eq!(
        slack.requests().len(),
        2,
        "429 then retried after Retry-After"
    );

    let e = entry(&entries, "teams");
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_u64()),
        (Some("sent"), Some(2)),
        "{e}"
    );
    assert_eq!(teams.requests().len(), 2, "500 then success");

    let e = entry(&entries, "pd");
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{e}"
    );
    assert_eq!(pd.requests().len(), 1, "a 400 is not retried");
    assert!(
        e["error"].as_str().is_some_and(|m| m.contains("HTTP 400")),
        "{e}"
    );
    let fb = entries
        .iter()
        .find(|x| x["fallbackFor"] == "pd")
        .expect("a fallback entry");
    assert_eq!(fb["channel"], "stderr");
    assert_eq!(fb["status"], "fallback");
    assert!(
        r.stderr
            .contains("Sent to this fallback because channel pd failed")
    );

    let e = entry(&entries, "stuck");
    assert_eq!(e["status"], "failed", "{e}");
    let err = e["error"].as_str().expect("error");
    assert!(
        err.contains("timed out") || err.contains("no time left"),
        "{err}"
    );
    assert!(
        !err.contains(WEBHOOK_PATH_TOKEN) && !err.contains("/h/"),
        "{err}"
    );
}

pub fn inline_secrets_and_environment_variables_are_refused_without_echoing_them(ctx: &Ctx) {
    let dir = tempfile::tempdir().expect("tmp");
    let secrets = mount_secrets(dir.path(), &[]);
    let cases = [
        (
            format!(
                "slack: {{ webhookUrl: 'https://hooks.slack.com/services/T/B/{INLINE_SECRET}' }}"
            ),
            "webhookUrlFile: KEY",
        ),
        (
            format!("pagerduty: {{ routingKey: {INLINE_SECRET} }}"),
            "routingKeyFile: KEY",
        ),
        (
            "slack: { webhookUrlEnv: SLACK_WEBHOOK_URL }".to_owned(),
            "environment variables",
        ),
        (
            "slack: { webhookUrlFile: $SLACK_WEBHOOK_URL }".to_owned(),
            "environment variables",
        ),
        (
            format!("slack: {{ webhookUrlFile: 'https://hooks.slack.com/{INLINE_SECRET}' }}"),
            "looks like a URL",
        ),
    ];
    let snapshot = crashloop_snapshot(dir.path(), 1);
    let playbooks = playbook(dir.path(), "warning");
    for (channel, expected) in cases {
        let config = write_config(
            dir.path(),
            &secrets,
            &format!(
                "notifications:\n  channels:\n    c:\n      {channel}\n  routes:\n    - name: r\n      channels: [c]\n"
            ),
        );
        let r = run_round(ctx, &snapshot, &playbooks, &config);
        assert_eq!(r.code, 1, "{channel}: {}", r.stderr);
        assert!(r.stderr.contains(expected), "{channel}: {}", r.stderr);
        assert!(
            r.stderr.contains("config.yaml:7:"),
            "file:line:col: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("mounted Secret"),
            "says how: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
    // A missing secret file is a config error naming the file, before anything is sent.
    let config = write_config(
        dir.path(),
        &secrets,
        "notifications:\n  channels:\n    c:\n      slack: { webhookUrlFile: not-mounted }\n  routes:\n    - name: r\n      channels: [c]\n",
    );
    let r = run_round(ctx, &snapshot, &playbooks, &config);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not-mounted") && r.stderr.contains("is the Secret mounted"),
        "{}",
        r.stderr
    );
}

pub fn email_is_delivered_by_a_real_smtp_server_with_starttls_and_auth_required(ctx: &Ctx) {
    let dir = tempfile::tempdir().expect("tmp");
    let smtp = Smtp::start(dir.path(), false);
    let port = smtp.port;
    std::fs::write(dir.path().join("ca.pem"), &smtp.ca_pem).expect("write");
    let secrets = mount_secrets(dir.path(), &[("smtp-password", SMTP_PASSWORD)]);
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  channels:\n    mail:\n      email:\n        host: localhost\n        port: {port}\n        tls: starttls\n        from: rounds <rounds@example.com>\n        to: [oncall@example.com]\n        username: rounds\n        passwordFile: smtp-password\n        caFile: {}\n  routes:\n    - name: mail\n      channels: [mail]\n",
            dir.path().join("ca.pem").display()
        ),
    );
    let snapshot = crashloop_snapshot(dir.path(), 2);
    let r = run_round(ctx, &snapshot, &playbook(dir.path(), "critical"), &config);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(entry(&notifications(&r), "mail")["status"], "sent");
    let notes = r.report.as_ref().expect("report")["notes"].to_string();
    assert!(notes.contains("a snapshot round has no ledger"), "{notes}");
    // The server requires AUTH over TLS: a stored mail means the password from the file worked.
    ctx.used(SMTP_PASSWORD);
    let raw = smtp
        .mails()
        .into_iter()
        .next()
        .expect("the server stored the mail");
    assert!(
        raw.contains("multipart/alternative") && raw.contains("text/html"),
        "text and HTML parts"
    );
    // Decode it as a mail client does (base64 or quoted-printable parts).
    let mail = decode_mail(&smtp.maildir.join("1.eml"));
    let subject = mail
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("a subject");
    assert!(
        subject.contains("[rounds]") && subject.contains("CRITICAL"),
        "{subject}"
    );
    assert!(
        mail.contains("text/plain") && mail.contains("<h3>"),
        "{mail}"
    );
    for evidence in [
        "Pod shop/web-7d9f8b6c5d-00001",
        "crashLoopBackOff",
        "exit code: 1",
        "restarts: 9",
    ] {
        assert!(mail.contains(evidence), "{evidence}: {mail}");
    }
    assert!(mail.contains("rolloutRestart"), "what was done");

    // A wrong password is refused by the server and not retried.
    std::fs::write(dir.path().join("secrets/..data/smtp-password"), "wrong\n").expect("write");
    let r = run_round(ctx, &snapshot, &playbook(dir.path(), "critical"), &config);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let e = entry(&notifications(&r), "mail").clone();
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{e}"
    );
    assert_eq!(e["reason"], "new", "no ledger, so sent again as new: {e}");
    assert!(
        e["error"].as_str().is_some_and(|m| m.contains("535")),
        "the server's answer, at once (not a timeout): {e}"
    );
    assert_eq!(smtp.mails().len(), 1);
    smtp.collect(ctx);
}

pub fn a_plaintext_only_smtp_server_is_refused(ctx: &Ctx) {
    let dir = tempfile::tempdir().expect("tmp");
    let smtp = Smtp::start(dir.path(), true);
    let port = smtp.port;
    let secrets = mount_secrets(dir.path(), &[("smtp-password", SMTP_PASSWORD)]);
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  channels:\n    mail:\n      email: {{ host: localhost, port: {port}, from: rounds@example.com, to: [oncall@example.com], username: rounds, passwordFile: smtp-password }}\n  routes:\n    - name: mail\n      channels: [mail]\n"
        ),
    );
    let r = run_round(
        ctx,
        &crashloop_snapshot(dir.path(), 1),
        &playbook(dir.path(), "warning"),
        &config,
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    let e = entry(&notifications(&r), "mail").clone();
    assert_eq!(e["status"], "failed", "{e}");
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("tls")),
        "{e}"
    );
    assert_eq!(
        std::fs::read_dir(&smtp.maildir).expect("maildir").count(),
        0,
        "nothing was sent in plain text"
    );
}
