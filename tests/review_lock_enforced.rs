//! End-to-end: the lock the runner config names is enforced by the binary against the test API
//! server. A playbook edited after `rounds lock` (as an out-of-band edit of the playbooks
//! ConfigMap would) is refused in apply mode: nothing is sent for its target, not even a dry
//! run, while the reviewed playbook still acts, and the round exits 3 so the Job fails. In
//! dry-run it runs, with a warning in the report and the log, and exits 0.

mod guarded;

use guarded::*;
use serde_json::Value;
use std::path::PathBuf;

/// A Deployment whose one pod is OOM-killed and crash-looping (not ready), and a ready one.
const SHOP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: dep-api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: api, image: "shop/api:1", resources: {limits: {memory: 256Mi}}}
status: {replicas: 2, readyReplicas: 1, availableReplicas: 1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5d9f
  namespace: shop
  uid: rs-api
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: dep-api, controller: true}]
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "shop/api:1"}]
status: {replicas: 2, readyReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5d9f-crash
  namespace: shop
  uid: pod-crash
  labels: {app: api}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d9f, uid: rs-api, controller: true}]
spec:
  nodeName: node-a
  containers: [{name: api, image: "shop/api:1", resources: {limits: {memory: 256Mi}}}]
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - name: api
    ready: false
    restartCount: 7
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2026-11-22T09:55:00Z"}}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5d9f-ok
  namespace: shop
  uid: pod-ok
  labels: {app: api}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d9f, uid: rs-api, controller: true}]
spec:
  nodeName: node-b
  containers: [{name: api, image: "shop/api:1"}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses: [{name: api, ready: true, restartCount: 0, state: {running: {}}}]
"#;

/// Reviewed and locked: raises the memory limit (PATCH of the Deployment).
const RAISE: &str = "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: raise}\nspec:\n  detect:\n    oomKilled: {}\n  remediate:\n    - raiseMemoryLimit: {max: 1Gi}\n  guards: {maxActionsPerRound: 1}\n  notify:\n    evidence: {logTailLines: 0, events: false}\n";

/// Locked, then edited: deletes the crash-looping pod (DELETE of the Pod).
const RESTART: &str = "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: restart}\nspec:\n  detect:\n    crashLoopBackOff: {minRestarts: 5}\n  remediate:\n    - deletePod: {ignoreDisruptionBudgets: true}\n  guards: {maxActionsPerRound: 1}\n  notify:\n    evidence: {logTailLines: 0, events: false}\n";

const POD: &str = "/api/v1/namespaces/shop/pods/api-5d9f-crash";
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/shop/deployments/api";

/// A cluster with both playbooks locked together with a runner config that names the lock,
/// then `restart` edited (a lower restart threshold) without locking again.
async fn tampered() -> (Cluster, PathBuf) {
    let c = Cluster::start(SHOP).await;
    c.playbook("raise", RAISE);
    c.playbook("restart", RESTART);
    let lock = c.home.path().join("playbooks.lock");
    let config = c.home.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nlock:\n  file: {}\n",
            lock.display()
        ),
    )
    .expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("lock")
        .arg(&c.playbooks)
        .arg("--config")
        .arg(&config)
        .arg("--lock")
        .arg(&lock)
        .output()
        .expect("rounds lock");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    c.playbook(
        "restart",
        &RESTART.replace("minRestarts: 5", "minRestarts: 1"),
    );
    (c, config)
}

fn notes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect()
}

fn lock_verdict(action: &Value) -> Value {
    action["verdicts"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["guard"] == "lock"))
        .cloned()
        .unwrap_or_else(|| panic!("no lock verdict in {action:#}"))
}

/// `playbook restart (…/restart.yaml, sha256:…) is not in the lock …/playbooks.lock`.
fn names_playbook_and_files(text: &str, c: &Cluster) -> bool {
    let file = c.playbooks.join("restart.yaml").display().to_string();
    let lock = c.home.path().join("playbooks.lock").display().to_string();
    text.contains(&format!("playbook restart ({file}, sha256:"))
        && text.contains(&format!(") is not in the lock {lock}"))
}

