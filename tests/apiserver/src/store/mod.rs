//! The in-memory object store: objects as compact JSON ([`EncodedObject`]) with their
//! selectable labels and fields ([`Selectable`]) in B-trees keyed by (group/resource,
//! namespace, name), a global resourceVersion counter, and continue tokens.

mod encoded;
mod selectable;

pub use encoded::EncodedObject;
pub use selectable::Selectable;

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::resources::{Registry, ResourceInfo, ResourceKey};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// Namespace and name of an object; the namespace is empty for cluster-scoped objects.
pub type ObjectKey = (String, String);

/// Why an object could not be added to the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The object has no `apiVersion`, `kind` or `metadata.name`.
    #[error("object without {0}")]
    Incomplete(&'static str),
}

/// What a list request asks for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only this namespace (`None`: all namespaces).
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 or absent: everything).
    pub limit: Option<usize>,
    /// `continue`.
    pub continue_token: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The objects of the page, in namespace/name order, as stored.
    pub items: Vec<EncodedObject>,
    /// `metadata.resourceVersion` of the list.
    pub resource_version: u64,
    /// `metadata.continue`, when more objects follow.
    pub continue_token: Option<String>,
    /// `metadata.remainingItemCount`, when more objects follow and no selector was given.
    pub remaining_item_count: Option<usize>,
}

/// One stored object: its bytes, and what selectors read of it.
#[derive(Debug, Clone)]
struct Stored {
    object: EncodedObject,
    selectable: Selectable,
}

/// The objects, the registry of resources and the counters.
#[derive(Debug, Default)]
pub struct Store {
    registry: Registry,
    objects: HashMap<ResourceKey, BTreeMap<ObjectKey, Stored>>,
    /// Objects per resource and namespace, for `remainingItemCount` without counting.
    counts: HashMap<ResourceKey, HashMap<String, usize>>,
    resource_version: u64,
    continue_floor: u64,
    uid_counter: u64,
    dry_run_counter: u64,
    summaries: BTreeMap<String, Value>,
    /// How the disruption controller keeps PodDisruptionBudget status.
    pub(crate) disruption: crate::disruption::Mode,
    /// Graceful deletions in progress: pods that the kubelet will remove when their grace
    /// period ends.
    pub(crate) terminations: crate::kubelet::Terminations,
}

/// The namespaces kube-apiserver creates at start.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-node-lease", "kube-public", "kube-system"];

impl Store {
    /// An empty store serving the built-in resources.
    pub fn new() -> Self {
        Self::default()
    }

    /// The served resources.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Adds or replaces an object as seeded state: the resource is found by apiVersion/kind
    /// (an unknown kind is registered and served generically), a namespaced object without
    /// namespace goes to `default`, and uid, resourceVersion and creationTimestamp are filled in
    /// when missing.
    pub fn insert(&mut self, mut object: Value) -> Result<ResourceInfo, StoreError> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .ok_or(StoreError::Incomplete("apiVersion"))?
            .to_string();
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(StoreError::Incomplete("kind"))?
            .to_string();
        let name = metadata_str(&object, "name")
            .ok_or(StoreError::Incomplete("metadata.name"))?
            .to_string();
        let namespace = metadata_str(&object, "namespace").map(str::to_string);
        let info = match self.registry.by_kind(&api_version, &kind) {
            Some(info) => info.clone(),
            None => self
                .registry
                .add(ResourceInfo::generic(
                    &api_version,
                    &kind,
                    namespace.is_some(),
                ))
                .clone(),
        };
        let namespace = if info.namespaced {
            namespace.unwrap_or_else(|| "default".to_string())
        } else {
            String::new()
        };
        if info.storage_key() != info.key() {
            // events.k8s.io/v1 Events are kept in the core form, like every other Event.
            object = crate::strategy::event::to_core(&object);
        }
        let rv = self.next_resource_version();
        let uid = self.next_uid();
        let tracks_generation = crate::strategy::for_resource(&info).tracks_generation();
        let meta = metadata_mut(&mut object);
        if info.namespaced {
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        meta.entry("uid").or_insert_with(|| json!(uid));
        meta.entry("creationTimestamp")
            .or_insert_with(|| json!(now_timestamp()));
        if tracks_generation {
            meta.entry("generation").or_insert_with(|| json!(1));
        }
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        self.put(&info, (namespace, name), &object);
        Ok(info)
    }

