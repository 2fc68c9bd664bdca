//! End-to-end: the run lock, the ledger and the audit trail against the test API server. Two
//! rounds at once: one acts, the other exits 2 naming the holder. A round killed between two
//! actions and run again does not repeat the first. Another writer between a round's read and
//! write of the ledger loses no entry; a ledger past one ConfigMap is sharded and read back.
//! Events and annotations are on the targets; a refused write names what to grant.

mod guarded;

use guarded::*;
use rounds_test_apiserver::client::Client;
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, FaultAction, FaultRule, Identity};
use serde_json::{Value, json};
use std::time::Duration;

/// Two crash-looping Deployments, `api` and `web`, in shop.
const TWO: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: dep-api}
spec: {replicas: 2, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: api, image: "shop/api:1"}]}}}
status: {replicas: 2, readyReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-crash
  namespace: shop
  uid: pod-api
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: dep-api, controller: true}]
spec: {containers: [{name: api, image: "shop/api:1"}]}
status:
  phase: Running
  containerStatuses: [{name: api, restartCount: 9, state: {waiting: {reason: CrashLoopBackOff}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: dep-web}
spec: {replicas: 2, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: "shop/web:1"}]}}}
status: {replicas: 2, readyReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-crash
  namespace: shop
  uid: pod-web
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: dep-web, controller: true}]
spec: {containers: [{name: web, image: "shop/web:1"}]}
status:
  phase: Running
  containerStatuses: [{name: web, restartCount: 9, state: {waiting: {reason: CrashLoopBackOff}}}]
"#;

const RESTART: &str = r#"
apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata: {name: crash}
spec:
  detect:
    crashLoopBackOff: {minRestarts: 5}
  remediate:
    - rolloutRestart: {}
  guards: {cooldown: 6h}
  notify:
    evidence: {logTailLines: 0, events: false}
"#;

const API: &str = "/apis/apps/v1/namespaces/shop/deployments/api";
const WEB: &str = "/apis/apps/v1/namespaces/shop/deployments/web";
const LEDGER: &str = "/api/v1/namespaces/rounds/configmaps/rounds-ledger";

async fn two() -> Cluster {
    let c = Cluster::start(TWO).await;
    c.playbook("crash", RESTART);
    c
}

