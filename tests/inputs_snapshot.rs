//! End-to-end: the compiled binary reads snapshots the way users feed them: through a pipe
//! (`-`, `/dev/stdin`), a FIFO, overlapping paths, looped directories, empty, truncated and
//! endless inputs (`/dev/zero` under a memory limit), and objects it cannot name. Every case
//! checks the exact outcome: the report, or the exit code and the error line.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NOW: &str = "2026-11-22T10:00:00Z";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn rounds() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rounds"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `rounds plan --output json` with the bundled playbooks on the given snapshot arguments.
fn plan_args(snapshots: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["plan".into()];
    for s in snapshots {
        args.push("--snapshot".into());
        args.push((*s).into());
    }
    for a in ["--playbooks", "playbooks", "--now", NOW, "--output", "json"] {
        args.push(a.into());
    }
    args
}

fn run(args: &[String]) -> Output {
    rounds().args(args).output().expect("run rounds")
}

fn run_with_stdin(args: &[String], input: &[u8]) -> Output {
    let mut child = rounds()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rounds");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

fn report(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The last line of stderr (the error rounds ended with), paths of `dir` replaced by `<dir>`.
fn error_line(out: &Output, dir: &Path) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .last()
        .unwrap_or_default()
        .replace(&dir.display().to_string(), "<dir>")
}

/// What a round found and planned, for comparing two reads of the same cluster.
fn outcome(r: &Value) -> (Value, Value, Value) {
    (
        r["findings"].clone(),
        r["actions"].clone(),
        r["summary"]["objects"].clone(),
    )
}

fn notes(r: &Value) -> Vec<String> {
    r["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn demo_yaml() -> Vec<u8> {
    std::fs::read(repo("tests/fixtures/demo-cluster/cluster.yaml")).expect("demo")
}

#[test]
fn yaml_through_a_pipe_is_read_once_whole() {
    let file = report(&run(&plan_args(&[
        "tests/fixtures/demo-cluster/cluster.yaml",
    ])));
    assert!(file["summary"]["objects"].as_u64().unwrap_or(0) > 30);
    // The demo lists Deployments and ReplicaSets before their pods: read from a file, the
    // owners findings point at are read in later passes; from a pipe, all are kept. Both
    // find every owner up to its Deployment or CronJob.
    let owners: Vec<(String, bool)> = file["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["owner"].is_object())
        .map(|f| {
            (
                f["owner"]["kind"].as_str().unwrap_or_default().to_owned(),
                f["owner"]["resolved"] == true,
            )
        })
        .collect();
    assert!(
        owners.len() >= 5 && owners.iter().all(|(_, resolved)| *resolved),
        "{owners:?}"
    );
    assert!(owners.iter().any(|(kind, _)| kind == "Deployment"));
    assert!(owners.iter().any(|(kind, _)| kind == "CronJob"));
    for path in ["-", "/dev/stdin"] {
        let piped = report(&run_with_stdin(&plan_args(&[path]), &demo_yaml()));
        assert_eq!(outcome(&piped), outcome(&file), "through {path}");
    }
}

#[test]
fn yaml_through_a_fifo_is_read_once_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("snapshot.yaml");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .expect("open fifo");
            f.write_all(&demo_yaml()).expect("write fifo");
        })
    };
    let file = report(&run(&plan_args(&[
        "tests/fixtures/demo-cluster/cluster.yaml",
    ])));
    let through = report(&run(&plan_args(&[&fifo.display().to_string()])));
    writer.join().expect("writer");
    assert_eq!(outcome(&through), outcome(&file));
}

