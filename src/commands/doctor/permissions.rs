//! What a round asks the API server to allow, derived from its configuration: what each
//! playbook's detector lists and the evidence it fetches, what its actions write (with the
//! re-read after a conflict and the audit Event), and rounds' own state in its namespace (the
//! ledger and the pause switch ConfigMaps, the Lease). The matches are closed: a new detector
//! input, target kind or action does not compile until it says what it needs.

use crate::api::request::Verb as WriteVerb;
use crate::api::resource::{Resource, Scope};
use crate::detect::{Reads, TargetKind};
use crate::objects::WorkloadKind;
use crate::plan::Action;
use crate::round::{Mode, RoundConfig};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::Serialize;
use std::collections::BTreeMap;

/// An RBAC verb rounds uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Get,
    List,
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Create => "create",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }
}

impl From<WriteVerb> for Verb {
    fn from(v: WriteVerb) -> Self {
        match v {
            WriteVerb::Create | WriteVerb::Evict => Self::Create,
            WriteVerb::Patch => Self::Patch,
            WriteVerb::Update => Self::Update,
            WriteVerb::Delete => Self::Delete,
        }
    }
}

/// The subresources rounds uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subresource {
    /// `pods/eviction` (evictPod).
    Eviction,
    /// `pods/log` (the log tail attached to findings).
    Log,
    /// `nodes/proxy` (kubelet stats summaries).
    Proxy,
}

impl Subresource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eviction => "eviction",
            Self::Log => "log",
            Self::Proxy => "proxy",
        }
    }
}

/// Where a permission is needed, which says what grants it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// In every namespace, or on cluster-scoped objects: a ClusterRole (and ClusterRoleBinding).
    Cluster,
    /// In rounds' own namespace: a Role there (and a RoleBinding).
    Namespace(String),
}

/// One authorization decision the API server makes for a round's requests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub place: Place,
    pub resource: &'static Resource,
    pub subresource: Option<Subresource>,
    pub verb: Verb,
}

impl Permission {
    pub fn cluster(verb: Verb, resource: &'static Resource) -> Self {
        Self {
            place: Place::Cluster,
            resource,
            subresource: None,
            verb,
        }
    }

    pub fn in_namespace(verb: Verb, resource: &'static Resource, namespace: &str) -> Self {
        Self {
            place: Place::Namespace(namespace.to_owned()),
            ..Self::cluster(verb, resource)
        }
    }

    fn with(mut self, subresource: Subresource) -> Self {
        self.subresource = Some(subresource);
        self
    }

    /// The resource as RBAC rules name it: `deployments`, `pods/eviction`.
    pub fn rbac_resource(&self) -> String {
        self.resource
            .rbac_resource(self.subresource.map(Subresource::as_str))
    }

    pub fn namespace(&self) -> Option<&str> {
        match &self.place {
            Place::Namespace(ns) => Some(ns),
            Place::Cluster => None,
        }
    }

    /// As `kubectl auth can-i` writes it: `patch deployments.apps in every namespace`.
    pub fn describe(&self) -> String {
        let group = match self.resource.group {
            "" => String::new(),
            g => format!(".{g}"),
        };
        let resource = match self.subresource {
            Some(s) => format!("{}{group}/{}", self.resource.plural, s.as_str()),
            None => format!("{}{group}", self.resource.plural),
        };
        let place = match (&self.place, self.resource.scope) {
            (Place::Namespace(ns), _) => format!(" in namespace {ns}"),
            (Place::Cluster, Scope::Namespaced) => " in every namespace".to_owned(),
            (Place::Cluster, Scope::Cluster) => String::new(),
        };
        format!("{} {resource}{place}", self.verb.as_str())
    }

