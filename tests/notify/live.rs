//! Live rounds: the binary (`rounds run`, `rounds plan`) against the test API server, with the
//! ledger, and the notification log in it, kept in a ConfigMap there between runs (the
//! process exits after every round), and real receivers: loopback HTTP receivers for Slack,
//! Teams, PagerDuty and two webhooks (bearer token, basic auth), aiosmtpd and Alertmanager.

use super::scan::*;
use super::servers::{Alertmanager, Smtp, decode_mail, mount_secrets};
use crate::guarded::{Cluster, SA_USER};
use crate::http::{Receiver, Reply};
use rounds_test_apiserver::{FaultAction, FaultRule};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

const T0: &str = "2026-11-22T10:00:00Z";
const LEDGER: &str = "/api/v1/namespaces/rounds/configmaps/rounds-ledger";

/// A Deployment whose one pod crash-loops.
const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: dep-web}
spec: {replicas: 1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: "shop/web:1"}]}}}
status: {replicas: 1, readyReplicas: 0}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-crash
  namespace: shop
  uid: pod-web
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: dep-web, controller: true}]
spec: {nodeName: node-a, containers: [{name: web, image: "shop/web:1"}]}
status:
  phase: Running
  containerStatuses:
    - name: web
      image: "shop/web:1"
      restartCount: 9
      ready: false
      state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container"}}
      lastState: {terminated: {exitCode: 1, reason: Error, startedAt: "2026-11-22T09:50:00Z", finishedAt: "2026-11-22T09:55:00Z"}}
"#;

fn playbook(severity: &str) -> String {
    format!(
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {{name: crash}}\nspec:\n  description: Crash-looping containers.\n  detect:\n    crashLoopBackOff: {{minRestarts: 5}}\n  severity: {severity}\n  remediate:\n    - rolloutRestart: {{}}\n  guards: {{cooldown: 6h}}\n"
    )
}

/// The crash-looping pod, healthy now: the finding is gone.
fn heal(c: &Cluster) {
    let mut pod = c
        .server
        .object("", "pods", "shop", "web-crash")
        .expect("the pod");
    pod["status"]["containerStatuses"][0]["ready"] = json!(true);
    pod["status"]["containerStatuses"][0]["state"] =
        json!({"running": {"startedAt": "2026-11-22T09:56:00Z"}});
    c.server.insert(pod).expect("insert");
}

/// A cluster with the crash-looping pod (its previous log has credentials in it), the
/// playbook, and a runner config.
async fn cluster(severity: &str) -> Cluster {
    let c = Cluster::start(WEB).await;
    c.playbook("crash", &playbook(severity));
    c.server.logs().set_previous(
        "shop",
        "web-crash",
        "web",
        &format!(
            "starting web 1.0\nconnecting to db with password={LOG_PASSWORD}\nGET /orders Authorization: Bearer {LOG_BEARER}\npanic: boom\n"
        ),
    );
    c
}

fn config(c: &Cluster, name: &str, secrets: &std::path::Path, notifications: &str) -> PathBuf {
    let path = c.home.path().join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nsecretsDir: {}\nnotifications:\n{notifications}",
            secrets.display()
        ),
    )
    .expect("write config");
    path
}

struct Out {
    code: i32,
    stderr: String,
    report: Value,
}

