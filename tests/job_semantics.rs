//! rounds as a Job: at its deadline and on SIGTERM (what the kubelet sends at the Job's
//! activeDeadlineSeconds or on a drain) it starts no new action, lets the one in flight
//! finish, then notifies, saves the ledger and reports; a stop during the inventory ends the
//! round without a change. Scheduled playbooks are due against the ledger: once per fire,
//! missed fires reported and not run twice, a failed round retried.

#[path = "guarded/mod.rs"]
mod guarded;
#[allow(dead_code)] // the receiver serves other tests too
#[path = "receivers/http.rs"]
mod receivers;

use guarded::*;
use rounds_test_apiserver::{FaultAction, FaultRule};
use serde_json::Value;
use std::time::{Duration, Instant};

/// `n` crash-looping Deployments d0..d{n-1} in shop, one pod each.
fn crashing(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: d{i}, namespace: shop, uid: dep-{i}}}
spec: {{replicas: 2, selector: {{matchLabels: {{app: d{i}}}}}, template: {{metadata: {{labels: {{app: d{i}}}}}, spec: {{containers: [{{name: app, image: "shop/app:1"}}]}}}}}}
status: {{replicas: 2, readyReplicas: 1}}
---
apiVersion: v1
kind: Pod
metadata:
  name: d{i}-crash
  namespace: shop
  uid: pod-{i}
  labels: {{app: d{i}}}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: d{i}, uid: dep-{i}, controller: true}}]
spec: {{containers: [{{name: app, image: "shop/app:1"}}]}}
status:
  phase: Running
  containerStatuses: [{{name: app, restartCount: 9, state: {{waiting: {{reason: CrashLoopBackOff}}}}}}]
"#
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn restart_playbook(schedule: Option<&str>) -> String {
    format!(
        r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata: {{name: crash}}
spec:
{}  detect:
    crashLoopBackOff: {{minRestarts: 5}}
  remediate:
    - rolloutRestart: {{}}
  guards: {{maxActionsPerRound: 50, maxActionsPerNamespace: 50, cooldown: 1h}}
  notify:
    evidence: {{logTailLines: 0, events: false}}
"#,
        schedule
            .map(|s| format!("  schedule: \"{s}\"\n"))
            .unwrap_or_default()
    )
}

/// A runner config that notifies `receiver` (a webhook) and allows many actions.
fn config(c: &Cluster, receiver: &receivers::Receiver) -> std::path::PathBuf {
    let secrets = c.home.path().join("secrets");
    std::fs::create_dir_all(&secrets).expect("secrets dir");
    std::fs::write(secrets.join("hook-url"), receiver.url("/hook")).expect("secret");
    let path = c.home.path().join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nsecretsDir: {}\nguards: {{maxActionsPerRound: 50}}\nnotifications:\n  channels:\n    hook:\n      webhook: {{ urlFile: hook-url }}\n  routes:\n    - name: all\n      channels: [hook]\n",
            secrets.display()
        ),
    )
    .expect("config");
    path
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/shop/deployments/";