    /// Makes sure the namespaces every cluster has ([`SYSTEM_NAMESPACES`]) and every namespace a
    /// seeded object lives in exist (Active): a snapshot of pods implies their namespaces.
    pub fn ensure_namespaces(&mut self) {
        let Some(namespaces) = self.info("", "namespaces") else {
            return;
        };
        let mut wanted: std::collections::BTreeSet<String> =
            SYSTEM_NAMESPACES.iter().map(|n| n.to_string()).collect();
        for counts in self.counts.values() {
            for (namespace, count) in counts {
                if !namespace.is_empty() && *count > 0 {
                    wanted.insert(namespace.clone());
                }
            }
        }
        for namespace in wanted {
            if self.get(&namespaces, "", &namespace).is_none() {
                // A namespace object is always storable.
                let _ = self.insert(json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace}},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}));
            }
        }
    }

    /// Stores a kubelet `stats/summary` document for a node.
    pub fn insert_summary(&mut self, node: &str, summary: Value) {
        self.summaries.insert(node.to_string(), summary);
    }

    /// The kubelet `stats/summary` document of a node.
    pub fn summary(&self, node: &str) -> Option<&Value> {
        self.summaries.get(node)
    }

    /// One object (decoded: a copy).
    pub fn get(&self, info: &ResourceInfo, namespace: &str, name: &str) -> Option<Value> {
        self.objects
            .get(&info.storage_key())?
            .get(&(namespace.to_string(), name.to_string()))
            .map(|stored| stored.object.decode())
    }

    /// Every object of a resource, in namespace/name order (decoded one at a time).
    pub fn iter(&self, info: &ResourceInfo) -> impl Iterator<Item = Value> {
        self.objects
            .get(&info.storage_key())
            .into_iter()
            .flat_map(|objects| objects.values())
            .map(|stored| stored.object.decode())
    }

    /// The objects of a resource in one namespace, in name order (decoded one at a time).
    pub fn iter_namespace<'a>(
        &'a self,
        info: &ResourceInfo,
        namespace: &'a str,
    ) -> impl Iterator<Item = Value> + 'a {
        self.stored_in_namespace(info, namespace)
            .map(|stored| stored.object.decode())
    }

    /// The objects of a namespace whose labels the selector selects: only those are decoded.
    pub fn iter_namespace_selected<'a>(
        &'a self,
        info: &ResourceInfo,
        namespace: &'a str,
        selector: &'a LabelSelector,
    ) -> impl Iterator<Item = Value> + 'a {
        self.stored_in_namespace(info, namespace)
            .filter(|stored| selector.matches_labels(&stored.selectable))
            .map(|stored| stored.object.decode())
    }

    fn stored_in_namespace<'a>(
        &'a self,
        info: &ResourceInfo,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Stored> + 'a {
        let start = (namespace.to_string(), String::new());
        self.objects
            .get(&info.storage_key())
            .into_iter()
            .flat_map(move |objects| {
                objects
                    .range((Bound::Included(start.clone()), Bound::Unbounded))
                    .take_while(move |((ns, _), _)| ns == namespace)
                    .map(|(_, stored)| stored)
            })
    }

    /// Makes every continue token issued so far expired (the next page answers 410 Gone).
    pub fn expire_continue_tokens(&mut self) {
        self.resource_version += 1;
        self.continue_floor = self.resource_version;
    }

    /// One page of a list. Work is proportional to the objects scanned for the page: the next
    /// page resumes after the last key, and `remainingItemCount` comes from counts and the
    /// offset carried in the continue token. As on a real server, a filtered list may end with
    /// an empty page.
    pub fn list(&self, info: &ResourceInfo, query: &ListQuery) -> Result<ListPage, ApiError> {
        let token = match &query.continue_token {
            Some(token) if !token.is_empty() => {
                let token = ContinueToken::decode(token).ok_or_else(ApiError::expired_continue)?;
                if token.rv < self.continue_floor || token.rv > self.resource_version {
                    return Err(ApiError::expired_continue());
                }
                Some(token)
            }
            _ => None,
        };
        let namespace = query
            .namespace
            .as_deref()
            .or_else(|| query.fields.namespace());
        let (list_rv, offset, start) = match token {
            Some(token) => (token.rv, token.offset, Bound::Excluded(token.start)),
            None => {
                let start = match namespace {
                    Some(ns) => Bound::Included((ns.to_string(), String::new())),
                    None => Bound::Unbounded,
                };
                (self.resource_version, 0, start)
            }
        };
        let empty = BTreeMap::new();
        let objects = self.objects.get(&info.storage_key()).unwrap_or(&empty);
        let range = objects
            .range((start, Bound::Unbounded))
            .take_while(|((ns, _), _)| namespace.is_none_or(|wanted| ns == wanted));
        let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut last_key = None;
        let mut more = false;
        for (key, stored) in range {
            if items.len() == limit {
                more = true;
                break;
            }
            if stored.selectable.matches(&query.labels, &query.fields) {
                items.push(stored.object.clone());
                last_key = Some(key);
            }
        }
        let mut continue_token = None;
        let mut remaining_item_count = None;
        if more && let Some(last_key) = last_key {
            let returned = offset + items.len();
            continue_token = Some(
                ContinueToken {
                    rv: list_rv,
                    start: last_key.clone(),
                    offset: returned,
                }
                .encode(),
            );
            if query.labels.is_empty() && query.fields.is_empty() {
                let total = self.count(info, namespace);
                remaining_item_count = Some(total.saturating_sub(returned).max(1));
            }
        }
        Ok(ListPage {
            items,
            resource_version: list_rv,
            continue_token,
            remaining_item_count,
        })
    }

    /// The served resource with this group (`""` for core) and plural name.
    pub fn info(&self, group: &str, resource: &str) -> Option<ResourceInfo> {
        self.registry
            .all()
            .iter()
            .find(|i| i.group == group && i.resource == resource)
            .cloned()
    }

    /// Stores an object as the new state of (namespace, name) with the next resourceVersion,
    /// and returns the stored copy. The caller has decided the write is valid.
    pub fn commit(&mut self, info: &ResourceInfo, mut object: Value) -> Value {
        let namespace = if info.namespaced {
            metadata_str(&object, "namespace")
                .unwrap_or_default()
                .to_string()
        } else {
            String::new()
        };
        let name = metadata_str(&object, "name")
            .unwrap_or_default()
            .to_string();
        let rv = self.next_resource_version();
        metadata_mut(&mut object).insert("resourceVersion".into(), json!(rv.to_string()));
        self.put(info, (namespace, name), &object);
        object
    }

    /// Removes an object (a new resourceVersion is used up, as etcd's delete revision);
    /// false if there was none.
    pub fn remove(&mut self, info: &ResourceInfo, namespace: &str, name: &str) -> bool {
        let key = info.storage_key();
        let removed = self
            .objects
            .get_mut(&key)
            .and_then(|objects| objects.remove(&(namespace.to_string(), name.to_string())));
        if removed.is_none() {
            return false;
        }
        self.resource_version += 1;
        if let Some(count) = self
            .counts
            .get_mut(&key)
            .and_then(|counts| counts.get_mut(namespace))
        {
            *count = count.saturating_sub(1);
        }
        true
    }

    /// A new uid for a created object.
    pub fn new_uid(&mut self) -> String {
        self.next_uid()
    }

    /// A uid for a dry-run create: unique, and not taken from the sequence real creates use.
    pub fn dry_run_uid(&mut self) -> String {
        self.dry_run_counter += 1;
        format_uid(self.dry_run_counter | (1 << 47))
    }

    /// A name from `generateName` (five characters, as `names.SimpleNameGenerator`).
    pub fn generate_name(&mut self, prefix: &str) -> String {
        self.dry_run_counter += 1;
        format!("{prefix}{}", self.random_suffix())
    }

    /// Stores an object, keeping the per-namespace counts.
    fn put(&mut self, info: &ResourceInfo, key: ObjectKey, object: &Value) {
        let namespace = key.0.clone();
        let stored = Stored {
            object: EncodedObject::encode(object),
            selectable: Selectable::of(object),
        };
        let previous = self
            .objects
            .entry(info.storage_key())
            .or_default()
            .insert(key, stored);
        if previous.is_none() {
            *self
                .counts
                .entry(info.storage_key())
                .or_default()
                .entry(namespace)
                .or_default() += 1;
        }
    }

    /// How many objects of a resource are in a namespace (or in all, with `None`).
    fn count(&self, info: &ResourceInfo, namespace: Option<&str>) -> usize {
        match namespace {
            None => self
                .objects
                .get(&info.storage_key())
                .map_or(0, BTreeMap::len),
            Some(namespace) => self
                .counts
                .get(&info.storage_key())
                .and_then(|counts| counts.get(namespace))
                .copied()
                .unwrap_or(0),
        }
    }

    fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        format_uid(self.uid_counter)
    }

    fn random_suffix(&self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut x = splitmix64(
            self.uid_counter ^ (self.resource_version << 20) ^ (self.dry_run_counter << 40),
        );
        let mut suffix = String::new();
        for _ in 0..5 {
            let index = usize::try_from(x % ALPHABET.len() as u64).unwrap_or(0);
            suffix.push(char::from(ALPHABET[index]));
            x /= ALPHABET.len() as u64;
        }
        suffix
    }
}

