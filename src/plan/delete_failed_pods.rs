//! `deleteFailedPods`: clean up pods that have already failed (evicted, failed job pods).

use super::{PlanAction, PlanCheck, PlanContext, Refusal, Step, target};
use crate::api::request::Request;
use crate::detect::{Finding, TargetKind};
use crate::objects::pod::PodPhase;
use crate::playbook::values::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct DeleteFailedPods {
    /// Only pods at least this old (by creationTimestamp), so a fresh failure stays visible.
    pub min_age: Option<Duration>,
    /// At most this many pods deleted by this playbook in one round.
    #[schemars(range(min = 1, max = 10000))]
    pub max_count: u32,
}

impl Default for DeleteFailedPods {
    fn default() -> Self {
        Self {
            min_age: None,
            max_count: 50,
        }
    }
}

impl DeleteFailedPods {
    pub const EXPLAIN: &str = "\
Deletes the finding's pod only if its phase is Failed (evicted pods, failed job pods), which
frees nothing that runs: those pods hold no containers, only API objects and IP-less records.
A pod in any other phase, or younger than minAge, is skipped; at most maxCount pods a round.
Arguments: minAge (optional, e.g. 1h), maxCount (default 50).";

    /// A complete playbook using it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: clean-evicted
spec:
  detect:
    evicted: {}
  remediate:
    - deleteFailedPods: {}
  guards:
    maxActionsPerRound: 50
"#;
}

impl PlanAction for DeleteFailedPods {
    fn acts_on(&self) -> &'static [TargetKind] {
        &[TargetKind::Pod]
    }

    fn plan(&self, f: &Finding, ctx: &PlanContext) -> Result<Step, Refusal> {
        let pod = target::pod(f)?;
        if f.facts.pod_phase != Some(PodPhase::Failed) {
            // A pod with no phase (a pasted or partial object) is not called "Unknown": that is
            // a phase the kubelet reports, and it is not what we saw.
            let phase = f
                .facts
                .pod_phase
                .map_or_else(|| "unknown".to_owned(), |p| format!("{p:?}"));
            return Err(Refusal::new(
                Some(pod),
                PlanCheck::TargetState,
                format!("the pod's phase is {phase}, not Failed"),
            ));
        }
        if let Some(min) = self.min_age {
            let young = f.facts.created.is_none_or(|c| ctx.now - c < min.chrono());
            if young {
                return Err(Refusal::new(
                    Some(pod),
                    PlanCheck::TargetState,
                    format!("the pod is younger than minAge {min} (or its age is unknown)"),
                ));
            }
        }
        Ok(Step {
            summary: format!("delete failed {}", pod.display()),
            request: Some(Request::delete(&pod, None)),
            target: pod,
        })
    }

    fn max_per_round(&self) -> Option<u32> {
        Some(self.max_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{ctx, index, now, pod_finding};

    #[test]
    fn deletes_only_failed_pods_old_enough() {
        let idx = index("");
        let ctx = ctx(&idx);
        let mut f = pod_finding(None);
        f.facts.pod_phase = Some(PodPhase::Running);
        let refusal = DeleteFailedPods::default()
            .plan(&f, &ctx)
            .expect_err("skipped");
        assert_eq!(refusal.reason, "the pod's phase is Running, not Failed");
        f.facts.pod_phase = Some(PodPhase::Failed);
        let step = DeleteFailedPods::default().plan(&f, &ctx).expect("planned");
        assert_eq!(
            step.request.expect("request").method(),
            http::Method::DELETE
        );
        let aged = DeleteFailedPods {
            min_age: Some("1h".parse().expect("duration")),
            max_count: 5,
        };
        f.facts.created = Some(now() - chrono::Duration::minutes(10));
        assert!(aged.plan(&f, &ctx).is_err(), "ten minutes old");
        f.facts.created = Some(now() - chrono::Duration::hours(2));
        assert!(aged.plan(&f, &ctx).is_ok());
    }
}
