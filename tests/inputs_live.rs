//! End-to-end: nodeOomKilled in a live round, against the test API server: the Events about
//! nodes are listed (`fieldSelector=involvedObject.kind=Node`, paged) and give the same
//! findings as the same files read as a snapshot.

use rounds_test_apiserver::{Identity, ServerConfig, TestApiServer};
use serde_json::Value;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-11-22T10:00:00Z";
const TOKEN: &str = "rounds-service-account-token";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The quirks fixture's nodes and node Events (core/v1), plus a pod Event that must not be
/// listed with them.
fn cluster(dir: &Path) {
    std::fs::copy(
        repo("tests/fixtures/quirks/nodes.yaml"),
        dir.join("nodes.yaml"),
    )
    .expect("copy");
    std::fs::write(
        dir.join("events.yaml"),
        r#"apiVersion: v1
items:
- apiVersion: v1
  count: 3
  firstTimestamp: "2026-11-22T09:12:40Z"
  involvedObject: {kind: Node, name: node-a, uid: node-a}
  kind: Event
  lastTimestamp: "2026-11-22T09:48:03Z"
  message: 'Memory cgroup out of memory: Killed process 48213 (java)'
  metadata: {name: node-a.187a2b3c4d5e6f70, namespace: default}
  reason: OOMKilling
  source: {component: kernel-monitor, host: node-a}
  type: Warning
- apiVersion: v1
  count: 1
  involvedObject: {kind: Pod, name: web-1, namespace: shop}
  kind: Event
  lastTimestamp: "2026-11-22T09:50:00Z"
  message: 'Killed process 1 (web)'
  metadata: {name: web-1.1, namespace: shop}
  reason: OOMKilling
  type: Warning
kind: List
metadata: {resourceVersion: ""}
"#,
    )
    .expect("write");
}

fn playbooks(dir: &Path) {
    std::fs::copy(
        repo("playbooks/node-oom-notify.yaml"),
        dir.join("node-oom-notify.yaml"),
    )
    .expect("copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oom_kills_are_found_live_as_in_a_snapshot() {
    let snapshot = tempfile::tempdir().expect("tempdir");
    cluster(snapshot.path());
    let books = tempfile::tempdir().expect("tempdir");
    playbooks(books.path());
    let server = TestApiServer::start(
        ServerConfig::new()
            .snapshot(snapshot.path())
            .rbac(repo("manifests"))
            .token(TOKEN, Identity::service_account("rounds", "rounds")),
    )
    .await
    .expect("test API server starts");
    let home = tempfile::tempdir().expect("home");
    let kubeconfig = home.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, TOKEN, "rounds")
        .expect("kubeconfig");
    let live = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["plan", "--playbooks"])
        .arg(books.path())
        .args([
            "--now",
            NOW,
            "--output",
            "json",
            "--page-size",
            "1",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .await
        .expect("run rounds");
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live: Value = serde_json::from_slice(&live.stdout).expect("report");
    let offline = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["plan", "--snapshot"])
        .arg(snapshot.path())
        .arg("--playbooks")
        .arg(books.path())
        .args(["--now", NOW, "--output", "json"])
        .output()
        .expect("run rounds");
    let offline: Value = serde_json::from_slice(&offline.stdout).expect("report");
    let messages = |r: &Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        messages(&live),
        [
            "the kernel of node node-a killed processes for lack of memory: 3 time(s) (OOMKilling from kernel-monitor)"
        ]
    );
    assert_eq!(messages(&live), messages(&offline));
    assert_eq!(live["actions"], offline["actions"]);
    // Events were listed once, about nodes only, in pages.
    let lists: Vec<String> = server
        .requests()
        .records()
        .iter()
        .filter(|r| r.path == "/api/v1/events")
        .map(|r| r.query.clone())
        .collect();
    assert!(!lists.is_empty(), "the Events were listed");
    for q in &lists {
        assert!(
            q.contains("fieldSelector=involvedObject.kind%3DNode") && q.contains("limit=1"),
            "{q}"
        );
    }
    server.shutdown().await;
}
