//! The `rounds-test-apiserver` binary: flags, kubeconfig and service-account files, fault file.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::fixtures;
use rounds_test_apiserver::client::Client;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_snapshots_and_writes_client_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let sa_dir = dir.path().join("serviceaccount");
    let faults = dir.path().join("faults.yaml");
    std::fs::write(
        &faults,
        "- method: GET\n  pathPrefix: /api/v1/namespaces/kube-system\n  action: { status: 503, retryAfterSeconds: 2 }\n",
    )
    .expect("fault file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rounds-test-apiserver"))
        .arg("--snapshot")
        .arg(fixtures().join("cluster"))
        .arg("--rbac")
        .arg(fixtures().join("rbac"))
        .args(["--token", "sa-token=system:serviceaccount:rounds:rounds"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--service-account-dir")
        .arg(&sa_dir)
        .args([
            "--service-account-token",
            "sa-token",
            "--namespace",
            "rounds",
        ])
        .arg("--faults")
        .arg(&faults)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the binary");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let mut url = String::new();
    BufReader::new(stdout)
        .read_line(&mut url)
        .expect("URL line");
    let url = url.trim().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    assert_eq!(
        std::fs::read_to_string(sa_dir.join("token")).expect("token"),
        "sa-token"
    );
    assert_eq!(
        std::fs::read_to_string(sa_dir.join("namespace")).expect("ns"),
        "rounds"
    );
    let ca = std::fs::read_to_string(sa_dir.join("ca.crt")).expect("ca.crt");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    let config: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    assert_eq!(config["clusters"][0]["cluster"]["server"], url.as_str());
    assert_eq!(config["current-context"], "admin");

    let address: SocketAddr = url.trim_start_matches("https://").parse().expect("address");
    let client = Client::from_parts(address, &ca, Some("sa-token")).expect("client");
    let pods = client.get("/api/v1/pods").await.expect("list");
    assert_eq!(pods.status, 200);
    assert_eq!(pods.json()["items"].as_array().map(Vec::len), Some(6));
    assert_eq!(
        client.get("/api/v1/secrets").await.expect("secrets").status,
        403
    );
    let faulted = client
        .get("/api/v1/namespaces/kube-system/pods")
        .await
        .expect("faulted");
    assert_eq!(faulted.status, 503);
    assert_eq!(
        faulted
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    drop(running);
}
