//! Objects kept after a round's pass over the inventory: the controllers that own pods (to
//! follow ownerReferences), claims and storage classes (for expandPvc), namespaces (for
//! namespaceSelector). Pods and nodes are not kept: they are looked at once and dropped.

use crate::objects::{Event, Object, ObjectMeta, Pvc, StorageClass, Workload, WorkloadKind};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default, Clone)]
pub struct Index {
    workloads: HashMap<(WorkloadKind, String, String), Workload>,
    pvcs: HashMap<(String, String), Pvc>,
    storage_classes: HashMap<String, StorageClass>,
    namespaces: HashMap<String, ObjectMeta>,
    /// Events by the object they are about: (kind, namespace, name).
    events: HashMap<(String, String, String), Vec<Event>>,
}

impl Index {
    /// Keeps what later steps need from an object.
    pub fn add(&mut self, object: Object) {
        match object {
            Object::Workload(w) => {
                let key = (w.kind, w.namespace().to_owned(), w.metadata.name.clone());
                self.workloads.insert(key, *w);
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
        self.workloads.get(&(kind, ns.to_owned(), name.to_owned()))
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
