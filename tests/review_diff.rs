//! `rounds diff`: the plans of a pull request's base and head playbooks on one read of the
//! demo cluster, for each kind of playbook change, and the exact text, JSON and Markdown output.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DEMO: &str = "tests/fixtures/demo-cluster";
const NOW: &str = "2026-11-22T10:00:00Z";

/// Copies the bundled playbooks into `base/` and `head/` of a temporary directory.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
    for side in ["base", "head"] {
        std::fs::create_dir_all(dir.path().join(side)).expect("mkdir");
        for entry in std::fs::read_dir(&src).expect("playbooks") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name");
            std::fs::copy(&path, dir.path().join(side).join(name)).expect("copy");
        }
    }
    dir
}

/// Replaces text in a head playbook; the text must be there.
fn edit(repo: &Path, file: &str, from: &str, to: &str) {
    let path = repo.join("head").join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

fn diff(repo: &Path, output: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["diff", "--snapshot", DEMO, "--now", NOW, "--output", output])
        .arg("--base")
        .arg(repo.join("base"))
        .arg("--head")
        .arg(repo.join("head"))
        .output()
        .expect("run rounds");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace(&repo.display().to_string(), "<repo>")
}

fn json(repo: &Path) -> Value {
    serde_json::from_str(&diff(repo, "json")).expect("JSON diff")
}

