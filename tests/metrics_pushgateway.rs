//! End-to-end: `rounds run` pushes its metrics to a real Pushgateway (Debian's
//! `prometheus-pushgateway`, installed by scripts/test.sh), the metrics read back from the
//! gateway's `/metrics` with exact names, types and labels; failed rounds keep the last success
//! time; a push that fails is reported and exits 3; credentials go where they belong and never
//! into output; and a real Prometheus scraping the gateway evaluates manifests/monitoring's
//! rules on what was pushed.

use rounds_test_apiserver::{FaultAction, FaultRule, Identity, ServerConfig, TestApiServer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const NOW: &str = "2026-11-22T10:00:00Z";
const CLUSTER: &str = "e2e-cluster";
const PASSWORD: &str = "pushgateway-test-password";
/// bcrypt (cost 4) of PASSWORD, for the gateway's --web.config.file.
const PASSWORD_BCRYPT: &str = "$2b$04$JVy3HMg4IUAAhE/yXpIE1uFPF69FhSb/bGOxFZn...j5cW4UJdmRy";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A server process the test started; stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(paths: &[&str], package: &str) -> PathBuf {
    paths
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("\n\n!!! {} is not installed. scripts/test.sh installs Debian's `{package}` package.\n", paths[0])
        })
}

struct Response {
    status: u16,
    body: String,
}

/// A plain HTTP/1.0 request (the servers here answer without chunking).
fn http(port: u16, method: &str, path: &str, auth: Option<&str>) -> Option<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}Content-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(Response {
        status,
        body: body.to_owned(),
    })
}

fn wait_for(port: u16, path: &str, auth: Option<&str>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", path, auth).is_none_or(|r| r.status != 200) {
        assert!(
            Instant::now() < deadline,
            "{what} did not answer within 60s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A Pushgateway on 127.0.0.1 with a free port; with `basic_auth` it wants PASSWORD.
fn pushgateway(basic_auth: bool) -> Server {
    let bin = binary(
        &["/usr/bin/prometheus-pushgateway"],
        "prometheus-pushgateway",
    );
    let dir = tempfile::tempdir().expect("gateway dir");
    let port = free_port();
    let mut cmd = Command::new(bin);
    // Debian's default persistence file is shared by every gateway on the machine: keep ours.
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--persistence.file={}",
            dir.path().join("pushgateway.data").display()
        ));
    if basic_auth {
        let web = dir.path().join("web.yml");
        std::fs::write(
            &web,
            format!("basic_auth_users:\n  rounds: {PASSWORD_BCRYPT}\n"),
        )
        .expect("web config");
        cmd.arg(format!("--web.config.file={}", web.display()));
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the pushgateway");
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    let auth = basic_auth.then(|| basic(PASSWORD));
    wait_for(port, "/-/ready", auth.as_deref(), "the pushgateway");
    server
}

fn basic(password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("rounds:{password}"))
    )
}

/// A working directory with a runner config (and its secrets) for rounds.
struct Setup {
    dir: tempfile::TempDir,
    playbooks: String,
    config: String,
}

impl Setup {
    fn new(pushgateway: &str) -> Self {
        let dir = tempfile::tempdir().expect("setup dir");
        std::fs::create_dir(dir.path().join("secrets")).expect("secrets dir");
        let config = dir.path().join("config.yaml").display().to_string();
        let setup = Self {
            dir,
            playbooks: repo("playbooks").display().to_string(),
            config,
        };
        setup.config(pushgateway);
        setup
    }

    fn config(&self, pushgateway: &str) {
        std::fs::write(
            self.path("config.yaml"),
            format!(
                "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nsecretsDir: {}\nmetrics:\n  pushgateway:\n{pushgateway}",
                self.path("secrets").display()
            ),
        )
        .expect("config");
    }

