//! End-to-end: the compiled binary makes rounds against the test API server over HTTPS with a
//! service-account token, in kubeconfig and in-cluster modes, and finds exactly what
//! `rounds plan --snapshot` finds on the same files, through pagination, expired continue
//! tokens, dropped connections, throttling and refusals.

use rounds_test_apiserver::{FaultAction, FaultRule, Identity, ServerConfig, TestApiServer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const NOW: &str = "2026-11-22T10:00:00Z";
const SA_TOKEN: &str = "rounds-service-account-token";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The demo cluster, with RBAC from the project's manifests and rounds' service account.
async fn server() -> TestApiServer {
    TestApiServer::start(
        ServerConfig::new()
            .snapshot(repo("tests/fixtures/demo-cluster"))
            .rbac(repo("manifests"))
            .token(SA_TOKEN, Identity::service_account("rounds", "rounds")),
    )
    .await
    .expect("test API server starts")
}

struct Run {
    out: Output,
    _home: tempfile::TempDir,
}

impl Run {
    fn report(&self) -> Value {
        assert!(
            self.out.status.success(),
            "rounds failed ({:?}): {}",
            self.out.status.code(),
            String::from_utf8_lossy(&self.out.stderr)
        );
        serde_json::from_slice(&self.out.stdout).expect("a JSON report")
    }

    /// The error rounds ended with (logs come before it).
    fn stderr(&self) -> String {
        error_line(&self.out.stderr)
    }
}

/// Runs `rounds plan` against the server with a kubeconfig for `token`.
async fn plan_with_kubeconfig(server: &TestApiServer, token: &str, extra: &[&str]) -> Run {
    let home = tempfile::tempdir().expect("home");
    let kubeconfig = home.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, token, "rounds")
        .expect("kubeconfig");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"));
    cmd.args(["plan", "--playbooks"])
        .arg(repo("playbooks"))
        .args(["--now", NOW, "--output", "json", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(extra)
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST");
    Run {
        out: cmd.output().await.expect("run rounds"),
        _home: home,
    }
}

/// What `rounds plan --snapshot` reports on the files the server was seeded from.
fn snapshot_report() -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["plan", "--snapshot"])
        .arg(repo("tests/fixtures/demo-cluster"))
        .arg("--playbooks")
        .arg(repo("playbooks"))
        .args(["--now", NOW, "--output", "json"])
        .output()
        .expect("run rounds");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report")
}

fn error_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .rfind(|l| l.starts_with("error: "))
        .unwrap_or("<no error line>")
        .to_owned()
}

/// The findings without their log tails: only a live round can read logs.
fn without_logs(report: &Value) -> Value {
    let mut findings = report["findings"].clone();
    for f in findings.as_array_mut().into_iter().flatten() {
        if let Some(context) = f.get_mut("context").and_then(Value::as_object_mut) {
            context.remove("logTail");
            if context.is_empty() {
                f.as_object_mut().map(|o| o.remove("context"));
            }
        }
    }
    findings
}

/// The plans without what only differs by source: the server assigns its own
/// resourceVersions when it is seeded, and a live round reads the ledger and the pause switch
/// that a snapshot round does not have (so their guards' verdicts say "unchecked" there).
fn comparable_actions(report: &Value) -> Value {
    let mut actions = report["actions"].clone();
    for a in actions.as_array_mut().into_iter().flatten() {
        if let Some(a) = a.as_object_mut() {
            a.remove("verdicts");
        }
        if let Some(meta) = a
            .pointer_mut("/patch/body/metadata")
            .and_then(Value::as_object_mut)
        {
            meta.remove("resourceVersion");
        }
    }
    actions
}

fn assert_same_round(live: &Value) {
    let snapshot = snapshot_report();
    // Compared as text so a difference prints as two readable documents.
    let text = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    assert_eq!(
        text(&without_logs(live)),
        text(&snapshot["findings"]),
        "findings differ from the snapshot's"
    );
    assert_eq!(
        text(&comparable_actions(live)),
        text(&comparable_actions(&snapshot)),
        "plans differ from the snapshot's"
    );
    assert_eq!(live["findings"].as_array().map(Vec::len), Some(14));
}

