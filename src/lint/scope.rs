//! Warnings about scopes: one that excludes every namespace it includes (the playbook can never
//! find anything), one whose namespaces are all protected (its actions can never run there),
//! and namespace filters on a detector that finds Nodes (they have no namespace, so the filter
//! does nothing).
//!
//! Globs are compared only where the answer is certain: a literal name against a glob, equal
//! patterns, and `*`. A warning is never a guess.

use super::{Input, covered, path, writes};
use crate::detect::TargetKind;
use crate::playbook::Diagnostic;
use crate::playbook::spec::Scope;
use crate::playbook::values::Glob;

/// Whether every namespace the scope includes is certainly matched by one of `by`.
fn all_covered(scope: &Scope, by: &[Glob]) -> bool {
    if scope.namespaces.is_empty() {
        by.iter().any(|g| g.to_string() == "*")
    } else {
        scope.namespaces.iter().all(|g| covered(g, by))
    }
}

fn names(globs: &[Glob]) -> String {
    globs
        .iter()
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn check(input: &Input, out: &mut Vec<Diagnostic>) {
    for p in input.playbooks {
        let spec = &p.playbook.spec;
        let scope = &spec.scope;
        let detector = spec.detect.name();
        if spec.detect.imp().target_kind() == TargetKind::Node {
            if !scope.namespaces.is_empty() || !scope.exclude_namespaces.is_empty() {
                let field = if scope.namespaces.is_empty() {
                    "excludeNamespaces"
                } else {
                    "namespaces"
                };
                out.push(
                    p.located
                        .diagnostic(
                            &path(&["spec", "scope", field]),
                            format!(
                                "{detector} finds Nodes, which are in no namespace: namespaces and excludeNamespaces have no effect on it (use selector on node labels)"
                            ),
                        )
                        .warning(),
                );
            }
            continue;
        }
        if all_covered(scope, &scope.exclude_namespaces) {
            out.push(
                p.located
                    .diagnostic(
                        &path(&["spec", "scope", "excludeNamespaces"]),
                        format!(
                            "excludeNamespaces ({}) leaves out every namespace the scope includes, so the playbook can never find anything",
                            names(&scope.exclude_namespaces)
                        ),
                    )
                    .warning(),
            );
            continue;
        }
        let Some(action) = spec.remediate.iter().find(|a| writes(a)) else {
            continue;
        };
        for (config, runner) in input.runner_configs() {
            let protected = &runner.protected_namespaces;
            if scope.namespaces.is_empty() || !all_covered(scope, protected) {
                continue;
            }
            let whose = match config {
                Some(c) => format!("protected by the runner config {}", c.file),
                None => "protected by default".to_owned(),
            };
            out.push(
                p.located
                    .diagnostic(
                        &path(&["spec", "scope", "namespaces"]),
                        format!(
                            "every namespace in scope is {whose} ({}): rounds never changes objects there, so {} can never act",
                            names(protected),
                            action.name()
                        ),
                    )
                    .warning(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{messages, playbook};

    fn scoped(scope: &str, detect: &str) -> String {
        playbook(&format!(
            "  scope:\n{scope}  detect: {{{detect}: {{}}}}\n  remediate:\n  - deletePod: {{ignoreDisruptionBudgets: true}}\n  guards: {{maxActionsPerRound: 1}}\n"
        ))
    }

    #[test]
    fn exclusions_that_leave_nothing() {
        for scope in [
            "    namespaces: [shop, shop-eu]\n    excludeNamespaces: [\"shop*\"]\n",
            "    namespaces: [\"shop-*\"]\n    excludeNamespaces: [\"shop-*\"]\n",
            "    excludeNamespaces: [\"*\"]\n",
        ] {
            let got = messages(&[("a.yaml", &scoped(scope, "crashLoopBackOff"))]);
            assert_eq!(got.len(), 1, "{scope}: {got:?}");
            assert!(
                got[0].starts_with("warning spec.scope.excludeNamespaces: excludeNamespaces ("),
                "{got:?}"
            );
        }
    }

    #[test]
    fn overlapping_globs_are_not_guessed() {
        // `shop-*` and `shop-e*` overlap, but shop-us is still in scope.
        let scope = "    namespaces: [\"shop-*\"]\n    excludeNamespaces: [\"shop-e*\", \"?\"]\n";
        assert!(messages(&[("a.yaml", &scoped(scope, "crashLoopBackOff"))]).is_empty());
    }

    #[test]
    fn protected_namespaces_by_default_and_by_config() {
        let pb = scoped("    namespaces: [kube-system]\n", "crashLoopBackOff");
        assert_eq!(
            messages(&[("a.yaml", &pb)]),
            [
                "warning spec.scope.namespaces: every namespace in scope is protected by default (kube-system, kube-public, kube-node-lease): rounds never changes objects there, so deletePod can never act"
            ]
        );
        let pb = scoped(
            "    namespaces: [payments, \"ledger-*\"]\n",
            "crashLoopBackOff",
        );
        let config = "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nprotectedNamespaces: [payments, \"ledger-*\"]\n";
        let got = messages(&[("a.yaml", &pb), ("config.yaml", config)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("protected by the runner config"), "{got:?}");
        assert!(got[0].ends_with("(payments, ledger-*): rounds never changes objects there, so deletePod can never act"), "{got:?}");
    }

    #[test]
    fn namespace_filters_on_node_detectors() {
        let pb = playbook(
            "  scope:\n    namespaces: [shop]\n  detect: {nodeNotReady: {}}\n  remediate:\n  - notifyOnly: {}\n",
        );
        assert_eq!(
            messages(&[("a.yaml", &pb)]),
            [
                "warning spec.scope.namespaces: nodeNotReady finds Nodes, which are in no namespace: namespaces and excludeNamespaces have no effect on it (use selector on node labels)"
            ]
        );
    }
}
