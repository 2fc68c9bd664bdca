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
