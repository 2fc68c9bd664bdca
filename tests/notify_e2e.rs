//! End to end: notifications from real rounds to loopback HTTP receivers (Slack, Teams,
//! PagerDuty, webhook), a real SMTP server (aiosmtpd: STARTTLS and AUTH required) and a real
//! Alertmanager, started by the tests on 127.0.0.1. Every round's stdout, stderr, report and
//! every received message is scanned for every secret value of these tests.

#[path = "receivers/http.rs"]
mod http;

use http::{Receiver, Reply};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every secret value used in these tests; none may appear in any output.
const SLACK_TOKEN: &str = "slack-T0K3N-aaaa1111";
const TEAMS_SIG: &str = "teams-SIG-bbbb2222";
const PD_KEY: &str = "pdkey-cccc3333dddd4444eeee5555";
const WEBHOOK_TOKEN: &str = "webhook-bearer-ffff6666";
const WEBHOOK_PATH_TOKEN: &str = "hookpath-gggg7777";
const SMTP_PASSWORD: &str = "smtp-pässword-hhhh8888";
const INLINE_SECRET: &str = "XXXINLINESECRET9999";
const ALL_SECRETS: &[&str] = &[
    SLACK_TOKEN,
    TEAMS_SIG,
    PD_KEY,
    WEBHOOK_TOKEN,
    WEBHOOK_PATH_TOKEN,
    SMTP_PASSWORD,
    INLINE_SECRET,
];

const NOW: &str = "2026-11-22T10:00:00Z";

fn assert_no_secrets(what: &str, text: &str) {
    for s in ALL_SECRETS {
        assert!(
            !text.contains(s),
            "{what} contains the secret {s:?}:\n{text}"
        );
    }
}

/// A Secret volume as kubelet mounts it: files in a timestamped directory, `..data` pointing
/// at it, one symlink per key. Every value ends with a newline, as `kubectl create secret
/// --from-file` of an editor-written file does.
fn mount_secrets(dir: &Path, keys: &[(&str, &str)]) -> PathBuf {
    let root = dir.join("secrets");
    let ts = root.join("..2026_11_22_09_00_00.000000001");
    std::fs::create_dir_all(&ts).expect("mkdir");
    for (k, v) in keys {
        std::fs::write(ts.join(k), format!("{v}\n")).expect("write");
    }
    std::os::unix::fs::symlink("..2026_11_22_09_00_00.000000001", root.join("..data"))
        .expect("symlink");
    for (k, _) in keys {
        std::os::unix::fs::symlink(format!("..data/{k}"), root.join(k)).expect("symlink");
    }
    root
}

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

