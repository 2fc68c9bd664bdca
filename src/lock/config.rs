//! The runner config's `lock` section: where the lock is, so a round enforces it.

use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LockConfig {
    /// The lock `rounds lock` wrote (mount it with the playbooks, e.g.
    /// /etc/rounds/playbooks/playbooks.lock). Read and checked by `rounds verify-lock`; the round
    /// enforces it once the lock guard is registered (apply: refuse, dry-run: warn).
    pub file: PathBuf,
}
