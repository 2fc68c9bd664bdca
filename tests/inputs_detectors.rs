//! End-to-end: the bundled playbooks on a snapshot of real-dump quirks
//! (`tests/fixtures/quirks`, see its README): containers that cannot start, a typed PodList
//! from the API, a pasted pod whose eviction is only a condition, OOM kills only in Node Events.

use serde_json::Value;
use std::process::Command;

fn plan() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args([
            "plan",
            "--snapshot",
            "tests/fixtures/quirks",
            "--playbooks",
            "playbooks",
            "--now",
            "2026-11-22T10:00:00Z",
            "--output",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rounds");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// `playbook: target: message` of every finding.
fn findings(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let t = &f["target"];
            let mut target = format!("{} ", t["kind"].as_str().unwrap_or_default());
            if let Some(ns) = t["namespace"].as_str() {
                target.push_str(&format!("{ns}/"));
            }
            target.push_str(t["name"].as_str().unwrap_or_default());
            if let Some(c) = t["container"].as_str() {
                target.push_str(&format!(" container={c}"));
            }
            format!(
                "{}: {target}: {}",
                f["playbook"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn the_bundled_playbooks_read_the_quirks_right() {
    let r = plan();
    assert_eq!(
        r["summary"]["objects"], 8,
        "3 pods of a PodList without item kinds, 1 pasted pod, 3 Events, 1 node"
    );
    assert_eq!(
        findings(&r),
        [
            "container-start-failure-notify: Pod payments/checkout-7b9c5d8f4-x7p2m container=checkout: app container checkout cannot start (CreateContainerConfigError): Secret db-credentials is missing",
            "container-start-failure-notify: Pod shop/notifier-84f6d9c7b-m2n4p container=notifier: app container notifier cannot start (StartError): its command cannot run (exit code 128)",
            "container-start-failure-notify: Pod shop/search-indexer-6d8f9b7c5-4hq8z container=migrate: init container migrate cannot start (InvalidImageName): the image name registry.example.com/shop/migrate:latest:v2 is invalid",
            "evicted-cleanup: Pod shop/report-generator-5c9f7d8b6-kq2wd: pod was evicted: the node was low on ephemeral-storage",
            "node-oom-notify: Node node-a: the kernel of node node-a killed processes for lack of memory: 3 time(s) (OOMKilling from kernel-monitor)",
        ],
        "the StartError container in CrashLoopBackOff is not a crash loop; InvalidImageName is not a pull failure; the OOM kill of 22:00 is outside the hour"
    );
    let by_target = |name: &str| -> &Value {
        r["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["target"]["name"] == name))
            .expect("finding")
    };
    let checkout = &by_target("checkout-7b9c5d8f4-x7p2m")["evidence"];
    assert_eq!(checkout["missing"], "Secret db-credentials");
    assert_eq!(checkout["reason"], "CreateContainerConfigError");
    let evicted = &by_target("report-generator-5c9f7d8b6-kq2wd")["evidence"];
    assert_eq!(evicted["resource"], "ephemeral-storage");
    assert_eq!(evicted["reason"], "TerminationByKubelet");
    assert!(
        evicted.get("phase").is_none(),
        "the pasted pod has no phase"
    );
    let node = &by_target("node-a")["evidence"];
    assert_eq!(node["reporter"], "kernel-monitor");
    assert_eq!(node["occurrences"], 3);
    // Deleting "failed" pods needs the phase Failed: a pod without a phase is not deleted.
    let skipped: Vec<(&str, &str)> = r["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["status"] == "skipped")
        .map(|a| {
            (
                a["action"].as_str().unwrap_or_default(),
                a["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [("deleteFailedPods", "the pod's phase is unknown, not Failed")]
    );
}

#[test]
fn the_new_detectors_explain_themselves() {
    for (name, first) in [
        (
            "containerStartFailure",
            "containerStartFailure (detector)\n\nFinds containers (app, init, sidecar) that cannot start: waiting with reason",
        ),
        (
            "nodeOomKilled",
            "nodeOomKilled (detector)\n\nFinds nodes whose kernel killed processes for lack of memory, from Events on the Node with",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
            .args(["explain", name])
            .output()
            .expect("run rounds");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(first), "{text}");
    }
}
