//! The runner config's `lock` section: where the lock is, so a round enforces it.

use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LockConfig {
    /// The lock `rounds lock` wrote (mount it with the playbooks, e.g.
    /// /etc/rounds/playbooks/playbooks.lock). Every round reads it: in apply mode the lock guard
    /// refuses each action of a playbook that is not in it; plan and dry-run rounds warn.
    pub file: PathBuf,
}
