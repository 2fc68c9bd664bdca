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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatsSummary {
    pub node: NodeStats,
    pub pods: Vec<PodStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeStats {
    pub node_name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStats {
    pub pod_ref: ObjectRef,
    pub volume: Vec<VolumeStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ObjectRef {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VolumeStats {
    pub name: String,
    /// Only volumes backed by a claim carry this; emptyDir, secrets and configMaps do not.
    pub pvc_ref: Option<ObjectRef>,
    pub capacity_bytes: Option<u64>,
    pub used_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub inodes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes_free: Option<u64>,
}