impl Out {
    fn entries(&self) -> Vec<Value> {
        self.report["notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The entry of `channel` (not a fallback's).
    fn entry(&self, channel: &str) -> Value {
        let e = self.entries();
        e.iter()
            .find(|x| x["channel"] == channel && x["fallbackFor"].is_null())
            .cloned()
            .unwrap_or_else(|| panic!("no entry for {channel}: {e:#?}\n{}", self.stderr))
    }

    fn status(&self, channel: &str) -> (String, String) {
        let e = self.entry(channel);
        (
            e["status"].as_str().unwrap_or_default().to_owned(),
            e["reason"].as_str().unwrap_or_default().to_owned(),
        )
    }

    fn notes(&self) -> String {
        self.report["notes"].to_string()
    }
}

/// One `rounds COMMAND` against the cluster at `now`; everything it produced and what the
/// server holds afterwards (Events, rounds' ConfigMaps) goes to the scan.
async fn rounds(
    ctx: &Ctx<'_>,
    c: &Cluster,
    command: &str,
    config: &std::path::Path,
    now: &str,
    extra: &[&str],
) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg(command)
        .arg("--playbooks")
        .arg(&c.playbooks)
        .arg("--config")
        .arg(config)
        .args(["--now", now, "--output", "json", "--kubeconfig"])
        .arg(&c.kubeconfig)
        .args(extra)
        .env("HOME", c.home.path())
        .env("HOSTNAME", "rounds-test-pod")
        .env("ROUNDS_LOG", "info")
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("ROUNDS_DRY_RUN")
        .env_remove("ROUNDS_ONLY")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run rounds");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let what = format!("{command} at {now}");
    ctx.record(Kind::Stdout, &what, stdout.clone());
    ctx.record(Kind::Stderr, &what, stderr.clone());
    let report: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    ctx.record(Kind::Report, &what, report.to_string());
    for (group, resource) in [("", "events"), ("events.k8s.io", "events")] {
        for e in c.server.objects(group, resource) {
            ctx.record(
                Kind::Event,
                format!("{resource} after {what}"),
                e.to_string(),
            );
        }
    }
    for cm in c.server.objects("", "configmaps") {
        if cm["metadata"]["namespace"] == "rounds" {
            ctx.record(
                Kind::Ledger,
                format!("ConfigMap after {what}"),
                cm.to_string(),
            );
        }
    }
    if c.server
        .requests()
        .records()
        .iter()
        .any(|r| r.user.as_deref() == Some(SA_USER) && r.status < 400)
    {
        ctx.used(SA_TOKEN);
    }
    ctx.round_done();
    assert!(
        !report.is_null(),
        "{what}: no JSON report (exit {:?}):\n{stderr}",
        out.status.code()
    );
    Out {
        code: out.status.code().unwrap_or(-1),
        stderr,
        report,
    }
}

fn counts(receivers: &[&Arc<Receiver>]) -> Vec<usize> {
    receivers.iter().map(|r| r.requests().len()).collect()
}

fn last(r: &Receiver) -> Value {
    r.requests().last().expect("a request").json()
}

/// The ledger's notification log entries: (channel, reason-free) channel names.
fn logged_channels(c: &Cluster) -> BTreeSet<String> {
    c.ledger()["notifications"]["entries"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|e| e["channel"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn across_rounds_every_channel(ctx: &Ctx) {
    runtime().block_on(across_rounds(ctx));
}

/// A new finding notifies every channel once; the same finding next round sends nothing (a
/// channel that failed is retried); after the repeat interval it sends again; once the finding
/// is gone every notified channel gets a resolve; then nothing.
async fn across_rounds(ctx: &Ctx<'_>) {
    let c = cluster("critical").await;
    let slack = ctx.receiver("slack", Reply::status(200, "ok"));
    // Teams is down for the whole first round: its state must not advance.
    let teams = ctx.receiver("teams", Reply::status(202, ""));
    for _ in 0..3 {
        teams.then(Reply::status(503, "down"));
    }
    let pd = ctx.receiver("pagerduty", Reply::status(202, r#"{"status":"success"}"#));
    let hook = ctx.receiver("webhook", Reply::status(200, ""));
    let basic = ctx.receiver("webhook-basic", Reply::status(200, ""));
    let smtp = Smtp::start(c.home.path(), false);
    let ca = c.home.path().join("smtp-ca.pem");
    std::fs::write(&ca, &smtp.ca_pem).expect("write");
    let secrets = mount_secrets(
        c.home.path(),
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
            ("basic-url", &basic.url("/am-receiver")),
            ("basic-password", BASIC_PASSWORD),
            ("smtp-password", SMTP_PASSWORD),
        ],
    );
    let cfg = config(
        &c,
        "config",
        &secrets,
        &format!(
            "  retries: {{ attempts: 3, backoff: 50ms, maxBackoff: 100ms }}\n  channels:\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    teams:\n      teams: {{ webhookUrlFile: teams-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    hook:\n      webhook: {{ urlFile: hook-url, bearerTokenFile: hook-token }}\n    basic:\n      webhook: {{ urlFile: basic-url, basicAuth: {{ username: rounds, passwordFile: basic-password }} }}\n    mail:\n      email: {{ host: localhost, port: {}, tls: starttls, from: rounds@example.com, to: [oncall@example.com], username: rounds, passwordFile: smtp-password, caFile: {} }}\n  tiers:\n    critical: {{ repeatInterval: 4h }}\n  routes:\n    - name: oncall\n      channels: [slack, teams, pd, hook, basic, mail]\n",
            pd.url(""),
            smtp.port,
            ca.display()
        ),
    );
    let all = [&slack, &teams, &pd, &hook, &basic];
    let others = ["slack", "pd", "hook", "basic", "mail"];

    // Round 1: new. Every channel once; Teams fails three times, and a lost critical
    // notification fails the round (exit 3) with an entry that says why, without the URL.
    let r = rounds(ctx, &c, "run", &cfg, T0, &["--apply"]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.report["mode"], "apply");
    assert_eq!(
        r.report["summary"]["applied"], 1,
        "{:#}",
        r.report["actions"]
    );
    for ch in others {
        let e = r.entry(ch);
        assert_eq!(
            (
                e["status"].as_str(),
                e["reason"].as_str(),
                e["attempts"].as_u64()
            ),
            (Some("sent"), Some("new"), Some(1)),
            "{ch}: {e}"
        );
        assert_eq!(e["tier"], "critical", "{e}");
        assert!(e["error"].is_null(), "{e}");
    }
    let e = r.entry("teams");
    assert_eq!(
        (e["status"].as_str(), e["attempts"].as_u64()),
        (Some("failed"), Some(3)),
        "{e}"
    );
    let err = e["error"].as_str().expect("an error");
    assert!(err.contains("503"), "{err}");
    assert!(
        !err.contains("/workflows") && !err.contains("sig="),
        "{err}"
    );
    assert_eq!(counts(&all), [1, 3, 1, 1, 1]);
    assert_eq!(smtp.mails().len(), 1);
    ctx.used(SMTP_PASSWORD);
    assert_eq!(
        logged_channels(&c),
        others.iter().map(|s| s.to_string()).collect(),
        "the log holds the channels that delivered, not Teams"
    );
    // What the first messages carry: the evidence, redacted log lines, no dry-run mark.
    let s = last(&slack);
    let header = s["blocks"][0]["text"]["text"].as_str().expect("header");
    assert!(
        header.starts_with("[CRITICAL]") && header.contains("1 pod"),
        "{header}"
    );
    let text = s.to_string();
    for evidence in [
        "Pod shop/web-crash",
        "exit code: 1",
        "restarts: 9",
        "rolloutRestart",
        "panic: boom",
        "password=[redacted]",
    ] {
        assert!(text.contains(evidence), "{evidence}: {text}");
    }
    assert!(!text.to_lowercase().contains("dry run"), "{text}");
    let trigger = last(&pd);
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(last(&hook)["status"], "firing");
    let b = &basic.requests()[0];
    assert!(
        b.header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "basic auth from its file"
    );
    let mail = decode_mail(&smtp.maildir.join("1.eml"));
    assert!(
        mail.lines()
            .next()
            .is_some_and(|s| s.contains("CRITICAL") && s.contains("crash")),
        "{mail}"
    );

    // Round 2, ten minutes later, the same finding: nothing for the channels that delivered;
    // Teams is retried and gets it now, as new.
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:10:00Z", &["--apply"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for ch in others {
        assert_eq!(r.status(ch).0, "suppressed", "{ch}");
        assert_eq!(r.entry(ch)["attempts"], 0);
    }
    assert_eq!(r.status("teams"), ("sent".into(), "new".into()));
    assert_eq!(counts(&all), [1, 4, 1, 1, 1]);
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(logged_channels(&c).len(), 6);

    // Round 3, past the 4h repeat interval: again, to every channel but Teams (its last
    // delivery was round 2).
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T14:05:00Z", &["--apply"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for ch in others {
        assert_eq!(r.status(ch), ("sent".into(), "repeat".into()), "{ch}");
    }
    assert_eq!(r.status("teams").0, "suppressed");
    assert_eq!(counts(&all), [2, 4, 2, 2, 2]);
    assert_eq!(smtp.mails().len(), 2);

    // Round 4: the pod is healthy. A resolve to every channel that was notified.
    heal(&c);
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T14:15:00Z", &["--apply"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.report["findings"].as_array().is_some_and(Vec::is_empty));
    for ch in ["slack", "teams", "pd", "hook", "basic", "mail"] {
        assert_eq!(r.status(ch), ("sent".into(), "resolved".into()), "{ch}");
    }
    assert_eq!(counts(&all), [3, 5, 3, 3, 3]);
    let s = last(&slack);
    assert!(
        s["blocks"][0]["text"]["text"]
            .as_str()
            .is_some_and(|h| h.contains("RESOLVED")),
        "{s}"
    );
    assert!(last(&teams).to_string().contains("RESOLVED"));
    let resolve = last(&pd);
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(
        resolve["dedup_key"], trigger["dedup_key"],
        "the same incident"
    );
    for h in [last(&hook), last(&basic)] {
        assert_eq!(h["status"], "resolved", "{h}");
        let a = &h["alerts"][0];
        assert_eq!(a["status"], "resolved");
        assert_eq!(a["endsAt"], "2026-11-22T14:15:00Z");
        assert_eq!(a["labels"]["pod"], "web-crash");
    }
    assert_eq!(smtp.mails().len(), 3);
    let mail = decode_mail(&smtp.maildir.join("3.eml"));
    assert!(
        mail.lines().next().is_some_and(|s| s.contains("RESOLVED")),
        "{mail}"
    );
    assert!(
        logged_channels(&c).is_empty(),
        "resolved groups are forgotten"
    );

    // Round 5, still healthy: nothing at all.
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T14:25:00Z", &["--apply"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.entries().is_empty(), "{:#?}", r.entries());
    assert_eq!(counts(&all), [3, 5, 3, 3, 3]);
    assert_eq!(smtp.mails().len(), 3);
    smtp.collect(ctx);
}

pub fn an_unreadable_ledger_still_notifies(ctx: &Ctx) {
    runtime().block_on(unreadable_ledger(ctx));
}

/// The ledger cannot be read (its GET fails, or the ConfigMap is garbled): the round notifies
/// anyway, as if for the first time, and says so. A notification log that alone cannot be
/// read starts afresh and is saved again.
async fn unreadable_ledger(ctx: &Ctx<'_>) {
    let c = cluster("warning").await;
    let hook = ctx.receiver("webhook", Reply::status(200, ""));
    let secrets = mount_secrets(
        c.home.path(),
        &[
            (
                "hook-url",
                &hook.url(&format!("/alerts/{WEBHOOK_PATH_TOKEN}")),
            ),
            ("hook-token", WEBHOOK_TOKEN),
        ],
    );
    let cfg = config(
        &c,
        "config",
        &secrets,
        "  channels:\n    hook:\n      webhook: { urlFile: hook-url, bearerTokenFile: hook-token }\n  routes:\n    - name: all\n      channels: [hook]\n",
    );
    let sent_new = |r: &Out| {
        assert_eq!(
            r.status("hook"),
            ("sent".into(), "new".into()),
            "{}",
            r.stderr
        );
    };

    // Its GET answers 500.
    c.server
        .faults()
        .add(FaultRule::new("GET", LEDGER, FaultAction::status(500)))
        .expect("fault");
    let r = rounds(ctx, &c, "run", &cfg, T0, &[]).await;
    c.server.faults().clear();
    sent_new(&r);
    assert!(
        r.notes().contains("the ledger could not be read")
            && r.notes()
                .contains("notifications were sent as if for the first time"),
        "{}",
        r.notes()
    );
    assert_eq!(
        r.code, 3,
        "an unreadable ledger fails the round: {}",
        r.stderr
    );
    assert!(
        c.server
            .object("", "configmaps", "rounds", "rounds-ledger")
            .is_none(),
        "nothing was saved over it"
    );

    // Readable again (it did not exist yet): new, then remembered.
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:10:00Z", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    sent_new(&r);
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:20:00Z", &[]).await;
    assert_eq!(r.status("hook").0, "suppressed");
    assert_eq!(hook.requests().len(), 2);

    // A garbled ConfigMap: notified anyway, and left as it is.
    let mut cm = c
        .server
        .object("", "configmaps", "rounds", "rounds-ledger")
        .expect("the ledger");
    cm["data"]["ledger.json"] = json!("{\"version\": 1, \"cooldowns\": ");
    c.server.insert(cm).expect("insert");
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:30:00Z", &[]).await;
    sent_new(&r);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.notes().contains("the ledger could not be read"),
        "{}",
        r.notes()
    );
    assert_eq!(
        c.server
            .object("", "configmaps", "rounds", "rounds-ledger")
            .expect("cm")["data"]["ledger.json"],
        "{\"version\": 1, \"cooldowns\": "
    );

    // Only the notification log is garbled: the rest of the ledger reads, notifications start
    // afresh, and the log is saved anew.
    let mut cm = c
        .server
        .object("", "configmaps", "rounds", "rounds-ledger")
        .expect("the ledger");
    cm["data"]["ledger.json"] = json!("{\"version\": 1, \"notifications\": {\"entries\": 42}}");
    c.server.insert(cm).expect("insert");
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:40:00Z", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    sent_new(&r);
    assert!(
        r.notes().contains("notifications start afresh"),
        "{}",
        r.notes()
    );
    assert_eq!(logged_channels(&c).len(), 1);
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:50:00Z", &[]).await;
    assert_eq!(r.status("hook").0, "suppressed");
    assert_eq!(hook.requests().len(), 4);
}

pub fn dry_run_and_plan(ctx: &Ctx) {
    runtime().block_on(dry_run(ctx));
}

/// `rounds plan` never notifies; `rounds run` in dry-run delivers, every message marked as a
/// dry run, unless the config says `dryRun: {notify: never}`.
async fn dry_run(ctx: &Ctx<'_>) {
    let c = cluster("warning").await;
    let slack = ctx.receiver("slack", Reply::status(200, "ok"));
    let teams = ctx.receiver("teams", Reply::status(202, ""));
    let pd = ctx.receiver("pagerduty", Reply::status(202, "{}"));
    let hook = ctx.receiver("webhook", Reply::status(200, ""));
    let secrets = mount_secrets(
        c.home.path(),
        &[
            ("slack-url", &slack.url(&format!("/s/{SLACK_TOKEN}"))),
            ("teams-url", &teams.url(&format!("/t?sig={TEAMS_SIG}"))),
            ("pd-key", PD_KEY),
            ("hook-url", &hook.url(&format!("/h/{WEBHOOK_PATH_TOKEN}"))),
        ],
    );
    let channels = format!(
        "  channels:\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    teams:\n      teams: {{ webhookUrlFile: teams-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    hook:\n      webhook: {{ urlFile: hook-url }}\n  routes:\n    - name: all\n      channels: [slack, teams, pd, hook]\n",
        pd.url("")
    );
    let deliver = config(&c, "deliver", &secrets, &channels);
    let never = config(
        &c,
        "never",
        &secrets,
        &format!("  dryRun: {{ notify: never }}\n{channels}"),
    );
    let all = [&slack, &teams, &pd, &hook];

    // plan: detects and plans, never notifies (with either config).
    for cfg in [&deliver, &never] {
        let r = rounds(ctx, &c, "plan", cfg, T0, &[]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.report["findings"].as_array().map(Vec::len), Some(1));
        assert!(r.entries().is_empty(), "{:#?}", r.entries());
    }
    assert_eq!(counts(&all), [0, 0, 0, 0]);

    // A dry-run round with notify: never: every message listed as dry-run, none sent, and
    // nothing recorded (the next round still sends them).
    let r = rounds(ctx, &c, "run", &never, T0, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.report["mode"], "dry-run");
    for ch in ["slack", "teams", "pd", "hook"] {
        let e = r.entry(ch);
        assert_eq!(
            (e["status"].as_str(), e["attempts"].as_u64()),
            (Some("dry-run"), Some(0)),
            "{e}"
        );
    }
    assert!(r.notes().contains("nothing was sent"), "{}", r.notes());
    assert_eq!(counts(&all), [0, 0, 0, 0]);

    // A dry-run round by default: delivered, each message marked.
    let r = rounds(ctx, &c, "run", &deliver, "2026-11-22T10:05:00Z", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for ch in ["slack", "teams", "pd", "hook"] {
        assert_eq!(r.status(ch), ("sent".into(), "new".into()), "{ch}");
    }
    assert_eq!(counts(&all), [1, 1, 1, 1]);
    let s = last(&slack);
    assert!(
        s["blocks"][0]["text"]["text"]
            .as_str()
            .is_some_and(|h| h.starts_with("[dry-run] ")),
        "{s}"
    );
    assert!(s.to_string().contains("DRY RUN: nothing was changed"));
    assert!(s["text"].as_str().is_some_and(|t| t.contains("[dry-run]")));
    let t = last(&teams).to_string();
    assert!(t.contains("[dry-run]") && t.contains("DRY RUN"), "{t}");
    let p = last(&pd);
    assert!(
        p["payload"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("[dry-run] ")),
        "{p}"
    );
    assert_eq!(p["payload"]["custom_details"]["dryRun"], true, "{p}");
    let h = last(&hook);
    assert_eq!(h["alerts"][0]["annotations"]["dry_run"], "true", "{h}");
    assert_eq!(h["commonAnnotations"]["dry_run"], "true", "{h}");
}

pub fn a_lost_critical_notification_exits_3(ctx: &Ctx) {
    runtime().block_on(lost_critical(ctx));
}

/// PagerDuty refuses the event (400, not retried): the route's fallback gets it, marked as
/// fallback, and the round exits 3. Next round PagerDuty is tried again; the resolve goes to
/// every channel that was notified, the fallback included.
async fn lost_critical(ctx: &Ctx<'_>) {
    let c = cluster("critical").await;
    let slack = ctx.receiver("slack", Reply::status(200, "ok"));
    let pd = ctx.receiver("pagerduty", Reply::status(202, "{}"));
    pd.then(Reply::status(400, r#"{"status":"invalid event"}"#));
    let secrets = mount_secrets(
        c.home.path(),
        &[
            ("slack-url", &slack.url(&format!("/s/{SLACK_TOKEN}"))),
            ("pd-key", PD_KEY),
        ],
    );
    let cfg = config(
        &c,
        "config",
        &secrets,
        &format!(
            "  channels:\n    slack:\n      slack: {{ webhookUrlFile: slack-url }}\n    pd:\n      pagerduty: {{ routingKeyFile: pd-key, url: '{}' }}\n    stderr:\n      console: {{}}\n  routes:\n    - name: page\n      channels: [pd]\n      fallback: stderr\n      continue: true\n    - name: chat\n      channels: [slack]\n",
            pd.url("")
        ),
    );
    let r = rounds(ctx, &c, "run", &cfg, T0, &["--apply"]).await;
    assert_eq!(r.code, 3, "a lost critical notification: {}", r.stderr);
    let e = r.entry("pd");
    assert_eq!(
        (
            e["status"].as_str(),
            e["tier"].as_str(),
            e["attempts"].as_u64()
        ),
        (Some("failed"), Some("critical"), Some(1)),
        "{e}"
    );
    let err = e["error"].as_str().expect("error");
    assert!(err.contains("HTTP 400"), "{err}");
    let fb = r
        .entries()
        .into_iter()
        .find(|x| x["fallbackFor"] == "pd")
        .expect("a fallback entry");
    assert_eq!(
        (
            fb["channel"].as_str(),
            fb["status"].as_str(),
            fb["tier"].as_str()
        ),
        (Some("stderr"), Some("fallback"), Some("critical")),
        "{fb}"
    );
    assert!(
        r.stderr
            .contains("Sent to this fallback because channel pd failed")
    );
    assert_eq!(r.status("slack").0, "sent");
    assert_eq!((slack.requests().len(), pd.requests().len()), (1, 1));

    // PagerDuty answers again: it gets the page it missed, Slack waits.
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:10:00Z", &["--apply"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("pd"), ("sent".into(), "new".into()));
    assert_eq!(r.status("slack").0, "suppressed");
    assert_eq!(last(&pd)["event_action"], "trigger");

    // Gone: resolves to PagerDuty, Slack and the fallback that carried the page.
    heal(&c);
    let r = rounds(ctx, &c, "run", &cfg, "2026-11-22T10:20:00Z", &["--apply"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for ch in ["pd", "slack", "stderr"] {
        assert_eq!(r.status(ch), ("sent".into(), "resolved".into()), "{ch}");
    }
    assert_eq!(last(&pd)["event_action"], "resolve");
    assert!(r.stderr.contains("RESOLVED"), "{}", r.stderr);
}

pub fn a_real_alertmanager_shows_it_resolved(ctx: &Ctx) {
    runtime().block_on(alertmanager(ctx));
}

/// Alertmanager keeps time by its own clock: these rounds run at the real time.
async fn alertmanager(ctx: &Ctx<'_>) {
    let c = cluster("critical").await;
    let am = Alertmanager::start(c.home.path());
    let secrets = mount_secrets(c.home.path(), &[]);
    let cfg = config(
        &c,
        "config",
        &secrets,
        &format!(
            "  channels:\n    am:\n      alertmanager: {{ url: '{}', endsAfter: 30m }}\n  routes:\n    - name: all\n      channels: [am]\n",
            am.url()
        ),
    );
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ours = |alerts: Vec<Value>| -> Vec<Value> {
        alerts
            .into_iter()
            .filter(|a| a["labels"]["playbook"] == "crash")
            .collect()
    };
    let started = chrono::Utc::now();
    let r = rounds(ctx, &c, "run", &cfg, &now(), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("am"), ("sent".into(), "new".into()));
    let firing = ours(am.alerts(ctx));
    assert_eq!(firing.len(), 1, "{firing:#?}");
    let a = &firing[0];
    assert_eq!(a["status"]["state"], "active");
    assert_eq!(a["labels"]["severity"], "critical");
    assert_eq!(a["labels"]["pod"], "web-crash");
    assert_eq!(a["labels"]["namespace"], "shop");
    assert_eq!(a["annotations"]["dry_run"], "true");
    assert!(
        a["annotations"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("exit code: 1") && d.contains("panic: boom"))
    );
    let ends = chrono::DateTime::parse_from_rfc3339(a["endsAt"].as_str().expect("endsAt"))
        .expect("time")
        .to_utc();
    let ahead = ends - started;
    assert!(
        ahead > chrono::Duration::minutes(29) && ahead <= chrono::Duration::minutes(31),
        "{ahead}"
    );

    // Still firing next round: re-sent (Alertmanager forgets across restarts).
    let r = rounds(ctx, &c, "run", &cfg, &now(), &[]).await;
    assert_eq!(r.status("am"), ("sent".into(), "refresh".into()));
    assert_eq!(ours(am.alerts(ctx)).len(), 1);

    // Gone: sent with endsAt now, and Alertmanager no longer lists it as active.
    heal(&c);
    let r = rounds(ctx, &c, "run", &cfg, &now(), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("am"), ("sent".into(), "resolved".into()));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let still = ours(am.alerts(ctx));
    assert!(
        still.is_empty(),
        "resolved alerts are not active: {still:#?}"
    );
}
