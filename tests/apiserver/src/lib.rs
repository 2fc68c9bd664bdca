//! A Kubernetes API server for tests: the real REST protocol over HTTPS, in memory, seeded
//! from `kubectl get -o yaml|json` snapshots, with RBAC, scripted faults and a request log.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use rounds_test_apiserver::{Identity, ServerConfig, TestApiServer};
//! let server = TestApiServer::start(
//!     ServerConfig::new()
//!         .snapshot("tests/fixtures/cluster.yaml")
//!         .token("rounds", Identity::service_account("rounds", "rounds")),
//! )
//! .await?;
//! server.write_kubeconfig(std::path::Path::new("/tmp/kubeconfig"), "rounds", "default")?;
//! # Ok(()) }
//! ```

pub mod admission;
pub mod auth;
pub mod body;
pub mod client;
pub mod discovery;
pub mod disruption;
pub mod eviction;
pub mod faults;
pub mod field;
pub mod kubeconfig;
pub mod kubelet;
pub mod logs;
pub mod patch;
pub mod protobuf;
pub mod quantity;
pub mod rbac;
pub mod recorder;
pub mod registry;
pub mod request_dump;
pub mod resources;
mod routes;
pub mod seed;
pub mod selectors;
mod server;
pub mod status;
pub mod store;
pub mod strategy;
pub mod table;
pub mod tls;
pub mod validation;

pub use auth::{Identity, Tokens};
pub use disruption::Mode as DisruptionMode;
pub use faults::{FaultAction, FaultRule, Faults};
pub use recorder::{RequestLog, RequestRecord};
pub use server::{DEFAULT_ADMIN_TOKEN, ServerConfig, ServerError, TestApiServer};
pub use status::ApiError;
