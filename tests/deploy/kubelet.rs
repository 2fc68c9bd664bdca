//! A small kubelet for tests: it lays out a pod's ConfigMap, Secret and service-account volumes
//! the way the real kubelet's atomic writer does (the files in a timestamped directory, `..data`
//! pointing at it, one symlink per key) and runs the pod's container as its spec says, either
//! from the image with podman or as a plain process in a private mount namespace with the same
//! mounts, user, environment and arguments.

use base64::Engine as _;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use rounds_test_apiserver::TestApiServer;
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// Where the service-account token, CA and namespace appear in a pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The podman configuration our machines need (runc, no default rlimits, cgroupfs).
pub fn containers_conf() -> String {
    std::env::var("CONTAINERS_CONF")
        .unwrap_or_else(|_| super::repo("scripts/containers.conf").display().to_string())
}

/// The image under test: `$ROUNDS_IMAGE` (scripts/test.sh builds it once per run), else built
/// here once with scripts/build-image.sh (a release build: minutes).
pub fn image() -> String {
    static IMAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IMAGE
        .get_or_init(|| {
            if let Ok(image) = std::env::var("ROUNDS_IMAGE") {
                return image;
            }
            eprintln!("ROUNDS_IMAGE is not set: building the image with scripts/build-image.sh");
            let out = std::process::Command::new(super::repo("scripts/build-image.sh"))
                .env("IMAGE", "localhost/rounds:test")
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("run scripts/build-image.sh");
            assert!(out.status.success(), "scripts/build-image.sh failed");
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .expect("the image reference")
                .to_owned()
        })
        .clone()
}

/// Files of a volume: key → bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// A ConfigMap's keys as files (`data` as text, `binaryData` decoded).
pub fn config_map_files(cm: &Value) -> Files {
    let mut files = Files::new();
    for (k, v) in cm["data"].as_object().into_iter().flatten() {
        files.insert(
            k.clone(),
            v.as_str().expect("string data").as_bytes().to_vec(),
        );
    }
    for (k, v) in cm["binaryData"].as_object().into_iter().flatten() {
        files.insert(k.clone(), decode(v));
    }
    files
}

/// A Secret's keys as files (`data` decoded; `stringData` as the API server would merge it).
pub fn secret_files(secret: &Value) -> Files {
    let mut files = Files::new();
    for (k, v) in secret["data"].as_object().into_iter().flatten() {
        files.insert(k.clone(), decode(v));
    }
    for (k, v) in secret["stringData"].as_object().into_iter().flatten() {
        files.insert(k.clone(), v.as_str().expect("string").as_bytes().to_vec());
    }
    files
}

fn decode(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 string"))
        .expect("valid base64")
}

/// Lays out `files` in `dir` as the kubelet's atomic writer does, with `mode` and, when the pod
/// has an fsGroup, that group owning the files.
pub fn atomic_volume(dir: &Path, files: &Files, mode: u32, group: Option<u32>) {
    std::fs::create_dir_all(dir).expect("volume dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let stamp = "..2026_01_01_00_00_00.000000001";
    let data = dir.join(stamp);
    std::fs::create_dir(&data).expect("timestamped dir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for (key, bytes) in files {
        let file = data.join(key);
        std::fs::write(&file, bytes).expect("write volume file");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
        if let Some(gid) = group {
            std::os::unix::fs::chown(&file, Some(0), Some(gid)).expect("chown");
        }
    }
    symlink(stamp, dir.join("..data")).expect("..data");
    for key in files.keys() {
        symlink(format!("..data/{key}"), dir.join(key)).expect("key symlink");
    }
}

/// A pod ready to run: its container, the host directories of its volumes, its user and env.
pub struct Pod {
    pub container: Container,
    /// (host directory, path in the container, read-only)
    pub mounts: Vec<(PathBuf, String, bool)>,
    pub env: Vec<(String, String)>,
    pub user: i64,
    pub group: i64,
    pub fs_group: Option<i64>,
    pub read_only_root: bool,
    pub drop_all: bool,
    pub no_new_privileges: bool,
    /// podman's `--memory` (binary units), from the memory limit.
    pub memory: Option<String>,
    _dir: tempfile::TempDir,
}

/// Where a pod's ConfigMaps and Secrets come from: rendered manifests or the server's store.
pub trait Objects {
    fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value>;
}

impl Objects for [Value] {
    fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        self.iter()
            .find(|o| {
                o["kind"] == kind
                    && o["metadata"]["name"] == name
                    && o["metadata"]["namespace"].as_str().unwrap_or(namespace) == namespace
            })
            .cloned()
    }
}

