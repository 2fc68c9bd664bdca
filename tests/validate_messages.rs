//! Exact output of `rounds validate` for bad input: every error at once, each with
//! `file:line:col`, the field path and the source line with a caret.

use std::process::Command;

const GOOD: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: oom
spec:
  detect:
    oomKilled: { minCount: 2, within: 6h }
  remediate:
    - raiseMemoryLimit: { max: 4Gi }
"#;

/// Runs `rounds validate` on files written to a temporary directory; returns exit code and
/// stderr with the directory replaced by `<dir>`.
fn validate(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("validate")
        .arg(dir.path())
        .output()
        .expect("run rounds");
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&dir.path().display().to_string(), "<dir>");
    format!("exit code {}\n{}", out.status.code().unwrap_or(-1), stderr)
}

fn one(text: &str) -> String {
    validate(&[("playbook.yaml", text)])
}

macro_rules! case {
    ($name:ident, $text:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(one(&$text));
        }
    };
}

case!(
    unknown_field_with_suggestion,
    GOOD.replace("  detect:", "  descripton: typo\n  detect:")
);
case!(wrong_type, GOOD.replace("minCount: 2", "minCount: two"));
case!(
    duplicate_key,
    GOOD.replace("kind: Playbook\n", "kind: Playbook\nkind: Playbook\n")
);
case!(
    invalid_duration,
    GOOD.replace("within: 6h", "within: 6 hourz")
);
case!(invalid_quantity, GOOD.replace("max: 4Gi", "max: 4GB"));
case!(
    percentage_out_of_range,
    format!("{GOOD}  guards:\n    maxUnavailable: 125%\n")
);
case!(
    invalid_glob,
    GOOD.replace(
        "  detect:",
        "  scope:\n    namespaces: [\"shop-[\"]\n  detect:"
    )
);
case!(
    invalid_label_selector,
    GOOD.replace(
        "  detect:",
        "  scope:\n    selector: \"app in prod\"\n  detect:"
    )
);
case!(
    invalid_cron,
    GOOD.replace("  detect:", "  schedule: \"*/30 * * *\"\n  detect:")
);
case!(
    number_out_of_range,
    GOOD.replace("minCount: 2", "minCount: 0")
);
case!(unknown_detector, GOOD.replace("oomKilled:", "oomKiled:"));
case!(
    unknown_action,
    GOOD.replace("raiseMemoryLimit:", "raiseMemory:")
);
case!(
    missing_required_field,
    GOOD.replace(
        "  detect:\n    oomKilled: { minCount: 2, within: 6h }\n",
        ""
    )
);
case!(
    wrong_api_version_and_kind,
    GOOD.replace("rounds.dev/v1alpha1", "rounds.dev/v1")
        .replace("kind: Playbook", "kind: PlayBook")
);
case!(
    action_that_cannot_act_on_the_finding,
    GOOD.replace("- raiseMemoryLimit: { max: 4Gi }", "- cordonNode: {}")
);
case!(
    yaml_syntax_error,
    GOOD.replace(
        "    oomKilled: { minCount: 2, within: 6h }",
        "    oomKilled: { minCount: 2, within: 6h"
    )
);
case!(invalid_severity, format!("{GOOD}  severity: urgent\n"));
case!(
    two_detectors_in_one_entry,
    GOOD.replace(
        "    oomKilled: { minCount: 2, within: 6h }",
        "    oomKilled: {}\n    evicted: {}"
    )
);
case!(invalid_name, GOOD.replace("name: oom", "name: Oom_Killer"));
case!(
    run_job_without_containers,
    GOOD.replace(
        "- raiseMemoryLimit: { max: 4Gi }",
        "- runJob: { template: { spec: { backoffLimit: 1 } } }"
    )
);
case!(
    scale_bounds_reversed,
    GOOD.replace(
        "- raiseMemoryLimit: { max: 4Gi }",
        "- scale: { min: 5, max: 2 }"
    )
);
case!(not_a_mapping, "- just\n- a list\n");
case!(
    yes_is_not_a_boolean,
    format!("{GOOD}  notify:\n    evidence: {{ events: yes }}\n")
);
case!(
    many_errors_at_once,
    GOOD.replace("name: oom", "name: Bad_Name")
        .replace("minCount: 2", "minCount: -3")
        .replace("within: 6h", "within: soon")
        .replace("max: 4Gi", "max: lots")
        + "  guards:\n    cooldown: 0s\n    windows: [{ schedule: \"61 * * * *\", duration: 1h }]\n"
);

#[test]
fn alias_bomb_is_refused_in_bounded_memory() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    insta::assert_snapshot!(one(&text));
}

#[test]
fn oversized_file_is_refused() {
    let text = format!("{GOOD}# {}\n", "x".repeat(1024 * 1024));
    insta::assert_snapshot!(one(&text));
}

