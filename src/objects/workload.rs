//! Controllers that own pods: ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob
//! (and the old ReplicationController). One shape serves them all because rounds reads the
//! same few fields from each: owners, replicas, the pod template's containers, Job conditions.

use super::meta::{Condition, ObjectMeta};
use super::pod::Container;
use serde::Deserialize;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum WorkloadKind {
    ReplicaSet,
    ReplicationController,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn from_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "ReplicaSet" => Self::ReplicaSet,
            "ReplicationController" => Self::ReplicationController,
            "Deployment" => Self::Deployment,
            "StatefulSet" => Self::StatefulSet,
            "DaemonSet" => Self::DaemonSet,
            "Job" => Self::Job,
            "CronJob" => Self::CronJob,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReplicaSet => "ReplicaSet",
            Self::ReplicationController => "ReplicationController",
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::Job => "Job",
            Self::CronJob => "CronJob",
        }
    }

    /// The API group/version rounds writes to, whatever old version a dump was taken with.
    pub fn api_path_prefix(self) -> &'static str {
        match self {
            Self::ReplicationController => "/api/v1",
            Self::Job | Self::CronJob => "/apis/batch/v1",
            _ => "/apis/apps/v1",
        }
    }

    pub fn resource(self) -> &'static str {
        match self {
            Self::ReplicaSet => "replicasets",
            Self::ReplicationController => "replicationcontrollers",
            Self::Deployment => "deployments",
            Self::StatefulSet => "statefulsets",
            Self::DaemonSet => "daemonsets",
            Self::Job => "jobs",
            Self::CronJob => "cronjobs",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawWorkload {
    metadata: ObjectMeta,
    spec: RawSpec,
    status: RawStatus,
}

/// A workload's `spec` as written, of which only a few fields are read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawSpec {
    replicas: Option<i64>,
    template: RawTemplate,
    job_template: RawJobTemplate,
    backoff_limit: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RawJobTemplate {
    spec: RawSpecTemplateOnly,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RawSpecTemplateOnly {
    template: RawTemplate,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct RawTemplate {
    spec: RawPodSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RawPodSpec {
    containers: Vec<Container>,
    init_containers: Vec<Container>,
}

/// A workload's `status` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawStatus {
    ready_replicas: Option<i64>,
    available_replicas: Option<i64>,
    failed: Option<i64>,
    conditions: Vec<Condition>,
}

/// Serialized only to be kept compactly by the index (see [`crate::inventory::Index`]).
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub api_version: String,
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i64>,
    /// The pod template's containers (for a CronJob: its job template's).
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<i64>,
    /// A Job's conditions, for detectors (the index does not keep them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

impl Workload {
    pub fn from_value(
        kind: WorkloadKind,
        api_version: String,
        value: serde_json::Value,
    ) -> Result<Self, serde_path_to_error::Error<serde_json::Error>> {
        let raw: RawWorkload = serde_path_to_error::deserialize(value)?;
        Ok(Self::from_parts(
            kind,
            api_version,
            raw.metadata,
            raw.spec,
            raw.status,
        ))
    }

    /// The view of a workload from its parts as written.
    pub fn from_parts(
        kind: WorkloadKind,
        api_version: String,
        metadata: ObjectMeta,
        spec: RawSpec,
        status: RawStatus,
    ) -> Self {
        let template = if kind == WorkloadKind::CronJob {
            spec.job_template.spec.template
        } else {
            spec.template
        };
        Self {
            kind,
            api_version,
            metadata,
            replicas: spec.replicas,
            ready_replicas: status.ready_replicas.or(status.available_replicas),
            containers: template.spec.containers,
            init_containers: template.spec.init_containers,
            failed: status.failed,
            backoff_limit: spec.backoff_limit,
            conditions: status.conditions,
        }
    }

    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }
}