impl Objects for TestApiServer {
    fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let resource = match kind {
            "ConfigMap" => "configmaps",
            "Secret" => "secrets",
            other => panic!("the test kubelet does not mount {other}"),
        };
        self.object("", resource, namespace, name)
    }
}

/// Prepares the pod of `spec` in `namespace`: every volume laid out (a missing ConfigMap or
/// Secret that is not optional is a pod that cannot start), the service-account token of `token`
/// mounted when the pod automounts it, and KUBERNETES_SERVICE_HOST/PORT pointing at `server`.
pub fn prepare(
    spec: &PodSpec,
    namespace: &str,
    objects: &(impl Objects + ?Sized),
    server: &TestApiServer,
    token: &str,
) -> Pod {
    let dir = tempfile::tempdir().expect("pod dir");
    let pod_security = spec.security_context.clone().unwrap_or_default();
    let fs_group = pod_security.fs_group;
    let [container] = spec.containers.as_slice() else {
        panic!("rounds' pod has one container");
    };
    let security = container.security_context.clone().unwrap_or_default();
    let mut volumes: BTreeMap<String, PathBuf> = BTreeMap::new();
    for v in spec.volumes.iter().flatten() {
        let host = dir.path().join("volumes").join(&v.name);
        let gid = fs_group.map(|g| g as u32);
        if let Some(cm) = &v.config_map {
            let found = objects.get("ConfigMap", namespace, &cm.name);
            let files = match found {
                Some(o) => config_map_files(&o),
                None if cm.optional == Some(true) => Files::new(),
                None => panic!(
                    "ConfigMap {namespace}/{} is missing: the pod cannot start",
                    cm.name
                ),
            };
            atomic_volume(&host, &files, cm.default_mode.unwrap_or(0o644) as u32, gid);
        } else if let Some(s) = &v.secret {
            let name = s.secret_name.clone().expect("secretName");
            let files = match objects.get("Secret", namespace, &name) {
                Some(o) => secret_files(&o),
                None if s.optional == Some(true) => Files::new(),
                None => panic!("Secret {namespace}/{name} is missing: the pod cannot start"),
            };
            atomic_volume(&host, &files, s.default_mode.unwrap_or(0o644) as u32, gid);
        } else {
            panic!("the test kubelet mounts only ConfigMap and Secret volumes, not {v:?}");
        }
        volumes.insert(v.name.clone(), host);
    }
    let mut mounts = Vec::new();
    for m in container.volume_mounts.iter().flatten() {
        let host = volumes
            .get(&m.name)
            .unwrap_or_else(|| panic!("volumeMount {} names no volume", m.name));
        mounts.push((
            host.clone(),
            m.mount_path.clone(),
            m.read_only == Some(true),
        ));
    }
    if spec.automount_service_account_token == Some(true) {
        let raw = dir.path().join("sa-raw");
        server
            .write_service_account_dir(&raw, token, namespace)
            .expect("service-account files");
        let mut files = Files::new();
        for f in ["token", "ca.crt", "namespace"] {
            files.insert(f.into(), std::fs::read(raw.join(f)).expect("read"));
        }
        let host = dir.path().join("volumes").join("kube-api-access");
        atomic_volume(&host, &files, 0o644, fs_group.map(|g| g as u32));
        mounts.push((host, SERVICE_ACCOUNT_DIR.into(), true));
    }
    let mut env: Vec<(String, String)> = container
        .env
        .iter()
        .flatten()
        .map(|e| {
            let value = e
                .value
                .clone()
                .unwrap_or_else(|| panic!("env {} has no plain value", e.name));
            (e.name.clone(), value)
        })
        .collect();
    env.push(("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into()));
    env.push((
        "KUBERNETES_SERVICE_PORT".into(),
        server.address().port().to_string(),
    ));
    let user = security
        .run_as_user
        .or(pod_security.run_as_user)
        .expect("a numeric runAsUser");
    let group = security
        .run_as_group
        .or(pod_security.run_as_group)
        .unwrap_or(user);
    let non_root = security.run_as_non_root.or(pod_security.run_as_non_root);
    assert!(
        non_root != Some(true) || user != 0,
        "runAsNonRoot with user 0: the kubelet refuses to start it"
    );
    let drop_all = security
        .capabilities
        .as_ref()
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|c| c == "ALL"));
    let memory = container
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get("memory"))
        .map(|q| podman_memory(&q.0));
    Pod {
        container: container.clone(),
        mounts,
        env,
        user,
        group,
        fs_group,
        read_only_root: security.read_only_root_filesystem == Some(true),
        drop_all,
        no_new_privileges: security.allow_privilege_escalation == Some(false),
        memory,
        _dir: dir,
    }
}

