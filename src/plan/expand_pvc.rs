//! `expandPvc`: grow a nearly full claim, where its StorageClass allows expansion.

use super::{MERGE_PATCH, ObjectRef, PlanAction, PlanContext, Request, Skip, Step};
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
capped at `max`, only when its StorageClass has allowVolumeExpansion: true. Claims without a
known StorageClass, or already at the cap, are skipped.
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

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, (ObjectRef, Skip)> {
        let claim = ObjectRef::of_finding(f);
        let ns = f.target.namespace.as_deref().unwrap_or("default");
        let skip = |guard, reason: String| Err((claim.clone(), Skip::new(guard, reason)));
        let Some(pvc) = ctx.index.pvc(ns, &f.target.name) else {
            return skip(
                "target",
                format!("claim {ns}/{} is not in the inventory", f.target.name),
            );
        };
        let Some(class_name) = pvc.spec.storage_class_name.as_deref() else {
            return skip("storageClass", "the claim names no StorageClass".into());
        };
        match ctx.index.storage_class(class_name) {
            None => {
                return skip(
                    "storageClass",
                    format!("StorageClass {class_name} is not in the inventory"),
                );
            }
            Some(c) if c.allow_volume_expansion != Some(true) => {
                return skip(
                    "storageClass",
                    format!("StorageClass {class_name} does not allow volume expansion"),
                );
            }
            Some(_) => {}
        }
        let Some(current_text) = pvc.requested_storage() else {
            return skip("target", "the claim requests no storage size".into());
        };
        let current: Quantity = match current_text.parse() {
            Ok(q) => q,
            Err(e) => return skip("target", e),
        };
        if current.value() >= self.max.value() {
            return skip(
                "cap",
                format!(
                    "the claim's {current_text} is already at or above the cap {}",
                    self.max.to_binary_text()
                ),
            );
        }
        let wanted = Quantity::from_value((current.value() * self.factor).min(self.max.value()))
            .to_binary_text();
        Ok(Step {
            summary: format!("expand {} from {current_text} to {wanted}", claim.display()),
            request: Some(Request {
                method: "PATCH",
                path: format!(
                    "/api/v1/namespaces/{ns}/persistentvolumeclaims/{}",
                    f.target.name
                ),
                content_type: Some(MERGE_PATCH),
                body: Some(json!({"spec": {"resources": {"requests": {"storage": wanted}}}})),
            }),
            target: claim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Target;
    use crate::plan::testing::{index, now, pod_finding};

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

    fn plan(expandable: bool) -> Result<Step, (ObjectRef, Skip)> {
        let idx = index(&format!(
            "kind: PersistentVolumeClaim\nmetadata: {{name: data-db-0, namespace: data}}\nspec: {{storageClassName: fast, resources: {{requests: {{storage: 10Gi}}}}}}\n---\nkind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {{name: fast}}\nallowVolumeExpansion: {expandable}\n"
        ));
        ExpandPvc {
            factor: 1.5,
            max: "100Gi".parse().expect("q"),
        }
        .plan(
            &finding(),
            &PlanContext {
                now: now(),
                index: &idx,
            },
        )
    }

    #[test]
    fn expands_only_where_the_class_allows() {
        let step = plan(true).expect("planned");
        assert_eq!(
            step.summary,
            "expand PersistentVolumeClaim data/data-db-0 from 10Gi to 15Gi"
        );
        let (_, skip) = plan(false).expect_err("not expandable");
        assert_eq!(
            skip.reason,
            "StorageClass fast does not allow volume expansion"
        );
    }
}