    /// The kind of role that grants it.
    pub fn role_kind(&self) -> &'static str {
        match self.place {
            Place::Cluster => "ClusterRole",
            Place::Namespace(_) => "Role",
        }
    }

    /// The RBAC rule that grants exactly this permission.
    pub fn rule(&self) -> PolicyRule {
        PolicyRule {
            api_groups: Some(vec![self.resource.group.to_owned()]),
            resources: Some(vec![self.rbac_resource()]),
            verbs: vec![self.verb.as_str().to_owned()],
            ..Default::default()
        }
    }

    /// The SelfSubjectAccessReview that asks whether rounds has it.
    pub fn review(&self) -> SelfSubjectAccessReview {
        SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(self.verb.as_str().to_owned()),
                    group: Some(self.resource.group.to_owned()),
                    resource: Some(self.resource.plural.to_owned()),
                    subresource: self.subresource.map(|s| s.as_str().to_owned()),
                    namespace: self.namespace().map(str::to_owned),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// How much a round depends on a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Need {
    /// Without it the round fails (a list or a Lease refused) or cannot do what it is for.
    Required,
    /// The dry run of a write in a dry-run round: the API server authorizes it like the write;
    /// refused, the action is reported as skipped by `forbidden` (the observe overlay).
    DryRun,
    /// Deleting ledger shards the ledger no longer uses: refused, they stay (unused).
    Cleanup,
}

impl Need {
    /// What a round does without it, when it can do without.
    pub fn without(self) -> Option<&'static str> {
        match self {
            Self::Required => None,
            Self::DryRun => Some(
                "dry-run rounds do without it: the dry runs of the actions that need it are reported as skipped by `forbidden`; grant it to have the API server check them",
            ),
            Self::Cleanup => {
                Some("without it the ledger shards a save replaced stay in the namespace (unused)")
            }
        }
    }
}

/// One thing a permission is needed for, and the playbooks that need it (none for rounds' own
/// state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub what: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub playbooks: Vec<String>,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.playbooks.as_slice() {
            [] => write!(f, "{}", self.what),
            [one] => write!(f, "{} (playbook {one})", self.what),
            [a, b] => write!(f, "{} (playbooks {a}, {b})", self.what),
            many => write!(f, "{} ({} playbooks)", self.what, many.len()),
        }
    }
}

/// What a permission is needed for.
#[derive(Debug, Clone)]
pub struct Uses {
    pub need: Need,
    /// What needs it, in the order found.
    pub reasons: Vec<Reason>,
}

