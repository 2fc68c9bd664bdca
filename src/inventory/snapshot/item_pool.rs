//! Parses the items of a YAML list on worker threads while the reader frames the next ones,
//! and hands the results back in input order. A YAML parser runs at a few MB/s, so a large dump
//! is parsed on every core; what is in flight is bounded (a few batches of items), so memory
//! stays that of a few objects whatever the dump's size.

use super::document::{Filtered, Item};
use super::progress::Pos;
use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Items are sent to the workers this many bytes at a time (one channel message per batch).
const BATCH_BYTES: usize = 64 * 1024;
/// Batches in flight per worker before the reader waits for the oldest.
const IN_FLIGHT_PER_WORKER: usize = 3;
/// Workers beyond this many do not pay: the reader on its own thread becomes the limit.
const MAX_WORKERS: usize = 4;

/// One item's text, its `- ` made spaces so columns stay the input's, left-out lines empty.
pub struct Chunk {
    pub text: Vec<u8>,
    /// The input's line number of the chunk's first line.
    pub first_line: u64,
}

/// An item as parsed, with where it was written; or the parser's error at its input place.
pub type Parsed = Result<(Item, Option<Pos>), String>;

struct Batch {
    chunks: Vec<Chunk>,
    reply: SyncSender<Vec<Parsed>>,
}

pub struct Pool {
    work: Option<SyncSender<Batch>>,
    workers: Vec<JoinHandle<()>>,
    pending: VecDeque<Receiver<Vec<Parsed>>>,
    batch: Vec<Chunk>,
    batch_bytes: usize,
}

impl Pool {
    pub fn new() -> Self {
        let n = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_WORKERS);
        let (work, queue) = sync_channel::<Batch>(n * IN_FLIGHT_PER_WORKER);
        let queue = Arc::new(Mutex::new(queue));
        let workers = (0..n)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || work_on(&queue))
            })
            .collect();
        Self {
            work: Some(work),
            workers,
            pending: VecDeque::new(),
            batch: Vec::new(),
            batch_bytes: 0,
        }
    }

    /// Queues an item; results that are ready, in order, go to `done`.
    pub fn push(
        &mut self,
        chunk: Chunk,
        done: &mut dyn FnMut(Parsed) -> Result<(), String>,
    ) -> Result<(), String> {
        self.batch_bytes += chunk.text.len();
        self.batch.push(chunk);
        if self.batch_bytes >= BATCH_BYTES {
            self.send();
            while self.pending.len() > self.workers.len() * IN_FLIGHT_PER_WORKER {
                self.receive_one(done)?;
            }
        }
        Ok(())
    }

    /// Waits for every queued item, handing the results to `done` in order.
    pub fn flush(
        &mut self,
        done: &mut dyn FnMut(Parsed) -> Result<(), String>,
    ) -> Result<(), String> {
        self.send();
        while !self.pending.is_empty() {
            self.receive_one(done)?;
        }
        Ok(())
    }

    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let (reply, result) = sync_channel(1);
        let batch = Batch {
            chunks: std::mem::take(&mut self.batch),
            reply,
        };
        self.batch_bytes = 0;
        // The workers hold the queue until the pool is dropped.
        self.work
            .as_ref()
            .expect("the pool's queue is open")
            .send(batch)
            .expect("the pool's workers are running");
        self.pending.push_back(result);
    }

    fn receive_one(
        &mut self,
        done: &mut dyn FnMut(Parsed) -> Result<(), String>,
    ) -> Result<(), String> {
        let Some(result) = self.pending.pop_front() else {
            return Ok(());
        };
        let parsed = result.recv().expect("a pool worker answers every batch");
        let mut outcome = Ok(());
        for p in parsed {
            if outcome.is_ok() {
                outcome = done(p);
            }
        }
        if outcome.is_err() {
            // What was queued after a failure is of no use.
            self.pending.clear();
        }
        outcome
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.work = None;
        for w in self.workers.drain(..) {
            // A worker that panicked has already printed why.
            let _ = w.join();
        }
    }
}

fn work_on(queue: &Mutex<Receiver<Batch>>) {
    loop {
        // The lock is held only while taking a batch.
        let next = queue.lock().map(|q| q.recv());
        let Ok(Ok(batch)) = next else {
            return;
        };
        let parsed = batch.chunks.iter().map(parse).collect();
        // The reader may have stopped on an error and dropped the answer's receiver.
        let _ = batch.reply.send(parsed);
    }
}

fn parse(chunk: &Chunk) -> Parsed {
    let at = |line: u64, col: u64| {
        (line > 0).then(|| Pos {
            line: chunk.first_line + line - 1,
            col,
        })
    };
    // Lines were checked as UTF-8 when read; an item is whole lines.
    let text = std::str::from_utf8(&chunk.text).map_err(|e| e.to_string())?;
    match serde_saphyr::from_str_with_options::<serde_saphyr::Spanned<Filtered>>(
        text,
        super::yaml_options(),
    ) {
        Ok(spanned) => {
            let r = spanned.referenced;
            Ok((spanned.value.0, at(r.line(), r.column())))
        }
        Err(e) => {
            let message = crate::wording::yaml_message(&e);
            Err(match e.location().and_then(|l| at(l.line(), l.column())) {
                Some(p) => format!("{p}: {message}"),
                None => message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(text: &str, first_line: u64) -> Chunk {
        Chunk {
            text: text.as_bytes().to_vec(),
            first_line,
        }
    }

    #[test]
    fn hands_results_back_in_input_order_with_input_places() {
        let mut pool = Pool::new();
        let mut seen = Vec::new();
        let mut done = |p: Parsed| {
            let (item, pos) = p?;
            let Item::Value(v) = item else {
                panic!("not kept");
            };
            seen.push((v["metadata"]["name"].clone(), pos.map(|p| (p.line, p.col))));
            Ok(())
        };
        // Large enough to make many batches.
        let filler = format!("    x: \"{}\"\n", "y".repeat(1000));
        for i in 0..500u64 {
            let text = format!("  kind: Pod\n  metadata:\n    name: p{i}\n{filler}");
            pool.push(chunk(&text, 10 + i * 4), &mut done)
                .expect("parsed");
        }
        pool.flush(&mut done).expect("parsed");
        assert_eq!(seen.len(), 500);
        for (i, (name, pos)) in seen.iter().enumerate() {
            assert_eq!(name, &json!(format!("p{i}")));
            assert_eq!(*pos, Some((10 + i as u64 * 4, 3)));
        }
    }

    #[test]
    fn an_error_names_the_input_s_line_and_stops_the_results() {
        let mut pool = Pool::new();
        let mut count = 0;
        let mut done = |p: Parsed| p.map(|_| count += 1);
        pool.push(chunk("  kind: Pod\n", 1), &mut done)
            .expect("queued");
        pool.push(chunk("  kind: Pod\n  metadata: {name: [\n", 2), &mut done)
            .expect("queued");
        pool.push(chunk("  kind: Pod\n", 4), &mut done)
            .expect("queued");
        let err = pool.flush(&mut done).expect_err("a broken item");
        assert!(err.starts_with("line 3, column "), "{err}");
        assert_eq!(count, 1, "the items after the broken one are not handed on");
    }
}
