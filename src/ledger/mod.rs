//! The ledger: what rounds remembers between rounds (it exits after every one), kept in
//! ConfigMaps in its own namespace; and the Lease that keeps two rounds from acting at once.
//!
//! A round loads the ledger at its start (a missing one is empty; an unreadable one is
//! reported, and nothing is done that needs it), works on the typed [`Ledger`], and saves it
//! with the resourceVersion it read, merging on conflict.

pub mod document;
pub mod lease;
pub mod merge;
pub mod store;

pub use document::{
    Cooldown, Effect, Escalation, HistoryEntry, Intent, Ledger, Recorded, ScheduleState,
};
pub use store::{LedgerError, LedgerStore, Saved, Stored};

/// The ledger as a round has it.
#[derive(Debug, Clone)]
pub enum LedgerState {
    /// Read from the cluster (or empty because it did not exist yet).
    Live(Stored),
    /// Read from a file given to a snapshot round; never saved.
    File(Ledger),
    /// A snapshot round without a ledger file: guards that need it say they did not check.
    Absent,
    /// The ledger exists but cannot be read; the round says so and acts on nothing that
    /// needs it (it is not overwritten either).
    Unreadable(String),
}

impl LedgerState {
    /// The ledger, if there is one to read.
    pub fn ledger(&self) -> Option<&Ledger> {
        match self {
            Self::Live(s) => Some(&s.ledger),
            Self::File(l) => Some(l),
            Self::Absent | Self::Unreadable(_) => None,
        }
    }

    /// The ledger, if this round may change and save it.
    pub fn ledger_mut(&mut self) -> Option<&mut Ledger> {
        match self {
            Self::Live(s) => Some(&mut s.ledger),
            _ => None,
        }
    }

    /// Why there is no ledger to read, for guard verdicts.
    pub fn missing_reason(&self) -> Option<String> {
        match self {
            Self::Live(_) | Self::File(_) => None,
            Self::Absent => Some(
                "not checked: a snapshot round has no ledger (give --ledger FILE to check it)"
                    .into(),
            ),
            Self::Unreadable(e) => Some(format!("the ledger cannot be read: {e}")),
        }
    }
}
