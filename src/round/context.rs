//! The one context every stage after the inventory gets: the built configuration, the round's
//! time, mode and deadline, where the state came from, the API (live rounds), the index of
//! objects findings refer to, the ledger, and what the round read about the cluster as a whole.

use super::config::{RoundConfig, Source};
use super::mode::Mode;
use crate::api::Api;
use crate::detect::Finding;
use crate::guard::Pause;
use crate::inventory::Index;
use crate::job::stop::Stop;
use crate::ledger::LedgerState;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Nodes as the inventory saw them (node actions are limited to a share of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounts {
    pub total: u32,
    pub unschedulable: u32,
}

pub struct RoundContext<'a> {
    pub config: &'a RoundConfig,
    pub run_id: &'a str,
    pub now: DateTime<Utc>,
    pub mode: Mode,
    /// When the round stops acting: its deadline, or SIGTERM.
    pub stop: &'a Stop,
    pub source: &'a Source,
    pub api: Option<&'a Api>,
    pub index: &'a Index,
    pub ledger: &'a std::cell::RefCell<LedgerState>,
    pub pause: &'a Pause,
    pub nodes: NodeCounts,
    /// Findings per playbook this round (for the circuit breaker).
    pub findings_per_playbook: BTreeMap<String, usize>,
}

impl RoundContext<'_> {
    pub fn count_findings(findings: &[Finding]) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for f in findings {
            *counts.entry(f.playbook.clone()).or_default() += 1;
        }
        counts
    }

    /// Why no new action may start, if none may.
    pub fn stopped(&self) -> Option<String> {
        self.stop.reason().map(|r| r.describe(self.config.deadline))
    }
}
