//! Objects kept after a round's pass over the inventory: the controllers that own pods (to
//! follow ownerReferences), claims and storage classes (for expandPvc), namespaces (for
//! namespaceSelector). Pods and nodes are not kept: they are looked at once and dropped.
//!
//! A big cluster has tens of thousands of ReplicaSets and Deployments, and findings point at a
//! few of them: each is kept as one compact serialized buffer and decoded when first looked up,
//! so the index costs a fraction of the decoded objects' memory.
//!
//! Reading a file that can be read again, the index keeps only the workloads findings point
//! at ([`Index::keeping_wanted`]); every other one is remembered by a hash, so an owner that
//! went by before a finding pointed at it is known to be in the file, and is read in another
//! pass ([`Index::missing`]), never reported missing.

use crate::objects::{
    Event, Object, ObjectMeta, OwnerReference, Pvc, StorageClass, Workload, WorkloadKind,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

pub type WorkloadKey = (WorkloadKind, String, String);

#[derive(Debug, Default, Clone)]
pub struct Index {
    workloads: HashMap<WorkloadKey, Stored>,
    /// Set when only wanted workloads are kept.
    wanted: Option<Wanted>,
    pvcs: HashMap<(String, String), Pvc>,
    storage_classes: HashMap<String, StorageClass>,
    namespaces: HashMap<String, ObjectMeta>,
    /// Events by the object they are about: (kind, namespace, name).
    /// Boxed: most objects have one or two Events, and a `Vec` of the struct itself would
    /// reserve room for four.
    #[allow(clippy::vec_box)]
    events: HashMap<(String, String, String), Vec<Box<Event>>>,
}

/// Which workloads a pass keeps, and which it let go by.
#[derive(Debug, Default, Clone)]
struct Wanted {
    keys: HashSet<WorkloadKey>,
    /// Deployments guessed from ReplicaSet names: kept, never read again for.
    guesses: HashSet<WorkloadKey>,
    /// Hashes of the workloads not kept.
    passed: HashSet<u64>,
}

fn key_hash(kind: WorkloadKind, ns: &str, name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (kind, ns, name).hash(&mut h);
    h.finish()
}

/// A workload as kept: serialized, and decoded on each lookup. Kept decoded, the owners of a
/// large dump's findings were the largest part of a round's memory (11 of 35 MB at 100,000
/// pods); decoding one again costs microseconds, and a finding looks up a few.
#[derive(Debug, Clone)]
struct Stored {
    bytes: Box<[u8]>,
}

impl Stored {
    /// Keeps what later steps read: a Job's conditions are for detectors only, which saw
    /// the whole object, and a Deployment's take half of its size.
    fn new(mut w: Workload) -> Self {
        w.conditions.clear();
        // Serializing plain fields into JSON cannot fail.
        let bytes = serde_json::to_vec(&w).expect("a workload serializes");
        Self {
            bytes: bytes.into_boxed_slice(),
        }
    }

    fn get(&self) -> Box<Workload> {
        // The bytes were written by `Stored::new` from the same type.
        Box::new(serde_json::from_slice(&self.bytes).expect("a stored workload decodes"))
    }
}

impl Index {
    /// An index that keeps only the workloads [`Index::want`] asked for, and those they point
    /// at; for a snapshot that can be read again when an owner came before its finding.
    pub fn keeping_wanted() -> Self {
        Self {
            wanted: Some(Wanted::default()),
            ..Self::default()
        }
    }

    /// Asks for the workload `reference` names, in `namespace`, and its owners. A
    /// ReplicaSet's Deployment is asked for by the name the Deployment controller gives it
    /// (`<deployment>-<hash>`): kubectl lists Deployments before ReplicaSets, and a guess
    /// that is wrong costs only memory, since owners are found by reference alone.
    pub fn want(&mut self, namespace: &str, reference: &OwnerReference) {
        let Some(wanted) = &mut self.wanted else {
            return;
        };
        let Some(kind) = WorkloadKind::from_kind(&reference.kind) else {
            return;
        };
        if kind == WorkloadKind::ReplicaSet
            && let Some((deployment, _)) = reference.name.rsplit_once('-')
        {
            wanted.guesses.insert((
                WorkloadKind::Deployment,
                namespace.to_owned(),
                deployment.to_owned(),
            ));
        }
        wanted
            .keys
            .insert((kind, namespace.to_owned(), reference.name.clone()));
    }

    /// Asks for a workload by its own name (one a finding is about).
    pub fn want_workload(&mut self, w: &Workload) {
        if let Some(wanted) = &mut self.wanted {
            wanted
                .keys
                .insert((w.kind, w.namespace().to_owned(), w.metadata.name.clone()));
        }
    }

    /// Wanted workloads that were let go by before they were wanted: another pass over the
    /// same input keeps them (and asks for their owners in turn).
    pub fn missing(&self) -> BTreeSet<WorkloadKey> {
        let Some(wanted) = &self.wanted else {
            return BTreeSet::new();
        };
        wanted
            .keys
            .iter()
            .filter(|k| !self.workloads.contains_key(*k))
            .filter(|(kind, ns, name)| wanted.passed.contains(&key_hash(*kind, ns, name)))
            .cloned()
            .collect()
    }

    /// Keeps a workload let go by earlier, now wanted; any other is left alone.
    pub fn add_missing(&mut self, w: &Workload) {
        let key = (w.kind, w.namespace().to_owned(), w.metadata.name.clone());
        let wanted = self
            .wanted
            .as_ref()
            .is_some_and(|x| x.keys.contains(&key) || x.guesses.contains(&key));
        if wanted && !self.workloads.contains_key(&key) {
            self.add(Object::Workload(Box::new(w.clone())));
        }
    }

    /// Lets go of what only reading needed: a hash of every workload not kept (one per
    /// workload of the cluster). Another pass that looks for missing owners finds none after.
    pub fn done_reading(&mut self) {
        if let Some(wanted) = &mut self.wanted {
            wanted.passed = HashSet::new();
        }
    }

    /// Lets go of the Events once the findings have taken their evidence from them.
    pub fn drop_events(&mut self) {
        self.events = HashMap::new();
    }

    /// How many workloads are kept whole.
    pub fn kept_workloads(&self) -> usize {
        self.workloads.len()
    }

    /// Keeps what later steps need from an object.
    pub fn add(&mut self, object: Object) {
        match object {
            Object::Workload(w) => {
                let key = (w.kind, w.namespace().to_owned(), w.metadata.name.clone());
                if let Some(wanted) = &mut self.wanted {
                    if !wanted.keys.contains(&key) && !wanted.guesses.contains(&key) {
                        wanted.passed.insert(key_hash(key.0, &key.1, &key.2));
                        return;
                    }
                    // Its own owner is wanted in turn (a Job's CronJob comes after it).
                    if let Some(c) = w.metadata.controller().cloned() {
                        self.want(&key.1, &c);
                    }
                }
                self.workloads.insert(key, Stored::new(*w));
            }
            Object::Pvc(p) => {
                let key = (p.namespace().to_owned(), p.metadata.name.clone());
                self.pvcs.insert(key, *p);
            }
            Object::StorageClass(c) => {
                self.storage_classes.insert(c.metadata.name.clone(), *c);
            }
            Object::Namespace(meta) => {
                self.namespaces.insert(meta.name.clone(), *meta);
            }
            Object::Event(e) => {
                let o = &e.involved_object;
                let ns = o.namespace.clone().unwrap_or_default();
                self.events
                    .entry((o.kind.clone(), ns, o.name.clone()))
                    .or_default()
                    .push(e);
            }
            _ => {}
        }
    }

    /// The workload kept under this key, decoded for the caller.
    pub fn workload(&self, kind: WorkloadKind, ns: &str, name: &str) -> Option<Box<Workload>> {
        self.workloads
            .get(&(kind, ns.to_owned(), name.to_owned()))
            .map(Stored::get)
    }

    pub fn pvc(&self, ns: &str, name: &str) -> Option<&Pvc> {
        self.pvcs.get(&(ns.to_owned(), name.to_owned()))
    }

    pub fn storage_class(&self, name: &str) -> Option<&StorageClass> {
        self.storage_classes.get(name)
    }

    /// Labels of a namespace, when the inventory has it.
    pub fn namespace_labels(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.namespaces.get(name).map(|m| &m.labels)
    }

    /// A namespace's metadata (labels and annotations), when the inventory has it.
    pub fn namespace(&self, name: &str) -> Option<&ObjectMeta> {
        self.namespaces.get(name)
    }

    /// Events about an object (for cluster-scoped objects, events name no namespace).
    pub fn events_about(&self, kind: &str, namespace: Option<&str>, name: &str) -> &[Box<Event>] {
        let ns = namespace.unwrap_or_default().to_owned();
        self.events
            .get(&(kind.to_owned(), ns, name.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    pub fn pvc_meta(&self, ns: &str, name: &str) -> Option<&ObjectMeta> {
        self.pvc(ns, name).map(|p| &p.metadata)
    }
}

#[cfg(test)]
mod tests {
    use crate::objects::WorkloadKind;
    use crate::plan::testing::index;

    #[test]
    fn a_workload_kept_compactly_reads_back_as_decoded() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  uid: 7f1c
  resourceVersion: "42"
  creationTimestamp: "2025-06-01 10:00:00"
  labels: {app: api, argocd.argoproj.io/instance: shop}
  annotations: {rounds.io/skip: "true"}
  deletionTimestamp: "2025-06-01T10:00:00+02:00"
  ownerReferences: [{apiVersion: v1, kind: Thing, name: t, controller: true}]
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: api
        image: shop/api:1.2
        resources: {limits: {memory: 512Mi, cpu: 1}, requests: {memory: 256Mi}}
      initContainers: [{name: proxy, restartPolicy: Always}]
status: {readyReplicas: 2, conditions: [{type: Available, status: "True"}]}
"#;
        let decoded = crate::objects::decode(
            serde_saphyr::from_str::<serde_json::Value>(yaml).expect("yaml"),
        )
        .expect("decodes");
        let idx = index(yaml);
        let kept = idx
            .workload(WorkloadKind::Deployment, "shop", "api")
            .expect("kept");
        let crate::objects::Decoded::Object(crate::objects::Object::Workload(mut w)) = decoded
        else {
            panic!("not a workload");
        };
        assert_eq!(w.conditions.len(), 1);
        w.conditions.clear();
        assert_eq!(format!("{kept:?}"), format!("{w:?}"));
        assert_eq!(
            kept.metadata.creation_timestamp,
            w.metadata.creation_timestamp
        );
        assert!(
            idx.workload(WorkloadKind::Deployment, "shop", "web")
                .is_none()
        );
    }
}
