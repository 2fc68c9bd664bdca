//! PersistentVolumeClaims, StorageClasses and the kubelet's stats/summary document.

use super::meta::{ObjectMeta, QuantityText};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pvc {
    pub metadata: ObjectMeta,
    pub spec: PvcSpec,
    pub status: PvcStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PvcSpec {
    pub storage_class_name: Option<String>,
    pub resources: PvcResources,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PvcResources {
    pub requests: BTreeMap<String, QuantityText>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PvcStatus {
    pub phase: Option<String>,
    pub capacity: BTreeMap<String, QuantityText>,
}

impl Pvc {
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }

    pub fn requested_storage(&self) -> Option<&str> {
        self.spec
            .resources
            .requests
            .get("storage")
            .map(|q| q.0.as_str())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StorageClass {
    pub metadata: ObjectMeta,
    pub provisioner: Option<String>,
    pub allow_volume_expansion: Option<bool>,
}

/// kubelet `GET /api/v1/nodes/NAME/proxy/stats/summary`, reduced to what disk checks need.
/// Disk usage from Prometheus is read into the same shape, so one detector serves both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatsSummary {
    pub node: NodeStats,
    pub pods: Vec<PodStats>,
    /// Where the numbers come from; detectors read only their configured source.
    #[serde(skip)]
    pub origin: DiskSource,
}

/// Where disk usage is read from.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum DiskSource {
    /// The kubelet's stats/summary, through the API server's node proxy (or a snapshot).
    #[default]
    Kubelet,
    /// PromQL over kubelet_volume_stats_* and node_filesystem_* (needs a Prometheus URL).
    Prometheus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeStats {
    pub node_name: String,
    /// The node's root filesystem.
    pub fs: Option<FsStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FsStats {
    pub capacity_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub inodes: Option<u64>,
    pub inodes_used: Option<u64>,
}

impl FsStats {
    /// Used bytes, from `usedBytes` or, where only free space is known, capacity minus it.
    pub fn used(&self) -> Option<u64> {
        self.used_bytes
            .or_else(|| Some(self.capacity_bytes?.saturating_sub(self.available_bytes?)))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStats {
    pub pod_ref: NamespacedName,
    pub volume: Vec<VolumeStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NamespacedName {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VolumeStats {
    pub name: String,
    /// Only volumes backed by a claim carry this; emptyDir, secrets and configMaps do not.
    pub pvc_ref: Option<NamespacedName>,
    pub capacity_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub inodes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes_free: Option<u64>,
}
