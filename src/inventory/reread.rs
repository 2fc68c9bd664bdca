//! Another pass over a snapshot for owners that went by before a finding pointed at them
//! (a file that lists workloads before pods, or a Deployment whose ReplicaSets are not named
//! `<deployment>-<hash>`). Only files are read again: standard input and FIFOs give their
//! bytes once, so an index reading them keeps every workload.

use super::Index;
use super::snapshot::{self, Input, Limits, SnapshotError, Walk};
use crate::objects::{Decoded, Object};
use std::path::PathBuf;

/// An owner chain has at most this many links (see `owners::resolve`), so as many passes
/// find every link; a file that changed between passes stops earlier.
const MAX_PASSES: usize = 8;

/// Whether every input of `paths` is a regular file, which reads the same again.
pub fn rereadable(paths: &[PathBuf]) -> bool {
    let mut walk = Walk::default();
    paths.iter().all(|p| match walk.inputs(p) {
        Ok(inputs) => inputs.iter().all(|i| match i {
            Input::Stdin => false,
            Input::File(f) => std::fs::metadata(f).is_ok_and(|m| m.is_file()),
        }),
        // The first pass reports the error.
        Err(_) => false,
    })
}

/// Reads `paths` again, as often as owners are still missing, keeping in each index the
/// workloads it wants and let go by. Returns the number of passes made.
pub fn owners(
    paths: &[PathBuf],
    limits: Limits,
    indexes: &mut [&mut Index],
) -> Result<usize, SnapshotError> {
    let mut passes = 0;
    let mut before = Vec::new();
    while passes < MAX_PASSES {
        let missing: Vec<_> = indexes.iter().map(|i| i.missing()).collect();
        let count: usize = missing.iter().map(|m| m.len()).sum();
        // The same owners missing after a pass: the file changed; they stay missing.
        if count == 0 || missing == before {
            break;
        }
        before = missing;
        passes += 1;
        tracing::info!(
            owners = count,
            pass = passes + 1,
            "Reading the snapshot again for owners listed before the findings that point at them."
        );
        snapshot::read(paths, limits, &mut |d| {
            if let Decoded::Object(Object::Workload(w)) = d {
                for index in indexes.iter_mut() {
                    index.add_missing(&w);
                }
            }
        })?;
    }
    Ok(passes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::owners;
    use crate::objects::{OwnerReference, WorkloadKind};
    use std::io::Write;

    /// Owners listed before the pods, and a ReplicaSet not named after its Deployment: the
    /// first pass lets both go by; the pod's finding wants the ReplicaSet.
    const OWNERS_FIRST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec: {template: {spec: {containers: [{name: api, resources: {limits: {memory: 256Mi}}}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: custom-rs
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, controller: true}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: shop}
"#;

    fn reference(kind: &str, name: &str) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: None,
            controller: Some(true),
        }
    }

    fn first_pass(path: &std::path::Path) -> Index {
        let mut index = Index::keeping_wanted();
        snapshot::read(&[path.to_owned()], Limits::DEFAULT, &mut |d| {
            if let Decoded::Object(o) = d {
                index.add(o);
            }
        })
        .expect("reads");
        index
    }

    #[test]
    fn owners_that_went_by_are_read_in_more_passes_up_the_chain() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(OWNERS_FIRST.as_bytes()).expect("writes");
        let paths = [file.path().to_owned()];
        assert!(rereadable(&paths));
        let mut index = first_pass(file.path());
        assert_eq!(index.kept_workloads(), 0, "nothing was wanted yet");
        // What the pod's finding asks for, after the pass.
        index.want("shop", &reference("ReplicaSet", "custom-rs"));
        assert_eq!(
            index.missing().into_iter().collect::<Vec<_>>(),
            [(WorkloadKind::ReplicaSet, "shop".into(), "custom-rs".into())]
        );
        let mut done = index.clone();
        done.done_reading();
        assert!(
            done.missing().is_empty(),
            "once reading is done, what went by is forgotten"
        );
        // The ReplicaSet, then its Deployment, which came before it in the file.
        let passes = owners(&paths, Limits::DEFAULT, &mut [&mut index]).expect("reads again");
        assert_eq!(passes, 2);
        assert!(index.missing().is_empty());
        assert_eq!(
            index.kept_workloads(),
            2,
            "the other Deployment is not kept"
        );
        let owner = owners::resolve(&index, "shop", Some(&reference("ReplicaSet", "custom-rs")))
            .expect("an owner");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.resolved),
            ("Deployment", "api", true)
        );
    }

    #[test]
    fn an_owner_not_in_the_snapshot_is_not_read_for() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(OWNERS_FIRST.as_bytes()).expect("writes");
        let paths = [file.path().to_owned()];
        let mut index = first_pass(file.path());
        index.want("shop", &reference("StatefulSet", "db"));
        assert!(index.missing().is_empty());
        assert_eq!(
            owners(&paths, Limits::DEFAULT, &mut [&mut index]).expect("no pass"),
            0
        );
    }

    #[test]
    fn a_replica_set_named_after_its_deployment_needs_no_second_pass() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7d9c5
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
"#;
        // kubectl's order: the pods (and their findings) first, then Deployments, then
        // ReplicaSets.
        let mut index = Index::keeping_wanted();
        index.want("shop", &reference("ReplicaSet", "web-7d9c5"));
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).expect("yaml");
        for d in docs {
            if let Decoded::Object(o) = crate::objects::decode(d).expect("decodes") {
                index.add(o);
            }
        }
        assert!(index.missing().is_empty());
        let owner = owners::resolve(&index, "shop", Some(&reference("ReplicaSet", "web-7d9c5")))
            .expect("an owner");
        assert_eq!((owner.name.as_str(), owner.resolved), ("web", true));
    }

    #[test]
    fn standard_input_is_not_read_again() {
        assert!(!rereadable(&[PathBuf::from("-")]));
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a.yaml"), OWNERS_FIRST).expect("writes");
        assert!(rereadable(&[dir.path().to_owned()]));
        assert!(!rereadable(&[dir.path().join("gone.yaml")]));
    }
}
