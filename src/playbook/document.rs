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
            let message = parser_message(&e.without_snippet().to_string());
            Diagnostic::new(&self.file, &self.text, pos, "(document)".into(), message)
        })
    }

    /// Checks a document against `T`'s schema, then reads it as `T`.
    pub fn typed<T: DeserializeOwned>(
        &self,
        schema: &serde_json::Value,
        doc: &Node,
    ) -> Result<T, Vec<Diagnostic>> {
        let problems = schema_check::check(schema, doc);
        if !problems.is_empty() {
            return Err(problems
                .into_iter()
                .map(|p| {
                    let pos = if p.at_key {
                        key_pos(doc, &p.path)
                    } else {
                        doc.locate(&p.path)
                    };
                    self.diagnostic(pos, &p.path, p.message)
                })
                .collect());
        }
        // The schema check accepted it, so this only fails where the schema is looser than the
        // types; report that too, at the document.
        serde_path_to_error::deserialize(doc.to_json()).map_err(|e| {
            let path = e.path().to_string();
            vec![Diagnostic::new(
                &self.file,
                &self.text,
                doc.pos,
                path,
                e.inner().to_string(),
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

/// The parser's message in our words: without the position (we print it in front) and
/// without advice about the library's options.
fn parser_message(raw: &str) -> String {
    let line = raw.lines().next().unwrap_or(raw).trim();
    let line = line.split(" at line ").next().unwrap_or(line);
    let line = line.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    match line.strip_prefix("budget breached: ") {
        Some(what) => format!(
            "refused: the document is too large once YAML aliases are expanded ({what}); anchors and aliases must not multiply content"
        ),
        None => line,
    }
}
