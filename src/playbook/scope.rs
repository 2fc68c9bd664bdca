//! Whether a finding's object is inside a playbook's scope.

use super::spec::Scope;
use std::collections::BTreeMap;

pub enum NamespaceLabels<'a> {
    Known(&'a BTreeMap<String, String>),
    /// The namespace object is not in the inventory.
    Unknown,
}

impl Scope {
    /// Namespace globs: cluster-scoped objects (nodes) are outside any namespace filter.
    pub fn admits_namespace(&self, namespace: Option<&str>) -> bool {
        let Some(ns) = namespace else { return true };
        let included = self.namespaces.is_empty() || self.namespaces.iter().any(|g| g.matches(ns));
        included && !self.exclude_namespaces.iter().any(|g| g.matches(ns))
    }

    pub fn admits_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_none_or(|s| s.matches(labels))
    }

    /// With a namespaceSelector, an object whose namespace is unknown is left out: rounds does
    /// not act on what it cannot check.
    pub fn admits_namespace_labels(&self, labels: NamespaceLabels) -> bool {
        match (&self.namespace_selector, labels) {
            (None, _) => true,
            (Some(s), NamespaceLabels::Known(l)) => s.matches(l),
            (Some(_), NamespaceLabels::Unknown) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(yaml: &str) -> Scope {
        serde_saphyr::from_str(yaml).expect("scope")
    }

    #[test]
    fn globs_and_exclusions() {
        let s = scope("namespaces: [\"shop-*\"]\nexcludeNamespaces: [shop-test]\n");
        assert!(s.admits_namespace(Some("shop-eu")));
        assert!(!s.admits_namespace(Some("shop-test")));
        assert!(!s.admits_namespace(Some("kube-system")));
        assert!(s.admits_namespace(None), "nodes are not in a namespace");
    }

    #[test]
    fn namespace_selector_needs_the_namespace() {
        let s = scope("namespaceSelector: team=shop\n");
        let labels: BTreeMap<String, String> = [("team".to_string(), "shop".to_string())].into();
        assert!(s.admits_namespace_labels(NamespaceLabels::Known(&labels)));
        assert!(!s.admits_namespace_labels(NamespaceLabels::Unknown));
    }
}
