//! Planning: each playbook's `remediate` entries become requests on the right targets.
//!
//! Actions only describe the exact request they would send; nothing here talks to the API.
//! Adding an action: one file with its argument struct and [`PlanAction`] impl, and one line in
//! [`actions!`] below.

mod cordon_node;
mod delete_failed_pods;
mod delete_pod;
mod evict_pod;
mod expand_pvc;
mod notify_only;
mod raise_memory_limit;
mod rollout_restart;
mod run_job;
mod scale;
pub mod target;

use crate::api::request::Request;
use crate::api::resource::ObjectRef;
use crate::detect::{Finding, TargetKind};
use crate::inventory::Index;
use crate::playbook::Loaded;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub struct PlanContext<'a> {
    pub now: DateTime<Utc>,
    pub index: &'a Index,
}

/// What a planner checked when it could not plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanCheck {
    /// The finding's object is not what the action works on, or cannot be named exactly.
    Target,
    /// The owning workload is missing, unknown or of a kind the action does not handle.
    Owner,
    /// The value is already at the playbook's cap or bound.
    Cap,
    /// The claim's StorageClass does not allow expansion.
    StorageClass,
    /// The object is not in the state the action is for (a pod that is not Failed).
    TargetState,
}

impl PlanCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Target => "target",
            Self::Owner => "owner",
            Self::Cap => "cap",
            Self::StorageClass => "storageClass",
            Self::TargetState => "targetState",
        }
    }
}

/// Why an action was not planned for a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What the action would have acted on, when that could be named.
    pub target: Option<ObjectRef>,
    pub check: PlanCheck,
    pub reason: String,
}

impl Refusal {
    pub fn new(target: Option<ObjectRef>, check: PlanCheck, reason: impl Into<String>) -> Self {
        Self {
            target,
            check,
            reason: reason.into(),
        }
    }
}

/// What planning one action for one finding gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub target: ObjectRef,
    /// None for actions that only notify.
    pub request: Option<Request>,
    pub summary: String,
}

pub trait PlanAction {
    /// The finding targets this action can act on (directly or through their owner).
    fn acts_on(&self) -> &'static [TargetKind];
    fn plan(&self, finding: &Finding, ctx: &PlanContext) -> Result<Step, Refusal>;
    /// Checks across fields that the schema cannot express: `(field path, message)`.
    fn problems(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The action's own limit on how many it does in one round (deleteFailedPods maxCount).
    fn max_per_round(&self) -> Option<u32> {
        None
    }
}

macro_rules! actions {
    ($($name:literal => $variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        /// A remediation with its typed arguments, as written under a playbook's `spec.remediate`.
        #[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
        #[schemars(extend("x-rounds-kind" = "action"))]
        pub enum Action {
            $(#[serde(rename = $name)] $variant($module::$ty)),*
        }

        impl Action {
            pub fn name(&self) -> &'static str {
                match self { $(Self::$variant(_) => $name),* }
            }

            pub fn imp(&self) -> &dyn PlanAction {
                match self { $(Self::$variant(a) => a),* }
            }

            /// Every action with its explanation and example (see [`crate::catalog`]).
            pub const CATALOG: &'static [crate::catalog::Entry] = &[
                $(crate::catalog::Entry {
                    name: $name,
                    kind: crate::catalog::Kind::Action,
                    text: $module::$ty::EXPLAIN,
                    example: $module::$ty::EXAMPLE,
                    settings: &[],
                }),*
            ];
        }
    };
}

actions! {
    "evictPod" => EvictPod(evict_pod::EvictPod),
    "deletePod" => DeletePod(delete_pod::DeletePod),
    "rolloutRestart" => RolloutRestart(rollout_restart::RolloutRestart),
    "raiseMemoryLimit" => RaiseMemoryLimit(raise_memory_limit::RaiseMemoryLimit),
    "scale" => Scale(scale::Scale),
    "cordonNode" => CordonNode(cordon_node::CordonNode),
    "deleteFailedPods" => DeleteFailedPods(delete_failed_pods::DeleteFailedPods),
    "expandPvc" => ExpandPvc(expand_pvc::ExpandPvc),
    "runJob" => RunJob(run_job::RunJob),
    "notifyOnly" => NotifyOnly(notify_only::NotifyOnly),
}

pub const ALL_TARGETS: &[TargetKind] = &[
    TargetKind::Pod,
    TargetKind::Node,
    TargetKind::Job,
    TargetKind::PersistentVolumeClaim,
];

/// One planned remediation: an action of a playbook for one or more findings.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Index of the playbook in the round's playbooks.
    pub playbook: usize,
    /// Index of the action in the playbook's `remediate`.
    pub action: usize,
    /// Index of the first finding it answers (its facts are what guards read).
    pub finding: usize,
    /// Fingerprints of every finding it answers.
    pub findings: Vec<String>,
    pub result: Result<Step, Refusal>,
}

