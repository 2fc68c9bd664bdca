//! JSON input cut into pieces before it is parsed. A dump is one document whose `items` are
//! the objects; parsed from an `io::Read`, serde_json goes through it byte by byte, and that
//! was most of a round's time. This reader follows the document's outline itself (its keys,
//! the items of its list) and copies each item into one buffer, leaving out on the way what no
//! object view reads (a dump's `managedFields`, a Secret's `data`, every field of a kind rounds
//! does not read), so the parser reads a small slice instead of a stream.
//!
//! Reading stays bounded: strings and numbers longer than the token bound, and values longer
//! than the object bound, stop it; the buffers hold one chunk of input and one item. Bytes that
//! are left out are still checked for nesting and for characters JSON allows outside strings,
//! so a damaged file is an error, never fewer objects. Where the parser finds an error in a
//! piece, the place is mapped back to the line and column of the input.

use super::progress::{Limits, Pos, Stop};
use crate::objects::{READ_FIELDS, reads_kind};
use std::fmt;
use std::io::Read;

const CHUNK: usize = 256 * 1024;

/// Why reading JSON stopped.
#[derive(Debug)]
pub enum JsonError {
    /// A bound or an I/O error.
    Stop(Stop),
    /// The input ends inside a value.
    Cut(Pos),
    NotUtf8(Pos),
    Syntax {
        pos: Pos,
        message: String,
    },
    /// A value of the wrong shape (said by the parser or by the document's reader).
    Data {
        pos: Option<Pos>,
        message: String,
    },
    /// The document was read, and is not whole (said in full).
    Checked(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Self::Stop(stop) => write!(f, "{stop}"),
            Self::Checked(message) => f.write_str(message),
            Self::Cut(pos) => write!(
                f,
                "{pos}: the input ends in the middle of a JSON value, so it looks cut off"
            ),
            Self::NotUtf8(pos) => write!(
                f,
                "{pos}: not UTF-8 text (kubectl writes UTF-8; was the file converted, or is it binary?)"
            ),
            Self::Syntax { pos, message } => write!(f, "{pos}: {}", crate::wording::cut(message)),
            Self::Data { pos, message } => {
                let message = crate::wording::plain_serde_message(message);
                match pos {
                    Some(pos) => write!(f, "{pos}: {message}"),
                    None => write!(f, "{message}"),
                }
            }
        }
    }
}

impl std::error::Error for JsonError {}

impl serde::de::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::Data {
            pos: None,
            message: msg.to_string(),
        }
    }
}

/// What to do with the fields of an object being copied.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fields {
    /// A list item: only the fields object views read, and of `metadata` all but
    /// `managedFields`; after a `kind` rounds does not read, only `apiVersion`.
    Item,
    /// An item's `metadata`.
    Metadata,
}

pub struct Framer<R> {
    reader: R,
    buf: Vec<u8>,
    /// The next byte to look at, and the end of what was read.
    at: usize,
    end: usize,
    eof: bool,
    line: u64,
    col: u64,
    limits: Limits,
    /// The piece being copied, and where each run of it that is a verbatim copy came from.
    piece: Vec<u8>,
    runs: Vec<(usize, Pos)>,
    /// Bytes looked at are being copied (from `run_from` in the buffer).
    copying: bool,
    run_from: usize,
    /// Bytes of the current value so far (the object bound), and of the current token.
    span: u64,
    token: u64,
    /// The cursor is at the start of a line (after its newline, before anything but spaces).
    line_start: bool,
    /// Where lines of the piece begin, and how many spaces of indentation were left out.
    indents: Vec<(usize, u64)>,
    /// The outline's open objects and lists: whether the next entry is the first.
    outline: Vec<bool>,
    /// The kind the item being copied names.
    item_kind: Option<String>,
    /// The brackets open inside the value being stepped over (kept to spare an allocation a
    /// value).
    nesting: Vec<u8>,
}

