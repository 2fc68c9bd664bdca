//! The scratch image has no /etc/ssl: a kubeconfig whose cluster names no CA (an API server
//! with a publicly trusted certificate) must still give a client that dials, with the Mozilla
//! roots compiled into the binary, instead of failing before the first request because the
//! system has no certificates.

mod deploy;

use deploy::kubelet;
use std::io::Read as _;
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn a_kubeconfig_without_a_ca_dials_from_the_scratch_image() {
    let image = kubelet::image();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("address").port();
    let dir = tempfile::tempdir().expect("tmp");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\n\
             clusters: [{{name: c, cluster: {{server: \"https://127.0.0.1:{port}\"}}}}]\n\
             users: [{{name: u, user: {{token: not-a-secret}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u, namespace: rounds}}}}]\n\
             current-context: c\n"
        ),
    )
    .expect("kubeconfig");
    std::fs::set_permissions(
        &kubeconfig,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .expect("readable by the image's user");

    let accepted = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("rounds dials the API server");
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut head = [0u8; 3];
        conn.read_exact(&mut head).expect("the first bytes");
        head
    });
    let out = std::process::Command::new("podman")
        .env("CONTAINERS_CONF", kubelet::containers_conf())
        .args(["run", "--rm", "--pull", "never", "--network", "host"])
        .args(["--read-only", "--cap-drop", "ALL", "--user", "65532:65532"])
        .args(["--security-opt", "no-new-privileges"])
        .arg("-v")
        .arg(format!("{}:/kubeconfig:ro", kubeconfig.display()))
        .arg("-v")
        .arg(format!(
            "{}:/etc/rounds/playbooks:ro",
            deploy::repo("playbooks").display()
        ))
        .arg(&image)
        .args(["plan", "--kubeconfig", "/kubeconfig", "--deadline", "5s"])
        .args(["--playbooks", "/etc/rounds/playbooks", "--output", "json"])
        .output()
        .expect("podman run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let head = accepted.join().expect("listener thread");
    // A TLS handshake record (0x16) of TLS 1.x (0x03 ..): the client was built and dialled.
    assert_eq!(head[..2], [0x16, 0x03], "not a TLS ClientHello: {stderr}");
    assert!(!stderr.contains("CA certificates"), "{stderr}");
    // The listener is no API server, so the round cannot run: exit 2, as documented.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}
