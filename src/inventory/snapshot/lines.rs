//! YAML input, one line at a time, cut into documents at `---` lines.
//!
//! The YAML parser reads one document per call; this reader hands it the lines of one document
//! and then end-of-input, and keeps the `---` line for the next one. So a multi-document file
//! and one 50,000-item List are both read once, in one pass, as a stream (a pipe or a FIFO can
//! only be read once). On the way every line is checked: not longer than the token bound
//! (a YAML parser holds a scalar whole), valid UTF-8, and within the object bound.

use super::progress::{Limits, Pos, Progress, Stop};
use std::io::{BufRead, Read};
use std::rc::Rc;

pub struct Lines<R> {
    inner: R,
    progress: Rc<Progress>,
    limits: Limits,
    line: Vec<u8>,
    served: usize,
    /// The number of the line in `line` (0: none read yet).
    line_no: u64,
    /// `line` is a `---` line kept for the next document.
    held: bool,
    /// The current document may still read.
    open: bool,
    /// The current document has had a line with content.
    document_content: bool,
    eof: bool,
    /// Whether the input had any line with content at all.
    pub any_content: bool,
    /// Whether the last line of the input ended with a newline.
    pub ended_with_newline: bool,
}

/// What a line is, for cutting documents.
#[derive(PartialEq, Eq)]
enum LineKind {
    /// `---`, with nothing after it but a comment.
    Marker,
    /// `--- value`: a marker that starts its document's content on the same line.
    MarkerWithContent,
    Content,
    /// Blank, a comment, a directive (`%YAML`) or a document end (`...`).
    Other,
}

fn classify(line: &[u8]) -> LineKind {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if let Some(rest) = text.strip_prefix(b"---")
        && (rest.is_empty() || rest[0] == b' ' || rest[0] == b'\t')
    {
        let rest = rest.trim_ascii_start();
        return if rest.is_empty() || rest.starts_with(b"#") {
            LineKind::Marker
        } else {
            LineKind::MarkerWithContent
        };
    }
    let trimmed = text.trim_ascii_start();
    let end_marker = text.starts_with(b"...") && text[3..].iter().all(|b| b.is_ascii_whitespace());
    if trimmed.is_empty() || trimmed.starts_with(b"#") || text.starts_with(b"%") || end_marker {
        LineKind::Other
    } else {
        LineKind::Content
    }
}

impl<R: BufRead> Lines<R> {
    pub fn new(inner: R, progress: Rc<Progress>, limits: Limits) -> Self {
        Self {
            inner,
            progress,
            limits,
            line: Vec::new(),
            served: 0,
            line_no: 0,
            held: false,
            open: false,
            document_content: false,
            eof: false,
            any_content: false,
            ended_with_newline: true,
        }
    }

    /// Opens the next document; false when the input has none left.
    pub fn next_document(&mut self) -> bool {
        if self.eof && !self.held {
            return false;
        }
        self.open = true;
        self.document_content = false;
        self.progress.document_line.set(if self.held {
            self.line_no
        } else {
            self.line_no + 1
        });
        self.progress.begin_object();
        true
    }

    /// Counts lines consumed before reading began (blank lines before the first content).
    pub fn skip_lines(&mut self, n: u64) {
        self.line_no = n;
    }

    /// Whether the whole input has been read.
    pub fn at_end(&self) -> bool {
        self.eof && !self.held
    }

    /// The number of the last line read.
    pub fn last_line(&self) -> u64 {
        self.line_no
    }

    /// Reads the next line into `line`, within the bounds; false at the end of the input.
    fn fill_line(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        self.served = 0;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.progress.stop(Stop::Io(e))),
            };
            if available.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if (self.line.len() + take) as u64 > self.limits.max_token_bytes + 1 {
                return Err(self.progress.stop(Stop::TokenTooLarge {
                    line: self.line_no + 1,
                    limit: self.limits.max_token_bytes,
                }));
            }
            self.line.extend_from_slice(&available[..take]);
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if self.line.is_empty() {
            return Ok(false);
        }
        self.line_no += 1;
        self.progress.line.set(self.line_no);
        self.ended_with_newline = self.line.ends_with(b"\n");
        if let Err(e) = std::str::from_utf8(&self.line) {
            return Err(self.progress.stop(Stop::NotUtf8 {
                pos: Pos {
                    line: self.line_no,
                    col: e.valid_up_to() as u64 + 1,
                },
            }));
        }
        self.progress
            .advance(self.line.len() as u64, &self.limits)
            .map_err(|why| self.progress.stop(why))?;
        Ok(true)
    }
}