impl<R: Read> Framer<R> {
    /// `line` is where the input begins (after blank lines looked at before).
    pub fn new(reader: R, limits: Limits, line: u64) -> Self {
        Self {
            reader,
            buf: vec![0; CHUNK],
            at: 0,
            end: 0,
            eof: false,
            line,
            col: 1,
            limits,
            piece: Vec::new(),
            runs: Vec::new(),
            copying: false,
            run_from: 0,
            span: 0,
            token: 0,
            outline: Vec::new(),
            line_start: false,
            indents: Vec::new(),
            nesting: Vec::new(),
            item_kind: None,
        }
    }

    /// Steps into the object or list the cursor is on; its entries are read with
    /// [`Framer::next_key`] or [`Framer::next_element`].
    pub fn open(&mut self, b: u8) -> Result<(), JsonError> {
        self.expect(b, if b == b'{' { "`{`" } else { "`[`" })?;
        self.outline.push(true);
        Ok(())
    }

    /// Steps to the next entry of the open object or list: `false` at its end (stepped over).
    fn next_entry(&mut self, close: u8) -> Result<bool, JsonError> {
        let first = self.outline.last().copied().unwrap_or(true);
        match self.skip_space()? {
            None => return Err(JsonError::Cut(self.last_pos())),
            Some(b) if b == close => {
                self.step(1)?;
                self.outline.pop();
                return Ok(false);
            }
            Some(b',') if !first => {
                self.step(1)?;
                match self.skip_space()? {
                    None => return Err(JsonError::Cut(self.last_pos())),
                    Some(b) if b == close => return Err(self.syntax("trailing comma".into())),
                    Some(_) => {}
                }
            }
            Some(_) if !first => {
                return Err(self.syntax(format!("expected `,` or `{}`", close as char)));
            }
            Some(_) => {}
        }
        if let Some(first) = self.outline.last_mut() {
            *first = false;
        }
        Ok(true)
    }

    /// The next key of the open object, stepped over with its `:`; `None` at its end.
    pub fn next_key(&mut self) -> Result<Option<String>, JsonError> {
        if !self.next_entry(b'}')? {
            return Ok(None);
        }
        if self.peek()? != Some(b'"') {
            return Err(self.syntax("expected a key in quotes".into()));
        }
        let key: String = self.whole()?.parse()?;
        self.expect(b':', "`:` after a key")?;
        Ok(Some(key))
    }

    /// Whether the open list has another element (the cursor is then on it).
    pub fn next_element(&mut self) -> Result<bool, JsonError> {
        self.next_entry(b']')
    }

