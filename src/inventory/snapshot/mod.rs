//! Reads a cluster snapshot: what `kubectl get ... -A -o yaml|json` prints (a `kind: List`),
//! typed lists as the API returns them (`PodList`, items without `kind`), multi-document YAML,
//! JSON streams, single objects, kubelet stats/summary documents, or a directory of such
//! files; `-` is standard input.
//!
//! Every input is opened and read once, in one pass, as a stream: a list's items are decoded
//! and handed on one at a time, so a 50,000-pod dump never sits in memory whole, and a pipe or
//! a FIFO works. Reading is bounded (object and token sizes), and what cannot be read right is
//! never read as a healthy cluster: an empty, truncated, endless or non-UTF-8 input is an
//! error; an object that cannot be named exactly is reported and never reaches a detector;
//! the same object twice is read once.

mod document;
mod framer;
mod identity;
mod inputs;
mod item_lines;
mod item_pool;
mod json;
mod lines;
mod progress;
mod ready;
mod yaml;

pub use inputs::{Input, Walk, WalkError};
pub use progress::{Limits, Pos};

use crate::objects::{DecodeError, Decoded};
use document::{Found, Item, Shape};
use framer::{Framer, JsonError};
use identity::{Identities, Sighting};
use lines::Lines;
use progress::{Progress, Stop};
use ready::Ready;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::rc::Rc;

/// Notes of one kind listed one by one, up to this many; the rest are counted.
const LISTED: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error("cannot read snapshot {input}: {source}")]
    Io {
        input: String,
        source: std::io::Error,
    },
    #[error("snapshot {input}: {message}")]
    Read { input: String, message: String },
    #[error(
        "{count} object(s) of the snapshot have fields rounds cannot read; nothing was done:\n{listed}"
    )]
    Objects { count: usize, listed: String },
    #[error(
        "snapshot {inputs} has no objects{detail}: an empty or failed `kubectl get` is not a healthy cluster"
    )]
    NoObjects { inputs: String, detail: String },
}

/// Reads every object of the snapshot paths, calling `on_object` for each one rounds can name,
/// in file order. Returns notes for the report: objects not read and why, duplicates, loops.
pub fn read(
    paths: &[PathBuf],
    limits: Limits,
    on_object: &mut dyn FnMut(Decoded),
) -> Result<Vec<String>, SnapshotError> {
    let mut walk = inputs::Walk::default();
    let mut reading = Reading::new(limits, on_object);
    for path in paths {
        for input in walk.inputs(path)? {
            reading.input(&input)?;
        }
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    reading.finish(names.join(", "), walk.notes)
}

/// A bounded list of examples and the count of all.
#[derive(Default)]
struct Listed {
    items: Vec<String>,
    count: usize,
}

impl Listed {
    fn push(&mut self, item: impl FnOnce() -> String) {
        self.count += 1;
        if self.items.len() < LISTED {
            self.items.push(item());
        }
    }

    fn more(&self) -> usize {
        self.count - self.items.len()
    }
}

struct Reading<'a> {
    limits: Limits,
    names: Vec<String>,
    ids: Identities,
    objects: usize,
    unreadable: Listed,
    again: Listed,
    differs: Listed,
    errors: Listed,
    on_object: &'a mut dyn FnMut(Decoded),
}

/// The first bytes of an input decide its format.
enum Format {
    Json,
    Yaml { skipped_lines: u64 },
    Empty,
}

impl<'a> Reading<'a> {
    fn new(limits: Limits, on_object: &'a mut dyn FnMut(Decoded)) -> Self {
        Self {
            limits,
            names: Vec::new(),
            ids: Identities::default(),
            objects: 0,
            unreadable: Listed::default(),
            again: Listed::default(),
            differs: Listed::default(),
            errors: Listed::default(),
            on_object,
        }
    }

    fn input(&mut self, input: &Input) -> Result<(), SnapshotError> {
        let name = input.name();
        let io = |source| SnapshotError::Io {
            input: name.clone(),
            source,
        };
        let source: Box<dyn Read> = match input {
            Input::Stdin => Box::new(std::io::stdin()),
            Input::File(path) => Box::new(std::fs::File::open(path).map_err(io)?),
        };
        let mut reader = BufReader::with_capacity(256 * 1024, source);
        let fail = |message: String| SnapshotError::Read {
            input: name.clone(),
            message,
        };
        let file = self.names.len();
        self.names.push(name.clone());
        let progress = Rc::new(Progress::new());
        match sniff(&mut reader, &progress).map_err(&fail)? {
            Format::Empty => Err(fail(
                "is empty: no YAML or JSON document in it (a failed `kubectl get ... > file` leaves such a file)".into(),
            )),
            Format::Json => self.json(reader, progress, file).map_err(fail),
            Format::Yaml { skipped_lines } => {
                self.yaml(reader, progress, file, skipped_lines).map_err(fail)
            }
        }
    }

