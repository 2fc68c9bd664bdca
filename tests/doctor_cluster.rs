//! `rounds doctor`, the binary as a process, against the test API server enforcing the RBAC
//! rendered from each overlay (`kubectl kustomize`), as rounds' service account: an overlay
//! with its runner config passes every check; a rule taken out is printed exactly, with the
//! rule to paste (and pasting it with kubectl makes doctor pass); missing or empty secret
//! files and a channel that does not answer are reported without a secret value anywhere;
//! a missing namespace; and an API that does not answer exits 2.

mod deploy;

use deploy::rbac::{Permission, covers, granted};
use deploy::{find, render, repo, write_rbac};
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, Identity, ServerConfig, TestApiServer};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

const SA_TOKEN: &str = "rounds-doctor-sa-token";

struct Cluster {
    server: TestApiServer,
    home: tempfile::TempDir,
    /// The rendered overlay, as edited by the test.
    objects: Vec<Value>,
    config: PathBuf,
    playbooks: PathBuf,
}

/// An overlay rendered, edited by `edit`, its RBAC loaded into a test API server (with the
/// namespace `rounds` unless `namespace` is false) and its runner config written out.
async fn cluster(overlay: &str, namespace: bool, edit: impl FnOnce(&mut Vec<Value>)) -> Cluster {
    cluster_of(overlay, namespace, None, edit).await
}

/// The same, seeded from a snapshot of objects.
async fn cluster_of(
    overlay: &str,
    namespace: bool,
    snapshot: Option<&str>,
    edit: impl FnOnce(&mut Vec<Value>),
) -> Cluster {
    let mut objects = render(overlay);
    edit(&mut objects);
    let home = tempfile::tempdir().expect("home");
    let rbac = write_rbac(&objects, home.path());
    let mut config = ServerConfig::new()
        .rbac(rbac)
        .token(SA_TOKEN, Identity::service_account("rounds", "rounds"));
    if namespace {
        config = config.object(find(&objects, "Namespace", "rounds").clone());
    }
    if let Some(snapshot) = snapshot {
        config = config.snapshot(repo(snapshot));
    }
    let server = TestApiServer::start(config)
        .await
        .expect("test API server starts");
    server
        .write_kubeconfig(&home.path().join("kubeconfig"), SA_TOKEN, "rounds")
        .expect("kubeconfig");
    server
        .write_kubeconfig(&home.path().join("admin"), DEFAULT_ADMIN_TOKEN, "rounds")
        .expect("admin kubeconfig");
    let runner = find(&objects, "ConfigMap", "rounds-config")["data"]["config.yaml"]
        .as_str()
        .expect("the overlay's runner config")
        .to_owned();
    let config = home.path().join("config.yaml");
    std::fs::write(&config, runner).expect("runner config");
    Cluster {
        server,
        home,
        objects,
        config,
        playbooks: repo("playbooks"),
    }
}

struct Doctor {
    out: Output,
    took: Duration,
}

impl Doctor {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("a JSON report ({e}): {}{}", self.stdout(), self.stderr()))
    }

    fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

impl Cluster {
    fn doctor(&self, config: &Path, args: &[&str]) -> Doctor {
        doctor(self.home.path(), config, &self.playbooks, args)
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        std::process::Command::new(std::env::var("KUBECTL").unwrap_or("kubectl".into()))
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.home.path().join("admin"))
            .output()
            .expect("kubectl")
    }

    /// Text output with the server's address made stable.
    fn stable(&self, text: &str) -> String {
        let authority = self.server.url().trim_end_matches('/').to_owned();
        text.replace(&authority, "https://127.0.0.1:PORT")
    }
}

/// Takes `verb` out of the rule of `role` (a Role or ClusterRole) that grants `resource` alone.
fn without(objects: &mut [Value], kind: &str, role: &str, resource: &str, verb: &str) {
    let role = objects
        .iter_mut()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == role)
        .expect("the role");
    let rules = role["rules"].as_array_mut().expect("rules");
    let rule = rules
        .iter_mut()
        .find(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|x| x == resource))
        })
        .expect("the rule");
    assert_eq!(rule["resources"], json!([resource]), "a rule of its own");
    let verbs = rule["verbs"].as_array_mut().expect("verbs");
    verbs.retain(|v| v != verb);
    assert!(!verbs.is_empty(), "a rule without verbs");
}

