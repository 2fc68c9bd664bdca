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

use crate::detect::{Finding, TargetKind};
use crate::inventory::Index;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub use target::ObjectRef;

pub struct PlanContext<'a> {
    pub now: DateTime<Utc>,
    pub index: &'a Index,
}

/// The exact HTTP request an action would make.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";
pub const JSON: &str = "application/json";

/// Why an action was not planned; shown in the report as `guard` and `reason`.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    pub guard: &'static str,
    pub reason: String,
}

impl Skip {
    pub fn new(guard: &'static str, reason: impl Into<String>) -> Self {
        Self {
            guard,
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
    fn plan(&self, finding: &Finding, ctx: &PlanContext) -> Result<Step, (ObjectRef, Skip)>;
    /// Checks across fields that the schema cannot express: `(field path, message)`.
    fn problems(&self) -> Vec<(String, String)> {
        Vec::new()
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
}
