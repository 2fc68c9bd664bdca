//! `rounds validate` for review in CI: the exact text, JSON and GitHub Actions output for errors
//! and warnings of several files at once, `--deny-warnings`, and a runner config checked
//! together with the playbooks it routes.

use std::path::Path;
use std::process::Command;

const BUDGETED: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: crashloop
spec:
  detect:
    crashLoopBackOff: { minRestarts: 5 }
  remediate:
    - rolloutRestart: {}
  guards:
    maxActionsPerRound: 2
"#;

/// Valid, but: no budget, a schedule that never fires, a scope that leaves nothing.
const WARNED: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: oom
spec:
  schedule: "0 0 31 2 *"
  scope:
    namespaces: [shop]
    excludeNamespaces: ["shop*"]
  detect:
    oomKilled: { minCount: 2 }
  remediate:
    - raiseMemoryLimit: { max: 4Gi }
"#;

/// Two errors, one with a `%` and a `:` that GitHub annotations must escape.
const BROKEN: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: pvc
spec:
  detect:
    pvcUsage: { usedPercent: 185% }
  remediate:
    - expandPvc: { max: lots }
  guards:
    maxActionsPerRound: 1
"#;

const ROUTED: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: routed
spec:
  detect:
    jobFailed: {}
  remediate:
    - notifyOnly: {}
  notify:
    route: pager
"#;

const CONFIG: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
protectedNamespaces: [kube-system, payments]
"#;

const ROUTED_CONFIG: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
notifications:
  channels:
    ops: { console: {} }
  routes:
    - name: shop
      match: { playbooks: [crashloop, shop-oom] }
      channels: [ops]
    - name: everything
      channels: [ops]
    - name: jobs
      match: { detectors: [jobFailed] }
      channels: [ops]
"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        format!(
            "exit code {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
}

/// Runs `rounds validate ARGS DIR` with the directory as the GitHub workspace; the directory
/// is `<dir>` in the output.
fn validate(files: &[(&str, &str)], args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), files);
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("validate")
        .args(args)
        .arg(dir.path())
        .env("GITHUB_WORKSPACE", dir.path())
        .output()
        .expect("run rounds");
    let shown =
        |b: &[u8]| String::from_utf8_lossy(b).replace(&dir.path().display().to_string(), "<dir>");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: shown(&out.stdout),
        stderr: shown(&out.stderr),
    }
}

const ALL: &[(&str, &str)] = &[
    ("broken.yaml", BROKEN),
    ("crashloop.yaml", BUDGETED),
    ("oom.yaml", WARNED),
];

#[test]
fn text_lists_every_error_and_warning_in_file_order() {
    let run = validate(ALL, &[]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.text());
}

#[test]
fn json_lists_errors_and_warnings_with_their_place() {
    let run = validate(ALL, &["--output", "json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn github_annotations_are_escaped_and_relative_to_the_workspace() {
    let run = validate(ALL, &["--output", "github"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn warnings_pass_unless_denied() {
    let files = &[("crashloop.yaml", BUDGETED), ("oom.yaml", WARNED)];
    let allowed = validate(files, &[]);
    assert_eq!(allowed.code, 0, "{}", allowed.text());
    let denied = validate(files, &["--deny-warnings"]);
    assert_eq!(denied.code, 1);
    insta::assert_snapshot!(denied.text());
    let github = validate(files, &["--output", "github", "--deny-warnings"]);
    assert_eq!(github.code, 1);
    insta::assert_snapshot!(github.stdout);
}

#[test]
fn a_runner_config_is_checked_with_the_playbooks_it_routes() {
    let run = validate(
        &[
            ("config.yaml", ROUTED_CONFIG),
            ("crashloop.yaml", BUDGETED),
            ("routed.yaml", ROUTED),
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.text());
}

#[test]
fn a_valid_set_reports_each_playbook_and_config_with_its_digest() {
    let run = validate(
        &[("config.yaml", CONFIG), ("crashloop.yaml", BUDGETED)],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.text());
    insta::assert_snapshot!(run.text());
}

#[test]
fn an_empty_directory_and_a_missing_path_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .arg("validate")
        .arg(dir.path())
        .arg(dir.path().join("missing.yaml"))
        .output()
        .expect("run rounds");
    assert_eq!(out.status.code(), Some(1));
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&dir.path().display().to_string(), "<dir>");
    insta::assert_snapshot!(stderr);
}

#[test]
fn the_bundled_playbooks_have_no_warnings() {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(["validate", "--deny-warnings", "playbooks"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rounds");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
