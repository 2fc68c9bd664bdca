//! The live inventory: each kind the due detectors read is listed once, in pages; each page is
//! evaluated as it arrives and then dropped. Afterwards only what findings refer to is fetched
//! (owners, claims and their classes, namespaces), with bounded concurrency.

use super::Index;
use super::stream::DocumentSeed;
use crate::api::{Api, ApiError, Operation};
use crate::detect::Reads;
use crate::objects::{self, Decoded, Object, OwnerReference, WorkloadKind};
use futures::StreamExt;
use serde::de::DeserializeSeed;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// How many requests for evidence (owners, summaries) run at once.
const CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the API's answer to {what} is not a Kubernetes list: {detail}")]
    Shape { what: String, detail: String },
}

/// A collection the inventory lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Collection {
    Pods,
    Nodes,
    Jobs,
    /// Events about nodes only: node-level detectors read them; pods' Events are fetched
    /// per finding.
    NodeEvents,
    Namespaces,
}

impl Collection {
    fn path(self) -> &'static str {
        match self {
            Self::Pods => "/api/v1/pods",
            Self::Nodes => "/api/v1/nodes",
            Self::Jobs => "/apis/batch/v1/jobs",
            Self::NodeEvents => "/api/v1/events?fieldSelector=involvedObject.kind%3DNode",
            Self::Namespaces => "/api/v1/namespaces",
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Self::Pods => "pods",
            Self::Nodes => "nodes",
            Self::Jobs => "jobs",
            Self::NodeEvents => "events",
            Self::Namespaces => "namespaces",
        }
    }

    /// List items carry no `kind`; the collection says what they are.
    fn kind_and_version(self) -> (&'static str, &'static str) {
        match self {
            Self::Pods => ("Pod", "v1"),
            Self::Nodes => ("Node", "v1"),
            Self::Jobs => ("Job", "batch/v1"),
            Self::NodeEvents => ("Event", "v1"),
            Self::Namespaces => ("Namespace", "v1"),
        }
    }

    /// The collection to list for what a detector reads; Prometheus data needs none.
    pub fn for_reads(reads: Reads) -> Option<Self> {
        match reads {
            Reads::Pods => Some(Self::Pods),
            Reads::Nodes | Reads::StatsSummaries => Some(Self::Nodes),
            Reads::Jobs => Some(Self::Jobs),
            Reads::Events => Some(Self::NodeEvents),
            Reads::PrometheusDisk => None,
        }
    }
}