/// `rounds doctor` with the service account's kubeconfig in `home`.
fn doctor(home: &Path, config: &Path, playbooks: &Path, args: &[&str]) -> Doctor {
    doctor_in(home, config, playbooks, args, &[])
}

/// The same with `env` set (an Indexed Job's shard).
fn doctor_in(
    home: &Path,
    config: &Path,
    playbooks: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Doctor {
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("doctor")
        .arg("--config")
        .arg(config)
        .arg("--playbooks")
        .arg(playbooks)
        .arg("--kubeconfig")
        .arg(home.join("kubeconfig"))
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("ROUNDS_SHARDS")
        .envs(env.iter().copied())
        .output()
        .expect("run rounds doctor");
    Doctor {
        out,
        took: started.elapsed(),
    }
}

fn checks(report: &Value) -> Vec<Value> {
    report["checks"].as_array().cloned().unwrap_or_default()
}

fn by_status(report: &Value, status: &str) -> Vec<Value> {
    checks(report)
        .into_iter()
        .filter(|c| c["status"] == status)
        .collect()
}

fn asked(check: &Value) -> Permission {
    let p = &check["permission"];
    Permission {
        verb: p["verb"].as_str().unwrap_or_default().into(),
        group: p["group"].as_str().unwrap_or_default().into(),
        resource: p["resource"].as_str().unwrap_or_default().into(),
        namespace: p["namespace"].as_str().map(str::to_owned),
    }
}

/// What the rendered RBAC grants that the doctor never asks about, with why that is fine.
fn unasked_grants(objects: &[Value], report: &Value) -> BTreeSet<Permission> {
    let asked: Vec<Permission> = checks(report)
        .iter()
        .filter(|c| c["stage"] == "rbac")
        .map(asked)
        .collect();
    granted(objects, "rounds", "rounds")
        .into_iter()
        .filter(|g| !asked.iter().any(|a| covers(g, a) || a == g))
        .collect()
}

fn p(verb: &str, group: &str, resource: &str) -> Permission {
    Permission {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        namespace: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_overlay_with_its_rbac_and_runner_config_passes_every_check() {
    for overlay in ["overlays/observe", "overlays/remediate"] {
        let c = cluster(overlay, true, |_| {}).await;
        let d = c.doctor(&c.config, &["--output", "json"]);
        d.expect(0);
        let report = d.json();
        eprintln!(
            "{overlay}: {} checks ({} rbac) in {:?}",
            checks(&report).len(),
            checks(&report)
                .iter()
                .filter(|c| c["stage"] == "rbac")
                .count(),
            d.took
        );
        assert_eq!(report["kind"], "DoctorReport");
        assert_eq!(report["exitCode"], 0);
        assert!(by_status(&report, "fail").is_empty(), "{report:#}");
        let granted = granted(&c.objects, "rounds", "rounds");
        // Every permission found granted is granted by the overlay's rendered RBAC, and every
        // one that is not is (only) a dry run of a write in the observe overlay.
        for check in checks(&report).iter().filter(|c| c["stage"] == "rbac") {
            let need = asked(check);
            let is_granted = granted.iter().any(|g| covers(g, &need));
            match check["status"].as_str() {
                Some("ok") => assert!(is_granted, "{check}"),
                Some("optional") => {
                    assert_eq!(overlay, "overlays/observe", "{check}");
                    assert!(!is_granted, "{check}");
                    assert!(
                        check["detail"]
                            .as_str()
                            .is_some_and(|d| d.contains("dry-run rounds do without it")),
                        "{check}"
                    );
                    assert!(check["grant"]["rule"]["verbs"].is_array(), "{check}");
                }
                other => panic!("{other:?}: {check}"),
            }
        }
        let optional = by_status(&report, "optional");
        let writes: BTreeSet<String> = optional
            .iter()
            .map(|c| c["what"].as_str().unwrap_or_default().to_owned())
            .collect();
        if overlay == "overlays/observe" {
            // The bundled actions' writes (and their audit Events), not granted to observe.
            assert_eq!(
                writes,
                [
                    "create events.events.k8s.io in every namespace",
                    "delete pods in every namespace",
                    "get nodes",
                    "get pods in every namespace",
                    "patch cronjobs.batch in every namespace",
                    "patch daemonsets.apps in every namespace",
                    "patch deployments.apps in every namespace",
                    "patch nodes",
                    "patch persistentvolumeclaims in every namespace",
                    "patch replicasets.apps in every namespace",
                    "patch statefulsets.apps in every namespace",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                "{report:#}"
            );
            assert_eq!(report["mode"], "dry-run");
        } else {
            assert!(optional.is_empty(), "{report:#}");
            assert_eq!(report["mode"], "apply");
        }
        // What the overlay grants and no check asks about: only doctor's own question (the
        // RBAC both-ways test, tests/manifests_rbac.rs, proves that rounds uses every grant).
        let unasked = unasked_grants(&c.objects, &report);
        assert_eq!(
            unasked,
            [p(
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews"
            )]
            .into_iter()
            .collect(),
            "{overlay} grants what doctor does not check"
        );
        // The text says the same, one line per check, and ends with the exit code.
        let t = c.doctor(&c.config, &["--output", "text"]);
        t.expect(0);
        let text = t.stdout();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("rounds doctor: "), "{text}");
        let marks: Vec<&str> = lines[1..lines.len() - 1]
            .iter()
            .filter(|l| !l.starts_with(' '))
            .map(|l| &l[..4])
            .collect();
        assert_eq!(marks.len(), checks(&report).len(), "{text}");
        assert!(marks.iter().all(|m| *m == "ok  " || *m == "opt "), "{text}");
        assert_eq!(
            lines[lines.len() - 1],
            format!(
                "{} ok, 0 failed, {} optional not granted; exit 0",
                checks(&report).len() - optional.len(),
                optional.len()
            )
        );

        // Asked what applying needs, the observe overlay fails on exactly those writes.
        if overlay == "overlays/observe" {
            let a = c.doctor(&c.config, &["--output", "json", "--apply"]);
            a.expect(2);
            let failed: BTreeSet<String> = by_status(&a.json(), "fail")
                .iter()
                .map(|c| c["what"].as_str().unwrap_or_default().to_owned())
                .collect();
            assert_eq!(failed, writes);
        }
    }
}

/// Every request a round makes (the round's own, as rounds' service account) needs a
/// permission that doctor checks, and doctor found it as the round did: granted, or (the
/// observe overlay's dry runs of writes) optional.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_a_round_is_one_doctor_checks() {
    for overlay in ["overlays/observe", "overlays/remediate"] {
        let c = cluster_of(overlay, true, Some("tests/fixtures/demo-cluster"), |_| {}).await;
        let report = c.doctor(&c.config, &["--output", "json"]).expect(0).json();
        c.server.requests().clear();
        let round = std::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
            .arg("run")
            .arg("--config")
            .arg(&c.config)
            .arg("--playbooks")
            .arg(&c.playbooks)
            .arg("--kubeconfig")
            .arg(c.home.path().join("kubeconfig"))
            .args(["--now", "2026-11-22T10:00:00Z", "--output", "json"])
            .env("HOME", c.home.path())
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .expect("rounds run");
        let round_report: Value = serde_json::from_slice(&round.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&round.stderr)));
        assert!(
            round_report["actions"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "the round acts on the demo cluster: {round_report:#}"
        );
        let rbac: Vec<Value> = checks(&report)
            .into_iter()
            .filter(|c| c["stage"] == "rbac")
            .collect();
        let mut used = BTreeSet::new();
        for r in c.server.requests().records() {
            if r.user.as_deref() != Some("system:serviceaccount:rounds:rounds") {
                continue;
            }
            let Some(need) = deploy::rbac::needed(&r) else {
                continue;
            };
            let check = rbac
                .iter()
                .find(|c| covers(&asked(c), &need))
                .unwrap_or_else(|| panic!("{overlay}: doctor does not check {need} ({r:?})"));
            let refused_dry_run = r.status == 403 && r.query.contains("dryRun=All");
            let expected = if refused_dry_run { "optional" } else { "ok" };
            assert_eq!(check["status"], expected, "{overlay}: {r:?}: {check}");
            used.insert(asked(check));
        }
        eprintln!(
            "{overlay}: the round ({} action(s)) used {} of the {} permissions doctor checks",
            round_report["actions"].as_array().map_or(0, Vec::len),
            used.len(),
            rbac.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_ledger_rule_is_printed_with_the_rule_to_paste() {
    let c = cluster("overlays/observe", true, |o| {
        without(o, "Role", "rounds-ledger", "configmaps", "update")
    })
    .await;
    let d = c.doctor(&c.config, &["--output", "text"]);
    d.expect(2);
    let text = c.stable(&d.stdout());
    insta::assert_snapshot!("observe_without_configmaps_update", text);
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(
        fails,
        [
            "FAIL  rbac       update configmaps in namespace rounds: missing; needed for the ledger (ConfigMap rounds-ledger)"
        ]
    );
    // Paste the printed rule into the Role as a user would, and apply it with kubectl.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("FAIL"))
        .expect("the failure");
    assert_eq!(
        lines[at + 1].trim(),
        "add this rule to a Role in namespace rounds bound to rounds' service account (RoleBinding):"
    );
    let pasted: Vec<&str> = lines[at + 2..at + 5].iter().map(|l| &l[20..]).collect();
    assert_eq!(
        pasted,
        [
            "- apiGroups: [\"\"]",
            "  resources: [\"configmaps\"]",
            "  verbs: [\"update\"]"
        ]
    );
    let role = find(&c.objects, "Role", "rounds-ledger");
    let mut yaml = String::from(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: rounds-ledger\n  namespace: rounds\nrules:\n",
    );
    for rule in role["rules"].as_array().expect("rules") {
        yaml.push_str(&format!("- {rule}\n"));
    }
    for line in &pasted {
        yaml.push_str(line);
        yaml.push('\n');
    }
    let file = c.home.path().join("role.yaml");
    std::fs::write(&file, &yaml).expect("role");
    let out = c.kubectl(&["apply", "-f", file.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    c.doctor(&c.config, &["--output", "text"]).expect(0);
}

const EVICT: &str = "apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata: {name: crashloop-evict}
spec:
  detect: {crashLoopBackOff: {minRestarts: 10}}
  remediate: [{evictPod: {}}]
";

/// A shard of the Indexed Job (the shards overlay) holds a Lease of its own; the permissions
/// are the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_checks_its_own_lease() {
    let c = cluster("overlays/shards", true, |_| {}).await;
    let shard = [("ROUNDS_SHARDS", "3"), ("JOB_COMPLETION_INDEX", "2")];
    let d = doctor_in(
        c.home.path(),
        &c.config,
        &c.playbooks,
        &["--output", "json"],
        &shard,
    );
    d.expect(0);
    let report = d.json();
    assert_eq!(report["shard"], "shard 2 of 3");
    let lease = checks(&report)
        .into_iter()
        .find(|c| c["what"] == "update leases.coordination.k8s.io in namespace rounds")
        .expect("the Lease check");
    assert_eq!(lease["status"], "ok");
    assert_eq!(
        lease["for"],
        json!([{"what": "the run lock (Lease rounds-shard-2)"}])
    );
    let whole = c.doctor(&c.config, &["--output", "json"]).expect(0).json();
    let rbac = |r: &Value| -> Vec<Value> {
        checks(r)
            .into_iter()
            .filter(|c| c["stage"] == "rbac")
            .map(|c| c["permission"].clone())
            .collect()
    };
    assert_eq!(rbac(&report), rbac(&whole));
}

/// evictPod is in no bundled playbook, so the remediate overlay does not grant its verb
/// (components/more-actions does): doctor names it, and the component's RBAC makes it pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicting_playbook_needs_the_more_actions_component() {
    let mut c = cluster("overlays/remediate", true, |_| {}).await;
    // Without a playbook that evicts, nothing needs the grant.
    c.doctor(&c.config, &["--output", "json"]).expect(0);
    let playbooks = c.home.path().join("playbooks");
    std::fs::create_dir(&playbooks).expect("dir");
    std::fs::write(playbooks.join("evict.yaml"), EVICT).expect("playbook");
    c.playbooks = playbooks;
    let d = c.doctor(&c.config, &["--output", "json"]);
    d.expect(2);
    let report = d.json();
    assert_eq!(report["exitCode"], 2);
    let fails = by_status(&report, "fail");
    assert_eq!(fails.len(), 1, "{report:#}");
    assert_eq!(
        fails[0],
        json!({
            "stage": "rbac",
            "what": "create pods/eviction in every namespace",
            "status": "fail",
            "detail": "missing; needed for evictPod (playbook crashloop-evict)",
            "permission": {"verb": "create", "group": "", "resource": "pods/eviction"},
            "for": [{"what": "evictPod", "playbooks": ["crashloop-evict"]}],
            "grant": {"kind": "ClusterRole",
                "rule": {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]}},
        })
    );
    let t = c.doctor(&c.config, &["--output", "text"]);
    t.expect(2);
    let text = t.stdout();
    let at = text.find("FAIL").expect("a failure");
    assert_eq!(
        text[at..].lines().take(5).collect::<Vec<_>>(),
        [
            "FAIL  rbac       create pods/eviction in every namespace: missing; needed for evictPod (playbook crashloop-evict)",
            "                  add this rule to a ClusterRole bound to rounds' service account (ClusterRoleBinding):",
            "                    - apiGroups: [\"\"]",
            "                      resources: [\"pods/eviction\"]",
            "                      verbs: [\"create\"]",
        ]
    );
    assert!(
        text.ends_with("1 failed, 0 optional not granted; exit 2\n"),
        "{text}"
    );
    let rbac = repo("manifests/components/more-actions/rbac.yaml");
    let out = c.kubectl(&["apply", "-f", rbac.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    c.doctor(&c.config, &["--output", "text"]).expect(0);
}

/// A port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_channels_are_checked_without_printing_a_secret() {
    let c = cluster("overlays/observe", true, |_| {}).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let open = listener.local_addr().expect("addr").port();
    let closed = closed_port();
    let secrets = c.home.path().join("secrets");
    std::fs::create_dir(&secrets).expect("secrets dir");
    let values = [
        (
            "hook-url",
            format!("http://127.0.0.1:{closed}/hooks/S3CRET-PATH-TOKEN-0001"),
        ),
        ("hook-token", "S3CRET-BEARER-0002".to_owned()),
        (
            "alive-url",
            format!("http://127.0.0.1:{open}/hooks/S3CRET-PATH-TOKEN-0003"),
        ),
        ("pd-key", String::new()),
    ];
    for (file, value) in &values {
        std::fs::write(secrets.join(file), value).expect("secret");
    }
    let channels = format!(
        "notifications:
  channels:
    hook:
      webhook: {{urlFile: hook-url, bearerTokenFile: hook-token}}
    alive:
      webhook: {{urlFile: alive-url}}
    ops:
      slack: {{webhookUrlFile: slack-url}}
    pager:
      pagerduty: {{routingKeyFile: pd-key, url: 'http://127.0.0.1:{open}/v2/enqueue'}}
  routes:
    - name: all
      channels: [hook, alive, ops, pager]
"
    );
    let base = std::fs::read_to_string(&c.config).expect("config").replace(
        "secretsDir: /etc/rounds/secrets",
        &format!("secretsDir: {}", secrets.display()),
    );
    let config = c.home.path().join("with-channels.yaml");
    std::fs::write(&config, format!("{base}\n{channels}")).expect("config");
    let json = c.doctor(&config, &["--output", "json"]);
    let text = c.doctor(&config, &["--output", "text"]);
    // A secret file that is missing or empty is invalid config: exit 1, as `rounds run` would.
    json.expect(1);
    text.expect(1);
    for d in [&json, &text] {
        let all = format!("{}{}", d.stdout(), d.stderr());
        for (file, value) in &values {
            if !value.is_empty() {
                assert!(
                    !all.contains(value.as_str()),
                    "the secret {file} was printed:\n{all}"
                );
            }
        }
        for part in ["S3CRET", "/hooks/"] {
            assert!(!all.contains(part), "{part} was printed:\n{all}");
        }
    }
    let report = json.json();
    let check = |what: &str| {
        checks(&report)
            .into_iter()
            .find(|c| c["what"].as_str().is_some_and(|w| w.starts_with(what)))
            .unwrap_or_else(|| panic!("no check {what}: {report:#}"))
    };
    let status = |what: &str| {
        check(what)["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        status("secret notifications.channels.hook.webhook.urlFile"),
        "ok"
    );
    assert_eq!(
        status("secret notifications.channels.hook.webhook.bearerTokenFile"),
        "ok"
    );
    assert_eq!(
        status("secret notifications.channels.alive.webhook.urlFile"),
        "ok"
    );
    let missing = check("secret notifications.channels.ops.slack.webhookUrlFile");
    assert_eq!(missing["status"], "fail");
    assert!(
        missing["detail"]
            .as_str()
            .is_some_and(|d| d.contains("slack-url")),
        "{missing}"
    );
    let empty = check("secret notifications.channels.pager.pagerduty.routingKeyFile");
    assert_eq!(empty["status"], "fail");
    assert!(
        empty["detail"]
            .as_str()
            .is_some_and(|d| d.contains("empty")),
        "{empty}"
    );
    let hook = check("channel hook ");
    assert_eq!(hook["status"], "fail", "{hook}");
    assert!(
        hook["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("127.0.0.1:{closed}"))),
        "{hook}"
    );
    assert_eq!(check("channel alive ")["status"], "ok");
    assert_eq!(check("channel pager ")["status"], "ok");
    assert_eq!(check("channel ops ")["status"], "fail");
    let fails: BTreeSet<String> = by_status(&report, "fail")
        .iter()
        .map(|c| c["what"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        fails,
        [
            "channel hook (webhook)",
            "channel ops (slack)",
            "secret notifications.channels.ops.slack.webhookUrlFile",
            "secret notifications.channels.pager.pagerduty.routingKeyFile",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );

    // With every secret in place, a channel that does not answer alone: exit 2.
    std::fs::write(
        secrets.join("slack-url"),
        format!("http://127.0.0.1:{open}/S3CRET"),
    )
    .expect("secret");
    std::fs::write(secrets.join("pd-key"), "S3CRET-ROUTING-KEY").expect("secret");
    let d = c.doctor(&config, &["--output", "text"]);
    d.expect(2);
    let all = format!("{}{}", d.stdout(), d.stderr());
    assert!(!all.contains("S3CRET"), "{all}");
    let fails: Vec<&str> = all.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 1, "{all}");
    assert!(
        fails[0]
            .starts_with("FAIL  channel    channel hook (webhook): cannot connect to 127.0.0.1:"),
        "{all}"
    );
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_namespace_is_reported() {
    // Without the namespace there is no Role or RoleBinding in it either.
    let c = cluster("overlays/observe", false, |o| {
        o.retain(|x| {
            !(x["apiVersion"] == "rbac.authorization.k8s.io/v1"
                && x["metadata"]["namespace"] == "rounds")
        })
    })
    .await;
    let d = c.doctor(&c.config, &["--output", "json"]);
    d.expect(2);
    let report = d.json();
    let fails = by_status(&report, "fail");
    let what: Vec<&str> = fails.iter().filter_map(|f| f["what"].as_str()).collect();
    assert_eq!(
        what,
        [
            "get configmaps in namespace rounds",
            "create configmaps in namespace rounds",
            "update configmaps in namespace rounds",
            "get leases.coordination.k8s.io in namespace rounds",
            "create leases.coordination.k8s.io in namespace rounds",
            "update leases.coordination.k8s.io in namespace rounds",
            "namespace rounds",
        ],
        "{report:#}"
    );
    let namespace = fails.last().expect("the namespace check");
    assert_eq!(namespace["stage"], "ledger");
    assert!(
        namespace["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("does not exist")
                && d.contains("kubectl create namespace rounds")),
        "{namespace}"
    );
    // Nothing is read from a namespace that is not there.
    assert!(
        !checks(&report).iter().any(|c| c["what"]
            .as_str()
            .is_some_and(|w| w.starts_with("ledger ConfigMap"))),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_does_not_answer_exits_2_saying_so() {
    let c = cluster("overlays/observe", true, |_| {}).await;
    let url = c.server.url().trim_end_matches('/').to_owned();
    let Cluster {
        server,
        home,
        config,
        playbooks,
        ..
    } = c;
    server.shutdown().await;
    let d = doctor(home.path(), &config, &playbooks, &["--output", "text"]);
    d.expect(2);
    let text = d.stdout();
    eprintln!("unreachable API: {:?}", d.took);
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 1, "{text}");
    assert!(
        fails[0].starts_with(&format!("FAIL  api        {url}/: ")),
        "{text}"
    );
    assert!(
        fails[0].contains(&format!("cannot reach the Kubernetes API at {url}/")),
        "{text}"
    );
    // Nothing that needs the API is claimed to be fine.
    assert!(
        !text
            .lines()
            .any(|l| l.contains(" rbac ") || l.contains(" ledger ")),
        "{text}"
    );
    assert!(text.ends_with("exit 2\n"), "{text}");
}

const PROMETHEUS_PVC: &str = "apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata: {name: pvc-from-prometheus}
spec:
  detect: {pvcUsage: {usedPercent: 85%, source: prometheus}}
  remediate: [{notifyOnly: {}}]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_and_the_pushgateway_are_reached_and_their_secret_read() {
    let mut c = cluster("overlays/observe", true, |_| {}).await;
    let playbooks = c.home.path().join("playbooks");
    std::fs::create_dir(&playbooks).expect("dir");
    std::fs::write(playbooks.join("pvc.yaml"), PROMETHEUS_PVC).expect("playbook");
    c.playbooks = playbooks;
    // A playbook that reads Prometheus without its URL: invalid config, as `rounds run` says.
    let d = c.doctor(&c.config, &["--output", "json"]);
    d.expect(1);
    let report = d.json();
    let fails = by_status(&report, "fail");
    assert_eq!(fails.len(), 1, "{report:#}");
    assert_eq!(fails[0]["stage"], "config");
    assert_eq!(fails[0]["what"], "prometheus.url");

    let prometheus = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let prometheus_port = prometheus.local_addr().expect("addr").port();
    let gateway_port = closed_port();
    let secrets = c.home.path().join("secrets");
    std::fs::create_dir(&secrets).expect("secrets dir");
    let base = std::fs::read_to_string(&c.config).expect("config").replace(
        "secretsDir: /etc/rounds/secrets",
        &format!("secretsDir: {}", secrets.display()),
    );
    let config = c.home.path().join("with-metrics.yaml");
    std::fs::write(
        &config,
        format!(
            "{base}
prometheus:
  url: http://127.0.0.1:{prometheus_port}
metrics:
  pushgateway:
    url: http://127.0.0.1:{gateway_port}
    cluster: test
    timeout: 2s
    auth:
      basic: {{username: rounds, passwordFile: gateway-password}}
"
        ),
    )
    .expect("config");
    let d = c.doctor(&config, &["--output", "json"]);
    // The Pushgateway's password file is missing: exit 1.
    d.expect(1);
    let report = d.json();
    let status = |stage: &str| {
        checks(&report)
            .into_iter()
            .filter(|c| c["stage"] == stage)
            .map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_owned(),
                    c["detail"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let secret = status("secret");
    assert_eq!(secret.len(), 1, "{report:#}");
    assert_eq!(secret[0].0, "fail");
    assert!(secret[0].1.contains("gateway-password"), "{secret:?}");
    assert_eq!(
        status("prometheus"),
        [(
            "ok".to_owned(),
            format!("127.0.0.1:{prometheus_port} accepts connections")
        )]
    );
    let gateway = status("metrics");
    assert_eq!(gateway.len(), 1, "{report:#}");
    assert_eq!(gateway[0].0, "fail");
    assert!(
        gateway[0]
            .1
            .starts_with(&format!("cannot connect to 127.0.0.1:{gateway_port}")),
        "{gateway:?}"
    );
    // The claims the playbook's findings name are still read from the API.
    assert!(
        checks(&report).iter().any(|c| c["what"]
            == "get persistentvolumeclaims in every namespace"
            && c["status"] == "ok"),
        "{report:#}"
    );
    // With the password in place, only the unreachable gateway is left: exit 2.
    std::fs::write(secrets.join("gateway-password"), "S3CRET-GATEWAY-PASSWORD").expect("secret");
    let d = c.doctor(&config, &["--output", "text"]);
    d.expect(2);
    assert!(!format!("{}{}", d.stdout(), d.stderr()).contains("S3CRET"));
    drop(prometheus);
}
