//! rounds: scheduled, guarded remediation rounds through a Kubernetes cluster.
//!
//! The modules follow the data flow of a round:
//! playbook → inventory/objects → detect (findings) → plan (actions) → guard (verdicts) →
//! execute (outcomes; the only write path, with the ledger and the audit trail) → report.

pub mod api;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod config;
pub mod detect;
pub mod diff;
pub mod execute;
pub mod guard;
pub mod inventory;
pub mod job;
pub mod ledger;
pub mod lint;
pub mod lock;
pub mod metrics;
pub mod notify;
pub mod objects;
pub mod plan;
pub mod playbook;
pub mod report;
pub mod round;
pub mod secrets;
pub mod shard;
pub mod tls;
pub mod wording;
