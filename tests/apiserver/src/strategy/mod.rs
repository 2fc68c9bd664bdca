//! Per-kind write rules, as kube-apiserver's registry strategies hold them: what a create
//! fills in, what validation refuses, what an update may change and how `generation` moves,
//! whether a PUT may create or must carry a resourceVersion, and how a delete proceeds.
//!
//! The generic write path (`crate::registry`) calls these hooks; adding a kind is one file
//! here and one line in [`for_resource`].

pub mod configmap;
pub mod deployment;
pub mod event;
pub mod generic;
pub mod job;
pub mod lease;
pub mod namespace;
pub mod node;
pub mod pdb;
pub mod pod;
pub mod pvc;
pub mod workload;

use serde_json::{Value, json};

use crate::field::ErrorList;
use crate::resources::ResourceInfo;
use crate::store::{Store, metadata_mut};
use crate::validation::NameRule;

/// What a strategy sees besides the object: the resource of the request (for Events, which
/// API was used) and the store (for rules that read other objects).
pub struct Context<'a> {
    /// The resource of the request.
    pub info: &'a ResourceInfo,
    /// The objects as they are before this write.
    pub store: &'a Store,
}

/// How a delete proceeds for one object (`rest.BeforeDelete` and the kind's own Delete).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Removed at once.
    Immediate,
    /// `deletionTimestamp` and `deletionGracePeriodSeconds` are set to this many seconds from
    /// now; 0 removes the object at once, after marking it.
    Graceful(i64),
    /// Marked as terminating until a controller finalizes it (namespaces).
    Finalize,
}

/// One kind's rules. Every method has the behaviour of kube-apiserver's default strategy.
pub trait Strategy: Sync {
    /// Whether `metadata.generation` is kept: 1 on create, moved by [`Self::prepare_for_update`].
    fn tracks_generation(&self) -> bool {
        false
    }

    /// `AllowCreateOnUpdate`: a PUT of a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// `AllowUnconditionalUpdate`: a PUT without `metadata.resourceVersion` is accepted.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// `ReturnDeletedObject`: a DELETE answers the object instead of a Success Status.
    fn returns_deleted_object(&self) -> bool {
        false
    }

    /// How `metadata.name` is validated.
    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }

    /// Whether the generic `ValidateObjectMeta` runs before [`Self::validate`] (core/v1
    /// Events skip it).
    fn validates_object_meta(&self) -> bool {
        true
    }

    /// `PrepareForCreate`: reset what clients may not set, fill what the server generates.
    fn prepare_for_create(&self, _ctx: &Context, _object: &mut Value) {}

    /// `Validate` on create (the object meta is validated before, see
    /// [`Self::validates_object_meta`]).
    fn validate(&self, _ctx: &Context, _object: &Value) -> ErrorList {
        Vec::new()
    }

    /// `PrepareForUpdate`: by default the stored status is kept (when the kind has a status
    /// subresource) and `generation` moves when the spec changed (when it is tracked).
    fn prepare_for_update(&self, ctx: &Context, new: &mut Value, old: &Value) {
        if ctx.info.has_status() {
            keep_status(new, old);
        }
        if self.tracks_generation() && new.get("spec") != old.get("spec") {
            bump_generation(new, old);
        }
    }

    /// `ValidateUpdate`: by default the create rules on the new object.
    fn validate_update(&self, ctx: &Context, new: &Value, _old: &Value) -> ErrorList {
        self.validate(ctx, new)
    }

    /// The status strategy's `PrepareForUpdate`: only `status` comes from the request.
    fn prepare_for_status_update(&self, new: &mut Value, old: &Value) {
        let status = new.get("status").cloned();
        *new = old.clone();
        if let Some(map) = new.as_object_mut() {
            match status {
                Some(status) => map.insert("status".into(), status),
                None => map.remove("status"),
            };
        }
    }

    /// `CheckGracefulDelete` (and custom deletes): how a delete with this requested grace
    /// period proceeds.
    fn deletion(&self, _object: &Value, _grace_period: Option<i64>) -> Deletion {
        Deletion::Immediate
    }
}

/// Kinds without rules of their own here (Secrets, Services, RBAC objects, ...).
pub struct Plain;

impl Strategy for Plain {}

/// Kinds whose DELETE answers the deleted object (ServiceAccounts, StorageClasses).
pub struct ReturnsObject;

impl Strategy for ReturnsObject {
    fn returns_deleted_object(&self) -> bool {
        true
    }
}

/// Services: DNS-1035 names, the deleted object answered.
pub struct ServiceStrategy;

impl Strategy for ServiceStrategy {
    fn returns_deleted_object(&self) -> bool {
        true
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Dns1035
    }
}

/// The strategy for a resource: the one registration list.
pub fn for_resource(info: &ResourceInfo) -> &'static dyn Strategy {
    let key = info.storage_key();
    match (key.group.as_str(), key.resource.as_str()) {
        ("", "pods") => &pod::PodStrategy,
        ("", "persistentvolumeclaims") => &pvc::PvcStrategy,
        ("", "configmaps") => &configmap::ConfigMapStrategy,
        ("", "events") => &event::EventStrategy,
        ("", "namespaces") => &namespace::NamespaceStrategy,
        ("", "nodes") => &node::NodeStrategy,
        ("", "services") => &ServiceStrategy,
        ("", "serviceaccounts") | ("storage.k8s.io", "storageclasses") => &ReturnsObject,
        ("coordination.k8s.io", "leases") => &lease::LeaseStrategy,
        ("apps", "deployments") => &deployment::DeploymentStrategy,
        ("apps", "replicasets" | "statefulsets" | "daemonsets") => &workload::WorkloadStrategy,
        ("batch", "jobs") => &job::JobStrategy,
        ("batch", "cronjobs") => &job::CronJobStrategy,
        ("policy", "poddisruptionbudgets") => &pdb::PdbStrategy,
        _ if !info.builtin => &generic::CustomResourceStrategy,
        _ => &Plain,
    }
}

/// Copies the stored `status` into the new object (or removes it when there was none).
pub fn keep_status(new: &mut Value, old: &Value) {
    if let Some(map) = new.as_object_mut() {
        match old.get("status") {
            Some(status) => map.insert("status".into(), status.clone()),
            None => map.remove("status"),
        };
    }
}

/// Sets the new object's generation to the old one's plus one.
pub fn bump_generation(new: &mut Value, old: &Value) {
    let generation = old
        .get("metadata")
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    metadata_mut(new).insert("generation".into(), json!(generation + 1));
}

/// Sets `generation` to 1 and replaces `status` (what most `PrepareForCreate`s do).
pub fn start_generation(object: &mut Value, status: Option<Value>) {
    metadata_mut(object).insert("generation".into(), json!(1));
    if let Some(map) = object.as_object_mut() {
        match status {
            Some(status) => map.insert("status".into(), status),
            None => map.remove("status"),
        };
    }
}
