//! One YAML document, framed line by line where its layout is kubectl's: a mapping at column 0
//! whose `items:` list has its `- ` entries at column 0. Each item is cut out as its own text
//! (the lines up to the next column-0 line), its unread lines left out ([`ItemLines`]), and
//! parsed on a worker thread ([`Pool`]); the fields around `items` are parsed on their own.
//! The same [`DocumentFields`] and [`Items`] as JSON's decide what is kept, so the objects are
//! those the whole document parsed at once gives.
//!
//! Anything else (a document that is not a mapping at column 0, directives, a list written
//! another way) is parsed whole, as a stream, by the same parser.

use super::document::{DocumentFields, DocumentSeed, Field, FieldsSeed, Found, Items, Shape};
use super::item_lines::{ItemLines, is_blank_or_comment, plain_key};
use super::item_pool::{Chunk, ListKind, Parsed, Pool, Settled};
use super::lines::{Line, Lines};
use super::progress::{Pos, Progress};
use super::{yaml_error, yaml_options};
use serde::de::DeserializeSeed;
use std::io::{BufRead, Read};

/// Reads one document (after [`Lines::next_document`]), handing its objects to `sink`.
pub fn document<R: BufRead>(
    lines: &mut Lines<R>,
    progress: &Progress,
    pool: &mut Option<Pool<Chunk>>,
    sink: &mut dyn FnMut(Found),
) -> Result<Shape, String> {
    let start = progress.document_line.get();
    // Markers and comments before the first content line, and that line.
    let mut prefix = Vec::new();
    let mut directive = false;
    let mut framed = false;
    while let Some(line) = next(lines, progress)? {
        directive |= line.text.first() == Some(&b'%');
        prefix.extend_from_slice(line.text);
        if line.content {
            framed = !directive && plain_key(line.text).is_some();
            break;
        }
    }
    if !framed {
        return whole(Read::chain(&prefix[..], lines), progress, start, sink);
    }
    let mut fields = DocumentFields::default();
    let mut segment = Segment {
        text: prefix,
        line: start,
    };
    // An `items:` line (and blank lines after it) whose value is not known yet.
    let mut held: Option<Vec<u8>> = None;
    while let Some(line) = next(lines, progress)? {
        if let Some(h) = &mut held {
            if !line.content {
                h.extend_from_slice(line.text);
                continue;
            }
            let h = held.take().unwrap_or_default();
            if !starts_item(line.text) {
                // `items:` with its value written another way: parsed with the fields around.
                segment.text.extend_from_slice(&h);
                segment.text.extend_from_slice(line.text);
                continue;
            }
            let (first, number) = (line.text.to_vec(), line.number);
            segment.parse(&mut fields, progress, sink)?;
            let Field::Items(kind) = fields.field("items") else {
                unreachable!("`items` is always a list's items");
            };
            let end = list(lines, progress, pool, sink, Items::new(kind), first, number)?;
            fields.items(end.counts);
            match end.next {
                Some(next) => segment = next,
                None => break,
            }
            continue;
        }
        if line.content
            && let Some((b"items", value)) = plain_key(line.text)
            && is_blank_or_comment(value)
        {
            held = Some(line.text.to_vec());
            continue;
        }
        segment.text.extend_from_slice(line.text);
    }
    if let Some(h) = held {
        segment.text.extend_from_slice(&h);
    }
    segment.parse(&mut fields, progress, sink)?;
    Ok(fields.finish(
        Some(Pos {
            line: start,
            col: 1,
        }),
        sink,
    ))
}

fn next<'l, R: BufRead>(
    lines: &'l mut Lines<R>,
    progress: &Progress,
) -> Result<Option<Line<'l>>, String> {
    lines.next_line().map_err(|e| match progress.take_stop() {
        Some(stop) => stop.to_string(),
        None => e.to_string(),
    })
}

/// The document parsed at once, as a stream.
fn whole(
    reader: impl Read,
    progress: &Progress,
    start: u64,
    sink: &mut dyn FnMut(Found),
) -> Result<Shape, String> {
    serde_saphyr::with_deserializer_from_reader_with_options(reader, yaml_options(), |de| {
        DocumentSeed {
            sink,
            progress,
            pos: Some(Pos {
                line: start,
                col: 1,
            }),
        }
        .deserialize(de)
    })
    .map_err(|e| yaml_error(&e, progress))
}

