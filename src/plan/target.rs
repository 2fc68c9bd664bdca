//! What an action acts on, and how a finding leads to it (through `ownerReferences`, never
//! through names).

use super::Skip;
use crate::detect::{Finding, TargetKind};
use crate::objects::{Workload, WorkloadKind};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of_finding(f: &Finding) -> Self {
        Self {
            kind: f.target.kind.as_str().to_owned(),
            namespace: f.target.namespace.clone(),
            name: f.target.name.clone(),
        }
    }

    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// The pod a finding is about, with its API path.
pub fn pod(f: &Finding) -> Result<(ObjectRef, String), (ObjectRef, Skip)> {
    let r = ObjectRef::of_finding(f);
    if f.target.kind != TargetKind::Pod {
        return Err((r, Skip::new("target", "the finding is not about a pod")));
    }
    let ns = f.target.namespace.as_deref().unwrap_or("default");
    let path = format!("/api/v1/namespaces/{ns}/pods/{}", f.target.name);
    Ok((r, path))
}

/// The workload that controls a finding's pod, if it is one of `kinds` and is in the inventory.
pub fn owning_workload<'a>(
    f: &Finding,
    index: &'a crate::inventory::Index,
    kinds: &[WorkloadKind],
) -> Result<(ObjectRef, &'a Workload), (ObjectRef, Skip)> {
    let finding_ref = ObjectRef::of_finding(f);
    let Some(owner) = &f.owner else {
        return Err((
            finding_ref,
            Skip::new(
                "owner",
                "the pod has no controller; rounds does not guess one",
            ),
        ));
    };
    let owner_ref = ObjectRef {
        kind: owner.kind.clone(),
        namespace: Some(owner.namespace.clone()),
        name: owner.name.clone(),
    };
    if !owner.resolved {
        return Err((
            owner_ref,
            Skip::new(
                "owner",
                format!(
                    "{} {}/{} is not in the inventory, so the workload above it is unknown",
                    owner.kind, owner.namespace, owner.name
                ),
            ),
        ));
    }
    let kind = WorkloadKind::from_kind(&owner.kind).filter(|k| kinds.contains(k));
    let workload = kind.and_then(|k| index.workload(k, &owner.namespace, &owner.name));
    match workload {
        Some(w) => Ok((owner_ref, w)),
        None => {
            let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            Err((
                owner_ref,
                Skip::new(
                    "owner",
                    format!(
                        "the owner is a {}; this action works on {}",
                        owner.kind,
                        allowed.join(", ")
                    ),
                ),
            ))
        }
    }
}

/// `/apis/apps/v1/namespaces/NS/deployments/NAME`
pub fn workload_path(w: &Workload) -> String {
    format!(
        "{}/namespaces/{}/{}/{}",
        w.kind.api_path_prefix(),
        w.namespace(),
        w.kind.resource(),
        w.metadata.name
    )
}
