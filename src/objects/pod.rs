//! The parts of a Pod that detectors and actions read.

use super::meta::{Condition, ObjectMeta, QuantityText, condition};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pod {
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
    pub status: PodStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    pub node_name: Option<String>,
    pub restart_policy: Option<String>,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub resources: Resources,
    /// `Always` on an init container makes it a native sidecar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Resources {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, QuantityText>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, QuantityText>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    pub phase: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub conditions: Vec<Condition>,
    pub container_statuses: Vec<ContainerStatus>,
    pub init_container_statuses: Vec<ContainerStatus>,
    pub start_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    pub name: String,
    pub image: Option<String>,
    pub ready: bool,
    pub restart_count: i64,
    pub state: ContainerState,
    pub last_state: ContainerState,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerState {
    pub waiting: Option<StateWaiting>,
    pub running: Option<StateRunning>,
    pub terminated: Option<StateTerminated>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StateWaiting {
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StateRunning {
    pub started_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StateTerminated {
    pub exit_code: i64,
    pub signal: Option<i64>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    #[serde(rename = "containerID")]
    pub container_id: Option<String>,
}

/// `status.phase`, typed; anything else (or nothing) is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// Which list of the pod spec a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRole {
    App,
    Init,
    /// An init container with `restartPolicy: Always` (a native sidecar).
    Sidecar,
}

/// A container status together with its role and spec.
pub struct ContainerView<'a> {
    pub status: &'a ContainerStatus,
    pub role: ContainerRole,
    pub spec: Option<&'a Container>,
}

impl Pod {
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }

    pub fn phase(&self) -> &str {
        self.status.phase.as_deref().unwrap_or("")
    }

    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        condition(&self.status.conditions, type_)
    }

    /// The pod's phase; None when it has none (a pasted or partial object) or one this
    /// version does not know, which is not the kubelet's `Unknown`.
    pub fn pod_phase(&self) -> Option<PodPhase> {
        match self.phase() {
            "Pending" => Some(PodPhase::Pending),
            "Running" => Some(PodPhase::Running),
            "Succeeded" => Some(PodPhase::Succeeded),
            "Failed" => Some(PodPhase::Failed),
            "Unknown" => Some(PodPhase::Unknown),
            _ => None,
        }
    }

    /// Ready=True and not being deleted: a pod that serves.
    pub fn is_ready(&self) -> bool {
        self.metadata.deletion_timestamp.is_none()
            && self.condition("Ready").is_some_and(|c| c.status == "True")
    }

    /// Every container status, init containers first, each with its role.
    pub fn containers(&self) -> impl Iterator<Item = ContainerView<'_>> {
        let init = self.status.init_container_statuses.iter().map(|status| {
            let spec = self
                .spec
                .init_containers
                .iter()
                .find(|c| c.name == status.name);
            let sidecar = spec.and_then(|c| c.restart_policy.as_deref()) == Some("Always");
            ContainerView {
                status,
                role: if sidecar {
                    ContainerRole::Sidecar
                } else {
                    ContainerRole::Init
                },
                spec,
            }
        });
        let app = self
            .status
            .container_statuses
            .iter()
            .map(|status| ContainerView {
                status,
                role: ContainerRole::App,
                spec: self.spec.containers.iter().find(|c| c.name == status.name),
            });
        init.chain(app)
    }

    /// Pods restart containers unless the policy says `Never`.
    pub fn restarts_containers(&self) -> bool {
        self.spec.restart_policy.as_deref() != Some("Never")
    }
}
