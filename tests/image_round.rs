//! The FROM scratch image, built by scripts/build-image.sh and run with podman as the CronJob's
//! pod spec says (non-root, read-only root, no capabilities, no privilege escalation, the
//! service account, ConfigMaps and the Secret mounted with the kubelet's `..data` layout,
//! KUBERNETES_SERVICE_HOST/PORT set): a live round in it against the test API server gives the
//! report the binary gives outside the image.

mod deploy;
#[allow(dead_code)] // the receiver serves other tests too
#[path = "receivers/http.rs"]
mod receivers;

use deploy::kubelet::{self, Pod};
use deploy::{find, render};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::PodSpec;
use rounds_test_apiserver::{Identity, ServerConfig, TestApiServer};
use serde_json::Value;
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-22T10:00:00Z";
const SA_TOKEN: &str = "rounds-pod-token";
/// The webhook's bearer token, read from the Secret volume; it must never be printed.
const WEBHOOK_TOKEN: &str = "webhook-token-5ecr3t-77aa";

/// The observe overlay and the example Secret, with the runner config and the Secret changed
/// as a user would: a webhook channel to `receiver`, its URL and bearer token in the Secret.
fn objects_notifying(receiver: &receivers::Receiver) -> Vec<Value> {
    let mut objects = render("overlays/observe");
    objects.extend(render("examples"));
    for o in &mut objects {
        if o["kind"] == "ConfigMap"
            && o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("rounds-config"))
        {
            let config = o["data"]["config.yaml"]
                .as_str()
                .expect("config")
                .to_owned();
            o["data"]["config.yaml"] = Value::from(format!(
                "{config}notifications:\n  channels:\n    hook:\n      webhook: {{ urlFile: webhook-url, bearerTokenFile: webhook-token }}\n  routes:\n    - name: all\n      channels: [hook]\n"
            ));
        }
        if o["kind"] == "Secret" {
            o["stringData"]["webhook-url"] = Value::from(receiver.url("/alerts"));
            o["stringData"]["webhook-token"] = Value::from(WEBHOOK_TOKEN);
        }
    }
    objects
}

fn pod_spec(objects: &[Value]) -> PodSpec {
    let cj: CronJob =
        serde_json::from_value(find(objects, "CronJob", "rounds").clone()).expect("CronJob");
    cj.spec
        .job_template
        .spec
        .and_then(|s| s.template.spec)
        .expect("a pod template")
}

/// The demo cluster, enforcing the RBAC the observe overlay renders.
async fn server(objects: &[Value], dir: &std::path::Path) -> TestApiServer {
    TestApiServer::start(
        ServerConfig::new()
            .snapshot(deploy::repo("tests/fixtures/demo-cluster"))
            .rbac(deploy::write_rbac(objects, dir))
            .token(SA_TOKEN, Identity::service_account("rounds", "rounds")),
    )
    .await
    .expect("test API server starts")
}

/// The container's arguments with `--output json` and a fixed reference time, so that two
/// rounds can be compared.
fn comparable(pod: &Pod) -> Vec<String> {
    let mut args = pod.args();
    if let Some(i) = args.iter().position(|a| a == "--output") {
        args.drain(i..i + 2);
    }
    args.extend(["--output", "json", "--now", NOW].map(String::from));
    args
}

struct Ran {
    report: Value,
    stderr: String,
    /// From spawning the process to the first request the server saw.
    first_request: Duration,
}

async fn run(mut cmd: std::process::Command, server: &TestApiServer) -> Ran {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let mut child = tokio::process::Command::from(cmd)
        .spawn()
        .expect("spawn the round");
    let mut first_request = None;
    while first_request.is_none() {
        if !server.requests().records().is_empty() {
            first_request = Some(started.elapsed());
        } else if child.try_wait().expect("poll").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the round ends within 2 minutes")
        .expect("round output");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "the round failed ({:?}): {stderr}",
        out.status.code()
    );
    Ran {
        report: serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}): {}{stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        }),
        stderr,
        first_request: first_request.expect("the round made a request"),
    }
}

/// The report without what differs between two rounds on two servers: the URL's port, and the
/// run id's per-process nonce (wherever the run id appears, e.g. in planned annotations).
fn normalized(report: &Value) -> Value {
    let mut r = report.clone();
    r["source"] = Value::from("cluster");
    // A `rounds run` id ends in a per-process nonce (two rounds started in the same second are
    // told apart); it shows wherever the run is named (the audit annotation in each patch).
    let id = r["runId"].as_str().unwrap_or_default().to_owned();
    if id.is_empty() {
        return r;
    }
    let text = r.to_string().replace(&id, "RUN-ID");
    serde_json::from_str(&text).unwrap_or(r)
}