#[test]
fn an_empty_snapshot_is_an_error_never_a_healthy_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = "is empty: no YAML or JSON document in it (a failed `kubectl get ... > file` leaves such a file)";
    for (name, text, message) in [
        ("zero.yaml", "", format!("snapshot <dir>/zero.yaml: {empty}")),
        (
            "comments.yaml",
            "# kubectl failed\n\n",
            "snapshot <dir>/comments.yaml: is empty: only comments and blank lines, no YAML document (a failed `kubectl get ... > file` leaves such a file)".to_owned(),
        ),
        (
            "empty-list.yaml",
            "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n",
            "snapshot <dir>/empty-list.yaml has no objects: an empty or failed `kubectl get` is not a healthy cluster".to_owned(),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = run(&plan_args(&[&path.display().to_string()]));
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(error_line(&out, dir.path()), format!("error: {message}"));
    }
    let out = run(&plan_args(&["/dev/null"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_line(&out, dir.path()),
        format!("error: snapshot /dev/null: {empty}")
    );
    let out = run_with_stdin(&plan_args(&["-"]), b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_line(&out, dir.path()),
        format!("error: snapshot standard input: {empty}")
    );
    let empty_dir = dir.path().join("nothing");
    std::fs::create_dir(&empty_dir).expect("mkdir");
    let out = run(&plan_args(&[&empty_dir.display().to_string()]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_line(&out, dir.path()),
        "error: snapshot <dir>/nothing has no YAML or JSON files"
    );
}

/// One pod of Deployment shop/api, OOM-killed once (its ReplicaSet and Deployment included).
fn one_oom_kill(uid: &str) -> String {
    format!(
        r#"apiVersion: v1
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {{name: api, namespace: shop, uid: d1}}
  spec: {{replicas: 2, template: {{spec: {{containers: [{{name: api, resources: {{limits: {{memory: 256Mi}}}}}}]}}}}}}
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: api-7d4b9c6f5
    namespace: shop
    uid: r1
    ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: d1, controller: true}}]
  spec: {{replicas: 2}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: api-7d4b9c6f5-q7w3m
    namespace: shop
    uid: {uid}
    ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: api-7d4b9c6f5, uid: r1, controller: true}}]
  spec: {{containers: [{{name: api, resources: {{limits: {{memory: 256Mi}}}}}}]}}
  status:
    containerStatuses:
    - name: api
      restartCount: 1
      state: {{running: {{startedAt: "2026-11-22T09:58:00Z"}}}}
      lastState: {{terminated: {{exitCode: 137, reason: OOMKilled, finishedAt: "2026-11-22T09:57:00Z", containerID: "containerd://a"}}}}
kind: List
metadata:
  resourceVersion: ""
"#
    )
}

fn raise_planned(r: &Value) -> usize {
    r["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "raiseMemoryLimit" && a["status"] == "planned")
        .count()
}

#[test]
fn the_same_object_twice_is_one_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("snap");
    std::fs::create_dir_all(snap.join("copy")).expect("mkdir");
    std::fs::write(snap.join("cluster.yaml"), one_oom_kill("p1")).expect("write");
    std::fs::write(snap.join("copy/cluster.yaml"), one_oom_kill("p1")).expect("write");
    let once = report(&run(&plan_args(&[&snap
        .join("cluster.yaml")
        .display()
        .to_string()])));
    assert_eq!(raise_planned(&once), 0, "one kill does not meet minCount 2");
    // A copy in a subdirectory, and the same file given twice: still one kill.
    let file = snap.join("cluster.yaml").display().to_string();
    let r = report(&run(&plan_args(&[&snap.display().to_string(), &file])));
    assert_eq!(raise_planned(&r), 0, "{:#?}", r["actions"]);
    assert_eq!(r["summary"]["objects"], once["summary"]["objects"]);
    let said: Vec<String> = notes(&r)
        .into_iter()
        .map(|n| n.replace(&dir.path().display().to_string(), "<dir>"))
        .collect();
    assert_eq!(
        said,
        [
            "snapshot <dir>/snap/cluster.yaml is the same file as <dir>/snap/cluster.yaml: read once",
            "read once: 3 object(s) appear more than once in the snapshot: Deployment shop/api (in <dir>/snap/cluster.yaml and in <dir>/snap/copy/cluster.yaml); ReplicaSet shop/api-7d4b9c6f5 (in <dir>/snap/cluster.yaml and in <dir>/snap/copy/cluster.yaml); Pod shop/api-7d4b9c6f5-q7w3m (in <dir>/snap/cluster.yaml and in <dir>/snap/copy/cluster.yaml)",
        ]
    );
    // A copy that differs (the pod re-created under the same name) is noted with both files.
    std::fs::write(snap.join("copy/cluster.yaml"), one_oom_kill("p2")).expect("write");
    let r = report(&run(&plan_args(&[&snap.display().to_string()])));
    assert_eq!(raise_planned(&r), 0);
    let differs: Vec<String> = notes(&r)
        .into_iter()
        .filter(|n| n.contains("differs"))
        .map(|n| n.replace(&dir.path().display().to_string(), "<dir>"))
        .collect();
    assert_eq!(
        differs,
        [
            "Pod shop/api-7d4b9c6f5-q7w3m at <dir>/snap/copy/cluster.yaml: item 2 (line 15, column 3) differs from the one in <dir>/snap/cluster.yaml (another uid: deleted and re-created between the two dumps): the one in <dir>/snap/cluster.yaml was read"
        ]
    );
}

