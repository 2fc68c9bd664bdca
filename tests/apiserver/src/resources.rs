//! The resource registry: which group/version/resource the server serves, with the facts
//! discovery publishes (kind, scope, verbs, short names, subresources).

use std::collections::BTreeMap;

/// The verbs of an ordinary read-write resource.
const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One subresource, as listed in discovery (`pods/eviction`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubresourceInfo {
    /// The name after the slash (`eviction`, `status`, `log`).
    pub name: String,
    /// The kind in the request or response body (`Eviction`, `Scale`).
    pub kind: String,
    /// Group of that kind (`policy`, `autoscaling`, `""`).
    pub group: String,
    /// Version of that kind.
    pub version: String,
    /// Verbs allowed on the subresource.
    pub verbs: Vec<String>,
}

/// A resource served by the test API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// The plural resource name used in paths (`pods`).
    pub resource: String,
    /// The singular name (`pod`).
    pub singular: String,
    /// The kind of one object (`Pod`).
    pub kind: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Verbs on the main resource.
    pub verbs: Vec<String>,
    /// Short names (`po`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Subresources.
    pub subresources: Vec<SubresourceInfo>,
    /// Built into the server (typed, with a strategy) rather than inferred from a seeded object
    /// of an unknown kind (served like a custom resource).
    pub builtin: bool,
}

impl ResourceInfo {
    /// `apiVersion` of objects of this resource (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The resource qualified by its group, as error messages print it (`deployments.apps`).
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// The kind qualified by its group (`Deployment.apps`).
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The subresource with this name.
    pub fn subresource(&self, name: &str) -> Option<&SubresourceInfo> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether the resource has a `status` subresource (then PUT on the main resource keeps
    /// the stored status, and PUT on `status` keeps everything else).
    pub fn has_status(&self) -> bool {
        self.subresource("status").is_some()
    }

    /// The key of this resource (`apps/deployments`, `/pods` for core).
    pub fn key(&self) -> ResourceKey {
        ResourceKey::new(&self.group, &self.resource)
    }

    /// Where its objects are stored: events.k8s.io/v1 Events live in the core Event store (one
    /// store for both APIs, as in kube-apiserver), every other resource in its own.
    pub fn storage_key(&self) -> ResourceKey {
        if self.group == "events.k8s.io" && self.resource == "events" {
            ResourceKey::new("", "events")
        } else {
            self.key()
        }
    }

    /// A resource inferred from an object of an unknown kind, served generically.
    pub fn generic(api_version: &str, kind: &str, namespaced: bool) -> Self {
        let (group, version) = split_api_version(api_version);
        let singular = kind.to_lowercase();
        Self {
            group: group.to_string(),
            version: version.to_string(),
            resource: pluralize(&singular),
            singular,
            kind: kind.to_string(),
            namespaced,
            verbs: CRUD.iter().map(|v| v.to_string()).collect(),
            short_names: Vec::new(),
            categories: Vec::new(),
            subresources: Vec::new(),
            builtin: false,
        }
    }
}

/// The store key of a resource: group and plural resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// API group; empty for core.
    pub group: String,
    /// Plural resource.
    pub resource: String,
}

