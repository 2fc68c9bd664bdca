//! RBAC exactly as needed, proven both ways: rounds runs through its action and notification
//! paths against the test API server enforcing the rendered Roles of each overlay; a refused
//! request fails the test (a verb is missing), and so does a granted verb/resource pair that no
//! request used (a verb too many).

mod deploy;
#[allow(dead_code)] // the receiver serves other tests too
#[path = "receivers/http.rs"]
mod receivers;

use deploy::rbac::{Permission, covers, granted, needed};
use deploy::{find, render, repo, write_rbac};
use rounds_test_apiserver::{Identity, RequestRecord, ServerConfig, TestApiServer};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const SA_TOKEN: &str = "rounds-rbac-token";
const SA_USER: &str = "system:serviceaccount:rounds:rounds";
const NOW: &str = "2026-11-22T10:00:00Z";
/// The next round an hour later: budgets deferred work to it, and what the first round fixed
/// is resolved.
const LATER: &str = "2026-11-22T11:00:00Z";

fn record(method: &str, path: &str, query: &str) -> RequestRecord {
    RequestRecord {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        user: None,
        status: 200,
        dropped: false,
    }
}

fn p(verb: &str, group: &str, resource: &str, ns: Option<&str>) -> Permission {
    Permission {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        namespace: ns.map(str::to_owned),
    }
}

#[test]
fn requests_map_to_the_permissions_the_authorizer_checks() {
    let cases = [
        (
            ("GET", "/api/v1/pods", "limit=500"),
            Some(p("list", "", "pods", None)),
        ),
        (
            ("GET", "/api/v1/namespaces", ""),
            Some(p("list", "", "namespaces", None)),
        ),
        (
            ("GET", "/api/v1/namespaces/shop", ""),
            Some(p("get", "", "namespaces", None)),
        ),
        (
            (
                "GET",
                "/api/v1/namespaces/shop/pods/web-1/log",
                "tailLines=5",
            ),
            Some(p("get", "", "pods/log", Some("shop"))),
        ),
        (
            (
                "POST",
                "/api/v1/namespaces/shop/pods/web-1/eviction",
                "dryRun=All",
            ),
            Some(p("create", "", "pods/eviction", Some("shop"))),
        ),
        (
            ("GET", "/api/v1/nodes/node-1/proxy/stats/summary", ""),
            Some(p("get", "", "nodes/proxy", None)),
        ),
        (
            ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", ""),
            Some(p("patch", "apps", "deployments", Some("shop"))),
        ),
        (
            (
                "PUT",
                "/apis/coordination.k8s.io/v1/namespaces/rounds/leases/rounds",
                "",
            ),
            Some(p("update", "coordination.k8s.io", "leases", Some("rounds"))),
        ),
        (
            ("GET", "/apis/batch/v1/jobs", "watch=true"),
            Some(p("watch", "batch", "jobs", None)),
        ),
        (("GET", "/version", ""), None),
        (("GET", "/apis/apps/v1", ""), None),
    ];
    for ((method, path, query), want) in cases {
        assert_eq!(
            needed(&record(method, path, query)),
            want,
            "{method} {path}?{query}"
        );
    }
    assert!(covers(
        &p("get", "", "pods", None),
        &p("get", "", "pods", Some("shop"))
    ));
    assert!(!covers(
        &p("get", "", "pods", Some("a")),
        &p("get", "", "pods", Some("b"))
    ));
    assert!(!covers(
        &p("get", "", "pods", None),
        &p("get", "", "pods/log", None)
    ));
}

#[test]
fn grants_follow_bindings() {
    let objects = render("overlays/observe");
    let g = granted(&objects, "rounds", "rounds");
    assert!(g.contains(&p("list", "", "pods", None)));
    assert!(g.contains(&p("get", "coordination.k8s.io", "leases", Some("rounds"))));
    assert!(!g.contains(&p("get", "coordination.k8s.io", "leases", None)));
    // Nothing is granted to another account.
    assert!(granted(&objects, "rounds", "someone-else").is_empty());
}

