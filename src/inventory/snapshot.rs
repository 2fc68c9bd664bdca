//! Reads a cluster snapshot: what `kubectl get ... -A -o yaml|json` prints (a `kind: List`),
//! multi-document YAML, a single object, or a directory of such files, plus kubelet
//! stats/summary JSON documents.
//!
//! A `kind: List` is streamed: each item is decoded and handed on as it is parsed, then dropped,
//! so a 50,000-pod dump never sits in memory whole.

use super::stream::DocumentSeed;
use crate::objects::{self, Decoded};
use serde::de::DeserializeSeed;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("snapshot {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("snapshot {path}: {source}")]
    Object {
        path: PathBuf,
        source: objects::DecodeError,
    },
    #[error("snapshot {path} has no YAML or JSON files")]
    Empty { path: PathBuf },
}

/// Every file a snapshot path stands for, in a stable order.
pub fn snapshot_files(path: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_owned(),
        source,
    };
    if !path.is_dir() {
        std::fs::metadata(path).map_err(io)?;
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(SnapshotError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(files)
}

/// Reads one snapshot file, calling `on_object` for each object in it, in file order.
pub fn read_file(path: &Path, on_object: &mut dyn FnMut(Decoded)) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_owned(),
        source,
    };
    let mut reader = BufReader::with_capacity(256 * 1024, File::open(path).map_err(io)?);
    let first = first_significant_byte(&mut reader).map_err(io)?;
    let mut failure: Option<SnapshotError> = None;
    let mut handle = |value: Value| -> Result<(), String> {
        match objects::decode(value) {
            Ok(decoded) => {
                on_object(decoded);
                Ok(())
            }
            Err(source) => {
                let msg = source.to_string();
                failure = Some(SnapshotError::Object {
                    path: path.to_owned(),
                    source,
                });
                Err(msg)
            }
        }
    };
    let parse_error = |message: String| SnapshotError::Parse {
        path: path.to_owned(),
        message,
    };
    let result = match first {
        None => Ok(()),
        Some(b'{') | Some(b'[') => {
            let mut de = serde_json::Deserializer::from_reader(reader);
            DocumentSeed::new(&mut handle)
                .deserialize(&mut de)
                .and_then(|_| de.end())
                .map_err(|e| e.to_string())
        }
        Some(_) => {
            // Scan first (streaming, nothing kept) so a single big List can be parsed as a stream.
            let multi = has_document_separator(reader).map_err(io)?;
            let reader = BufReader::with_capacity(256 * 1024, File::open(path).map_err(io)?);
            read_yaml(reader, multi, &mut handle)
        }
    };
    match (failure, result) {
        (Some(f), _) => Err(f),
        (None, Err(message)) => Err(parse_error(message)),
        (None, Ok(())) => Ok(()),
    }
}

fn snapshot_options() -> serde_saphyr::Options {
    // Dumps of big clusters are far larger than a config file; alias limits stay at their
    // defaults, which is what guards against alias bombs.
    serde_saphyr::options! {
        // YAML 1.2 booleans: a node called `n` or `no` is a name, not `false`.
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: None,
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
            max_documents: 1_000_000,
        },
    }
}

fn read_yaml(
    mut reader: impl Read,
    multi_document: bool,
    sink: &mut dyn FnMut(Value) -> Result<(), String>,
) -> Result<(), String> {
    if multi_document {
        // Several documents: each is small in practice (one object each), read them one by one.
        for doc in serde_saphyr::read_with_options::<_, Value>(&mut reader, snapshot_options()) {
            let doc = doc.map_err(|e| e.to_string())?;
            split_document(doc, sink)?;
        }
        return Ok(());
    }
    serde_saphyr::with_deserializer_from_reader_with_options(reader, snapshot_options(), |de| {
        DocumentSeed::new(&mut *sink).deserialize(de).map(drop)
    })
    .map_err(|e| e.to_string())
}