impl ResourceKey {
    /// A key from group and plural resource.
    pub fn new(group: &str, resource: &str) -> Self {
        Self {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (`""`, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// English plural of a lower-case kind, as Kubernetes guesses it for CRDs without a plural.
fn pluralize(singular: &str) -> String {
    if singular.ends_with('s') || singular.ends_with('x') || singular.ends_with("ch") {
        format!("{singular}es")
    } else if let Some(stem) = singular.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{singular}s")
    }
}

/// The set of resources the server serves, built-in and inferred from seeded objects.
#[derive(Debug, Clone)]
pub struct Registry {
    resources: Vec<ResourceInfo>,
    by_path: BTreeMap<(String, String, String), usize>,
    by_kind: BTreeMap<(String, String), usize>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

struct Spec {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    subresources: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    )],
    verbs: &'static [&'static str],
}

const STATUS: (&str, &str, &str, &[&str]) = ("status", "", "", &["get", "patch", "update"]);
const SCALE: (&str, &str, &str, &[&str]) = (
    "scale",
    "Scale",
    "autoscaling/v1",
    &["get", "patch", "update"],
);

#[rustfmt::skip]
const BUILTIN: &[Spec] = &[
    Spec { group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, short: &["po"], subresources: &[
        STATUS,
        ("eviction", "Eviction", "policy/v1", &["create"]),
        ("log", "Pod", "v1", &["get"]),
        ("binding", "Binding", "v1", &["create"]),
    ], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false, short: &["no"], subresources: &[
        STATUS,
        ("proxy", "NodeProxyOptions", "v1", &["create", "delete", "get", "patch", "update"]),
    ], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false, short: &["ns"], subresources: &[STATUS], verbs: &["create", "delete", "get", "list", "patch", "update", "watch"] },
    Spec { group: "", version: "v1", resource: "events", kind: "Event", namespaced: true, short: &["ev"], subresources: &[], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, short: &["cm"], subresources: &[], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, short: &[], subresources: &[], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "services", kind: "Service", namespaced: true, short: &["svc"], subresources: &[STATUS], verbs: &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] },
    Spec { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, short: &["sa"], subresources: &[], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true, short: &["pvc"], subresources: &[STATUS], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, short: &["pv"], subresources: &[STATUS], verbs: CRUD },
    Spec { group: "", version: "v1", resource: "endpoints", kind: "Endpoints", namespaced: true, short: &["ep"], subresources: &[], verbs: CRUD },
    Spec { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, short: &["deploy"], subresources: &[STATUS, SCALE], verbs: CRUD },
    Spec { group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", namespaced: true, short: &["rs"], subresources: &[STATUS, SCALE], verbs: CRUD },
    Spec { group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true, short: &["sts"], subresources: &[STATUS, SCALE], verbs: CRUD },
    Spec { group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true, short: &["ds"], subresources: &[STATUS], verbs: CRUD },
    Spec { group: "apps", version: "v1", resource: "controllerrevisions", kind: "ControllerRevision", namespaced: true, short: &[], subresources: &[], verbs: CRUD },
    Spec { group: "batch", version: "v1", resource: "jobs", kind: "Job", namespaced: true, short: &[], subresources: &[STATUS], verbs: CRUD },
    Spec { group: "batch", version: "v1", resource: "cronjobs", kind: "CronJob", namespaced: true, short: &["cj"], subresources: &[STATUS], verbs: CRUD },
    Spec { group: "policy", version: "v1", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, short: &["pdb"], subresources: &[STATUS], verbs: CRUD },
    Spec { group: "storage.k8s.io", version: "v1", resource: "storageclasses", kind: "StorageClass", namespaced: false, short: &["sc"], subresources: &[], verbs: CRUD },
    Spec { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true, short: &[], subresources: &[], verbs: CRUD },
    Spec { group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", namespaced: true, short: &["ev"], subresources: &[], verbs: CRUD },
    Spec { group: "authorization.k8s.io", version: "v1", resource: "selfsubjectaccessreviews", kind: "SelfSubjectAccessReview", namespaced: false, short: &[], subresources: &[], verbs: &["create"] },
    Spec { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true, short: &[], subresources: &[], verbs: CRUD },
    Spec { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false, short: &[], subresources: &[], verbs: CRUD },
    Spec { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true, short: &[], subresources: &[], verbs: CRUD },
    Spec { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false, short: &[], subresources: &[], verbs: CRUD },
];

impl Registry {
    /// The built-in resources.
    pub fn builtin() -> Self {
        let mut registry = Self {
            resources: Vec::new(),
            by_path: BTreeMap::new(),
            by_kind: BTreeMap::new(),
        };
        for spec in BUILTIN {
            registry.add(from_spec(spec));
        }
        registry
    }

    /// Adds a resource unless one with the same group, version and plural exists; returns it.
    pub fn add(&mut self, info: ResourceInfo) -> &ResourceInfo {
        let path_key = (
            info.group.clone(),
            info.version.clone(),
            info.resource.clone(),
        );
        let index = match self.by_path.get(&path_key) {
            Some(index) => *index,
            None => {
                let index = self.resources.len();
                self.by_kind
                    .entry((info.api_version(), info.kind.clone()))
                    .or_insert(index);
                self.by_path.insert(path_key, index);
                self.resources.push(info);
                index
            }
        };
        &self.resources[index]
    }

    /// The resource served at `/apis/{group}/{version}/{resource}`.
    pub fn lookup(&self, group: &str, version: &str, resource: &str) -> Option<&ResourceInfo> {
        self.by_path
            .get(&(group.to_string(), version.to_string(), resource.to_string()))
            .map(|index| &self.resources[*index])
    }

    /// The resource of objects with this `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceInfo> {
        self.by_kind
            .get(&(api_version.to_string(), kind.to_string()))
            .map(|index| &self.resources[*index])
    }

    /// Every resource, built-in first, in registration order.
    pub fn all(&self) -> &[ResourceInfo] {
        &self.resources
    }

    /// The groups (empty for core) with their versions, in registration order.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for info in &self.resources {
            match groups.iter_mut().find(|(group, _)| *group == info.group) {
                Some((_, versions)) => {
                    if !versions.contains(&info.version) {
                        versions.push(info.version.clone());
                    }
                }
                None => groups.push((info.group.clone(), vec![info.version.clone()])),
            }
        }
        groups
    }
}

