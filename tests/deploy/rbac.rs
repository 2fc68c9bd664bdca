//! RBAC both ways: what the rendered Roles grant, and what a round's requests used, as the
//! same (verb, apiGroup, resource[/subresource], namespace) quadruples the API server's
//! authorizer checks.

use rounds_test_apiserver::RequestRecord;
use serde_json::Value;
use std::collections::BTreeSet;

/// One authorization decision: verb, API group, resource (with `/subresource`), and the
/// namespace (None: cluster-wide or across all namespaces).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{} {group}/{}", self.verb, self.resource)?;
        if let Some(ns) = &self.namespace {
            write!(f, " in {ns}")?;
        }
        Ok(())
    }
}

/// The permission a request needs, as kube-apiserver's request-info resolver derives it;
/// None for non-resource URLs (discovery, /version).
pub fn needed(r: &RequestRecord) -> Option<Permission> {
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    // namespaces/{ns}/{resource}/... (but `namespaces` and `namespaces/{name}` themselves are
    // the namespaces resource).
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some((*ns).to_owned()), tail),
        _ => (None, rest),
    };
    let (resource, name, sub) = match rest {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(*name), None),
        [resource, name, sub, ..] => (*resource, Some(*name), Some(*sub)),
        [] => return None,
    };
    let watch = r
        .query
        .split('&')
        .any(|p| p == "watch=true" || p == "watch=1");
    let verb = match (r.method.as_str(), name, watch) {
        ("GET", _, true) => "watch",
        ("GET", Some(_), _) | ("HEAD", Some(_), _) => "get",
        ("GET", None, _) => "list",
        ("POST", _, _) => "create",
        ("PUT", _, _) => "update",
        ("PATCH", _, _) => "patch",
        ("DELETE", Some(_), _) => "delete",
        ("DELETE", None, _) => "deletecollection",
        _ => return None,
    };
    let resource = match sub {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_owned(),
    };
    Some(Permission {
        verb: verb.to_owned(),
        group: group.to_owned(),
        resource,
        namespace,
    })
}

/// What the Roles and ClusterRoles of `objects`, bound to `subject` (a service account
/// `namespace:name`), grant. A Role grants in its namespace; a ClusterRole everywhere.
pub fn granted(objects: &[Value], sa_namespace: &str, sa_name: &str) -> BTreeSet<Permission> {
    let bound = |binding: &Value| {
        binding["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                s["kind"] == "ServiceAccount"
                    && s["name"] == sa_name
                    && s["namespace"] == sa_namespace
            })
    };
    let mut out = BTreeSet::new();
    for binding in objects.iter().filter(|o| {
        matches!(
            o["kind"].as_str(),
            Some("RoleBinding" | "ClusterRoleBinding")
        ) && bound(o)
    }) {
        let binding_ns = binding["metadata"]["namespace"].as_str().map(str::to_owned);
        let role_kind = binding["roleRef"]["kind"].as_str().unwrap_or("");
        let role_name = binding["roleRef"]["name"].as_str().unwrap_or("");
        let Some(role) = objects.iter().find(|o| {
            o["kind"] == role_kind
                && o["metadata"]["name"] == role_name
                && (role_kind == "ClusterRole"
                    || o["metadata"]["namespace"] == binding["metadata"]["namespace"])
        }) else {
            panic!(
                "{} binds the missing {role_kind} {role_name}",
                binding["metadata"]["name"]
            );
        };
        // A ClusterRoleBinding grants everywhere; a RoleBinding only in its namespace.
        let namespace = if binding["kind"] == "ClusterRoleBinding" {
            None
        } else {
            binding_ns
        };
        for rule in role["rules"].as_array().into_iter().flatten() {
            assert!(
                rule.get("resourceNames").is_none() && rule.get("nonResourceURLs").is_none(),
                "rules with resourceNames or nonResourceURLs are not modelled here: {rule}"
            );
            for g in rule["apiGroups"].as_array().into_iter().flatten() {
                for r in rule["resources"].as_array().into_iter().flatten() {
                    for v in rule["verbs"].as_array().into_iter().flatten() {
                        out.insert(Permission {
                            verb: v.as_str().unwrap_or("").to_owned(),
                            group: g.as_str().unwrap_or("").to_owned(),
                            resource: r.as_str().unwrap_or("").to_owned(),
                            namespace: namespace.clone(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Whether `grant` covers the request `need` (a cluster-wide grant covers every namespace).
pub fn covers(grant: &Permission, need: &Permission) -> bool {
    grant.verb == need.verb
        && grant.group == need.group
        && grant.resource == need.resource
        && (grant.namespace.is_none() || grant.namespace == need.namespace)
}
