//! Typed object references: what rounds acts on, reads, records Events about and keeps in its
//! ledger. Every API path is built here, from a reference whose name cannot be empty (an empty
//! name would make a collection URL, and a DELETE on a collection removes everything in it).

use crate::objects::WorkloadKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Whether objects of a resource live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// A resource as the API serves it: group, version, kind, plural and scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub scope: Scope,
}

macro_rules! resources {
    ($($name:ident = ($group:literal, $version:literal, $kind:literal, $plural:literal, $scope:ident)),* $(,)?) => {
        impl Resource {
            $(pub const $name: Resource = Resource {
                group: $group,
                version: $version,
                kind: $kind,
                plural: $plural,
                scope: Scope::$scope,
            };)*

            /// Every resource rounds reads or writes, in the versions it uses.
            pub const ALL: &'static [Resource] = &[$(Resource::$name),*];
        }
    };
}

resources! {
    POD = ("", "v1", "Pod", "pods", Namespaced),
    NODE = ("", "v1", "Node", "nodes", Cluster),
    NAMESPACE = ("", "v1", "Namespace", "namespaces", Cluster),
    PERSISTENT_VOLUME_CLAIM = ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", Namespaced),
    CONFIG_MAP = ("", "v1", "ConfigMap", "configmaps", Namespaced),
    CORE_EVENT = ("", "v1", "Event", "events", Namespaced),
    REPLICATION_CONTROLLER = ("", "v1", "ReplicationController", "replicationcontrollers", Namespaced),
    DEPLOYMENT = ("apps", "v1", "Deployment", "deployments", Namespaced),
    STATEFUL_SET = ("apps", "v1", "StatefulSet", "statefulsets", Namespaced),
    DAEMON_SET = ("apps", "v1", "DaemonSet", "daemonsets", Namespaced),
    REPLICA_SET = ("apps", "v1", "ReplicaSet", "replicasets", Namespaced),
    JOB = ("batch", "v1", "Job", "jobs", Namespaced),
    CRON_JOB = ("batch", "v1", "CronJob", "cronjobs", Namespaced),
    STORAGE_CLASS = ("storage.k8s.io", "v1", "StorageClass", "storageclasses", Cluster),
    POD_DISRUPTION_BUDGET = ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", Namespaced),
    LEASE = ("coordination.k8s.io", "v1", "Lease", "leases", Namespaced),
    EVENT = ("events.k8s.io", "v1", "Event", "events", Namespaced),
    SELF_SUBJECT_ACCESS_REVIEW = ("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", Cluster),
}

impl Resource {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `/api/v1` or `/apis/apps/v1`.
    pub fn prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection in a namespace (or at the cluster scope, or across all namespaces).
    pub fn collection_path(&self, namespace: Option<&str>) -> Result<String, RefError> {
        match namespace {
            Some(ns) => {
                check_name("namespace", ns)?;
                if self.scope == Scope::Cluster {
                    return Err(RefError::Scope {
                        kind: self.kind,
                        detail: "is cluster-scoped and has no namespace",
                    });
                }
                Ok(format!("{}/namespaces/{ns}/{}", self.prefix(), self.plural))
            }
            None => Ok(format!("{}/{}", self.prefix(), self.plural)),
        }
    }

    /// The resource of a kind rounds knows, by kind name (Events resolve to events.k8s.io/v1).
    pub fn of_kind(kind: &str) -> Option<&'static Resource> {
        if kind == "Event" {
            return Some(&Self::EVENT);
        }
        Self::ALL.iter().find(|r| r.kind == kind)
    }

    /// The resource of a workload kind, in the version rounds writes.
    pub fn of_workload(kind: WorkloadKind) -> &'static Resource {
        match kind {
            WorkloadKind::ReplicaSet => &Self::REPLICA_SET,
            WorkloadKind::ReplicationController => &Self::REPLICATION_CONTROLLER,
            WorkloadKind::Deployment => &Self::DEPLOYMENT,
            WorkloadKind::StatefulSet => &Self::STATEFUL_SET,
            WorkloadKind::DaemonSet => &Self::DAEMON_SET,
            WorkloadKind::Job => &Self::JOB,
            WorkloadKind::CronJob => &Self::CRON_JOB,
        }
    }

    /// The name RBAC rules use: `deployments`, or `pods/eviction` for a subresource.
    pub fn rbac_resource(&self, subresource: Option<&str>) -> String {
        match subresource {
            Some(s) => format!("{}/{s}", self.plural),
            None => self.plural.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} {name:?} is not a Kubernetes name: {detail}")]
    Invalid {
        what: &'static str,
        name: String,
        detail: &'static str,
    },
    #[error("{kind} {detail}")]
    Scope {
        kind: &'static str,
        detail: &'static str,
    },
}

