//! The snapshot reader on files, as `rounds plan --snapshot` uses it.

use super::*;
use crate::objects::Object;

fn read_text(text: &str, ext: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(format!("snap.{ext}"));
    std::fs::write(&path, text).expect("write");
    let mut kinds = Vec::new();
    let notes = read(&[path], Limits::DEFAULT, &mut |d| {
        kinds.push(match d {
            Decoded::Object(Object::Pod(p)) => format!("Pod/{}", p.metadata.name),
            Decoded::Object(Object::Node(n)) => format!("Node/{}", n.metadata.name),
            Decoded::Object(Object::StatsSummary(s)) => format!("Summary/{}", s.node.node_name),
            Decoded::Object(Object::Event(e)) => format!("Event/{}", e.involved_object.name),
            Decoded::Object(_) => "other".into(),
            Decoded::Ignored { kind, .. } => format!("ignored {kind}"),
        })
    })
    .map_err(|e| {
        e.to_string()
            .replace(&dir.path().display().to_string(), "<dir>")
    })?;
    let notes = notes
        .into_iter()
        .map(|n| n.replace(&dir.path().display().to_string(), "<dir>"))
        .collect();
    Ok((kinds, notes))
}

fn kinds_in(text: &str, ext: &str) -> Vec<String> {
    read_text(text, ext).expect("read").0
}

#[test]
fn reads_a_kubectl_list_in_yaml_and_json() {
    let yaml = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    namespace: x\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
    assert_eq!(kinds_in(yaml, "yaml"), ["Pod/a", "ignored Service"]);
    let json =
        r#"{"apiVersion":"v1","items":[{"kind":"Node","metadata":{"name":"n1"}}],"kind":"List"}"#;
    assert_eq!(kinds_in(json, "json"), ["Node/n1"]);
}

#[test]
fn reads_multi_document_yaml_json_streams_and_stats_summaries() {
    let yaml =
        "kind: Pod\nmetadata: {name: a, namespace: x}\n---\nkind: Node\nmetadata: {name: n}\n---\n";
    assert_eq!(kinds_in(yaml, "yaml"), ["Pod/a", "Node/n"]);
    let json = r#"{"node":{"nodeName":"n1"},"pods":[]}"#;
    assert_eq!(kinds_in(json, "json"), ["Summary/n1"]);
    let stream = "{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\"}}\n{\"kind\":\"Node\",\"metadata\":{\"name\":\"b\"}}\n";
    assert_eq!(kinds_in(stream, "json"), ["Node/a", "Node/b"]);
}

#[test]
fn typed_list_items_take_their_kind_from_the_list() {
    let json = r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a","namespace":"x"}}]}"#;
    assert_eq!(kinds_in(json, "json"), ["Pod/a"]);
    let yaml = "kind: NodeList\napiVersion: v1\nitems:\n- metadata: {name: n1}\n---\nkind: ServiceList\nitems:\n- metadata: {name: b, namespace: x}\n";
    assert_eq!(kinds_in(yaml, "yaml"), ["Node/n1", "ignored Service"]);
    let sorted = "apiVersion: v1\nitems:\n- metadata: {name: a, namespace: x}\nkind: PodList\n";
    assert_eq!(
        read_text(sorted, "yaml").expect_err("kind after items"),
        "snapshot <dir>/snap.yaml: the list's kind (PodList) comes after its items, which name no kind of their own; rounds reads a list in one pass: put `kind` before `items`, or give each item its kind"
    );
}

#[test]
fn names_the_object_and_the_item_that_do_not_decode_and_goes_on() {
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a, namespace: x}\n  status: {containerStatuses: [{name: c, restartCount: many}]}\n- kind: Pod\n  metadata: {name: b, namespace: x}\n  spec: {containers: [{name: c, image: [1]}]}\n";
    assert_eq!(
        read_text(yaml, "yaml").expect_err("bad"),
        "2 object(s) of the snapshot have fields rounds cannot read; nothing was done:\n  <dir>/snap.yaml: item 0 (line 4, column 3): Pod x/a: status.containerStatuses[0].restartCount: expected a whole number, found the string \"many\"\n  <dir>/snap.yaml: item 1 (line 7, column 3): Pod x/b: spec.containers[0].image: expected a string, found a list"
    );
    let json = "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"Node\", \"metadata\": {\"name\": \"n\"}, \"spec\": {\"unschedulable\": \"no\"}}\n]}";
    assert_eq!(
        read_text(json, "json").expect_err("bad"),
        "1 object(s) of the snapshot have fields rounds cannot read; nothing was done:\n  <dir>/snap.json: item 0 (line 2, column 3): Node n: spec.unschedulable: expected true or false, found the string \"no\""
    );
}

