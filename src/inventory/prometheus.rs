//! Disk usage from Prometheus: kubelet_volume_stats_* for claims and node_filesystem_* for
//! nodes' root filesystems, read with instant PromQL queries into the stats summary shape the
//! disk detectors already understand.

use crate::objects::storage::{
    DiskSource, FsStats, NamespacedName, NodeStats, PodStats, StatsSummary, VolumeStats,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("cannot query Prometheus at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("Prometheus at {url} refused the query `{query}`: {detail}")]
    Query {
        url: String,
        query: String,
        detail: String,
    },
}

pub struct Prometheus {
    client: reqwest::Client,
    url: String,
}

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    result: Vec<Sample>,
}

#[derive(Deserialize)]
struct Sample {
    metric: BTreeMap<String, String>,
    /// `[unix time, "value"]`
    value: (f64, String),
}

const VOLUME_METRICS: [&str; 4] = [
    "kubelet_volume_stats_used_bytes",
    "kubelet_volume_stats_capacity_bytes",
    "kubelet_volume_stats_inodes_used",
    "kubelet_volume_stats_inodes",
];

impl Prometheus {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, PrometheusError> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(crate::tls::client_config())
            .timeout(timeout)
            .build()
            .map_err(|e| PrometheusError::Unreachable {
                url: url.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            client,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    async fn query(&self, query: &str) -> Result<Vec<Sample>, PrometheusError> {
        let unreachable = |e: reqwest::Error| PrometheusError::Unreachable {
            url: self.url.clone(),
            detail: e.without_url().to_string(),
        };
        let response = self
            .client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .send()
            .await
            .map_err(unreachable)?;
        let body: Response = response.json().await.map_err(unreachable)?;
        if body.status != "success" {
            return Err(PrometheusError::Query {
                url: self.url.clone(),
                query: query.to_owned(),
                detail: body.error.unwrap_or(body.status),
            });
        }
        Ok(body.data.map(|d| d.result).unwrap_or_default())
    }

    /// One summary per node with its root filesystem, and one holding every claim's volume.
    pub async fn disk_summaries(&self) -> Result<Vec<StatsSummary>, PrometheusError> {
        let mut claims: BTreeMap<(String, String), [Option<u64>; 4]> = BTreeMap::new();
        for (i, metric) in VOLUME_METRICS.iter().enumerate() {
            let query = format!("max by (namespace, persistentvolumeclaim) ({metric})");
            for s in self.query(&query).await? {
                let (Some(ns), Some(pvc)) = (
                    s.metric.get("namespace"),
                    s.metric.get("persistentvolumeclaim"),
                ) else {
                    continue;
                };
                claims.entry((ns.clone(), pvc.clone())).or_default()[i] = number(&s.value.1);
            }
        }
        let volumes = claims
            .into_iter()
            .map(
                |((namespace, name), [used, capacity, inodes_used, inodes])| VolumeStats {
                    name: name.clone(),
                    pvc_ref: Some(NamespacedName { name, namespace }),
                    capacity_bytes: capacity,
                    used_bytes: used,
                    available_bytes: None,
                    inodes,
                    inodes_used,
                    inodes_free: None,
                },
            )
            .collect();
        let mut summaries = vec![StatsSummary {
            node: NodeStats::default(),
            pods: vec![PodStats {
                pod_ref: NamespacedName::default(),
                volume: volumes,
            }],
            origin: DiskSource::Prometheus,
        }];
        let root = r#"mountpoint="/",fstype!~"tmpfs|overlay|squashfs""#;
        let mut nodes: BTreeMap<String, FsStats> = BTreeMap::new();
        for (metric, is_size) in [
            ("node_filesystem_size_bytes", true),
            ("node_filesystem_avail_bytes", false),
        ] {
            let query = format!("max by (node, instance) ({metric}{{{root}}})");
            for s in self.query(&query).await? {
                let Some(node) = node_name(&s.metric) else {
                    continue;
                };
                let fs = nodes.entry(node).or_default();
                if is_size {
                    fs.capacity_bytes = number(&s.value.1);
                } else {
                    fs.available_bytes = number(&s.value.1);
                }
            }
        }
        summaries.extend(nodes.into_iter().map(|(node_name, fs)| StatsSummary {
            node: NodeStats {
                node_name,
                fs: Some(fs),
            },
            pods: Vec::new(),
            origin: DiskSource::Prometheus,
        }));
        Ok(summaries)
    }
}

fn number(text: &str) -> Option<u64> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64)
}

/// The node a series is about: its `node` label (kube-prometheus relabels to it), else the
/// instance without its port.
fn node_name(labels: &BTreeMap<String, String>) -> Option<String> {
    labels.get("node").cloned().or_else(|| {
        let instance = labels.get("instance")?;
        Some(
            instance
                .rsplit_once(':')
                .map_or(instance.as_str(), |(host, _)| host)
                .to_owned(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_by_label_or_instance_host() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            node_name(&labels(&[("node", "n1"), ("instance", "10.0.0.1:9100")])).as_deref(),
            Some("n1")
        );
        assert_eq!(
            node_name(&labels(&[("instance", "node-b:9100")])).as_deref(),
            Some("node-b")
        );
        assert_eq!(number("1.5e9"), Some(1_500_000_000));
        assert_eq!(number("NaN"), None);
    }
}
