//! Running as a Kubernetes Job: logs a cluster can collect (JSON lines with the run id, the
//! report as the last line), and the knobs a manual run turns through the environment
//! (`ROUNDS_ONLY`, `ROUNDS_DRY_RUN`, `ROUNDS_LOG_FORMAT`; see `scripts/run-once.sh`).

pub mod config;
pub mod log;
pub mod schedule;
pub mod select;
pub mod stop;
