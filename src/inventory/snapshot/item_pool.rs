//! Parses the items of a list on worker threads while the reader frames the next ones, makes
//! them ready ([`settle`]: decoded), and hands the results back in input order. Parsing and
//! decoding are most of a round's time, so a large dump is read on every core; what is in
//! flight is bounded (a few batches of items), so memory stays that of a few objects whatever
//! the dump's size. The reader's side of each format says what a [`Job`] is.

use super::document::{Filtered, Item};
use super::progress::Pos;
use super::ready::settle;
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

/// The kind (and apiVersion) a typed list gives its items that name none.
pub type ListKind = Option<Arc<(String, String)>>;

/// One item's text as the reader cut it out, to be parsed on a worker.
pub trait Job: Send + 'static {
    /// Its size, to batch items.
    fn len(&self) -> usize;
    fn list_kind(&self) -> Option<&(String, String)>;
    /// The item as parsed, with where it was written; or the parser's error at its input
    /// place.
    fn parse(&self) -> Result<(Item, Option<Pos>), String>;
    /// The item decoded and made ready without [`Job::parse`]'s detour, where it can be.
    fn settle_directly(&self) -> Option<Settled> {
        None
    }
}

/// An item parsed and made ready.
pub struct Settled {
    pub item: Item,
    /// It named no kind: its list's was given.
    pub without_kind: bool,
    pub pos: Option<Pos>,
}

pub type Parsed = Result<Settled, String>;

struct Batch<J> {
    jobs: Vec<J>,
    reply: SyncSender<Vec<Parsed>>,
}

pub struct Pool<J> {
    work: Option<SyncSender<Batch<J>>>,
    workers: Vec<JoinHandle<()>>,
    pending: VecDeque<Receiver<Vec<Parsed>>>,
    batch: Vec<J>,
    batch_bytes: usize,
}

impl<J: Job> Pool<J> {
    pub fn new() -> Self {
        let n = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_WORKERS);
        let (work, queue) = sync_channel::<Batch<J>>(n * IN_FLIGHT_PER_WORKER);
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
        job: J,
        done: &mut dyn FnMut(Parsed) -> Result<(), String>,
    ) -> Result<(), String> {
        self.batch_bytes += job.len();
        self.batch.push(job);
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
            jobs: std::mem::take(&mut self.batch),
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

impl<J> Drop for Pool<J> {
    fn drop(&mut self) {
        self.work = None;
        for w in self.workers.drain(..) {
            // A worker that panicked has already printed why.
            let _ = w.join();
        }
    }
}

fn work_on<J: Job>(queue: &Mutex<Receiver<Batch<J>>>) {
    loop {
        // The lock is held only while taking a batch.
        let next = queue.lock().map(|q| q.recv());
        let Ok(Ok(batch)) = next else {
            return;
        };
        let parsed = batch.jobs.iter().map(run).collect();
        // The reader may have stopped on an error and dropped the answer's receiver.
        let _ = batch.reply.send(parsed);
    }
}

fn run<J: Job>(job: &J) -> Parsed {
    if let Some(settled) = job.settle_directly() {
        return Ok(settled);
    }
    let (item, pos) = job.parse()?;
    let (item, without_kind) = settle(item, job.list_kind());
    Ok(Settled {
        item,
        without_kind,
        pos,
    })
}

/// One YAML item's text, its `- ` made spaces so columns stay the input's, left-out lines
/// empty.
pub struct Chunk {
    pub text: Vec<u8>,
    /// The input's line number of the chunk's first line.
    pub first_line: u64,
    pub kind: ListKind,
}

impl Job for Chunk {
    fn len(&self) -> usize {
        self.text.len()
    }

    fn list_kind(&self) -> Option<&(String, String)> {
        self.kind.as_deref()
    }

    fn parse(&self) -> Result<(Item, Option<Pos>), String> {
        let at = |line: u64, col: u64| {
            (line > 0).then(|| Pos {
                line: self.first_line + line - 1,
                col,
            })
        };
        // Lines were checked as UTF-8 when read; an item is whole lines.
        let text = std::str::from_utf8(&self.text).map_err(|e| e.to_string())?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, first_line: u64) -> Chunk {
        Chunk {
            text: text.as_bytes().to_vec(),
            first_line,
            kind: None,
        }
    }

    #[test]
    fn hands_results_back_in_input_order_with_input_places() {
        let mut pool = Pool::new();
        let mut seen = Vec::new();
        let mut done = |p: Parsed| {
            let Settled { item, pos, .. } = p?;
            let Item::Ready(ready) = item else {
                panic!("not made ready");
            };
            seen.push((ready.describe, pos.map(|p| (p.line, p.col))));
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
            assert_eq!(name, &format!("Pod p{i}"));
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