/// `playbook action target` of each entry of `actions.<which>`.
fn actions(d: &Value, which: &str) -> Vec<String> {
    d["actions"][which]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| {
            let a = if which == "changed" { &a["head"] } else { a };
            format!(
                "{} {} {}",
                a["playbook"].as_str().unwrap_or(""),
                a["action"].as_str().unwrap_or(""),
                a["target"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn findings(d: &Value, which: &str) -> Vec<String> {
    d["findings"][which]
        .as_array()
        .expect("list")
        .iter()
        .map(|f| {
            let f = if which == "changed" { &f["head"] } else { f };
            format!(
                "{} {}",
                f["playbook"].as_str().unwrap_or(""),
                f["target"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn none() -> Vec<String> {
    Vec::new()
}

#[test]
fn no_change_no_difference() {
    let r = repo();
    let d = json(r.path());
    assert_eq!(d["kind"], "PlanDiff");
    assert_eq!(d["playbooks"], serde_json::json!([]));
    // Skipped actions count: the guards' verdicts are part of the plan.
    assert_eq!(d["actions"]["unchanged"], 12);
    assert_eq!(d["findings"]["unchanged"], 14);
    for which in ["added", "removed", "changed"] {
        assert_eq!(actions(&d, which), none(), "{which}");
        assert_eq!(findings(&d, which), none(), "{which}");
    }
}

#[test]
fn a_narrower_scope_removes_what_it_no_longer_sees() {
    let r = repo();
    edit(
        r.path(),
        "crashloop-restart.yaml",
        "excludeNamespaces: [\"kube-*\", \"rounds\"]",
        "excludeNamespaces: [\"kube-*\", \"rounds\", payments]",
    );
    let d = json(r.path());
    // fraud-check opted out: its restart was skipped, and now it is not planned at all.
    assert_eq!(
        actions(&d, "removed"),
        [
            "crashloop-restart rolloutRestart Deployment payments/checkout",
            "crashloop-restart rolloutRestart Deployment payments/fraud-check"
        ]
    );
    assert_eq!(
        findings(&d, "removed"),
        [
            "crashloop-restart Pod payments/checkout-84d7c9f6b-r2d2x container=checkout",
            "crashloop-restart Pod payments/fraud-check-5f4d8c6b7-w9x2z container=fraud-check"
        ]
    );
    assert_eq!(actions(&d, "added"), none());
    assert_eq!(actions(&d, "changed"), none());
    assert_eq!(d["playbooks"][0]["change"], "changed");
}

#[test]
fn a_higher_threshold_removes_the_finding_and_its_action() {
    let r = repo();
    edit(
        r.path(),
        "pvc-nearly-full.yaml",
        "usedPercent: 85%",
        "usedPercent: 95%",
    );
    let d = json(r.path());
    assert_eq!(
        actions(&d, "removed"),
        ["pvc-nearly-full expandPvc PersistentVolumeClaim data/data-postgres-0"]
    );
    assert_eq!(
        findings(&d, "removed"),
        ["pvc-nearly-full PersistentVolumeClaim data/data-postgres-0"]
    );
    assert_eq!(actions(&d, "added"), none());
}

#[test]
fn a_new_action_is_added_with_its_request() {
    let r = repo();
    edit(
        r.path(),
        "image-pull-notify.yaml",
        "    - notifyOnly: {}\n",
        "    - notifyOnly: {}\n    - deletePod: { ignoreDisruptionBudgets: true }\n  guards:\n    maxActionsPerRound: 1\n",
    );
    let d = json(r.path());
    assert_eq!(
        actions(&d, "added"),
        ["image-pull-notify deletePod Pod payments/ledger-6c9b8d5f4-k8s9w"]
    );
    let added = &d["actions"]["added"][0];
    // The guards decide in the plan too: the reviewer sees that it would not act today.
    assert_eq!(
        added["verdict"],
        "skipped (blastRadius: it would take the last ready replica of Deployment payments/ledger (1 ready, 0 already taken this round))"
    );
    assert_eq!(
        added["request"],
        "DELETE /api/v1/namespaces/payments/pods/ledger-6c9b8d5f4-k8s9w"
    );
    assert_eq!(actions(&d, "removed"), none());
    assert_eq!(
        findings(&d, "added"),
        none(),
        "the same finding, one more action"
    );
}

#[test]
fn a_removed_playbook_takes_its_findings_and_actions() {
    let r = repo();
    std::fs::remove_file(r.path().join("head/evicted-cleanup.yaml")).expect("rm");
    let d = json(r.path());
    assert_eq!(d["playbooks"][0]["name"], "evicted-cleanup");
    assert_eq!(d["playbooks"][0]["change"], "removed");
    // Both evicted pods: rounds' own (skipped, protected namespace) is gone from the plan too.
    assert_eq!(
        actions(&d, "removed"),
        [
            "evicted-cleanup deleteFailedPods Pod batch/report-worker-9f7c6b5d8-e1v1c",
            "evicted-cleanup deleteFailedPods Pod rounds/rounds-29398740-7kq2d"
        ]
    );
    assert_eq!(
        findings(&d, "removed"),
        [
            "evicted-cleanup Pod batch/report-worker-9f7c6b5d8-e1v1c",
            "evicted-cleanup Pod rounds/rounds-29398740-7kq2d"
        ]
    );
}

#[test]
fn a_guard_change_changes_the_verdict() {
    let r = repo();
    // A window that is closed at NOW (10:00 UTC): the raise that was planned is skipped.
    edit(
        r.path(),
        "oom-raise-memory.yaml",
        "  guards:\n",
        "  guards:\n    windows: [{ schedule: \"0 3 * * *\", duration: 1h }]\n",
    );
    let d = json(r.path());
    assert_eq!(
        actions(&d, "changed"),
        ["oom-raise-memory raiseMemoryLimit Deployment shop/api"]
    );
    let c = &d["actions"]["changed"][0];
    assert_eq!(c["fields"], serde_json::json!(["verdict"]));
    assert_eq!(c["base"]["verdict"], "planned");
    let head = c["head"]["verdict"].as_str().unwrap_or("");
    assert!(head.starts_with("skipped (window: "), "{head}");
    for which in ["added", "removed"] {
        assert_eq!(actions(&d, which), none(), "{which}");
    }
    for which in ["added", "removed", "changed"] {
        assert_eq!(findings(&d, which), none(), "{which}");
    }
}

#[test]
fn a_severity_change_changes_findings_not_actions() {
    let r = repo();
    edit(
        r.path(),
        "pvc-nearly-full.yaml",
        "severity: critical",
        "severity: warning",
    );
    let d = json(r.path());
    assert_eq!(
        findings(&d, "changed"),
        ["pvc-nearly-full PersistentVolumeClaim data/data-postgres-0"]
    );
    let changed = &d["findings"]["changed"][0];
    assert_eq!(changed["base"]["severity"], "critical");
    assert_eq!(changed["head"]["severity"], "warning");
    assert_eq!(changed["fields"], serde_json::json!(["severity"]));
    for which in ["added", "removed", "changed"] {
        assert_eq!(actions(&d, which), none(), "{which}");
    }
}

#[test]
fn a_lower_cap_changes_the_patch() {
    let r = repo();
    edit(r.path(), "oom-raise-memory.yaml", "max: 4Gi", "max: 300Mi");
    let d = json(r.path());
    // cart (512Mi, skipped by gitOps with a suggested patch) is now at the cap: no patch.
    assert_eq!(
        actions(&d, "changed"),
        [
            "oom-raise-memory raiseMemoryLimit Deployment shop/api",
            "oom-raise-memory raiseMemoryLimit Deployment shop/cart"
        ]
    );
    let cart = &d["actions"]["changed"][1];
    assert_eq!(
        cart["fields"],
        serde_json::json!(["verdict", "patch", "summary"])
    );
    assert_eq!(
        cart["head"]["verdict"],
        "skipped (cap: the memory limit 512Mi is already at or above the cap 300Mi)"
    );
    assert!(cart["head"].get("request").is_none(), "{cart}");
    let c = &d["actions"]["changed"][0];
    assert_eq!(c["fields"], serde_json::json!(["patch", "summary"]));
    let memory = |side: &str| {
        c[side]["body"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
            ["memory"]
            .clone()
    };
    assert_eq!(memory("base"), "384Mi");
    assert_eq!(memory("head"), "300Mi");
}

/// Every kind of change at once, in every output format.
fn everything() -> tempfile::TempDir {
    let r = repo();
    let p = r.path();
    edit(
        p,
        "crashloop-restart.yaml",
        "excludeNamespaces: [\"kube-*\", \"rounds\"]",
        "excludeNamespaces: [\"kube-*\", \"rounds\", payments]",
    );
    edit(
        p,
        "pvc-nearly-full.yaml",
        "severity: critical",
        "severity: warning",
    );
    edit(
        p,
        "image-pull-notify.yaml",
        "    - notifyOnly: {}\n",
        "    - notifyOnly: {}\n    - deletePod: { ignoreDisruptionBudgets: true }\n  guards:\n    maxActionsPerRound: 1\n",
    );
    edit(p, "oom-raise-memory.yaml", "max: 4Gi", "max: 300Mi");
    std::fs::remove_file(p.join("head/evicted-cleanup.yaml")).expect("rm");
    r
}

#[test]
fn text_output() {
    let r = everything();
    insta::assert_snapshot!(diff(r.path(), "text"));
}

#[test]
fn json_output() {
    let r = everything();
    insta::assert_snapshot!(diff(r.path(), "json"));
}

#[test]
fn markdown_output() {
    let r = everything();
    insta::assert_snapshot!(diff(r.path(), "markdown"));
}

/// A crash-looping pod without an owner, `i` in its name.
fn crashing_pod(i: usize) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"worker-{i:05}","namespace":"jobs","uid":"u{i}"}},
"spec":{{"nodeName":"node-a","containers":[{{"name":"w","image":"w:1"}}]}},
"status":{{"phase":"Running","containerStatuses":[{{"name":"w","restartCount":9,"lastState":{{"terminated":{{"exitCode":1,"reason":"Error","finishedAt":"2026-11-22T09:57:00Z"}}}},"state":{{"waiting":{{"reason":"CrashLoopBackOff"}}}}}}]}}}}"#
    )
}

#[test]
fn markdown_stays_within_the_github_comment_limit_and_says_what_was_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    let items: Vec<String> = (0..900).map(crashing_pod).collect();
    std::fs::write(
        dir.path().join("cluster.json"),
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}",
            items.join(",")
        ),
    )
    .expect("write");
    let playbook = |remediate: &str| {
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {{name: crash}}\nspec:\n  detect: {{crashLoopBackOff: {{}}}}\n  remediate: [{remediate}]\n  guards: {{maxActionsPerRound: 1000}}\n"
        )
    };
    for (side, remediate) in [
        ("base", "notifyOnly: {}"),
        ("head", "deletePod: { ignoreDisruptionBudgets: true }"),
    ] {
        std::fs::create_dir_all(dir.path().join(side)).expect("mkdir");
        std::fs::write(
            dir.path().join(side).join("crash.yaml"),
            playbook(remediate),
        )
        .expect("write");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["diff", "--now", NOW, "--output", "markdown", "--snapshot"])
        .arg(dir.path().join("cluster.json"))
        .arg("--base")
        .arg(dir.path().join("base"))
        .arg("--head")
        .arg(dir.path().join("head"))
        .output()
        .expect("run rounds");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        md.chars().count() <= 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(md.chars().count() > 60_000, "uses the room it has");
    assert!(
        md.starts_with("### rounds plan diff\n\n**actions: 900 added, 900 removed, 0 changed; findings: 0 added, 0 removed, 0 changed**"),
        "{}",
        &md[..200]
    );
    let note = md.lines().last().expect("a last line");
    assert!(
        note.starts_with("_Cut to stay within GitHub's 65536-character comment limit: ")
            && note.ends_with("`rounds diff --output json` gives the whole diff._"),
        "{note}"
    );
}

