//! JSON input, counted as the parser takes it (one byte at a time): the line and column of
//! every list item, the size of every object and the length of every token, so an endless
//! string or a `/dev/zero` ends with an error and not with the memory of the machine.

use super::progress::{Limits, Pos, Progress, Stop};
use std::io::{BufRead, Read};
use std::rc::Rc;

pub struct Metered<R> {
    inner: R,
    progress: Rc<Progress>,
    limits: Limits,
    in_string: bool,
    escaped: bool,
    token: u64,
}

impl<R: BufRead> Metered<R> {
    pub fn new(inner: R, progress: Rc<Progress>, limits: Limits) -> Self {
        Self {
            inner,
            progress,
            limits,
            in_string: false,
            escaped: false,
            token: 0,
        }
    }

    fn track(&mut self, b: u8) -> Result<(), Stop> {
        let p = &self.progress;
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            self.token += 1;
        } else {
            match b {
                b'"' => {
                    self.in_string = true;
                    self.token = 1;
                }
                b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\r' | b'\n' => {
                    self.token = 0;
                }
                _ => self.token += 1,
            }
            if p.want_start.get() && !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',') {
                p.want_start.set(false);
                p.item_start.set(Some(Pos {
                    line: p.line.get(),
                    col: p.col.get(),
                }));
            }
        }
        if self.token > self.limits.max_token_bytes {
            return Err(Stop::TokenTooLarge {
                line: p.line.get(),
                limit: self.limits.max_token_bytes,
            });
        }
        if b == b'\n' {
            p.line.set(p.line.get() + 1);
            p.col.set(1);
        } else {
            p.col.set(p.col.get() + 1);
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = match self.inner.fill_buf() {
            Ok(b) => b,
            Err(e) => return Err(self.progress.stop(Stop::Io(e))),
        };
        let n = buf.len().min(available.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.inner.consume(n);
        for &b in &buf[..n] {
            if let Err(why) = self.track(b) {
                return Err(self.progress.stop(why));
            }
        }
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
        let mut m = Metered::new(text, progress.clone(), limits);
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match m.read(&mut byte) {
                Ok(0) => return (progress, Ok(out)),
                Ok(_) => out.push(byte[0]),
                Err(e) => return (progress, Err(e)),
            }
        }
    }

    #[test]
    fn counts_lines_and_bounds_tokens_in_and_outside_strings() {
        let limits = Limits {
            max_object_bytes: 1 << 20,
            max_token_bytes: 8,
        };
        let (p, r) = read(b"{\n  \"a\": \"short\",\n  \"b\": 12\n}\n", limits);
        assert!(r.is_ok());
        assert_eq!(p.line.get(), 5);
        let (p, r) = read(b"{\"a\": \"a string that is long\"}", limits);
        assert!(r.is_err());
        assert!(matches!(p.take_stop(), Some(Stop::TokenTooLarge { .. })));
        let (p, r) = read(b"[1234567890123]", limits);
        assert!(r.is_err());
        assert!(matches!(p.take_stop(), Some(Stop::TokenTooLarge { .. })));
        let (_, r) = read(b"{\"escaped \\\" quote\": 1}", Limits::DEFAULT);
        assert!(r.is_ok());
    }

    #[test]
    fn records_where_an_item_begins() {
        let progress = Rc::new(Progress::new());
        let mut m = Metered::new(
            &b"[\n  {},\n    {\"a\": 1}]"[..],
            progress.clone(),
            Limits::DEFAULT,
        );
        let mut buf = [0u8; 7];
        m.read_exact(&mut buf).expect("read");
        progress.begin_object();
        m.read_to_end(&mut Vec::new()).expect("read");
        assert_eq!(progress.item_start.get(), Some(Pos { line: 3, col: 5 }));
    }
}