fn from_spec(spec: &Spec) -> ResourceInfo {
    let (group, version) = (spec.group.to_string(), spec.version.to_string());
    let subresources = spec
        .subresources
        .iter()
        .map(|(name, kind, api_version, verbs)| {
            let (sub_group, sub_version) = if api_version.is_empty() {
                (group.clone(), version.clone())
            } else {
                let (g, v) = split_api_version(api_version);
                (g.to_string(), v.to_string())
            };
            SubresourceInfo {
                name: name.to_string(),
                kind: if kind.is_empty() {
                    spec.kind.to_string()
                } else {
                    kind.to_string()
                },
                group: sub_group,
                version: sub_version,
                verbs: verbs.iter().map(|v| v.to_string()).collect(),
            }
        })
        .collect();
    let categories = if matches!(
        spec.resource,
        "pods"
            | "services"
            | "deployments"
            | "replicasets"
            | "statefulsets"
            | "daemonsets"
            | "jobs"
            | "cronjobs"
    ) {
        vec!["all".to_string()]
    } else {
        Vec::new()
    };
    ResourceInfo {
        group,
        version,
        resource: spec.resource.to_string(),
        singular: spec.kind.to_lowercase(),
        kind: spec.kind.to_string(),
        namespaced: spec.namespaced,
        verbs: spec.verbs.iter().map(|v| v.to_string()).collect(),
        short_names: spec.short.iter().map(|s| s.to_string()).collect(),
        categories,
        subresources,
        builtin: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_builtin_resources_by_path_and_kind() {
        let registry = Registry::builtin();
        let deploy = registry
            .lookup("apps", "v1", "deployments")
            .expect("deployments");
        assert_eq!(deploy.kind, "Deployment");
        assert_eq!(deploy.qualified_resource(), "deployments.apps");
        assert_eq!(
            deploy.subresource("scale").map(|s| s.kind.as_str()),
            Some("Scale")
        );
        let pod = registry.by_kind("v1", "Pod").expect("pods");
        assert_eq!(pod.resource, "pods");
        assert!(pod.has_status());
        let event = registry
            .by_kind("events.k8s.io/v1", "Event")
            .expect("events");
        assert_eq!(event.group, "events.k8s.io");
    }

    #[test]
    fn infers_plural_of_unknown_kinds() {
        assert_eq!(
            ResourceInfo::generic("x.io/v1", "Policy", true).resource,
            "policies"
        );
        assert_eq!(
            ResourceInfo::generic("x.io/v1", "Gateway", true).resource,
            "gateways"
        );
        assert_eq!(
            ResourceInfo::generic("x.io/v1", "Ingress", true).resource,
            "ingresses"
        );
        assert_eq!(ResourceInfo::generic("v1", "Widget", false).group, "");
    }
}