#[test]
fn a_truncated_yaml_snapshot_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = String::from_utf8(demo_yaml()).expect("utf-8");
    // Cut in the middle of an object, at a line end (still valid YAML) and mid-line.
    let at = whole
        .find("\n- apiVersion: v1\n  kind: Pod")
        .expect("a pod")
        + 1;
    let cut_lines = whole[..at].lines().count();
    for (name, text, message) in [
        (
            "mid-line.yaml",
            &whole[..at + 60],
            format!(
                "error: snapshot <dir>/mid-line.yaml: line {}: the input ends in the middle of a line, so it looks cut off (kubectl ends its output with a newline)",
                whole[..at + 60].lines().count()
            ),
        ),
        (
            "between-items.yaml",
            &whole[..at],
            format!(
                "error: snapshot <dir>/between-items.yaml: line {cut_lines}: a list with {} item(s) ends without its `kind`: kubectl prints `kind: List` after the items, so the input looks cut off",
                whole[..at].lines().filter(|l| l.starts_with("- ")).count()
            ),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = run(&plan_args(&[&path.display().to_string()]));
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(error_line(&out, dir.path()), message, "{name}");
    }
}

#[test]
fn a_looped_directory_is_read_once_and_the_loop_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("snap");
    std::fs::create_dir_all(snap.join("a/b")).expect("mkdir");
    std::fs::copy(
        repo("tests/fixtures/demo-cluster/cluster.yaml"),
        snap.join("a/cluster.yaml"),
    )
    .expect("copy");
    // Two links back into the tree: before, the first read the cluster again and again, the
    // second made it hang.
    std::os::unix::fs::symlink(&snap, snap.join("a/b/up")).expect("link");
    std::os::unix::fs::symlink(snap.join("a"), snap.join("a/b/again")).expect("link");
    let file = report(&run(&plan_args(&[
        "tests/fixtures/demo-cluster/cluster.yaml",
    ])));
    let out = rounds()
        .args(plan_args(&[&snap.display().to_string()]))
        .output()
        .expect("run");
    let r = report(&out);
    assert_eq!(outcome(&r), outcome(&file));
    let mut loops: Vec<String> = notes(&r)
        .into_iter()
        .filter(|n| n.contains("directory loop"))
        .map(|n| n.replace(&dir.path().display().to_string(), "<dir>"))
        .collect();
    loops.sort();
    assert_eq!(
        loops,
        [
            "snapshot <dir>/snap: <dir>/snap/a/b/again leads back to <dir>/snap/a (a directory loop): read once",
            "snapshot <dir>/snap: <dir>/snap/a/b/up leads back to <dir>/snap (a directory loop): read once",
        ]
    );
}

/// Runs `rounds` under an address-space limit with `input` on standard input.
fn limited(limit: &str, args: &[String], input: Option<&str>) -> Output {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={limit}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_rounds"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match input {
        None => cmd.output().expect("prlimit (util-linux) runs"),
        Some(shell) => {
            // A shell pipeline that writes for ever; it ends when rounds closes the pipe.
            let mut line = format!(
                "{shell} | prlimit --as={limit} -- '{}'",
                env!("CARGO_BIN_EXE_rounds")
            );
            for a in args {
                line.push_str(&format!(" '{a}'"));
            }
            Command::new("sh")
                .args(["-c", &line])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .expect("sh runs")
        }
    }
}

