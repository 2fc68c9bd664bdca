//! Documentation that cannot go stale: every `rounds explain` entry's example and every YAML
//! example in the README validates (with the binary, warnings denied, and against the draft-07
//! schema editors read), every detector has its example in the README, and the exact output of
//! `rounds explain`.

use rounds::catalog::{self, Document, Kind};
use std::path::Path;
use std::process::Command;

fn rounds(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rounds")
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README")
}

/// The ```yaml blocks of a Markdown text.
fn yaml_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                out.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// Runs `rounds validate --deny-warnings` on each document in its own file.
fn validate_each(docs: &[(String, String)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, (what, text)) in docs.iter().enumerate() {
        let file = dir.path().join(format!("{i:02}.yaml"));
        std::fs::write(&file, text).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
            .args(["validate", "--deny-warnings"])
            .arg(&file)
            .output()
            .expect("run rounds");
        assert!(
            out.status.success(),
            "{what} does not validate:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_explain_example_validates_and_uses_its_entry() {
    let entries: Vec<_> = catalog::all().collect();
    assert!(
        entries.len() >= 45,
        "detectors, actions, guards and channels are listed"
    );
    assert_eq!(
        entries.iter().filter(|e| e.kind == Kind::Guard).count(),
        rounds::guard::Guard::ALL.len(),
        "every guard is listed"
    );
    let docs: Vec<(String, String)> = entries
        .iter()
        .map(|e| (format!("the example of {}", e.name), e.document()))
        .collect();
    validate_each(&docs);
    for e in &entries {
        let text = e.example;
        let used = match e.kind {
            Kind::Detector => text.contains(&format!("  detect:\n    {}:", e.name)),
            Kind::Action => text.contains(&format!("    - {}:", e.name)),
            Kind::Channel => text.contains(&format!("\n      {}:", e.name)),
            // A guard's example sets its settings of that document; one without settings
            // shows the actions it holds back.
            Kind::Guard => {
                let doc: serde_json::Value = serde_saphyr::from_str(text).expect("YAML");
                let own: Vec<_> = e
                    .settings
                    .iter()
                    .filter(|s| s.document == e.document_kind())
                    .collect();
                own.iter().all(|s| {
                    doc.pointer(&format!("/{}", s.path.replace('.', "/")))
                        .is_some()
                }) && (!own.is_empty()
                    || doc["spec"]["remediate"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()))
            }
        };
        assert!(used, "the example of {} does not use it:\n{text}", e.name);
    }
}

#[test]
fn every_readme_example_validates() {
    let blocks = yaml_blocks(&readme());
    let docs: Vec<(String, String)> = blocks
        .into_iter()
        .enumerate()
        .filter(|(_, b)| b.contains("kind: Playbook") || b.contains("kind: RunnerConfig"))
        .map(|(i, b)| (format!("README yaml block {i}"), b))
        .collect();
    assert!(
        docs.len() >= 11,
        "the README has its examples: {}",
        docs.len()
    );
    validate_each(&docs);
}

#[test]
fn the_readme_has_a_complete_example_for_every_detector() {
    let readme = readme();
    let section = readme
        .split("## Writing a playbook")
        .nth(1)
        .expect("a section \"Writing a playbook\"");
    for e in catalog::all().filter(|e| e.kind == Kind::Detector) {
        assert!(
            section.contains(&format!("#### `{}`\n\n```yaml\n{}```", e.name, e.example)),
            "the README lacks the example of {} exactly as `rounds explain {}` prints it",
            e.name,
            e.name
        );
    }
}

#[test]
fn examples_validate_against_the_schema_editors_read() {
    let out = rounds(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON schema");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    let out = rounds(&["schema", "--kind", "config"]);
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON schema");
    let config = jsonschema::draft7::new(&config).expect("a valid draft-07 schema");
    for e in catalog::all() {
        let doc: serde_json::Value = serde_saphyr::from_str(&e.document()).expect("YAML");
        let v = if e.document_kind() == Document::RunnerConfig {
            &config
        } else {
            &validator
        };
        let errors: Vec<String> = v.iter_errors(&doc).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", e.name);
    }
    // And the editor schema rejects what rounds rejects.
    let bad = serde_json::json!({
        "apiVersion": "rounds.dev/v1alpha1", "kind": "Playbook", "metadata": {"name": "x"},
        "spec": {"detect": {"oomKiled": {}}}
    });
    assert!(!validator.is_valid(&bad));
    for kind in ["config", "lock"] {
        let out = rounds(&["schema", "--kind", kind]);
        let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON schema");
        jsonschema::draft7::new(&schema).expect("a valid draft-07 schema");
    }
}

#[test]
fn explain_lists_everything() {
    let out = rounds(&["explain"]);
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn explain_a_detector() {
    let out = rounds(&["explain", "oomKilled"]);
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn explain_an_action() {
    let out = rounds(&["explain", "raiseMemoryLimit"]);
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn explain_a_guard() {
    let out = rounds(&["explain", "budget"]);
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn explain_every_entry_and_refuse_unknown_names() {
    for e in catalog::all() {
        let out = rounds(&["explain", e.name]);
        assert!(out.status.success(), "{}", e.name);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(&format!("{} ({})\n", e.name, e.kind.as_str())));
    }
    let out = rounds(&["explain", "oomKiled"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: nothing is called `oomKiled`; known: oomKilled, ")
    );
}

/// The example GitHub Actions workflow, run step by step as the runner would: `uses:` steps are
/// replaced by the fixture checkout (head at the root, base in `.rounds-base`), every `run:`
/// step runs in bash with the workflow's and the step's env, `if:` conditions are evaluated,
/// and `gh` is a stand-in that records the comment it would post.
mod workflow {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    const WORKFLOW: &str = "scripts/ci/playbooks-review.yml";

    struct Step {
        name: String,
        id: Option<String>,
        condition: Option<String>,
        env: BTreeMap<String, String>,
        run: String,
    }

    /// The values of the `${{ }}` expressions the workflow uses.
    fn expression(e: &str) -> String {
        match e.trim() {
            "github.token" => "test-token".into(),
            "github.event.pull_request.number" => "42".into(),
            "github.event.pull_request.base.sha" => "base".into(),
            other => panic!("the workflow uses an expression the test does not know: {other}"),
        }
    }

    fn substitute(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&expression(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn env_of(v: &Value) -> BTreeMap<String, String> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), substitute(v.as_str().unwrap_or_default())))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn load() -> (BTreeMap<String, String>, Vec<Step>) {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(WORKFLOW))
            .expect("workflow");
        let doc: Value = serde_saphyr::from_str(&text).expect("the workflow is YAML");
        let all = doc["jobs"]["review"]["steps"].as_array().expect("steps");
        // The fixture stands in for the two checkouts: head at the root, base beside it.
        let checkouts: Vec<&Value> = all.iter().filter(|s| s.get("uses").is_some()).collect();
        assert_eq!(checkouts.len(), 2);
        assert!(checkouts.iter().all(|s| s["uses"] == "actions/checkout@v4"));
        assert_eq!(checkouts[1]["with"]["path"], ".rounds-base");
        let steps = all
            .iter()
            .filter(|s| s.get("run").is_some())
            .map(|s| Step {
                name: s["name"].as_str().unwrap_or("").to_owned(),
                id: s["id"].as_str().map(str::to_owned),
                condition: s["if"].as_str().map(str::to_owned),
                env: env_of(&s["env"]),
                run: s["run"].as_str().expect("run").to_owned(),
            })
            .collect();
        (env_of(&doc["env"]), steps)
    }

    /// Whether a step runs, for the conditions the workflow uses.
    fn runs(condition: Option<&str>, all_ok: bool, outcomes: &BTreeMap<String, bool>) -> bool {
        let Some(c) = condition else {
            return all_ok;
        };
        let c = c.trim();
        let c = c
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(c)
            .trim();
        c.split("&&").all(|term| match term.trim() {
            "!cancelled()" => true,
            t if t.starts_with("steps.") && t.ends_with(".outcome == 'success'") => {
                let id = &t["steps.".len()..t.len() - ".outcome == 'success'".len()];
                outcomes.get(id).copied().unwrap_or(false)
            }
            other => panic!("the workflow uses a condition the test does not know: {other}"),
        })
    }

    struct Ran {
        /// (step name, exit code or None when skipped)
        steps: Vec<(String, Option<i32>)>,
        stdout: String,
        comment: Option<String>,
        gh_args: String,
        summary: String,
    }

    fn run_workflow(repo: &Path) -> Ran {
        let (workflow_env, steps) = load();
        let tools = tempfile::tempdir().expect("tools");
        let temp = tempfile::tempdir().expect("runner temp");
        // The stand-in `gh` records its arguments and the body file it was given.
        let gh = tools.path().join("gh");
        std::fs::write(
            &gh,
            format!(
                "#!/bin/sh\necho \"$@\" >> {log}\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --body-file ]; then cp \"$2\" {body}; fi\n  shift\ndone\n",
                log = tools.path().join("gh.log").display(),
                body = tools.path().join("comment.md").display()
            ),
        )
        .expect("gh");
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&gh)
            .status()
            .expect("chmod");
        let rounds_dir = PathBuf::from(env!("CARGO_BIN_EXE_rounds"))
            .parent()
            .expect("bin dir")
            .to_owned();
        let path = format!(
            "{}:{}:{}",
            tools.path().display(),
            rounds_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let summary = temp.path().join("summary.md");
        let mut ran = Vec::new();
        let mut outcomes = BTreeMap::new();
        let mut all_ok = true;
        let mut stdout = String::new();
        for step in steps {
            if !runs(step.condition.as_deref(), all_ok, &outcomes) {
                ran.push((step.name, None));
                continue;
            }
            let out = Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
                .arg(substitute(&step.run))
                .current_dir(repo)
                .env_clear()
                .env("PATH", &path)
                .env("HOME", temp.path())
                .env("RUNNER_TEMP", temp.path())
                .env("GITHUB_WORKSPACE", repo)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("GITHUB_PATH", temp.path().join("path"))
                .env("GITHUB_ACTIONS", "true")
                .envs(&workflow_env)
                .envs(&step.env)
                .output()
                .expect("run a step");
            let code = out.status.code().unwrap_or(-1);
            stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            if code != 0 {
                all_ok = false;
            }
            if let Some(id) = step.id {
                outcomes.insert(id, code == 0);
            }
            ran.push((step.name, Some(code)));
        }
        Ran {
            steps: ran,
            stdout,
            comment: std::fs::read_to_string(tools.path().join("comment.md")).ok(),
            gh_args: std::fs::read_to_string(tools.path().join("gh.log")).unwrap_or_default(),
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        }
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let path = entry.expect("entry").path();
            let target = to.join(path.file_name().expect("name"));
            if path.is_dir() {
                copy_dir(&path, &target);
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }

    /// A playbooks repository at its base commit: playbooks, a runner config, a lock and a
    /// cluster snapshot; the pull request's head is a copy with `.rounds-base` beside it.
    fn repository() -> tempfile::TempDir {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().expect("repo");
        let head = dir.path();
        copy_dir(&root.join("playbooks"), &head.join("playbooks"));
        copy_dir(&root.join(DEMO), &head.join("ci/cluster-snapshot"));
        std::fs::write(
            head.join("ci/cluster-snapshot.taken-at"),
            "2026-11-22T10:00:00Z\n",
        )
        .expect("time");
        std::fs::create_dir_all(head.join("deploy")).expect("mkdir");
        std::fs::write(
            head.join("deploy/runner.yaml"),
            "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nmode: apply\nlock: { file: /etc/rounds/playbooks/playbooks.lock }\n",
        )
        .expect("config");
        let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
            .args(["lock", "playbooks", "--config", "deploy/runner.yaml"])
            .current_dir(head)
            .output()
            .expect("lock");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The base checkout: the same files before the pull request's change.
        let base = head.join(".rounds-base");
        for d in ["playbooks", "deploy", "ci"] {
            copy_dir(&head.join(d), &base.join(d));
        }
        std::fs::copy(head.join("playbooks.lock"), base.join("playbooks.lock")).expect("copy");
        dir
    }

    const DEMO: &str = "tests/fixtures/demo-cluster";

    /// The pull request: a lower cap on the memory raise.
    fn change(head: &Path) {
        let path = head.join("playbooks/oom-raise-memory.yaml");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("max: 4Gi", "max: 300Mi")).expect("write");
        // Two actions change: the api raise gets a lower limit, the cart (already 512Mi) none.
    }

    #[test]
    fn a_reviewed_change_passes_and_the_diff_is_posted() {
        let repo = repository();
        change(repo.path());
        let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
            .arg("lock")
            .current_dir(repo.path())
            .output()
            .expect("relock");
        assert!(out.status.success());
        let ran = run_workflow(repo.path());
        assert_eq!(
            ran.steps,
            [
                ("Install rounds".to_owned(), Some(0)),
                (
                    "Validate the playbooks and the runner config".to_owned(),
                    Some(0)
                ),
                ("Verify the lock".to_owned(), Some(0)),
                ("Plan diff".to_owned(), Some(0)),
                ("Post the plan diff on the pull request".to_owned(), Some(0)),
            ],
            "{}",
            ran.stdout
        );
        assert!(
            ran.stdout.contains(
                "rounds validate: 12 playbook(s), 1 runner config(s); 0 error(s), 0 warning(s)\n"
            ),
            "{}",
            ran.stdout
        );
        let comment = ran.comment.expect("a comment was posted");
        assert!(
            comment
                .starts_with("### rounds plan diff\n\n**actions: 0 added, 0 removed, 2 changed;"),
            "{comment}"
        );
        assert!(
            comment.contains(
                "| changed | oom-raise-memory | `raiseMemoryLimit` | Deployment shop/api |"
            )
        );
        assert_eq!(ran.summary, comment, "the job summary shows the same diff");
        assert!(
            ran.gh_args
                .starts_with("pr comment 42 --edit-last --body-file "),
            "{}",
            ran.gh_args
        );
    }

    #[test]
    fn a_change_without_a_new_lock_fails_and_still_shows_the_diff() {
        let repo = repository();
        change(repo.path());
        // And an invalid playbook next to it.
        std::fs::write(
            repo.path().join("playbooks/broken.yaml"),
            "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: broken}\nspec:\n  detect: {oomKilled: {within: soon}}\n",
        )
        .expect("write");
        let ran = run_workflow(repo.path());
        let codes: Vec<Option<i32>> = ran.steps.iter().map(|(_, c)| *c).collect();
        // Validation and the lock fail; the diff cannot plan an invalid head, so nothing is
        // posted.
        assert_eq!(
            codes,
            [Some(0), Some(1), Some(1), Some(1), None],
            "{}",
            ran.stdout
        );
        assert!(ran.stdout.contains(
            "::error file=playbooks/broken.yaml,line=5,col=32,title=rounds validate%3A spec.detect.oomKilled.within::invalid duration"
        ), "{}", ran.stdout);
        assert!(ran.stdout.contains(
            "::error file=playbooks/oom-raise-memory.yaml,title=rounds verify-lock%3A differs::playbook oom-raise-memory is sha256:"
        ), "{}", ran.stdout);
        assert!(ran.stdout.contains(
            "::error file=playbooks/broken.yaml,title=rounds verify-lock%3A new::playbook broken ("
        ), "{}", ran.stdout);
        assert!(ran.comment.is_none());

        // Without the broken file the diff is posted although the lock still fails.
        std::fs::remove_file(repo.path().join("playbooks/broken.yaml")).expect("rm");
        let ran = run_workflow(repo.path());
        let codes: Vec<Option<i32>> = ran.steps.iter().map(|(_, c)| *c).collect();
        assert_eq!(
            codes,
            [Some(0), Some(0), Some(1), Some(0), Some(0)],
            "{}",
            ran.stdout
        );
        assert!(ran.comment.is_some_and(|c| c.contains("2 changed")));
    }
}
