//! `protectedNamespace`: never change anything in kube-system, kube-public, kube-node-lease,
//! rounds' own namespace or a namespace the runner config protects.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::round::context::RoundContext;

pub struct ProtectedNamespace;

impl ProtectedNamespace {
    pub const EXPLAIN: &str = "Skips actions whose target, or the finding's object, is in a protected namespace: kube-system, kube-public, kube-node-lease and rounds' own by default (runner config protectedNamespaces, globs).";
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