/// Hands on the items of a list document, or the document itself.
fn split_document(
    doc: Value,
    sink: &mut dyn FnMut(Value) -> Result<(), String>,
) -> Result<(), String> {
    match doc {
        Value::Null => Ok(()),
        Value::Object(mut map) if map.get("items").is_some_and(Value::is_array) => {
            let kind = super::stream::item_kind(&map);
            let Some(Value::Array(items)) = map.remove("items") else {
                return Ok(());
            };
            items.into_iter().try_for_each(|mut item| {
                if let Some(kind) = &kind {
                    super::stream::give_kind(&mut item, kind);
                }
                sink(item)
            })
        }
        Value::Array(items) => items.into_iter().try_for_each(sink),
        other => sink(other),
    }
}

/// True when a `---` line separates documents after the first line.
fn has_document_separator(reader: impl BufRead) -> std::io::Result<bool> {
    let mut lines = reader.split(b'\n');
    lines.next().transpose()?;
    for line in lines {
        let line = line?;
        if line.starts_with(b"---") && line[3..].iter().all(u8::is_ascii_whitespace) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn first_significant_byte(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(b) = buf.iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(Some(*b));
        }
        let n = buf.len();
        reader.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::Object;

    fn kinds_in(text: &str, ext: &str) -> Vec<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(format!("snap.{ext}"));
        std::fs::write(&path, text).expect("write");
        let mut kinds = Vec::new();
        read_file(&path, &mut |d| {
            kinds.push(match d {
                Decoded::Object(Object::Pod(p)) => format!("Pod/{}", p.metadata.name),
                Decoded::Object(Object::Node(n)) => format!("Node/{}", n.metadata.name),
                Decoded::Object(Object::StatsSummary(s)) => format!("Summary/{}", s.node.node_name),
                Decoded::Object(_) => "other".into(),
                Decoded::Ignored { kind, .. } => format!("ignored {kind}"),
            })
        })
        .expect("read");
        kinds
    }

    #[test]
    fn reads_a_kubectl_list_in_yaml_and_json() {
        let yaml = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        assert_eq!(kinds_in(yaml, "yaml"), ["Pod/a", "ignored Service"]);
        let json = r#"{"apiVersion":"v1","items":[{"kind":"Node","metadata":{"name":"n1"}}],"kind":"List"}"#;
        assert_eq!(kinds_in(json, "json"), ["Node/n1"]);
    }

    #[test]
    fn typed_list_items_take_their_kind_from_the_list() {
        let json = r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a","namespace":"x"}}]}"#;
        assert_eq!(kinds_in(json, "json"), ["Pod/a"]);
        let yaml = "kind: NodeList\napiVersion: v1\nitems:\n- metadata: {name: n1}\n---\nkind: PodList\nitems:\n- metadata: {name: b, namespace: x}\n";
        assert_eq!(kinds_in(yaml, "yaml"), ["Node/n1", "Pod/b"]);
    }

    #[test]
    fn reads_multi_document_yaml_and_stats_summaries() {
        let yaml = "kind: Pod\nmetadata: {name: a}\n---\nkind: Node\nmetadata: {name: n}\n---\n";
        assert_eq!(kinds_in(yaml, "yaml"), ["Pod/a", "Node/n"]);
        let json = r#"{"node":{"nodeName":"n1"},"pods":[]}"#;
        assert_eq!(kinds_in(json, "json"), ["Summary/n1"]);
    }

    #[test]
    fn names_the_object_that_does_not_decode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, "kind: Pod\nmetadata: {name: a}\nstatus: {containerStatuses: [{name: c, restartCount: many}]}\n").expect("write");
        let err = read_file(&path, &mut |_| {}).expect_err("must fail");
        let text = err.to_string();
        assert!(
            text.contains("bad.yaml") && text.contains("Pod a"),
            "{text}"
        );
        assert!(
            text.contains("status.containerStatuses[0].restartCount"),
            "{text}"
        );
    }
}
