//! The notify end-to-end scenarios (run by `tests/notify_e2e.rs`) and what they share.

pub mod live;
pub mod scan;
pub mod servers;
pub mod snapshot;