impl Planned {
    pub fn target(&self) -> Option<&ObjectRef> {
        match &self.result {
            Ok(s) => Some(&s.target),
            Err(r) => r.target.as_ref(),
        }
    }
}

/// Plans every remediation of every finding. The same request for several findings (three
/// OOM-killed pods of one Deployment) is planned once and lists all of them.
pub fn plan_all(playbooks: &[Loaded], findings: &[Finding], ctx: &PlanContext) -> Vec<Planned> {
    let mut planned: Vec<Planned> = Vec::new();
    for (fi, f) in findings.iter().enumerate() {
        let Some(pi) = playbooks.iter().position(|p| p.name() == f.playbook) else {
            continue;
        };
        for (ai, action) in playbooks[pi].playbook.spec.remediate.iter().enumerate() {
            let result = action.imp().plan(f, ctx);
            let same = planned.iter_mut().find(|p| {
                p.playbook == pi
                    && p.action == ai
                    && match (&p.result, &result) {
                        (Ok(a), Ok(b)) => a == b,
                        (Err(a), Err(b)) => a == b,
                        _ => false,
                    }
            });
            match same {
                Some(p) => p.findings.push(f.fingerprint.clone()),
                None => planned.push(Planned {
                    playbook: pi,
                    action: ai,
                    finding: fi,
                    findings: vec![f.fingerprint.clone()],
                    result,
                }),
            }
        }
    }
    planned
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::detect::{Evidence, Owner, OwnerLink, Target};
    use crate::playbook::Severity;

    pub fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .expect("time")
            .to_utc()
    }

    pub fn pod_finding(owner: Option<(&str, &str, bool)>) -> Finding {
        Finding {
            playbook: "pb".into(),
            detector: "oomKilled",
            severity: Severity::Warning,
            target: Target {
                kind: TargetKind::Pod,
                namespace: Some("shop".into()),
                name: "api-5d9f-x1".into(),
                container: Some("api".into()),
            },
            owner: owner.map(|(kind, name, resolved)| Owner {
                kind: kind.into(),
                namespace: "shop".into(),
                name: name.into(),
                resolved,
                chain: vec![OwnerLink {
                    kind: kind.into(),
                    name: name.into(),
                    api_version: "apps/v1".into(),
                    found: resolved,
                }],
            }),
            fingerprint: "sha256:00".into(),
            evidence: Evidence::default(),
            message: String::new(),
            context: Default::default(),
            labels: Default::default(),
            facts: Default::default(),
        }
    }

    /// An index holding the objects of a small YAML list.
    pub fn index(yaml: &str) -> Index {
        let mut index = Index::default();
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).expect("test YAML");
        for d in docs {
            if let crate::objects::Decoded::Object(o) = crate::objects::decode(d).expect("decodes")
            {
                index.add(o);
            }
        }
        index
    }

    pub fn ctx(index: &Index) -> PlanContext<'_> {
        PlanContext { now: now(), index }
    }
}