#[test]
fn endless_input_ends_with_a_clean_error_in_bounded_memory() {
    // 256 MB of address space: far less than /dev/zero would take, plenty for rounds.
    let out = limited("256000000", &plan_args(&["/dev/zero"]), None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        error_line(&out, Path::new("/nonexistent")),
        "error: snapshot /dev/zero: line 1: a single value or line is longer than 4 MiB (--max-token-size): not a dump of real objects, or raise the limit"
    );
    // An endless JSON string, through a pipe.
    let out = limited(
        "256000000",
        &plan_args(&["-"]),
        Some(
            "(printf '{\"kind\": \"List\", \"items\": [{\"kind\": \"ConfigMap\", \"data\": {\"a\": \"'; yes | tr -d '\\n')",
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        error_line(&out, Path::new("/nonexistent")),
        "error: snapshot standard input: line 1: a single value or line is longer than 4 MiB (--max-token-size): not a dump of real objects, or raise the limit"
    );
    // Endless small values in one YAML list item. A tree of a million tiny labels takes many
    // times its input size, so the object bound is lowered here to fit the address space.
    let mut args = plan_args(&["-"]);
    args.extend(["--max-object-size", "4Mi"].map(String::from));
    let out = limited(
        "256000000",
        &args,
        Some(
            "(printf 'kind: List\\nitems:\\n- kind: Pod\\n  metadata:\\n    labels:\\n'; seq -f '      k%.0f: v' 1 1e12)",
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = error_line(&out, Path::new("/nonexistent"));
    assert!(
        line.starts_with("error: snapshot standard input: line ")
            && line.ends_with(": an object is larger than 4 MiB (--max-object-size): not a dump of real objects, or raise the limit"),
        "{line}"
    );
}

#[test]
fn an_ignored_kind_with_a_huge_value_is_skipped_without_being_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = "v".repeat(32 * 1024 * 1024);
    let write = |name: &str, kind: &str, field: &str| {
        let path = dir.path().join(name);
        let text = format!(
            "{{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": [{{\"kind\": \"{kind}\", \"apiVersion\": \"v1\", \"metadata\": {{\"name\": \"s\", \"namespace\": \"x\"}}, \"{field}\": {{\"blob\": \"{blob}\"}}}}, {{\"kind\": \"Node\", \"apiVersion\": \"v1\", \"metadata\": {{\"name\": \"n1\"}}}}]}}"
        );
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let secret = write("big-secret.json", "Secret", "data");
    let pod = write("big-pod.json", "Pod", "spec");
    let raised = |path: &str| {
        let mut args = plan_args(&[path]);
        args.extend(["--max-object-size", "64Mi", "--max-token-size", "64Mi"].map(String::from));
        args
    };
    // 90 MB of address space: rounds needs about 50; keeping the value would need 100 more.
    let r = report(&limited("90000000", &raised(&secret), None));
    assert_eq!(r["summary"]["objects"], 1);
    assert_eq!(
        notes(&r),
        ["ignored 1 object(s) of kind Secret (v1): rounds does not read them"]
    );
    // The control: the same value in a kind rounds reads is kept, and does not fit.
    let out = limited("90000000", &raised(&pod), None);
    assert!(
        !out.status.success(),
        "a read object of 32 MiB fits in 90 MB?"
    );
    // With the default bounds the same file is refused, not read in part.
    let out = run(&plan_args(&[&secret]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_line(&out, dir.path()),
        "error: snapshot <dir>/big-secret.json: line 1: a single value or line is longer than 4 MiB (--max-token-size): not a dump of real objects, or raise the limit"
    );
}

/// A request path that names one object: `/api/v1/namespaces/NS/RESOURCE/NAME[/SUB]` or
/// `/api/v1/RESOURCE/NAME[/SUB]` (and the same under `/apis/GROUP/VERSION`), no empty segment.
fn names_one_object(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return false;
    }
    let rest = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return false,
    };
    match rest {
        ["namespaces", _ns, _resource, _name, ..] => true,
        ["namespaces", ..] => false,
        [_resource, _name, ..] => true,
        _ => false,
    }
}

#[test]
fn objects_without_name_or_namespace_are_reported_and_never_planned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join("cluster.yaml");
    let pod = |meta: &str, status: &str| {
        format!(
            "- apiVersion: v1\n  kind: Pod\n  metadata: {meta}\n  spec: {{nodeName: node-a, containers: [{{name: app}}]}}\n  status: {status}\n"
        )
    };
    let evicted =
        "{phase: Failed, reason: Evicted, message: 'The node was low on resource: memory.'}";
    let looping = "{phase: Running, containerStatuses: [{name: app, restartCount: 9, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 1, reason: Error}}}]}";
    let pressure =
        "{conditions: [{type: DiskPressure, status: 'True'}, {type: Ready, status: 'True'}]}";
    let mut text = String::from("apiVersion: v1\nitems:\n");
    text += &pod("{namespace: batch}", evicted);
    text += &pod("{name: '', namespace: batch}", evicted);
    text += &pod("{name: loops}", looping);
    text += &pod("{name: 'a/b', namespace: batch}", looping);
    text += &format!(
        "- apiVersion: v1\n  kind: Node\n  metadata: {{labels: {{a: b}}}}\n  status: {pressure}\n"
    );
    text += &format!(
        "- apiVersion: v1\n  kind: Node\n  metadata: {{name: ''}}\n  status: {pressure}\n"
    );
    // The same problems on objects with names: these are planned.
    text += &pod("{name: evicted-1, namespace: batch}", evicted);
    text += &pod("{name: loops-1, namespace: batch}", looping);
    text += &format!(
        "- apiVersion: v1\n  kind: Node\n  metadata: {{name: node-a}}\n  status: {pressure}\n"
    );
    text += "kind: List\nmetadata:\n  resourceVersion: \"\"\n";
    std::fs::write(&snapshot, text).expect("write");
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir(&playbooks).expect("mkdir");
    for (name, detect, action) in [
        ("delete-evicted", "evicted: {}", "deleteFailedPods: {}"),
        (
            "delete-looping",
            "crashLoopBackOff: {}",
            "deletePod: {ignoreDisruptionBudgets: true}",
        ),
        ("evict-looping", "crashLoopBackOff: {}", "evictPod: {}"),
        ("cordon", "diskPressure: {}", "cordonNode: {}"),
    ] {
        std::fs::write(
            playbooks.join(format!("{name}.yaml")),
            format!("apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {{name: {name}}}\nspec:\n  detect: {{{detect}}}\n  remediate: [{{{action}}}]\n"),
        )
        .expect("write");
    }
    let out = rounds()
        .args(["plan", "--snapshot"])
        .arg(&snapshot)
        .arg("--playbooks")
        .arg(&playbooks)
        .args(["--now", NOW, "--output", "json"])
        .output()
        .expect("run");
    let r = report(&out);
    let tail = "; rounds acts only on objects it can name exactly";
    let notes: Vec<String> = notes(&r)
        .into_iter()
        .map(|n| n.replace(&dir.path().display().to_string(), "<dir>"))
        .collect();
    assert_eq!(
        notes,
        [
            format!(
                "not read: <dir>/cluster.yaml: item 0 (line 3, column 3): a Pod without metadata.name{tail}"
            ),
            format!(
                "not read: <dir>/cluster.yaml: item 1 (line 8, column 3): a Pod without metadata.name{tail}"
            ),
            format!(
                "not read: <dir>/cluster.yaml: item 2 (line 13, column 3): Pod loops without metadata.namespace (a Pod always has one){tail}"
            ),
            format!(
                "not read: <dir>/cluster.yaml: item 3 (line 18, column 3): a Pod whose metadata.name is \"a/b\", which the API server never gives (no '/', '%', '.' or '..'){tail}"
            ),
            format!(
                "not read: <dir>/cluster.yaml: item 4 (line 23, column 3): a Node without metadata.name{tail}"
            ),
            format!(
                "not read: <dir>/cluster.yaml: item 5 (line 27, column 3): a Node without metadata.name{tail}"
            ),
        ]
    );
    let actions = r["actions"].as_array().expect("actions");
    let planned: Vec<(String, String)> = actions
        .iter()
        .filter(|a| a["status"] == "planned")
        .map(|a| {
            (
                a["patch"]["method"].as_str().unwrap_or_default().to_owned(),
                a["patch"]["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        [
            ("PATCH".to_owned(), "/api/v1/nodes/node-a".to_owned()),
            (
                "DELETE".to_owned(),
                "/api/v1/namespaces/batch/pods/evicted-1".to_owned()
            ),
            (
                "DELETE".to_owned(),
                "/api/v1/namespaces/batch/pods/loops-1".to_owned()
            ),
            (
                "POST".to_owned(),
                "/api/v1/namespaces/batch/pods/loops-1/eviction".to_owned()
            ),
        ]
    );
    for a in actions {
        if let Some(path) = a["patch"]["path"].as_str() {
            assert!(
                names_one_object(path),
                "a collection path was planned: {path}"
            );
        }
    }
    assert!(!names_one_object("/api/v1/namespaces/batch/pods/"));
    assert!(!names_one_object("/api/v1/nodes/"));
    assert!(!names_one_object("/api/v1/namespaces/batch/pods//eviction"));
}

#[test]
fn oom_kills_dated_after_now_are_not_counted_and_noted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join("cluster.yaml");
    std::fs::write(&snapshot, one_oom_kill("p1")).expect("write");
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir(&playbooks).expect("mkdir");
    std::fs::write(
        playbooks.join("oom.yaml"),
        "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: oom}\nspec:\n  detect: {oomKilled: {minCount: 1, within: 7d}}\n  remediate: [{notifyOnly: {}}]\n",
    )
    .expect("write");
    let plan = |now: &str| {
        report(
            &rounds()
                .args(["plan", "--snapshot"])
                .arg(&snapshot)
                .arg("--playbooks")
                .arg(&playbooks)
                .args(["--now", now, "--output", "json"])
                .output()
                .expect("run"),
        )
    };
    // The kill finished at 09:57; a --now a day early puts it in the future.
    let early = plan("2026-11-21T10:00:00Z");
    assert_eq!(early["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        notes(&early),
        [
            "an OOM kill of container api of Pod shop/api-7d4b9c6f5-q7w3m is dated 2026-11-22T09:57:00Z, after the round's time 2026-11-21T10:00:00Z: not counted (a wrong clock, or a wrong --now?)"
        ]
    );
    let right = plan(NOW);
    assert_eq!(right["findings"].as_array().map(Vec::len), Some(1));
    assert!(notes(&right).is_empty());
}

#[test]
fn errors_quote_a_huge_value_cut_and_say_when_text_is_not_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.yaml");
    let huge = "x".repeat(5 * 1024 * 1024);
    std::fs::write(
        &path,
        format!("kind: Pod\nmetadata: {{name: p, namespace: x}}\nstatus:\n  containerStatuses:\n  - name: c\n    restartCount: \"{huge}\"\n"),
    )
    .expect("write");
    let mut args = plan_args(&[&path.display().to_string()]);
    args.extend(["--max-object-size", "64Mi", "--max-token-size", "64Mi"].map(String::from));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.len() < 1000, "{} bytes of error", stderr.len());
    assert_eq!(
        stderr.replace(&dir.path().display().to_string(), "<dir>"),
        format!(
            "error: 1 object(s) of the snapshot have fields rounds cannot read; nothing was done:\n  <dir>/huge.yaml: line 1: Pod x/p: status.containerStatuses[0].restartCount: expected a whole number, found the string \"{}…\" (5242880 bytes)\n",
            "x".repeat(80)
        )
    );
    let path = dir.path().join("latin1.yaml");
    std::fs::write(
        &path,
        b"kind: Node\nmetadata:\n  name: n\n  labels: {owner: J\xf6rg}\n",
    )
    .expect("write");
    let out = run(&plan_args(&[&path.display().to_string()]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_line(&out, dir.path()),
        "error: snapshot <dir>/latin1.yaml: line 4, column 20: not UTF-8 text (kubectl writes UTF-8; was the file converted, or is it binary?)"
    );
}
