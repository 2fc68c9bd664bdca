//! Shards: an Indexed Job's pods (JOB_COMPLETION_INDEX, ROUNDS_SHARDS) split the cluster by a
//! stable hash. Together N shards look at every namespace and every node exactly once, and
//! find and plan exactly what one runner finds and plans; node-scoped work (node conditions,
//! kubelet summaries with the PVC usage they carry) is done once, by the node's shard.

use rounds::shard::Shard;
use rounds_test_apiserver::{Identity, ServerConfig, TestApiServer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

const NOW: &str = "2026-11-22T10:00:00Z";
const NAMESPACES: usize = 30;
const NODES: usize = 10;
const SA_TOKEN: &str = "rounds-shard-token";

fn node_of(i: usize) -> String {
    format!("n-{}", (i * 7) % NODES)
}

/// 30 namespaces, each with a crash-looping Deployment and a nearly full claim, on 10 nodes
/// (two with DiskPressure, one NotReady), and the nodes' kubelet summaries: a claim's usage is
/// reported by the node its pod runs on, which may be another shard's than its namespace.
fn cluster(dir: &Path) {
    let mut items = vec![json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "fast"}, "provisioner": "csi.example.com", "allowVolumeExpansion": true,
    })];
    for n in 0..NODES {
        let condition = match n {
            3 | 7 => json!([{"type": "Ready", "status": "True"},
                {"type": "DiskPressure", "status": "True", "lastTransitionTime": "2026-11-22T09:00:00Z"}]),
            5 => {
                json!([{"type": "Ready", "status": "False", "lastTransitionTime": "2026-11-22T09:00:00Z"}])
            }
            _ => json!([{"type": "Ready", "status": "True"}]),
        };
        items.push(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("n-{n}"), "uid": format!("node-{n}")},
            "status": {"conditions": condition},
        }));
    }
    let mut summaries: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for i in 0..NAMESPACES {
        let ns = format!("ns-{i:02}");
        let node = node_of(i);
        items.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        items.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "app", "namespace": ns, "uid": format!("dep-{i}")},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}},
                "template": {"metadata": {"labels": {"app": "app"}},
                    "spec": {"containers": [{"name": "app", "image": "app:1"}]}}},
            "status": {"replicas": 2, "readyReplicas": 1},
        }));
        items.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "app-crash", "namespace": ns, "uid": format!("pod-{i}"),
                "labels": {"app": "app"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "app",
                    "uid": format!("dep-{i}"), "controller": true}]},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "app:1"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "restartCount": 9,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
        }));
        items.push(json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": ns, "uid": format!("pvc-{i}")},
            "spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}},
        }));
        summaries.entry(node).or_default().push(json!({
            "podRef": {"name": "app-crash", "namespace": ns},
            "volume": [{"name": "data", "pvcRef": {"name": "data", "namespace": ns},
                "capacityBytes": 10737418240u64, "usedBytes": 10200547328u64,
                "availableBytes": 536870912u64, "inodes": 655360, "inodesUsed": 100,
                "inodesFree": 655260, "time": "2026-11-22T09:59:50Z"}],
        }));
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    std::fs::write(dir.join("cluster.json"), list.to_string()).expect("cluster");
    for n in 0..NODES {
        let name = format!("n-{n}");
        let pods = summaries.remove(&name).unwrap_or_default();
        let summary = json!({"node": {"nodeName": name, "fs": {"capacityBytes": 100u64 << 30,
            "usedBytes": 10u64 << 30, "availableBytes": 90u64 << 30}}, "pods": pods});
        std::fs::write(
            dir.join(format!("summary-{name}.json")),
            summary.to_string(),
        )
        .expect("summary");
    }
}

fn playbooks(dir: &Path) {
    for (name, detect, action) in [
        (
            "crash",
            "crashLoopBackOff: {minRestarts: 5}",
            "rolloutRestart: {}",
        ),
        (
            "full",
            "pvcUsage: {usedPercent: 85%}",
            "expandPvc: {factor: 1.5, max: 100Gi}",
        ),
        ("pressure", "diskPressure: {for: 10m}", "cordonNode: {}"),
        ("notready", "nodeNotReady: {for: 10m}", "notifyOnly: {}"),
    ] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!(
                "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {{name: {name}}}\nspec:\n  detect:\n    {detect}\n  remediate:\n    - {action}\n  guards: {{maxActionsPerRound: 1000, maxActionsPerNamespace: 1000, maxFindings: 1000}}\n  notify:\n    evidence: {{logTailLines: 0, events: false}}\n"
            ),
        )
        .expect("playbook");
    }
    std::fs::write(
        dir.join("../config.yaml"),
        "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nguards: {maxActionsPerRound: 1000, maxFindings: 1000, maxUnavailableNodes: 100%}\n",
    )
    .expect("config");
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(dir.path().join("cluster")).expect("dir");
        std::fs::create_dir(dir.path().join("playbooks")).expect("dir");
        cluster(&dir.path().join("cluster"));
        playbooks(&dir.path().join("playbooks"));
        Self { dir }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    /// `rounds plan` as shard `index` of `count` (None: one runner), with `source` arguments.
    fn plan(&self, shard: Option<(u32, u32)>, source: &[&str]) -> Value {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"));
        cmd.args(["plan", "--now", NOW, "--output", "json", "--playbooks"])
            .arg(self.path("playbooks"))
            .arg("--config")
            .arg(self.path("config.yaml"))
            .args(source)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("ROUNDS_SHARDS")
            .env_remove("JOB_COMPLETION_INDEX");
        if let Some((index, count)) = shard {
            cmd.env("JOB_COMPLETION_INDEX", index.to_string())
                .env("ROUNDS_SHARDS", count.to_string());
        }
        let out = cmd.output().expect("rounds plan");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("report")
    }
}

