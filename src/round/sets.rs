//! Several playbook sets planned on one read of the cluster, for `rounds diff`: the base and
//! head of a pull request are compared on exactly the same objects, so every difference in
//! the plans comes from the playbooks, never from the cluster changing between two reads.

use super::collect::Collector;
use super::{RoundOptions, active, due, report};
use crate::api::Api;
use crate::detect::{DetectContext, Reads};
use crate::inventory::live::{self, Collection, LiveError, Wanted};
use crate::inventory::snapshot::{self, SnapshotError};
use crate::objects::{Decoded, Object};
use crate::playbook::Loaded;
use crate::report::RoundReport;
use std::collections::BTreeSet;

fn copy(d: &Decoded) -> Decoded {
    match d {
        Decoded::Object(o) => Decoded::Object(o.clone()),
        Decoded::Ignored { api_version, kind } => Decoded::Ignored {
            api_version: api_version.clone(),
            kind: kind.clone(),
        },
    }
}

/// Hands one object to every collector (a copy to all but the last).
fn accept_all(collectors: &mut [(Vec<bool>, Collector)], d: Decoded) {
    if let Some(((_, last), rest)) = collectors.split_last_mut() {
        for (_, c) in rest {
            c.accept(copy(&d));
        }
        last.accept(d);
    }
}

fn collectors<'a>(sets: &[&'a [Loaded]], opts: &RoundOptions) -> Vec<(Vec<bool>, Collector<'a>)> {
    sets.iter()
        .map(|set| {
            let due = due(set, opts.now);
            let c = Collector::new(active(set, &due), DetectContext { now: opts.now });
            (due, c)
        })
        .collect()
}

/// Plans each set over one read of the snapshot. Writes nothing.
pub fn plan_snapshot_sets(
    sets: &[&[Loaded]],
    opts: &RoundOptions,
) -> Result<Vec<RoundReport>, SnapshotError> {
    let mut cs = collectors(sets, opts);
    let read_notes = snapshot::read(&opts.snapshot, opts.snapshot_limits, &mut |d| {
        accept_all(&mut cs, d)
    })?;
    for o in &opts.extra {
        accept_all(&mut cs, Decoded::Object(o.clone()));
    }
    let source = opts
        .snapshot
        .iter()
        .map(|p| format!("snapshot {}", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut reports = finish(sets, cs, &source, opts);
    for r in &mut reports {
        r.notes.splice(0..0, read_notes.iter().cloned());
    }
    Ok(reports)
}

/// Plans each set over one read of the API: each collection any set needs is listed once, and
/// what the findings of any set refer to is fetched once. Writes nothing.
pub async fn plan_live_sets(
    sets: &[&[Loaded]],
    opts: &RoundOptions,
    api: &Api,
) -> Result<Vec<RoundReport>, LiveError> {
    let mut cs = collectors(sets, opts);
    let reads: BTreeSet<Reads> = cs.iter().flat_map(|(_, c)| c.reads()).collect();
    let mut collections: BTreeSet<Collection> = reads
        .iter()
        .filter_map(|r| Collection::for_reads(*r))
        .collect();
    if cs.iter().any(|(_, c)| c.needs_namespaces()) {
        collections.insert(Collection::Namespaces);
    }
    let wants_summaries = reads.contains(&Reads::StatsSummaries);
    let mut nodes = Vec::new();
    for c in collections {
        live::list_all(api, c, opts.page_size, &mut |d| {
            if wants_summaries && let Decoded::Object(Object::Node(n)) = &d {
                nodes.push(n.metadata.name.clone());
            }
            accept_all(&mut cs, d);
        })
        .await?;
    }
    let mut notes = Vec::new();
    if wants_summaries {
        live::stats_summaries(api, &nodes, &mut |d| accept_all(&mut cs, d), &mut notes).await?;
    }
    for o in &opts.extra {
        accept_all(&mut cs, Decoded::Object(o.clone()));
    }
    let mut wanted = Wanted::default();
    for (_, c) in &cs {
        let w = c.wanted();
        wanted.controllers.extend(w.controllers);
        wanted.claims.extend(w.claims);
        wanted.namespaces.extend(w.namespaces);
    }
    // Every collector saw the same objects, so one index with what was fetched serves all.
    if let Some(((_, first), rest)) = cs.split_first_mut() {
        live::resolve(api, &mut first.index, wanted).await?;
        for (_, c) in rest {
            c.index = first.index.clone();
        }
    }
    let source = format!("cluster {}", api.url());
    let mut reports = finish(sets, cs, &source, opts);
    for r in &mut reports {
        r.notes.extend(notes.iter().cloned());
    }
    Ok(reports)
}

fn finish(
    sets: &[&[Loaded]],
    cs: Vec<(Vec<bool>, Collector)>,
    source: &str,
    opts: &RoundOptions,
) -> Vec<RoundReport> {
    sets.iter()
        .zip(cs)
        .map(|(set, (due, c))| {
            let mut collected = c.finish();
            super::context::from_index(&mut collected.findings, set, &collected.index);
            report(set, &due, collected, source.to_owned(), opts)
        })
        .collect()
}
