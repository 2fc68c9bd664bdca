//! What the guarded end-to-end tests share: a test API server seeded from YAML, rounds' service
//! account with the RBAC of `manifests/` (read-only role and the remediate overlay), playbooks
//! in a temporary directory, and the compiled binary run against it.

#![allow(dead_code)]

use rounds_test_apiserver::{Identity, RequestRecord, ServerConfig, TestApiServer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

pub const NOW: &str = "2026-11-22T10:00:00Z";
pub const SA_TOKEN: &str = "rounds-sa-token";
pub const SA_USER: &str = "system:serviceaccount:rounds:rounds";

pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Objects from a multi-document YAML text.
pub fn yaml(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .expect("test YAML")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// The namespaces every test cluster has.
pub const NAMESPACES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: rounds}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Node
metadata: {name: node-a}
status:
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status:
  conditions: [{type: Ready, status: "True"}]
"#;

pub struct Cluster {
    pub server: TestApiServer,
    pub home: tempfile::TempDir,
    pub playbooks: PathBuf,
    pub kubeconfig: PathBuf,
}

/// One run of the binary.
pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// The JSON report; the run must have ended with `code`.
    pub fn report_with(&self, code: i32) -> Value {
        assert_eq!(
            self.code(),
            Some(code),
            "rounds ended with {:?}: {}\n{}",
            self.code(),
            self.stderr(),
            String::from_utf8_lossy(&self.out.stdout)
        );
        serde_json::from_slice(&self.out.stdout).expect("a JSON report")
    }

    pub fn report(&self) -> Value {
        self.report_with(0)
    }
}

impl Cluster {
    /// A server with the namespaces above and `objects`.
    pub async fn start(objects: &str) -> Self {
        Self::start_with_files(objects, &[]).await
    }

    /// Also seeded from snapshot files (kubelet summaries), given as (file name, text).
    pub async fn start_with_files(objects: &str, files: &[(&str, &str)]) -> Self {
        let seed = tempfile::tempdir().expect("seed dir");
        let mut config = ServerConfig::new()
            .rbac(repo("manifests"))
            .token(SA_TOKEN, Identity::service_account("rounds", "rounds"));
        for (name, text) in files {
            let path = seed.path().join(name);
            std::fs::write(&path, text).expect("seed file");
            config = config.snapshot(path);
        }
        for o in yaml(NAMESPACES).into_iter().chain(yaml(objects)) {
            config = config.object(o);
        }
        let server = TestApiServer::start(config)
            .await
            .expect("test API server starts");
        let home = tempfile::tempdir().expect("home");
        let playbooks = home.path().join("playbooks");
        std::fs::create_dir(&playbooks).expect("playbooks dir");
        let kubeconfig = home.path().join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig, SA_TOKEN, "rounds")
            .expect("kubeconfig");
        Self {
            server,
            home,
            playbooks,
            kubeconfig,
        }
    }

    /// Adds a playbook file.
    pub fn playbook(&self, name: &str, text: &str) {
        std::fs::write(self.playbooks.join(format!("{name}.yaml")), text).expect("playbook");
    }

    /// Starts `rounds COMMAND ...` against the server (the caller waits or kills it).
    pub fn command(&self, command: &str, extra: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"));
        cmd.arg(command)
            .arg("--playbooks")
            .arg(&self.playbooks)
            .args(["--now", NOW, "--output", "json", "--kubeconfig"])
            .arg(&self.kubeconfig)
            .args(extra)
            .env("HOME", self.home.path())
            .env("HOSTNAME", "rounds-test-pod")
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    pub async fn rounds(&self, command: &str, extra: &[&str]) -> Run {
        let out = self
            .command(command, extra)
            .output()
            .await
            .expect("run rounds");
        Run { out }
    }

    pub async fn plan(&self) -> Run {
        self.rounds("plan", &[]).await
    }

    pub async fn dry_run(&self) -> Run {
        self.rounds("run", &[]).await
    }

    pub async fn apply(&self) -> Run {
        self.rounds("run", &["--apply"]).await
    }

    /// Every stored object of the kinds rounds could touch, keyed by kind/namespace/name,
    /// without rounds' own namespace (the ledger and the lease are rounds' bookkeeping).
    pub fn state(&self) -> std::collections::BTreeMap<String, Value> {
        let mut out = std::collections::BTreeMap::new();
        for (group, resource) in [
            ("", "pods"),
            ("", "nodes"),
            ("", "persistentvolumeclaims"),
            ("apps", "deployments"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("apps", "replicasets"),
            ("batch", "jobs"),
            ("batch", "cronjobs"),
            ("", "configmaps"),
        ] {
            for o in self.server.objects(group, resource) {
                let ns = o["metadata"]["namespace"].as_str().unwrap_or_default();
                if ns == "rounds" {
                    continue;
                }
                let name = o["metadata"]["name"].as_str().unwrap_or_default();
                out.insert(format!("{resource}/{ns}/{name}"), o);
            }
        }
        out
    }

    /// Requests other than reads, in order.
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.server
            .requests()
            .records()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    /// Writes to anything but rounds' own ledger and lease (targets and Events).
    pub fn target_writes(&self) -> Vec<RequestRecord> {
        self.writes()
            .into_iter()
            .filter(|r| !r.path.starts_with("/api/v1/namespaces/rounds/configmaps/"))
            .filter(|r| r.path != "/api/v1/namespaces/rounds/configmaps")
            .filter(|r| !r.path.starts_with("/apis/coordination.k8s.io/"))
            .collect()
    }

    /// The ledger document as stored (the primary ConfigMap's ledger.json, shards joined).
    pub fn ledger(&self) -> Value {
        let cm = self
            .server
            .object("", "configmaps", "rounds", "rounds-ledger")
            .expect("the ledger ConfigMap exists");
        if let Some(text) = cm["data"]["ledger.json"].as_str() {
            return serde_json::from_str(text).expect("ledger JSON");
        }
        let mut text = String::new();
        for name in cm["data"]["shards"].as_str().expect("shards").split(',') {
            let shard = self
                .server
                .object("", "configmaps", "rounds", name)
                .expect("shard exists");
            text.push_str(shard["data"]["ledger.json"].as_str().expect("shard text"));
        }
        serde_json::from_str(&text).expect("ledger JSON")
    }
}

/// The report's action for `action`, which must be there once.
pub fn action<'a>(report: &'a Value, action: &str) -> &'a Value {
    let found: Vec<&Value> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == action)
        .collect();
    assert_eq!(found.len(), 1, "one {action} in {:#}", report["actions"]);
    found[0]
}

