//! `gitOps`: objects an Argo CD or Flux controller manages would be changed back by it; the
//! change belongs in Git. The action is skipped and its patch stays in the report (and the
//! notification) as the suggested change.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::objects::WorkloadKind;
use crate::round::context::RoundContext;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub const ARGO_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
pub const ARGO_INSTANCE: &str = "argocd.argoproj.io/instance";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
const FLUX_KUSTOMIZE: &str = "kustomize.toolkit.fluxcd.io/";
const FLUX_HELM: &str = "helm.toolkit.fluxcd.io/";

pub struct GitOps;

impl GitOps {
    pub const EXPLAIN: &str = "Skips actions on targets managed by Argo CD (annotation argocd.argoproj.io/tracking-id, label argocd.argoproj.io/instance, and app.kubernetes.io/instance when guards.argoCdInstanceLabel is on) or Flux (kustomize.toolkit.fluxcd.io/* and helm.toolkit.fluxcd.io/* labels): the controller would revert the change. The patch stays in the report as the change to make in Git.";

    pub const SETTINGS: &[Setting] = &[Setting::config("guards.argoCdInstanceLabel")];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: RunnerConfig
mode: apply
guards:
  # Argo CD here tracks apps by the label app.kubernetes.io/instance (its default).
  argoCdInstanceLabel: true
"#;
}

/// Whether [`manager`] reads this label.
pub fn reads_label(key: &str) -> bool {
    key == ARGO_INSTANCE
        || key == INSTANCE
        || key.starts_with(FLUX_KUSTOMIZE)
        || key.starts_with(FLUX_HELM)
}

/// Which GitOps controller manages an object with these labels and annotations.
pub fn manager(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    instance_label: bool,
) -> Option<String> {
    if let Some(id) = annotations.get(ARGO_TRACKING_ID) {
        return Some(format!("Argo CD ({ARGO_TRACKING_ID} {id})"));
    }
    if let Some(app) = labels.get(ARGO_INSTANCE) {
        return Some(format!("Argo CD ({ARGO_INSTANCE}={app})"));
    }
    if instance_label && let Some(app) = labels.get(INSTANCE) {
        return Some(format!("Argo CD ({INSTANCE}={app})"));
    }
    for (prefix, what) in [
        (FLUX_KUSTOMIZE, "a Flux Kustomization"),
        (FLUX_HELM, "a Flux HelmRelease"),
    ] {
        let name = labels.get(&format!("{prefix}name"));
        let ns = labels.get(&format!("{prefix}namespace"));
        if name.is_some() || labels.keys().any(|k| k.starts_with(prefix)) {
            return Some(match (ns, name) {
                (Some(ns), Some(n)) => format!("{what} ({ns}/{n})"),
                (None, Some(n)) => format!("{what} ({n})"),
                _ => what.to_owned(),
            });
        }
    }
    None
}

impl GuardCheck for GitOps {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let t = &input.step.target;
        let f = input.finding;
        let finding_object = crate::plan::target::of_finding(f).ok();
        let meta = if finding_object.as_ref() == Some(t) {
            Some((
                Cow::Borrowed(&f.labels),
                Cow::Borrowed(&f.facts.annotations),
            ))
        } else if let Some(w) = WorkloadKind::from_kind(t.kind())
            .zip(t.namespace())
            .and_then(|(k, ns)| ctx.index.workload(k, ns, t.name()))
        {
            let w = *w;
            Some((
                Cow::Owned(w.metadata.labels),
                Cow::Owned(w.metadata.annotations),
            ))
        } else {
            t.namespace()
                .filter(|_| t.kind() == "PersistentVolumeClaim")
                .and_then(|ns| ctx.index.pvc_meta(ns, t.name()))
                .map(|m| (Cow::Borrowed(&m.labels), Cow::Borrowed(&m.annotations)))
        };
        let Some((labels, annotations)) = meta else {
            return Check::Pass;
        };
        match manager(
            &labels,
            &annotations,
            ctx.config.guards.argo_cd_instance_label,
        ) {
            Some(who) => Check::Block(format!(
                "{t} is managed by {who}, which would revert the change: make it in Git (the suggested patch is in the report)"
            )),
            None => Check::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn knows_argo_and_flux_and_leaves_helm_alone() {
        let none = BTreeMap::new();
        assert!(
            manager(
                &none,
                &map(&[(ARGO_TRACKING_ID, "shop:apps/Deployment:shop/api")]),
                false
            )
            .is_some_and(|m| m.starts_with("Argo CD"))
        );
        assert_eq!(manager(&map(&[(INSTANCE, "shop")]), &none, false), None);
        assert!(manager(&map(&[(INSTANCE, "shop")]), &none, true).is_some());
        assert_eq!(
            manager(
                &map(&[
                    ("kustomize.toolkit.fluxcd.io/name", "apps"),
                    ("kustomize.toolkit.fluxcd.io/namespace", "flux-system")
                ]),
                &none,
                false
            ),
            Some("a Flux Kustomization (flux-system/apps)".into())
        );
        assert!(manager(&map(&[("helm.toolkit.fluxcd.io/name", "db")]), &none, false).is_some());
        assert_eq!(manager(&map(&[("app", "web")]), &none, true), None);
    }
}
