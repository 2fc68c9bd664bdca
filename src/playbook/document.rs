//! Reading one YAML file of rounds documents (playbooks, the runner config) into typed values,
//! with every problem of the file reported at once.

use super::diagnostic::Diagnostic;
use super::schema_check;
use super::tree::{Node, PathSeg, Pos, path_text};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Playbooks are reviewed text; anything larger is a mistake or an attack.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The source of one file, kept to render snippets.
#[derive(Debug)]
pub struct Source {
    pub file: String,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Self, Diagnostic> {
        let file = path.display().to_string();
        let fail = |message: String| {
            Diagnostic::new(&file, "", Pos::default(), "(document)".into(), message)
        };
        let f =
            std::fs::File::open(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
        let mut text = String::new();
        f.take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| fail(format!("cannot read the file: {e}")))?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(fail(format!(
                "the file is larger than {} KiB; playbooks are small reviewed documents",
                MAX_FILE_BYTES / 1024
            )));
        }
        Ok(Self { file, text })
    }

    pub fn diagnostic(&self, pos: Pos, path: &[PathSeg], message: String) -> Diagnostic {
        Diagnostic::new(&self.file, &self.text, pos, path_text(path), message)
    }

    /// Parses every YAML document of the file into trees. Syntax errors, duplicate keys and
    /// resource budget breaches (alias bombs) end the file with one diagnostic.
    pub fn documents(&self) -> Result<Vec<Node>, Diagnostic> {
        let options = serde_saphyr::options! {
            strict_booleans: true,
            // `.nan` and `.inf` reach the schema check, which reports them at their field
            // together with every other problem of the file.
            non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
            budget: serde_saphyr::budget! {
                max_reader_input_bytes: Some(MAX_FILE_BYTES as usize),
                max_events: 200_000,
                max_nodes: 100_000,
                max_aliases: 1_000,
                max_anchors: 1_000,
                max_depth: 64,
                max_documents: 1_000,
                max_total_scalar_bytes: MAX_FILE_BYTES as usize,
            },
        };
        serde_saphyr::from_multiple_with_options::<Node>(&self.text, options).map_err(|e| {
            let pos = e
                .location()
                .map(|l| Pos {
                    line: l.line() as usize,
                    col: l.column() as usize,
                })
                .unwrap_or_default();
            let message = crate::wording::yaml_message(&e);
            Diagnostic::new(&self.file, &self.text, pos, "(document)".into(), message)
        })
    }

    /// Checks a document against `T`'s schema, then reads it as `T`. Warnings are dropped.
    pub fn typed<T: DeserializeOwned>(
        &self,
        schema: &serde_json::Value,
        doc: &Node,
    ) -> Result<T, Vec<Diagnostic>> {
        self.typed_noting(schema, doc, &mut Vec::new())
    }

    /// Checks a document against `T`'s schema, then reads it as `T`; valid values that look
    /// wrong are added to `warnings`.
    pub fn typed_noting<T: DeserializeOwned>(
        &self,
        schema: &serde_json::Value,
        doc: &Node,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<T, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        for p in schema_check::check(schema, doc) {
            let pos = if p.at_key {
                key_pos(doc, &p.path)
            } else {
                doc.locate(&p.path)
            };
            let d = self.diagnostic(pos, &p.path, p.message);
            if p.warning {
                warnings.push(d.warning());
            } else {
                errors.push(d);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // The schema check accepted it, so this only fails where the schema is looser than the
        // types; report that too, at the field.
        serde_path_to_error::deserialize(doc.to_json()).map_err(|e| {
            let path: Vec<PathSeg> = e
                .path()
                .iter()
                .filter_map(|seg| match seg {
                    serde_path_to_error::Segment::Map { key } => Some(PathSeg::Key(key.clone())),
                    serde_path_to_error::Segment::Enum { variant } => {
                        Some(PathSeg::Key(variant.clone()))
                    }
                    serde_path_to_error::Segment::Seq { index } => Some(PathSeg::Index(*index)),
                    serde_path_to_error::Segment::Unknown => None,
                })
                .collect();
            vec![self.diagnostic(
                doc.locate(&path),
                &path,
                crate::wording::plain_serde_message(&e.inner().to_string()),
            )]
        })
    }
}

/// A document with the file it was read from, so checks that run after loading (warnings,
/// checks across documents) can still name the line of what they report.
#[derive(Debug, Clone)]
pub struct Located {
    source: Arc<Source>,
    doc: Node,
}

impl Located {
    pub fn new(source: &Arc<Source>, doc: Node) -> Self {
        Self {
            source: Arc::clone(source),
            doc,
        }
    }

    pub fn doc(&self) -> &Node {
        &self.doc
    }

    /// A diagnostic at `path` in this document (at the closest parent that exists).
    pub fn diagnostic(&self, path: &[PathSeg], message: String) -> Diagnostic {
        self.source.diagnostic(self.doc.locate(path), path, message)
    }
}

/// Where a key is written (for "unknown field" errors), falling back to its value.
fn key_pos(doc: &Node, path: &[PathSeg]) -> Pos {
    let Some((PathSeg::Key(last), parent)) = path.split_last() else {
        return doc.locate(path);
    };
    let mut node = doc;
    for seg in parent {
        let next = match (seg, &node.value) {
            (PathSeg::Key(k), _) => node.get(k),
            (PathSeg::Index(i), super::tree::NodeValue::Seq(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return doc.locate(path),
        }
    }
    match &node.value {
        super::tree::NodeValue::Map(entries) => entries
            .iter()
            .find(|(k, _)| &k.name == last)
            .map(|(k, _)| k.pos)
            .unwrap_or(node.pos),
        _ => node.pos,
    }
}