#[test]
fn the_audit_finds_rules_missing_and_rules_unused() {
    let answered = |method: &str, path: &str, query: &str, status: u16| RequestRecord {
        user: Some(SA_USER.into()),
        status,
        ..record(method, path, query)
    };
    let granted: BTreeSet<Permission> = [
        p("list", "", "pods", None),
        p("get", "", "nodes", None),
        p("get", "", "configmaps", Some("rounds")),
    ]
    .into();
    let audit = Audit::new(
        granted,
        vec![
            answered("GET", "/api/v1/pods", "limit=500", 200),
            // A 404 was authorized first: the grant was used.
            answered(
                "GET",
                "/api/v1/namespaces/rounds/configmaps/rounds-ledger",
                "",
                404,
            ),
            answered("GET", "/api/v1/namespaces/shop/pods/web-1/log", "", 403),
            answered(
                "PATCH",
                "/apis/apps/v1/namespaces/shop/deployments/web",
                "dryRun=All",
                403,
            ),
            answered("GET", "/apis", "", 200),
        ],
    );
    assert_eq!(audit.requests, 5);
    assert_eq!(audit.unused(), [&p("get", "", "nodes", None)]);
    assert_eq!(
        audit.refused,
        [(
            p("get", "", "pods/log", Some("shop")),
            "/api/v1/namespaces/shop/pods/web-1/log".to_owned(),
            403
        )]
    );
    assert_eq!(
        audit.refused_dry_runs,
        [p("patch", "apps", "deployments", Some("shop"))].into()
    );
    assert!(audit.ungranted.is_empty());
    let lenient = Audit::new(
        BTreeSet::new(),
        vec![answered(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "",
            201,
        )],
    );
    assert_eq!(
        lenient.ungranted,
        [p(
            "create",
            "authorization.k8s.io",
            "selfsubjectaccessreviews",
            None
        )]
        .into()
    );
}

/// What the demo cluster lacks for every path of the bundled playbooks' actions: a workload of
/// each kind the actions write to with the problem its playbook acts on (a crash-looping
/// StatefulSet; an OOM-killed DaemonSet, bare ReplicaSet and CronJob), and a crash-looping pod
/// of an old ReplicationController (its owner is read; rounds restarts no such thing).
const MORE_PROBLEMS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: legacy, uid: ns-legacy}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: queue, namespace: data, uid: sts-queue, generation: 1}
spec:
  replicas: 3
  serviceName: queue
  selector: {matchLabels: {app: queue}}
  template:
    metadata: {labels: {app: queue}}
    spec:
      containers: [{name: queue, image: "registry.example.com/queue:3.1", resources: {limits: {memory: 512Mi}}}]
status: {replicas: 3, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: queue-0
  namespace: data
  uid: pod-queue-0
  labels: {app: queue}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: queue, uid: sts-queue, controller: true}]
spec:
  nodeName: node-a
  containers: [{name: queue, image: "registry.example.com/queue:3.1", resources: {limits: {memory: 512Mi}}}]
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - name: queue
    ready: false
    restartCount: 9
    state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container=queue"}}
    lastState: {terminated: {exitCode: 1, reason: Error, startedAt: "2026-11-22T09:56:00Z", finishedAt: "2026-11-22T09:56:30Z"}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-shipper, namespace: shop, uid: ds-log-shipper, generation: 1}
spec:
  selector: {matchLabels: {app: log-shipper}}
  template:
    metadata: {labels: {app: log-shipper}}
    spec:
      containers: [{name: shipper, image: "registry.example.com/shipper:1.4", resources: {limits: {memory: 128Mi}, requests: {memory: 128Mi}}}]
status: {desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, observedGeneration: 1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: importer, namespace: batch, uid: rs-importer, generation: 1}
spec:
  replicas: 2
  selector: {matchLabels: {app: importer}}
  template:
    metadata: {labels: {app: importer}}
    spec:
      containers: [{name: importer, image: "registry.example.com/importer:7", resources: {limits: {memory: 256Mi}}}]
status: {replicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: export, namespace: batch, uid: cj-export, generation: 1}
spec:
  schedule: "30 9 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: export, image: "registry.example.com/export:2", resources: {limits: {memory: 256Mi}}}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: export-29399010
  namespace: batch
  uid: job-export
  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: export, uid: cj-export, controller: true}]
spec:
  parallelism: 2
  completions: 2
  template:
    spec:
      restartPolicy: OnFailure
      containers: [{name: export, image: "registry.example.com/export:2", resources: {limits: {memory: 256Mi}}}]
status: {active: 2, startTime: "2026-11-22T09:30:00Z"}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: frontend, namespace: legacy, uid: rc-frontend, generation: 1}
spec:
  replicas: 2
  selector: {app: frontend}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers: [{name: frontend, image: "registry.example.com/frontend:0.9"}]