/// Names end up in URL paths: refuse anything that could change the path (`/`, `..`, `%`,
/// `?`), besides emptiness.
fn check_name(what: &'static str, name: &str) -> Result<(), RefError> {
    let invalid = |detail| {
        Err(RefError::Invalid {
            what,
            name: name.to_owned(),
            detail,
        })
    };
    if name.is_empty() {
        return Err(RefError::Empty { what });
    }
    if name == "." || name == ".." {
        return invalid("it is a path segment");
    }
    if name.len() > 253 {
        return invalid("it is longer than 253 characters");
    }
    if name
        .chars()
        .any(|c| matches!(c, '/' | '%' | '?' | '#') || c.is_whitespace() || c.is_control())
    {
        return invalid("it contains a character that is not allowed in names");
    }
    Ok(())
}

/// One object, named exactly: resource, namespace (for namespaced resources), name, and its
/// uid where known. Equality and order ignore the uid: it names the same object.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    resource: &'static Resource,
    namespace: Option<String>,
    name: String,
    uid: Option<String>,
}

impl ObjectRef {
    /// A reference to a namespaced object.
    pub fn namespaced(
        resource: &'static Resource,
        namespace: &str,
        name: &str,
    ) -> Result<Self, RefError> {
        if resource.scope != Scope::Namespaced {
            return Err(RefError::Scope {
                kind: resource.kind,
                detail: "is cluster-scoped and has no namespace",
            });
        }
        check_name("namespace", namespace)?;
        check_name("name", name)?;
        Ok(Self {
            resource,
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
            uid: None,
        })
    }

    /// A reference to a cluster-scoped object.
    pub fn cluster(resource: &'static Resource, name: &str) -> Result<Self, RefError> {
        if resource.scope != Scope::Cluster {
            return Err(RefError::Scope {
                kind: resource.kind,
                detail: "is namespaced and needs a namespace",
            });
        }
        check_name("name", name)?;
        Ok(Self {
            resource,
            namespace: None,
            name: name.to_owned(),
            uid: None,
        })
    }

    /// A reference in whichever scope the resource has.
    pub fn new(
        resource: &'static Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Self, RefError> {
        match (resource.scope, namespace) {
            (Scope::Namespaced, Some(ns)) => Self::namespaced(resource, ns, name),
            (Scope::Namespaced, None) => Err(RefError::Empty { what: "namespace" }),
            (Scope::Cluster, _) => Self::cluster(resource, name),
        }
    }

    pub fn with_uid(mut self, uid: Option<&str>) -> Self {
        self.uid = uid.filter(|u| !u.is_empty()).map(str::to_owned);
        self
    }

