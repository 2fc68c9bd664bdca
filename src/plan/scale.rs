//! `scale`: change the replica count of the owning workload, within bounds.

use super::{PlanAction, PlanCheck, PlanContext, Refusal, Step, target};
use crate::api::request::{ContentType, Request};
use crate::detect::{Finding, TargetKind};
use crate::objects::WorkloadKind;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scale {
    /// Replicas to add (negative to remove).
    #[serde(default = "one")]
    #[schemars(range(min = -100, max = 100))]
    pub by: i32,
    /// Never fewer replicas than this.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub min: u32,
    /// Never more replicas than this.
    #[schemars(range(min = 0, max = 10000))]
    pub max: u32,
}

fn one() -> i32 {
    1
}

impl Scale {
    pub const EXPLAIN: &str = "\
Changes the replicas of the workload that owns the finding's pod (Deployment, StatefulSet,
ReplicaSet) by `by`, kept between `min` and `max`, with a merge patch of spec.replicas that
carries the workload's resourceVersion (so replicas changed since they were read, by a person
or an autoscaler, are re-read first; and rounds' audit annotation goes in the same write).
A workload already at the bound is skipped.
Arguments: by (default 1), min (default 0), max (required).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: scale-out-oom
spec:
  detect:
    oomKilled: { minCount: 3, within: 1h }
  remediate:
    - scale: { by: 1, min: 2, max: 10 }
  guards:
    maxActionsPerRound: 1
    cooldown: 30m
"#;
}

impl PlanAction for Scale {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, Refusal> {
        let kinds = [
            WorkloadKind::Deployment,
            WorkloadKind::StatefulSet,
            WorkloadKind::ReplicaSet,
        ];
        let (owner, workload) = target::owning_workload(f, ctx.index, &kinds)?;
        let current = workload.replicas.unwrap_or(1);
        let wanted = (current + i64::from(self.by)).clamp(i64::from(self.min), i64::from(self.max));
        if wanted == current {
            return Err(Refusal::new(
                Some(owner),
                PlanCheck::Cap,
                format!("{current} replicas is already at the bound"),
            ));
        }
        let mut body = json!({"spec": {"replicas": wanted}});
        if let Some(rv) = &workload.metadata.resource_version {
            body["metadata"] = json!({"resourceVersion": rv});
        }
        Ok(Step {
            summary: format!(
                "scale {} from {current} to {wanted} replicas",
                owner.display()
            ),
            request: Some(Request::patch(&owner, ContentType::MergePatch, body)),
            target: owner,
        })
    }

    fn problems(&self) -> Vec<(String, String)> {
        if self.min > self.max {
            vec![(
                "min".into(),
                format!("min ({}) is larger than max ({})", self.min, self.max),
            )]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{ctx, index, pod_finding};

    #[test]
    fn scales_within_bounds() {
        let idx = index(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop, resourceVersion: '7'}\nspec: {replicas: 3}\n",
        );
        let ctx = ctx(&idx);
        let f = pod_finding(Some(("Deployment", "api", true)));
        let step = Scale {
            by: 2,
            min: 0,
            max: 4,
        }
        .plan(&f, &ctx)
        .expect("planned");
        assert_eq!(
            step.summary,
            "scale Deployment shop/api from 3 to 4 replicas"
        );
        let req = step.request.expect("request");
        assert_eq!(req.path(), "/apis/apps/v1/namespaces/shop/deployments/api");
        assert_eq!(
            req.body(),
            Some(json!({"metadata": {"resourceVersion": "7"}, "spec": {"replicas": 4}}))
        );
        let refusal = Scale {
            by: 1,
            min: 0,
            max: 3,
        }
        .plan(&f, &ctx)
        .expect_err("at max");
        assert_eq!(refusal.check, PlanCheck::Cap);
    }
}