status: {replicas: 2, readyReplicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend-x7p2q
  namespace: legacy
  uid: pod-frontend
  labels: {app: frontend}
  ownerReferences: [{apiVersion: v1, kind: ReplicationController, name: frontend, uid: rc-frontend, controller: true}]
spec:
  nodeName: node-b
  containers: [{name: frontend, image: "registry.example.com/frontend:0.9"}]
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - name: frontend
    ready: false
    restartCount: 12
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 2, reason: Error, finishedAt: "2026-11-22T09:58:00Z"}}
"#;

/// Two OOM-killed pods (the playbook wants two kills per owner) of `owner`.
fn oom_pods(namespace: &str, owner: (&str, &str, &str, &str), container: &str) -> String {
    let (api_version, kind, name, uid) = owner;
    (1..=2)
        .map(|i| {
            format!(
                r#"---
apiVersion: v1
kind: Pod
metadata:
  name: {name}-oom{i}
  namespace: {namespace}
  uid: pod-{name}-oom{i}
  ownerReferences: [{{apiVersion: {api_version}, kind: {kind}, name: {name}, uid: {uid}, controller: true}}]
spec:
  nodeName: node-c
  containers: [{{name: {container}, image: "registry.example.com/{container}:1", resources: {{limits: {{memory: 128Mi}}}}}}]
status:
  phase: Running
  conditions: [{{type: Ready, status: "True"}}]
  containerStatuses:
  - name: {container}
    ready: true
    restartCount: 1
    state: {{running: {{startedAt: "2026-11-22T09:4{i}:00Z"}}}}
    lastState: {{terminated: {{exitCode: 137, reason: OOMKilled, startedAt: "2026-11-22T09:00:00Z", finishedAt: "2026-11-22T09:4{i}:00Z"}}}}
"#
            )
        })
        .collect()
}

fn more_problems() -> Vec<Value> {
    let mut text = MORE_PROBLEMS.to_owned();
    text.push_str(&oom_pods(
        "shop",
        ("apps/v1", "DaemonSet", "log-shipper", "ds-log-shipper"),
        "shipper",
    ));
    text.push_str(&oom_pods(
        "batch",
        ("apps/v1", "ReplicaSet", "importer", "rs-importer"),
        "importer",
    ));
    text.push_str(&oom_pods(
        "batch",
        ("batch/v1", "Job", "export-29399010", "job-export"),
        "export",
    ));
    serde_saphyr::from_multiple::<Value>(&text)
        .expect("test YAML")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// An overlay as a user installs it: its RBAC enforced by the test API server over the demo
/// cluster, its runner config and playbooks as the ConfigMaps mount them, with a webhook
/// channel added as manifests/examples shows (its URL and token as Secret files).
struct Install {
    overlay: &'static str,
    objects: Vec<Value>,
    server: TestApiServer,
    receiver: receivers::Receiver,
    dir: tempfile::TempDir,
    config: PathBuf,
    kubeconfig: PathBuf,
}

impl Install {
    async fn start(overlay: &'static str, seed: Vec<Value>) -> Self {
        let objects = render(&format!("overlays/{overlay}"));
        let dir = tempfile::tempdir().expect("tmp");
        let receiver = receivers::Receiver::start(receivers::Reply::status(200, "{}"));

        let playbooks = dir.path().join("playbooks");
        std::fs::create_dir(&playbooks).expect("playbooks dir");
        let cm = find(&objects, "ConfigMap", "rounds-playbooks");
        for (file, text) in cm["data"].as_object().expect("playbook files") {
            std::fs::write(playbooks.join(file), text.as_str().expect("text")).expect("write");
        }
        let secrets = dir.path().join("secrets");
        std::fs::create_dir(&secrets).expect("secrets dir");
        std::fs::write(secrets.join("webhook-url"), receiver.url("/rounds")).expect("write");
        std::fs::write(secrets.join("webhook-token"), "rbac-test-webhook-token").expect("write");

        let cm = find(&objects, "ConfigMap", "rounds-config");
        let text = cm["data"]["config.yaml"].as_str().expect("config.yaml");
        assert!(
            text.contains("/etc/rounds/playbooks") && text.contains("/etc/rounds/secrets"),
            "the runner config names the mounted playbooks and secrets: {text}"
        );
        let text = text
            .replace("/etc/rounds/playbooks", &playbooks.display().to_string())
            .replace("/etc/rounds/secrets", &secrets.display().to_string());
        let text = format!(
            "{text}notifications:\n  channels:\n    hook:\n      webhook: {{ urlFile: webhook-url, bearerTokenFile: webhook-token }}\n  routes:\n    - name: all\n      channels: [hook]\n"
        );
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, text).expect("write config");

        let mut server_config = ServerConfig::new()
            .snapshot(repo("tests/fixtures/demo-cluster"))
            .rbac(write_rbac(&objects, dir.path()))
            .token(SA_TOKEN, Identity::service_account("rounds", "rounds"));
        for o in more_problems().into_iter().chain(seed) {
            server_config = server_config.object(o);
        }
        let server = TestApiServer::start(server_config)
            .await
            .expect("test API server starts");
        let kubeconfig = dir.path().join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig, SA_TOKEN, "rounds")
            .expect("kubeconfig");
        Self {
            overlay,
            objects,
            server,
            receiver,
            dir,
            config,
            kubeconfig,
        }
    }

    /// `rounds COMMAND --config ... --kubeconfig ... ARGS` as rounds' service account.
    async fn rounds(&self, command: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"));
        cmd.arg(command)
            .arg("--config")
            .arg(&self.config)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--output", "json"])
            .args(args)
            .env("HOME", self.dir.path())
            .env("HOSTNAME", "rounds-rbac-test")
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("ROUNDS_ONLY")
            .env_remove("ROUNDS_DRY_RUN")
            .env_remove("ROUNDS_SHARDS")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("ROUNDS_LOG_FORMAT")
            .envs(env.iter().copied())
            .kill_on_drop(true);
        let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
            .await
            .expect("rounds ends within a minute")
            .expect("run rounds");
        let ran = Ran {
            what: format!("rounds {command} {}", args.join(" ")),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        eprintln!("{}: exit {:?}", ran.what, ran.code);
        ran
    }
}