/// A string field of `metadata`.
pub fn metadata_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get("metadata")?.get(field)?.as_str()
}

/// The `metadata` map of an object, created if missing.
pub fn metadata_mut(object: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !object.is_object() {
        *object = json!({});
    }
    let map = object
        .as_object_mut()
        .expect("the value was just made an object");
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut()
        .expect("metadata was just made an object")
}

/// Now, as Kubernetes writes timestamps.
pub fn now_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn format_uid(counter: u64) -> String {
    let mixed = splitmix64(counter);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        mixed >> 32,
        (mixed >> 16) & 0xffff,
        mixed & 0xfff,
        (counter >> 48) & 0xfff,
        counter & 0xffff_ffff_ffff
    )
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a continue token carries: the list's resourceVersion, the last key returned and how
/// many objects were returned before.
struct ContinueToken {
    rv: u64,
    start: ObjectKey,
    offset: usize,
}

impl ContinueToken {
    fn encode(&self) -> String {
        let (namespace, name) = &self.start;
        let token = json!({"v": "meta.k8s.io/v1", "rv": self.rv,
            "start": [namespace, name], "offset": self.offset});
        BASE64.encode(token.to_string())
    }

    fn decode(token: &str) -> Option<Self> {
        let bytes = BASE64.decode(token).ok()?;
        let token: Value = serde_json::from_slice(&bytes).ok()?;
        let start = token.get("start")?.as_array()?;
        Some(Self {
            rv: token.get("rv")?.as_u64()?,
            start: (
                start.first()?.as_str()?.to_string(),
                start.get(1)?.as_str()?.to_string(),
            ),
            offset: usize::try_from(token.get("offset")?.as_u64()?).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, app: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
               "spec": {"nodeName": "n1"}})
    }

