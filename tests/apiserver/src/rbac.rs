//! RBAC authorization from the Role, ClusterRole, RoleBinding and ClusterRoleBinding objects in
//! the store, with the real API server's 403 messages.

use serde_json::{Value, json};

use crate::auth::Identity;
use crate::resources::ResourceInfo;
use crate::status::ApiError;
use crate::store::Store;

/// What a request does, in RBAC terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    /// `get`, `list`, `create`, `update`, `patch`, `delete`, `impersonate`, ...
    pub verb: String,
    /// API group; empty for core.
    pub group: String,
    /// Plural resource; empty for a non-resource request.
    pub resource: String,
    /// Subresource (`eviction`, `log`); empty if none.
    pub subresource: String,
    /// Namespace; empty at the cluster scope.
    pub namespace: String,
    /// Object name; empty for collections.
    pub name: String,
    /// The path of a non-resource request.
    pub path: String,
}

impl Attributes {
    /// Attributes of a resource request.
    pub fn resource(verb: &str, info: &ResourceInfo, namespace: &str, name: &str) -> Self {
        Self {
            verb: verb.to_string(),
            group: info.group.clone(),
            resource: info.resource.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// The same attributes on a subresource.
    pub fn with_subresource(mut self, subresource: &str) -> Self {
        self.subresource = subresource.to_string();
        self
    }

    fn is_resource_request(&self) -> bool {
        !self.resource.is_empty()
    }
}

/// Whether the identity may do what the attributes describe.
pub fn allowed(store: &Store, identity: &Identity, attributes: &Attributes) -> bool {
    if identity.is_admin() {
        return true;
    }
    let registry = store.registry();
    let cluster_roles = registry.lookup("rbac.authorization.k8s.io", "v1", "clusterroles");
    let roles = registry.lookup("rbac.authorization.k8s.io", "v1", "roles");
    let role_rules = |kind: &str, namespace: &str, name: &str| -> Vec<Value> {
        if kind == "ClusterRole" && name == "cluster-admin" {
            return vec![
                json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"],
                               "nonResourceURLs": ["*"]}),
            ];
        }
        let role = match kind {
            "ClusterRole" => cluster_roles.and_then(|info| store.get(info, "", name)),
            "Role" => roles.and_then(|info| store.get(info, namespace, name)),
            _ => None,
        };
        role.and_then(|r| r.get("rules")?.as_array().cloned())
            .unwrap_or_default()
    };
    let grants = |binding: &Value, binding_namespace: &str| -> bool {
        if !subjects_match(binding, binding_namespace, identity) {
            return false;
        }
        let role_ref = binding.get("roleRef");
        let kind = role_ref
            .and_then(|r| r.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = role_ref
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        role_rules(kind, binding_namespace, name)
            .iter()
            .any(|rule| rule_allows(rule, attributes))
    };
    if let Some(info) = registry.lookup("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
        && store.iter(info).any(|binding| grants(&binding, ""))
    {
        return true;
    }
    if attributes.namespace.is_empty() {
        return false;
    }
    registry
        .lookup("rbac.authorization.k8s.io", "v1", "rolebindings")
        .is_some_and(|info| {
            store
                .iter_namespace(info, &attributes.namespace)
                .any(|binding| grants(&binding, &attributes.namespace))
        })
}

fn subjects_match(binding: &Value, binding_namespace: &str, identity: &Identity) -> bool {
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|subject| {
            let field = |f: &str| subject.get(f).and_then(Value::as_str).unwrap_or_default();
            match field("kind") {
                "User" => field("name") == identity.user,
                "Group" => identity.groups.iter().any(|g| g == field("name")),
                "ServiceAccount" => {
                    let namespace = match field("namespace") {
                        "" => binding_namespace,
                        ns => ns,
                    };
                    identity.user == format!("system:serviceaccount:{namespace}:{}", field("name"))
                }
                _ => false,
            }
        })
}

fn strings<'a>(rule: &'a Value, field: &str) -> Vec<&'a str> {
    rule.get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn rule_allows(rule: &Value, attributes: &Attributes) -> bool {
    let verbs = strings(rule, "verbs");
    if !verbs.iter().any(|v| *v == "*" || *v == attributes.verb) {
        return false;
    }
    if !attributes.is_resource_request() {
        return strings(rule, "nonResourceURLs").iter().any(|url| {
            *url == "*"
                || *url == attributes.path
                || url
                    .strip_suffix('*')
                    .is_some_and(|prefix| attributes.path.starts_with(prefix))
        });
    }
    let groups = strings(rule, "apiGroups");
    if !groups.iter().any(|g| *g == "*" || *g == attributes.group) {
        return false;
    }
    let combined = if attributes.subresource.is_empty() {
        attributes.resource.clone()
    } else {
        format!("{}/{}", attributes.resource, attributes.subresource)
    };
    let resources = strings(rule, "resources");
    let resource_ok = resources.iter().any(|r| {
        *r == "*"
            || *r == combined
            || (!attributes.subresource.is_empty()
                && r.strip_prefix("*/") == Some(attributes.subresource.as_str()))
    });
    if !resource_ok {
        return false;
    }
    let names = strings(rule, "resourceNames");
    names.is_empty() || names.contains(&attributes.name.as_str())
}