/// Deployments that a real (not dry-run) PATCH reached and changed.
fn restarted(c: &Cluster) -> Vec<String> {
    let mut out: Vec<String> = c
        .server
        .objects("apps", "deployments")
        .into_iter()
        .filter(|d| {
            d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
                .is_string()
        })
        .map(|d| {
            d["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    out.sort();
    out
}

fn real_patches(c: &Cluster) -> usize {
    c.server
        .requests()
        .records()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(DEPLOYMENTS))
        .filter(|r| !r.query.contains("dryRun=All") && r.status < 300)
        .count()
}

/// What a stopped round must leave: every action in the report, the applied ones done on
/// their target and in the ledger, the others not started and not touched, no intent left
/// open, and the notification delivered.
fn assert_complete_and_nothing_half_done(
    c: &Cluster,
    report: &Value,
    receiver: &receivers::Receiver,
    n: usize,
) -> usize {
    let actions = report["actions"].as_array().expect("actions");
    assert_eq!(
        actions.len(),
        n,
        "every action is in the report: {actions:#?}"
    );
    let applied: Vec<String> = actions
        .iter()
        .filter(|a| a["status"] == "applied")
        .map(|a| a["target"]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    let not_started: Vec<&Value> = actions.iter().filter(|a| a["status"] == "failed").collect();
    assert!(!applied.is_empty(), "some actions ran before the stop");
    assert!(
        !not_started.is_empty(),
        "the stop came before the last action"
    );
    assert_eq!(applied.len() + not_started.len(), n, "{actions:#?}");
    for a in &not_started {
        let why = a["reason"]
            .as_str()
            .or(a["error"].as_str())
            .unwrap_or_default();
        assert!(
            a.to_string().contains("not started"),
            "a stopped action says why: {a:#} ({why})"
        );
    }
    let mut applied_sorted = applied.clone();
    applied_sorted.sort();
    assert_eq!(
        restarted(c),
        applied_sorted,
        "exactly the applied ones changed"
    );
    assert_eq!(
        real_patches(c),
        applied.len(),
        "no write for an action not started"
    );
    let ledger = c.ledger();
    assert_eq!(
        ledger["intents"].as_object().map_or(0, |m| m.len()),
        0,
        "no write left unconfirmed: {:#}",
        ledger["intents"]
    );
    let cooled: Vec<&String> = ledger["cooldowns"]
        .as_object()
        .expect("cooldowns")
        .keys()
        .collect();
    assert_eq!(cooled.len(), applied.len(), "{cooled:?}");
    for name in &applied {
        assert!(
            cooled.iter().any(|k| k.contains(name.as_str())),
            "{name} in {cooled:?}"
        );
    }
    // The notification went out, and the notification log is in the ledger.
    assert!(
        !receiver.requests().is_empty(),
        "the notification was flushed"
    );
    let sent = report["notifications"].as_array().expect("notifications");
    assert!(sent.iter().any(|s| s["status"] == "sent"), "{sent:#?}");
    assert!(
        ledger["notifications"]["entries"]
            .as_object()
            .is_some_and(|e| !e.is_empty()),
        "{:#}",
        ledger["notifications"]
    );
    applied.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_its_deadline_a_round_stops_acting_and_flushes_everything() {
    let n = 6;
    let c = Cluster::start(&crashing(n)).await;
    c.playbook("crash", &restart_playbook(None));
    let receiver = receivers::Receiver::start(receivers::Reply::status(200, "{}"));
    let config = config(&c, &receiver);
    // Every write takes a second: the dry run and the write of one action take two.
    c.server
        .faults()
        .add(FaultRule::new(
            "PATCH",
            DEPLOYMENTS,
            FaultAction::delay(1000),
        ))
        .expect("fault");
    let started = Instant::now();
    let run = c
        .rounds(
            "run",
            &[
                "--apply",
                "--deadline",
                "5s",
                "--config",
                config.to_str().expect("path"),
            ],
        )
        .await;
    let took = started.elapsed();
    // Actions not started are failures the user must see: exit 3, with the whole report.
    let report = run.report_with(3);
    let applied = assert_complete_and_nothing_half_done(&c, &report, &receiver, n);
    assert!(applied < n);
    // deadline 5s, a flush of at most as long, and the request in flight.
    assert!(took < Duration::from_secs(12), "took {took:?}");
    assert!(
        report["notes"].to_string().contains("deadline")
            || report.to_string().contains("deadline of 5s"),
        "the report says the deadline stopped it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_action_in_flight_finish_then_flushes_within_the_grace_period() {
    let n = 6;
    let c = Cluster::start(&crashing(n)).await;
    c.playbook("crash", &restart_playbook(None));
    let receiver = receivers::Receiver::start(receivers::Reply::status(200, "{}"));
    let config = config(&c, &receiver);
    c.server
        .faults()
        .add(FaultRule::new(
            "PATCH",
            DEPLOYMENTS,
            FaultAction::delay(1000),
        ))
        .expect("fault");
    let child = c
        .command(
            "run",
            &[
                "--apply",
                "--deadline",
                "120s",
                "--config",
                config.to_str().expect("path"),
            ],
        )
        .spawn()
        .expect("start rounds");
    let pid = child.id().expect("pid").to_string();
    // SIGTERM while the second action's dry run is in flight.
    let waited = Instant::now();
    while real_patches(&c) < 1 {
        assert!(waited.elapsed() < Duration::from_secs(60), "no action ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("rounds ends within the grace period")
        .expect("output");
    let took = signalled.elapsed();
    let run = Run { out };
    assert!(run.stderr().contains("Asked to stop"), "{}", run.stderr());
    let report = run.report_with(3);
    assert_complete_and_nothing_half_done(&c, &report, &receiver, n);
    // The round's flush is 25s at most; with one action in flight it is done in seconds.
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} after SIGTERM"
    );
    assert!(report.to_string().contains("SIGTERM"), "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_inventory_ends_the_round_without_a_change() {
    let c = Cluster::start(&crashing(2)).await;
    c.playbook("crash", &restart_playbook(None));
    c.server
        .faults()
        .add(FaultRule::new(
            "GET",
            "/api/v1/pods",
            FaultAction::delay(20_000),
        ))
        .expect("fault");
    let child = c
        .command("run", &["--apply", "--deadline", "120s"])
        .spawn()
        .expect("start rounds");
    let pid = child.id().expect("pid").to_string();
    let waited = Instant::now();
    while c
        .server
        .requests()
        .count("GET", "/apis/coordination.k8s.io")
        == 0
    {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "never took the lease"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("rounds ends at once")
        .expect("output");
    assert!(signalled.elapsed() < Duration::from_secs(5));
    let run = Run { out };
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("before the inventory was complete; nothing was changed"),
        "{}",
        run.stderr()
    );
    assert!(c.target_writes().is_empty(), "{:#?}", c.target_writes());
    // The lease was given back, so the next round need not wait for it to expire.
    let lease = c
        .server
        .object("coordination.k8s.io", "leases", "rounds", "rounds")
        .expect("the lease");
    assert_eq!(lease["spec"]["holderIdentity"], "", "{lease:#}");
}

/// One round at `now` (apply), its exit code and report.
async fn round_at(c: &Cluster, now: &str) -> (Option<i32>, Value) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"));
    cmd.args([
        "run",
        "--apply",
        "--output",
        "json",
        "--now",
        now,
        "--playbooks",
    ])
    .arg(&c.playbooks)
    .arg("--kubeconfig")
    .arg(&c.kubeconfig)
    .env("HOME", c.home.path())
    .env_remove("KUBECONFIG")
    .env_remove("KUBERNETES_SERVICE_HOST");
    let out = cmd.output().await.expect("run rounds");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no report at {now} ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn due(report: &Value) -> bool {
    report["playbooks"][0]["due"].as_bool().expect("due")
}

fn notes(report: &Value) -> String {
    report["notes"].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_catches_up_once_reports_missed_fires_and_retries_a_failed_round() {
    let c = Cluster::start(&crashing(1)).await;
    c.playbook("crash", &restart_playbook(Some("0 * * * *")));
    let success = |c: &Cluster| c.ledger()["schedules"]["crash"]["lastSuccess"].clone();

    // First seen at 10:02: the 10:00 fire is within the starting deadline (10m).
    let (code, r) = round_at(&c, "2026-11-22T10:02:00Z").await;
    assert_eq!((code, due(&r)), (Some(0), true), "{r:#}");
    assert_eq!(r["summary"]["applied"], 1);
    assert_eq!(success(&c), "2026-11-22T10:02:00Z");
    // The next CronJob round: the 10:00 fire was answered.
    let (_, r) = round_at(&c, "2026-11-22T10:07:00Z").await;
    assert!(!due(&r), "{r:#}");
    // No round from 10:07 to 13:04: one run for 13:00; 11:00 and 12:00 are reported, not run.
    let (code, r) = round_at(&c, "2026-11-22T13:04:00Z").await;
    assert_eq!((code, due(&r)), (Some(0), true));
    assert_eq!(r["summary"]["applied"], 1, "one run for three fires");
    assert!(
        notes(&r).contains("2 fire(s)")
            && notes(&r).contains("2026-11-22T11:00:00Z to 2026-11-22T12:00:00Z"),
        "{}",
        notes(&r)
    );
    // 14:20: the 14:00 fire is past the starting deadline: missed, reported, not run.
    let (_, r) = round_at(&c, "2026-11-22T14:20:00Z").await;
    assert!(!due(&r));
    assert!(notes(&r).contains("1 fire(s)"), "{}", notes(&r));
    assert_eq!(success(&c), "2026-11-22T13:04:00Z");
    // 15:01 fails (the server refuses the write): the schedule does not advance...
    c.server
        .faults()
        .add(FaultRule::new(
            "PATCH",
            DEPLOYMENTS,
            FaultAction::status(422),
        ))
        .expect("fault");
    let (code, r) = round_at(&c, "2026-11-22T15:01:00Z").await;
    assert_eq!((code, due(&r)), (Some(3), true), "{r:#}");
    assert_eq!(success(&c), "2026-11-22T13:04:00Z");
    // ...so 15:06 runs for the 15:00 fire again, and then it is answered.
    c.server.faults().clear();
    let (code, r) = round_at(&c, "2026-11-22T15:06:00Z").await;
    assert_eq!((code, due(&r)), (Some(0), true), "{r:#}");
    assert_eq!(success(&c), "2026-11-22T15:06:00Z");
    let (_, r) = round_at(&c, "2026-11-22T15:08:00Z").await;
    assert!(!due(&r));
}