/// A `- ` entry at column 0 (or a lone `-`).
fn starts_item(line: &[u8]) -> bool {
    line.first() == Some(&b'-') && line.get(1).is_none_or(|b| b.is_ascii_whitespace())
}

/// A stretch of a document's top-level fields between lists.
struct Segment {
    text: Vec<u8>,
    /// The line it begins on.
    line: u64,
}

impl Segment {
    fn parse(
        &mut self,
        fields: &mut DocumentFields,
        progress: &Progress,
        sink: &mut dyn FnMut(Found),
    ) -> Result<(), String> {
        let text = std::mem::take(&mut self.text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        // Lines were checked as UTF-8 when read.
        let text = String::from_utf8(text).map_err(|e| e.to_string())?;
        // The parser's places count from the stretch's first line.
        progress.document_line.set(self.line);
        progress.begin_object();
        serde_saphyr::with_deserializer_from_str_with_options(&text, yaml_options(), |de| {
            FieldsSeed {
                fields: &mut *fields,
                sink: &mut *sink,
                progress,
            }
            .deserialize(de)
        })
        .map_err(|e| yaml_error(&e, progress))
    }
}

/// What a list's items were, and the line after them, which begins the next stretch.
struct ListEnd {
    counts: (usize, usize),
    next: Option<Segment>,
}

/// The items of a list at column 0, from its first item's line to the next column-0 line.
fn list<R: BufRead>(
    lines: &mut Lines<R>,
    progress: &Progress,
    pool: &mut Option<Pool<Chunk>>,
    sink: &mut dyn FnMut(Found),
    mut items: Items,
    first: Vec<u8>,
    first_line: u64,
) -> Result<ListEnd, String> {
    let pool = pool.get_or_insert_with(Pool::new);
    let kind: ListKind = items.kind().cloned().map(std::sync::Arc::new);
    let mut done = |parsed: Parsed| -> Result<(), String> {
        let Settled {
            item,
            without_kind,
            pos,
        } = parsed?;
        // As when parsed whole: a skipped item's place is of no use.
        let found = if items.skips_all() {
            items.skipped(None)
        } else {
            items.settled(item, without_kind, pos)
        };
        sink(found);
        Ok(())
    };
    let (mut chunk, mut kept) = begin(first, first_line, &kind, progress);
    let next = loop {
        let Some(line) = next(lines, progress)? else {
            break None;
        };
        if starts_item(line.text) {
            let (text, number) = (line.text.to_vec(), line.number);
            let (new, new_kept) = begin(text, number, &kind, progress);
            pool.push(std::mem::replace(&mut chunk, new), &mut done)?;
            kept = new_kept;
            continue;
        }
        if line.content && line.text[0] != b' ' {
            break Some(Segment {
                text: line.text.to_vec(),
                line: line.number,
            });
        }
        if kept.keep(line.text) {
            chunk.text.extend_from_slice(line.text);
        } else {
            // An empty line in its place keeps the parser's line numbers the input's.
            chunk.text.push(b'\n');
        }
    };
    pool.push(chunk, &mut done)?;
    pool.flush(&mut done)?;
    Ok(ListEnd {
        counts: items.counts(),
        next,
    })
}

/// An item's first line, its `-` made a space so the item is a mapping at the input's columns.
fn begin(mut text: Vec<u8>, line: u64, kind: &ListKind, progress: &Progress) -> (Chunk, ItemLines) {
    text[0] = b' ';
    let kept = ItemLines::new(&text);
    progress.begin_object();
    (
        Chunk {
            text,
            first_line: line,
            kind: kind.clone(),
        },
        kept,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::snapshot::document::Item;
    use crate::inventory::snapshot::progress::Limits;
    use crate::inventory::snapshot::ready::Ready;
    use std::rc::Rc;

    /// Every document of `text`, framed or parsed whole: the objects with their places, and
    /// each document's shape.
    fn read(text: &str, framed: bool) -> Result<Vec<String>, String> {
        let progress = Rc::new(Progress::new());
        let mut lines = Lines::new(text.as_bytes(), progress.clone(), Limits::DEFAULT);
        let mut pool = None;
        let mut out = Vec::new();
        while lines.next_document() {
            // Framed items are decoded on the pool's workers; whole ones here, alike.
            let mut sink = |mut f: Found| {
                f.item = match f.item {
                    Item::Value(v) => Item::Ready(Box::new(Ready::of(v))),
                    other => other,
                };
                out.push(format!("{f:?}"))
            };
            let shape = if framed {
                document(&mut lines, &progress, &mut pool, &mut sink)?
            } else {
                let start = progress.document_line.get();
                whole(&mut lines, &progress, start, &mut sink)?
            };
            out.push(format!("{shape:?}"));
        }
        Ok(out)
    }

    fn same_either_way(text: &str) -> Vec<String> {
        let framed = read(text, true).expect("framed");
        assert_eq!(framed, read(text, false).expect("whole"), "{text}");
        framed
    }

    const LIST: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    creationTimestamp: "2025-05-15T01:40:58Z"
    labels:
      app: a
    annotations:
      note: |
        - not an item
        managedFields:
      # a comment
    managedFields:
    - apiVersion: v1
      fieldsV1:
        f:metadata:
          f:labels: {}
    name: a
    namespace: x
  spec:
    containers:
    - name: c
      args:
      - |
        - not an item
        managedFields:
      # a comment
  status: {phase: Running}
# between items
- apiVersion: v1
  data:
    key: value
  kind: ConfigMap
  metadata:
    name: cm
-
  kind: Node
  metadata: {name: n1}
- "kind": Pod
  metadata:
    name: q
    namespace: x
- &anchored
  kind: Pod
  metadata:
    labels: &l {a: b}
    annotations: *l
    name: r
    namespace: x
kind: List
metadata:
  resourceVersion: ""
"#;

    #[test]
    fn a_kubectl_list_framed_gives_the_objects_and_places_of_the_whole_parse() {
        let read = same_either_way(LIST);
        assert_eq!(read.len(), 6, "{read:#?}");
        assert!(read[0].contains("line: 3, col: 3"), "{}", read[0]);
        // Lines inside a block scalar that look like an item or a left-out field are kept.
        assert!(
            read[0].contains("\"note\": \"- not an item\\nmanagedFields:\\n\""),
            "{}",
            read[0]
        );
        assert!(
            read[1].contains("Skipped { kind: \"ConfigMap\""),
            "{}",
            read[1]
        );
        assert!(read[5].contains("list_kind: Some(\"List\")"), "{}", read[5]);
    }

    #[test]
    fn other_layouts_read_the_same_framed_or_whole() {
        for text in [
            // Typed lists: items take their kind from the list; an unread kind is skipped.
            "kind: PodList\napiVersion: v1\nitems:\n- metadata: {name: a, namespace: x}\n",
            "kind: ServiceList\nitems:\n- metadata: {name: b, namespace: x}\n- metadata:\n    name: c\n",
            // `items` written another way, or after comments.
            "apiVersion: v1\nitems: []\nkind: List\n",
            "apiVersion: v1\nitems:\n  - kind: Pod\n    metadata: {name: a, namespace: x}\nkind: List\n",
            "items:   # the pods\n\n# first\n- kind: Node\n  metadata: {name: n}\nkind: List\n",
            "items:\nkind: List\n",
            // Single objects, documents of other shapes, several documents.
            "kind: Pod\nmetadata:\n  managedFields:\n  - a: 1\n  name: a\n  namespace: x\n",
            "---\nkind: Pod\nmetadata: {name: a, namespace: x}\n---\n- kind: Node\n  metadata: {name: n}\n---\n# only a comment\n",
            "%YAML 1.2\n---\nkind: Node\nmetadata: {name: m}\n",
            "{kind: Node, metadata: {name: m}}\n",
            "plain text\n",
        ] {
            same_either_way(text);
        }
    }

    #[test]
    fn an_error_in_an_item_names_the_input_s_line() {
        let text = "apiVersion: v1\nitems:\n- kind: Pod\n  metadata:\n    name: a\n- kind: Pod\n  metadata:\n    managedFields:\n    - x\n    name: [a\n- kind: Pod\nkind: List\n";
        let framed = read(text, true).expect_err("broken");
        let whole = read(text, false).expect_err("broken");
        // Framed, the item ends where the next begins, so the bracket is named, where the
        // whole parse reads on into the next item before it fails.
        assert_eq!(framed, "line 10, column 11: unclosed bracket '['");
        assert!(whole.starts_with("line 11, column 7: "), "{whole}");
    }
}