fn run_round(snapshot: &Path, playbooks: &Path, config: &Path) -> Round {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["run", "--snapshot"])
        .arg(snapshot)
        .arg("--playbooks")
        .arg(playbooks)
        .arg("--config")
        .arg(config)
        .args(["--now", NOW, "--output", "json"])
        .env("ROUNDS_LOG", "info")
        .output()
        .expect("run rounds");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_secrets("stdout", &stdout);
    assert_no_secrets("stderr", &stderr);
    Round {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_str(&stdout).ok(),
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

#[test]
fn five_hundred_findings_reach_every_http_channel_within_its_limits() {
    let dir = tempfile::tempdir().expect("tmp");
    let slack = Receiver::start(Reply::status(200, "ok"));
    let teams = Receiver::start(Reply::status(202, ""));
    let pd = Receiver::start(Reply::status(202, r#"{"status":"success"}"#));
    let hook = Receiver::start(Reply::status(200, ""));
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
    let r = run_round(&snapshot, &playbook(dir.path(), "warning"), &config);
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
    assert_no_secrets("slack message", &all);

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
    assert_no_secrets("teams message", &body.to_string());

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
    assert_no_secrets("pagerduty event", &ev.to_string());

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
    assert_no_secrets("webhook payload", &p.to_string());
}

#[test]
fn faults_retry_where_it_helps_fall_back_and_a_lost_critical_exits_3() {
    let dir = tempfile::tempdir().expect("tmp");
    let slack = Receiver::start(Reply::status(200, "ok"));
    slack.then(Reply::status(429, "rate_limited").with_header("Retry-After", "1"));
    let teams = Receiver::start(Reply::status(202, ""));
    teams.then(Reply::status(500, "oops"));
    let pd = Receiver::start(Reply::status(400, r#"{"status":"invalid event"}"#));
    let hang = Receiver::start(Reply::Hang);
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
    let r = run_round(&snapshot, &playbook(dir.path(), "critical"), &config);
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

#[test]
fn inline_secrets_and_environment_variables_are_refused_without_echoing_them() {
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
        let r = run_round(&snapshot, &playbooks, &config);
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
    let r = run_round(&snapshot, &playbooks, &config);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not-mounted") && r.stderr.contains("is the Secret mounted"),
        "{}",
        r.stderr
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Stops a child process when dropped (every test stops what it started).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

fn smtp_server(dir: &Path, plain: bool) -> (Child, u16, PathBuf, String) {
    let certs = rounds_test_apiserver::tls::Certificates::generate(&[]).expect("certs");
    std::fs::write(dir.join("cert.der"), certs.server_der.as_ref()).expect("write");
    std::fs::write(dir.join("key.der"), &certs.server_key_der).expect("write");
    std::fs::write(dir.join("pw"), format!("{SMTP_PASSWORD}\n")).expect("write");
    let maildir = dir.join("mail");
    std::fs::create_dir_all(&maildir).expect("mkdir");
    let port = free_port();
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/smtp-server.py"
    ))
    .arg("--port")
    .arg(port.to_string())
    .arg("--maildir")
    .arg(&maildir)
    .stdout(Stdio::null());
    if plain {
        cmd.arg("--plain");
    } else {
        cmd.arg("--cert-der")
            .arg(dir.join("cert.der"))
            .arg("--key-der")
            .arg(dir.join("key.der"))
            .arg("--password-file")
            .arg(dir.join("pw"));
    }
    let child = Child(
        cmd.spawn()
            .expect("start scripts/smtp-server.py (python3-aiosmtpd)"),
    );
    wait_for_port(port);
    (child, port, maildir, certs.ca_pem)
}

#[test]
fn email_is_delivered_by_a_real_smtp_server_with_starttls_and_auth_required() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_smtp, port, maildir, ca) = smtp_server(dir.path(), false);
    std::fs::write(dir.path().join("ca.pem"), ca).expect("write");
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
    let r = run_round(&snapshot, &playbook(dir.path(), "critical"), &config);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(entry(&notifications(&r), "mail")["status"], "sent");
    let raw = std::fs::read_to_string(maildir.join("1.eml")).expect("the server stored the mail");
    assert_no_secrets("mail", &raw);
    assert!(
        raw.contains("multipart/alternative") && raw.contains("text/html"),
        "text and HTML parts"
    );
    // Decode it as a mail client does (base64 or quoted-printable parts).
    let decoded = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import email,sys\nm=email.message_from_bytes(open(sys.argv[1],'rb').read())\nprint('Subject:', str(email.header.make_header(email.header.decode_header(m['Subject']))))\nfor p in m.walk():\n  if not p.is_multipart(): print(p.get_content_type()); print(p.get_payload(decode=True).decode())")
        .arg(maildir.join("1.eml"))
        .output()
        .expect("python3");
    let mail = String::from_utf8_lossy(&decoded.stdout).into_owned();
    assert_no_secrets("decoded mail", &mail);
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
    let r = run_round(&snapshot, &playbook(dir.path(), "critical"), &config);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let e = entry(&notifications(&r), "mail").clone();
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "{e}"
    );
}

#[test]
fn a_plaintext_only_smtp_server_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_smtp, port, maildir, _) = smtp_server(dir.path(), true);
    let secrets = mount_secrets(dir.path(), &[("smtp-password", SMTP_PASSWORD)]);
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  channels:\n    mail:\n      email: {{ host: localhost, port: {port}, from: rounds@example.com, to: [oncall@example.com], username: rounds, passwordFile: smtp-password }}\n  routes:\n    - name: mail\n      channels: [mail]\n"
        ),
    );
    let r = run_round(
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
        std::fs::read_dir(&maildir).expect("maildir").count(),
        0,
        "nothing was sent in plain text"
    );
}