#[test]
fn objects_without_kind_name_or_namespace_are_noted_not_read() {
    let yaml = "kind: List\nitems:\n- kind: Pod\n  metadata: {namespace: batch}\n- kind: Pod\n  metadata: {name: '', namespace: batch}\n- kind: Pod\n  metadata: {name: p}\n- kind: Node\n  metadata: {name: ../nodes/x}\n- metadata: {name: no-kind}\n- kind: Node\n  metadata: {name: ok}\n";
    let (kinds, notes) = read_text(yaml, "yaml").expect("read");
    assert_eq!(kinds, ["Node/ok"]);
    let tail = "; rounds acts only on objects it can name exactly";
    assert_eq!(
        notes,
        [
            format!(
                "not read: <dir>/snap.yaml: item 0 (line 3, column 3): a Pod without metadata.name{tail}"
            ),
            format!(
                "not read: <dir>/snap.yaml: item 1 (line 5, column 3): a Pod without metadata.name{tail}"
            ),
            format!(
                "not read: <dir>/snap.yaml: item 2 (line 7, column 3): Pod p without metadata.namespace (a Pod always has one){tail}"
            ),
            format!(
                "not read: <dir>/snap.yaml: item 3 (line 9, column 3): a Node whose metadata.name is \"../nodes/x\", which the API server never gives (no '/', '%', '.' or '..'){tail}"
            ),
            format!(
                "not read: <dir>/snap.yaml: item 4 (line 11, column 3): not a Kubernetes object: it has no `kind` (and is not a kubelet stats summary){tail}"
            ),
        ]
    );
}

#[test]
fn the_same_object_twice_is_read_once_and_a_different_copy_is_noted() {
    let pod = "- kind: Pod\n  metadata: {name: a, namespace: x, uid: '1'}\n";
    let yaml = format!(
        "kind: List\nitems:\n{pod}{pod}- kind: Pod\n  metadata: {{name: a, namespace: x, uid: '2'}}\n"
    );
    let (kinds, notes) = read_text(&yaml, "yaml").expect("read");
    assert_eq!(kinds, ["Pod/a"]);
    assert_eq!(
        notes,
        [
            "read once: 1 object(s) appear more than once in the snapshot: Pod x/a (twice in <dir>/snap.yaml)",
            "Pod x/a at <dir>/snap.yaml: item 2 (line 7, column 3) differs from the one in <dir>/snap.yaml (another uid: deleted and re-created between the two dumps): the one in <dir>/snap.yaml was read",
        ]
    );
}

#[test]
fn empty_inputs_are_errors() {
    for (text, ext, message) in [
        (
            "",
            "yaml",
            "is empty: no YAML or JSON document in it (a failed `kubectl get ... > file` leaves such a file)",
        ),
        (
            "\n\n  \n",
            "json",
            "is empty: no YAML or JSON document in it (a failed `kubectl get ... > file` leaves such a file)",
        ),
        (
            "# nothing here\n\n# at all\n",
            "yaml",
            "is empty: only comments and blank lines, no YAML document (a failed `kubectl get ... > file` leaves such a file)",
        ),
    ] {
        assert_eq!(
            read_text(text, ext).expect_err(text),
            format!("snapshot <dir>/snap.{ext}: {message}")
        );
    }
    assert_eq!(
        read_text(
            "apiVersion: v1\nitems: []\nkind: List\nmetadata: {}\n",
            "yaml"
        )
        .expect_err("empty list"),
        "snapshot <dir>/snap.yaml has no objects: an empty or failed `kubectl get` is not a healthy cluster"
    );
}

#[test]
fn truncated_input_is_an_error_with_its_line() {
    let whole = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    namespace: x\n  status:\n    phase: Running\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n    namespace: x\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
    assert_eq!(kinds_in(whole, "yaml"), ["Pod/a", "Pod/b"]);
    // Cut at a line end: still YAML, but the list has no kind.
    let at_line = &whole[..whole
        .find("- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b")
        .expect("b")];
    assert_eq!(
        read_text(at_line, "yaml").expect_err("cut"),
        "snapshot <dir>/snap.yaml: line 9: a list with 1 item(s) ends without its `kind`: kubectl prints `kind: List` after the items, so the input looks cut off"
    );
    // Cut mid-line.
    let mid = &whole[..whole.find("ame: b").expect("b")];
    assert_eq!(
        read_text(mid, "yaml").expect_err("cut"),
        "snapshot <dir>/snap.yaml: line 13: the input ends in the middle of a line, so it looks cut off (kubectl ends its output with a newline)"
    );
    let json = "{\"kind\": \"List\", \"items\": [\n  {\"kind\": \"Node\", \"metadata\": {\"na";
    assert_eq!(
        read_text(json, "json").expect_err("cut"),
        "snapshot <dir>/snap.json: line 2, column 35: the input ends in the middle of a JSON value, so it looks cut off"
    );
}