#[test]
fn duplicate_playbook_names_across_files() {
    insta::assert_snapshot!(validate(&[("a.yaml", GOOD), ("b.yaml", GOOD)]));
}

#[test]
fn json_format_lists_every_error_with_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("p.yaml"),
        GOOD.replace("within: 6h", "within: soon")
            .replace("max: 4Gi", "max: lots"),
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["validate", "--output", "json"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["valid"], false);
    let errors = report["errors"].as_array().expect("errors");
    let places: Vec<(u64, u64, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["column"].as_u64().unwrap_or(0),
                e["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            (7, 39, "spec.detect.oomKilled.within"),
            (9, 32, "spec.remediate[0].raiseMemoryLimit.max")
        ]
    );
}

#[test]
fn the_bundled_playbooks_are_valid() {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["validate", "playbooks"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("12 playbook(s) valid\n"));
}

/// Exit code, stdout and stderr of `rounds validate` on the given files.
fn validate_out(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("validate")
        .arg(dir.path())
        .output()
        .expect("run rounds");
    let d = dir.path().display().to_string();
    format!(
        "exit code {}\nstdout:\n{}stderr:\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace(&d, "<dir>"),
        String::from_utf8_lossy(&out.stderr).replace(&d, "<dir>")
    )
}

case!(
    nan_and_infinity_are_reported_with_the_other_errors,
    GOOD.replace("within: 6h", "within: soon")
        .replace("max: 4Gi", "max: 4Gi, factor: .nan")
        + "  guards:\n    maxUnavailable: -.inf\n"
);
case!(
    cross_field_checks_run_despite_type_errors,
    GOOD.replace("within: 6h", "within: soon").replace(
        "- raiseMemoryLimit: { max: 4Gi }",
        "- scale: { min: 5, max: 2 }\n    - runJob: { template: { spec: { backoffLimit: 1 } } }"
    )
);
case!(
    a_type_error_names_the_expected_type_not_the_field,
    GOOD.replace("within: 6h", "within: [6h]")
        .replace("  detect:", "  schedule: 5\n  detect:")
        + "  guards:\n    cooldown: { hours: 1 }\n"
);
case!(
    whole_numbers_too_large_for_any_field,
    GOOD.replace("minCount: 2", "minCount: 99999999999999999999")
        + "  guards:\n    maxFindings: 1e20\n"
);
case!(
    deep_nesting_is_not_blamed_on_aliases,
    GOOD.replace(
        "  detect:",
        &format!(
            "  description: {}{}\n  detect:",
            "[".repeat(70),
            "]".repeat(70)
        )
    )
);
case!(
    a_huge_key_is_cut_in_the_message_and_the_source_line,
    GOOD.replace(
        "  detect:",
        &format!("  ? {}\n  : 1\n  detect:", "k".repeat(200_000))
    )
);
case!(
    a_huge_line_is_shown_around_its_column,
    GOOD.replace(
        "  detect:",
        &format!("  {}: 1\n  detect:", "k".repeat(200_000))
    )
);
case!(
    a_huge_value_is_cut_in_the_message_and_the_source_line,
    GOOD.replace(
        "within: 6h",
        &format!("within: \"{}\"", "6".repeat(200_000))
    )
);

#[test]
fn a_percentage_written_as_a_fraction_is_accepted_with_a_warning() {
    insta::assert_snapshot!(validate_out(&[(
        "pvc.yaml",
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: pvc}\nspec:\n  detect:\n    pvcUsage: { usedPercent: 0.85, inodesUsedPercent: 0.9% }\n  remediate:\n    - notifyOnly: {}\n"
    )]));
}

#[test]
fn a_schedule_that_never_fires_is_a_warning() {
    insta::assert_snapshot!(validate_out(&[(
        "never.yaml",
        &GOOD.replace("  detect:", "  schedule: \"0 0 31 2 *\"\n  detect:").replace(
            "- raiseMemoryLimit: { max: 4Gi }\n",
            "- raiseMemoryLimit: { max: 4Gi }\n  guards:\n    windows: [{ schedule: \"0 9 30 2 *\", duration: 1h }]\n"
        )
    )]));
}

#[test]
fn an_empty_directory_is_an_error() {
    insta::assert_snapshot!(validate_out(&[]));
}

#[test]
fn a_runner_config_is_reported_as_such() {
    let config = "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nmode: dryRun\nplaybooks: [/etc/rounds/playbooks]\n";
    insta::assert_snapshot!(validate_out(&[("config.yaml", config)]));
    insta::assert_snapshot!(
        "a_runner_config_beside_playbooks",
        validate_out(&[("config.yaml", config), ("oom.yaml", GOOD)])
    );
}
