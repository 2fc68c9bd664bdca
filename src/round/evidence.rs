//! Context for the people a finding goes to: its object's recent Events and the previous
//! container's log tail. Gathered after detection, for findings only, as each playbook's
//! `notify.evidence` asks.

use crate::api::{Api, ApiError, Operation};
use crate::detect::{EventSummary, Finding, LogTail, TargetKind};
use crate::inventory::Index;
use crate::objects::{self, Decoded, Event, Object};
use crate::playbook::Loaded;
use futures::StreamExt;
use serde_json::Value;

/// Events per finding; the newest are the ones that explain the present.
const MAX_EVENTS: usize = 5;
const CONCURRENCY: usize = 4;

fn options<'a>(
    playbooks: &'a [Loaded],
    f: &Finding,
) -> Option<&'a crate::playbook::spec::EvidenceOptions> {
    playbooks
        .iter()
        .find(|p| p.name() == f.playbook)
        .map(|p| &p.playbook.spec.notify.evidence)
}

/// The newest events first, at most [`MAX_EVENTS`].
fn summarize<'e>(events: impl IntoIterator<Item = &'e Event>) -> Vec<EventSummary> {
    let mut sorted: Vec<&Event> = events.into_iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.time().and_then(|t| t.time())));
    sorted
        .into_iter()
        .take(MAX_EVENTS)
        .map(|e| EventSummary {
            type_: e.type_.clone(),
            reason: e.reason.clone(),
            message: e.message.clone(),
            count: e.count,
            last_seen: e.time().cloned(),
        })
        .collect()
}

/// Snapshot rounds: Events come from the snapshot; there are no logs in a snapshot. Nothing
/// else reads the index's Events, so they are let go of here.
pub fn from_index(findings: &mut [Finding], playbooks: &[Loaded], index: &mut Index) {
    for f in findings {
        if options(playbooks, f).is_some_and(|o| o.events) {
            let t = &f.target;
            f.context.events = summarize(
                index
                    .events_about(t.kind.as_str(), t.namespace.as_deref(), &t.name)
                    .iter()
                    .map(|e| &**e),
            );
        }
    }
    index.drop_events();
}

/// Live rounds: Events by field selector and the log tail, with bounded concurrency. A
/// missing log (a container that never ran) is no error; a refused one is noted once.
pub async fn fetch(
    api: &Api,
    findings: &mut [Finding],
    playbooks: &[Loaded],
    notes: &mut Vec<String>,
) {
    let wanted: Vec<(bool, u32)> = findings
        .iter()
        .map(|f| options(playbooks, f).map_or((false, 0), |o| (o.events, o.log_tail_lines)))
        .collect();
    let gathered = futures::stream::iter(findings.iter().zip(wanted).map(
        |(f, (events, lines))| async move {
            let events = if events {
                fetch_events(api, f).await
            } else {
                Ok(Vec::new())
            };
            let log = if lines > 0 {
                fetch_log(api, f, lines).await
            } else {
                Ok(None)
            };
            (events, log)
        },
    ))
    .buffered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    let mut refused = std::collections::BTreeSet::new();
    for (f, (events, log)) in findings.iter_mut().zip(gathered) {
        match events {
            Ok(e) => f.context.events = e,
            Err(e) => {
                refused.insert(format!("cannot read Events for findings: {e}"));
            }
        }
        match log {
            Ok(l) => f.context.log_tail = l,
            Err(e) => {
                refused.insert(format!("cannot read container logs for findings: {e}"));
            }
        }
    }
    notes.extend(refused);
}

async fn fetch_events(api: &Api, f: &Finding) -> Result<Vec<EventSummary>, ApiError> {
    let t = &f.target;
    // Nodes' events are recorded in the default namespace.
    let ns = t.namespace.as_deref().unwrap_or("default");
    let path = format!(
        "/api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.kind%3D{},involvedObject.name%3D{}",
        t.kind.as_str(),
        t.name
    );
    let Some(text) = api
        .get_evidence(&path, Operation::new("list", "events", Some(ns)))
        .await?
    else {
        return Ok(Vec::new());
    };
    let list: Value = serde_json::from_str(&text).unwrap_or_default();
    let events: Vec<Event> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let mut item = item.clone();
            item["kind"] = Value::from("Event");
            match objects::decode(item) {
                Ok(Decoded::Object(Object::Event(e))) => Some(*e),
                _ => None,
            }
        })
        .collect();
    Ok(summarize(&events))
}

async fn fetch_log(api: &Api, f: &Finding, lines: u32) -> Result<Option<LogTail>, ApiError> {
    let t = &f.target;
    let (TargetKind::Pod, Some(ns), Some(container)) = (t.kind, &t.namespace, &t.container) else {
        return Ok(None);
    };
    // A container that restarted: its previous run is the one that crashed or was killed.
    let previous = f.evidence.restart_count.unwrap_or(0) > 0;
    let path = format!(
        "/api/v1/namespaces/{ns}/pods/{}/log?container={container}&tailLines={lines}{}",
        t.name,
        if previous { "&previous=true" } else { "" }
    );
    match api
        .get_evidence(&path, Operation::new("get", "pods/log", Some(ns)))
        .await
    {
        Ok(Some(text)) => Ok(Some(LogTail {
            container: container.clone(),
            previous,
            lines: text.lines().map(str::to_owned).collect(),
        })),
        Ok(None) => Ok(None),
        // 400: no such (previous) container run, e.g. an image that was never pulled.
        Err(ApiError::Status { code: 400, .. }) => Ok(None),
        Err(e @ ApiError::Forbidden { .. }) => Err(e),
        Err(e) => {
            tracing::warn!(pod = %t.name, error = %e, "Could not read a container log.");
            Ok(None)
        }
    }
}