/// Removes `metadata.resourceVersion` from every request body in a diff.
fn strip_resource_versions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                meta.remove("resourceVersion");
            }
            map.values_mut().for_each(strip_resource_versions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_resource_versions),
        _ => {}
    }
}

/// Against the API server: the same diff as on the snapshot the server was seeded from, with
/// each collection listed once and each owner fetched once for both plans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_cluster_is_read_once_for_both_plans() {
    use rounds_test_apiserver::{Identity, ServerConfig, TestApiServer};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = TestApiServer::start(
        ServerConfig::new()
            .snapshot(root.join(DEMO))
            .rbac(root.join("manifests"))
            .token("diff-token", Identity::service_account("rounds", "rounds")),
    )
    .await
    .expect("test API server starts");
    let r = everything();
    let kubeconfig = r.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, "diff-token", "rounds")
        .expect("kubeconfig");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["diff", "--now", NOW, "--output", "json", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--base")
        .arg(r.path().join("base"))
        .arg("--head")
        .arg(r.path().join("head"))
        .env("HOME", r.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .await
        .expect("run rounds");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut live: Value = serde_json::from_slice(&out.stdout).expect("JSON diff");
    let mut snap = json(r.path());
    assert!(
        live["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("cluster https://127.0.0.1:"))
    );
    for d in [&mut live, &mut snap] {
        d["source"] = Value::Null;
        d["notes"] = Value::Null;
        // The server counts its own resourceVersions; patches carry what was read.
        strip_resource_versions(d);
    }
    assert_eq!(live, snap, "the live diff differs from the snapshot's");
    let records = server.requests().records();
    // Lists, owners, claims, kubelet summaries, Events, logs: each one request.
    let mut gets: Vec<String> = records
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| format!("{}?{}", r.path, r.query))
        .collect();
    let all = gets.len();
    gets.sort();
    gets.dedup();
    assert_eq!(all, gets.len(), "a request was made twice: {gets:#?}");
    assert!(
        gets.iter().any(|g| g.starts_with("/api/v1/pods?")),
        "{gets:?}"
    );
    assert!(
        gets.iter()
            .any(|g| g.starts_with("/apis/apps/v1/namespaces/shop/deployments/api?")),
        "owners are fetched: {gets:?}"
    );
    assert_eq!(
        records.iter().filter(|r| r.method != "GET").count(),
        0,
        "diff never writes"
    );
}