    fn yaml(
        &mut self,
        reader: impl BufRead,
        progress: Rc<Progress>,
        file: usize,
        skipped_lines: u64,
    ) -> Result<(), String> {
        let mut lines = Lines::new(reader, progress.clone(), self.limits);
        lines.skip_lines(skipped_lines);
        let mut pool = None;
        while lines.next_document() {
            let mut sink = |found: Found| self.accept(found, file);
            let shape = yaml::document(&mut lines, &progress, &mut pool, &mut sink)?;
            if lines.at_end() && !lines.ended_with_newline {
                return Err(format!(
                    "line {}: the input ends in the middle of a line, so it looks cut off (kubectl ends its output with a newline)",
                    lines.last_line()
                ));
            }
            check_list(&shape, lines.last_line(), true)?;
        }
        if !lines.any_content {
            return Err("is empty: only comments and blank lines, no YAML document (a failed `kubectl get ... > file` leaves such a file)".into());
        }
        Ok(())
    }

    fn json(
        &mut self,
        reader: impl Read,
        progress: Rc<Progress>,
        file: usize,
    ) -> Result<(), String> {
        let first_line = progress.line.get();
        let mut framer = Framer::new(reader, self.limits, first_line);
        let mut pool = None;
        loop {
            let mut sink = |found: Found| self.accept(found, file);
            let read = json::document(&mut framer, &mut pool, &mut sink)
                .and_then(|shape| check_list(&shape, 0, false).map_err(JsonError::Checked));
            let ended = read.and_then(|()| framer.at_end());
            match ended {
                // Another document may follow (`jq` prints a stream of them).
                Ok(false) => {}
                Ok(true) => return Ok(()),
                Err(e) => return Err(json_error(e, &framer)),
            }
        }
    }

    /// One object read: counted once, decoded, handed on; or noted.
    fn accept(&mut self, found: Found, file: usize) {
        let ready = match found.item {
            Item::Skipped { kind, api_version } => {
                self.objects += 1;
                (self.on_object)(Decoded::Ignored { api_version, kind });
                return;
            }
            Item::Value(v) => Ready::of(v),
            Item::Ready(ready) => *ready,
        };
        let place = || place(&self.names[file], found.index, found.pos);
        let describe = &ready.describe;
        match self.ids.sight(ready.identity, file) {
            Sighting::First => {}
            Sighting::Again { first_file } => {
                let first = input_name(&self.names, first_file);
                let this = &self.names[file];
                self.again.push(|| {
                    if first_file == file {
                        format!("{describe} (twice in {this})")
                    } else {
                        format!("{describe} (in {first} and in {this})")
                    }
                });
                return;
            }
            Sighting::Differs {
                first_file,
                other_uid,
            } => {
                let first = input_name(&self.names, first_file);
                self.differs.push(|| {
                    format!(
                        "{describe} at {} differs from the one in {first} ({}): the one in {first} was read",
                        place(),
                        if other_uid {
                            "another uid: deleted and re-created between the two dumps"
                        } else {
                            "other content: another version of it"
                        }
                    )
                });
                return;
            }
        }
        match ready.decoded {
            Ok(decoded) => {
                self.objects += 1;
                (self.on_object)(decoded);
            }
            Err(DecodeError::Unreadable(why)) => {
                self.unreadable.push(|| format!("{}: {why}", place()))
            }
            Err(e @ DecodeError::Shape { .. }) => self.errors.push(|| format!("{}: {e}", place())),
        }
    }

    fn finish(self, inputs: String, walk_notes: Vec<String>) -> Result<Vec<String>, SnapshotError> {
        if self.errors.count > 0 {
            let mut listed: Vec<String> =
                self.errors.items.iter().map(|e| format!("  {e}")).collect();
            if self.errors.more() > 0 {
                listed.push(format!("  ... and {} more", self.errors.more()));
            }
            return Err(SnapshotError::Objects {
                count: self.errors.count,
                listed: listed.join("\n"),
            });
        }
        if self.objects == 0 {
            let detail = match self.unreadable.items.first() {
                Some(first) => format!(
                    " rounds can read ({} unreadable; first: {first})",
                    self.unreadable.count
                ),
                None => String::new(),
            };
            return Err(SnapshotError::NoObjects { inputs, detail });
        }
        let mut notes = walk_notes;
        for u in &self.unreadable.items {
            notes.push(format!(
                "not read: {u}; rounds acts only on objects it can name exactly"
            ));
        }
        if self.unreadable.more() > 0 {
            notes.push(format!(
                "not read: {} more object(s) that rounds cannot name exactly",
                self.unreadable.more()
            ));
        }
        if self.again.count > 0 {
            notes.push(format!(
                "read once: {} object(s) appear more than once in the snapshot: {}{}",
                self.again.count,
                self.again.items.join("; "),
                if self.again.more() > 0 {
                    format!("; and {} more", self.again.more())
                } else {
                    String::new()
                }
            ));
        }
        notes.extend(self.differs.items.iter().cloned());
        if self.differs.more() > 0 {
            notes.push(format!(
                "{} more object(s) differ between snapshot files; the first copy of each was read",
                self.differs.more()
            ));
        }
        Ok(notes)
    }
}