/// The 403 the real API server answers, word for word.
pub fn forbidden(identity: &Identity, attributes: &Attributes) -> ApiError {
    let user = &identity.user;
    let verb = &attributes.verb;
    if !attributes.is_resource_request() {
        return ApiError::new(
            403,
            "Forbidden",
            format!(
                "forbidden: User \"{user}\" cannot {verb} path \"{}\"",
                attributes.path
            ),
        )
        .with_details(json!({}));
    }
    let mut resource = attributes.resource.clone();
    if !attributes.subresource.is_empty() {
        resource = format!("{resource}/{}", attributes.subresource);
    }
    let scope = if attributes.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", attributes.namespace)
    };
    let reason = format!(
        "User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
        attributes.group
    );
    let qualified = if attributes.group.is_empty() {
        attributes.resource.clone()
    } else {
        format!("{}.{}", attributes.resource, attributes.group)
    };
    let message = if attributes.name.is_empty() {
        format!("{qualified} is forbidden: {reason}")
    } else {
        format!("{qualified} \"{}\" is forbidden: {reason}", attributes.name)
    };
    let mut details = serde_json::Map::new();
    if !attributes.name.is_empty() {
        details.insert("name".into(), json!(attributes.name));
    }
    if !attributes.group.is_empty() {
        details.insert("group".into(), json!(attributes.group));
    }
    details.insert("kind".into(), json!(attributes.resource));
    ApiError::new(403, "Forbidden", message).with_details(Value::Object(details))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut store = Store::new();
        let objects = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "reader"},
                "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
                          {"apiGroups": ["policy"], "resources": ["*/eviction"], "verbs": ["create"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "reader"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
                "subjects": [{"kind": "ServiceAccount", "name": "rounds", "namespace": "rounds"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "ledger", "namespace": "rounds"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"],
                           "resourceNames": ["rounds-ledger"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "ledger", "namespace": "rounds"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ledger"},
                "subjects": [{"kind": "ServiceAccount", "name": "rounds"},
                             {"kind": "Group", "name": "ops"}]}),
        ];
        for object in objects {
            store.insert(object).expect("insert");
        }
        store
    }

    fn attrs(verb: &str, group: &str, resource: &str, ns: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Attributes::default()
        }
    }

    #[test]
    fn cluster_and_namespace_bindings() {
        let store = store();
        let sa = Identity::service_account("rounds", "rounds");
        assert!(allowed(&store, &sa, &attrs("list", "", "pods", "", "")));
        assert!(!allowed(
            &store,
            &sa,
            &attrs("delete", "", "pods", "shop", "p")
        ));
        assert!(allowed(
            &store,
            &sa,
            &attrs("update", "", "configmaps", "rounds", "rounds-ledger")
        ));
        assert!(!allowed(
            &store,
            &sa,
            &attrs("update", "", "configmaps", "rounds", "other")
        ));
        assert!(!allowed(
            &store,
            &sa,
            &attrs("update", "", "configmaps", "shop", "rounds-ledger")
        ));
        let ops = Identity::user("bob").with_group("ops");
        assert!(allowed(
            &store,
            &ops,
            &attrs("get", "", "configmaps", "rounds", "rounds-ledger")
        ));
        assert!(!allowed(
            &store,
            &Identity::user("eve"),
            &attrs("list", "", "pods", "", "")
        ));
        assert!(allowed(
            &store,
            &Identity::admin("root"),
            &attrs("delete", "", "nodes", "", "n")
        ));
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let store = store();
        let sa = Identity::service_account("rounds", "rounds");
        let log = attrs("get", "", "pods", "shop", "p").with_subresource("log");
        assert!(allowed(&store, &sa, &log));
        let status = attrs("get", "", "pods", "shop", "p").with_subresource("status");
        assert!(!allowed(&store, &sa, &status));
        let eviction = attrs("create", "policy", "pods", "shop", "p").with_subresource("eviction");
        assert!(allowed(&store, &sa, &eviction));
    }

    #[test]
    fn forbidden_messages_match_the_real_server() {
        let sa = Identity::service_account("rounds", "rounds");
        let error = forbidden(&sa, &attrs("list", "", "pods", "", ""));
        assert_eq!(
            error.message,
            "pods is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
        );
        assert_eq!(error.details, Some(json!({"kind": "pods"})));
        let error = forbidden(
            &sa,
            &attrs("patch", "apps", "deployments", "shop", "web").with_subresource("scale"),
        );
        assert_eq!(
            error.message,
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop\""
        );
        assert_eq!(
            error.details,
            Some(json!({"name": "web", "group": "apps", "kind": "deployments"}))
        );
    }
}
