//! The in-memory object store: `serde_json::Value` objects in B-trees keyed by
//! (group/resource, namespace, name), a global resourceVersion counter, and continue tokens.

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
    /// The objects of the page, in namespace/name order.
    pub items: Vec<Value>,
    /// `metadata.resourceVersion` of the list.
    pub resource_version: u64,
    /// `metadata.continue`, when more objects follow.
    pub continue_token: Option<String>,
    /// `metadata.remainingItemCount`, when more objects follow and no selector was given.
    pub remaining_item_count: Option<usize>,
}

/// `preconditions` of a DeleteOptions body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
}

/// Which part of an object an update writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateTarget {
    /// The main resource: the stored `status` is kept for resources with a status subresource.
    Main,
    /// The `status` subresource: only `status` changes.
    Status,
}

/// The objects, the registry of resources and the counters.
#[derive(Debug, Default)]
pub struct Store {
    registry: Registry,
    objects: HashMap<ResourceKey, BTreeMap<ObjectKey, Value>>,
    /// Objects per resource and namespace, for `remainingItemCount` without counting.
    counts: HashMap<ResourceKey, HashMap<String, usize>>,
    resource_version: u64,
    continue_floor: u64,
    uid_counter: u64,
    summaries: BTreeMap<String, Value>,
}

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
        let rv = self.next_resource_version();
        let uid = self.next_uid();
        let meta = metadata_mut(&mut object);
        if info.namespaced {
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        meta.entry("uid").or_insert_with(|| json!(uid));
        meta.entry("creationTimestamp")
            .or_insert_with(|| json!(now_timestamp()));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        self.put(&info, (namespace, name), object);
        Ok(info)
    }

    /// Stores a kubelet `stats/summary` document for a node.
    pub fn insert_summary(&mut self, node: &str, summary: Value) {
        self.summaries.insert(node.to_string(), summary);
    }

    /// The kubelet `stats/summary` document of a node.
    pub fn summary(&self, node: &str) -> Option<&Value> {
        self.summaries.get(node)
    }

    /// One object.
    pub fn get(&self, info: &ResourceInfo, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&info.key())?
            .get(&(namespace.to_string(), name.to_string()))
    }

    /// Every object of a resource, in namespace/name order.
    pub fn iter(&self, info: &ResourceInfo) -> impl Iterator<Item = &Value> {
        self.objects
            .get(&info.key())
            .into_iter()
            .flat_map(|objects| objects.values())
    }

    /// The objects of a resource in one namespace, in name order.
    pub fn iter_namespace<'a>(
        &'a self,
        info: &ResourceInfo,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        let start = (namespace.to_string(), String::new());
        self.objects
            .get(&info.key())
            .into_iter()
            .flat_map(move |objects| {
                objects
                    .range((Bound::Included(start.clone()), Bound::Unbounded))
                    .take_while(move |((ns, _), _)| ns == namespace)
                    .map(|(_, object)| object)
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
        let objects = self.objects.get(&info.key()).unwrap_or(&empty);
        let range = objects
            .range((start, Bound::Unbounded))
            .take_while(|((ns, _), _)| namespace.is_none_or(|wanted| ns == wanted));
        let limit = query.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut last_key = None;
        let mut more = false;
        for (key, object) in range {
            if items.len() == limit {
                more = true;
                break;
            }
            if query.labels.matches(object) && query.fields.matches(object) {
                items.push(object.clone());
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

    /// Creates an object (POST). Fills uid, resourceVersion, creationTimestamp, generation and
    /// a name from `generateName`; with `dry_run` nothing is stored.
    pub fn create(
        &mut self,
        info: &ResourceInfo,
        namespace: &str,
        mut object: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !object.is_object() {
            return Err(ApiError::bad_request(
                "the request body is not a JSON object",
            ));
        }
        let map = object
            .as_object_mut()
            .ok_or_else(|| ApiError::bad_request("the request body is not a JSON object"))?;
        map.insert("apiVersion".into(), json!(info.api_version()));
        map.insert("kind".into(), json!(info.kind));
        let mut name = metadata_str(&object, "name")
            .unwrap_or_default()
            .to_string();
        if name.is_empty() {
            match metadata_str(&object, "generateName") {
                Some(prefix) if !prefix.is_empty() => {
                    name = format!("{prefix}{}", self.random_suffix());
                }
                _ => {
                    return Err(ApiError::invalid(
                        info,
                        "",
                        "metadata.name: Required value: name or generateName is required",
                    ));
                }
            }
        }
        if let Some(body_ns) = metadata_str(&object, "namespace")
            && info.namespaced
            && !body_ns.is_empty()
            && body_ns != namespace
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let key = (namespace.to_string(), name.clone());
        if self
            .objects
            .get(&info.key())
            .is_some_and(|objects| objects.contains_key(&key))
        {
            return Err(ApiError::already_exists(info, &name));
        }
        let rv = self.resource_version + 1;
        let uid = self.peek_uid();
        let meta = metadata_mut(&mut object);
        meta.insert("name".into(), json!(name));
        if info.namespaced {
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        meta.insert("uid".into(), json!(uid));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        meta.insert("creationTimestamp".into(), json!(now_timestamp()));
        meta.remove("deletionTimestamp");
        if object.get("spec").is_some() {
            metadata_mut(&mut object).insert("generation".into(), json!(1));
        }
        if !dry_run {
            self.resource_version = rv;
            self.uid_counter += 1;
            self.put(info, key, object.clone());
        }
        Ok(object)
    }

    /// Replaces an object (PUT, or the result of a PATCH). A `metadata.resourceVersion` in the
    /// new object must equal the stored one (409 Conflict otherwise).
    pub fn update(
        &mut self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        mut object: Value,
        target: UpdateTarget,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !object.is_object() {
            return Err(ApiError::bad_request(
                "the request body is not a JSON object",
            ));
        }
        let current = self
            .get(info, namespace, name)
            .ok_or_else(|| ApiError::not_found(info, name))?
            .clone();
        if let Some(body_name) = metadata_str(&object, "name")
            && body_name != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if let Some(rv) = metadata_str(&object, "resourceVersion")
            && !rv.is_empty()
            && Some(rv) != metadata_str(&current, "resourceVersion")
        {
            return Err(ApiError::modified(info, name));
        }
        if let Some(map) = object.as_object_mut() {
            map.insert("apiVersion".into(), json!(info.api_version()));
            map.insert("kind".into(), json!(info.kind));
        }
        let mut updated = match target {
            UpdateTarget::Status => {
                let mut updated = current.clone();
                if let Some(map) = updated.as_object_mut() {
                    match object.get("status") {
                        Some(status) => map.insert("status".into(), status.clone()),
                        None => map.remove("status"),
                    };
                }
                updated
            }
            UpdateTarget::Main => {
                if info.has_status()
                    && let Some(map) = object.as_object_mut()
                {
                    match current.get("status") {
                        Some(status) => map.insert("status".into(), status.clone()),
                        None => map.remove("status"),
                    };
                }
                object
            }
        };
        let rv = self.resource_version + 1;
        let generation = current
            .get("metadata")
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64);
        let spec_changed = current.get("spec") != updated.get("spec");
        let meta = metadata_mut(&mut updated);
        meta.insert("name".into(), json!(name));
        if info.namespaced {
            meta.insert("namespace".into(), json!(namespace));
        }
        for field in ["uid", "creationTimestamp"] {
            match current.get("metadata").and_then(|m| m.get(field)) {
                Some(value) => meta.insert(field.into(), value.clone()),
                None => meta.remove(field),
            };
        }
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        match generation {
            Some(generation) => {
                let next = if spec_changed {
                    generation + 1
                } else {
                    generation
                };
                meta.insert("generation".into(), json!(next));
            }
            None => {
                meta.remove("generation");
            }
        }
        if !dry_run {
            self.resource_version = rv;
            self.put(
                info,
                (namespace.to_string(), name.to_string()),
                updated.clone(),
            );
        }
        Ok(updated)
    }

    /// Deletes an object, checking the preconditions first. Returns the deleted object.
    pub fn delete(
        &mut self,
        info: &ResourceInfo,
        namespace: &str,
        name: &str,
        preconditions: &Preconditions,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let current = self
            .get(info, namespace, name)
            .ok_or_else(|| ApiError::not_found(info, name))?;
        if let Some(uid) = &preconditions.uid {
            let actual = metadata_str(current, "uid").unwrap_or_default();
            if uid != actual {
                return Err(ApiError::conflict(
                    info,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                    ),
                ));
            }
        }
        if let Some(rv) = &preconditions.resource_version {
            let actual = metadata_str(current, "resourceVersion").unwrap_or_default();
            if rv != actual {
                return Err(ApiError::conflict(
                    info,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
                    ),
                ));
            }
        }
        let deleted = current.clone();
        if !dry_run {
            self.resource_version += 1;
            let removed = self
                .objects
                .get_mut(&info.key())
                .and_then(|objects| objects.remove(&(namespace.to_string(), name.to_string())));
            if removed.is_some()
                && let Some(count) = self
                    .counts
                    .get_mut(&info.key())
                    .and_then(|counts| counts.get_mut(namespace))
            {
                *count = count.saturating_sub(1);
            }
        }
        Ok(deleted)
    }

    /// Stores an object, keeping the per-namespace counts.
    fn put(&mut self, info: &ResourceInfo, key: ObjectKey, object: Value) {
        let namespace = key.0.clone();
        let previous = self
            .objects
            .entry(info.key())
            .or_default()
            .insert(key, object);
        if previous.is_none() {
            *self
                .counts
                .entry(info.key())
                .or_default()
                .entry(namespace)
                .or_default() += 1;
        }
    }

    /// How many objects of a resource are in a namespace (or in all, with `None`).
    fn count(&self, info: &ResourceInfo, namespace: Option<&str>) -> usize {
        match namespace {
            None => self.objects.get(&info.key()).map_or(0, BTreeMap::len),
            Some(namespace) => self
                .counts
                .get(&info.key())
                .and_then(|counts| counts.get(namespace))
                .copied()
                .unwrap_or(0),
        }
    }

    fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    fn peek_uid(&self) -> String {
        format_uid(self.uid_counter + 1)
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        format_uid(self.uid_counter)
    }

    fn random_suffix(&self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut x = splitmix64(self.uid_counter ^ (self.resource_version << 20));
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

    #[test]
    fn update_checks_resource_version_and_keeps_status() {
        let mut store = Store::new();
        let info = store
            .insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "generation": 1},
                "spec": {"replicas": 1}, "status": {"replicas": 1}}))
            .expect("insert");
        let current = store.get(&info, "shop", "web").expect("stored").clone();
        let mut changed = current.clone();
        changed["spec"]["replicas"] = json!(3);
        changed["status"]["replicas"] = json!(99);
        let updated = store
            .update(
                &info,
                "shop",
                "web",
                changed.clone(),
                UpdateTarget::Main,
                false,
            )
            .expect("update");
        assert_eq!(updated["spec"]["replicas"], 3);
        assert_eq!(updated["status"]["replicas"], 1);
        assert_eq!(updated["metadata"]["generation"], 2);
        let stale = store
            .update(&info, "shop", "web", changed, UpdateTarget::Main, false)
            .expect_err("stale");
        assert_eq!(stale.code, 409);
        assert!(stale.message.starts_with(
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified"
        ));
    }

    #[test]
    fn create_generates_names_and_rejects_duplicates() {
        let mut store = Store::new();
        let info = store
            .registry()
            .lookup("", "v1", "events")
            .expect("events")
            .clone();
        let event = json!({"metadata": {"generateName": "web-"}, "reason": "Test"});
        let created = store.create(&info, "shop", event, false).expect("create");
        let name = metadata_str(&created, "name").expect("name").to_string();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        assert_eq!(created["kind"], "Event");
        let again = json!({"metadata": {"name": name}});
        assert_eq!(
            store
                .create(&info, "shop", again, false)
                .expect_err("dup")
                .code,
            409
        );
        let dry = json!({"metadata": {"name": "dry"}});
        store.create(&info, "shop", dry, true).expect("dry run");
        assert!(store.get(&info, "shop", "dry").is_none());
    }

    #[test]
    fn delete_checks_preconditions() {
        let (mut store, info) = store_with_pods();
        let wrong = Preconditions {
            uid: Some("nope".into()),
            resource_version: None,
        };
        let err = store
            .delete(&info, "a", "p1", &wrong, false)
            .expect_err("uid");
        assert_eq!(err.code, 409);
        assert!(
            err.message
                .contains("Precondition failed: UID in precondition: nope")
        );
        store
            .delete(&info, "a", "p1", &Preconditions::default(), true)
            .expect("dry run");
        assert!(store.get(&info, "a", "p1").is_some());
        store
            .delete(&info, "a", "p1", &Preconditions::default(), false)
            .expect("delete");
        assert!(store.get(&info, "a", "p1").is_none());
    }
}