/// Runs the notify stage of the library on a snapshot round, as `rounds run` does, with a
/// notification log kept between calls (what the ledger does between Job runs).
fn stage_round(
    snapshot: &Path,
    playbooks: &Path,
    config: &Path,
    now: chrono::DateTime<chrono::Utc>,
    log: &mut rounds::notify::NotificationLog,
) -> Vec<Value> {
    let cfg = rounds::config::load(config).expect("config");
    let loaded = rounds::playbook::load(&[playbooks.to_owned()]).expect("playbooks");
    let ready =
        rounds::notify::prepare(&cfg.notifications, &cfg.secrets_dir, &loaded).expect("secrets");
    let opts = rounds::round::RoundOptions {
        now,
        mode: rounds::round::Mode::DryRun,
        snapshot: vec![snapshot.to_owned()],
        snapshot_limits: Default::default(),
        page_size: 500,
        extra: Vec::new(),
    };
    let mut report = rounds::round::plan_snapshot(&loaded, &opts).expect("round");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(rounds::notify::notify_report(
        &cfg.notifications,
        &ready,
        &mut report,
        &loaded,
        rounds::round::Mode::DryRun,
        std::time::Instant::now() + Duration::from_secs(60),
        log,
    ));
    let json = serde_json::to_value(&report).expect("json");
    assert_no_secrets("report", &json.to_string());
    assert_no_secrets(
        "notification log",
        &serde_json::to_string(log).expect("json"),
    );
    json["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("time")
        .to_utc()
}

#[test]
fn across_rounds_a_finding_notifies_once_repeats_after_the_interval_and_resolves_everywhere() {
    let dir = tempfile::tempdir().expect("tmp");
    let slack = Receiver::start(Reply::status(200, "ok"));
    let pd = Receiver::start(Reply::status(202, "{}"));
    // The webhook fails the whole first round: its state must not advance.
    let hook = Receiver::start(Reply::status(200, ""));
    for _ in 0..3 {
        hook.then(Reply::status(503, "down"));
    }
    let secrets = mount_secrets(
        dir.path(),
        &[
            ("slack-url", &slack.url(&format!("/s/{SLACK_TOKEN}"))),
            ("pd-key", PD_KEY),
            ("hook-url", &hook.url(&format!("/h/{WEBHOOK_PATH_TOKEN}"))),
        ],
    );
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  retries: {{ attempts: 3, backoff: 50ms, maxBackoff: 100ms }}\n  channels:\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    hook:\n      webhook: {{ urlFile: hook-url }}\n  tiers:\n    warning: {{ repeatInterval: 4h }}\n  routes:\n    - name: all\n      channels: [slack, pd, hook]\n",
            pd.url("")
        ),
    );
    let firing = crashloop_snapshot(dir.path(), 2);
    let healthy = crashloop_snapshot(dir.path(), 0);
    let playbooks = playbook(dir.path(), "warning");
    let mut log = rounds::notify::NotificationLog::default();
    let status =
        |entries: &[Value], c: &str| entry(entries, c)["status"].as_str().map(str::to_owned);

    // Round 1: new → every channel once; the webhook fails.
    let e = stage_round(
        &firing,
        &playbooks,
        &config,
        t("2026-11-22T10:00:00Z"),
        &mut log,
    );
    assert_eq!(status(&e, "slack").as_deref(), Some("sent"));
    assert_eq!(status(&e, "pd").as_deref(), Some("sent"));
    assert_eq!(status(&e, "hook").as_deref(), Some("failed"));
    assert_eq!(
        (
            slack.requests().len(),
            pd.requests().len(),
            hook.requests().len()
        ),
        (1, 1, 3)
    );

    // Round 2, same findings: nothing for those that delivered; the webhook gets it now.
    let e = stage_round(
        &firing,
        &playbooks,
        &config,
        t("2026-11-22T10:10:00Z"),
        &mut log,
    );
    assert_eq!(status(&e, "slack").as_deref(), Some("suppressed"));
    assert_eq!(status(&e, "pd").as_deref(), Some("suppressed"));
    assert_eq!(status(&e, "hook").as_deref(), Some("sent"));
    assert_eq!(entry(&e, "hook")["reason"], "new");
    assert_eq!(
        (
            slack.requests().len(),
            pd.requests().len(),
            hook.requests().len()
        ),
        (1, 1, 4)
    );

    // Round 3, after the repeat interval: again.
    let e = stage_round(
        &firing,
        &playbooks,
        &config,
        t("2026-11-22T14:05:00Z"),
        &mut log,
    );
    assert_eq!(entry(&e, "slack")["reason"], "repeat");
    assert_eq!(entry(&e, "pd")["reason"], "repeat");
    assert_eq!(
        status(&e, "hook").as_deref(),
        Some("suppressed"),
        "its last delivery was round 2"
    );
    assert_eq!(
        (
            slack.requests().len(),
            pd.requests().len(),
            hook.requests().len()
        ),
        (2, 2, 4)
    );

    // Round 4, the findings are gone: a resolve to every channel that was notified.
    let e = stage_round(
        &healthy,
        &playbooks,
        &config,
        t("2026-11-22T14:15:00Z"),
        &mut log,
    );
    for c in ["slack", "pd", "hook"] {
        assert_eq!(status(&e, c).as_deref(), Some("sent"), "{c}: {e:?}");
        assert_eq!(entry(&e, c)["reason"], "resolved");
    }
    let s = slack.requests().last().expect("slack").json();
    assert!(
        s["blocks"][0]["text"]["text"]
            .as_str()
            .is_some_and(|h| h.contains("RESOLVED")),
        "{s}"
    );
    let p = pd.requests().last().expect("pd").json();
    assert_eq!(p["event_action"], "resolve");
    assert_eq!(
        p["dedup_key"],
        pd.requests()[0].json()["dedup_key"],
        "the same incident"
    );
    let h = hook.requests().last().expect("hook").json();
    assert_eq!(h["status"], "resolved");
    assert_eq!(h["alerts"].as_array().map(Vec::len), Some(2));
    assert!(
        log.entries.is_empty(),
        "resolved groups are forgotten: {log:?}"
    );

    // Round 5, still healthy: nothing at all.
    let e = stage_round(
        &healthy,
        &playbooks,
        &config,
        t("2026-11-22T14:25:00Z"),
        &mut log,
    );
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(
        (
            slack.requests().len(),
            pd.requests().len(),
            hook.requests().len()
        ),
        (3, 3, 5)
    );
}