/// Real (not dry-run) writes to `path` that the server applied.
fn applied_writes(c: &Cluster, path: &str) -> usize {
    c.server
        .requests()
        .records()
        .iter()
        .filter(|r| r.method != "GET" && r.path == path)
        .filter(|r| !r.query.contains("dryRun=All") && r.status < 300)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rounds_at_once_one_acts_and_the_other_names_the_holder() {
    let c = two().await;
    // The first round to list pods waits a little, so the other one meets its lease.
    c.server
        .faults()
        .add(FaultRule::new("GET", "/api/v1/pods", FaultAction::delay(1500)).times(1))
        .expect("fault");
    let a = c.command("run", &["--apply"]).output();
    let b = c.command("run", &["--apply"]).output();
    let (a, b) = tokio::join!(a, b);
    let runs = [a.expect("run a"), b.expect("run b")];
    let codes: Vec<Option<i32>> = runs.iter().map(|r| r.status.code()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [Some(0), Some(2)], "one acts, one could not run");
    let held = runs
        .iter()
        .find(|r| r.status.code() == Some(2))
        .expect("the one that could not run");
    let done = runs
        .iter()
        .find(|r| r.status.code() == Some(0))
        .expect("the one that acted");
    let report: Value = serde_json::from_slice(&done.stdout).expect("report");
    let stderr = String::from_utf8_lossy(&held.stderr);
    assert!(
        stderr.contains(&format!(
            "another round holds the lease Lease rounds/rounds: rounds-test-pod/{}",
            report["runId"].as_str().expect("run id")
        )),
        "{stderr}"
    );
    assert!(
        held.stdout.is_empty(),
        "no report from a round that did nothing"
    );
    assert_eq!(applied_writes(&c, API), 1);
    assert_eq!(applied_writes(&c, WEB), 1);
    // The lease was given back: the next round runs at once (and its cooldown holds).
    let next = c.apply().await.report();
    assert_eq!(next["summary"]["skipped"], 2, "{next:#}");
}

/// Runs `rounds run --apply` and kills it (SIGKILL) once `ready` holds for the request log,
/// while `fault` holds the round at that point.
async fn killed_when(c: &Cluster, fault: FaultRule, ready: impl Fn(&Cluster) -> bool) {
    c.server.faults().add(fault).expect("fault");
    let mut child = c
        .command("run", &["--apply", "--deadline", "4s"])
        .spawn()
        .expect("start rounds");
    let started = std::time::Instant::now();
    while !ready(c) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never got there: {:#?}",
            c.server.requests().records()
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("rounds ended before it could be killed: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().await.expect("SIGKILL");
    c.server.faults().clear();
}

/// Runs again until the dead round's lease has expired; the report of the run that ran.
async fn rerun(c: &Cluster) -> Value {
    for _ in 0..30 {
        let run = c.rounds("run", &["--apply", "--deadline", "4s"]).await;
        if run.code() == Some(2) && run.stderr().contains("another round holds the lease") {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        return run.report();
    }
    panic!("the dead round's lease was never taken over");
}

/// Writes of the ledger: the create of its ConfigMap, then updates.
fn ledger_writes(c: &Cluster) -> usize {
    c.writes()
        .iter()
        .filter(|r| r.path == LEDGER || r.path == "/api/v1/namespaces/rounds/configmaps")
        .count()
}

fn real_patch(path: &'static str) -> FaultRule {
    let mut rule = FaultRule::new("PATCH", path, FaultAction::delay(3000)).times(1);
    rule.path_regex = Some(format!("^{path}$"));
    rule
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_killed_between_two_actions_does_not_repeat_the_first() {
    let done = "ended before confirming it; the target shows it was done";
    // 0. Killed while it announces its first write: nothing was recorded or written.
    let c = two().await;
    let announce = FaultRule::new(
        "POST",
        "/api/v1/namespaces/rounds/configmaps",
        FaultAction::delay(15000),
    )
    .times(1);
    killed_when(&c, announce, |c| {
        c.server
            .requests()
            .records()
            .iter()
            .any(|r| r.path == API && r.query.contains("dryRun=All"))
    })
    .await;
    let report = rerun(&c).await;
    assert_eq!(applied_writes(&c, API), 1, "{report:#}");
    assert_eq!(applied_writes(&c, WEB), 1);

    // 1. Killed while its first write is on the way (its intent is in the ledger).
    let c = two().await;
    killed_when(&c, real_patch(API), |c| ledger_writes(c) >= 1).await;
    let report = rerun(&c).await;
    assert_eq!(applied_writes(&c, API), 1, "{report:#}");
    assert_eq!(applied_writes(&c, WEB), 1);
    // Whether the dead round's request reached the server or died with it, the rerun read
    // the target and knows.
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(done) || notes.contains("ended before sending it; it was not done"),
        "{notes}"
    );

    // 2. Killed after the first write, before it was confirmed in the ledger. (The server
    // answers the dead round's confirmation only after the rerun has saved the ledger, so it
    // meets a newer resourceVersion and changes nothing.)
    let c = two().await;
    let confirm = FaultRule::new("PUT", LEDGER, FaultAction::delay(15000)).nth(1);
    killed_when(&c, confirm, |c| applied_writes(c, API) == 1).await;
    let report = rerun(&c).await;
    assert_eq!(applied_writes(&c, API), 1, "not repeated: {report:#}");
    assert_eq!(applied_writes(&c, WEB), 1);
    let notes = report["notes"].to_string();
    assert!(notes.contains(done), "{notes}");
    let api = action_on(&report, "api");
    assert_eq!(api["guard"], "cooldown", "{api:#}");

    // 3. Killed after the first action was confirmed, while the second is on the way.
    let c = two().await;
    killed_when(&c, real_patch(WEB), |c| {
        applied_writes(c, API) == 1 && ledger_writes(c) >= 3
    })
    .await;
    let report = rerun(&c).await;
    assert_eq!(applied_writes(&c, API), 1, "{report:#}");
    assert_eq!(applied_writes(&c, WEB), 1);
    assert_eq!(action_on(&report, "api")["guard"], "cooldown");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("shop/web") && (notes.contains(done) || notes.contains("it was not done")),
        "{notes}"
    );
    // Nothing is left unconfirmed.
    assert_eq!(c.ledger()["intents"], json!({}));
}

fn action_on<'a>(report: &'a Value, deployment: &str) -> &'a Value {
    report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["target"]["name"] == deployment)
        .expect("the action")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_conflict_loses_no_entry() {
    let c = two().await;
    let first = c.apply().await.report();
    assert_eq!(first["summary"]["applied"], 2);
    // The next round (no cooldown now, so it acts again) waits to write the ledger; meanwhile
    // another writer saves it.
    c.playbook("crash", &RESTART.replace("  guards: {cooldown: 6h}\n", ""));
    c.server
        .faults()
        .add(FaultRule::new("PUT", LEDGER, FaultAction::delay(1500)).nth(1))
        .expect("fault");
    let child = c.command("run", &["--apply"]).spawn().expect("start");
    let admin = Client::new(&c.server, Some(DEFAULT_ADMIN_TOKEN)).expect("admin client");
    // Wait until the round has read the ledger, then write it from elsewhere.
    c.server.requests().clear();
    while !c
        .server
        .requests()
        .records()
        .iter()
        .any(|r| r.method == "GET" && r.path == LEDGER)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut cm = admin.get(LEDGER).await.expect("get").json();
    let mut doc: Value =
        serde_json::from_str(cm["data"]["ledger.json"].as_str().expect("text")).expect("doc");
    doc["notifications"]["entries"]["sha256:other-writer"] = json!({
        "route": "default", "channel": "slack", "group": "playbook=other", "tier": "warning",
        "firstSent": "2026-11-22T09:59:00Z", "lastSent": "2026-11-22T09:59:00Z",
        "digest": "sha256:0123", "count": 1});
    doc["cooldowns"]["scale:Deployment.apps/shop/other"] = json!({
        "action": "scale", "playbook": "other", "runId": "20261122T095900Z-0000beef",
        "appliedAt": "2026-11-22T09:59:00Z",
        "target": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "other"}});
    cm["data"]["ledger.json"] = json!(doc.to_string());
    // Straight into the store: the delay above is for rounds' write only.
    c.server.insert(cm).expect("the other writer saves");
    let out = child.wait_with_output().await.expect("round");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert!(
        report["notes"].to_string().contains("conflict(s) merged"),
        "{:#}",
        report["notes"]
    );
    let ledger = c.ledger();
    assert_eq!(
        ledger["notifications"]["entries"]["sha256:other-writer"]["lastSent"],
        "2026-11-22T09:59:00Z",
        "the other writer's entry is kept"
    );
    assert_eq!(
        ledger["cooldowns"]["scale:Deployment.apps/shop/other"]["runId"],
        "20261122T095900Z-0000beef"
    );
    let runs: Vec<&str> = ledger["history"]
        .as_object()
        .expect("history")
        .values()
        .filter_map(|h| h["runId"].as_str())
        .collect();
    assert!(runs.contains(&first["runId"].as_str().expect("id")));
    assert!(
        runs.contains(&report["runId"].as_str().expect("id")),
        "this round's entries are kept: {runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_past_one_configmap_is_sharded_and_read_back() {
    // A ledger that has grown past what one ConfigMap holds (seeded as it would have grown).
    let mut cooldowns = serde_json::Map::new();
    for i in 0..6000 {
        cooldowns.insert(
            format!("scale:Deployment.apps/shop/app-{i:05}"),
            json!({"action": "scale", "playbook": "old", "runId": "20261120T000000Z-00000000",
                "appliedAt": "2026-11-21T00:00:00Z",
                "target": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                    "name": format!("app-{i:05}")}}),
        );
    }
    let doc = json!({"version": 1, "cooldowns": cooldowns});
    let big = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "rounds-ledger", "namespace": "rounds"},
        "data": {"ledger.json": doc.to_string()}});
    assert!(doc.to_string().len() > 1024 * 1024);
    let c = Cluster::start(&format!(
        "{TWO}\n---\n{}",
        serde_json::to_string(&big).expect("json")
    ))
    .await;
    c.playbook("crash", RESTART);
    let first = c.apply().await.report();
    assert_eq!(first["summary"]["applied"], 2, "{first:#}");
    let primary = c
        .server
        .object("", "configmaps", "rounds", "rounds-ledger")
        .expect("primary");
    let shards: Vec<&str> = primary["data"]["shards"]
        .as_str()
        .expect("the primary lists shards")
        .split(',')
        .collect();
    assert!(shards.len() >= 2, "{shards:?}");
    assert!(primary["data"]["sha256"].is_string());
    for name in &shards {
        let shard = c
            .server
            .object("", "configmaps", "rounds", name)
            .expect("shard");
        assert_eq!(shard["immutable"], true);
        let size = shard["data"]["ledger.json"].as_str().map_or(0, str::len);
        assert!(size < 1024 * 1024, "{name}: {size} bytes");
    }
    let ledger = c.ledger();
    assert_eq!(
        ledger["cooldowns"].as_object().map(|m| m.len()),
        Some(6002),
        "every entry and this round's two"
    );
    // The next round reads the sharded ledger: its cooldowns hold.
    let second = c.apply().await.report();
    assert_eq!(second["summary"]["skipped"], 2, "{second:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_annotations_are_on_the_targets() {
    let c = two().await;
    let first = c.apply().await.report();
    let run = first["runId"].as_str().expect("run id");
    let api = c
        .server
        .object("apps", "deployments", "shop", "api")
        .expect("api");
    let stamp: Value = serde_json::from_str(
        api["metadata"]["annotations"]["rounds.dev/last-remediation"]
            .as_str()
            .expect("annotation"),
    )
    .expect("stamp");
    assert_eq!(
        stamp,
        json!({"time": NOW, "runId": run, "playbook": "crash", "action": "rolloutRestart"})
    );
    // The second round skips both (cooldown): skipped Events too.
    c.apply().await.report();
    // One Event store, kept in the core/v1 shape (as kube-apiserver keeps it).
    let events = c.server.objects("", "events");
    let about_api: Vec<&Value> = events
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "api")
        .collect();
    let reasons: Vec<&str> = about_api
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"RemediationApplied"), "{reasons:?}");
    assert!(reasons.contains(&"RemediationSkipped"), "{reasons:?}");
    let applied = about_api
        .iter()
        .find(|e| e["reason"] == "RemediationApplied")
        .expect("applied event");
    let digest = first["playbooks"][0]["digest"].as_str().expect("digest");
    let note = applied["message"].as_str().expect("note");
    assert!(
        note.contains(run) && note.contains("playbook crash") && note.contains(digest),
        "{note}"
    );
    assert_eq!(applied["involvedObject"]["kind"], "Deployment");
    assert_eq!(applied["involvedObject"]["uid"], "dep-api");
    assert_eq!(applied["reportingComponent"], "rounds.dev/rounds");
    let skipped = about_api
        .iter()
        .find(|e| e["reason"] == "RemediationSkipped")
        .expect("skipped event");
    assert!(
        skipped["message"]
            .as_str()
            .is_some_and(|n| n.contains("skipped by cooldown")),
        "{skipped:#}"
    );
    // kubectl shows them.
    let admin = c.home.path().join("admin-kubeconfig");
    c.server
        .write_kubeconfig(&admin, DEFAULT_ADMIN_TOKEN, "default")
        .expect("admin kubeconfig");
    let out = std::process::Command::new(std::env::var("KUBECTL").unwrap_or("kubectl".into()))
        .args(["get", "events", "-n", "shop", "-o", "json"])
        .arg("--kubeconfig")
        .arg(&admin)
        .env("HOME", c.home.path())
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).expect("kubectl JSON");
    let reasons: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"RemediationApplied") && reasons.contains(&"RemediationSkipped"),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_names_what_to_grant() {
    // A service account with the read-only role and its ledger, but no write role.
    let bindings = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: reader-read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rounds-read}
