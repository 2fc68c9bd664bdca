//! The README's install, then scripts/run-once.sh, against the test API server: `kubectl apply -k`
//! of an overlay, a manual Job created from the CronJob's template with the script's options in
//! its environment, the round run from the image by a test kubelet (tests/deploy/jobs.rs; the
//! test API server runs nothing itself), its logs followed, and its exit code returned.

mod deploy;

use deploy::jobs::Controller;
use deploy::{kubelet, repo};
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, Identity, ServerConfig, TestApiServer};
use serde_json::Value;
use std::sync::Arc;

const SA_TOKEN: &str = "rounds-pod-token";

struct Cluster {
    server: Arc<TestApiServer>,
    home: tempfile::TempDir,
    controller: Option<Controller>,
}

impl Cluster {
    /// The demo cluster with `overlay` installed as the README says, and a test kubelet.
    async fn with(overlay: &str) -> Self {
        let server = TestApiServer::start(
            ServerConfig::new()
                .snapshot(repo("tests/fixtures/demo-cluster"))
                .token(SA_TOKEN, Identity::service_account("rounds", "rounds")),
        )
        .await
        .expect("test API server starts");
        let home = tempfile::tempdir().expect("home");
        server
            .write_kubeconfig(
                &home.path().join("kubeconfig"),
                DEFAULT_ADMIN_TOKEN,
                "default",
            )
            .expect("kubeconfig");
        let cluster = Self {
            server: Arc::new(server),
            home,
            controller: None,
        };
        for k in [format!("manifests/{overlay}"), "manifests/examples".into()] {
            let out = cluster.kubectl(&["apply", "-k", &k]);
            assert!(
                out.status.success(),
                "kubectl apply -k {k}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Self {
            controller: Some(Controller::start(
                cluster.server.clone(),
                "rounds",
                kubelet::image(),
                SA_TOKEN,
            )),
            ..cluster
        }
    }

    fn command(&self, program: &std::path::Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(repo(""))
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.home.path().join("kubeconfig"));
        cmd
    }

    fn kubectl(&self, args: &[&str]) -> std::process::Output {
        self.command(std::path::Path::new("kubectl"))
            .args(args)
            .output()
            .expect("kubectl")
    }

    async fn run_once(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = self.command(&repo("scripts/run-once.sh"));
        cmd.args(["--timeout", "120"]).args(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("run-once.sh"))
            .await
            .expect("join")
    }

    fn job(&self, name: &str) -> Value {
        self.server
            .object("batch", "jobs", "rounds", name)
            .unwrap_or_else(|| panic!("job {name}"))
    }
}

/// The report on the last log line the script printed.
fn last_report(stdout: &str) -> Value {
    let last = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .expect("a JSON log line");
    last["report"].clone()
}

fn env_of(job: &Value) -> Vec<(String, String)> {
    job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("").to_owned(),
                e["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn playbook_names(report: &Value) -> Vec<String> {
    report["playbooks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_run_follows_the_round_and_returns_its_exit_code() {
    let cluster = Cluster::with("overlays/observe").await;
    let out = cluster
        .run_once(&[
            "--name",
            "manual-ok",
            "--only",
            "crashloop-restart,oom-raise-memory",
        ])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // The Job is the CronJob's template with the option in its environment.
    let job = cluster.job("manual-ok");
    assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    assert_eq!(job["metadata"]["ownerReferences"][0]["name"], "rounds");
    assert_eq!(
        job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    assert!(env_of(&job).contains(&(
        "ROUNDS_ONLY".into(),
        "crashloop-restart,oom-raise-memory".into()
    )));
    assert_eq!(job["status"]["conditions"][0]["type"], "Complete");
    // The script printed the round's logs: the text report and the JSON lines, report last.
    assert!(stdout.contains("crashloop-restart"), "{stdout}");
    let report = last_report(&stdout);
    assert_eq!(
        playbook_names(&report),
        ["crashloop-restart", "oom-raise-memory"]
    );
    assert_eq!(report["mode"], "dry-run");
    // The round ran in the pod as rounds' service account, within the overlay's RBAC.
    let rounds_requests: Vec<_> = cluster
        .server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.user.as_deref() == Some("system:serviceaccount:rounds:rounds"))
        .collect();
    assert!(!rounds_requests.is_empty());
    // rounds' own state that does not exist before its first round (404) and the dry runs of
    // the changes the observe overlay's read-only RBAC refuses (403, reported as skipped by the
    // `forbidden` guard) are expected answers; nothing else may be refused.
    for r in &rounds_requests {
        let own_state_missing = r.status == 404
            && (r.path.starts_with("/api/v1/namespaces/rounds/configmaps/")
                || r.path
                    .starts_with("/apis/coordination.k8s.io/v1/namespaces/rounds/leases/"));
        let refused_dry_run = r.status == 403 && r.query.contains("dryRun=All");
        assert!(
            r.status < 400 || own_state_missing || refused_dry_run,
            "refused: {r:?}"
        );
    }
    assert!(
        rounds_requests.iter().any(|r| r.status < 300),
        "the round read the cluster: {rounds_requests:?}"
    );

    // A round with invalid input fails its Job at once (podFailurePolicy): one pod, exit 1.
    let out = cluster
        .run_once(&["--name", "manual-bad", "--only", "no-such-playbook"])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("names no such playbook: no-such-playbook"),
        "{stdout}"
    );
    let job = cluster.job("manual-bad");
    assert_eq!(job["status"]["conditions"][0]["type"], "Failed");
    assert_eq!(job["status"]["conditions"][0]["reason"], "PodFailurePolicy");
    let ran = cluster.controller.expect("controller").stop();
    let bad: Vec<_> = ran.iter().filter(|p| p.job == "manual-bad").collect();
    assert_eq!(bad.len(), 1, "invalid input is not retried: {bad:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_wins_over_the_remediate_overlays_apply_mode() {
    let cluster = Cluster::with("overlays/remediate").await;
    let out = cluster
        .run_once(&[
            "--name",
            "manual-dry",
            "--dry-run",
            "--only",
            "oom-raise-memory",
        ])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env_of(&cluster.job("manual-dry")).contains(&("ROUNDS_DRY_RUN".into(), "true".into())));
    let report = last_report(&stdout);
    assert_eq!(report["mode"], "dry-run");
    assert_eq!(playbook_names(&report), ["oom-raise-memory"]);
}

#[test]
fn bad_options_are_refused_before_anything_is_created() {
    for args in [&["--only"][..], &["--frobnicate"][..]] {
        let out = std::process::Command::new(repo("scripts/run-once.sh"))
            .args(args)
            .env("KUBECTL", "/bin/false")
            .output()
            .expect("run-once.sh");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
}
