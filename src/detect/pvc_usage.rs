//! `pvcUsage`: persistent volume claims that are nearly full, by bytes or by inodes.

use super::util::{human_bytes, percent};
use super::{Detect, DetectContext, Detection, Evidence, Out, Reads, Target, TargetKind};
use crate::objects::Object;
use crate::objects::storage::DiskSource;
use crate::playbook::values::Percent;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct PvcUsage {
    /// Report a claim whose used bytes reach this share of its capacity.
    pub used_percent: Percent,
    /// Report a claim whose used inodes reach this share (skipped where a node reports 0 inodes).
    pub inodes_used_percent: Percent,
    /// Where usage is read: the kubelet's stats summary (default) or Prometheus.
    pub source: DiskSource,
}

impl Default for PvcUsage {
    fn default() -> Self {
        Self {
            used_percent: "90%"
                .parse()
                .unwrap_or_else(|_| unreachable!("valid literal")),
            inodes_used_percent: "90%"
                .parse()
                .unwrap_or_else(|_| unreachable!("valid literal")),
            source: DiskSource::Kubelet,
        }
    }
}

impl PvcUsage {
    pub const EXPLAIN: &str = "\
Finds PersistentVolumeClaims whose volume is nearly full, from the kubelet's stats/summary
(read through the API server's node proxy, or from a snapshot) or from Prometheus
(kubelet_volume_stats_used_bytes, _capacity_bytes, _inodes_used, _inodes by namespace and
persistentvolumeclaim). Only volumes with a pvcRef count: emptyDir, secrets and configMaps
report the node's filesystem and are ignored. Nodes that report zero inodes (Windows) are
checked by bytes only.
Arguments: usedPercent (default 90%), inodesUsedPercent (default 90%),
source (kubelet | prometheus, default kubelet).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: pvc-nearly-full
spec:
  description: Expand claims at 85% usage by half, up to 500Gi.
  detect:
    pvcUsage: { usedPercent: 85%, inodesUsedPercent: 90%, source: kubelet }
  severity: critical
  remediate:
    - expandPvc: { factor: 1.5, max: 500Gi }
  guards:
    maxActionsPerRound: 2
    cooldown: 12h
"#;
}

impl Detect for PvcUsage {
    fn reads(&self) -> Reads {
        Reads::disk(self.source)
    }

    fn target_kind(&self) -> TargetKind {
        TargetKind::PersistentVolumeClaim
    }

    fn detect(&self, object: &Object, _: &DetectContext, out: &mut Out) {
        let Object::StatsSummary(summary) = object else {
            return;
        };
        if summary.origin != self.source {
            return;
        }
        // A claim mounted by several pods on the node is reported once.
        let mut seen = BTreeSet::new();
        for pod in &summary.pods {
            for v in &pod.volume {
                let Some(pvc) = &v.pvc_ref else { continue };
                if !seen.insert((pvc.namespace.clone(), pvc.name.clone())) {
                    continue;
                }
                let bytes = match (v.used_bytes, v.capacity_bytes) {
                    (Some(used), Some(cap)) if cap > 0 => Some((used, cap, percent(used, cap))),
                    _ => None,
                };
                let inodes = match (v.inodes_used, v.inodes) {
                    (Some(used), Some(total)) if total > 0 => Some(percent(used, total)),
                    _ => None,
                };
                let full_bytes = bytes.is_some_and(|(_, _, p)| p >= self.used_percent.value());
                let full_inodes = inodes.is_some_and(|p| p >= self.inodes_used_percent.value());
                if !full_bytes && !full_inodes {
                    continue;
                }
                let evidence = Evidence {
                    used_bytes: bytes.map(|b| b.0),
                    capacity_bytes: bytes.map(|b| b.1),
                    used_percent: bytes.map(|b| b.2),
                    inodes_used_percent: inodes,
                    node: Some(summary.node.node_name.clone()),
                    ..Evidence::default()
                };
                let message = match (full_bytes, bytes) {
                    (true, Some((used, cap, p))) => format!(
                        "volume is {p}% full ({} of {})",
                        human_bytes(used),
                        human_bytes(cap)
                    ),
                    _ => format!(
                        "volume has used {}% of its inodes",
                        inodes.unwrap_or_default()
                    ),
                };
                let target = Target {
                    kind: TargetKind::PersistentVolumeClaim,
                    namespace: Some(pvc.namespace.clone()),
                    name: pvc.name.clone(),
                    container: None,
                };
                out.push(Detection::new(target, message, evidence));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, object};

    const SUMMARY: &str = r#"
node: {nodeName: n1}
pods:
- podRef: {name: db-0, namespace: data}
  volume:
  - {name: data, pvcRef: {name: data-db-0, namespace: data}, capacityBytes: 10737418240, usedBytes: 9900000000, inodes: 655360, inodesUsed: 1000}
  - {name: cache, capacityBytes: 100, usedBytes: 99}
- podRef: {name: win-0, namespace: data}
  volume:
  - {name: w, pvcRef: {name: win, namespace: data}, capacityBytes: 1000, usedBytes: 10, inodes: 0, inodesUsed: 0}
- podRef: {name: small-0, namespace: data}
  volume:
  - {name: s, pvcRef: {name: inodes, namespace: data}, capacityBytes: 1000, usedBytes: 10, inodes: 100, inodesUsed: 95}
"#;

    #[test]
    fn reports_full_claims_by_bytes_or_inodes_and_ignores_other_volumes() {
        let mut out = Out::default();
        PvcUsage::default().detect(&object(SUMMARY), &at("2026-11-22T10:00:00Z"), &mut out);
        let names: Vec<&str> = out.iter().map(|d| d.target.name.as_str()).collect();
        assert_eq!(names, ["data-db-0", "inodes"]);
        assert_eq!(out[0].message, "volume is 92.2% full (9.2 GiB of 10.0 GiB)");
        assert_eq!(out[1].message, "volume has used 95% of its inodes");
    }
}