struct Ran {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: no JSON report ({e}): {}\n{}",
                self.what, self.stdout, self.stderr
            )
        })
    }

    fn expect(&self, code: i32) -> Value {
        assert_eq!(
            self.code,
            Some(code),
            "{} ended with {:?}: {}\n{}",
            self.what,
            self.code,
            self.stderr,
            self.stdout
        );
        self.report()
    }
}

/// What the requests of an overlay's rounds say about its RBAC.
#[derive(Debug, Default)]
struct Audit {
    requests: usize,
    granted: BTreeSet<Permission>,
    /// Permissions of requests the authorizer let through (whatever the answer after it).
    used: BTreeSet<Permission>,
    /// Dry runs of writes refused with 403 (expected only where the overlay grants no writes).
    refused_dry_runs: BTreeSet<Permission>,
    /// Every other refusal, with the request.
    refused: Vec<(Permission, String, u16)>,
    /// Let through although no rule grants it (the server answers it for everyone).
    ungranted: BTreeSet<Permission>,
}

impl Audit {
    fn of(install: &Install) -> Self {
        Self::new(
            granted(&install.objects, "rounds", "rounds"),
            install.server.requests().records(),
        )
    }

    fn new(granted: BTreeSet<Permission>, records: Vec<RequestRecord>) -> Self {
        let mut audit = Audit {
            granted,
            ..Self::default()
        };
        for r in records {
            assert_eq!(r.user.as_deref(), Some(SA_USER), "{r:?}");
            audit.requests += 1;
            let Some(need) = needed(&r) else {
                // Discovery and /version: every authenticated user may read them.
                assert!(r.status < 400, "{r:?}");
                continue;
            };
            if r.status == 401 || r.status == 403 {
                if r.status == 403 && r.method != "GET" && r.query.contains("dryRun=All") {
                    audit.refused_dry_runs.insert(need);
                } else {
                    audit.refused.push((need, r.path_and_query(), r.status));
                }
                continue;
            }
            if !audit.granted.iter().any(|g| covers(g, &need)) {
                audit.ungranted.insert(need.clone());
            }
            audit.used.insert(need);
        }
        audit
    }

    fn unused(&self) -> Vec<&Permission> {
        self.granted
            .iter()
            .filter(|g| !self.used.iter().any(|u| covers(g, u)))
            .collect()
    }