/// The report has exactly one note naming the tampered playbook and the lock, ending with
/// `ending`, and the log warns of it.
fn warned_once(report: &Value, run: &Run, c: &Cluster, ending: &str) {
    let warned: Vec<String> = notes(report)
        .into_iter()
        .filter(|n| names_playbook_and_files(n, c))
        .collect();
    assert_eq!(warned.len(), 1, "{:#}", report["notes"]);
    assert!(warned[0].ends_with(ending), "{warned:?}");
    let log = run.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && names_playbook_and_files(l, c)),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_playbook_is_refused_in_apply_mode() {
    let (c, config) = tampered().await;
    let config = config.to_str().expect("utf-8");
    let before = c.state();
    let run = c.rounds("run", &["--apply", "--config", config]).await;
    // The refusal fails the Job: exit 3, as for a failed action.
    let report = run.report_with(3);
    assert_eq!(report["summary"]["failed"], 0, "{:#}", report["summary"]);

    let refused = action(&report, "deletePod");
    assert_eq!(refused["status"], "skipped", "{refused:#}");
    assert_eq!(refused["guard"], "lock", "{refused:#}");
    let reason = refused["reason"].as_str().unwrap_or_default();
    assert!(
        names_playbook_and_files(reason, &c)
            && reason.ends_with(": it is not the reviewed version"),
        "{reason}"
    );
    assert_eq!(lock_verdict(refused)["verdict"], "skip");
    assert!(
        refused.get("server").is_none(),
        "nothing was sent: {refused:#}"
    );

    let reviewed = action(&report, "raiseMemoryLimit");
    assert_eq!(reviewed["status"], "applied", "{reviewed:#}");
    assert_eq!(lock_verdict(reviewed)["verdict"], "allow");

    // No request of any kind for the refused target; the reviewed one was written.
    let records = c.server.requests().records();
    let to_pod: Vec<_> = records
        .iter()
        .filter(|r| r.method != "GET" && r.path == POD)
        .collect();
    assert!(to_pod.is_empty(), "a write reached the server: {to_pod:?}");
    assert!(
        records
            .iter()
            .any(|r| r.method == "PATCH" && r.path == DEPLOYMENT && !r.query.contains("dryRun")),
        "the reviewed playbook acts"
    );
    let after = c.state();
    assert_eq!(
        after.get("pods/shop/api-5d9f-crash"),
        before.get("pods/shop/api-5d9f-crash"),
        "the pod is untouched"
    );
    assert_ne!(
        after.get("deployments/shop/api"),
        before.get("deployments/shop/api")
    );

    // Said in the report and the log, and in the audit trail.
    warned_once(&report, &run, &c, ": its actions are refused");
    // One Event store, kept in the core/v1 shape.
    let skipped_event = c
        .server
        .objects("", "events")
        .into_iter()
        .find(|e| {
            e["reason"] == "RemediationSkipped" && e["involvedObject"]["name"] == "api-5d9f-crash"
        })
        .unwrap_or_else(|| panic!("a RemediationSkipped Event for the pod"));
    let note = skipped_event["message"].as_str().unwrap_or_default();
    assert!(note.contains("skipped by lock: "), "{note}");

    // Every Event names the version of the playbook that acted: the digest the report and the
    // lock give (for the edited playbook, its new digest, which the lock does not have).
    let digest_of = |name: &str| -> String {
        report["playbooks"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .and_then(|p| p["digest"].as_str())
            .expect("digest")
            .to_owned()
    };
    let lock: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(c.home.path().join("playbooks.lock")).expect("lock"),
    )
    .expect("lock YAML");
    let locked: Vec<&str> = lock["playbooks"]
        .as_array()
        .expect("locked")
        .iter()
        .filter_map(|p| p["digest"].as_str())
        .collect();
    assert!(locked.contains(&digest_of("raise").as_str()));
    assert!(!locked.contains(&digest_of("restart").as_str()));
    assert!(
        note.contains(&format!("playbook restart ({})", digest_of("restart"))),
        "{note}"
    );
    let applied_event = c
        .server
        .objects("", "events")
        .into_iter()
        .find(|e| e["reason"] == "RemediationApplied" && e["involvedObject"]["name"] == "api")
        .unwrap_or_else(|| panic!("a RemediationApplied Event for the Deployment"));
    let note = applied_event["message"].as_str().unwrap_or_default();
    assert!(
        note.contains(&format!("playbook raise ({})", digest_of("raise"))),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_playbook_runs_in_dry_run_with_a_warning() {
    let (c, config) = tampered().await;
    let config = config.to_str().expect("utf-8");
    let before = c.state();
    let run = c.rounds("run", &["--config", config]).await;
    // A warning, not a failure: the dry run goes on and exits 0.
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let report = run.report();

    let warned_action = action(&report, "deletePod");
    assert_eq!(warned_action["status"], "planned", "{warned_action:#}");
    let verdict = lock_verdict(warned_action);
    assert_eq!(verdict["verdict"], "unchecked", "{verdict:#}");
    let reason = verdict["reason"].as_str().unwrap_or_default();
    assert!(
        names_playbook_and_files(reason, &c) && reason.ends_with("; apply would refuse it"),
        "{reason}"
    );
    // The dry run was sent (the server checked it), and nothing changed.
    let to_pod: Vec<_> = c
        .server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path == POD)
        .collect();
    assert!(
        !to_pod.is_empty() && to_pod.iter().all(|r| r.query.contains("dryRun=All")),
        "{to_pod:?}"
    );
    assert_eq!(c.state(), before, "a dry run changes nothing");

    warned_once(
        &report,
        &run,
        &c,
        ": this round goes on, but apply would refuse its actions",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_lock_stops_the_round() {
    let c = Cluster::start(SHOP).await;
    c.playbook("raise", RAISE);
    let config = c.home.path().join("config.yaml");
    let missing = c.home.path().join("missing.lock");
    std::fs::write(
        &config,
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nlock: {{file: {}}}\n",
            missing.display()
        ),
    )
    .expect("config");
    let run = c
        .rounds(
            "run",
            &["--apply", "--config", config.to_str().expect("utf-8")],
        )
        .await;
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(
        run.stderr().contains(&missing.display().to_string()),
        "{}",
        run.stderr()
    );
    assert!(c.writes().is_empty(), "{:?}", c.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_runner_config_holds_every_action_back_and_fails_the_job() {
    let (c, config) = tampered().await;
    // The runner config edited after the lock: no playbook may act, the reviewed one neither.
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!("{text}guards: {{maxActionsPerRound: 9}}\n"),
    )
    .expect("edit");
    let config = config.to_str().expect("utf-8");
    let run = c.rounds("run", &["--apply", "--config", config]).await;
    let report = run.report_with(3);
    for name in ["raiseMemoryLimit", "deletePod"] {
        let a = action(&report, name);
        assert_eq!(a["status"], "skipped", "{a:#}");
        assert_eq!(a["guard"], "lock", "{a:#}");
    }
    // Nothing sent to either target (the skips' Events are written).
    let to_targets: Vec<_> = c
        .writes()
        .into_iter()
        .filter(|r| r.path == POD || r.path == DEPLOYMENT)
        .collect();
    assert!(to_targets.is_empty(), "{to_targets:?}");

    // The same config in a dry run: warned, exit 0.
    let run = c.rounds("run", &["--config", config]).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let report = run.report();
    assert_eq!(
        lock_verdict(action(&report, "raiseMemoryLimit"))["verdict"],
        "unchecked"
    );
}
