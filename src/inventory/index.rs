//! Objects kept after a round's pass over the inventory: the controllers that own pods (to
//! follow ownerReferences), claims and storage classes (for expandPvc), namespaces (for
//! namespaceSelector). Pods and nodes are not kept: they are looked at once and dropped.
//!
//! A big cluster has tens of thousands of ReplicaSets and Deployments, and findings point at a
//! few of them: each is kept as one compact serialized buffer and decoded when first looked up,
//! so the index costs a fraction of the decoded objects' memory.

use crate::objects::{Event, Object, ObjectMeta, Pvc, StorageClass, Workload, WorkloadKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

#[derive(Debug, Default, Clone)]
pub struct Index {
    workloads: HashMap<(WorkloadKind, String, String), Stored>,
    pvcs: HashMap<(String, String), Pvc>,
    storage_classes: HashMap<String, StorageClass>,
    namespaces: HashMap<String, ObjectMeta>,
    /// Events by the object they are about: (kind, namespace, name).
    events: HashMap<(String, String, String), Vec<Event>>,
}

/// A workload as kept: serialized, and decoded on its first lookup.
#[derive(Debug, Clone)]
struct Stored {
    bytes: Box<[u8]>,
    decoded: OnceLock<Box<Workload>>,
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
            decoded: OnceLock::new(),
        }
    }

    fn get(&self) -> &Workload {
        self.decoded.get_or_init(|| {
            // The bytes were written by `Stored::new` from the same type.
            Box::new(serde_json::from_slice(&self.bytes).expect("a stored workload decodes"))
        })
    }
}

impl Index {
    /// Keeps what later steps need from an object.
    pub fn add(&mut self, object: Object) {
        match object {
            Object::Workload(w) => {
                let key = (w.kind, w.namespace().to_owned(), w.metadata.name.clone());
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
                    .push(*e);
            }
            _ => {}
        }
    }

    pub fn workload(&self, kind: WorkloadKind, ns: &str, name: &str) -> Option<&Workload> {
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
    pub fn events_about(&self, kind: &str, namespace: Option<&str>, name: &str) -> &[Event] {
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
