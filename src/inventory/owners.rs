//! Follows `ownerReferences` from a finding's object up to its top controller: Pod → ReplicaSet
//! → Deployment, Pod → Job → CronJob, Pod → StatefulSet/DaemonSet. Only references are followed,
//! never names; a link that is not in the inventory ends the chain and is reported as missing.

use super::Index;
use crate::detect::{Owner, OwnerLink};
use crate::objects::{OwnerReference, WorkloadKind};

/// Owners deeper than this are a cycle or nonsense; real chains have at most three links.
const MAX_DEPTH: usize = 8;

pub fn resolve(
    index: &Index,
    namespace: &str,
    controller: Option<&OwnerReference>,
) -> Option<Owner> {
    let mut reference = controller?.clone();
    let mut chain = Vec::new();
    loop {
        let found = WorkloadKind::from_kind(&reference.kind)
            .and_then(|k| index.workload(k, namespace, &reference.name));
        chain.push(OwnerLink {
            kind: reference.kind.clone(),
            name: reference.name.clone(),
            api_version: reference.api_version.clone(),
            found: found.is_some(),
        });
        let next = found.and_then(|w| w.metadata.controller().cloned());
        match next {
            Some(n) if chain.len() < MAX_DEPTH => reference = n,
            _ => break,
        }
    }
    let top = chain.last()?;
    Some(Owner {
        kind: top.kind.clone(),
        namespace: namespace.to_owned(),
        name: top.name.clone(),
        resolved: chain.iter().all(|l| l.found),
        chain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::index;

    fn reference(kind: &str, name: &str, api: &str) -> OwnerReference {
        OwnerReference {
            api_version: api.into(),
            kind: kind.into(),
            name: name.into(),
            uid: None,
            controller: Some(true),
        }
    }

    const OBJECTS: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5d9f
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, controller: true}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: backup-28391
  namespace: shop
  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: backup}]
"#;

    #[test]
    fn follows_references_to_the_top() {
        let idx = index(OBJECTS);
        let owner = resolve(
            &idx,
            "shop",
            Some(&reference("ReplicaSet", "api-5d9f", "extensions/v1beta1")),
        )
        .expect("owner");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.resolved),
            ("Deployment", "api", true)
        );
        assert_eq!(owner.chain.len(), 2);
        let job = resolve(
            &idx,
            "shop",
            Some(&reference("Job", "backup-28391", "batch/v1")),
        )
        .expect("owner");
        assert_eq!(
            (job.kind.as_str(), job.resolved),
            ("CronJob", false),
            "the CronJob is not in the inventory"
        );
    }

    #[test]
    fn reports_a_missing_link_instead_of_guessing() {
        let idx = index(OBJECTS);
        let owner = resolve(
            &idx,
            "shop",
            Some(&reference("ReplicaSet", "web-77c", "apps/v1")),
        )
        .expect("owner");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.resolved),
            ("ReplicaSet", "web-77c", false)
        );
        assert!(resolve(&idx, "shop", None).is_none());
    }
}
