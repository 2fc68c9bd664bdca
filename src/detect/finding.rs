//! What a detector reports: a target, evidence and a message.

use crate::objects::pod::{ContainerRole, PodPhase};
use crate::objects::{OwnerReference, Timestamp};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What kind of object a finding is about; actions declare which kinds they can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TargetKind {
    Pod,
    Node,
    Job,
    PersistentVolumeClaim,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::Node => "Node",
            Self::Job => "Job",
            Self::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

impl Target {
    pub fn display(&self) -> String {
        let mut s = format!("{} ", self.kind.as_str());
        if let Some(ns) = &self.namespace {
            s.push_str(ns);
            s.push('/');
        }
        s.push_str(&self.name);
        if let Some(c) = &self.container {
            s.push_str(&format!(" container={c}"));
        }
        s
    }
}

/// Facts behind a finding, as read from the object. Only what applies is filled.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// What a container's configuration refers to and is not there (`Secret db`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// The resource a node ran short of (`memory`, `ephemeral-storage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The component that reported it (`kernel-monitor`, `kubelet`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inodes_used_percent: Option<f64>,
}

/// Typed facts about a finding's object that actions and guards read (evidence is for people).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub uid: Option<String>,
    /// The role of the finding's container, for findings about one container.
    pub container_role: Option<ContainerRole>,
    pub pod_phase: Option<PodPhase>,
    /// Whether the pod is Ready (condition Ready=True) and not being deleted.
    pub pod_ready: Option<bool>,
    pub node: Option<String>,
    pub created: Option<DateTime<Utc>>,
    /// Only the annotations guards read ([`crate::guard::reads_annotation`]).
    pub annotations: BTreeMap<String, String>,
}

/// One detector hit, before scope, owners and fingerprint are added by the round.
#[derive(Debug, Clone)]
pub struct Detection {
    pub target: Target,
    pub evidence: Evidence,
    pub message: String,
    /// Labels of the target object, for the playbook's `scope.selector`; once that is
    /// checked, only those guards read.
    pub labels: BTreeMap<String, String>,
    /// The target's controller reference, if it has one.
    pub controller: Option<OwnerReference>,
    /// How many occurrences this detection stands for (e.g. OOM kills seen in the window).
    pub occurrences: u32,
    pub facts: Facts,
}

impl Detection {
    pub fn new(target: Target, message: String, evidence: Evidence) -> Self {
        Self {
            target,
            evidence,
            message,
            labels: BTreeMap::new(),
            controller: None,
            occurrences: 1,
            facts: Facts::default(),
        }
    }

    pub fn with_meta(mut self, meta: &crate::objects::ObjectMeta) -> Self {
        self.labels = meta.labels.clone();
        self.controller = meta.controller().cloned();
        self.facts.uid = meta.uid.clone();
        self.facts.annotations = meta
            .annotations
            .iter()
            .filter(|(k, _)| crate::guard::reads_annotation(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.facts.created = meta.creation_timestamp.as_ref().and_then(Timestamp::time);
        self
    }

    /// [`Detection::with_meta`] plus what actions read about a pod.
    pub fn with_pod(mut self, pod: &crate::objects::Pod) -> Self {
        self = self.with_meta(&pod.metadata);
        self.facts.pod_phase = pod.pod_phase();
        self.facts.pod_ready = Some(pod.is_ready());
        self.facts.node = pod.spec.node_name.clone();
        self
    }

    pub fn with_container_role(mut self, role: ContainerRole) -> Self {
        self.facts.container_role = Some(role);
        self
    }
}

/// The workload a finding's object belongs to, found through `ownerReferences`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// The top of the chain that could be followed (e.g. the Deployment).
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// False when a link of the chain is not in the inventory: the owner above it is unknown.
    pub resolved: bool,
    pub chain: Vec<OwnerLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerLink {
    pub kind: String,
    pub name: String,
    pub api_version: String,
    pub found: bool,
}

/// A finding as the round reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub playbook: String,
    pub detector: &'static str,
    pub severity: crate::playbook::Severity,
    pub target: Target,
    pub owner: Option<Owner>,
    /// `sha256:` of playbook, detector and target: stable across rounds, for deduplication.
    pub fingerprint: String,
    pub evidence: Evidence,
    pub message: String,
    /// What was gathered around the finding for the people who get it: recent Events, the
    /// previous container's log tail. Fetched for findings only, after detection.
    #[serde(skip_serializing_if = "Context::is_empty")]
    pub context: Context,
    /// The labels of the finding's object that guards read ([`crate::guard::reads_label`]).
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub facts: Facts,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<LogTail>,
}

impl Context {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.log_tail.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogTail {
    pub container: String,
    /// True when the lines are from the container's previous (crashed) run.
    pub previous: bool,
    pub lines: Vec<String>,
}
