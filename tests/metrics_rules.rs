//! manifests/monitoring checked with the real tools: `promtool check rules` accepts the rule
//! file and the PrometheusRule's rules, `promtool test rules` passes rules.test.yaml, and the
//! PrometheusRule carries exactly the rules of the plain file.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn promtool(args: &[&str]) -> (bool, String) {
    let bin = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!("\n\n!!! promtool is not installed. scripts/test.sh installs Debian's `prometheus` package, which has it.\n")
        });
    let out = Command::new(bin).args(args).output().expect("run promtool");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(repo(rel)).expect(rel);
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const ALERTS: [&str; 7] = [
    "RoundsNotSucceeding",
    "RoundsJobFailed",
    "RoundsMetricsAbsent",
    "RoundsActionsFailing",
    "RoundsNotificationsFailing",
    "RoundsCircuitBreakerOpen",
    "RoundsPushRejected",
];

#[test]
fn promtool_accepts_the_rules_and_their_tests_pass() {
    let rules = repo("manifests/monitoring/rules.yaml");
    let (ok, out) = promtool(&["check", "rules", rules.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS: 7 rules found"), "{out}");
    let tests = repo("manifests/monitoring/rules.test.yaml");
    let (ok, out) = promtool(&["test", "rules", tests.to_str().expect("utf-8")]);
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS"), "{out}");
    // Every alert has a test that expects it to fire.
    let test_text = std::fs::read_to_string(&tests).expect("tests");
    for alert in ALERTS {
        assert!(
            test_text.contains(&format!(
                "alertname: {alert}\n        exp_alerts:\n          -"
            )) || test_text.contains(&format!(
                "alertname: {alert}\n        exp_alerts:\n          # "
            )),
            "{alert} is never expected to fire in rules.test.yaml"
        );
    }
}

#[test]
fn promtool_fails_a_rule_test_that_expects_the_wrong_alert() {
    // The rule tests can fail: the same series with a wrong expectation.
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(
        repo("manifests/monitoring/rules.yaml"),
        dir.path().join("rules.yaml"),
    )
    .expect("copy");
    let test = "rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  input_series:\n  - series: 'rounds_actions{job=\"rounds\",cluster=\"c\",shard=\"0\",playbook=\"p\",action=\"deletePod\",status=\"applied\",guard=\"\"}'\n    values: '1x5'\n  alert_rule_test:\n  - eval_time: 2m\n    alertname: RoundsActionsFailing\n    exp_alerts:\n    - exp_labels: {severity: warning, cluster: c, shard: '0', playbook: p, action: deletePod}\n";
    std::fs::write(dir.path().join("t.yaml"), test).expect("test");
    let (ok, out) = promtool(&[
        "test",
        "rules",
        dir.path().join("t.yaml").to_str().expect("utf-8"),
    ]);
    assert!(!ok, "applied actions are no failure: {out}");
    assert!(out.contains("FAILED"), "{out}");
}

#[test]
fn the_prometheus_rule_carries_the_same_rules_and_promtool_accepts_them() {
    let plain = yaml("manifests/monitoring/rules.yaml");
    let operator = yaml("manifests/monitoring/prometheusrule.yaml");
    assert_eq!(operator["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(operator["kind"], "PrometheusRule");
    assert_eq!(operator["metadata"]["name"], "rounds");
    assert_eq!(
        operator["spec"]["groups"], plain["groups"],
        "prometheusrule.yaml and rules.yaml differ: change both together"
    );
    let names: Vec<&str> = plain["groups"][0]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["alert"].as_str())
        .collect();
    assert_eq!(names, ALERTS);
    // promtool reads the operator's spec as a rule file too.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("spec.json");
    std::fs::write(
        &file,
        serde_json::to_string(&operator["spec"]).expect("json"),
    )
    .expect("write");
    let (ok, out) = promtool(&["check", "rules", file.to_str().expect("utf-8")]);
    assert!(ok && out.contains("SUCCESS: 7 rules found"), "{out}");
}

#[test]
fn the_rules_and_the_dashboard_read_only_metrics_rounds_pushes() {
    // The families rounds writes (tests/metrics_pushgateway.rs reads them back from a gateway).
    let exported = [
        "rounds_build_info",
        "rounds_last_start_timestamp_seconds",
        "rounds_last_end_timestamp_seconds",
        "rounds_last_success_timestamp_seconds",
        "rounds_last_duration_seconds",
        "rounds_interval_seconds",
        "rounds_last_exit_code",
        "rounds_findings",
        "rounds_actions",
        "rounds_guard_skips",
        "rounds_notifications",
        "rounds_inventory_objects",
        "rounds_api_requests",
        "rounds_api_retries",
    ];
    let mut texts =
        vec![std::fs::read_to_string(repo("manifests/monitoring/rules.yaml")).expect("rules")];
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("manifests/monitoring/dashboard.json")).expect("dashboard"),
    )
    .expect("the dashboard is JSON");
    assert_eq!(dashboard["uid"], "rounds-overview");
    for panel in dashboard["panels"].as_array().expect("panels") {
        assert!(panel["title"].is_string() && panel["gridPos"]["w"].is_number());
        for t in panel["targets"].as_array().expect("targets") {
            texts.push(t["expr"].as_str().expect("expr").to_owned());
        }
    }
    let mut used = std::collections::BTreeSet::new();
    for text in &texts {
        let mut rest = text.as_str();
        while let Some(i) = rest.find("rounds_") {
            let name: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[i + name.len()..];
            // `rounds_*` in a comment names them all.
            if name != "rounds_" {
                used.insert(name);
            }
        }
    }
    for name in &used {
        assert!(
            exported.contains(&name.as_str()),
            "{name} is read by the rules or dashboard but rounds does not push it"
        );
    }
    for needed in [
        "rounds_last_success_timestamp_seconds",
        "rounds_findings",
        "rounds_actions",
        "rounds_last_duration_seconds",
    ] {
        assert!(used.contains(needed), "{needed} is not shown or alerted on");
    }
}