/// "128Mi" → "128m" (podman's units are binary).
fn podman_memory(q: &str) -> String {
    for (suffix, unit) in [("Ki", "k"), ("Mi", "m"), ("Gi", "g")] {
        if let Some(n) = q.strip_suffix(suffix) {
            return format!("{n}{unit}");
        }
    }
    panic!("memory limit {q:?}: write it in Ki, Mi or Gi");
}

impl Pod {
    /// The container's arguments.
    pub fn args(&self) -> Vec<String> {
        self.container.args.clone().unwrap_or_default()
    }

    /// `podman run` of `image` as the kubelet would run this container, with `args` (usually
    /// [`Pod::args`]); `name` names the container (so that a test can signal or remove it).
    pub fn podman(&self, image: &str, name: &str, args: &[String]) -> std::process::Command {
        let mut cmd = std::process::Command::new("podman");
        cmd.env("CONTAINERS_CONF", containers_conf());
        cmd.args(["run", "--rm", "--pull", "never", "--network", "host"]);
        cmd.args(["--name", name]);
        cmd.arg(format!("--user={}:{}", self.user, self.group));
        if let Some(g) = self.fs_group {
            cmd.arg(format!("--group-add={g}"));
        }
        if self.read_only_root {
            cmd.arg("--read-only");
        }
        if self.drop_all {
            cmd.args(["--cap-drop", "ALL"]);
        }
        if self.no_new_privileges {
            cmd.args(["--security-opt", "no-new-privileges"]);
        }
        if let Some(m) = &self.memory {
            cmd.arg(format!("--memory={m}"));
        }
        for (host, path, ro) in &self.mounts {
            let ro = if *ro { ":ro" } else { "" };
            cmd.arg("-v").arg(format!("{}:{path}{ro}", host.display()));
        }
        for (k, v) in &self.env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        if let Some(command) = &self.container.command {
            cmd.arg("--entrypoint").arg(command.join(" "));
        }
        cmd.arg(image);
        cmd.args(args);
        cmd
    }

    /// The same container as a plain process: a private mount namespace in which /etc and /run
    /// are empty (as in a FROM scratch image) and the volumes are bind-mounted at their paths,
    /// run as the pod's user with the pod's environment only.
    pub fn process(&self, binary: &Path, args: &[String]) -> std::process::Command {
        let mut script =
            String::from("set -e; mount -t tmpfs tmpfs /etc; mount -t tmpfs tmpfs /run; ");
        for (i, (_, path, ro)) in self.mounts.iter().enumerate() {
            script.push_str(&format!(
                "mkdir -p '{path}'; mount --bind \"$M{i}\" '{path}'; {}",
                if *ro {
                    format!("mount -o remount,bind,ro '{path}'; ")
                } else {
                    String::new()
                }
            ));
        }
        let groups = self
            .fs_group
            .map(|g| format!("--groups={g}"))
            .unwrap_or_else(|| "--clear-groups".into());
        let unset: String = (0..self.mounts.len())
            .map(|i| format!("-u M{i} "))
            .collect();
        script.push_str(&format!(
            "exec /usr/bin/env {unset}/usr/bin/setpriv --reuid={} --regid={} {groups} -- \"$0\" \"$@\"",
            self.user, self.group
        ));
        let mut cmd = std::process::Command::new("/usr/bin/unshare");
        cmd.env_clear();
        cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (i, (host, _, _)) in self.mounts.iter().enumerate() {
            cmd.env(format!("M{i}"), host);
        }
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
        ]);
        cmd.arg(binary);
        cmd.args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }
}
