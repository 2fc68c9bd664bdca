//! `expandPvc`: grow a nearly full claim, where its StorageClass allows expansion.

use super::{PlanAction, PlanCheck, PlanContext, Refusal, Step, target};
use crate::api::request::{ContentType, Request};
use crate::detect::{Finding, TargetKind};
use crate::playbook::values::Quantity;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpandPvc {
    /// Multiply the requested size by this.
    #[serde(default = "default_factor")]
    #[schemars(range(min = 1.05, max = 10.0))]
    pub factor: f64,
    /// Never request more than this.
    pub max: Quantity,
}

fn default_factor() -> f64 {
    1.5
}

impl ExpandPvc {
    pub const EXPLAIN: &str = "\
Raises spec.resources.requests.storage of the finding's PersistentVolumeClaim by `factor`,
capped at `max`, only when the claim is Bound and its StorageClass has allowVolumeExpansion:
true; it never shrinks a claim (the API refuses that too). Claims without a known
StorageClass, or already at the cap, are skipped.
Arguments: factor (default 1.5), max (required, e.g. 500Gi).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: expand-full-claims
spec:
  detect:
    pvcUsage: { usedPercent: 90% }
  remediate:
    - expandPvc: { factor: 2, max: 200Gi }
  guards:
    maxActionsPerRound: 1
    cooldown: 12h
"#;
}

impl PlanAction for ExpandPvc {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::PersistentVolumeClaim]
    }

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, Refusal> {
        let claim = target::of_finding(f)?;
        let ns = claim.namespace().unwrap_or_default();
        let skip = |check, reason: String| Err(Refusal::new(Some(claim.clone()), check, reason));
        let Some(pvc) = ctx.index.pvc(ns, claim.name()) else {
            return skip(
                PlanCheck::Target,
                format!("claim {ns}/{} is not in the inventory", claim.name()),
            );
        };
        if pvc.status.phase.as_deref() != Some("Bound") {
            return skip(
                PlanCheck::TargetState,
                format!(
                    "the claim is {}, not Bound; only bound claims can be expanded",
                    pvc.status.phase.as_deref().unwrap_or("in no phase")
                ),
            );
        }
        let Some(class_name) = pvc.spec.storage_class_name.as_deref() else {
            return skip(
                PlanCheck::StorageClass,
                "the claim names no StorageClass".into(),
            );
        };
        match ctx.index.storage_class(class_name) {
            None => {
                return skip(
                    PlanCheck::StorageClass,
                    format!("StorageClass {class_name} is not in the inventory"),
                );
            }
            Some(c) if c.allow_volume_expansion != Some(true) => {
                return skip(
                    PlanCheck::StorageClass,
                    format!("StorageClass {class_name} does not allow volume expansion"),
                );
            }
            Some(_) => {}
        }
        let Some(current_text) = pvc.requested_storage() else {
            return skip(
                PlanCheck::Target,
                "the claim requests no storage size".into(),
            );
        };
        let current: Quantity = match current_text.parse() {
            Ok(q) => q,
            Err(e) => return skip(PlanCheck::Target, e),
        };
        if current.value() >= self.max.value() {
            return skip(
                PlanCheck::Cap,
                format!(
                    "the claim's {current_text} is already at or above the cap {}",
                    self.max.to_binary_text()
                ),
            );
        }
        let wanted = Quantity::from_value((current.value() * self.factor).min(self.max.value()))
            .to_binary_text();
        let mut body = json!({"spec": {"resources": {"requests": {"storage": wanted}}}});
        if let Some(rv) = &pvc.metadata.resource_version {
            body["metadata"] = json!({"resourceVersion": rv});
        }
        Ok(Step {
            summary: format!("expand {} from {current_text} to {wanted}", claim.display()),
            request: Some(Request::patch(&claim, ContentType::MergePatch, body)),
            target: claim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Target;
    use crate::plan::testing::{ctx, index, pod_finding};

    fn finding() -> Finding {
        let mut f = pod_finding(None);
        f.target = Target {
            kind: TargetKind::PersistentVolumeClaim,
            namespace: Some("data".into()),
            name: "data-db-0".into(),
            container: None,
        };
        f
    }

    fn plan(expandable: bool) -> Result<Step, Refusal> {
        let idx = index(&format!(
            "kind: PersistentVolumeClaim\nmetadata: {{name: data-db-0, namespace: data}}\nspec: {{storageClassName: fast, resources: {{requests: {{storage: 10Gi}}}}}}\nstatus: {{phase: Bound}}\n---\nkind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {{name: fast}}\nallowVolumeExpansion: {expandable}\n"
        ));
        ExpandPvc {
            factor: 1.5,
            max: "100Gi".parse().expect("q"),
        }
        .plan(&finding(), &ctx(&idx))
    }

    #[test]
    fn expands_only_where_the_class_allows() {
        let step = plan(true).expect("planned");
        assert_eq!(
            step.summary,
            "expand PersistentVolumeClaim data/data-db-0 from 10Gi to 15Gi"
        );
        let refusal = plan(false).expect_err("not expandable");
        assert_eq!(
            refusal.reason,
            "StorageClass fast does not allow volume expansion"
        );
    }
}