#[test]
fn non_utf8_and_utf16_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bin.yaml");
    std::fs::write(&path, b"kind: Pod\nmetadata: {name: a\xff, namespace: x}\n").expect("write");
    let err = read(&[path], Limits::DEFAULT, &mut |_| {}).expect_err("not utf-8");
    assert!(
        err.to_string().ends_with("bin.yaml: line 2, column 19: not UTF-8 text (kubectl writes UTF-8; was the file converted, or is it binary?)"),
        "{err}"
    );
    let path = dir.path().join("bin.json");
    std::fs::write(
        &path,
        b"{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\xff\"}}",
    )
    .expect("write");
    let err = read(&[path], Limits::DEFAULT, &mut |_| {}).expect_err("not utf-8");
    assert!(err.to_string().contains("not UTF-8 text"), "{err}");
    let path = dir.path().join("ps.yaml");
    std::fs::write(&path, b"\xff\xfek\x00i\x00").expect("write");
    let err = read(&[path], Limits::DEFAULT, &mut |_| {}).expect_err("utf-16");
    assert!(
        err.to_string().contains("is UTF-16 text (PowerShell"),
        "{err}"
    );
}

#[test]
fn bounds_objects_and_tokens_and_skips_ignored_kinds_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_object_bytes: 4096,
        max_token_bytes: 1024,
    };
    let run = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let mut kinds = Vec::new();
        read(&[path], limits, &mut |d| {
            kinds.push(match d {
                Decoded::Ignored { kind, .. } => kind,
                Decoded::Object(_) => "read".into(),
            })
        })
        .map(|_| kinds)
        .map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "<dir>")
        })
    };
    let token = "x".repeat(2000);
    assert_eq!(
        run(
            "long.yaml",
            format!("kind: ConfigMap\ndata: {{a: {token}}}\n")
        )
        .expect_err("long"),
        "snapshot <dir>/long.yaml: line 2: a single value or line is longer than 1 KiB (--max-token-size): not a dump of real objects, or raise the limit"
    );
    assert_eq!(
        run(
            "long.json",
            format!("{{\"kind\": \"ConfigMap\", \"data\": {{\"a\": \"{token}\"}}}}")
        )
        .expect_err("long"),
        "snapshot <dir>/long.json: line 1: a single value or line is longer than 1 KiB (--max-token-size): not a dump of real objects, or raise the limit"
    );
    let big: String = (0..200)
        .map(|i| format!("    k{i}: {}\n", "v".repeat(40)))
        .collect();
    let err = run("big.yaml", format!("kind: List\nitems:\n- kind: Pod\n  metadata:\n    name: a\n    namespace: x\n    labels:\n{big}")).expect_err("big");
    assert!(err.starts_with("snapshot <dir>/big.yaml: line "), "{err}");
    assert!(
        err.contains(": an object is larger than 4 KiB (--max-object-size)"),
        "{err}"
    );
    // Many objects, each small, are fine however many there are.
    let many: String = (0..500)
        .map(|i| format!("- kind: Node\n  metadata: {{name: n{i}}}\n"))
        .collect();
    assert_eq!(
        run("many.yaml", format!("kind: List\nitems:\n{many}"))
            .expect("many")
            .len(),
        500
    );
    // A big ignored object in JSON is skipped, not kept: its fields are never parsed into memory.
    let data: String = (0..50)
        .map(|i| format!("\"k{i}\": \"{}\", ", "v".repeat(30)))
        .collect();
    let json = format!(
        "{{\"kind\": \"List\", \"items\": [{{\"kind\": \"Secret\", \"data\": {{{data}\"z\": 1}}}}, {{\"kind\": \"Node\", \"metadata\": {{\"name\": \"n\"}}}}]}}"
    );
    assert_eq!(
        run("ignored.json", json).expect("skipped"),
        ["Secret", "read"]
    );
}

#[test]
fn streaming_keeps_every_field_the_object_views_read() {
    // The demo cluster read through the filtering reader decodes to exactly what the whole
    // documents decode to: no field an object view reads is dropped.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-cluster");
    let mut streamed = Vec::new();
    read(std::slice::from_ref(&dir), Limits::DEFAULT, &mut |d| {
        streamed.push(format!("{d:?}"))
    })
    .expect("read");
    let mut whole = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let docs: Vec<serde_json::Value> = if f.extension().is_some_and(|e| e == "json") {
            vec![serde_json::from_str(&text).expect("json")]
        } else {
            serde_saphyr::from_multiple(&text).expect("yaml")
        };
        for doc in docs {
            let items = match doc.get("items") {
                Some(serde_json::Value::Array(items)) => items.clone(),
                _ => vec![doc],
            };
            for item in items {
                whole.push(format!(
                    "{:?}",
                    crate::objects::decode(item).expect("decodes")
                ));
            }
        }
    }
    assert_eq!(streamed.len(), whole.len());
    assert_eq!(streamed, whole);
}
