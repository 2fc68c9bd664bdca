//! End-to-end: every action through the one write path, against the test API server. For each
//! action: `plan` sends no write; a dry run sends only `dryRun=All` writes and changes nothing;
//! apply changes exactly what the plan showed, field by field, and each real write was
//! preceded by the same request as a dry run. Then each guard skips what it should.

mod guarded;

use guarded::*;
use serde_json::Value;

/// A Deployment with one crash-looping, OOM-killed pod (not ready) and two ready ones.
const SHOP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: dep-api}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: api, image: "shop/api:1", resources: {limits: {memory: 256Mi}, requests: {memory: 128Mi}}}
status: {replicas: 3, readyReplicas: 2, availableReplicas: 2}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5d9f
  namespace: shop
  uid: rs-api
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: dep-api, controller: true}]
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "shop/api:1"}]
status: {replicas: 3, readyReplicas: 2}
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
  name: api-5d9f-ok1
  namespace: shop
  uid: pod-ok1
  labels: {app: api}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d9f, uid: rs-api, controller: true}]
spec:
  nodeName: node-b
  containers: [{name: api, image: "shop/api:1"}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses: [{name: api, ready: true, restartCount: 0, state: {running: {}}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5d9f-ok2
  namespace: shop
  uid: pod-ok2
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

fn playbook(name: &str, detect: &str, remediate: &str, guards: &str) -> String {
    format!(
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {{name: {name}}}\nspec:\n  detect:\n    {detect}\n  remediate:\n    - {remediate}\n  guards: {{{guards}}}\n  notify:\n    evidence: {{logTailLines: 0, events: false}}\n"
    )
}

/// What an action's apply should leave behind.
enum Expect {
    /// The object (state key) carries the plan's patch, and nothing else changed.
    Patched(String),
    /// The object is gone or being deleted.
    Removed(String),
    /// The object was made with the plan's body.
    Created(String),
    /// Nothing is written at all.
    Nothing,
}

const STAMP: &str = "rounds.dev/last-remediation";

fn is_stamp(path: &[PathKey]) -> bool {
    path.last() == Some(&PathKey::Key(STAMP.into()))
}

fn is_resource_version(path: &[PathKey]) -> bool {
    path.last() == Some(&PathKey::Key("resourceVersion".into()))
}

/// The apply run's stamp on an object names that run and the action.
fn assert_stamped(object: &Value, run_id: &Value, action: &str) {
    let text = object["metadata"]["annotations"][STAMP]
        .as_str()
        .unwrap_or_else(|| panic!("no {STAMP} on {object:#}"));
    let stamp: Value = serde_json::from_str(text).expect("stamp JSON");
    assert_eq!(&stamp["runId"], run_id);
    assert_eq!(stamp["action"], action);
}

async fn proves(objects: &str, files: &[(&str, &str)], pb: String, name: &str, expect: Expect) {
    let c = Cluster::start_with_files(objects, files).await;
    c.playbook("p", &pb);
    let before = c.state();

    // plan: no write at all.
    let plan = c.plan().await.report();
    assert!(c.writes().is_empty(), "plan wrote: {:?}", c.writes());
    let planned = action(&plan, name);
    assert_eq!(planned["status"], "planned", "{planned:#}");
    let patch = planned["patch"].clone();

    // dry run: every write with dryRun=All, and nothing changes.
    c.server.requests().clear();
    let dry = c.dry_run().await.report();
    let a = action(&dry, name);
    assert_eq!(a["status"], "planned", "{a:#}");
    let writes = c.target_writes();
    for w in &writes {
        assert!(
            w.query.contains("dryRun=All"),
            "a real write in a dry run: {w:?}"
        );
    }
    if matches!(expect, Expect::Nothing) {
        assert!(writes.is_empty(), "{writes:?}");
    } else {
        assert_eq!(
            a["server"]["dryRun"].as_u64().map(|s| s < 300),
            Some(true),
            "{a:#}"
        );
        assert!(
            writes
                .iter()
                .any(|w| w.path == patch["path"].as_str().unwrap_or_default()),
            "the dry run sent the planned request: {writes:?}"
        );
    }
    assert_eq!(c.state(), before, "a dry run changes nothing");

    // apply: the dry run first, then the same request for real; exactly the plan's change.
    c.server.requests().clear();
    let applied = c.apply().await.report();
    let a = action(&applied, name);
    assert_eq!(a["status"], "applied", "{a:#}");
    let writes: Vec<_> = c
        .target_writes()
        .into_iter()
        .filter(|w| !w.path.contains("/events"))
        .collect();
    for (i, w) in writes.iter().enumerate() {
        if w.query.contains("dryRun=All") {
            continue;
        }
        assert!(
            writes[..i].iter().any(|d| d.method == w.method
                && d.path == w.path
                && d.query.contains("dryRun=All")),
            "{w:?} was not preceded by its dry run: {writes:?}"
        );
        assert!(w.status < 300, "{w:?}");
    }
    let after = c.state();
    let run_id = &applied["runId"];
    let body = patch["body"].clone();
    let untouched = |mut a: std::collections::BTreeMap<String, Value>,
                     mut b: std::collections::BTreeMap<String, Value>,
                     key: &str| {
        a.remove(key);
        b.remove(key);
        assert_eq!(a, b, "nothing but {key} changed");
    };
    match expect {
        Expect::Patched(key) => {
            let key = key.as_str();
            let object = after.get(key).unwrap_or_else(|| panic!("{key} exists"));
            assert!(!writes.is_empty());
            let leaves = leaves(&body);
            let mut old = without_bookkeeping(before[key].clone());
            let mut new = without_bookkeeping(object.clone());
            for (path, value) in &leaves {
                if is_resource_version(path) {
                    continue;
                }
                if is_stamp(path) {
                    assert_stamped(object, run_id, name);
                } else {
                    assert_eq!(at(object, path), Some(value), "{path:?} of {key}");
                }
                remove_at(&mut old, path);
                remove_at(&mut new, path);
            }
            prune_empty(&mut old);
            prune_empty(&mut new);
            assert_eq!(old, new, "the patch changed only what the plan showed");
            untouched(before, after, key);
        }
        Expect::Removed(key) => {
            let key = key.as_str();
            let gone = after
                .get(key)
                .is_none_or(|o| !o["metadata"]["deletionTimestamp"].is_null());
            assert!(gone, "{key} is removed: {:#}", after[key]);
            untouched(before, after, key);
        }
        Expect::Created(key) => {
            let key = key.as_str();
            let object = after
                .get(key)
                .unwrap_or_else(|| panic!("{key} was created"));
            for (path, value) in leaves(&body) {
                if is_stamp(&path) {
                    assert_stamped(object, run_id, name);
                } else {
                    assert_eq!(at(object, &path), Some(&value), "{path:?} of {key}");
                }
            }
            untouched(before, after, key);
        }
        Expect::Nothing => {
            assert!(c.target_writes().is_empty());
            assert_eq!(after, before);
        }
    }
}

const CRASH: &str = "crashLoopBackOff: {minRestarts: 5}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raise_memory_limit() {
    let pb = playbook(
        "oom",
        "oomKilled: {minCount: 1, within: 6h}",
        "raiseMemoryLimit: {factor: 1.5, max: 1Gi}",
        "",
    );
    proves(
        SHOP,
        &[],
        pb,
        "raiseMemoryLimit",
        Expect::Patched("deployments/shop/api".into()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart() {
    let pb = playbook("crash", CRASH, "rolloutRestart: {}", "");
    proves(
        SHOP,
        &[],
        pb,
        "rolloutRestart",
        Expect::Patched("deployments/shop/api".into()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale() {
    let pb = playbook("crash", CRASH, "scale: {by: 1, max: 5}", "");
    proves(
        SHOP,
        &[],
        pb,
        "scale",
        Expect::Patched("deployments/shop/api".into()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evict_pod() {
    let pb = playbook("crash", CRASH, "evictPod: {}", "");
    proves(
        SHOP,
        &[],
        pb,
        "evictPod",
        Expect::Removed("pods/shop/api-5d9f-crash".into()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_pod() {
    let pb = playbook(
        "crash",
        CRASH,
        "deletePod: {ignoreDisruptionBudgets: true}",
        "",
    );
    proves(
        SHOP,
        &[],
        pb,
        "deletePod",
        Expect::Removed("pods/shop/api-5d9f-crash".into()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_job() {
    let pb = playbook(
        "crash",
        CRASH,
        "runJob: {template: {spec: {template: {spec: {containers: [{name: fix, image: \"busybox:1\"}]}}}}}",
        "",
    );
    let c = Cluster::start(SHOP).await;
    c.playbook("p", &pb);
    let plan = c.plan().await.report();
    let name = action(&plan, "runJob")["target"]["name"]
        .as_str()
        .expect("job name")
        .to_owned();
    drop(c);
    proves(
        SHOP,
        &[],
        pb,
        "runJob",
        Expect::Created(format!("jobs/shop/{name}")),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_only() {
    let pb = playbook("crash", CRASH, "notifyOnly: {}", "");
    proves(SHOP, &[], pb, "notifyOnly", Expect::Nothing).await;
}

const EVICTED: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: worker-evicted, namespace: shop, uid: pod-ev, creationTimestamp: "2026-11-22T06:00:00Z"}
spec:
  nodeName: node-a
  containers: [{name: w, image: "shop/worker:1"}]
status: {phase: Failed, reason: Evicted, message: "The node was low on resource: memory."}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_failed_pods() {
    let pb = playbook(
        "evicted",
        "evicted: {}",
        "deleteFailedPods: {minAge: 1h, maxCount: 5}",
        "",
    );
    proves(
        EVICTED,
        &[],
        pb,
        "deleteFailedPods",
        Expect::Removed("pods/shop/worker-evicted".into()),
    )
    .await;
}

const PRESSURE: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: node-c, uid: node-c}
status:
  conditions:
  - {type: Ready, status: "True"}
  - {type: DiskPressure, status: "True", lastTransitionTime: "2026-11-22T09:00:00Z", message: "kubelet has disk pressure"}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_node() {
    let pb = playbook("disk", "diskPressure: {for: 10m}", "cordonNode: {}", "");
    proves(
        PRESSURE,
        &[],
        pb,
        "cordonNode",
        Expect::Patched("nodes//node-c".into()),
    )
    .await;
}

const CLAIM: &str = r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: csi.example.com
allowVolumeExpansion: true
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-db-0, namespace: shop, uid: pvc-db}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: fast
  resources: {requests: {storage: 10Gi}}
status: {phase: Bound, capacity: {storage: 10Gi}}
"#;

const SUMMARY: &str = r#"{"node": {"nodeName": "node-a"}, "pods": [{"podRef": {"name": "db-0", "namespace": "shop"},
  "volume": [{"name": "data", "pvcRef": {"name": "data-db-0", "namespace": "shop"},
  "capacityBytes": 10737418240, "usedBytes": 10200547328, "inodes": 1000, "inodesUsed": 10}]}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expand_pvc() {
    let pb = playbook(
        "pvc",
        "pvcUsage: {usedPercent: 85%}",
        "expandPvc: {factor: 1.5, max: 100Gi}",
        "",
    );
    proves(
        CLAIM,
        &[("summary-node-a.json", SUMMARY)],
        pb,
        "expandPvc",
        Expect::Patched("persistentvolumeclaims/shop/data-db-0".into()),
    )
    .await;
}

/// An apply round skips `name` by `guard` with a reason containing `why`, and changes nothing.
async fn skipped_by(c: &Cluster, name: &str, guard: &str, why: &str) -> Value {
    let before = c.state();
    c.server.requests().clear();
    let report = c.apply().await.report();
    let a = action(&report, name);
    assert_eq!(a["status"], "skipped", "{a:#}");
    assert_eq!(a["guard"], guard, "{a:#}");
    let reason = a["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(why), "{guard}: {reason}");
    if let Some(last) = a["verdicts"].as_array().and_then(|v| v.last()) {
        assert_eq!(
            last["guard"], guard,
            "the deciding verdict is the last one checked"
        );
        assert_eq!(last["verdict"], "skip");
    }
    let real: Vec<_> = c
        .target_writes()
        .into_iter()
        .filter(|w| !w.path.contains("/events") && !w.query.contains("dryRun=All"))
        .collect();
    assert!(real.is_empty(), "a skipped action wrote: {real:?}");
    assert_eq!(c.state(), before, "a skip changes nothing");
    report
}

async fn shop_with(extra: &str, pb: String) -> Cluster {
    let c = Cluster::start(&format!("{SHOP}\n---\n{extra}")).await;
    c.playbook("p", &pb);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_namespaces_are_never_changed() {
    let in_kube_system = SHOP.replace("namespace: shop", "namespace: kube-system");
    let c = Cluster::start(&in_kube_system).await;
    c.playbook("p", &playbook("crash", CRASH, "rolloutRestart: {}", ""));
    skipped_by(
        &c,
        "rolloutRestart",
        "protectedNamespace",
        "namespace kube-system is protected",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_out_annotations_on_the_owner_or_the_namespace() {
    let pb = playbook("crash", CRASH, "rolloutRestart: {}", "");
    let owner = SHOP.replace(
        "metadata: {name: api, namespace: shop, uid: dep-api}",
        "metadata: {name: api, namespace: shop, uid: dep-api, annotations: {rounds.dev/exclude: \"true\"}}",
    );
    let c = Cluster::start(&owner).await;
    c.playbook("p", &pb);
    skipped_by(
        &c,
        "rolloutRestart",
        "optOut",
        "Deployment shop/api opted out (rounds.dev/exclude: \"true\")",
    )
    .await;
    let c = shop_with(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, annotations: {rounds.dev/exclude-until: \"2026-11-23T00:00:00Z\"}}\n",
        pb,
    )
    .await;
    skipped_by(
        &c,
        "rolloutRestart",
        "optOut",
        "its namespace shop opted out (rounds.dev/exclude-until: 2026-11-23T00:00:00Z)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_pause_stops_every_change() {
    let c = shop_with(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rounds-control, namespace: rounds}\ndata: {paused: \"true\"}\n",
        playbook("crash", CRASH, "rolloutRestart: {}", ""),
    )
    .await;
    skipped_by(&c, "rolloutRestart", "pause", "rounds is paused").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitops_managed_targets_keep_the_patch_as_a_suggestion() {
    let argo = SHOP.replace(
        "metadata: {name: api, namespace: shop, uid: dep-api}",
        "metadata: {name: api, namespace: shop, uid: dep-api, annotations: {argocd.argoproj.io/tracking-id: \"shop:apps/Deployment:shop/api\"}}",
    );
    let c = Cluster::start(&argo).await;
    c.playbook(
        "p",
        &playbook(
            "oom",
            "oomKilled: {minCount: 1, within: 6h}",
            "raiseMemoryLimit: {max: 1Gi}",
            "",
        ),
    );
    let report = skipped_by(&c, "raiseMemoryLimit", "gitOps", "managed by Argo CD").await;
    let a = action(&report, "raiseMemoryLimit");
    assert_eq!(
        a["patch"]["body"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "384Mi",
        "the change to make in Git"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_every_window_nothing_is_done() {
    let c = shop_with(
        "",
        playbook(
            "crash",
            CRASH,
            "rolloutRestart: {}",
            "windows: [{schedule: \"0 2 * * *\", duration: 1h}]",
        ),
    )
    .await;
    skipped_by(
        &c,
        "rolloutRestart",
        "window",
        "outside the playbook's windows",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_holds_the_same_action_back_in_the_next_round() {
    let c = shop_with(
        "",
        playbook("crash", CRASH, "rolloutRestart: {}", "cooldown: 6h"),
    )
    .await;
    let first = c.apply().await.report();
    assert_eq!(action(&first, "rolloutRestart")["status"], "applied");
    let run = first["runId"].as_str().expect("run id").to_owned();
    skipped_by(
        &c,
        "rolloutRestart",
        "cooldown",
        &format!("by run {run} (playbook crash); cooldown 6h"),
    )
    .await;
}

/// A second crash-looping Deployment, `web`.
const WEB: &str = r#"
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
spec:
  containers: [{name: web, image: "shop/web:1"}]
status:
  phase: Running
  containerStatuses: [{name: web, restartCount: 9, state: {waiting: {reason: CrashLoopBackOff}}}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_and_the_circuit_breaker() {
    let c = shop_with(
        WEB,
        playbook(
            "crash",
            CRASH,
            "rolloutRestart: {}",
            "maxActionsPerRound: 1",
        ),
    )
    .await;
    let report = c.apply().await.report();
    let statuses: Vec<(&str, &str)> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["status"].as_str().unwrap_or_default(),
                a["guard"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("applied", ""), ("skipped", "budget")],
        "{report:#}"
    );
    assert!(
        report["actions"][1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("budget of 1 change(s) per round is spent"))
    );

    let c = shop_with(
        WEB,
        playbook("crash", CRASH, "rolloutRestart: {}", "maxFindings: 1"),
    )
    .await;
    let before = c.state();
    let report = c.apply().await.report();
    for a in report["actions"].as_array().expect("actions") {
        assert_eq!(a["guard"], "circuitBreaker", "{a:#}");
        assert!(
            a["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("2 findings in this playbook"))
        );
    }
    assert_eq!(
        report["escalations"].as_array().map(Vec::len),
        Some(2),
        "both findings escalated"
    );
    assert_eq!(c.state(), before);
}

/// One ready pod that was OOM-killed earlier, the only ready replica of its Deployment.
const LAST_READY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: solo, namespace: shop, uid: dep-solo}
spec: {replicas: 1, selector: {matchLabels: {app: solo}}, template: {metadata: {labels: {app: solo}}, spec: {containers: [{name: solo, image: "shop/solo:1"}]}}}
status: {replicas: 1, readyReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: solo-1
  namespace: shop
  uid: pod-solo
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: solo, uid: dep-solo, controller: true}]
spec:
  containers: [{name: solo, image: "shop/solo:1"}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses:
  - name: solo
    ready: true
    restartCount: 1
    state: {running: {}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2026-11-22T09:50:00Z"}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blast_radius_keeps_the_last_ready_replica() {
    let c = Cluster::start(LAST_READY).await;
    c.playbook(
        "p",
        &playbook(
            "oom",
            "oomKilled: {minCount: 1, within: 6h}",
            "evictPod: {}",
            "",
        ),
    );
    skipped_by(
        &c,
        "evictPod",
        "blastRadius",
        "the last ready replica of Deployment shop/solo",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_that_must_not_be_evicted_are_not() {
    let annotated = SHOP.replace(
        "  name: api-5d9f-crash\n  namespace: shop\n",
        "  name: api-5d9f-crash\n  namespace: shop\n  annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"}\n",
    );
    let c = Cluster::start(&annotated).await;
    c.playbook("p", &playbook("crash", CRASH, "evictPod: {}", ""));
    skipped_by(
        &c,
        "evictPod",
        "safeToEvict",
        "cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"",
    )
    .await;
}

/// Three ready pods of `api` and a budget that allows no disruption, with the status the
/// disruption controller keeps.
const BUDGET: &str = r#"
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: shop, generation: 1}
spec: {minAvailable: 3, selector: {matchLabels: {app: api}}}
status: {observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 3, desiredHealthy: 3, expectedPods: 3}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdb_blocked_eviction_is_a_skip() {
    // The OOM-killed pod is ready again: evicting it needs the budget's consent.
    let ready = SHOP
        .replace(
            "  conditions: [{type: Ready, status: \"False\"}]\n  containerStatuses:\n  - name: api\n    ready: false\n    restartCount: 7\n    state: {waiting: {reason: CrashLoopBackOff}}",
            "  conditions: [{type: Ready, status: \"True\"}]\n  containerStatuses:\n  - name: api\n    ready: true\n    restartCount: 7\n    state: {running: {}}",
        )
        .replace("readyReplicas: 2, availableReplicas: 2", "readyReplicas: 3, availableReplicas: 3");
    let c = Cluster::start(&format!("{ready}\n---\n{BUDGET}")).await;
    c.playbook(
        "p",
        &playbook(
            "oom",
            "oomKilled: {minCount: 1, within: 6h}",
            "evictPod: {}",
            "",
        ),
    );
    let report = skipped_by(&c, "evictPod", "disruptionBudget", "disruption budget").await;
    let a = action(&report, "evictPod");
    assert_eq!(a["server"]["dryRun"], Value::Null, "{a:#}");
    assert_eq!(
        report["summary"]["failed"], 0,
        "a PDB's answer is no failure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_answers_a_conflict_a_vanished_target_and_a_refusal() {
    use rounds_test_apiserver::{FaultAction, FaultRule};
    let deployment = "/apis/apps/v1/namespaces/shop/deployments/api";
    let pb = playbook(
        "oom",
        "oomKilled: {minCount: 1, within: 6h}",
        "raiseMemoryLimit: {max: 1Gi}",
        "",
    );
    // 409: the Deployment changed since it was read; rounds reads it again, plans again, and
    // applies (once).
    let c = shop_with("", pb.clone()).await;
    c.server
        .faults()
        .add(FaultRule::new("PATCH", deployment, FaultAction::status(409)).times(1))
        .expect("fault");
    let report = c.apply().await.report();
    assert_eq!(action(&report, "raiseMemoryLimit")["status"], "applied");
    let gets = c.server.requests().count("GET", deployment);
    assert!(gets >= 2, "re-read after the conflict: {gets} GETs");
    let patches: Vec<_> = c
        .writes()
        .into_iter()
        .filter(|w| w.path == deployment)
        .map(|w| (w.status, w.query.contains("dryRun=All")))
        .collect();
    assert_eq!(patches, [(409, true), (200, true), (200, false)]);

    // 404: the target is gone; nothing to do, and no failure.
    let c = shop_with("", pb.clone()).await;
    c.server
        .faults()
        .add(FaultRule::new("PATCH", deployment, FaultAction::status(404)).times(1))
        .expect("fault");
    let report = c.apply().await.report();
    let a = action(&report, "raiseMemoryLimit");
    assert_eq!(
        (&a["status"], &a["guard"]),
        (&"skipped".into(), &"targetGone".into())
    );

    // 422: the server refuses the change; the action failed with its message, exit 3.
    let c = shop_with("", pb).await;
    let mut refusal = FaultAction::status(422);
    refusal.message = Some("spec.template.spec.containers[0].image: Required value".into());
    c.server
        .faults()
        .add(FaultRule::new("PATCH", deployment, refusal).times(1))
        .expect("fault");
    let report = c.apply().await.report_with(3);
    let a = action(&report, "raiseMemoryLimit");
    assert_eq!(a["status"], "failed");
    assert!(
        a["reason"]
            .as_str()
            .is_some_and(|r| r.contains("422") && r.contains("Required value")),
        "{a:#}"
    );
    assert!(
        c.target_writes()
            .iter()
            .filter(|w| w.path == deployment)
            .all(|w| w.query.contains("dryRun=All")),
        "no real write after a refused dry run"
    );
}
