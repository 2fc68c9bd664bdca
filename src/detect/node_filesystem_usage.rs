//! `nodeFilesystemUsage`: nodes whose root filesystem is nearly full, before the kubelet's
//! eviction thresholds turn it into DiskPressure.

use super::util::{human_bytes, node_target, percent};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, TargetKind};
use crate::objects::Object;
use crate::objects::storage::DiskSource;
use crate::playbook::values::Percent;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct NodeFilesystemUsage {
    /// Report a node whose root filesystem reaches this share of its capacity.
    pub used_percent: Percent,
    /// Where usage is read: the kubelet's stats summary (default) or Prometheus.
    pub source: DiskSource,
}

impl Default for NodeFilesystemUsage {
    fn default() -> Self {
        Self {
            used_percent: "85%"
                .parse()
                .unwrap_or_else(|_| unreachable!("valid literal")),
            source: DiskSource::Kubelet,
        }
    }
}

impl NodeFilesystemUsage {
    pub const EXPLAIN: &str = "\
Finds nodes whose root filesystem is nearly full: from the kubelet's stats/summary (node.fs),
or from Prometheus (node_filesystem_size_bytes and node_filesystem_avail_bytes for
mountpoint \"/\", by the `node` label or the instance's host). It warns before the kubelet's
eviction thresholds set DiskPressure.
Arguments: usedPercent (default 85%), source (kubelet | prometheus, default kubelet).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: node-filesystem-usage
spec:
  description: Warn when a node's root filesystem is 90% full (from Prometheus).
  detect:
    nodeFilesystemUsage: { usedPercent: 90%, source: prometheus }
  remediate:
    - notifyOnly: {}
"#;
}

impl Detect for NodeFilesystemUsage {
    fn reads(&self) -> Reads {
        Reads::disk(self.source)
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::Node
    }

    fn detect(&self, object: &Object, _: &DetectContext, out: &mut Out) {
        let Object::StatsSummary(summary) = object else {
            return;
        };
        if summary.origin != self.source || summary.node.node_name.is_empty() {
            return;
        }
        let Some(fs) = &summary.node.fs else { return };
        let (Some(used), Some(cap)) = (fs.used(), fs.capacity_bytes.filter(|c| *c > 0)) else {
            return;
        };
        let share = percent(used, cap);
        if share < self.used_percent.value() {
            return;
        }
        let evidence = Evidence {
            used_bytes: Some(used),
            capacity_bytes: Some(cap),
            used_percent: Some(share),
            ..Evidence::default()
        };
        let message = format!(
            "root filesystem is {share}% full ({} of {})",
            human_bytes(used),
            human_bytes(cap)
        );
        out.push(Detection::new(
            node_target(&summary.node.node_name),
            message,
            evidence,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, object};

    #[test]
    fn reports_full_root_filesystems_from_its_source_only() {
        let summary = object(
            "node: {nodeName: n1, fs: {capacityBytes: 1000, availableBytes: 40}}\npods: []\n",
        );
        let mut out = Out::default();
        NodeFilesystemUsage::default().detect(&summary, &at("2026-11-22T10:00:00Z"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].message,
            "root filesystem is 96% full (960.0 B of 1000.0 B)"
        );
        let prom = NodeFilesystemUsage {
            source: DiskSource::Prometheus,
            ..NodeFilesystemUsage::default()
        };
        let mut none = Out::default();
        prom.detect(&summary, &at("2026-11-22T10:00:00Z"), &mut none);
        assert!(none.is_empty(), "a kubelet summary is not Prometheus data");
    }
}
