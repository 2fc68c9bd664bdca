//! The notification log: what was sent to whom, keyed by a sha256 fingerprint of
//! (route, channel, finding group). The ledger stores it between rounds; this module owns its
//! shape and keeps it bounded.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Persisted by the ledger as one section of its document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationLog {
    /// Fingerprint (`sha256:…`) → what was last delivered for it.
    #[serde(default)]
    pub entries: BTreeMap<String, LogEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// When a message for this group was last delivered (RFC 3339).
    pub last_sent: String,
    /// True once a resolve was delivered.
    #[serde(default)]
    pub resolved: bool,
}