    /// Where the last byte read was: an input that ends early ends there (as serde_json says).
    fn last_pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col.saturating_sub(1),
        }
    }

    pub fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    /// The byte under the cursor, reading more input when the buffer is used up.
    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, JsonError> {
        if self.at < self.end {
            return Ok(Some(self.buf[self.at]));
        }
        self.refill()?;
        Ok((self.at < self.end).then(|| self.buf[self.at]))
    }

    #[cold]
    fn refill(&mut self) -> Result<(), JsonError> {
        if self.eof {
            return Ok(());
        }
        self.flush_run();
        self.at = 0;
        self.end = 0;
        self.run_from = 0;
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(JsonError::Stop(Stop::Io(e))),
            }
        }
    }

    /// Copies what was looked at since the run began.
    fn flush_run(&mut self) {
        if self.copying {
            self.piece
                .extend_from_slice(&self.buf[self.run_from..self.at]);
        }
        self.run_from = self.at;
    }

    /// Starts or stops copying at the cursor.
    fn copy_from_here(&mut self, copy: bool) {
        self.flush_run();
        if copy && !self.copying {
            self.runs.push((self.piece.len(), self.pos()));
        }
        self.copying = copy;
    }

    /// Steps over `n` bytes of one line.
    #[inline]
    fn step(&mut self, n: usize) -> Result<(), JsonError> {
        self.at += n;
        self.col += n as u64;
        self.span += n as u64;
        if self.span > self.limits.max_object_bytes {
            return Err(JsonError::Stop(Stop::ObjectTooLarge {
                line: self.line,
                limit: self.limits.max_object_bytes,
            }));
        }
        Ok(())
    }

    fn token_grew(&mut self, n: usize) -> Result<(), JsonError> {
        self.token += n as u64;
        if self.token > self.limits.max_token_bytes {
            return Err(JsonError::Stop(Stop::TokenTooLarge {
                line: self.line,
                limit: self.limits.max_token_bytes,
            }));
        }
        Ok(())
    }

    /// Skips whitespace; the byte after it. Indentation is not copied (a pretty-printed dump
    /// is mostly indentation, and the parser would step over it byte by byte); how much was
    /// left out of each line is noted, so places stay exact.
    pub fn skip_space(&mut self) -> Result<Option<u8>, JsonError> {
        loop {
            let Some(b) = self.peek()? else {
                return Ok(None);
            };
            match b {
                b' ' => {
                    let run = spaces(&self.buf[self.at..self.end]);
                    if self.line_start && self.copying {
                        self.flush_run();
                        self.step(run)?;
                        self.run_from = self.at;
                        if let Some((_, dropped)) = self.indents.last_mut() {
                            *dropped += run as u64;
                        }
                    } else {
                        self.step(run)?;
                    }
                }
                b'\t' | b'\r' => {
                    self.line_start = false;
                    self.step(1)?;
                }
                b'\n' => {
                    self.step(1)?;
                    self.line += 1;
                    self.col = 1;
                    self.line_start = true;
                    if self.copying {
                        self.flush_run();
                        self.indents.push((self.piece.len(), 0));
                    }
                }
                _ => {
                    self.line_start = false;
                    return Ok(Some(b));
                }
            }
        }
    }

    /// Whether the input has ended (only whitespace left).
    pub fn at_end(&mut self) -> Result<bool, JsonError> {
        self.span = 0;
        Ok(self.skip_space()?.is_none())
    }

    /// Expects `b` (after whitespace) and steps over it.
    pub fn expect(&mut self, b: u8, what: &str) -> Result<(), JsonError> {
        match self.skip_space()? {
            Some(c) if c == b => self.step(1),
            Some(_) => Err(self.syntax(format!("expected {what}"))),
            None => Err(JsonError::Cut(self.last_pos())),
        }
    }

    fn syntax(&self, message: String) -> JsonError {
        JsonError::Syntax {
            pos: self.pos(),
            message,
        }
    }

    /// Steps over one string (the cursor is on its opening quote).
    fn string(&mut self) -> Result<(), JsonError> {
        self.token = 0;
        self.step(1)?;
        loop {
            if self.peek()?.is_none() {
                return Err(JsonError::Cut(self.last_pos()));
            }
            let rest = &self.buf[self.at..self.end];
            match memchr::memchr2(b'"', b'\\', rest) {
                None => {
                    let n = rest.len();
                    self.token_grew(n)?;
                    self.step(n)?;
                }
                Some(k) => {
                    let quote = rest[k] == b'"';
                    self.token_grew(k + 1)?;
                    self.step(k + 1)?;
                    if quote {
                        return Ok(());
                    }
                    // The escaped byte, whatever it is, cannot end the string.
                    if self.peek()?.is_none() {
                        return Err(JsonError::Cut(self.last_pos()));
                    }
                    self.token_grew(1)?;
                    self.step(1)?;
                }
            }
        }
    }

    /// Steps over a number or `true`/`false`/`null`.
    fn word(&mut self) -> Result<(), JsonError> {
        self.token = 0;
        loop {
            let Some(_) = self.peek()? else {
                return Ok(());
            };
            let rest = &self.buf[self.at..self.end];
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                .count();
            if n == 0 {
                return Ok(());
            }
            self.token_grew(n)?;
            self.step(n)?;
        }
    }

    /// Steps over one value, whatever its nesting, checking brackets match.
    fn value(&mut self) -> Result<(), JsonError> {
        self.nesting.clear();
        loop {
            if self.skim() {
                return Ok(());
            }
            let Some(b) = self.skip_space()? else {
                return Err(JsonError::Cut(self.last_pos()));
            };
            match b {
                b'{' | b'[' => {
                    self.nesting.push(b);
                    self.step(1)?;
                    continue;
                }
                b'}' | b']' => {
                    let opener = if b == b'}' { b'{' } else { b'[' };
                    if self.nesting.pop() != Some(opener) {
                        return Err(self.syntax(format!("`{}` closes nothing here", b as char)));
                    }
                    self.step(1)?;
                }
                b'"' => self.string()?,
                b',' | b':' if !self.nesting.is_empty() => {
                    self.step(1)?;
                    continue;
                }
                c if c.is_ascii_alphanumeric() || c == b'-' => self.word()?,
                _ => {
                    if self.at < self.end && !self.buf[self.at].is_ascii() {
                        return Err(JsonError::NotUtf8(self.pos()));
                    }
                    return Err(self.syntax(format!("expected a value, found {:?}", b as char)));
                }
            }
            if self.nesting.is_empty() {
                return Ok(());
            }
        }
    }

    /// Steps over a value a buffer at a time, with the checks [`Framer::value`] makes: what is
    /// left out (most of a dump: `managedFields`) and what is copied (leaving out indentation
    /// as [`Framer::skip_space`] does). It stops where those checks need a byte-by-byte look
    /// (the buffer's end, an escape, a token or object near its bound, anything not plain
    /// JSON), and `value` takes one step there; `true` when the value has ended.
    fn skim(&mut self) -> bool {
        let room = self.limits.max_object_bytes.saturating_sub(self.span);
        let end = self.end.min(
            self.at
                .saturating_add(usize::try_from(room).unwrap_or(usize::MAX)),
        );
        let max_token = usize::try_from(self.limits.max_token_bytes).unwrap_or(usize::MAX);
        let buf = &self.buf[..end];
        let (mut i, mut line, mut line_from, mut line_start) =
            (self.at, self.line, None, self.line_start);
        let mut done = false;
        while i < end && !done {
            let b = buf[i];
            match b {
                b' ' => {
                    i += spaces(&buf[i..]);
                    continue;
                }
                b'\n' => {
                    i += 1;
                    line += 1;
                    line_from = Some(i);
                    line_start = true;
                    if self.copying {
                        // As `skip_space` does: the indentation that follows is left out.
                        self.piece.extend_from_slice(&buf[self.run_from..i]);
                        let indent = spaces(&buf[i..]);
                        i += indent;
                        self.run_from = i;
                        self.indents.push((self.piece.len(), indent as u64));
                    }
                    continue;
                }
                b'\t' | b'\r' => i += 1,
                b'{' | b'[' => {
                    self.nesting.push(b);
                    i += 1;
                }
                b'}' | b']' => {
                    let opener = if b == b'}' { b'{' } else { b'[' };
                    if self.nesting.last() != Some(&opener) {
                        break;
                    }
                    self.nesting.pop();
                    i += 1;
                    done = self.nesting.is_empty();
                }
                b',' | b':' if !self.nesting.is_empty() => i += 1,
                b'"' => match memchr::memchr2(b'"', b'\\', &buf[i + 1..]) {
                    // The string's token is its text and closing quote, as `string` counts.
                    Some(k) if buf[i + 1 + k] == b'"' && k < max_token => {
                        i += k + 2;
                        done = self.nesting.is_empty();
                    }
                    _ => break,
                },
                c if c.is_ascii_alphanumeric() || c == b'-' => {
                    let n = buf[i..]
                        .iter()
                        .take_while(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')
                        })
                        .count();
                    // A word at the buffer's end may go on in the next one.
                    if i + n == end || n > max_token {
                        break;
                    }
                    i += n;
                    done = self.nesting.is_empty();
                }
                _ => break,
            }
            line_start = false;
        }
        let n = i - self.at;
        self.span += n as u64;
        match line_from {
            Some(from) => {
                self.line = line;
                self.col = 1 + (i - from) as u64;
            }
            None => self.col += n as u64,
        }
        self.at = i;
        self.line_start = line_start;
        done
    }

    /// Steps over the next value without keeping it.
    pub fn skip(&mut self) -> Result<(), JsonError> {
        self.span = 0;
        self.copy_from_here(false);
        self.value()
    }

    /// Copies the next value whole; the piece to parse.
    pub fn whole(&mut self) -> Result<Piece<'_>, JsonError> {
        self.begin_piece();
        self.skip_space()?;
        self.copy_from_here(true);
        self.value()?;
        self.end_piece()
    }

    /// Copies the next list item without the fields no object view reads.
    pub fn item(&mut self) -> Result<Piece<'_>, JsonError> {
        self.begin_piece();
        match self.skip_space()? {
            Some(b'{') => self.object(Fields::Item)?,
            Some(_) => {
                self.copy_from_here(true);
                self.value()?;
            }
            None => return Err(JsonError::Cut(self.last_pos())),
        }
        self.end_piece()
    }

    fn begin_piece(&mut self) {
        self.piece.clear();
        self.runs.clear();
        self.indents.clear();
        self.span = 0;
        self.item_kind = None;
    }

    fn end_piece(&mut self) -> Result<Piece<'_>, JsonError> {
        self.copy_from_here(false);
        Ok(Piece {
            bytes: &self.piece,
            runs: &self.runs,
            indents: &self.indents,
            kind: self.item_kind.as_deref(),
        })
    }

    /// Copies an object field by field, leaving out what `fields` says is not read. The cursor
    /// is on its `{`. Left-out fields leave no trace: commas are written between kept ones.
    fn object(&mut self, fields: Fields) -> Result<(), JsonError> {
        self.copy_from_here(true);
        self.step(1)?;
        self.copy_from_here(false);
        let mut first = true;
        let mut kept = 0usize;
        let mut unread_kind = false;
        loop {
            match self.skip_space()? {
                None => return Err(JsonError::Cut(self.last_pos())),
                Some(b'}') => break,
                Some(b',') if !first => {
                    self.step(1)?;
                    self.skip_space()?;
                }
                Some(_) if !first => return Err(self.syntax("expected `,` or `}`".into())),
                Some(_) => {}
            }
            first = false;
            match self.peek()? {
                Some(b'"') => {}
                None => return Err(JsonError::Cut(self.last_pos())),
                Some(_) => return Err(self.syntax("expected a key in quotes".into())),
            }
            let (key_start, runs_before) = (self.piece.len(), self.runs.len());
            if kept > 0 {
                self.piece.push(b',');
            }
            // The key is copied to learn it, and taken back if the field is left out.
            self.copy_from_here(true);
            self.flush_run();
            let key_from = self.piece.len();
            self.string()?;
            self.flush_run();
            let keep = {
                let key = &self.piece[key_from..];
                match fields {
                    Fields::Item if unread_kind => key == b"\"apiVersion\"",
                    Fields::Item => key_is_read(key),
                    Fields::Metadata => key != b"\"managedFields\"",
                }
            };
            let is_kind = fields == Fields::Item && &self.piece[key_from..] == b"\"kind\"";
            let is_metadata = fields == Fields::Item && &self.piece[key_from..] == b"\"metadata\"";
            self.expect(b':', "`:` after a key")?;
            if !keep {
                self.copy_from_here(false);
                self.piece.truncate(key_start);
                self.runs.truncate(runs_before);
                self.indents.retain(|(at, _)| *at < key_start);
                self.value()?;
                continue;
            }
            kept += 1;
            if is_metadata && self.skip_space()? == Some(b'{') {
                self.object(Fields::Metadata)?;
                continue;
            }
            self.flush_run();
            let value_from = self.piece.len();
            self.value()?;
            if is_kind {
                self.flush_run();
                let kind = serde_json::from_slice::<String>(&self.piece[value_from..]).ok();
                unread_kind = kind.as_ref().is_some_and(|k| !reads_kind(k));
                self.item_kind = kind;
            }
            self.copy_from_here(false);
        }
        self.copy_from_here(true);
        self.step(1)?;
        self.copy_from_here(false);
        Ok(())
    }
}

