//! `protectedNamespace`: never change anything in kube-system, kube-public, kube-node-lease,
//! rounds' own namespace or a namespace the runner config protects.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::round::context::RoundContext;

pub struct ProtectedNamespace;

impl ProtectedNamespace {
    pub const EXPLAIN: &str = "Skips actions whose target, or the finding's object, is in a protected namespace: rounds' own (runner config namespace) always, and every namespace matching a glob of the runner config's protectedNamespaces (default kube-system, kube-public, kube-node-lease; a list given replaces the default). Nodes have no namespace and are never protected by it.";

    pub const SETTINGS: &[Setting] = &[
        Setting::config("protectedNamespaces"),
        Setting::config("namespace"),
    ];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
namespace: rounds
# Replaces the default list: keep the kube-* namespaces in it.
protectedNamespaces:
  - kube-system
  - kube-public
  - kube-node-lease
  - "*-system"
  - payments
"#;
}

impl GuardCheck for ProtectedNamespace {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let namespaces = [
            input.step.target.namespace(),
            input.finding.target.namespace.as_deref(),
        ];
        for ns in namespaces.into_iter().flatten() {
            if ns == ctx.config.namespace {
                return Check::Block(format!("namespace {ns} is rounds' own"));
            }
            if let Some(g) = ctx
                .config
                .protected_namespaces
                .iter()
                .find(|g| g.matches(ns))
            {
                return Check::Block(format!(
                    "namespace {ns} is protected (protectedNamespaces: {g})"
                ));
            }
        }
        Check::Pass
    }
}