fn list_requests(server: &TestApiServer, path: &str) -> Vec<String> {
    server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .map(|r| format!("{} {}", r.status, r.query))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_mode_finds_what_the_snapshot_finds() {
    let server = server().await;
    let run = plan_with_kubeconfig(&server, SA_TOKEN, &[]).await;
    let report = run.report();
    assert_same_round(&report);
    assert!(
        report["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("cluster https://127.0.0.1:"))
    );
    // Every request was made as rounds' service account, and RBAC from manifests/ allowed it.
    for r in server.requests().records() {
        assert_eq!(
            r.user.as_deref(),
            Some("system:serviceaccount:rounds:rounds"),
            "{r:?}"
        );
        // The ledger and the pause switch do not exist yet: a missing one is empty or off.
        let rounds_own = r.path == "/api/v1/namespaces/rounds/configmaps/rounds-ledger"
            || r.path == "/api/v1/namespaces/rounds/configmaps/rounds-control";
        assert!(
            r.status < 400 || r.path.ends_with("/stats/summary") || (rounds_own && r.status == 404),
            "{r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_cluster_mode_finds_what_the_snapshot_finds() {
    let server = server().await;
    let sa = tempfile::tempdir().expect("sa dir");
    server
        .write_service_account_dir(sa.path(), SA_TOKEN, "rounds")
        .expect("sa files");
    let home = tempfile::tempdir().expect("home");
    // A private mount namespace puts the service account where a pod has it.
    let script = format!(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && \
         cp {sa}/token {sa}/ca.crt {sa}/namespace /run/secrets/kubernetes.io/serviceaccount/ && \
         exec \"$0\" \"$@\"",
        sa = sa.path().display()
    );
    let out = tokio::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .arg(env!("CARGO_BIN_EXE_rounds"))
        .args(["plan", "--playbooks"])
        .arg(repo("playbooks"))
        .args(["--now", NOW, "--output", "json"])
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env(
            "KUBERNETES_SERVICE_PORT",
            server.address().port().to_string(),
        )
        .output()
        .await
        .expect("run rounds in a mount namespace");
    let run = Run { out, _home: home };
    assert_same_round(&run.report());
    assert!(
        server
            .requests()
            .records()
            .iter()
            .all(|r| r.user.as_deref() == Some("system:serviceaccount:rounds:rounds")),
        "in-cluster rounds authenticates with the mounted token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_followed_across_boundaries() {
    let server = server().await;
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &["--page-size", "2"])
        .await
        .report();
    assert_same_round(&report);
    let pods = server.objects("", "pods").len();
    let pages = list_requests(&server, "/api/v1/pods");
    assert_eq!(pages.len(), pods.div_ceil(2), "{pages:?}");
    assert!(pages[0].starts_with("200 limit=2") && !pages[0].contains("continue"));
    assert!(
        pages[1..]
            .iter()
            .all(|p| p.starts_with("200 limit=2&continue=")),
        "{pages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_continue_token_mid_list_loses_and_repeats_nothing() {
    let server = server().await;
    let mut rule = FaultRule::new("GET", "/api/v1/pods", FaultAction::status(410)).times(1);
    rule.path_regex = Some("continue=".into());
    server.faults().add(rule).expect("fault");
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &["--page-size", "3"])
        .await
        .report();
    assert_same_round(&report);
    let pages = list_requests(&server, "/api/v1/pods");
    let expired = pages
        .iter()
        .position(|p| p.starts_with("410"))
        .expect("a 410 mid-list");
    assert_eq!(expired, 1, "the second page expired: {pages:?}");
    assert_eq!(
        pages[expired + 1],
        "200 limit=3",
        "the list restarted: {pages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_list_is_retried() {
    let server = server().await;
    server
        .faults()
        .add(
            FaultRule::new("GET", "/api/v1/pods", FaultAction::drop_after_items(2))
                .nth(2)
                .times(1),
        )
        .expect("fault");
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &["--page-size", "4"])
        .await
        .report();
    assert_same_round(&report);
    let dropped: Vec<_> = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.dropped)
        .collect();
    assert_eq!(dropped.len(), 1, "one response was cut off");
    let pages = list_requests(&server, "/api/v1/pods");
    assert_eq!(
        pages[1], pages[2],
        "the cut page was asked for again: {pages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_waited_out_as_retry_after_says() {
    let server = server().await;
    server
        .faults()
        .add(FaultRule::new("GET", "/api/v1/nodes", FaultAction::too_many_requests(1)).times(1))
        .expect("fault");
    let started = std::time::Instant::now();
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &[]).await.report();
    assert_same_round(&report);
    let nodes = list_requests(&server, "/api/v1/nodes");
    assert!(
        nodes[0].starts_with("429") && nodes[1].starts_with("200"),
        "{nodes:?}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried() {
    let server = server().await;
    server
        .faults()
        .add(FaultRule::new("GET", "/apis/batch/v1/jobs", FaultAction::status(500)).times(2))
        .expect("fault");
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &[]).await.report();
    assert_same_round(&report);
    let jobs = list_requests(&server, "/apis/batch/v1/jobs");
    assert_eq!(
        jobs.iter().filter(|j| j.starts_with("500")).count(),
        2,
        "{jobs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_list_names_the_missing_permission_and_fails_the_round() {
    let server = server().await;
    server.add_token(
        "nobody-token",
        Identity::service_account("rounds", "nobody"),
    );
    let run = plan_with_kubeconfig(&server, "nobody-token", &[]).await;
    assert_eq!(run.out.status.code(), Some(2), "{}", run.stderr());
    assert!(
        run.out.stdout.is_empty(),
        "no report for a round that could not run"
    );
    assert!(
        run.stderr().contains("rounds may not list ")
            && run
                .stderr()
                .contains(" at the cluster scope (403 Forbidden): grant `list` on"),
        "{}",
        run.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_clear_messages() {
    let server = server().await;
    // A token the server does not know.
    let run = plan_with_kubeconfig(&server, "no-such-token", &[]).await;
    assert_eq!(run.out.status.code(), Some(2));
    assert!(
        run.stderr()
            .contains("refused rounds' credentials (401 Unauthorized)"),
        "{}",
        run.stderr()
    );

    // A kind the server does not serve.
    server
        .faults()
        .add(FaultRule::new("GET", "/apis/batch/v1/jobs", FaultAction::status(404)).times(1))
        .expect("fault");
    let run = plan_with_kubeconfig(&server, SA_TOKEN, &[]).await;
    assert_eq!(run.out.status.code(), Some(2));
    assert!(
        run.stderr().contains("does not serve jobs"),
        "{}",
        run.stderr()
    );

    // A server slower than the round deadline.
    server
        .faults()
        .add(FaultRule::new("GET", "/api/v1/pods", FaultAction::delay(5000)).times(1))
        .expect("fault");
    let run = plan_with_kubeconfig(&server, SA_TOKEN, &["--deadline", "1s"]).await;
    assert_eq!(run.out.status.code(), Some(2));
    assert!(
        run.stderr()
            .contains("did not finish within the round deadline of 1s"),
        "{}",
        run.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_servers_and_wrong_certificates_are_told_apart() {
    let server = server().await;
    let home = tempfile::tempdir().expect("home");
    let good = server.kubeconfig(SA_TOKEN, "rounds");
    // Nothing listens on port 1.
    let closed = good.replace(
        &format!("127.0.0.1:{}", server.address().port()),
        "127.0.0.1:1",
    );
    // Another server's CA does not vouch for this one.
    let other = TestApiServer::start(ServerConfig::new())
        .await
        .expect("other server");
    let wrong_ca = other.kubeconfig(SA_TOKEN, "rounds").replace(
        &format!("127.0.0.1:{}", other.address().port()),
        &format!("127.0.0.1:{}", server.address().port()),
    );
    for (name, text, expected) in [
        (
            "closed",
            closed,
            "cannot reach the Kubernetes API at https://127.0.0.1:1/: Connection refused",
        ),
        (
            "wrong-ca",
            wrong_ca,
            "TLS with the Kubernetes API at https://127.0.0.1:",
        ),
    ] {
        let path = home.path().join(name);
        std::fs::write(&path, text).expect("kubeconfig");
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
            .args(["plan", "--playbooks"])
            .arg(repo("playbooks"))
            .args(["--now", NOW, "--deadline", "5s", "--kubeconfig"])
            .arg(&path)
            .env("HOME", home.path())
            .output()
            .await
            .expect("run");
        let all = String::from_utf8_lossy(&out.stderr);
        let stderr = error_line(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {all}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            !all.contains(SA_TOKEN),
            "the token never appears in errors or logs"
        );
    }
}

/// Requests grow with pages of the listed kinds and with findings, not with healthy objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_kinds_times_pages_plus_findings() {
    let page = 5;
    let count = |server: &TestApiServer| {
        let records = server.requests().records();
        let lists = records
            .iter()
            .filter(|r| r.query.contains("limit="))
            .count();
        (lists, records.len() - lists)
    };
    let small = server().await;
    plan_with_kubeconfig(&small, SA_TOKEN, &["--page-size", &page.to_string()])
        .await
        .report();
    let (small_lists, small_gets) = count(&small);

    let big = server().await;
    for i in 0..100 {
        big.insert(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("healthy-{i:03}"), "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": "app:1"}], "nodeName": "node-a"},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]}
        }))
        .expect("insert pod");
    }
    let report = plan_with_kubeconfig(&big, SA_TOKEN, &["--page-size", &page.to_string()])
        .await
        .report();
    assert_same_round(&report);
    let (big_lists, big_gets) = count(&big);

    let pages = |server: &TestApiServer, group: &str, resource: &str| {
        server.objects(group, resource).len().div_ceil(page)
    };
    for (server, lists) in [(&small, small_lists), (&big, big_lists)] {
        // Events about nodes are listed too (nodeOomKilled), at least one page.
        let node_events = server
            .objects("", "events")
            .iter()
            .filter(|e| e["involvedObject"]["kind"] == "Node")
            .count();
        let expected = pages(server, "", "pods")
            + pages(server, "", "nodes")
            + pages(server, "batch", "jobs")
            + node_events.div_ceil(page).max(1);
        assert_eq!(
            lists, expected,
            "one list request per page of each kind the detectors read"
        );
    }
    assert_eq!(
        big_lists - small_lists,
        20,
        "100 more pods are 20 more pages"
    );
    assert_eq!(
        big_gets, small_gets,
        "healthy pods cost no per-object request"
    );
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    let nodes = big.objects("", "nodes").len();
    let namespaces: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["target"]["namespace"].as_str())
        .collect();
    // Besides: each finding's namespace once (its opt-out annotations), the ledger and the
    // pause switch.
    assert!(
        big_gets <= nodes + 3 * findings + namespaces.len() + 2,
        "{big_gets} GETs for {findings} findings on {nodes} nodes: summaries, owner chains, claims, namespaces, the ledger and the pause switch only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_carry_the_crashed_container_log_tail_and_recent_events() {
    let server = server().await;
    let log: String = (1..=60).map(|i| format!("line {i}\n")).collect::<String>()
        + "panic: DATABASE_URL is not set\n";
    server
        .logs()
        .set_previous("payments", "checkout-84d7c9f6b-r2d2x", "checkout", &log);
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &[]).await.report();
    let findings = report["findings"].as_array().expect("findings");
    let crash = findings
        .iter()
        .find(|f| f["playbook"] == "crashloop-restart")
        .expect("crash loop found");
    let tail = &crash["context"]["logTail"];
    assert_eq!(tail["container"], "checkout");
    assert_eq!(tail["previous"], true);
    let lines: Vec<&str> = tail["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(lines.len(), 50, "logTailLines: 50 in the playbook");
    assert_eq!(lines.first(), Some(&"line 12"), "the last 50 of 61 lines");
    assert_eq!(lines.last(), Some(&"panic: DATABASE_URL is not set"));
    assert_eq!(crash["context"]["events"][0]["reason"], "BackOff");
    // Logs were read for findings only, never for healthy pods.
    let logs = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.path.ends_with("/log"))
        .count();
    let with_container = findings
        .iter()
        .filter(|f| f["target"]["container"].is_string())
        .count();
    assert_eq!(logs, with_container);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_flag_picks_the_kubeconfig_context() {
    use rounds_test_apiserver::kubeconfig::{KubeconfigUser, kubeconfig_yaml};
    let server = server().await;
    server.add_token(
        "nobody-token",
        Identity::service_account("rounds", "nobody"),
    );
    let user = |name: &str, token: &str| KubeconfigUser {
        name: name.into(),
        token: token.into(),
        namespace: "rounds".into(),
    };
    // The current context may list nothing; the named one is rounds' service account.
    let text = kubeconfig_yaml(
        &server.url(),
        server.ca_pem(),
        &[user("nobody", "nobody-token"), user("rounds-sa", SA_TOKEN)],
    );
    let home = tempfile::tempdir().expect("home");
    let path = home.path().join("kubeconfig");
    std::fs::write(&path, text).expect("kubeconfig");
    let run = |context: Option<&'static str>| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"));
        cmd.args(["plan", "--playbooks"])
            .arg(repo("playbooks"))
            .args(["--now", NOW, "--output", "json", "--kubeconfig"])
            .arg(&path)
            .env("HOME", home.path());
        if let Some(c) = context {
            cmd.args(["--context", c]);
        }
        cmd.output()
    };
    let current = run(None).await.expect("run");
    assert_eq!(
        current.status.code(),
        Some(2),
        "the current context is forbidden to list"
    );
    let named = run(Some("rounds-sa")).await.expect("run");
    let report: Value = serde_json::from_slice(&named.stdout).expect("report");
    assert_same_round(&report);
    for out in [&current, &named] {
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains(SA_TOKEN) && !text.contains("nobody-token"),
                "tokens never appear in output"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_rate_limited_on_the_client() {
    let server = server().await;
    // 4 requests a second with a burst of 8: the round's requests cannot all go at once.
    let started = std::time::Instant::now();
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &["--qps", "4", "--page-size", "5"])
        .await
        .report();
    let elapsed = started.elapsed();
    assert_same_round(&report);
    let requests = server.requests().records().len();
    assert!(requests > 16, "{requests} requests");
    let floor = std::time::Duration::from_millis(((requests - 8) as u64 * 1000) / 4);
    assert!(
        elapsed >= floor,
        "{requests} requests at 4/s after a burst of 8 took only {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_kubelet_costs_one_request_and_a_note() {
    let server = server().await;
    server
        .faults()
        .add(FaultRule::new(
            "GET",
            "/api/v1/nodes/node-c/proxy/stats/summary",
            FaultAction::status(503),
        ))
        .expect("fault");
    let report = plan_with_kubeconfig(&server, SA_TOKEN, &[]).await.report();
    assert_same_round(&report);
    assert_eq!(
        server.requests().count("GET", "/api/v1/nodes/node-c/proxy"),
        1,
        "no retry of evidence on 503"
    );
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes.iter().any(
            |n| n.starts_with("no kubelet stats summary from 1 of 3 node(s)")
                && n.contains("node node-c")
        ),
        "{notes:?}"
    );
}
