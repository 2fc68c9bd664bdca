//! `rounds lock` and `rounds verify-lock`: the lock's exact content, and every file that
//! differs, is missing or is new named in text, JSON and GitHub Actions output.

use std::path::Path;
use std::process::Command;

const OOM: &str = r#"# Raise memory after OOM kills.
apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: oom
spec:
  detect:
    oomKilled: { minCount: 2, within: 6h }
  remediate:
    - raiseMemoryLimit: { max: 4Gi }
  guards:
    maxActionsPerRound: 1
"#;

const CRASH: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: crash
spec:
  detect:
    crashLoopBackOff: {}
  remediate:
    - notifyOnly: {}
"#;

const CONFIG: &str = "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nmode: dryRun\n";

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

fn rounds(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_rounds"))
        .args(args)
        .current_dir(dir)
        .env("GITHUB_WORKSPACE", dir)
        .output()
        .expect("run rounds");
    let shown = |b: &[u8]| String::from_utf8_lossy(b).replace(&dir.display().to_string(), "<dir>");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: shown(&out.stdout),
        stderr: shown(&out.stderr),
    }
}

/// A repository with two playbooks and a runner config, locked.
fn locked_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("playbooks")).expect("mkdir");
    std::fs::create_dir_all(root.join("deploy")).expect("mkdir");
    std::fs::write(root.join("playbooks/oom.yaml"), OOM).expect("write");
    std::fs::write(root.join("playbooks/crash.yaml"), CRASH).expect("write");
    std::fs::write(root.join("deploy/runner.yaml"), CONFIG).expect("write");
    let run = rounds(
        root,
        &["lock", "playbooks", "--config", "deploy/runner.yaml"],
    );
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        run.stdout,
        "wrote playbooks.lock: 2 playbook(s) in 2 file(s) and the runner config deploy/runner.yaml\n"
    );
    dir
}

/// Edits every way a reviewer must hear about: a changed playbook, a removed file, a new file,
/// a changed runner config; and one that does not count (a comment).
fn tamper(root: &Path) {
    let oom = std::fs::read_to_string(root.join("playbooks/oom.yaml")).expect("read");
    std::fs::write(
        root.join("playbooks/oom.yaml"),
        oom.replace("minCount: 2", "minCount: 1"),
    )
    .expect("write");
    std::fs::remove_file(root.join("playbooks/crash.yaml")).expect("rm");
    std::fs::write(
        root.join("playbooks/extra.yaml"),
        CRASH.replace("name: crash", "name: extra"),
    )
    .expect("write");
    std::fs::write(
        root.join("deploy/runner.yaml"),
        CONFIG.replace("dryRun", "apply"),
    )
    .expect("write");
}

#[test]
fn the_lock_lists_every_digest_sorted_with_the_version() {
    let repo = locked_repo();
    let lock = std::fs::read_to_string(repo.path().join("playbooks.lock")).expect("lock");
    insta::assert_snapshot!(lock);
}

#[test]
fn an_untouched_repository_matches_and_comments_do_not_count() {
    let repo = locked_repo();
    let root = repo.path();
    let oom = std::fs::read_to_string(root.join("playbooks/oom.yaml")).expect("read");
    // Reformatted and commented, the same meaning.
    std::fs::write(
        root.join("playbooks/oom.yaml"),
        oom.replace(
            "{ minCount: 2, within: 6h }",
            "\n      within: 6h   # six hours\n      minCount: 2",
        ),
    )
    .expect("write");
    let run = rounds(root, &["verify-lock"]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        run.stdout,
        "playbooks.lock matches 2 playbook(s) in 2 file(s) and the runner config\n"
    );
}

#[test]
fn verify_names_every_file_that_differs_is_missing_or_is_new() {
    let repo = locked_repo();
    tamper(repo.path());
    let run = rounds(repo.path(), &["verify-lock"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.text());
}

#[test]
fn verify_as_json() {
    let repo = locked_repo();
    tamper(repo.path());
    let run = rounds(repo.path(), &["verify-lock", "--output", "json"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn verify_as_github_annotations() {
    let repo = locked_repo();
    tamper(repo.path());
    let run = rounds(repo.path(), &["verify-lock", "--output", "github"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn relocking_records_the_change_and_then_verifies() {
    let repo = locked_repo();
    tamper(repo.path());
    // Without arguments, `rounds lock` takes the paths and config the lock recorded.
    let run = rounds(repo.path(), &["lock"]);
    assert_eq!(run.code, 0, "{}", run.text());
    let run = rounds(repo.path(), &["verify-lock"]);
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn a_lock_in_another_directory_names_files_relative_to_itself() {
    let repo = locked_repo();
    let root = repo.path();
    let run = rounds(
        root,
        &["lock", "playbooks", "--lock", "deploy/playbooks.lock"],
    );
    assert_eq!(run.code, 0, "{}", run.text());
    let lock = std::fs::read_to_string(root.join("deploy/playbooks.lock")).expect("lock");
    assert!(lock.contains("- file: ../playbooks/crash.yaml\n"), "{lock}");
    let run = rounds(
        &root.join("deploy"),
        &["verify-lock", "--lock", "playbooks.lock"],
    );
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn invalid_playbooks_are_never_locked() {
    let repo = locked_repo();
    let root = repo.path();
    std::fs::write(
        root.join("playbooks/oom.yaml"),
        OOM.replace("within: 6h", "within: soon"),
    )
    .expect("write");
    let before = std::fs::read_to_string(root.join("playbooks.lock")).expect("lock");
    let run = rounds(root, &["lock"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.text());
    let after = std::fs::read_to_string(root.join("playbooks.lock")).expect("lock");
    assert_eq!(before, after, "a failed lock leaves the old one");
}
