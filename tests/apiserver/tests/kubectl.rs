//! The real kubectl (/usr/bin/kubectl) against the test server, through a generated kubeconfig.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, TestApiServer};
use serde_json::Value;

/// kubectl's binary: `$KUBECTL` or the one on PATH.
fn kubectl_binary() -> PathBuf {
    std::env::var_os("KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubectl"))
}

struct Kubectl {
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    fn new(server: &TestApiServer, token: &str) -> Self {
        let home = tempfile::tempdir().expect("temp HOME");
        let kubeconfig = home.path().join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig, token, "default")
            .expect("write kubeconfig");
        Self { home, kubeconfig }
    }

    async fn run(&self, args: &[&str]) -> Output {
        let home: PathBuf = self.home.path().to_path_buf();
        let kubeconfig = self.kubeconfig.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || run_kubectl(&home, &kubeconfig, &args))
            .await
            .expect("kubectl task")
    }
}

fn run_kubectl(home: &Path, kubeconfig: &Path, args: &[String]) -> Output {
    let output = Command::new(kubectl_binary())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("kubectl runs (is it installed?)");
    Output {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_pods_nodes_and_yaml() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let pods = kubectl.run(&["get", "pods", "-A"]).await;
    assert!(pods.success, "{}", pods.stderr);
    let lines: Vec<&str> = pods.stdout.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let evicted: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        evicted[..5],
        ["default", "batch-runner", "0/1", "Evicted", "0"]
    );
    assert_eq!(lines.len(), 7, "{}", pods.stdout);
    for pod in ["batch-runner", "api-5f6a7b-ddddd", "web-7d4b9c-ccccc"] {
        assert!(pods.stdout.contains(pod), "{pod} in {}", pods.stdout);
    }
    let nodes = kubectl.run(&["get", "nodes"]).await;
    assert!(nodes.success, "{}", nodes.stderr);
    let node_2 = nodes
        .stdout
        .lines()
        .find(|l| l.starts_with("node-2"))
        .expect("node-2 row");
    assert!(
        node_2.contains("Ready,SchedulingDisabled"),
        "{}",
        nodes.stdout
    );
    assert!(nodes.stdout.contains("node-1"), "{}", nodes.stdout);

    let yaml = kubectl
        .run(&["get", "deploy", "-n", "shop", "web", "-o", "yaml"])
        .await;
    assert!(yaml.success, "{}", yaml.stderr);
    let deployment: Value = serde_saphyr::from_str(&yaml.stdout).expect("yaml");
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(deployment["metadata"]["uid"], "uid-deploy-web");

    let raw = kubectl
        .run(&["get", "--raw", "/api/v1/namespaces/shop/pods?limit=1"])
        .await;
    assert!(raw.success, "{}", raw.stderr);
    let page: Value = serde_json::from_str(&raw.stdout).expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["metadata"]["remainingItemCount"], 4);
    assert!(page["metadata"]["continue"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_paginates_with_chunk_size() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let pods = kubectl
        .run(&["get", "pods", "-A", "--chunk-size=2", "-o", "name"])
        .await;
    assert!(pods.success, "{}", pods.stderr);
    assert_eq!(pods.stdout.lines().count(), 6, "{}", pods.stdout);
    let pages: Vec<String> = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/pods")
        .map(|r| r.query)
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[1].contains("continue="), "{pages:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patch_with_server_dry_run_leaves_the_object_unchanged() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let patch = kubectl
        .run(&[
            "patch",
            "deploy",
            "web",
            "-n",
            "shop",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":9}}"#,
            "--dry-run=server",
        ])
        .await;
    assert!(patch.success, "{}", patch.stderr);
    assert!(
        patch.stdout.contains("deployment.apps/web patched"),
        "{}",
        patch.stdout
    );
    let stored = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    assert_eq!(stored["spec"]["replicas"], 3);
    let dry_run_requests = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.query.contains("dryRun=All"))
        .count();
    assert_eq!(dry_run_requests, 1);

    let strategic = kubectl
        .run(&["patch", "deploy", "web", "-n", "shop",
            "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"registry.example/web:1.5.0"}]}}}}"#])
        .await;
    assert!(strategic.success, "{}", strategic.stderr);
    let stored = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    let container = &stored["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "registry.example/web:1.5.0");
    assert_eq!(container["resources"]["limits"]["memory"], "256Mi");

    let cordon = kubectl.run(&["cordon", "node-1"]).await;
    assert!(cordon.success, "{}", cordon.stderr);
    assert_eq!(
        server.object("", "nodes", "", "node-1").expect("node")["spec"]["unschedulable"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_auth_can_i_follows_rbac() {
    let server = start().await;
    let limited = Kubectl::new(&server, ROUNDS_TOKEN);
    let yes = limited.run(&["auth", "can-i", "list", "pods", "-A"]).await;
    assert_eq!(
        (yes.success, yes.stdout.trim()),
        (true, "yes"),
        "{}",
        yes.stderr
    );
    let no = limited
        .run(&["auth", "can-i", "delete", "pods", "-n", "shop"])
        .await;
    assert_eq!(
        (no.success, no.stdout.trim()),
        (false, "no"),
        "{}",
        no.stderr
    );
    let eviction = limited
        .run(&[
            "auth",
            "can-i",
            "create",
            "pods",
            "--subresource=eviction",
            "-n",
            "shop",
        ])
        .await;
    assert_eq!(eviction.stdout.trim(), "yes", "{}", eviction.stderr);

    let admin = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let as_rounds = admin
        .run(&[
            "auth",
            "can-i",
            "get",
            "secrets",
            "-n",
            "rounds",
            "--as=system:serviceaccount:rounds:rounds",
        ])
        .await;
    assert_eq!(as_rounds.stdout.trim(), "no", "{}", as_rounds.stderr);
    let as_rounds = admin
        .run(&[
            "auth",
            "can-i",
            "update",
            "configmaps",
            "-n",
            "rounds",
            "--as=system:serviceaccount:rounds:rounds",
        ])
        .await;
    assert_eq!(as_rounds.stdout.trim(), "yes", "{}", as_rounds.stderr);

    let forbidden = limited.run(&["get", "secrets", "-A"]).await;
    assert!(!forbidden.success);
    assert!(
        forbidden.stderr.contains(
            "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot list resource \"secrets\" in API group \"\" at the cluster scope"
        ),
        "{}",
        forbidden.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_a_job_and_reads_logs() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let created = kubectl
        .run(&["create", "job", "hello", "--image=busybox", "-n", "shop"])
        .await;
    assert!(created.success, "{}", created.stderr);
    assert_eq!(created.stdout.trim(), "job.batch/hello created");
    let job = server
        .object("batch", "jobs", "shop", "hello")
        .expect("job stored");
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"],
        "busybox"
    );
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let again = kubectl
        .run(&["create", "job", "hello", "--image=busybox", "-n", "shop"])
        .await;
    assert!(!again.success);
    assert!(
        again.stderr.contains("AlreadyExists") || again.stderr.contains("already exists"),
        "{}",
        again.stderr
    );

    server
        .logs()
        .set("shop", "web-7d4b9c-aaaaa", "app", "a\nb\nc\n");
    let logs = kubectl
        .run(&["logs", "-n", "shop", "web-7d4b9c-aaaaa", "--tail=2"])
        .await;
    assert!(logs.success, "{}", logs.stderr);
    assert_eq!(logs.stdout, "b\nc\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_manifests() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let manifest = kubectl.home.path().join("ledger.yaml");
    let write = |value: &str| {
        std::fs::write(
            &manifest,
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rounds-ledger\n  namespace: rounds\ndata:\n  cooldowns: \"{value}\"\n"
            ),
        )
        .expect("manifest")
    };
    write("{}");
    let manifest_arg = manifest.to_string_lossy().into_owned();
    let created = kubectl.run(&["apply", "-f", &manifest_arg]).await;
    assert!(created.success, "{}", created.stderr);
    assert_eq!(created.stdout.trim(), "configmap/rounds-ledger created");
    write("{\\\"web\\\":1}");
    let configured = kubectl.run(&["apply", "-f", &manifest_arg]).await;
    assert!(configured.success, "{}", configured.stderr);
    assert_eq!(
        configured.stdout.trim(),
        "configmap/rounds-ledger configured"
    );
    let stored = server
        .object("", "configmaps", "rounds", "rounds-ledger")
        .expect("stored");
    assert_eq!(stored["data"]["cooldowns"], r#"{"web":1}"#);
    assert!(
        stored["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drains_a_node_through_the_eviction_api() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let budgets = kubectl.run(&["get", "pdb", "-n", "shop"]).await;
    assert!(budgets.success, "{}", budgets.stderr);
    let rows: Vec<Vec<&str>> = budgets
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[..3]
            .iter()
            .map(|r| r[..r.len() - 1].to_vec())
            .collect::<Vec<_>>(),
        [
            vec![
                "NAME",
                "MIN",
                "AVAILABLE",
                "MAX",
                "UNAVAILABLE",
                "ALLOWED",
                "DISRUPTIONS"
            ],
            vec!["api", "N/A", "0", "0"],
            vec!["web", "2", "N/A", "1"],
        ]
    );
    let deleted = kubectl.run(&["delete", "pdb", "api", "-n", "shop"]).await;
    assert!(deleted.success, "{}", deleted.stderr);
    // Evicted pods stay Terminating for their grace period, and drain waits for them to go:
    // a short grace period lets the server's kubelet timer remove them.
    let drained = kubectl
        .run(&[
            "drain",
            "node-2",
            "--ignore-daemonsets",
            "--grace-period=1",
            "--timeout=20s",
        ])
        .await;
    assert!(drained.success, "{}", drained.stderr);
    assert!(
        drained.stdout.contains("node/node-2 drained"),
        "{}",
        drained.stdout
    );
    let on_node_2: Vec<_> = server
        .objects("", "pods")
        .into_iter()
        .filter(|p| p["spec"]["nodeName"] == "node-2")
        .collect();
    assert!(on_node_2.is_empty(), "{on_node_2:?}");
    let evictions = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/eviction") && r.status == 201)
        .count();
    assert_eq!(evictions, 3);
    assert_eq!(
        server.object("", "nodes", "", "node-2").expect("node")["spec"]["unschedulable"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_deletes_gracefully_and_dry_runs_on_the_server() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let dry = kubectl
        .run(&[
            "delete",
            "pod",
            "web-7d4b9c-aaaaa",
            "-n",
            "shop",
            "--dry-run=server",
        ])
        .await;
    assert!(dry.success, "{}", dry.stderr);
    assert_eq!(
        dry.stdout.trim(),
        "pod \"web-7d4b9c-aaaaa\" deleted (server dry run)"
    );
    assert!(
        server
            .object("", "pods", "shop", "web-7d4b9c-aaaaa")
            .is_some_and(|p| p["metadata"].get("deletionTimestamp").is_none())
    );
    // kubectl waits until the Terminating pod is gone (it lists again, since watch is not
    // served); the grace-period timer removes it.
    let deleted = kubectl
        .run(&[
            "delete",
            "pod",
            "web-7d4b9c-aaaaa",
            "-n",
            "shop",
            "--grace-period=1",
        ])
        .await;
    assert!(deleted.success, "{}", deleted.stderr);
    assert_eq!(deleted.stdout.trim(), "pod \"web-7d4b9c-aaaaa\" deleted");
    assert!(
        server
            .object("", "pods", "shop", "web-7d4b9c-aaaaa")
            .is_none()
    );
    let shrink = kubectl
        .run(&[
            "patch",
            "pvc",
            "data-db-0",
            "-n",
            "shop",
            "--dry-run=server",
            "-p",
            r#"{"spec":{"resources":{"requests":{"storage":"512Mi"}}}}"#,
        ])
        .await;
    assert!(!shrink.success);
    assert!(
        shrink.stderr.contains(
            "The PersistentVolumeClaim \"data-db-0\" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
        ),
        "{}",
        shrink.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scales_restarts_and_sees_unchanged_patches() {
    let server = start().await;
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let generation = || {
        server
            .object("apps", "deployments", "shop", "web")
            .expect("web")["metadata"]["generation"]
            .as_i64()
    };
    let unchanged = kubectl
        .run(&[
            "patch",
            "deploy",
            "web",
            "-n",
            "shop",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ])
        .await;
    assert!(unchanged.success, "{}", unchanged.stderr);
    assert_eq!(
        unchanged.stdout.trim(),
        "deployment.apps/web patched (no change)"
    );
    assert_eq!(generation(), Some(1));
    let scaled = kubectl
        .run(&["scale", "deploy/web", "-n", "shop", "--replicas=5"])
        .await;
    assert!(scaled.success, "{}", scaled.stderr);
    assert_eq!(scaled.stdout.trim(), "deployment.apps/web scaled");
    assert_eq!(generation(), Some(2));
    let restarted = kubectl
        .run(&["rollout", "restart", "deploy/web", "-n", "shop"])
        .await;
    assert!(restarted.success, "{}", restarted.stderr);
    assert_eq!(restarted.stdout.trim(), "deployment.apps/web restarted");
    let web = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    assert_eq!(web["metadata"]["generation"], 3);
    assert!(
        web["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_shows_events_recorded_through_either_api() {
    let server = start().await;
    let client = admin(&server);
    let core = serde_json::json!({"metadata": {"name": "core.1"}, "type": "Warning",
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-aaaaa"},
        "reason": "BackOff", "message": "back-off restarting failed container",
        "firstTimestamp": "2025-01-10T10:00:00Z", "lastTimestamp": "2025-01-10T10:05:00Z", "count": 3});
    let recorded = serde_json::json!({"metadata": {"name": "rounds.1"}, "type": "Normal",
        "regarding": {"apiVersion": "v1", "kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-aaaaa"},
        "reason": "RoundsEvicted", "note": "evicted by rounds", "action": "Evict",
        "eventTime": "2025-01-10T10:06:00.000000Z",
        "reportingController": "rounds.dev/rounds", "reportingInstance": "rounds-1"});
    for (path, body) in [
        ("/api/v1/namespaces/shop/events", core),
        ("/apis/events.k8s.io/v1/namespaces/shop/events", recorded),
    ] {
        let created = client.post(path, &body).await.expect("event");
        assert_eq!(created.status, 201, "{}", created.text());
    }
    let kubectl = Kubectl::new(&server, DEFAULT_ADMIN_TOKEN);
    let table = kubectl.run(&["get", "events", "-n", "shop"]).await;
    assert!(table.success, "{}", table.stderr);
    let lines: Vec<Vec<&str>> = table
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert_eq!(lines.len(), 3, "{}", table.stdout);
    assert!(
        table.stdout.contains("Warning   BackOff")
            && table
                .stdout
                .contains("pod/web-7d4b9c-aaaaa   back-off restarting failed container"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("RoundsEvicted   pod/web-7d4b9c-aaaaa   evicted by rounds"),
        "{}",
        table.stdout
    );
    let events = kubectl
        .run(&["events", "-n", "shop", "--for", "pod/web-7d4b9c-aaaaa"])
        .await;
    assert!(events.success, "{}", events.stderr);
    assert!(
        events
            .stdout
            .contains("Pod/web-7d4b9c-aaaaa   evicted by rounds")
            && events.stdout.contains("(x3 over"),
        "{}",
        events.stdout
    );
}
