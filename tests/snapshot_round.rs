//! End-to-end: the compiled binary makes a round on the bundled demo cluster snapshot.

use serde_json::Value;
use std::process::Command;

fn rounds(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rounds")
}

/// `rounds plan` on a snapshot with the bundled playbooks.
fn plan(snapshot: &str, now: &str, output: &str) -> std::process::Output {
    let out = rounds(&[
        "plan",
        "--snapshot",
        snapshot,
        "--playbooks",
        "playbooks",
        "--now",
        now,
        "--output",
        output,
    ]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn report(snapshot: &str, now: &str) -> Value {
    serde_json::from_slice(&plan(snapshot, now, "json").stdout).expect("a JSON report")
}

fn demo_report() -> Value {
    report("tests/fixtures/demo-cluster", "2026-11-22T10:00:00Z")
}

fn findings_of<'a>(r: &'a Value, playbook: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["playbook"] == playbook)
        .collect()
}

#[test]
fn the_demo_round_reports_each_problem_once_with_its_owner_and_plan() {
    let r = demo_report();
    assert_eq!(r["kind"], "RoundReport");
    assert_eq!(r["mode"], "plan");
    assert_eq!(r["now"], "2026-11-22T10:00:00Z");
    assert_eq!(r["playbooks"].as_array().map(Vec::len), Some(12));
    for p in r["playbooks"].as_array().expect("playbooks") {
        let digest = p["digest"].as_str().expect("digest");
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
    }

    // Two pods of Deployment shop/api were OOMKilled within 6h: minCount 2 is met. (Two of
    // shop/cart too; see the guarded skips below.)
    let oom: Vec<&Value> = findings_of(&r, "oom-raise-memory")
        .into_iter()
        .filter(|f| f["owner"]["name"] == "api")
        .collect();
    assert_eq!(oom.len(), 2);
    assert_eq!(findings_of(&r, "oom-raise-memory").len(), 4);
    for f in &oom {
        assert_eq!(f["detector"], "oomKilled");
        assert_eq!(f["severity"], "warning");
        assert_eq!(f["target"]["kind"], "Pod");
        assert_eq!(f["target"]["namespace"], "shop");
        assert_eq!(f["target"]["container"], "api");
        assert_eq!(f["evidence"]["reason"], "OOMKilled");
        assert_eq!(f["evidence"]["exitCode"], 137);
        assert_eq!(f["owner"]["kind"], "Deployment");
        assert_eq!(f["owner"]["name"], "api");
        assert_eq!(f["owner"]["resolved"], true);
        assert_eq!(f["owner"]["chain"][0]["kind"], "ReplicaSet");
        assert!(
            f["fingerprint"]
                .as_str()
                .is_some_and(|s| s.starts_with("sha256:"))
        );
    }

    let actions = r["actions"].as_array().expect("actions");
    let raise: Vec<&Value> = actions
        .iter()
        .filter(|a| a["action"] == "raiseMemoryLimit" && a["target"]["name"] == "api")
        .collect();
    assert_eq!(
        raise.len(),
        1,
        "one patch for the Deployment, not one per pod"
    );
    let a = raise[0];
    assert_eq!(a["status"], "planned");
    assert_eq!(
        a["target"],
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
            "name": "api", "uid": "7e2638d2-ad9b-4837-2c46-aa5a179f3b4c"})
    );
    assert_eq!(a["findings"].as_array().map(Vec::len), Some(2));
    assert_eq!(a["patch"]["method"], "PATCH");
    assert_eq!(
        a["patch"]["path"],
        "/apis/apps/v1/namespaces/shop/deployments/api"
    );
    assert_eq!(
        a["patch"]["contentType"],
        "application/strategic-merge-patch+json"
    );
    assert_eq!(
        a["patch"]["body"]["spec"],
        serde_json::json!({"template": {"spec": {"containers": [
            {"name": "api", "resources": {"limits": {"memory": "384Mi"}}}
        ]}}})
    );
    // Against the version read, so a Deployment changed since is re-read first; and rounds'
    // audit annotation goes in the same write.
    let meta = &a["patch"]["body"]["metadata"];
    assert!(meta["resourceVersion"].is_string(), "{meta}");
    let stamp: Value = serde_json::from_str(
        meta["annotations"]["rounds.dev/last-remediation"]
            .as_str()
            .expect("stamp"),
    )
    .expect("stamp is JSON");
    assert_eq!(
        stamp,
        serde_json::json!({"time": "2026-11-22T10:00:00Z", "runId": r["runId"],
            "playbook": "oom-raise-memory", "action": "raiseMemoryLimit"})
    );
    // Plan rounds hold every write back with the mode guard, and say what the others said.
    assert_eq!(a["verdicts"][0]["guard"], "mode");
    assert_eq!(a["verdicts"][0]["verdict"], "skip");

    // Crash loops in payments (checkout; fraud-check opted out below), not the one in
    // kube-system (out of scope).
    let crash = findings_of(&r, "crashloop-restart");
    assert_eq!(crash.len(), 2);
    assert_eq!(crash[0]["target"]["name"], "checkout-84d7c9f6b-r2d2x");
    assert_eq!(crash[0]["evidence"]["restartCount"], 7);
    // The pod's recent Events from the snapshot, newest first.
    let events = crash[0]["context"]["events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["reason"], "BackOff");
    assert_eq!(events[0]["count"], 31);
    assert_eq!(events[1]["reason"], "Pulled");
    assert!(
        crash[0]["context"].get("logTail").is_none(),
        "a snapshot has no logs"
    );

    // Node with disk pressure, cordoned.
    let disk = findings_of(&r, "disk-pressure-cordon");
    assert_eq!(disk.len(), 1);
    assert_eq!(
        disk[0]["context"]["events"][0]["reason"],
        "EvictionThresholdMet"
    );
    assert_eq!(
        disk[0]["target"],
        serde_json::json!({"kind": "Node", "name": "node-b"})
    );
    let cordon = actions
        .iter()
        .find(|a| a["action"] == "cordonNode")
        .expect("cordon planned");
    assert_eq!(
        cordon["patch"]["body"]["spec"],
        serde_json::json!({"unschedulable": true})
    );

    // Nearly full claim, expandable class: 20Gi -> 30Gi. The half-full archive claim is quiet.
    let pvc = findings_of(&r, "pvc-nearly-full");
    assert_eq!(pvc.len(), 1);
    assert_eq!(pvc[0]["target"]["name"], "data-postgres-0");
    assert_eq!(pvc[0]["evidence"]["usedPercent"], 93.0);
    let expand = actions
        .iter()
        .find(|a| a["action"] == "expandPvc")
        .expect("expand planned");
    assert_eq!(
        expand["patch"]["body"]["spec"]["resources"]["requests"]["storage"],
        "30Gi"
    );

    // The rest of the demo's problems.
    assert_eq!(
        findings_of(&r, "image-pull-notify")[0]["evidence"]["image"],
        "registry.example.com/payments/ledger:1.0.7"
    );
    assert_eq!(
        findings_of(&r, "evicted-cleanup")[0]["evidence"]["phase"],
        "Failed"
    );
    assert_eq!(
        findings_of(&r, "job-failed-notify")[0]["owner"]["kind"],
        "CronJob"
    );
    assert_eq!(findings_of(&r, "unschedulable-notify").len(), 1);
    assert!(findings_of(&r, "node-not-ready").is_empty());
    let root = findings_of(&r, "node-filesystem-usage");
    assert_eq!(root.len(), 1);
    assert_eq!(
        root[0]["message"],
        "root filesystem is 97% full (97.0 GiB of 100.0 GiB)"
    );
    // What the guards hold back, each with its guard and reason: a GitOps-managed Deployment
    // (the patch stays as the change to make in Git), a Deployment whose owners opted out, and
    // an evicted pod in rounds' own namespace.
    let skipped: Vec<(&str, &str, &str)> = actions
        .iter()
        .filter(|a| a["status"] == "skipped")
        .map(|a| {
            (
                a["action"].as_str().unwrap_or_default(),
                a["target"]["name"].as_str().unwrap_or_default(),
                a["guard"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("rolloutRestart", "fraud-check", "optOut"),
            (
                "deleteFailedPods",
                "rounds-29398740-7kq2d",
                "protectedNamespace"
            ),
            ("raiseMemoryLimit", "cart", "gitOps"),
        ]
    );
    let cart = actions
        .iter()
        .find(|a| a["target"]["name"] == "cart")
        .expect("cart");
    assert!(
        cart["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("Deployment shop/cart is managed by Argo CD")),
        "{cart:#}"
    );
    assert_eq!(
        cart["patch"]["body"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "768Mi"
    );
    // A snapshot round has no ledger and no pause switch: those guards say they did not check.
    let verdicts = &raise[0]["verdicts"];
    let unchecked: Vec<&str> = verdicts
        .as_array()
        .expect("verdicts")
        .iter()
        .filter(|v| v["verdict"] == "unchecked")
        .filter_map(|v| v["guard"].as_str())
        .collect();
    assert_eq!(unchecked, ["pause", "cooldown"], "{verdicts:#}");
    assert_eq!(r["summary"]["findings"], 14);
    assert_eq!(r["summary"]["planned"], 9);
    assert_eq!(r["summary"]["skipped"], 3);
    assert_eq!(
        r["notes"],
        serde_json::json!(["ignored 1 object(s) of kind Service (v1): rounds does not read them"])
    );
}

#[test]
fn the_same_inputs_give_the_same_report() {
    assert_eq!(demo_report(), demo_report());
}

#[test]
fn a_json_snapshot_gives_the_same_findings_as_yaml() {
    // The demo as `kubectl get -o json` would print it: every YAML file turned into JSON.
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-cluster");
    for entry in std::fs::read_dir(&demo).expect("demo dir") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let text = std::fs::read_to_string(&path).expect("read");
        let value: Value = if path.extension().is_some_and(|e| e == "yaml") {
            serde_saphyr::from_str(&text).expect("yaml")
        } else {
            serde_json::from_str(&text).expect("json")
        };
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            serde_json::to_vec(&value).expect("json"),
        )
        .expect("write");
    }
    let from_json = report(
        dir.path().to_str().expect("utf-8 path"),
        "2026-11-22T10:00:00Z",
    );
    let from_yaml = demo_report();
    assert_eq!(from_json["findings"], from_yaml["findings"]);
    assert_eq!(from_json["actions"], from_yaml["actions"]);
}

#[test]
fn text_output_groups_by_playbook_and_ends_with_a_summary() {
    let out = plan(
        "tests/fixtures/demo-cluster",
        "2026-11-22T10:00:00Z",
        "text",
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("playbook oom-raise-memory [warning oomKilled]"),
        "{text}"
    );
    assert!(text.contains("planned raiseMemoryLimit: raise the memory limit of container api in Deployment shop/api from 256Mi to 384Mi"));
    assert_eq!(
        text.lines().last(),
        Some(
            "12 playbook(s), 12 due; 62 object(s) read; 14 finding(s); actions: 9 planned, 0 applied, 3 skipped, 0 failed."
        )
    );
}

#[test]
fn a_playbook_that_is_not_due_detects_nothing() {
    let r = report("tests/fixtures/demo-cluster", "2026-11-22T10:17:00Z");
    let evicted = r["playbooks"]
        .as_array()
        .expect("playbooks")
        .iter()
        .find(|p| p["name"] == "evicted-cleanup")
        .expect("listed");
    assert_eq!(evicted["due"], false, "scheduled hourly at minute 0");
    assert!(findings_of(&r, "evicted-cleanup").is_empty());
}

#[test]
fn exit_codes_follow_the_contract() {
    assert_eq!(rounds(&["--version"]).status.code(), Some(0));
    assert_eq!(rounds(&["explain", "oomKilled"]).status.code(), Some(0));
    assert_eq!(rounds(&["explain", "noSuchThing"]).status.code(), Some(1));
    assert_eq!(rounds(&["plan", "--bogus-flag"]).status.code(), Some(1));
    assert_eq!(
        rounds(&[
            "plan",
            "--snapshot",
            "tests/fixtures/demo-cluster",
            "--playbooks",
            "no/such/dir"
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        rounds(&[
            "plan",
            "--snapshot",
            "tests/fixtures/demo-cluster",
            "--playbooks",
            "playbooks",
            "--now",
            "yesterday"
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        rounds(&[
            "run",
            "--apply",
            "--snapshot",
            "tests/fixtures/demo-cluster",
            "--playbooks",
            "playbooks"
        ])
        .status
        .code(),
        Some(1),
        "a snapshot cannot be changed"
    );
    assert_eq!(
        rounds(&[
            "plan",
            "--snapshot",
            "no/such/snapshot",
            "--playbooks",
            "playbooks"
        ])
        .status
        .code(),
        Some(1)
    );
    let schema = rounds(&["schema"]);
    assert_eq!(schema.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&schema.stdout).expect("schema is JSON");
    assert_eq!(schema["title"], "Playbook");
}

#[test]
fn an_apply_round_that_cannot_reach_the_api_reports_nothing() {
    let out = rounds(&[
        "run",
        "--apply",
        "--kubeconfig",
        "/nonexistent",
        "--playbooks",
        "playbooks",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubeconfig /nonexistent"));
    assert!(out.stdout.is_empty(), "no report claims an apply");
}

#[test]
fn a_snapshot_round_checks_cooldowns_against_a_ledger_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger.json");
    std::fs::write(
        &ledger,
        serde_json::json!({"version": 1, "cooldowns": {
            "raiseMemoryLimit:Deployment.apps/shop/api": {
                "action": "raiseMemoryLimit", "playbook": "oom-raise-memory",
                "runId": "20261122T090000Z-0000abcd", "appliedAt": "2026-11-22T09:00:00Z",
                "target": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "api"}}}})
        .to_string(),
    )
    .expect("ledger file");
    let out = rounds(&[
        "plan",
        "--snapshot",
        "tests/fixtures/demo-cluster",
        "--playbooks",
        "playbooks",
        "--now",
        "2026-11-22T10:00:00Z",
        "--output",
        "json",
        "--ledger",
        ledger.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("report");
    let raise = r["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["action"] == "raiseMemoryLimit" && a["target"]["name"] == "api")
        .expect("raise");
    assert_eq!(raise["status"], "skipped");
    assert_eq!(raise["guard"], "cooldown");
    assert!(
        raise["reason"]
            .as_str()
            .is_some_and(|s| s.contains("by run 20261122T090000Z-0000abcd")
                && s.contains("until 2026-11-23T09:00:00Z")),
        "{raise:#}"
    );
    // Without the file the cooldown is not checked, and the plan says so.
    let plain = demo_report();
    let raise = plain["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["action"] == "raiseMemoryLimit" && a["target"]["name"] == "api")
        .expect("raise");
    let cooldown = raise["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["guard"] == "cooldown")
        .expect("cooldown verdict");
    assert_eq!(cooldown["verdict"], "unchecked");
    assert!(
        cooldown["reason"]
            .as_str()
            .is_some_and(|s| s.contains("a snapshot round has no ledger"))
    );
}