#[test]
fn a_real_alertmanager_lists_the_alert_and_then_shows_it_resolved() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    std::fs::write(
        dir.path().join("am.yml"),
        "route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n",
    )
    .expect("write");
    let _am = Child(
        Command::new("prometheus-alertmanager")
            .arg(format!(
                "--config.file={}",
                dir.path().join("am.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("am-data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-alertmanager (Debian package)"),
    );
    wait_for_port(port);
    let secrets = mount_secrets(dir.path(), &[]);
    let config = write_config(
        dir.path(),
        &secrets,
        &format!(
            "notifications:\n  channels:\n    am:\n      alertmanager: {{ url: 'http://127.0.0.1:{port}', endsAfter: 30m }}\n  routes:\n    - name: all\n      channels: [am]\n"
        ),
    );
    let playbooks = playbook(dir.path(), "critical");
    let mut log = rounds::notify::NotificationLog::default();
    // Alertmanager keeps time by its own clock: these rounds use the real time.
    let now = chrono::Utc::now();
    let e = stage_round(
        &crashloop_snapshot(dir.path(), 1),
        &playbooks,
        &config,
        now,
        &mut log,
    );
    assert_eq!(entry(&e, "am")["status"], "sent", "{e:?}");
    let alerts = get_alerts(port);
    let firing: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["labels"]["playbook"] == "crashloop")
        .collect();
    assert_eq!(firing.len(), 1, "{alerts:?}");
    let a = firing[0];
    assert_eq!(a["status"]["state"], "active");
    assert_eq!(a["labels"]["severity"], "critical");
    assert_eq!(a["labels"]["pod"], "web-7d9f8b6c5d-00000");
    assert_eq!(a["labels"]["namespace"], "shop");
    assert!(
        a["annotations"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("exit code: 1"))
    );
    let ends =
        chrono::DateTime::parse_from_rfc3339(a["endsAt"].as_str().expect("endsAt")).expect("time");
    let ahead = ends.to_utc() - now;
    assert!(
        ahead > chrono::Duration::minutes(29) && ahead <= chrono::Duration::minutes(30),
        "{ahead}"
    );

    // The next round re-sends what still fires (Alertmanager forgets across restarts).
    let e = stage_round(
        &crashloop_snapshot(dir.path(), 1),
        &playbooks,
        &config,
        now + chrono::Duration::seconds(1),
        &mut log,
    );
    assert_eq!(entry(&e, "am")["reason"], "refresh");

    // The finding is gone: the alert is sent with endsAt now and is no longer active.
    let e = stage_round(
        &crashloop_snapshot(dir.path(), 0),
        &playbooks,
        &config,
        chrono::Utc::now(),
        &mut log,
    );
    assert_eq!(entry(&e, "am")["reason"], "resolved", "{e:?}");
    assert_eq!(entry(&e, "am")["status"], "sent", "{e:?}");
    std::thread::sleep(Duration::from_millis(1100));
    let still: Vec<Value> = get_alerts(port)
        .into_iter()
        .filter(|a| a["labels"]["playbook"] == "crashloop")
        .collect();
    assert!(
        still.is_empty(),
        "resolved alerts are not listed as active: {still:?}"
    );
}

fn get_alerts(port: u16) -> Vec<Value> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET /api/v2/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Chunked or not, the JSON array is the body's one bracketed part.
    let start = body.find('[').expect("a JSON array");
    let end = body.rfind(']').expect("a JSON array");
    serde_json::from_str(&body[start..=end]).expect("alerts JSON")
}
