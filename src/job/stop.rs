//! When a round stops acting: at its deadline, or when the kubelet sends SIGTERM (the Job's
//! activeDeadlineSeconds, a node drain, a deleted pod). A stopped round starts no new action;
//! the action in flight finishes (its intent and outcome are recorded), then notifications,
//! the ledger and the report are flushed within what is left of the grace period.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a round stopped acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The round's deadline (`--deadline`, `job.deadline`) passed.
    Deadline,
    /// SIGTERM or SIGINT.
    Signal,
}

impl StopReason {
    pub fn describe(self, deadline: Duration) -> String {
        match self {
            Self::Deadline => format!("the round's deadline of {}s passed", deadline.as_secs()),
            Self::Signal => "rounds was asked to stop (SIGTERM)".to_owned(),
        }
    }
}

/// Shared by every stage of one round; cheap to clone.
#[derive(Debug, Clone)]
pub struct Stop {
    state: Arc<AtomicU8>,
    /// When the signal came, for the flush's own deadline.
    signalled: Arc<Mutex<Option<Instant>>>,
    started: Instant,
    deadline: Duration,
    /// Time for notifications, the ledger and the report after the stop.
    flush: Duration,
}

const RUNNING: u8 = 0;
const DEADLINE: u8 = 1;
const SIGNAL: u8 = 2;

impl Stop {
    /// A round that stops acting `deadline` after `started`, or on a signal once
    /// [`Stop::watch_signals`] runs.
    pub fn new(started: Instant, deadline: Duration) -> Self {
        Self {
            state: Arc::new(AtomicU8::new(RUNNING)),
            signalled: Arc::new(Mutex::new(None)),
            started,
            deadline,
            flush: Duration::ZERO,
        }
    }

    /// Gives the round `flush` after it stopped to notify, save the ledger and report.
    pub fn with_flush(mut self, flush: Duration) -> Self {
        self.flush = flush;
        self
    }

    /// By when everything after the stop must be done: `flush` after the deadline, or after
    /// the signal when one came first (the kubelet kills the pod at the end of its grace
    /// period).
    pub fn flush_deadline(&self) -> Instant {
        let at_deadline = self.started + self.deadline + self.flush;
        match self.signalled.lock().ok().and_then(|s| *s) {
            Some(t) => at_deadline.min(t + self.flush),
            None => at_deadline,
        }
    }

    /// Time left for the flush.
    pub fn flush_remaining(&self) -> Duration {
        self.flush_deadline()
            .saturating_duration_since(Instant::now())
    }

    /// Resolves once the round must stop acting (for stages that must not outlive it, such
    /// as the inventory).
    pub async fn wait(&self) -> StopReason {
        loop {
            if let Some(r) = self.reason() {
                return r;
            }
            let left = self.deadline.saturating_sub(self.started.elapsed());
            tokio::time::sleep(left.min(Duration::from_millis(50))).await;
        }
    }

    /// Why the round must stop acting now, if it must.
    pub fn reason(&self) -> Option<StopReason> {
        match self.state.load(Ordering::SeqCst) {
            SIGNAL => return Some(StopReason::Signal),
            DEADLINE => return Some(StopReason::Deadline),
            _ => {}
        }
        if self.started.elapsed() >= self.deadline {
            let _ =
                self.state
                    .compare_exchange(RUNNING, DEADLINE, Ordering::SeqCst, Ordering::SeqCst);
            return Some(StopReason::Deadline);
        }
        None
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Marks the round stopped by a signal (what the signal task does; tests call it).
    pub fn signal(&self) {
        if let Ok(mut s) = self.signalled.lock() {
            s.get_or_insert_with(Instant::now);
        }
        self.state.store(SIGNAL, Ordering::SeqCst);
    }

    /// Waits for SIGTERM or SIGINT and marks the round stopped; runs for the whole round on
    /// the round's runtime. Without the handler the process would die at once, leaving an
    /// action half-recorded and the report unwritten.
    pub async fn watch_signals(self) {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("Cannot watch for SIGTERM; a stopped pod ends the round at once.");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!(
            "Asked to stop: no new action starts; flushing notifications, the ledger and the report."
        );
        self.signal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_deadline_and_on_a_signal() {
        let stop = Stop::new(Instant::now(), Duration::from_secs(3600));
        assert_eq!(stop.reason(), None);
        stop.clone().signal();
        assert_eq!(stop.reason(), Some(StopReason::Signal));
        let late = Stop::new(
            Instant::now() - Duration::from_secs(5),
            Duration::from_secs(1),
        );
        assert_eq!(late.reason(), Some(StopReason::Deadline));
        assert!(
            late.reason()
                .is_some_and(|r| r.describe(late.deadline()).contains("1s"))
        );
    }
}