/// `pods.yaml: item 3 (line 120, column 3)`
fn place(file: &str, index: Option<usize>, pos: Option<Pos>) -> String {
    match (index, pos) {
        (Some(i), Some(p)) => format!("{file}: item {i} ({p})"),
        (Some(i), None) => format!("{file}: item {i}"),
        (None, Some(p)) => format!("{file}: line {}", p.line),
        (None, None) => file.to_owned(),
    }
}

/// Lists must be whole. kubectl prints a List's `kind` after its items, so a YAML list
/// without one was cut off; a typed list that names its items' kind only after them cannot be
/// read in one pass.
fn check_list(shape: &Shape, last_line: u64, yaml: bool) -> Result<(), String> {
    let Some(items) = shape.items else {
        return Ok(());
    };
    if shape.list_kind.is_none() && yaml {
        return Err(format!(
            "line {last_line}: a list with {items} item(s) ends without its `kind`: kubectl prints `kind: List` after the items, so the input looks cut off"
        ));
    }
    if shape.kind_after_items {
        return Err(format!(
            "the list's kind ({}) comes after its items, which name no kind of their own; rounds reads a list in one pass: put `kind` before `items`, or give each item its kind",
            shape.list_kind.as_deref().unwrap_or_default()
        ));
    }
    Ok(())
}

/// Looks at the first bytes: JSON, YAML or nothing. Whole blank lines before the first
/// content are consumed (and counted); the first content line is left untouched.
fn sniff(reader: &mut impl BufRead, progress: &Progress) -> Result<Format, String> {
    let mut skipped_lines = 0u64;
    let mut first = true;
    loop {
        let buf = reader.fill_buf().map_err(|e| Stop::Io(e).to_string())?;
        if buf.is_empty() {
            return Ok(Format::Empty);
        }
        if first {
            first = false;
            if buf.starts_with(&[0xFF, 0xFE]) || buf.starts_with(&[0xFE, 0xFF]) {
                return Err("is UTF-16 text (PowerShell's `>` writes UTF-16); convert it to UTF-8 first, e.g. `kubectl get ... | Out-File -Encoding utf8` or `iconv -f UTF-16 -t UTF-8`".into());
            }
            if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                reader.consume(3);
                continue;
            }
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let format = if matches!(buf[i], b'{' | b'[') {
                    Format::Json
                } else {
                    Format::Yaml { skipped_lines: 0 }
                };
                let whole_lines = buf[..i]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |n| n + 1);
                skipped_lines += buf[..whole_lines].iter().filter(|b| **b == b'\n').count() as u64;
                reader.consume(whole_lines);
                progress.line.set(1 + skipped_lines);
                return Ok(match format {
                    Format::Yaml { .. } => Format::Yaml { skipped_lines },
                    other => other,
                });
            }
            None => {
                let n = buf.len();
                skipped_lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
                reader.consume(n);
            }
        }
    }
}

fn yaml_options() -> serde_saphyr::Options {
    // A dump of a big cluster is one large document; the bounds that matter are per object
    // and per token (enforced by the reader), and the alias limits against alias bombs.
    serde_saphyr::options! {
        // YAML 1.2 booleans: a node called `n` or `no` is a name, not `false`.
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: None,
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
            max_documents: usize::MAX,
            max_depth: 100,
        },
    }
}

/// A YAML error at its place in the input, in our words.
fn yaml_error(e: &serde_saphyr::Error, progress: &Progress) -> String {
    if let Some(stop) = progress.take_stop() {
        return stop.to_string();
    }
    let message = crate::wording::yaml_message(e);
    let place = e
        .location()
        .and_then(|l| progress.in_document(l.line(), l.column()));
    match place {
        Some(p) => format!("{p}: {message}"),
        None => message,
    }
}

/// A JSON error in our words, at the place reading got to when the error names none.
/// The name of an input read before; past the inputs identities can name, said so.
fn input_name(names: &[String], file: usize) -> &str {
    names.get(file).map_or("an earlier input", String::as_str)
}

fn json_error(e: JsonError, framer: &Framer<impl Read>) -> String {
    match e {
        JsonError::Data { pos: None, message } => JsonError::Data {
            pos: Some(framer.pos()),
            message,
        }
        .to_string(),
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests;