    fn secret(&self, name: &str, value: &str) {
        std::fs::write(self.path("secrets").join(name), format!("{value}\n")).expect("secret");
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `rounds run` on the demo snapshot with this config, plus `extra` arguments.
    fn run(&self, extra: &[&str]) -> Output {
        rounds(
            &[
                &[
                    "run",
                    "--snapshot",
                    repo("tests/fixtures/demo-cluster").to_str().expect("utf-8"),
                ][..],
                &self.args(),
                if extra.contains(&"--output") {
                    &[]
                } else {
                    &["--output", "json"]
                },
                extra,
            ]
            .concat(),
        )
    }

    fn args(&self) -> Vec<&str> {
        vec![
            "--playbooks",
            &self.playbooks,
            "--now",
            NOW,
            "--config",
            &self.config,
        ]
    }
}

fn rounds(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(args)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("ROUNDS_SHARDS")
        .env("ROUNDS_LOG", "info")
        .env("ROUNDS_LOG_FORMAT", "json")
        .output()
        .expect("run rounds")
}

fn gateway_config(port: u16, extra: &str) -> String {
    format!(
        "    url: http://127.0.0.1:{port}\n    cluster: {CLUSTER}\n    interval: 5m\n    timeout: 5s\n{extra}"
    )
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); exit {:?}; stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[derive(Debug, Clone, PartialEq)]
struct Family {
    kind: String,
    samples: Vec<(BTreeMap<String, String>, f64)>,
}

/// The Prometheus text format as the gateway writes it (our label values hold no quotes).
fn parse_metrics(text: &str) -> BTreeMap<String, Family> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            families.insert(
                name.to_owned(),
                Family {
                    kind: kind.to_owned(),
                    samples: Vec::new(),
                },
            );
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once('=').expect("label");
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        // Summaries and histograms (the gateway's own) write _sum, _count and _bucket samples.
        let base = ["_sum", "_count", "_bucket"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| families.contains_key(*b)))
            .unwrap_or(name);
        let family = families
            .get_mut(base)
            .unwrap_or_else(|| panic!("sample {name} without a TYPE line"));
        family
            .samples
            .push((labels, value.parse().expect("a number")));
    }
    families
}

fn gateway_metrics(port: u16, auth: Option<&str>) -> BTreeMap<String, Family> {
    let r = http(port, "GET", "/metrics", auth).expect("the gateway's /metrics");
    assert_eq!(r.status, 200, "{}", r.body);
    parse_metrics(&r.body)
        .into_iter()
        .filter(|(name, _)| name.starts_with("rounds_") || name.starts_with("push_"))
        .collect()
}

