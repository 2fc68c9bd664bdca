//! Documentation that cannot go stale: every `rounds explain` entry's example and every YAML
//! example in the README validates (with the binary, warnings denied, and against the draft-07
//! schema editors read), every detector has its example in the README, and the exact output of
//! `rounds explain`.

use rounds::catalog::{self, Kind};
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
    assert!(entries.len() >= 20, "detectors and actions are listed");
    let docs: Vec<(String, String)> = entries
        .iter()
        .map(|e| (format!("the example of {}", e.name), e.example.to_owned()))
        .collect();
    validate_each(&docs);
    for e in &entries {
        let text = e.example;
        let used = match e.kind {
            Kind::Detector => text.contains(&format!("  detect:\n    {}:", e.name)),
            Kind::Action => text.contains(&format!("    - {}:", e.name)),
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
    for e in catalog::all() {
        let doc: serde_json::Value = serde_saphyr::from_str(e.example).expect("YAML");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|x| x.to_string()).collect();
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