impl<R: BufRead> Lines<R> {
    /// The next whole line of the current document; `None` at the document's end. For readers
    /// that frame the document themselves instead of reading it as bytes.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        if !self.open {
            return Ok(None);
        }
        if self.held {
            self.held = false;
            self.served = self.line.len();
            let content = classify(&self.line) == LineKind::MarkerWithContent;
            self.document_content |= content;
            return Ok(Some(self.current(content)));
        }
        if self.eof || !self.fill_line()? {
            self.eof = true;
            self.open = false;
            return Ok(None);
        }
        self.served = self.line.len();
        let content = match classify(&self.line) {
            LineKind::Marker | LineKind::MarkerWithContent if self.document_content => {
                self.held = true;
                self.open = false;
                return Ok(None);
            }
            LineKind::Content | LineKind::MarkerWithContent => {
                self.document_content = true;
                self.any_content = true;
                true
            }
            LineKind::Marker | LineKind::Other => false,
        };
        Ok(Some(self.current(content)))
    }

    fn current(&self, content: bool) -> Line<'_> {
        Line {
            text: &self.line,
            content,
            number: self.line_no,
        }
    }
}

/// A whole line of a document, as [`Lines::next_line`] gives it.
pub struct Line<'a> {
    /// With its line end.
    pub text: &'a [u8],
    /// Neither blank, a comment, a directive nor a document end.
    pub content: bool,
    pub number: u64,
}

impl<R: BufRead> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if !self.open {
                return Ok(0);
            }
            if self.held {
                // The `---` line kept from the end of the previous document starts this one.
                self.held = false;
                self.served = 0;
                if classify(&self.line) == LineKind::MarkerWithContent {
                    self.document_content = true;
                }
            }
            if self.served < self.line.len() {
                let n = buf.len().min(self.line.len() - self.served);
                buf[..n].copy_from_slice(&self.line[self.served..self.served + n]);
                self.served += n;
                return Ok(n);
            }
            if self.eof || !self.fill_line()? {
                self.eof = true;
                self.open = false;
                return Ok(0);
            }
            match classify(&self.line) {
                LineKind::Marker | LineKind::MarkerWithContent if self.document_content => {
                    self.held = true;
                    self.open = false;
                    return Ok(0);
                }
                LineKind::Content | LineKind::MarkerWithContent => {
                    self.document_content = true;
                    self.any_content = true;
                }
                LineKind::Marker | LineKind::Other => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(text: &str, limits: Limits) -> Result<Vec<(u64, String)>, String> {
        let progress = Rc::new(Progress::new());
        let mut lines = Lines::new(text.as_bytes(), progress.clone(), limits);
        let mut out = Vec::new();
        while lines.next_document() {
            let mut doc = String::new();
            if lines.read_to_string(&mut doc).is_err() {
                return Err(progress
                    .take_stop()
                    .map(|s| s.to_string())
                    .unwrap_or_default());
            }
            out.push((progress.document_line.get(), doc));
        }
        Ok(out)
    }

    #[test]
    fn cuts_documents_at_marker_lines_and_keeps_each_marker_with_its_document() {
        let docs = documents(
            "# dump\n---\nkind: Pod\n---\n# second\nkind: Node\n--- {kind: Service}\n",
            Limits::DEFAULT,
        )
        .expect("read");
        assert_eq!(
            docs,
            [
                (1, "# dump\n---\nkind: Pod\n".to_owned()),
                (4, "---\n# second\nkind: Node\n".to_owned()),
                (7, "--- {kind: Service}\n".to_owned()),
            ]
        );
        let one = documents("items:\n- a: |\n    ---x\n", Limits::DEFAULT).expect("read");
        assert_eq!(one.len(), 1, "--- inside a value is not a marker");
    }

    #[test]
    fn refuses_long_lines_big_objects_and_non_utf8() {
        let limits = Limits {
            max_object_bytes: 64,
            max_token_bytes: 16,
        };
        let long = documents(&format!("a: {}\n", "x".repeat(40)), limits);
        assert_eq!(
            long.expect_err("too long"),
            "line 1: a single value or line is longer than 16 bytes (--max-token-size): not a dump of real objects, or raise the limit"
        );
        let big = documents(&"a: b\n".repeat(20), limits);
        assert!(
            big.expect_err("too big")
                .starts_with("line 13: an object is larger than 64 bytes")
        );
        let progress = Rc::new(Progress::new());
        let mut lines = Lines::new(&b"a: b\nc: \xff\n"[..], progress.clone(), Limits::DEFAULT);
        assert!(lines.next_document());
        assert!(lines.read_to_end(&mut Vec::new()).is_err());
        assert_eq!(
            progress.take_stop().map(|s| s.to_string()).as_deref(),
            Some(
                "line 2, column 4: not UTF-8 text (kubectl writes UTF-8; was the file converted, or is it binary?)"
            )
        );
    }
}