fn group_labels(shard: &str) -> BTreeMap<String, String> {
    [
        ("job", "rounds"),
        ("cluster", CLUSTER),
        ("shard", shard),
        ("instance", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn with_group(shard: &str, labels: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut all = group_labels(shard);
    all.extend(
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    all
}

/// The one value of a family without labels of its own.
fn single(families: &BTreeMap<String, Family>, name: &str) -> f64 {
    let f = families
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"));
    assert_eq!(f.samples.len(), 1, "{name}: {f:?}");
    assert_eq!(f.samples[0].0, group_labels("0"), "{name}");
    f.samples[0].1
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// Counts of a report's entries by some of their fields, as sample labels.
fn counts(
    items: &Value,
    key: impl Fn(&Value) -> Vec<(&'static str, String)>,
) -> Vec<(BTreeMap<String, String>, f64)> {
    let mut by: BTreeMap<BTreeMap<String, String>, f64> = BTreeMap::new();
    for item in items.as_array().expect("array") {
        let mut labels = group_labels("0");
        labels.extend(key(item).into_iter().map(|(k, v)| (k.to_owned(), v)));
        *by.entry(labels).or_default() += 1.0;
    }
    by.into_iter().collect()
}

fn sorted(
    mut samples: Vec<(BTreeMap<String, String>, f64)>,
) -> Vec<(BTreeMap<String, String>, f64)> {
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    samples
}

#[test]
fn a_round_pushes_its_metrics_and_they_read_back_with_exact_names_types_and_labels() {
    let gw = pushgateway(false);
    let setup = Setup::new(&gateway_config(gw.port, ""));
    let before = epoch_now();
    let out = setup.run(&[]);
    let after = epoch_now();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report(&out);
    assert_eq!(
        report["push"],
        serde_json::json!({
            "gateway": format!("http://127.0.0.1:{}", gw.port),
            "group": format!("/metrics/job/rounds/cluster/{CLUSTER}/shard/0"),
            "status": "pushed",
            "lastSuccess": report["push"]["lastSuccess"],
            "lastSuccessFrom": "thisRound",
        })
    );

    let m = gateway_metrics(gw.port, None);
    let names: BTreeSet<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "push_failure_time_seconds",
            "push_time_seconds",
            "rounds_actions",
            "rounds_api_retries",
            "rounds_build_info",
            "rounds_findings",
            "rounds_guard_skips",
            "rounds_interval_seconds",
            "rounds_inventory_objects",
            "rounds_last_duration_seconds",
            "rounds_last_end_timestamp_seconds",
            "rounds_last_exit_code",
            "rounds_last_start_timestamp_seconds",
            "rounds_last_success_timestamp_seconds",
        ]),
        "a snapshot round makes no API requests and sends no notifications, so those families are empty and absent"
    );
    for (name, f) in &m {
        assert_eq!(
            f.kind, "gauge",
            "{name}: every number describes the last round"
        );
    }
    let start = single(&m, "rounds_last_start_timestamp_seconds");
    let end = single(&m, "rounds_last_end_timestamp_seconds");
    assert!(
        before - 1.0 <= start && start <= end && end <= after + 1.0,
        "{start} {end}"
    );
    assert_eq!(single(&m, "rounds_last_success_timestamp_seconds"), end);
    let duration = single(&m, "rounds_last_duration_seconds");
    assert!((duration - (end - start)).abs() < 0.01, "{duration}");
    assert_eq!(single(&m, "rounds_last_exit_code"), 0.0);
    assert_eq!(single(&m, "rounds_interval_seconds"), 300.0);
    assert_eq!(single(&m, "rounds_api_retries"), 0.0);
    assert_eq!(
        single(&m, "rounds_inventory_objects"),
        report["summary"]["objects"].as_f64().expect("objects")
    );
    assert_eq!(
        m["rounds_build_info"].samples,
        [(
            with_group(
                "0",
                // A snapshot round is a plan: there is no server to send dry runs to.
                &[("mode", "plan"), ("version", env!("CARGO_PKG_VERSION"))]
            ),
            1.0
        )]
    );

    // Findings: every due playbook has a series (0 when it found nothing), labelled by
    // playbook, detector and severity only.
    let mut expected = counts(&report["findings"], |f| {
        vec![
            ("playbook", f["playbook"].as_str().unwrap_or("").to_owned()),
            ("detector", f["detector"].as_str().unwrap_or("").to_owned()),
            ("severity", f["severity"].as_str().unwrap_or("").to_owned()),
        ]
    });
    for p in report["playbooks"].as_array().expect("playbooks") {
        let labels = with_group(
            "0",
            &[
                ("playbook", p["name"].as_str().unwrap_or("")),
                ("detector", p["detector"].as_str().unwrap_or("")),
                ("severity", p["severity"].as_str().unwrap_or("")),
            ],
        );
        if !expected.iter().any(|(l, _)| *l == labels) {
            expected.push((labels, 0.0));
        }
    }
    assert_eq!(
        sorted(m["rounds_findings"].samples.clone()),
        sorted(expected)
    );
    assert!(
        m["rounds_findings"]
            .samples
            .iter()
            .any(|(l, v)| l["playbook"] == "node-not-ready" && *v == 0.0),
        "a due playbook without findings is a 0"
    );
    let total: f64 = m["rounds_findings"].samples.iter().map(|(_, v)| v).sum();
    assert_eq!(
        total,
        report["findings"].as_array().expect("findings").len() as f64
    );
    assert!(total > 0.0, "the demo has findings");

    let expected = counts(&report["actions"], |a| {
        vec![
            ("playbook", a["playbook"].as_str().unwrap_or("").to_owned()),
            ("action", a["action"].as_str().unwrap_or("").to_owned()),
            ("status", a["status"].as_str().unwrap_or("").to_owned()),
            ("guard", a["guard"].as_str().unwrap_or("").to_owned()),
        ]
    });
    assert_eq!(
        sorted(m["rounds_actions"].samples.clone()),
        sorted(expected)
    );
    // Every guard's skip, from the verdicts (the mode guard decides first in a plan).
    let mut skips: BTreeMap<BTreeMap<String, String>, f64> = BTreeMap::new();
    for a in report["actions"].as_array().expect("actions") {
        for v in a["verdicts"].as_array().into_iter().flatten() {
            if v["verdict"] == "skip" {
                let labels = with_group(
                    "0",
                    &[
                        ("playbook", a["playbook"].as_str().unwrap_or("")),
                        ("guard", v["guard"].as_str().unwrap_or("")),
                    ],
                );
                *skips.entry(labels).or_default() += 1.0;
            }
        }
    }
    assert!(!skips.is_empty(), "the demo has guarded skips");
    assert_eq!(
        sorted(m["rounds_guard_skips"].samples.clone()),
        skips.into_iter().collect::<Vec<_>>()
    );
    assert!(m["rounds_actions"].samples.iter().any(|(l, _)| *l
        == with_group(
            "0",
            &[
                ("playbook", "oom-raise-memory"),
                ("action", "raiseMemoryLimit"),
                ("status", "planned"),
                ("guard", "")
            ]
        )));
    // No label names a pod, node or namespace.
    for (name, f) in &m {
        for (labels, _) in &f.samples {
            for key in labels.keys() {
                assert!(
                    [
                        "job", "cluster", "shard", "instance", "playbook", "detector", "severity",
                        "action", "status", "guard", "channel", "tier", "method", "code", "mode",
                        "version"
                    ]
                    .contains(&key.as_str()),
                    "{name} has label {key}"
                );
            }
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Pushed the round's metrics."), "{stderr}");
}

#[test]
fn failed_rounds_replace_the_group_but_keep_the_last_success_time() {
    let gw = pushgateway(false);
    let setup = Setup::new(&gateway_config(gw.port, ""));
    let out = setup.run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let first = gateway_metrics(gw.port, None);
    let success = single(&first, "rounds_last_success_timestamp_seconds");

    // Exit 1: a playbook that does not validate. The round is pushed all the same.
    let bad = setup.path("bad-playbooks");
    std::fs::create_dir(&bad).expect("dir");
    std::fs::write(
        bad.join("broken.yaml"),
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: broken}\nspec:\n  detect: {oomKilled: {minCount: zero}}\n",
    )
    .expect("playbook");
    let out = rounds(&[
        "run",
        "--snapshot",
        repo("tests/fixtures/demo-cluster").to_str().expect("utf-8"),
        "--playbooks",
        bad.to_str().expect("utf-8"),
        "--config",
        setup.path("config.yaml").to_str().expect("utf-8"),
        "--output",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = gateway_metrics(gw.port, None);
    assert_eq!(single(&m, "rounds_last_exit_code"), 1.0);
    assert_eq!(
        single(&m, "rounds_last_success_timestamp_seconds"),
        success,
        "carried over from the group the gateway held"
    );
    assert!(
        single(&m, "rounds_last_end_timestamp_seconds")
            > single(&first, "rounds_last_end_timestamp_seconds")
    );
    assert!(
        !m.contains_key("rounds_findings") && !m.contains_key("rounds_actions"),
        "PUT replaced the group: the last round's findings are gone"
    );

    // Exit 2: the API server is not there (and the round's deadline passes).
    let kubeconfig = setup.path("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{}', insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
            free_port()
        ),
    )
    .expect("kubeconfig");
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["run", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--deadline", "2s"])
        .args(setup.args())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("ROUNDS_SHARDS")
        .output()
        .expect("rounds");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = gateway_metrics(gw.port, None);
    assert_eq!(single(&m, "rounds_last_exit_code"), 2.0);
    assert_eq!(single(&m, "rounds_last_success_timestamp_seconds"), success);
    let errors: f64 = m
        .get("rounds_api_requests")
        .map(|f| {
            f.samples
                .iter()
                .filter(|(l, _)| l["code"] == "error")
                .map(|(_, v)| v)
                .sum()
        })
        .unwrap_or(0.0);
    assert!(errors >= 1.0, "the refused connections are counted: {m:?}");

    // The gateway lost the group (restarted without persistence): a failed round knows of no
    // success and says so with 0, which the alert reads as "never".
    let group = format!("/metrics/job/rounds/cluster/{CLUSTER}/shard/0");
    assert_eq!(
        http(gw.port, "DELETE", &group, None).map(|r| r.status),
        Some(202)
    );
    let out = rounds(&[
        "run",
        "--snapshot",
        repo("tests/fixtures/demo-cluster").to_str().expect("utf-8"),
        "--playbooks",
        bad.to_str().expect("utf-8"),
        "--config",
        setup.path("config.yaml").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let m = gateway_metrics(gw.port, None);
    assert_eq!(single(&m, "rounds_last_success_timestamp_seconds"), 0.0);
}

#[test]
fn a_push_to_an_unreachable_gateway_is_reported_and_exits_3() {
    let closed = free_port();
    let setup = Setup::new(&gateway_config(closed, ""));
    let out = setup.run(&[]);
    assert_eq!(out.status.code(), Some(3), "done, but the push failed");
    let report = report(&out);
    assert_eq!(report["push"]["status"], "failed");
    assert_eq!(report["summary"]["failed"], 0, "no action failed");
    let error = report["push"]["error"].as_str().expect("error");
    assert!(
        error.starts_with(&format!(
            "cannot reach the Pushgateway at http://127.0.0.1:{closed}: "
        )),
        "{error}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logged: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &Value| l["message"] == "Could not push the round's metrics.")
        .collect();
    assert_eq!(logged.len(), 1, "{stderr}");
    assert_eq!(logged[0]["level"], "ERROR");
    assert_eq!(logged[0]["error"], error);
    assert_eq!(
        logged[0]["group"],
        format!("/metrics/job/rounds/cluster/{CLUSTER}/shard/0")
    );
    // The report is the last log line, with the exit code the push made.
    let last: Value = serde_json::from_str(stderr.lines().last().unwrap_or("")).expect("JSON");
    assert_eq!(last["exitCode"], 3);
    assert_eq!(last["report"]["push"]["status"], "failed");

    // Text output says it too.
    let out = setup.run(&["--output", "text"]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with(&format!(
            "metrics push to http://127.0.0.1:{closed}/metrics/job/rounds/cluster/{CLUSTER}/shard/0 FAILED: cannot reach"
        ))),
        "{text}"
    );

    // A round that failed on its own keeps its exit code; its push cannot read the last success
    // time, so nothing is replaced and that is said.
    let bad = setup.path("bad");
    std::fs::create_dir(&bad).expect("dir");
    std::fs::write(bad.join("x.yaml"), "kind: Playbook\n").expect("playbook");
    let out = rounds(&[
        "run",
        "--snapshot",
        repo("tests/fixtures/demo-cluster").to_str().expect("utf-8"),
        "--playbooks",
        bad.to_str().expect("utf-8"),
        "--config",
        setup.path("config.yaml").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the group was not replaced, so the last success time it holds is kept"),
        "{stderr}"
    );
}

#[test]
fn basic_auth_comes_from_a_secret_file_and_never_shows() {
    let gw = pushgateway(true);
    let setup = Setup::new(&gateway_config(
        gw.port,
        "    auth:\n      basic: {username: rounds, passwordFile: gateway-password}\n",
    ));
    setup.secret("gateway-password", PASSWORD);
    let out = setup.run(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report(&out)["push"]["status"], "pushed");
    let m = gateway_metrics(gw.port, Some(&basic(PASSWORD)));
    assert_eq!(single(&m, "rounds_last_exit_code"), 0.0);

    // A wrong password: refused, reported, exit 3, and neither password is printed.
    setup.secret("gateway-password", "wrong-password-value");
    for output in ["json", "text"] {
        let out = setup.run(&["--output", output]);
        assert_eq!(out.status.code(), Some(3));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains("answered PUT /metrics/job/rounds/cluster/e2e-cluster/shard/0 with 401: the gateway refused rounds' credentials"),
            "{all}"
        );
        assert!(!all.contains("wrong-password-value") && !all.contains(PASSWORD));
    }

    // A missing secret file is invalid config: nothing runs, exit 1.
    std::fs::remove_file(setup.path("secrets/gateway-password")).expect("rm");
    let out = setup.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "(metrics.pushgateway.auth.basic.passwordFile): cannot read it: no such file"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A one-request HTTP server that keeps what it was sent and answers 200.
fn capture_one() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a request");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        // Headers, then Content-Length bytes of body.
        loop {
            let n = stream.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&data);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
        }
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&data).into_owned()
    });
    (port, handle)
}

#[test]
fn a_bearer_token_is_sent_on_the_put_and_the_shard_is_the_indexed_jobs_index() {
    let (port, request) = capture_one();
    let setup = Setup::new(&gateway_config(
        port,
        "    auth:\n      bearer: {tokenFile: gateway-token}\n",
    ));
    setup.secret("gateway-token", "bearer-token-value");
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["run", "--snapshot"])
        .arg(repo("tests/fixtures/demo-cluster"))
        .args(setup.args())
        .env("JOB_COMPLETION_INDEX", "3")
        .env("ROUNDS_SHARDS", "4")
        .output()
        .expect("rounds");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let request = request.join().expect("captured");
    let (head, body) = request.split_once("\r\n\r\n").expect("request");
    let mut lines = head.lines();
    assert_eq!(
        lines.next(),
        Some(format!("PUT /metrics/job/rounds/cluster/{CLUSTER}/shard/3 HTTP/1.1").as_str())
    );
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    assert_eq!(headers["authorization"], "Bearer bearer-token-value");
    assert_eq!(
        headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        body.contains("# TYPE rounds_last_success_timestamp_seconds gauge\n"),
        "{body}"
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("bearer-token-value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_round_counts_its_api_requests_and_retries_as_the_server_saw_them() {
    const TOKEN: &str = "rounds-metrics-token";
    let server = TestApiServer::start(
        ServerConfig::new()
            .snapshot(repo("tests/fixtures/demo-cluster"))
            .rbac(repo("manifests"))
            .token(TOKEN, Identity::service_account("rounds", "rounds")),
    )
    .await
    .expect("test API server");
    server
        .faults()
        .add(FaultRule::new("GET", "/apis/batch/v1/jobs", FaultAction::status(500)).times(2))
        .expect("fault");
    let gw = pushgateway(false);
    let setup = Setup::new(&gateway_config(gw.port, ""));
    let kubeconfig = setup.path("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, TOKEN, "rounds")
        .expect("kubeconfig");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["run", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(setup.args())
        .env("HOME", setup.path(""))
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("ROUNDS_SHARDS")
        .output()
        .await
        .expect("rounds");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = gateway_metrics(gw.port, None);
    let mut seen: BTreeMap<BTreeMap<String, String>, f64> = BTreeMap::new();
    for r in server.requests().records() {
        let code = r.status.to_string();
        *seen
            .entry(with_group("0", &[("method", &r.method), ("code", &code)]))
            .or_default() += 1.0;
    }
    assert_eq!(
        sorted(m["rounds_api_requests"].samples.clone()),
        seen.into_iter().collect::<Vec<_>>(),
        "every request the server answered, by method and code"
    );
    assert!(
        m["rounds_api_requests"]
            .samples
            .iter()
            .any(|(l, v)| l["code"] == "500" && *v == 2.0)
    );
    assert_eq!(single(&m, "rounds_api_retries"), 2.0);
    assert_eq!(single(&m, "rounds_last_exit_code"), 0.0);
    drop(gw);
    server.shutdown().await;
}

/// Prometheus scraping the gateway (honor_labels) with manifests/monitoring/rules.yaml loaded.
fn prometheus(gateway: u16) -> Server {
    let bin = binary(
        &["/usr/bin/prometheus", "/usr/local/bin/prometheus"],
        "prometheus",
    );
    let dir = tempfile::tempdir().expect("prometheus dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: ['{}']\nscrape_configs:\n- job_name: pushgateway\n  honor_labels: true\n  static_configs: [{{targets: ['127.0.0.1:{gateway}']}}]\n",
            repo("manifests/monitoring/rules.yaml").display()
        ),
    )
    .expect("config");
    let port = free_port();
    let child = Command::new(bin)
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
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    wait_for(port, "/-/ready", None, "prometheus");
    server
}

fn query(prometheus: u16, promql: &str) -> Value {
    let mut encoded = String::new();
    for b in promql.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let r = http(
        prometheus,
        "GET",
        &format!("/api/v1/query?query={encoded}"),
        None,
    )
    .expect("prometheus answers");
    let v: Value = serde_json::from_str(&r.body).expect("JSON");
    assert_eq!(v["status"], "success", "{promql}: {v}");
    v["data"]["result"].clone()
}

/// Polls until `check` holds (Prometheus scrapes and evaluates every second).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "{what} within 60s");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn alert_states(prometheus: u16, name: &str) -> Vec<(String, Value)> {
    let r = http(prometheus, "GET", "/api/v1/alerts", None).expect("alerts");
    let v: Value = serde_json::from_str(&r.body).expect("JSON");
    v["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["labels"]["alertname"] == name)
        .map(|a| {
            (
                a["state"].as_str().unwrap_or("").to_owned(),
                a["labels"].clone(),
            )
        })
        .collect()
}

#[test]
fn prometheus_scrapes_the_gateway_and_evaluates_the_rules_and_the_dashboard_queries() {
    let gw = pushgateway(false);
    let prom = prometheus(gw.port);
    let setup = Setup::new(&gateway_config(gw.port, ""));

    // A first round that fails, with no success known: "not succeeding" goes pending at once
    // (its `for` is 1m) with the group's labels, kept by honor_labels.
    let bad = setup.path("bad");
    std::fs::create_dir(&bad).expect("dir");
    std::fs::write(bad.join("x.yaml"), "kind: Playbook\n").expect("playbook");
    let out = rounds(&[
        "run",
        "--snapshot",
        repo("tests/fixtures/demo-cluster").to_str().expect("utf-8"),
        "--playbooks",
        bad.to_str().expect("utf-8"),
        "--config",
        setup.path("config.yaml").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    eventually("RoundsNotSucceeding is pending", || {
        alert_states(prom.port, "RoundsNotSucceeding")
            == [(
                "pending".to_owned(),
                serde_json::json!({
                    "alertname": "RoundsNotSucceeding",
                    "cluster": CLUSTER,
                    "shard": "0",
                    "severity": "critical",
                }),
            )]
    });
    assert!(alert_states(prom.port, "RoundsMetricsAbsent").is_empty());

    // A successful round: the alert goes away, and the findings are in Prometheus.
    let out = setup.run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let report = report(&out);
    let findings = report["findings"].as_array().expect("findings");
    let total = findings.len().to_string();
    let oom = findings
        .iter()
        .filter(|f| f["playbook"] == "oom-raise-memory")
        .count()
        .to_string();
    assert_ne!(oom, "0", "the demo has OOM kills");
    eventually("RoundsNotSucceeding is resolved", || {
        alert_states(prom.port, "RoundsNotSucceeding").is_empty()
    });
    eventually("the findings are scraped", || {
        query(prom.port, r#"sum(rounds_findings{job="rounds"})"#)[0]["value"][1] == *total
    });
    let series = query(prom.port, r#"rounds_findings{playbook="oom-raise-memory"}"#);
    assert_eq!(
        series[0]["metric"],
        serde_json::json!({
            "__name__": "rounds_findings",
            "job": "rounds",
            "cluster": CLUSTER,
            "shard": "0",
            "playbook": "oom-raise-memory",
            "detector": "oomKilled",
            "severity": "warning",
        }),
        "honor_labels keeps job=rounds; the gateway's empty instance label is no label"
    );
    assert_eq!(series[0]["value"][1], *oom);

    // Every query of the dashboard runs and finds data for this cluster.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("manifests/monitoring/dashboard.json")).expect("dashboard"),
    )
    .expect("dashboard JSON");
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"]
                .as_str()
                .expect("expr")
                .replace("$cluster", CLUSTER)
                .replace("$shard", "0");
            let result = query(prom.port, &expr);
            let empty_ok = expr.contains("rounds_notifications")
                || expr.contains("rounds_api_requests")
                || expr.contains("status=\"skipped\"");
            assert!(
                empty_ok || !result.as_array().is_none_or(Vec::is_empty),
                "panel {:?}: {expr} found nothing",
                panel["title"]
            );
            queries += 1;
        }
    }
    assert_eq!(queries, 14);
}

#[test]
fn a_bad_metrics_config_names_each_field_and_line_and_never_shows_the_password() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("config.yaml");
    std::fs::write(
        &file,
        "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nmetrics:\n  pushgateway:\n    url: http://rounds:hunter2@gw:9091\n    cluster: \"\"\n    auth:\n      bearer:\n        tokenFile: /etc/token\n",
    )
    .expect("config");
    let out = rounds(&["validate", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let f = file.display();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{f}:5:10: error: the Pushgateway URL must not hold credentials: use auth.basic.passwordFile or auth.bearer.tokenFile
  field: metrics.pushgateway.url
   |
 5 |     url: (value not shown)
   |          ^
{f}:6:14: error: must name this cluster: it is the `cluster` label of the pushed group
  field: metrics.pushgateway.cluster
   |
 6 |     cluster: \"\"
   |              ^
{f}:9:20: error: must be relative to the secrets directory (write `slack-webhook-url`, not an absolute path)
  field: metrics.pushgateway.auth.bearer.tokenFile
   |
 9 |         tokenFile: (value not shown)
   |                    ^
3 error(s)
"
        )
    );
    // `run` refuses the same config before anything happens, with the same words.
    let out = rounds(&[
        "run",
        "--snapshot",
        repo("tests/fixtures/demo-cluster").to_str().expect("utf-8"),
        "--playbooks",
        repo("playbooks").to_str().expect("utf-8"),
        "--config",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#""field":"metrics.pushgateway.url""#),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2") && out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_stopped_by_sigterm_still_pushes_and_keeps_the_last_success_time() {
    const TOKEN: &str = "rounds-sigterm-token";
    let server = TestApiServer::start(
        ServerConfig::new()
            .snapshot(repo("tests/fixtures/demo-cluster"))
            .rbac(repo("manifests"))
            .token(TOKEN, Identity::service_account("rounds", "rounds")),
    )
    .await
    .expect("test API server");
    let gw = pushgateway(false);
    let setup = Setup::new(&gateway_config(gw.port, ""));
    // A successful round first, to have a success to keep.
    let out = setup.run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let success = single(
        &gateway_metrics(gw.port, None),
        "rounds_last_success_timestamp_seconds",
    );
    // Then a live round whose pod list hangs, stopped the way the kubelet stops a pod.
    server
        .faults()
        .add(FaultRule::new(
            "GET",
            "/api/v1/pods",
            FaultAction::delay(30_000),
        ))
        .expect("fault");
    let kubeconfig = setup.path("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, TOKEN, "rounds")
        .expect("kubeconfig");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["run", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(setup.args())
        .env("HOME", setup.path(""))
        .env("ROUNDS_LOG_FORMAT", "json")
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("ROUNDS_SHARDS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rounds");
    let pid = child.id().expect("pid");
    let started = Instant::now();
    // SIGTERM while the round waits for the pod list (it hangs for 30s): the handler is in
    // place within milliseconds of the start, so 3s is well inside that window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("rounds ends soon after SIGTERM, not after the hanging request")
        .expect("output");
    assert!(started.elapsed() < Duration::from_secs(25));
    let code = out
        .status
        .code()
        .expect("an exit code, not death by the signal");
    assert_ne!(code, 0, "a stopped round did not succeed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rounds was asked to stop (SIGTERM)"),
        "{stderr}"
    );
    let m = gateway_metrics(gw.port, None);
    assert_eq!(single(&m, "rounds_last_exit_code"), f64::from(code));
    assert_eq!(single(&m, "rounds_last_success_timestamp_seconds"), success);
    drop(gw);
    server.shutdown().await;
}