impl Uses {
    /// The reasons as a phrase: `detecting oomKilled (playbook a), the owners of findings (7
    /// playbooks)`.
    pub fn describe(&self) -> String {
        self.reasons
            .iter()
            .map(Reason::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every permission a round needs, with what for.
#[derive(Debug, Clone, Default)]
pub struct Needed(pub BTreeMap<Permission, Uses>);

impl Needed {
    /// Adds a need of `p` for `what`, by `playbook` (None: rounds' own state).
    pub fn add(&mut self, p: Permission, need: Need, what: &str, playbook: Option<&str>) {
        let uses = self.0.entry(p).or_insert(Uses {
            need,
            reasons: Vec::new(),
        });
        uses.need = uses.need.min(need);
        let reason = match uses.reasons.iter_mut().find(|r| r.what == what) {
            Some(r) => r,
            None => {
                uses.reasons.push(Reason {
                    what: what.to_owned(),
                    playbooks: Vec::new(),
                });
                uses.reasons
                    .last_mut()
                    .unwrap_or_else(|| unreachable!("pushed"))
            }
        };
        if let Some(name) = playbook
            && !reason.playbooks.iter().any(|p| p == name)
        {
            reason.playbooks.push(name.to_owned());
        }
    }
}

/// The writes an action may send: the RBAC verb, the resource and the subresource.
fn writes(action: &Action) -> Vec<Permission> {
    let patch = |kinds: &[WorkloadKind]| {
        kinds
            .iter()
            .map(|k| Permission::cluster(Verb::Patch, Resource::of_workload(*k)))
            .collect::<Vec<_>>()
    };
    let write = |verb: WriteVerb, resource| {
        let p = Permission::cluster(verb.into(), resource);
        match verb {
            WriteVerb::Evict => p.with(Subresource::Eviction),
            _ => p,
        }
    };
    use WorkloadKind::*;
    match action {
        Action::EvictPod(_) => vec![write(WriteVerb::Evict, &Resource::POD)],
        Action::DeletePod(_) | Action::DeleteFailedPods(_) => {
            vec![write(WriteVerb::Delete, &Resource::POD)]
        }
        Action::RolloutRestart(_) => patch(&[Deployment, StatefulSet, DaemonSet]),
        Action::RaiseMemoryLimit(_) => {
            patch(&[Deployment, StatefulSet, DaemonSet, CronJob, ReplicaSet])
        }
        Action::Scale(_) => patch(&[Deployment, StatefulSet, ReplicaSet]),
        Action::CordonNode(_) => vec![write(WriteVerb::Patch, &Resource::NODE)],
        Action::ExpandPvc(_) => vec![write(WriteVerb::Patch, &Resource::PERSISTENT_VOLUME_CLAIM)],
        Action::RunJob(_) => vec![write(WriteVerb::Create, &Resource::JOB)],
        Action::NotifyOnly(_) => Vec::new(),
    }
}

/// Every kind that can own a pod, up the ownerReferences chain.
const POD_OWNERS: [WorkloadKind; 7] = [
    WorkloadKind::ReplicaSet,
    WorkloadKind::ReplicationController,
    WorkloadKind::Deployment,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
    WorkloadKind::Job,
    WorkloadKind::CronJob,
];

/// Everything `rounds run` with `config` asks of the API server in `mode`.
pub fn needed(config: &RoundConfig, mode: Mode) -> Needed {
    use Verb::{Create, Get, List, Update};
    let mut out = Needed::default();
    let req = Need::Required;
    for p in &config.playbooks {
        let spec = &p.playbook.spec;
        let detector = spec.detect.imp();
        let name = Some(p.name());
        let detecting = format!("detecting {}", spec.detect.name());
        let mut add = |perm: Permission, need: Need, what: &str| out.add(perm, need, what, name);
        match detector.reads() {
            Reads::Pods => add(Permission::cluster(List, &Resource::POD), req, &detecting),
            Reads::Nodes => add(Permission::cluster(List, &Resource::NODE), req, &detecting),
            Reads::Jobs => add(Permission::cluster(List, &Resource::JOB), req, &detecting),
            Reads::Events => add(
                Permission::cluster(List, &Resource::CORE_EVENT),
                req,
                &detecting,
            ),
            Reads::StatsSummaries => {
                add(Permission::cluster(List, &Resource::NODE), req, &detecting);
                add(
                    Permission::cluster(Get, &Resource::NODE).with(Subresource::Proxy),
                    req,
                    "kubelet stats summaries",
                );
            }
            // Prometheus answers these; the API is not asked.
            Reads::PrometheusDisk => {}
        }
        // What findings refer to is fetched afterwards: owners, claims and their classes, and
        // each finding's namespace (its opt-out annotation, namespaceSelector).
        let target = detector.target_kind();
        let owners: &[WorkloadKind] = match target {
            TargetKind::Pod => &POD_OWNERS,
            TargetKind::Job => &[WorkloadKind::CronJob],
            TargetKind::Node | TargetKind::PersistentVolumeClaim => &[],
        };
        for k in owners {
            add(
                Permission::cluster(Get, Resource::of_workload(*k)),
                req,
                "the owners of findings",
            );
        }
        if target == TargetKind::PersistentVolumeClaim {
            for r in [&Resource::PERSISTENT_VOLUME_CLAIM, &Resource::STORAGE_CLASS] {
                add(
                    Permission::cluster(Get, r),
                    req,
                    "claims and their StorageClass",
                );
            }
        }
        let namespaced = match target {
            TargetKind::Pod | TargetKind::Job | TargetKind::PersistentVolumeClaim => true,
            TargetKind::Node => false,
        };
        if namespaced {
            add(
                Permission::cluster(Get, &Resource::NAMESPACE),
                req,
                "the opt-out annotations of findings' namespaces",
            );
        }
        if spec.scope.namespace_selector.is_some() {
            add(
                Permission::cluster(List, &Resource::NAMESPACE),
                req,
                "namespaceSelector",
            );
        }
        let evidence = &spec.notify.evidence;
        if evidence.events {
            add(
                Permission::cluster(List, &Resource::CORE_EVENT),
                req,
                "Events attached to findings",
            );
        }
        if evidence.log_tail_lines > 0 && target == TargetKind::Pod {
            add(
                Permission::cluster(Get, &Resource::POD).with(Subresource::Log),
                req,
                "log tails attached to findings",
            );
        }
        if !mode.sends() {
            continue;
        }
        let need = if mode == Mode::Apply {
            req
        } else {
            Need::DryRun
        };
        for action in &spec.remediate {
            let writes = writes(action);
            for w in &writes {
                add(w.clone(), need, action.name());
                // A conflict, or a write whose answer was lost, makes rounds read the target.
                add(
                    Permission::cluster(Get, w.resource),
                    need,
                    &format!("re-reading the target of {}", action.name()),
                );
            }
            if !writes.is_empty() {
                add(
                    Permission::cluster(Create, &Resource::EVENT),
                    need,
                    &format!("the audit Event of {}", action.name()),
                );
            }
        }
    }
    let ns = config.namespace.as_str();
    let pause = format!(
        "the pause switch (ConfigMap {})",
        config.guards.pause_config_map
    );
    let ledger = format!("the ledger (ConfigMap {})", config.ledger_name);
    let lease = format!("the run lock (Lease {})", config.lease_name);
    let configmap = |verb| Permission::in_namespace(verb, &Resource::CONFIG_MAP, ns);
    out.add(configmap(Get), req, &ledger, None);
    out.add(configmap(Get), req, &pause, None);
    out.add(configmap(Create), req, &ledger, None);
    out.add(configmap(Update), req, &ledger, None);
    // Apply rounds remember cooldowns, history and intents: a ledger that outgrows one
    // ConfigMap is kept in shards, and each save deletes the shards it replaced.
    if mode == Mode::Apply {
        let shards = format!(
            "the ledger's replaced shards (ConfigMaps {}-*)",
            config.ledger_name
        );
        out.add(configmap(Verb::Delete), Need::Cleanup, &shards, None);
    }
    for verb in [Get, Create, Update] {
        out.add(
            Permission::in_namespace(verb, &Resource::LEASE, ns),
            req,
            &lease,
            None,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(playbooks: &[&str], mode: Mode) -> RoundConfig {
        let dir = tempfile::tempdir().expect("tmp");
        for (i, text) in playbooks.iter().enumerate() {
            std::fs::write(dir.path().join(format!("p{i}.yaml")), text).expect("write");
        }
        let playbooks = crate::playbook::load(&[dir.path().to_path_buf()]).expect("playbooks");
        let defaults = crate::config::RunnerConfig::default();
        RoundConfig {
            run_id: "test".into(),
            playbooks,
            mode,
            now: chrono::Utc::now(),
            deadline: defaults.job.deadline.0,
            flush_timeout: defaults.job.flush_timeout.0,
            schedules: crate::job::schedule::Schedules::new(
                defaults.job.starting_deadline.chrono(),
            ),
            shard: crate::shard::Shard::WHOLE,
            source: crate::round::Source::Snapshot(Vec::new()),
            page_size: 500,
            snapshot_limits: crate::inventory::snapshot::Limits {
                max_object_bytes: 1 << 20,
                max_token_bytes: 1 << 20,
            },
            namespace: "rounds".into(),
            protected_namespaces: defaults.protected_namespaces,
            guards: defaults.guards,
            ledger_name: "rounds-ledger".into(),
            lease_name: "rounds".into(),
            ledger_file: None,
            prometheus: None,
            lock: None,
        }
    }

    fn described(n: &Needed) -> Vec<String> {
        n.0.iter()
            .map(|(p, u)| format!("{} {:?}", p.describe(), u.need))
            .collect()
    }

    const EVICT: &str = "apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata: {name: evict}
spec:
  detect: {crashLoopBackOff: {}}
  remediate: [{evictPod: {}}]
  notify: {evidence: {events: false, logTailLines: 0}}
";

    const NODES: &str = "apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata: {name: nodes}
spec:
  detect: {nodeNotReady: {}}
  remediate: [{notifyOnly: {}}]
";

    #[test]
    fn an_eviction_playbook_needs_its_reads_its_writes_and_rounds_own_state() {
        let n = needed(&config(&[EVICT], Mode::Apply), Mode::Apply);
        assert_eq!(
            described(&n),
            [
                "get namespaces Required",
                "get pods in every namespace Required",
                "list pods in every namespace Required",
                "create pods/eviction in every namespace Required",
                "get replicationcontrollers in every namespace Required",
                "get daemonsets.apps in every namespace Required",
                "get deployments.apps in every namespace Required",
                "get replicasets.apps in every namespace Required",
                "get statefulsets.apps in every namespace Required",
                "get cronjobs.batch in every namespace Required",
                "get jobs.batch in every namespace Required",
                "create events.events.k8s.io in every namespace Required",
                "get configmaps in namespace rounds Required",
                "create configmaps in namespace rounds Required",
                "update configmaps in namespace rounds Required",
                "delete configmaps in namespace rounds Cleanup",
                "get leases.coordination.k8s.io in namespace rounds Required",
                "create leases.coordination.k8s.io in namespace rounds Required",
                "update leases.coordination.k8s.io in namespace rounds Required",
            ]
        );
        let eviction =
            n.0.keys()
                .find(|p| p.subresource == Some(Subresource::Eviction))
                .expect("eviction");
        assert_eq!(
            serde_json::to_value(eviction.rule()).expect("json"),
            serde_json::json!({"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]})
        );
        assert_eq!(
            serde_json::to_value(eviction.review()).expect("json"),
            serde_json::json!({
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "metadata": {},
                "spec": {"resourceAttributes": {"verb": "create", "group": "", "resource": "pods", "subresource": "eviction"}},
            })
        );
    }

    #[test]
    fn dry_runs_of_writes_are_optional_and_a_plan_writes_nothing() {
        let dry = needed(&config(&[EVICT], Mode::DryRun), Mode::DryRun);
        let eviction = dry
            .0
            .iter()
            .find(|(p, _)| p.subresource == Some(Subresource::Eviction))
            .expect("eviction");
        assert_eq!(eviction.1.need, Need::DryRun);
        assert_eq!(eviction.1.describe(), "evictPod (playbook evict)");
        // Reading the target again after a conflict is part of the write.
        let get_pods = Permission::cluster(Verb::Get, &Resource::POD);
        assert_eq!(dry.0[&get_pods].need, Need::DryRun);
        assert_eq!(
            dry.0[&get_pods].describe(),
            "re-reading the target of evictPod (playbook evict)"
        );
        // Needed for reading too, a permission is required whatever else needs it.
        let mut both = dry.clone();
        both.add(get_pods.clone(), Need::Required, "log tails", Some("other"));
        assert_eq!(both.0[&get_pods].need, Need::Required);
        assert_eq!(
            both.0[&get_pods].describe(),
            "re-reading the target of evictPod (playbook evict), log tails (playbook other)"
        );
        let plan = needed(&config(&[EVICT], Mode::Plan), Mode::Plan);
        assert!(
            plan.0
                .keys()
                .all(|p| p.verb != Verb::Create || p.place != Place::Cluster),
            "{:?}",
            described(&plan)
        );
    }

    #[test]
    fn node_playbooks_need_no_namespaces_owners_or_logs() {
        let n = needed(&config(&[NODES], Mode::DryRun), Mode::DryRun);
        let cluster: Vec<String> = described(&n)
            .into_iter()
            .filter(|d| !d.contains("in namespace rounds"))
            .collect();
        assert_eq!(
            cluster,
            [
                "list events in every namespace Required",
                "list nodes Required"
            ]
        );
        let get = |p: &Permission| n.0[p].describe();
        assert_eq!(
            get(&Permission::in_namespace(
                Verb::Get,
                &Resource::CONFIG_MAP,
                "rounds"
            )),
            "the ledger (ConfigMap rounds-ledger), the pause switch (ConfigMap rounds-control)"
        );
        assert_eq!(
            get(&Permission::cluster(Verb::List, &Resource::CORE_EVENT)),
            "Events attached to findings (playbook nodes)"
        );
    }
}
