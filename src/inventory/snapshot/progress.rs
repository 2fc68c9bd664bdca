//! What the readers and the parser's callbacks share while one input is read: how far reading
//! got (bytes, line, column), where the current object began, and why reading stopped when a
//! bound was hit. Parsers wrap a reader's I/O error in their own words; the precise reason is
//! kept here and preferred.

use std::cell::{Cell, RefCell};
use std::fmt;

/// The bounds of reading one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes one object (a document or a list item, of any kind) may span.
    pub max_object_bytes: u64,
    /// The longest single token: a YAML line, a JSON string or number.
    pub max_token_bytes: u64,
}

impl Limits {
    /// 16 MiB per object, 4 MiB per token: the API server refuses requests over 3 MiB and etcd
    /// keeps objects of at most 1.5 MiB, so no real object comes near either even pretty-printed.
    pub const DEFAULT: Self = Self {
        max_object_bytes: 16 * 1024 * 1024,
        max_token_bytes: 4 * 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A place in an input: 1-based line and column (columns count bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub col: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

/// Why a reader stopped before the parser did.
#[derive(Debug)]
pub enum Stop {
    ObjectTooLarge { line: u64, limit: u64 },
    TokenTooLarge { line: u64, limit: u64 },
    NotUtf8 { pos: Pos },
    Io(std::io::Error),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Self::ObjectTooLarge { line, limit } => write!(
                f,
                "line {line}: an object is larger than {} (--max-object-size): not a dump of real objects, or raise the limit",
                size(*limit)
            ),
            Self::TokenTooLarge { line, limit } => write!(
                f,
                "line {line}: a single value or line is longer than {} (--max-token-size): not a dump of real objects, or raise the limit",
                size(*limit)
            ),
            Self::NotUtf8 { pos } => write!(
                f,
                "{pos}: not UTF-8 text (kubectl writes UTF-8; was the file converted, or is it binary?)"
            ),
            Self::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// `16 MiB`, `4 KiB`, `100 bytes`.
pub fn size(bytes: u64) -> String {
    const KI: u64 = 1024;
    if bytes >= KI * KI && bytes.is_multiple_of(KI * KI) {
        format!("{} MiB", bytes / (KI * KI))
    } else if bytes >= KI && bytes.is_multiple_of(KI) {
        format!("{} KiB", bytes / KI)
    } else {
        format!("{bytes} bytes")
    }
}

#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes handed to the parser so far.
    pub position: Cell<u64>,
    /// Where the current object began (in bytes handed to the parser).
    pub mark: Cell<u64>,
    /// The line of the next byte to hand on (YAML), or where the input begins (JSON).
    pub line: Cell<u64>,
    /// The first line of the YAML document being parsed (its positions count from there).
    pub document_line: Cell<u64>,
    pub stop: RefCell<Option<Stop>>,
}

impl Progress {
    pub fn new() -> Self {
        Self {
            line: Cell::new(1),
            document_line: Cell::new(1),
            ..Self::default()
        }
    }

    /// An object begins here: its size counts from now.
    pub fn begin_object(&self) {
        self.mark.set(self.position.get());
    }

    /// Records why reading stopped and gives the parser an I/O error to stop with.
    pub fn stop(&self, why: Stop) -> std::io::Error {
        let error = std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string());
        self.stop.borrow_mut().get_or_insert(why);
        error
    }

    pub fn take_stop(&self) -> Option<Stop> {
        self.stop.borrow_mut().take()
    }

    /// A position the YAML parser gave, relative to the current document, made absolute.
    pub fn in_document(&self, line: u64, col: u64) -> Option<Pos> {
        (line > 0).then(|| Pos {
            line: self.document_line.get() + line - 1,
            col,
        })
    }

    /// Counts `n` more bytes as handed on, and checks the object bound.
    pub fn advance(&self, n: u64, limits: &Limits) -> Result<(), Stop> {
        let position = self.position.get() + n;
        self.position.set(position);
        if position.saturating_sub(self.mark.get()) > limits.max_object_bytes {
            return Err(Stop::ObjectTooLarge {
                line: self.line.get(),
                limit: limits.max_object_bytes,
            });
        }
        Ok(())
    }
}