/// (playbook, target kind/namespace/name) of every finding.
fn findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}/{}",
                f["playbook"].as_str().unwrap_or(""),
                f["target"]["kind"].as_str().unwrap_or(""),
                f["target"]["namespace"].as_str().unwrap_or(""),
                f["target"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn actions(report: &Value) -> Vec<String> {
    report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| format!("{} {} {}", a["action"], a["target"], a["status"]))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The shard each finding must belong to: its namespace's, its node's, or (a claim's usage,
/// read from a kubelet summary) the shard of the node the claim's pod runs on.
fn owner_ok(shard: Shard, f: &Value) -> bool {
    let ns = f["target"]["namespace"].as_str();
    let name = f["target"]["name"].as_str().unwrap_or("");
    match f["target"]["kind"].as_str() {
        Some("Node") => shard.owns_node(name),
        Some("PersistentVolumeClaim") => {
            let i: usize = ns
                .and_then(|n| n.strip_prefix("ns-"))
                .and_then(|n| n.parse().ok())
                .expect("ns-NN");
            shard.owns_node(&node_of(i))
        }
        _ => shard.owns_namespace(ns.expect("a namespace")),
    }
}

fn assert_shards_cover_the_whole(whole: &Value, parts: &[Value], count: u32) {
    let all = findings(whole);
    assert_eq!(all.len(), NAMESPACES * 2 + 3, "{all:#?}");
    let mut union: Vec<String> = parts.iter().flat_map(findings).collect();
    let n = union.len();
    union.sort();
    union.dedup();
    assert_eq!(n, union.len(), "a finding in two shards");
    assert_eq!(
        union,
        sorted(all),
        "the shards together find what one runner finds"
    );
    let union_actions: Vec<String> = parts.iter().flat_map(actions).collect();
    assert_eq!(
        sorted(union_actions),
        sorted(actions(whole)),
        "and plan the same"
    );
    for (index, part) in parts.iter().enumerate() {
        let shard = Shard {
            index: index as u32,
            count,
        };
        for f in part["findings"].as_array().expect("findings") {
            assert!(owner_ok(shard, f), "shard {index} has {f:#}");
        }
        assert!(
            part["source"]
                .as_str()
                .is_some_and(|s| s.ends_with(&format!("(shard {index} of {count})"))),
            "{}",
            part["source"]
        );
    }
    // Every namespace and every node has exactly one shard (a shard may have no node: a
    // hash does not balance ten keys).
    for (what, keys) in [
        (
            "namespace",
            (0..NAMESPACES)
                .map(|i| format!("ns-{i:02}"))
                .collect::<Vec<_>>(),
        ),
        ("node", (0..NODES).map(|n| format!("n-{n}")).collect()),
    ] {
        for k in &keys {
            let owners: Vec<u32> = (0..count)
                .filter(|&index| {
                    let s = Shard { index, count };
                    if what == "node" {
                        s.owns_node(k)
                    } else {
                        s.owns_namespace(k)
                    }
                })
                .collect();
            assert_eq!(owners.len(), 1, "{what} {k}: {owners:?}");
        }
    }
}

#[test]
fn three_shards_of_a_snapshot_find_what_one_runner_finds() {
    let s = Setup::new();
    let snapshot = s.path("cluster");
    let source = ["--snapshot", snapshot.to_str().expect("path")];
    let whole = s.plan(None, &source);
    let parts: Vec<Value> = (0..3).map(|i| s.plan(Some((i, 3)), &source)).collect();
    assert_shards_cover_the_whole(&whole, &parts, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_shards_ask_each_kubelet_once() {
    let s = Setup::new();
    let server = TestApiServer::start(
        ServerConfig::new()
            .snapshot(s.path("cluster"))
            .token(SA_TOKEN, Identity::admin("rounds-admin")),
    )
    .await
    .expect("server");
    let kubeconfig = s.path("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, SA_TOKEN, "rounds")
        .expect("kubeconfig");
    let source = ["--kubeconfig", kubeconfig.to_str().expect("path")];
    let whole = s.plan(None, &source);
    server.requests().clear();
    let mut parts = Vec::new();
    for i in 0..4 {
        parts.push(s.plan(Some((i, 4)), &source));
    }
    assert_shards_cover_the_whole(&whole, &parts, 4);
    let mut summaries: Vec<String> = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.path.ends_with("/proxy/stats/summary"))
        .map(|r| r.path)
        .collect();
    summaries.sort();
    let expected: Vec<String> = (0..NODES)
        .map(|n| format!("/api/v1/nodes/n-{n}/proxy/stats/summary"))
        .collect();
    assert_eq!(
        summaries,
        sorted(expected),
        "each kubelet asked once, by its node's shard"
    );
}

#[test]
fn a_bad_shard_environment_is_invalid_input() {
    let s = Setup::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["plan", "--output", "json", "--snapshot"])
        .arg(s.path("cluster"))
        .arg("--playbooks")
        .arg(s.path("playbooks"))
        .env("ROUNDS_SHARDS", "3")
        .env("JOB_COMPLETION_INDEX", "3")
        .output()
        .expect("rounds");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("JOB_COMPLETION_INDEX=3 but ROUNDS_SHARDS=3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
