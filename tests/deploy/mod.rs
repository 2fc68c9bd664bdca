//! Test helpers for rounds as it is deployed: the manifests rendered by `kubectl kustomize`,
//! and a small kubelet that lays out ConfigMap, Secret and service-account volumes as a real one
//! does and runs the image (or the binary) the way the CronJob's pod spec says.

#![allow(dead_code)] // each test binary uses a part of it

pub mod jobs;
pub mod kubelet;
pub mod rbac;

use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Renders a kustomization under `manifests/` (e.g. `overlays/observe`) with the real kubectl.
pub fn render(kustomization: &str) -> Vec<Value> {
    let dir = repo("manifests").join(kustomization);
    let out = std::process::Command::new(std::env::var("KUBECTL").unwrap_or("kubectl".into()))
        .arg("kustomize")
        .arg(&dir)
        .output()
        .expect("kubectl is installed (scripts/test.sh checks)");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("kustomize prints YAML");
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    assert!(!docs.is_empty(), "{} renders nothing", dir.display());
    docs
}

/// The one rendered object of `kind` whose name starts with `name` (generated names carry a
/// hash suffix).
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            o["kind"] == kind
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n == name || n.starts_with(&format!("{name}-")))
        })
        .collect();
    match found.as_slice() {
        [one] => one,
        other => panic!("expected one {kind} {name}, found {}", other.len()),
    }
}

/// Writes the RBAC objects of a rendered overlay into `dir`, for `ServerConfig::rbac`.
pub fn write_rbac(objects: &[Value], dir: &Path) -> PathBuf {
    let rbac: Vec<&Value> = objects
        .iter()
        .filter(|o| o["apiVersion"] == "rbac.authorization.k8s.io/v1")
        .collect();
    assert!(!rbac.is_empty(), "no RBAC objects rendered");
    let path = dir.join("rbac.json");
    let text: String = rbac
        .iter()
        .map(|o| serde_json::to_string(o).expect("JSON"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, text).expect("write RBAC");
    path
}