    pub fn resource(&self) -> &'static Resource {
        self.resource
    }

    pub fn kind(&self) -> &'static str {
        self.resource.kind
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// `/apis/apps/v1/namespaces/shop/deployments/api`
    pub fn path(&self) -> String {
        let collection = self
            .resource
            .collection_path(self.namespace.as_deref())
            .unwrap_or_else(|_| unreachable!("checked when the reference was made"));
        format!("{collection}/{}", self.name)
    }

    /// `/api/v1/namespaces/shop/pods/web-1/eviction`
    pub fn subresource_path(&self, subresource: &str) -> String {
        format!("{}/{subresource}", self.path())
    }

    /// The collection the object is created in.
    pub fn collection_path(&self) -> String {
        self.resource
            .collection_path(self.namespace.as_deref())
            .unwrap_or_else(|_| unreachable!("checked when the reference was made"))
    }

    /// `Deployment shop/api`, as messages name objects.
    pub fn display(&self) -> String {
        self.to_string()
    }

    /// A stable text key for the ledger: `Deployment.apps/shop/api`.
    pub fn key(&self) -> String {
        let kind = if self.resource.group.is_empty() {
            self.resource.kind.to_owned()
        } else {
            format!("{}.{}", self.resource.kind, self.resource.group)
        };
        match &self.namespace {
            Some(ns) => format!("{kind}/{ns}/{}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }

    fn id(&self) -> (&str, &str, Option<&str>, &str) {
        (
            self.resource.group,
            self.resource.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.resource.kind, self.name),
            None => write!(f, "{} {}", self.resource.kind, self.name),
        }
    }
}

impl PartialEq for ObjectRef {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for ObjectRef {}

impl Hash for ObjectRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl PartialOrd for ObjectRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectRef {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id().cmp(&other.id())
    }
}

/// As reports and the ledger write it: `{apiVersion, kind, namespace?, name, uid?}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
}

impl Serialize for ObjectRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            api_version: Some(self.resource.api_version()),
            kind: self.resource.kind.to_owned(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ObjectRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        let resource = match &w.api_version {
            Some(v) => Resource::ALL
                .iter()
                .find(|r| r.kind == w.kind && r.api_version() == *v),
            None => Resource::of_kind(&w.kind),
        }
        .ok_or_else(|| {
            serde::de::Error::custom(format!("rounds does not know the kind {}", w.kind))
        })?;
        ObjectRef::new(resource, w.namespace.as_deref(), &w.name)
            .map(|r| r.with_uid(w.uid.as_deref()))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_path_from_the_reference() {
        let d = ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", "api").expect("ref");
        assert_eq!(d.path(), "/apis/apps/v1/namespaces/shop/deployments/api");
        assert_eq!(
            d.collection_path(),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        let p = ObjectRef::namespaced(&Resource::POD, "shop", "web-1").expect("ref");
        assert_eq!(
            p.subresource_path("eviction"),
            "/api/v1/namespaces/shop/pods/web-1/eviction"
        );
        let n = ObjectRef::cluster(&Resource::NODE, "node-a").expect("ref");
        assert_eq!(n.path(), "/api/v1/nodes/node-a");
        assert_eq!(n.display(), "Node node-a");
        assert_eq!(d.key(), "Deployment.apps/shop/api");
    }

    #[test]
    fn refuses_what_would_name_a_collection_or_another_path() {
        assert_eq!(
            ObjectRef::namespaced(&Resource::POD, "shop", ""),
            Err(RefError::Empty { what: "name" })
        );
        assert!(ObjectRef::namespaced(&Resource::POD, "", "web").is_err());
        assert!(ObjectRef::namespaced(&Resource::POD, "shop", "a/b").is_err());
        assert!(ObjectRef::namespaced(&Resource::POD, "shop", "..").is_err());
        assert!(ObjectRef::namespaced(&Resource::NODE, "shop", "n").is_err());
        assert!(ObjectRef::cluster(&Resource::POD, "web").is_err());
        assert!(ObjectRef::new(&Resource::POD, None, "web").is_err());
    }

    #[test]
    fn round_trips_through_json_and_ignores_the_uid_for_equality() {
        let d = ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", "api")
            .expect("ref")
            .with_uid(Some("u-1"));
        let json = serde_json::to_value(&d).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "api", "uid": "u-1"})
        );
        let back: ObjectRef = serde_json::from_value(json).expect("back");
        assert_eq!(back.uid(), Some("u-1"));
        assert_eq!(
            back,
            ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", "api").expect("ref")
        );
        let bad = serde_json::json!({"kind": "Pod", "namespace": "shop", "name": ""});
        assert!(serde_json::from_value::<ObjectRef>(bad).is_err());
    }
}