/// The length of the run of spaces `s` begins with, eight bytes at a time.
#[inline]
fn spaces(s: &[u8]) -> usize {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let differ = word ^ SPACES;
        if differ != 0 {
            return i + (differ.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + s[i..].iter().take_while(|&&c| c == b' ').count()
}

fn key_is_read(key: &[u8]) -> bool {
    let inner = &key[1..key.len() - 1];
    READ_FIELDS.iter().any(|f| f.as_bytes() == inner)
}

/// A [`Piece`] of its own.
pub struct OwnedPiece {
    bytes: Vec<u8>,
    runs: Vec<(usize, Pos)>,
    indents: Vec<(usize, u64)>,
    kind: Option<String>,
}

impl OwnedPiece {
    pub fn piece(&self) -> Piece<'_> {
        Piece {
            bytes: &self.bytes,
            runs: &self.runs,
            indents: &self.indents,
            kind: self.kind.as_deref(),
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// A copied value, and where its runs came from in the input.
pub struct Piece<'a> {
    pub bytes: &'a [u8],
    runs: &'a [(usize, Pos)],
    indents: &'a [(usize, u64)],
    /// The kind a list item names (as a string), if it names one.
    pub kind: Option<&'a str>,
}

impl Piece<'_> {
    /// The piece copied out of the framer, to be parsed elsewhere.
    pub fn to_owned(&self) -> OwnedPiece {
        OwnedPiece {
            bytes: self.bytes.to_vec(),
            runs: self.runs.to_vec(),
            indents: self.indents.to_vec(),
            kind: self.kind.map(str::to_owned),
        }
    }

    /// Parses the piece; an error names its place in the input.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, JsonError> {
        serde_json::from_slice(self.bytes).map_err(|e| self.error(&e))
    }

    fn error(&self, e: &serde_json::Error) -> JsonError {
        let pos = self.place(e.line(), e.column());
        let text = e.to_string();
        let message = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(m, _)| m)
            .to_owned();
        match e.classify() {
            serde_json::error::Category::Eof => JsonError::Cut(pos),
            _ if message.contains("unicode") || message.contains("UTF-8") => {
                JsonError::NotUtf8(pos)
            }
            serde_json::error::Category::Data => JsonError::Data {
                pos: Some(pos),
                message,
            },
            _ => JsonError::Syntax { pos, message },
        }
    }

    /// The input's line and column of the piece's `line` and `column` (1-based).
    fn place(&self, line: usize, column: usize) -> Pos {
        let mut offset = 0;
        for _ in 1..line {
            match memchr::memchr(b'\n', &self.bytes[offset..]) {
                Some(k) => offset += k + 1,
                None => break,
            }
        }
        let offset = (offset + column.saturating_sub(1)).min(self.bytes.len());
        let run = self
            .runs
            .iter()
            .rev()
            .find(|(at, _)| *at <= offset)
            .or(self.runs.first());
        let Some(&(at, from)) = run else {
            return Pos { line: 0, col: 0 };
        };
        let between = &self.bytes[at.min(offset)..offset];
        match memchr::memrchr(b'\n', between) {
            None => Pos {
                line: from.line,
                col: from.col + between.len() as u64,
            },
            Some(k) => {
                let line_at = at + k + 1;
                let dropped = self
                    .indents
                    .binary_search_by_key(&line_at, |(o, _)| *o)
                    .map_or(0, |i| self.indents[i].1);
                Pos {
                    line: from.line + memchr::memchr_iter(b'\n', between).count() as u64,
                    col: (between.len() - k) as u64 + dropped,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn framer(text: &[u8], limits: Limits) -> Framer<&[u8]> {
        Framer::new(text, limits, 1)
    }

    fn item_text(text: &str) -> String {
        let mut f = framer(text.as_bytes(), Limits::DEFAULT);
        let piece = f.item().expect("item");
        String::from_utf8(piece.bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn an_item_keeps_only_what_object_views_read() {
        assert_eq!(
            item_text(
                r#"{"apiVersion": "v1", "data": {"k": "secret"}, "kind": "Pod", "metadata": {"managedFields": [{"f:x": {}}], "name": "a"}, "spec": {"x": [1, {"y": null}]}, "zzz": 1}"#
            ),
            r#"{"apiVersion": "v1","kind": "Pod","metadata": {"name": "a"},"spec": {"x": [1, {"y": null}]}}"#
        );
        // After a kind rounds does not read, only apiVersion is kept.
        assert_eq!(
            item_text(r#"{"kind": "ConfigMap", "metadata": {"name": "c"}, "apiVersion": "v1"}"#),
            r#"{"kind": "ConfigMap","apiVersion": "v1"}"#
        );
        assert_eq!(item_text(r#"{"data": 1}"#), "{}");
        assert_eq!(item_text(" [1, 2] "), "[1, 2]");
    }

    #[test]
    fn an_error_in_a_piece_names_its_place_in_the_input() {
        // The same place serde_json gives for the whole text, though fields and indentation
        // before it were left out of the piece.
        for text in [
            "{\"data\": {\n  \"a\": 1},\n \"kind\": \"Pod\",\n \"spec\": {\"x\": [1 2]}}",
            "{\n    \"kind\": \"Pod\",\n    \"metadata\": {\n        \"managedFields\": [],\n        \"name\": \"a\",\n            \"x\" 1\n    }\n}",
            "{\"kind\": \"Pod\", \"status\": {\"a\": \"b\\u12\"}}",
        ] {
            let whole = serde_json::from_str::<Value>(text).expect_err("bad");
            let mut f = framer(text.as_bytes(), Limits::DEFAULT);
            let err = match f.item() {
                Ok(piece) => piece.parse::<Value>().expect_err("bad"),
                Err(e) => e,
            };
            let JsonError::Syntax { pos, .. } = err else {
                panic!("{err}");
            };
            assert_eq!(
                (pos.line, pos.col),
                (whole.line() as u64, whole.column() as u64),
                "{text}"
            );
        }
    }

    #[test]
    fn bounds_tokens_and_objects_and_knows_a_cut_input() {
        let limits = Limits {
            max_object_bytes: 64,
            max_token_bytes: 8,
        };
        let err = |text: &str| {
            framer(text.as_bytes(), limits)
                .item()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(
            err("{\"a\": \"a long string\"}").starts_with("line 1: a single value"),
            "{}",
            err("{\"a\": \"a long string\"}")
        );
        assert!(err("[\n1234567890]").starts_with("line 2: a single value"));
        let big = format!("{{{}}}", "\"k\": 1, ".repeat(20));
        assert!(err(&big).contains("an object is larger than 64 bytes"));
        assert_eq!(
            err("{\"kind\": \"Pod\", \"spec\": {\"x\": [1,"),
            "line 1, column 33: the input ends in the middle of a JSON value, so it looks cut off"
        );
        assert_eq!(err("{\"a\": 1} "), "");
        assert_eq!(
            err("{\"data\": {\"a\": ]}}"),
            "line 1, column 16: `]` closes nothing here"
        );
        assert_eq!(
            err("{\"data\": \u{7}}"),
            "line 1, column 10: expected a value, found '\\u{7}'"
        );
    }

    #[test]
    fn steps_through_an_outline_of_keys_and_elements() {
        let text = b"{\"kind\": \"List\", \"items\": [ {\"kind\": \"Node\"} ,\n {} ], \"z\": [1]}";
        let mut f = framer(text, Limits::DEFAULT);
        f.open(b'{').expect("open");
        assert_eq!(f.next_key().expect("key").as_deref(), Some("kind"));
        assert_eq!(f.whole().expect("v").parse::<String>().expect("s"), "List");
        assert_eq!(f.next_key().expect("key").as_deref(), Some("items"));
        f.open(b'[').expect("list");
        let mut starts = Vec::new();
        while f.next_element().expect("element") {
            starts.push(f.pos());
            f.item().expect("item");
        }
        let at = |line, col| Pos { line, col };
        assert_eq!(starts, [at(1, 29), at(2, 2)]);
        assert_eq!(f.next_key().expect("key").as_deref(), Some("z"));
        f.skip().expect("skip");
        assert_eq!(f.next_key().expect("end"), None);
        assert!(f.at_end().expect("end"));
        let mut f = framer(b"{\"a\": 1,}", Limits::DEFAULT);
        f.open(b'{').expect("open");
        f.next_key().expect("a");
        f.skip().expect("1");
        assert_eq!(
            f.next_key().expect_err("trailing").to_string(),
            "line 1, column 9: trailing comma"
        );
    }

    /// Hands out at most three bytes a read, so buffers end everywhere.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn skimming_a_buffer_at_a_time_reads_as_stepping_byte_by_byte() {
        let limits = Limits {
            max_object_bytes: 200,
            max_token_bytes: 12,
        };
        let texts = [
            "{\"kind\": \"Pod\",\n  \"metadata\": {\n    \"managedFields\": [\n      {}\n    ]\n  }}",
            "{\"kind\": \"Pod\",\n  \"status\": {\n    \"zz\": [\n      {\"f:x\": {\"f:y\": {}}, \"n\": -1.5e3, \"t\": true}\n    ],\n    \"name\": \"a\"\n  },\n  \"zzz\": [1, null, \"q\\\"u\"]}",
            "{\"data\": {\"a\": ]}}",
            "{\"data\": {\"a\": [1, 2}}",
            "{\"data\":\n  \"a string longer than twelve\"}",
            "{\"data\": 12345678901234567}",
            "{\"data\": [\n\t1,\r\n  \u{7}]}",
            "{\"data\": [1, {\"b\": \"\u{e9}\"}, 3], \"kind\": \"Node\"}",
            "{\"data\": {\"a\": [1, 2, 3",
            // Kept, indented, and wrong only for the parser: the place is the input's.
            "{\"kind\": \"Pod\",\n  \"spec\": {\n    \"a\": [\n      1,\n        2 3]}}",
            "{\"kind\": \"Pod\",\n  \"spec\": {\n    \"a\": \"x\",\n\n    \"b\": tru}}",
        ];
        let big = format!("{{\"data\": [{}], \"kind\": \"Pod\"}}", "1, ".repeat(80));
        let mut whole_items = 0;
        for text in texts.iter().copied().chain([big.as_str()]) {
            // The piece, and where the parser's error in it is said to be in the input.
            let read = |f: &mut Framer<&mut dyn Read>| match f.item() {
                Ok(piece) => Ok((
                    String::from_utf8(piece.bytes.to_vec()).expect("utf-8"),
                    piece.parse::<Value>().err().map(|e| e.to_string()),
                )),
                Err(e) => Err(e.to_string()),
            };
            let mut whole: &[u8] = text.as_bytes();
            let mut fast = Framer::new(&mut whole as &mut dyn Read, limits, 1);
            let mut trickle = Trickle(text.as_bytes());
            let mut slow = Framer::new(&mut trickle as &mut dyn Read, limits, 1);
            let (a, b) = (read(&mut fast), read(&mut slow));
            assert_eq!(a, b, "{text}");
            if a.is_ok() {
                whole_items += 1;
                assert_eq!((fast.line, fast.col), (slow.line, slow.col), "{text}");
            }
        }
        assert_eq!(whole_items, 4, "the others stop on an error");
    }
}
