//! JSON input, counted on its way to the parser: where every list item begins (line and
//! column), the size of every object and the length of every token, so an endless string or a
//! `/dev/zero` ends with an error and not with the memory of the machine.
//!
//! This reader sits below the parser's buffer and sees the input a buffer at a time: a small
//! lexer follows strings and nesting, counts lines, and notes where each item of a list (a
//! document's `items`, or a top-level array) begins, in order; the items are handed on in the
//! same order. Checks run a buffer ahead of the parser, so the object bound holds to within one
//! buffer (256 KiB).

use super::progress::{Limits, Pos, Progress, Stop};
use std::io::Read;
use std::rc::Rc;

/// One open `{` or `[`.
#[derive(Debug, Clone, Copy)]
enum Open {
    Object {
        /// The next string is a key.
        expect_key: bool,
    },
    Array {
        /// Its values are the items of a list.
        items: bool,
        /// The next value begins an item.
        pending: bool,
    },
}

pub struct Metered<R> {
    inner: R,
    progress: Rc<Progress>,
    limits: Limits,
    line: u64,
    col: u64,
    in_string: bool,
    escaped: bool,
    token: u64,
    stack: Vec<Open>,
    /// A key of the top-level object is being read (its first bytes kept).
    key: Option<Vec<u8>>,
    /// The last key of the top-level object was `items`.
    items_key: bool,
}

impl<R: Read> Metered<R> {
    /// `line` is where the input begins (after blank lines looked at before).
    pub fn new(inner: R, progress: Rc<Progress>, limits: Limits, line: u64) -> Self {
        Self {
            inner,
            progress,
            limits,
            line,
            col: 1,
            in_string: false,
            escaped: false,
            token: 0,
            stack: Vec::new(),
            key: None,
            items_key: false,
        }
    }

    /// Follows one buffer of input. Inside strings (most of a dump) it jumps from quote to
    /// backslash with memchr; JSON strings hold no raw newlines, so lines need no counting there.
    fn lex(&mut self, buf: &[u8]) -> Result<(), Stop> {
        let mut i = 0;
        while i < buf.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    self.step(1);
                    i += 1;
                    continue;
                }
                let rest = &buf[i..];
                let Some(k) = memchr::memchr2(b'"', b'\\', rest) else {
                    self.keep_key(rest);
                    self.step(rest.len() as u64);
                    self.check_token()?;
                    return Ok(());
                };
                self.keep_key(&rest[..k]);
                self.step(k as u64 + 1);
                if rest[k] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_string = false;
                    if let Some(key) = self.key.take() {
                        self.items_key = key == b"items";
                    }
                }
                self.check_token()?;
                i += k + 1;
                continue;
            }
            let b = buf[i];
            if b == b' ' {
                // Indentation: most of the rest of a pretty-printed dump.
                let run = buf[i..].iter().take_while(|&&c| c == b' ').count();
                self.token = 0;
                self.col += run as u64;
                i += run;
                continue;
            }
            i += 1;
            self.structure(b);
            self.check_token()?;
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        Ok(())
    }

    fn step(&mut self, n: u64) {
        self.token += n;
        self.col += n;
    }

    fn keep_key(&mut self, bytes: &[u8]) {
        if let Some(key) = &mut self.key {
            let room = 8usize.saturating_sub(key.len()).min(bytes.len());
            key.extend_from_slice(&bytes[..room]);
        }
    }

    fn check_token(&self) -> Result<(), Stop> {
        if self.token > self.limits.max_token_bytes {
            return Err(Stop::TokenTooLarge {
                line: self.line,
                limit: self.limits.max_token_bytes,
            });
        }
        Ok(())
    }

    /// A byte outside strings: nesting, keys, where items begin, token lengths.
    #[inline]
    fn structure(&mut self, b: u8) {
        let space = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if space {
            self.token = 0;
            return;
        }
        if b != b','
            && b != b']'
            && let Some(Open::Array {
                items: true,
                pending,
            }) = self.stack.last_mut()
            && *pending
        {
            *pending = false;
            self.progress.item_starts.borrow_mut().push_back(Pos {
                line: self.line,
                col: self.col,
            });
        }
        match b {
            b'"' => {
                self.in_string = true;
                self.token = 1;
                if self.stack.len() == 1
                    && let Some(Open::Object { expect_key: true }) = self.stack.last()
                {
                    self.key = Some(Vec::new());
                }
                return;
            }
            b'{' => self.stack.push(Open::Object { expect_key: true }),
            b'[' => {
                let items = match self.stack.as_slice() {
                    [] => true,
                    [Open::Object { .. }] => self.items_key,
                    _ => false,
                };
                self.stack.push(Open::Array {
                    items,
                    pending: items,
                });
            }
            b'}' | b']' => {
                self.stack.pop();
            }
            b',' => match self.stack.last_mut() {
                Some(Open::Object { expect_key }) => *expect_key = true,
                Some(Open::Array { items, pending }) => *pending = *items,
                None => {}
            },
            b':' => {
                if let Some(Open::Object { expect_key }) = self.stack.last_mut() {
                    *expect_key = false;
                }
            }
            _ => {
                self.token += 1;
                return;
            }
        }
        self.token = 0;
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.inner.read(out) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return Err(self.progress.stop(Stop::Io(e))),
        };
        if let Err(why) = self.lex(&out[..n]) {
            return Err(self.progress.stop(why));
        }
        self.progress.line.set(self.line);
        if let Err(why) = self.progress.advance(n as u64, &self.limits) {
            return Err(self.progress.stop(why));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8], limits: Limits) -> (Rc<Progress>, std::io::Result<Vec<u8>>) {
        let progress = Rc::new(Progress::new());
        let mut m = Metered::new(text, progress.clone(), limits, 1);
        let mut out = Vec::new();
        let r = m.read_to_end(&mut out).map(|_| out);
        (progress, r)
    }

    #[test]
    fn bounds_tokens_in_and_outside_strings() {
        let limits = Limits {
            max_object_bytes: 1 << 20,
            max_token_bytes: 8,
        };
        let (_, r) = read(b"{\n  \"a\": \"short\",\n  \"b\": 12\n}\n", limits);
        assert_eq!(r.expect("read").len(), 30);
        let (p, r) = read(b"{\"a\": \"a string that is long\"}", limits);
        assert!(r.is_err());
        assert!(matches!(
            p.take_stop(),
            Some(Stop::TokenTooLarge { line: 1, .. })
        ));
        let (p, r) = read(b"[\n1234567890123]", limits);
        assert!(r.is_err());
        assert!(matches!(
            p.take_stop(),
            Some(Stop::TokenTooLarge { line: 2, .. })
        ));
        let (_, r) = read(b"{\"escaped \\\" quote\": 1}", Limits::DEFAULT);
        assert!(r.is_ok());
    }

    #[test]
    fn notes_where_the_items_of_lists_begin_and_nothing_else() {
        let text = b"{\"kind\": \"List\", \"metadata\": {\"x\": [1, 2]},\n \"items\": [\n  {\"a\": [3, {\"items\": [4]}]},\n    \"b\", [5] ]}\n[\n{}]";
        let (p, r) = read(text, Limits::DEFAULT);
        assert!(r.is_ok());
        let starts: Vec<Pos> = p.item_starts.borrow().iter().copied().collect();
        let at = |line, col| Pos { line, col };
        assert_eq!(starts, [at(3, 3), at(4, 5), at(4, 10), at(6, 1)]);
    }
}
