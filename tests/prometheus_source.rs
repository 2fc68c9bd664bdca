//! End-to-end: disk usage from a real Prometheus (Debian's `prometheus`, installed by
//! scripts/test.sh) scraping a test exporter of kubelet_volume_stats_* and node_filesystem_*.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GI: u64 = 1024 * 1024 * 1024;

/// The metrics a kubelet and a node exporter would expose for the demo cluster.
fn metrics() -> String {
    let pvc = |ns: &str, name: &str, used: u64, cap: u64, inodes_used: u64| {
        let l = format!(r#"namespace="{ns}",persistentvolumeclaim="{name}",node="node-a""#);
        format!(
            "kubelet_volume_stats_used_bytes{{{l}}} {used}\nkubelet_volume_stats_capacity_bytes{{{l}}} {cap}\n\
             kubelet_volume_stats_inodes_used{{{l}}} {inodes_used}\nkubelet_volume_stats_inodes{{{l}}} 1310720\n"
        )
    };
    let fs = |instance: &str, mount: &str, fstype: &str, size: u64, avail: u64| {
        let l = format!(
            r#"instance="{instance}",mountpoint="{mount}",fstype="{fstype}",device="/dev/nvme0n1p1""#
        );
        format!(
            "node_filesystem_size_bytes{{{l}}} {size}\nnode_filesystem_avail_bytes{{{l}}} {avail}\n"
        )
    };
    [
        "# TYPE kubelet_volume_stats_used_bytes gauge\n".to_owned(),
        pvc("data", "data-postgres-0", 19 * GI, 20 * GI, 1200),
        // Half full by bytes, but out of inodes.
        pvc("data", "logs-archive", 50 * GI, 100 * GI, 1_300_000),
        fs("node-a:9100", "/", "ext4", 100 * GI, 60 * GI),
        fs("node-b:9100", "/", "ext4", 100 * GI, 3 * GI),
        fs("node-b:9100", "/run", "tmpfs", GI, 0),
    ]
    .concat()
}

/// A one-route HTTP server for Prometheus to scrape.
fn start_exporter() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind exporter");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = metrics();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

fn start_prometheus(exporter: u16) -> Prometheus {
    let binary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!("\n\n!!! prometheus is not installed. scripts/test.sh installs Debian's `prometheus` package.\n")
        });
    let dir = tempfile::tempdir().expect("prometheus dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n- job_name: nodes\n  honor_labels: true\n  static_configs: [{{targets: ['127.0.0.1:{exporter}']}}]\n"
        ),
    )
    .expect("config");
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let prometheus = Prometheus {
        child,
        port,
        _dir: dir,
    };
    // Wait for the first scrape of both metric families.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = ["kubelet_volume_stats_inodes", "node_filesystem_avail_bytes"]
            .iter()
            .all(|m| {
                http_get(port, &format!("/api/v1/query?query={m}"))
                    .and_then(|b| serde_json::from_str::<Value>(&b).ok())
                    .is_some_and(|v| {
                        v["data"]["result"]
                            .as_array()
                            .is_some_and(|r| !r.is_empty())
                    })
            });
        if ready {
            return prometheus;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus did not scrape the exporter within 60s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn playbooks(dir: &Path) {
    std::fs::write(
        dir.join("pvc.yaml"),
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: pvc-prom}\nspec:\n  detect:\n    pvcUsage: {usedPercent: 85%, source: prometheus}\n  severity: critical\n  remediate:\n    - expandPvc: {max: 100Gi}\n",
    )
    .expect("playbook");
    std::fs::write(
        dir.join("node.yaml"),
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: node-fs-prom}\nspec:\n  detect:\n    nodeFilesystemUsage: {usedPercent: 90%, source: prometheus}\n  remediate:\n    - notifyOnly: {}\n",
    )
    .expect("playbook");
}

fn rounds(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rounds")
}

#[test]
fn disk_usage_from_prometheus_finds_full_claims_and_root_filesystems() {
    let prometheus = start_prometheus(start_exporter());
    let dir = tempfile::tempdir().expect("playbooks");
    playbooks(dir.path());
    let url = format!("http://127.0.0.1:{}", prometheus.port);
    let out = rounds(&[
        "plan",
        "--snapshot",
        "tests/fixtures/demo-cluster",
        "--playbooks",
        dir.path().to_str().expect("utf-8"),
        "--prometheus",
        &url,
        "--now",
        "2026-11-22T10:00:00Z",
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    let findings: Vec<(String, String, f64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["playbook"].as_str().unwrap_or("").to_owned(),
                format!(
                    "{} {}",
                    f["target"]["kind"].as_str().unwrap_or(""),
                    f["target"]["name"].as_str().unwrap_or("")
                ),
                f["evidence"]["usedPercent"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            ("node-fs-prom".to_owned(), "Node node-b".to_owned(), 97.0),
            (
                "pvc-prom".to_owned(),
                "PersistentVolumeClaim data-postgres-0".to_owned(),
                95.0
            ),
            (
                "pvc-prom".to_owned(),
                "PersistentVolumeClaim logs-archive".to_owned(),
                50.0
            ),
        ],
        "the 40%-full node and the tmpfs mount are quiet; kubelet summaries in the snapshot are not read"
    );
    let archive = &report["findings"][2];
    assert_eq!(archive["evidence"]["inodesUsedPercent"], 99.18);
    assert_eq!(archive["message"], "volume has used 99.18% of its inodes");
    let actions: Vec<&Value> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "expandPvc")
        .collect();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0]["status"], "planned");
    assert_eq!(
        actions[0]["patch"]["body"]["spec"]["resources"]["requests"]["storage"],
        "30Gi"
    );
    assert_eq!(actions[1]["status"], "skipped");
    assert_eq!(
        actions[1]["reason"],
        "StorageClass standard does not allow volume expansion"
    );
}

#[test]
fn a_prometheus_playbook_needs_a_prometheus() {
    let dir = tempfile::tempdir().expect("playbooks");
    playbooks(dir.path());
    let base = [
        "plan",
        "--snapshot",
        "tests/fixtures/demo-cluster",
        "--playbooks",
        dir.path().to_str().expect("utf-8"),
    ];
    let out = rounds(&base);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("give --prometheus URL or set prometheus.url")
    );
    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = rounds(&[&base[..], &["--prometheus", &closed]].concat());
    assert_eq!(
        out.status.code(),
        Some(2),
        "Prometheus down: the round could not run"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("cannot query Prometheus at {closed}"))
    );
}