/// The value at a dotted path where list elements are found by their `name`
/// (`spec.template.spec.containers[api].resources`).
pub fn at<'a>(object: &'a Value, path: &[PathKey]) -> Option<&'a Value> {
    let mut v = object;
    for k in path {
        v = match k {
            PathKey::Key(k) => v.get(k.as_str())?,
            PathKey::Named(n) => v
                .as_array()?
                .iter()
                .find(|e| e["name"].as_str() == Some(n.as_str()))?,
        };
    }
    Some(v)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathKey {
    Key(String),
    Named(String),
}

/// Every leaf of a patch body, with its path (list elements by their name).
pub fn leaves(patch: &Value) -> Vec<(Vec<PathKey>, Value)> {
    fn walk(v: &Value, path: &mut Vec<PathKey>, out: &mut Vec<(Vec<PathKey>, Value)>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    path.push(PathKey::Key(k.clone()));
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(items) if items.iter().all(|i| i["name"].is_string()) => {
                for item in items {
                    let name = item["name"].as_str().unwrap_or_default().to_owned();
                    path.push(PathKey::Named(name));
                    // The name is the merge key that finds the element, not a change.
                    for (k, v) in item.as_object().into_iter().flatten() {
                        if k != "name" {
                            path.push(PathKey::Key(k.clone()));
                            walk(v, path, out);
                            path.pop();
                        }
                    }
                    path.pop();
                }
            }
            other => out.push((path.clone(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk(patch, &mut Vec::new(), &mut out);
    out
}

/// Removes empty maps left behind (after removing the leaves a patch added).
pub fn prune_empty(v: &mut Value) {
    if let Value::Object(map) = v {
        for child in map.values_mut() {
            prune_empty(child);
        }
        map.retain(|_, c| !c.as_object().is_some_and(|m| m.is_empty()));
    }
}

/// An object without what every write changes on its own.
pub fn without_bookkeeping(mut o: Value) -> Value {
    if let Some(meta) = o["metadata"].as_object_mut() {
        for k in ["resourceVersion", "generation", "managedFields"] {
            meta.remove(k);
        }
    }
    o
}

/// Removes the leaf at `path` (to compare what a patch did not touch).
pub fn remove_at(object: &mut Value, path: &[PathKey]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut v = object;
    for k in parent {
        let next = match k {
            PathKey::Key(k) => v.get_mut(k.as_str()),
            PathKey::Named(n) => v.as_array_mut().and_then(|items| {
                items
                    .iter_mut()
                    .find(|e| e["name"].as_str() == Some(n.as_str()))
            }),
        };
        match next {
            Some(n) => v = n,
            None => return,
        }
    }
    if let (PathKey::Key(k), Some(map)) = (last, v.as_object_mut()) {
        map.remove(k);
    }
}