/// Lists a whole collection, page by page, handing each object to `sink` once.
///
/// A continue token that expires mid-list (410) is replaced by the one the server returns with
/// the 410, which goes on after the last object seen; without one the list restarts and objects
/// already handed on are skipped. Either way no object is handed on twice.
pub async fn list_all(
    api: &Api,
    collection: Collection,
    page_size: u32,
    sink: &mut dyn FnMut(Decoded),
) -> Result<(), LiveError> {
    let (kind, api_version) = collection.kind_and_version();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut token: Option<String> = None;
    let started = std::time::Instant::now();
    let mut pages = 0u32;
    loop {
        pages += 1;
        let base = collection.path();
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut path = format!("{base}{sep}limit={page_size}");
        if let Some(t) = &token {
            path.push_str("&continue=");
            path.push_str(&encode_query(t));
        }
        let op = Operation::new("list", collection.resource(), None);
        let text = match api.list(&path, op).await {
            Ok(t) => t,
            Err(ApiError::Expired { continue_token, .. }) => {
                tracing::warn!(
                    collection = collection.resource(),
                    "The list's continue token expired; going on."
                );
                token = continue_token;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut failure = None;
        let mut handle = |mut item: Value| -> Result<(), String> {
            if let Some(map) = item.as_object_mut() {
                map.entry("kind").or_insert_with(|| Value::from(kind));
                map.entry("apiVersion")
                    .or_insert_with(|| Value::from(api_version));
            }
            if !seen.insert(identity(&item)) {
                return Ok(());
            }
            match objects::decode(item) {
                Ok(d) => {
                    sink(d);
                    Ok(())
                }
                Err(e) => {
                    let msg = e.to_string();
                    failure = Some(msg.clone());
                    Err(msg)
                }
            }
        };
        let mut de = serde_json::Deserializer::from_str(&text);
        let meta = DocumentSeed::new(&mut handle)
            .deserialize(&mut de)
            .map_err(|e| LiveError::Shape {
                what: format!("GET {path}"),
                detail: failure.clone().unwrap_or_else(|| e.to_string()),
            })?;
        token = meta
            .as_ref()
            .and_then(|m| m.get("continue"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            // Where a live round's time goes: the lists, or the requests for evidence.
            tracing::info!(
                collection = collection.resource(),
                objects = seen.len(),
                pages,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Listed a collection."
            );
            return Ok(());
        }
    }
}

fn identity(item: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    item.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .hash(&mut h);
    item.pointer("/metadata/name")
        .and_then(Value::as_str)
        .hash(&mut h);
    h.finish()
}

/// Percent-encodes a continue token for a query string.
fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fetches each node's kubelet stats summary through the API server's node proxy. A node that
/// does not answer (NotReady, kubelet down) is noted, not fatal.
pub async fn stats_summaries(
    api: &Api,
    nodes: &[String],
    sink: &mut dyn FnMut(Decoded),
    notes: &mut Vec<String>,
) -> Result<(), LiveError> {
    let fetches = futures::stream::iter(nodes.iter().map(|node| async move {
        let path = format!("/api/v1/nodes/{node}/proxy/stats/summary");
        let op = Operation::new("get", "nodes/proxy", None);
        (node, api.get_evidence(&path, op).await)
    }))
    .buffered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    // Nodes without a summary are grouped into one note: with hundreds of unreachable
    // kubelets, a line each would bury the report.
    let mut missing: Vec<(String, String)> = Vec::new();
    for (node, result) in fetches {
        match result {
            Ok(Some(text)) => match serde_json::from_str::<Value>(&text)
                .map_err(|e| e.to_string())
                .and_then(|v| objects::decode(v).map_err(|e| e.to_string()))
            {
                Ok(d) => sink(d),
                Err(e) => missing.push((node.clone(), format!("unreadable: {e}"))),
            },
            Ok(None) => missing.push((node.clone(), "404 Not Found".into())),
            Err(e @ ApiError::Forbidden { .. }) => return Err(e.into()),
            Err(e) => missing.push((node.clone(), e.to_string())),
        }
    }
    if let Some((node, why)) = missing.first() {
        notes.push(format!(
            "no kubelet stats summary from {} of {} node(s), so their disk usage was not checked; first: node {node}: {why}",
            missing.len(),
            nodes.len()
        ));
    }
    Ok(())
}

/// What findings refer to and the index must hold before planning.
#[derive(Debug, Default)]
pub struct Wanted {
    pub controllers: BTreeSet<(String, OwnerReference)>,
    pub claims: BTreeSet<(String, String)>,
    pub namespaces: BTreeSet<String>,
}

/// Fetches what findings refer to into the index: each owner up its chain, each claim and its
/// StorageClass, each namespace a namespaceSelector must check. Missing objects stay missing.
pub async fn resolve(api: &Api, index: &mut Index, wanted: Wanted) -> Result<(), LiveError> {
    let mut pending: Vec<(String, OwnerReference)> = wanted.controllers.into_iter().collect();
    let mut asked: HashSet<(String, String, String)> = HashSet::new();
    while !pending.is_empty() {
        // Owners already listed (a Job, when jobs are read) are not fetched, but their own
        // controller (the Job's CronJob) still is.
        let mut known: Vec<(String, OwnerReference)> = Vec::new();
        let batch: Vec<(String, OwnerReference, String)> = pending
            .drain(..)
            .filter_map(|(ns, r)| {
                let kind = WorkloadKind::from_kind(&r.kind)?;
                if !asked.insert((ns.clone(), r.kind.clone(), r.name.clone())) {
                    return None;
                }
                if let Some(w) = index.workload(kind, &ns, &r.name) {
                    if let Some(next) = w.metadata.controller() {
                        known.push((ns, next.clone()));
                    }
                    return None;
                }
                let path = format!(
                    "{}/namespaces/{ns}/{}/{}",
                    kind.api_path_prefix(),
                    kind.resource(),
                    r.name
                );
                Some((ns, r, path))
            })
            .collect();
        pending.append(&mut known);
        fetch_each(
            api,
            batch.iter().map(|(ns, r, path)| {
                let kind = WorkloadKind::from_kind(&r.kind).map_or("", |k| k.resource());
                (path.clone(), kind.to_owned(), Some(ns.clone()))
            }),
            |object| {
                if let Object::Workload(w) = &object
                    && let Some(next) = w.metadata.controller()
                {
                    pending.push((w.namespace().to_owned(), next.clone()));
                }
                index.add(object);
            },
        )
        .await?;
    }
    let mut classes = BTreeSet::new();
    fetch_each(
        api,
        wanted.claims.iter().map(|(ns, name)| {
            (
                format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}"),
                "persistentvolumeclaims".to_owned(),
                Some(ns.clone()),
            )
        }),
        |object| {
            if let Object::Pvc(p) = &object
                && let Some(c) = &p.spec.storage_class_name
            {
                classes.insert(c.clone());
            }
            index.add(object);
        },
    )
    .await?;
    fetch_each(
        api,
        classes
            .iter()
            .map(|c| {
                (
                    format!("/apis/storage.k8s.io/v1/storageclasses/{c}"),
                    "storageclasses".to_owned(),
                    None,
                )
            })
            .chain(wanted.namespaces.iter().map(|n| {
                (
                    format!("/api/v1/namespaces/{n}"),
                    "namespaces".to_owned(),
                    None,
                )
            })),
        |object| index.add(object),
    )
    .await
}

/// GETs objects with bounded concurrency and hands each to `each` in request order as it
/// arrives (a 404 gives nothing): holding them all first held every owner of 1,884 findings
/// decoded at once, the peak of a 100,000-pod live round. The first error ends it.
async fn fetch_each(
    api: &Api,
    requests: impl Iterator<Item = (String, String, Option<String>)>,
    mut each: impl FnMut(Object),
) -> Result<(), LiveError> {
    let results = futures::stream::iter(requests.map(|(path, resource, ns)| async move {
        let op = Operation::new("get", &resource, ns.as_deref());
        let text = api.get(&path, op).await?;
        let Some(text) = text else { return Ok(None) };
        let value: Value = serde_json::from_str(&text).map_err(|e| LiveError::Shape {
            what: format!("GET {path}"),
            detail: e.to_string(),
        })?;
        match objects::decode(value) {
            Ok(Decoded::Object(o)) => Ok(Some(o)),
            Ok(Decoded::Ignored { .. }) => Ok(None),
            Err(e) => Err(LiveError::Shape {
                what: format!("GET {path}"),
                detail: e.to_string(),
            }),
        }
    }))
    .buffered(CONCURRENCY);
    let mut results = std::pin::pin!(results);
    while let Some(result) = results.next().await {
        if let Some(object) = result? {
            each(object);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_are_query_safe() {
        assert_eq!(encode_query("eyJ2Ijo+/=="), "eyJ2Ijo%2B%2F%3D%3D");
    }
}