    fn summary(&self) -> String {
        let list = |ps: &mut dyn Iterator<Item = String>| {
            let v: Vec<String> = ps.collect();
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join("; ")
            }
        };
        format!(
            "{} requests; {} granted, {} used\n  unused grants: {}\n  refused: {}\n  refused dry runs: {}\n  let through without a grant: {}\n  used: {}",
            self.requests,
            self.granted.len(),
            self.granted.len() - self.unused().len(),
            list(&mut self.unused().into_iter().map(|p| p.to_string())),
            list(
                &mut self
                    .refused
                    .iter()
                    .map(|(p, r, s)| format!("{p} ({s}: {r})"))
            ),
            list(&mut self.refused_dry_runs.iter().map(|p| p.to_string())),
            list(&mut self.ungranted.iter().map(|p| p.to_string())),
            list(&mut self.used.iter().map(|p| p.to_string())),
        )
    }
}

/// The ledger as earlier apply rounds left it: a month ago a storm of evictions left 2,000
/// cleaned-up pods in its history, past what one ConfigMap holds, so it is stored in shards;
/// that history expires now, and the round saves the ledger in one ConfigMap again and deletes
/// the shards. And two writes of a round that was killed before confirming them (a pod
/// deleted, a node cordoned), which the next round settles by reading their targets.
fn sharded_ledger() -> Vec<Value> {
    use rounds::api::resource::{ObjectRef, Resource};
    use rounds::ledger::document::{MAX_HISTORY, RETENTION_DAYS, action_key};
    use rounds::ledger::store::SHARD_BYTES;
    use rounds::ledger::{Effect, HistoryEntry, Intent, Ledger, Recorded};
    use sha2::{Digest, Sha256};
    let now = chrono::DateTime::parse_from_rfc3339(NOW)
        .expect("time")
        .to_utc();
    let storm = now - chrono::Duration::days(RETENTION_DAYS) - chrono::Duration::minutes(1);
    let mut ledger = Ledger::default();
    for i in 0..MAX_HISTORY {
        let at = storm - chrono::Duration::seconds(i as i64);
        let run_id = format!("{}-5707e0a1-{:06x}", at.format("%Y%m%dT%H%M00Z"), i / 50);
        let pod = format!("report-worker-9f7c6b5d8-{i:05x}");
        let target = ObjectRef::namespaced(&Resource::POD, "batch", &pod)
            .expect("a pod")
            .with_uid(Some(&format!("7f1e2d3c-4b5a-4968-8776-{i:012x}")));
        ledger.push_history(HistoryEntry {
            at,
            run_id,
            playbook: "evicted-cleanup".into(),
            action: "deleteFailedPods".into(),
            target,
            outcome: Recorded::Applied,
            detail: None,
        });
    }
    let crashed = "20261122T094500Z-0badc0de-c0ffee";
    let at = now - chrono::Duration::minutes(15);
    for (playbook, action, target, effect) in [
        (
            "evicted-cleanup",
            "deleteFailedPods",
            ObjectRef::namespaced(&Resource::POD, "batch", "report-worker-9f7c6b5d8-zz9zz"),
            Effect::Removed,
        ),
        (
            "disk-pressure-cordon",
            "cordonNode",
            ObjectRef::cluster(&Resource::NODE, "node-c"),
            Effect::Annotated,
        ),
    ] {
        let target = target.expect("a target");
        ledger.intents.insert(
            format!("{crashed}/{}", action_key(action, &target)),
            Intent {
                run_id: crashed.into(),
                playbook: playbook.into(),
                action: action.into(),
                target,
                at,
                effect,
                findings: Vec::new(),
            },
        );
    }
    // Stored as rounds stores it (ledger/store.rs): the text cut into immutable ConfigMaps
    // named after their content, listed by the primary with the whole text's sha256.
    let text = serde_json::to_string(&ledger).expect("ledger JSON");
    assert!(
        text.len() > SHARD_BYTES && text.len() <= 2 * SHARD_BYTES,
        "the ledger ({} bytes) needs two shards",
        text.len()
    );
    let (a, b) = text.split_at(SHARD_BYTES);
    let mut objects = Vec::new();
    let mut names = Vec::new();
    for part in [a, b] {
        let name = format!(
            "rounds-ledger-{}",
            &hex::encode(Sha256::digest(part.as_bytes()))[..16]
        );
        objects.push(serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": "rounds",
                "labels": {"app.kubernetes.io/managed-by": "rounds", "rounds.dev/ledger-shard-of": "rounds-ledger"},
            },
            "immutable": true,
            "data": {"ledger.json": part},
        }));
        names.push(name);
    }
    objects.push(serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "rounds-ledger",
            "namespace": "rounds",
            "labels": {"app.kubernetes.io/managed-by": "rounds", "rounds.dev/ledger": "rounds-ledger"},
        },
        "data": {
            "shards": names.join(","),
            "sha256": hex::encode(Sha256::digest(text.as_bytes())),
        },
    }));
    objects
}

