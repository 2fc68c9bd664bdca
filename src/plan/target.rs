//! What an action acts on, and how a finding leads to it (through `ownerReferences`, never
//! through names).

use super::{PlanCheck, Refusal};
use crate::api::resource::{ObjectRef, Resource};
use crate::detect::{Finding, Owner, Target, TargetKind};
use crate::objects::{Workload, WorkloadKind};

/// The resource of a finding's object.
pub fn resource_of(kind: TargetKind) -> &'static Resource {
    match kind {
        TargetKind::Pod => &Resource::POD,
        TargetKind::Node => &Resource::NODE,
        TargetKind::Job => &Resource::JOB,
        TargetKind::PersistentVolumeClaim => &Resource::PERSISTENT_VOLUME_CLAIM,
    }
}

/// The finding's object, named exactly, or why it cannot be.
pub fn of_target(t: &Target, uid: Option<&str>) -> Result<ObjectRef, Refusal> {
    ObjectRef::new(resource_of(t.kind), t.namespace.as_deref(), &t.name)
        .map(|r| r.with_uid(uid))
        .map_err(|e| {
            Refusal::new(
                None,
                PlanCheck::Target,
                format!("cannot name {} exactly: {e}", t.display()),
            )
        })
}

pub fn of_finding(f: &Finding) -> Result<ObjectRef, Refusal> {
    of_target(&f.target, f.facts.uid.as_deref())
}

/// The owner at the top of the finding's chain, when rounds knows its kind.
pub fn of_owner(o: &Owner) -> Option<ObjectRef> {
    let kind = WorkloadKind::from_kind(&o.kind)?;
    ObjectRef::namespaced(Resource::of_workload(kind), &o.namespace, &o.name).ok()
}

/// A workload as an object reference (with its uid).
pub fn of_workload(w: &Workload) -> Result<ObjectRef, Refusal> {
    ObjectRef::namespaced(
        Resource::of_workload(w.kind),
        w.namespace(),
        &w.metadata.name,
    )
    .map(|r| r.with_uid(w.metadata.uid.as_deref()))
    .map_err(|e| {
        Refusal::new(
            None,
            PlanCheck::Target,
            format!("cannot name the {} exactly: {e}", w.kind.as_str()),
        )
    })
}

/// The pod a finding is about.
pub fn pod(f: &Finding) -> Result<ObjectRef, Refusal> {
    let r = of_finding(f)?;
    if f.target.kind != TargetKind::Pod {
        return Err(Refusal::new(
            Some(r),
            PlanCheck::Target,
            "the finding is not about a pod",
        ));
    }
    Ok(r)
}

/// The workload that controls a finding's pod, if it is one of `kinds` and is in the inventory.
pub fn owning_workload(
    f: &Finding,
    index: &crate::inventory::Index,
    kinds: &[WorkloadKind],
) -> Result<(ObjectRef, Box<Workload>), Refusal> {
    let finding_ref = of_finding(f)?;
    let Some(owner) = &f.owner else {
        return Err(Refusal::new(
            Some(finding_ref),
            PlanCheck::Owner,
            "the pod has no controller; rounds does not guess one",
        ));
    };
    let owner_ref = of_owner(owner);
    if !owner.resolved {
        return Err(Refusal::new(
            owner_ref,
            PlanCheck::Owner,
            format!(
                "{} {}/{} is not in the inventory, so the workload above it is unknown",
                owner.kind, owner.namespace, owner.name
            ),
        ));
    }
    let kind = WorkloadKind::from_kind(&owner.kind).filter(|k| kinds.contains(k));
    let workload = kind.and_then(|k| index.workload(k, &owner.namespace, &owner.name));
    match workload {
        Some(w) => Ok((of_workload(&w)?, w)),
        None => {
            let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            Err(Refusal::new(
                owner_ref.or(Some(finding_ref)),
                PlanCheck::Owner,
                format!(
                    "the owner is a {}; this action works on {}",
                    owner.kind,
                    allowed.join(", ")
                ),
            ))
        }
    }
}