    fn store_with_pods() -> (Store, ResourceInfo) {
        let mut store = Store::new();
        let mut info = None;
        for (ns, name, app) in [
            ("b", "p2", "web"),
            ("a", "p1", "web"),
            ("b", "p1", "db"),
            ("c", "p1", "web"),
            ("a", "p2", "db"),
        ] {
            info = Some(store.insert(pod(ns, name, app)).expect("insert"));
        }
        (store, info.expect("a pod was inserted"))
    }

    fn names(page: &ListPage) -> Vec<String> {
        page.items
            .iter()
            .map(|o| {
                let o = &o.decode();
                format!(
                    "{}/{}",
                    metadata_str(o, "namespace").unwrap_or_default(),
                    metadata_str(o, "name").unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn paginates_in_namespace_name_order() {
        let (store, info) = store_with_pods();
        let mut query = ListQuery {
            limit: Some(2),
            ..ListQuery::default()
        };
        let mut seen = Vec::new();
        let mut remaining = Vec::new();
        loop {
            let page = store.list(&info, &query).expect("page");
            seen.extend(names(&page));
            remaining.push(page.remaining_item_count);
            match page.continue_token {
                Some(token) => query.continue_token = Some(token),
                None => break,
            }
        }
        assert_eq!(seen, ["a/p1", "a/p2", "b/p1", "b/p2", "c/p1"]);
        assert_eq!(remaining, [Some(3), Some(1), None]);
    }

    #[test]
    fn paginates_with_selector_and_namespace() {
        let (store, info) = store_with_pods();
        let query = ListQuery {
            labels: LabelSelector::parse("app=web").expect("selector"),
            limit: Some(1),
            ..ListQuery::default()
        };
        let first = store.list(&info, &query).expect("page");
        assert_eq!(names(&first), ["a/p1"]);
        assert_eq!(first.remaining_item_count, None);
        let second = store
            .list(
                &info,
                &ListQuery {
                    continue_token: first.continue_token,
                    ..query.clone()
                },
            )
            .expect("page");
        assert_eq!(names(&second), ["b/p2"]);
        let in_b = ListQuery {
            namespace: Some("b".into()),
            ..ListQuery::default()
        };
        assert_eq!(
            names(&store.list(&info, &in_b).expect("list")),
            ["b/p1", "b/p2"]
        );
    }

    #[test]
    fn expired_and_malformed_tokens_are_gone() {
        let (mut store, info) = store_with_pods();
        let query = ListQuery {
            limit: Some(2),
            ..ListQuery::default()
        };
        let token = store.list(&info, &query).expect("page").continue_token;
        store.expire_continue_tokens();
        let expired = store
            .list(
                &info,
                &ListQuery {
                    continue_token: token,
                    ..query.clone()
                },
            )
            .expect_err("expired");
        assert_eq!((expired.code, expired.reason.as_str()), (410, "Expired"));
        let malformed = ListQuery {
            continue_token: Some("not-a-token".into()),
            ..query.clone()
        };
        assert_eq!(store.list(&info, &malformed).expect_err("bad").code, 410);
        // A fresh list after expiry paginates again.
        let fresh = store.list(&info, &query).expect("page");
        let next = ListQuery {
            continue_token: fresh.continue_token,
            ..query
        };
        assert_eq!(
            names(&store.list(&info, &next).expect("page")),
            ["b/p1", "b/p2"]
        );
    }
}