subjects: [{kind: ServiceAccount, name: reader, namespace: rounds}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-ledger, namespace: rounds}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rounds-ledger}
subjects: [{kind: ServiceAccount, name: reader, namespace: rounds}]
"#;
    let c = Cluster::start(&format!("{TWO}\n---\n{bindings}")).await;
    c.playbook("crash", RESTART);
    c.server.add_token(
        "reader-token",
        Identity::service_account("rounds", "reader"),
    );
    c.server
        .write_kubeconfig(&c.kubeconfig, "reader-token", "rounds")
        .expect("kubeconfig");
    let grant = "rounds may not patch deployments in namespace shop (403 Forbidden): grant `patch` on `deployments` to rounds' service account in its Role or ClusterRole";
    // A dry run is a check: it says what apply would need, and the round is fine (read-only
    // RBAC with dry-run rounds is the observe overlay).
    let report = c.dry_run().await.report();
    let a = action_on(&report, "api");
    assert_eq!(
        (&a["status"], &a["guard"]),
        (&json!("skipped"), &json!("forbidden")),
        "{a:#}"
    );
    assert_eq!(a["reason"], grant);
    // An apply round fails the action (exit 3) and writes nothing.
    let report = c.apply().await.report_with(3);
    let a = action_on(&report, "api");
    assert_eq!(a["status"], "failed", "{a:#}");
    assert_eq!(a["reason"], grant);
    assert!(
        c.target_writes()
            .iter()
            .filter(|w| !w.path.contains("/events"))
            .all(|w| w.query.contains("dryRun=All"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_that_outlives_its_remediation_is_escalated() {
    let c = two().await;
    let first = c.apply().await.report();
    assert_eq!(first["summary"]["applied"], 2);
    assert!(first["escalations"].is_null(), "{:#}", first["escalations"]);
    // The pods still crash-loop round after round (the cooldown holds the restart back).
    let mut last = Value::Null;
    for _ in 0..3 {
        last = c.apply().await.report();
    }
    let escalated: Vec<&str> = last["escalations"]
        .as_array()
        .expect("escalations")
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(escalated.len(), 2, "{escalated:?}");
    assert!(
        escalated[0].starts_with(&format!(
            "still there 3 round(s) after run {} remediated it",
            first["runId"].as_str().expect("id")
        )),
        "{escalated:?}"
    );
    let ledger = c.ledger();
    for e in ledger["escalations"]
        .as_object()
        .expect("escalations")
        .values()
    {
        assert_eq!(
            (e["escalated"].clone(), e["rounds"].clone()),
            (json!(true), json!(3))
        );
    }
    // Each due playbook's schedule state: when it last ran and last succeeded.
    assert_eq!(ledger["schedules"]["crash"]["lastRun"], NOW);
    assert_eq!(ledger["schedules"]["crash"]["lastSuccess"], NOW);
    assert_eq!(ledger["schedules"]["crash"]["lastRunId"], last["runId"]);
}