fn only_service_account_requests(server: &TestApiServer) {
    let records = server.requests().records();
    assert!(!records.is_empty());
    for r in records {
        assert_eq!(
            r.user.as_deref(),
            Some("system:serviceaccount:rounds:rounds"),
            "{r:?}"
        );
        // rounds' own state that does not exist yet (a missing lease, ledger or pause switch
        // is made or read as empty), and dry runs of the changes read-only RBAC refuses (each is
        // reported as skipped by `forbidden`, naming what to grant) are the expected answers.
        let own = r.path.starts_with("/api/v1/namespaces/rounds/configmaps/")
            || r.path
                .starts_with("/apis/coordination.k8s.io/v1/namespaces/rounds/leases/");
        let refused_dry_run = r.status == 403 && r.query.contains("dryRun=All");
        assert!(
            r.status < 400 || (own && r.status == 404) || refused_dry_run,
            "RBAC of the observe overlay refused {r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_makes_the_round_the_binary_makes() {
    let image = kubelet::image();
    let receiver_image = receivers::Receiver::start(receivers::Reply::status(200, "{}"));
    let receiver_binary = receivers::Receiver::start(receivers::Reply::status(200, "{}"));
    let objects = objects_notifying(&receiver_image);
    let spec = pod_spec(&objects);
    let tmp = tempfile::tempdir().expect("tmp");

    let in_image = server(&objects, tmp.path()).await;
    let pod = kubelet::prepare(&spec, "rounds", objects.as_slice(), &in_image, SA_TOKEN);
    let name = format!("rounds-image-test-{}", std::process::id());
    let cmd = pod.podman(&image, &name, &comparable(&pod));
    let from_image = run(cmd, &in_image).await;
    only_service_account_requests(&in_image);

    let outside = server(&objects, tmp.path()).await;
    let objects = objects_notifying(&receiver_binary);
    let pod = kubelet::prepare(&spec, "rounds", objects.as_slice(), &outside, SA_TOKEN);
    // The very binary of the image, so that only the container differs.
    let binary = tmp.path().join("rounds");
    std::fs::write(&binary, image_root_file(&image, "rounds")).expect("copy the binary");
    std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let cmd = pod.process(&binary, &comparable(&pod));
    let from_binary = run(cmd, &outside).await;
    only_service_account_requests(&outside);

    let text = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    assert_eq!(
        text(&normalized(&from_image.report)),
        text(&normalized(&from_binary.report)),
        "the image's report differs from the binary's"
    );
    assert!(
        from_image.report["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "the demo cluster has findings"
    );
    // In-cluster mode in the image: the service account's token, not a kubeconfig.
    assert!(
        from_image.report["source"]
            .as_str()
            .is_some_and(|s| s.contains("127.0.0.1")),
        "{}",
        from_image.report["source"]
    );
    // The webhook got the round's notifications with the token from the Secret volume, and the
    // token was printed nowhere.
    for (receiver, ran) in [
        (&receiver_image, &from_image),
        (&receiver_binary, &from_binary),
    ] {
        let got = receiver.requests();
        assert!(!got.is_empty(), "no notification arrived");
        for r in &got {
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {WEBHOOK_TOKEN}").as_str())
            );
        }
        assert!(
            !ran.stderr.contains(WEBHOOK_TOKEN) && !ran.report.to_string().contains(WEBHOOK_TOKEN)
        );
        let sent = ran.report["notifications"]
            .as_array()
            .expect("notifications");
        assert!(
            sent.iter().any(|n| n["status"] == "sent")
                && sent
                    .iter()
                    .all(|n| n["status"] == "sent" || n["status"] == "suppressed"),
            "{sent:?}"
        );
    }
    // The CronJob asks for JSON logs: every line has the run id, the last one the report.
    for ran in [&from_image, &from_binary] {
        let lines: Vec<Value> = ran
            .stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        assert!(!lines.is_empty());
        for l in &lines {
            assert_eq!(l["runId"], ran.report["runId"], "{l}");
        }
        let last = lines.last().expect("a last line");
        assert_eq!(
            last["report"], ran.report,
            "the last log line is the report"
        );
        assert_eq!(last["exitCode"], 0);
    }
    eprintln!(
        "start-up to the first API request: image {:?} (podman run), the same binary {:?} (a process)",
        from_image.first_request, from_binary.first_request
    );
}

/// What `podman image inspect` says about the image.
fn inspect(image: &str, format: &str) -> String {
    let out = std::process::Command::new("podman")
        .env("CONTAINERS_CONF", kubelet::containers_conf())
        .args(["image", "inspect", "--format", format, image])
        .output()
        .expect("podman image inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs `f` on the image's root filesystem (mounted read-only by podman).
fn with_image_root<T>(image: &str, f: impl FnOnce(&std::path::Path) -> T) -> T {
    let out = std::process::Command::new("podman")
        .env("CONTAINERS_CONF", kubelet::containers_conf())
        .args(["image", "mount", image])
        .output()
        .expect("podman image mount");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let result = f(&root);
    let _ = std::process::Command::new("podman")
        .env("CONTAINERS_CONF", kubelet::containers_conf())
        .args(["image", "unmount", image])
        .output();
    result
}

fn image_root_file(image: &str, name: &str) -> Vec<u8> {
    with_image_root(image, |root| {
        std::fs::read(root.join(name)).expect("a file of the image")
    })
}

#[test]
fn the_image_holds_only_the_static_binary_and_runs_as_a_numeric_user() {
    let image = kubelet::image();
    let config: Value = serde_json::from_str(&inspect(&image, "{{json .Config}}")).expect("JSON");
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/rounds"]));
    // Every file of the image's root: the binary, nothing else (no shell, no certificates).
    let (files, binary) = with_image_root(&image, |root| {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).expect("read the image root") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p.clone());
                }
                files.push(p.strip_prefix(root).expect("below").display().to_string());
            }
        }
        (files, std::fs::read(root.join("rounds")).expect("/rounds"))
    });
    assert_eq!(files, vec!["rounds".to_owned()]);
    // Static: no program interpreter (ld-linux) named in the ELF headers.
    assert_eq!(&binary[..4], b"\x7fELF");
    assert!(
        !binary[..4096.min(binary.len())]
            .windows(8)
            .any(|w| w == b"ld-linux"),
        "/rounds is dynamically linked"
    );
    eprintln!(
        "image {image}: {} bytes; binary: {} bytes",
        inspect(&image, "{{.Size}}"),
        binary.len()
    );
}