/// The pause switch, as `kubectl -n rounds create configmap rounds-control
/// --from-literal=paused=true` makes it.
fn pause(install: &Install) {
    install
        .server
        .insert(serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "rounds-control", "namespace": "rounds"},
            "data": {"paused": "true"},
        }))
        .expect("pause");
}

/// The rounds every overlay makes: the scheduled round, the next one an hour later, a manual
/// run of one playbook (`scripts/run-once.sh --only`: Jobs are then not listed, so an OOM-killed
/// Job pod's owners are read one by one), a round while paused, `plan` and `doctor`.
async fn every_path(install: &Install, extra: &[&[&str]]) -> Vec<Value> {
    let mut reports = vec![
        install.rounds("run", &["--now", NOW], &[]).await.expect(0),
        install
            .rounds("run", &["--now", LATER], &[])
            .await
            .expect(0),
        install
            .rounds(
                "run",
                &["--now", LATER],
                &[("ROUNDS_ONLY", "oom-raise-memory")],
            )
            .await
            .expect(0),
    ];
    for args in extra {
        reports.push(install.rounds("run", args, &[]).await.expect(0));
    }
    pause(install);
    let paused = install
        .rounds("run", &["--now", LATER], &[])
        .await
        .expect(0);
    assert!(
        paused["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .filter(|a| a["action"] != "notifyOnly" && a["status"] != "skipped")
            .count()
            == 0,
        "paused, nothing changes: {paused:#}"
    );
    reports.push(paused);
    install
        .rounds("plan", &["--now", LATER], &[])
        .await
        .expect(0);
    // doctor's verdict is its own test's business; here it is one more client of the RBAC.
    let doctor = install.rounds("doctor", &[], &[]).await;
    assert!(doctor.code.is_some(), "{}", doctor.stderr);
    assert!(
        !install.receiver.requests().is_empty(),
        "the rounds notified the webhook"
    );
    reports
}

/// (action, target kind) of every action the reports show with `status`.
fn actions_with(reports: &[Value], status: &str) -> BTreeSet<(String, String)> {
    reports
        .iter()
        .flat_map(|r| r["actions"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["status"] == status)
        .map(|a| {
            (
                a["action"].as_str().unwrap_or("").to_owned(),
                a["target"]["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    v.iter()
        .map(|(a, k)| ((*a).to_owned(), (*k).to_owned()))
        .collect()
}

/// Every action of the bundled playbooks on every kind it writes.
const WRITES: &[(&str, &str)] = &[
    ("cordonNode", "Node"),
    ("deleteFailedPods", "Pod"),
    ("expandPvc", "PersistentVolumeClaim"),
    ("raiseMemoryLimit", "CronJob"),
    ("raiseMemoryLimit", "DaemonSet"),
    ("raiseMemoryLimit", "Deployment"),
    ("raiseMemoryLimit", "ReplicaSet"),
    ("rolloutRestart", "Deployment"),
    ("rolloutRestart", "StatefulSet"),
];

fn assert_exact(audit: &Audit, overlay: &str) {
    let verdict = audit.summary();
    eprintln!("{overlay}: {verdict}");
    assert!(
        audit.refused.is_empty() && audit.ungranted.is_empty(),
        "overlays/{overlay} is too narrow: {verdict}"
    );
    assert!(
        audit.unused().is_empty(),
        "overlays/{overlay} grants more than its rounds use: {verdict}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_grants_exactly_what_its_rounds_use() {
    let install = Install::start("observe", Vec::new()).await;
    let reports = every_path(&install, &[]).await;
    let audit = Audit::of(&install);
    assert_exact(&audit, "observe");

    // Read-only RBAC: the dry run of every change is refused, and reported as skipped by the
    // `forbidden` guard. Those are exactly the write requests, and each is a write the
    // remediate overlay grants.
    let remediate = granted(&render("overlays/remediate"), "rounds", "rounds");
    assert!(!audit.refused_dry_runs.is_empty());
    for refused in &audit.refused_dry_runs {
        assert!(
            remediate.iter().any(|g| covers(g, refused)) && !audit.granted.contains(refused),
            "observe refused the dry run {refused}, which remediate does not grant either"
        );
    }
    for (action, kind) in WRITES {
        let guards: BTreeSet<String> = reports
            .iter()
            .flat_map(|r| r["actions"].as_array().cloned().unwrap_or_default())
            .filter(|a| a["action"] == *action && a["target"]["kind"] == *kind)
            .filter_map(|a| a["guard"].as_str().map(str::to_owned))
            .collect();
        // Nothing is applied, so nothing cools down: the fourth OOM-killed workload in
        // namespace order is held back by the playbook's budget (3 per round) in every round.
        let expected = if *kind == "DaemonSet" {
            "budget"
        } else {
            "forbidden"
        };
        assert!(
            guards.contains(expected),
            "{action} on a {kind} is skipped by `{expected}`, not only by {guards:?}"
        );
    }
    let applied = actions_with(&reports, "applied");
    assert!(
        applied.iter().all(|(a, _)| a == "notifyOnly"),
        "observe applied {applied:?}"
    );
}

/// The shards overlay is observe as an Indexed Job: the same Roles (so observe's test proves
/// they are all used), and each shard's round, all at once as the Job runs them, needs nothing
/// more (each holds its own Lease; they share the ledger).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_need_what_observe_grants() {
    let install = Install::start("shards", Vec::new()).await;
    assert_eq!(
        granted(&install.objects, "rounds", "rounds"),
        granted(&render("overlays/observe"), "rounds", "rounds"),
        "the shards overlay grants what observe grants"
    );
    let cronjob = find(&install.objects, "CronJob", "rounds");
    let env = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let count = env
        .iter()
        .find(|e| e["name"] == "ROUNDS_SHARDS")
        .and_then(|e| e["value"].as_str())
        .expect("ROUNDS_SHARDS")
        .to_owned();
    let n: usize = count.parse().expect("a count");
    let indexes: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let envs: Vec<[(&str, &str); 2]> = indexes
        .iter()
        .map(|i| {
            [
                ("ROUNDS_SHARDS", count.as_str()),
                ("JOB_COMPLETION_INDEX", i),
            ]
        })
        .collect();
    let rounds = envs
        .iter()
        .map(|env| install.rounds("run", &["--now", NOW], env));
    for ran in futures::future::join_all(rounds).await {
        ran.expect(0);
    }
    let audit = Audit::of(&install);
    eprintln!("{}: {}", install.overlay, audit.summary());
    assert!(
        audit.refused.is_empty() && audit.ungranted.is_empty(),
        "overlays/shards is too narrow: {}",
        audit.summary()
    );
    for i in &indexes {
        assert!(
            install
                .server
                .object(
                    "coordination.k8s.io",
                    "leases",
                    "rounds",
                    &format!("rounds-shard-{i}")
                )
                .is_some(),
            "shard {i} held its own Lease"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_grants_exactly_what_its_rounds_use() {
    let install = Install::start("remediate", sharded_ledger()).await;
    let reports = every_path(&install, &[&["--now", LATER, "--dry-run"]]).await;
    let audit = Audit::of(&install);
    assert!(audit.refused_dry_runs.is_empty(), "{}", audit.summary());
    assert_exact(&audit, "remediate");

    // Every action path was taken, on every kind it writes.
    let applied = actions_with(&reports, "applied");
    let missing: Vec<_> = owned(WRITES).difference(&applied).cloned().collect();
    assert!(
        missing.is_empty(),
        "never applied: {missing:?}; applied: {applied:?}"
    );
    // The crashed round's writes were settled by reading their targets.
    let notes: Vec<String> = reports
        .iter()
        .flat_map(|r| r["notes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("20261122T094500Z-0badc0de-c0ffee")),
        "{notes:#?}"
    );
    // The ledger's expired history went, it fits one ConfigMap again, and its shards are gone.
    let primary = install
        .server
        .object("", "configmaps", "rounds", "rounds-ledger")
        .expect("the ledger");
    assert!(primary["data"]["ledger.json"].is_string(), "{primary:#}");
    let left: Vec<String> = install
        .server
        .objects("", "configmaps")
        .iter()
        .filter(|c| c["metadata"]["labels"]["rounds.dev/ledger-shard-of"] == "rounds-ledger")
        .filter_map(|c| c["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    assert!(left.is_empty(), "unused shards are deleted: {left:?}");
}
