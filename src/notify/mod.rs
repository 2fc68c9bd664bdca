//! Notifications: tiers, routes, channels, and the durable notification log.
//!
//! The notification log is kept in the ledger between rounds (the process exits after every
//! round), so dedupe, repeat intervals and resolves need no process memory.

pub mod log;
