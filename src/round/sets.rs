//! Several playbook sets planned on one read of the cluster, for `rounds diff`: the base and
//! head of a pull request are compared on exactly the same objects, so every difference in
//! the plans comes from the playbooks, never from the cluster changing between two reads.
//!
//! Each set is then planned and guarded as its own plan round (mode `plan`: nothing is sent),
//! with the runner config's defaults and no ledger, as `rounds plan --snapshot` does.

use super::collect::Collector;
use super::{
    Inventory, Mode, RoundConfig, RoundOptions, SnapshotRoundError, active, default_config,
    evidence, finish_offline,
};
use crate::api::Api;
use crate::detect::{DetectContext, Reads};
use crate::inventory::live::{self, Collection, LiveError, Wanted};
use crate::inventory::snapshot;
use crate::inventory::{Index, reread};
use crate::ledger::LedgerState;
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

/// One set's round: its configuration, which playbooks are due, and notes about that.
struct Set {
    config: RoundConfig,
    due: Vec<bool>,
    notes: Vec<String>,
}

/// The plan round of each set (mode `plan` whatever `opts` says: a diff never writes).
fn configs(sets: &[&[Loaded]], opts: &RoundOptions) -> Vec<Set> {
    // One run id for every set: rounds' annotation in each patch names the run, and two ids
    // would make every patch of the two plans differ.
    let run_id = super::run_id(
        opts.now,
        sets.iter()
            .flat_map(|s| s.iter().map(|p| p.digest.as_str())),
    );
    sets.iter()
        .map(|set| {
            let mut config = default_config(set, opts);
            config.mode = Mode::Plan;
            config.run_id.clone_from(&run_id);
            let (due, notes) = config.schedules.due(&config.playbooks, config.now);
            Set { config, due, notes }
        })
        .collect()
}

fn collectors(sets: &[Set]) -> Vec<Collector<'_>> {
    sets.iter()
        .map(|s| {
            Collector::new(
                active(&s.config.playbooks, &s.due),
                DetectContext { now: s.config.now },
            )
            .with_shard(s.config.shard)
        })
        .collect()
}

/// Hands one object to every collector (a copy to all but the last).
fn accept_all(collectors: &mut [Collector], d: Decoded) {
    if let Some((last, rest)) = collectors.split_last_mut() {
        for c in rest {
            c.accept(copy(&d));
        }
        last.accept(d);
    }
}

/// Plans each set over one read of the snapshot. Writes nothing.
pub fn plan_snapshot_sets(
    sets: &[&[Loaded]],
    opts: &RoundOptions,
) -> Result<Vec<RoundReport>, SnapshotRoundError> {
    let sets = configs(sets, opts);
    let mut cs = collectors(&sets);
    let again = reread::rereadable(&opts.snapshot);
    if again {
        cs = cs
            .into_iter()
            .map(Collector::keeping_wanted_owners)
            .collect();
    }
    let read_notes = snapshot::read(&opts.snapshot, opts.snapshot_limits, &mut |d| {
        accept_all(&mut cs, d)
    })?;
    if again {
        let mut indexes: Vec<&mut Index> = cs.iter_mut().map(|c| &mut c.index).collect();
        reread::owners(&opts.snapshot, opts.snapshot_limits, &mut indexes)?;
    }
    for c in &mut cs {
        c.index.done_reading();
    }
    for o in &opts.extra {
        accept_all(&mut cs, Decoded::Object(o.clone()));
    }
    let source = opts
        .snapshot
        .iter()
        .map(|p| format!("snapshot {}", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    // Without an API nothing in the finish waits; a minimal runtime drives it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(SnapshotRoundError::Runtime)?;
    Ok(runtime.block_on(finish_all(&sets, cs, &source, &read_notes)))
}

/// Plans each set over one read of the API: each collection any set needs is listed once, and
/// what the findings of any set refer to is fetched once. Writes nothing.
pub async fn plan_live_sets(
    sets: &[&[Loaded]],
    opts: &RoundOptions,
    api: &Api,
) -> Result<Vec<RoundReport>, LiveError> {
    let sets = configs(sets, opts);
    let mut cs = collectors(&sets);
    let reads: BTreeSet<Reads> = cs.iter().flat_map(Collector::reads).collect();
    let mut collections: BTreeSet<Collection> = reads
        .iter()
        .filter_map(|r| Collection::for_reads(*r))
        .collect();
    if cs.iter().any(Collector::needs_namespaces) {
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
    for c in &cs {
        let w = c.wanted();
        wanted.controllers.extend(w.controllers);
        wanted.claims.extend(w.claims);
        wanted.namespaces.extend(w.namespaces);
    }
    // Every collector saw the same objects, so one index with what was fetched serves all.
    if let Some((first, rest)) = cs.split_first_mut() {
        live::resolve(api, &mut first.index, wanted).await?;
        for c in rest {
            c.index = first.index.clone();
        }
    }
    let source = format!("cluster {}", api.url());
    Ok(finish_all(&sets, cs, &source, &notes).await)
}

/// Plans, guards and reports each set as a plan round; `read_notes` (about the one read) go to
/// every report, after the set's own schedule notes.
async fn finish_all(
    sets: &[Set],
    cs: Vec<Collector<'_>>,
    source: &str,
    read_notes: &[String],
) -> Vec<RoundReport> {
    let mut reports = Vec::with_capacity(sets.len());
    for (set, c) in sets.iter().zip(cs) {
        let config = &set.config;
        let mut collected = c.finish();
        evidence::from_index(
            &mut collected.findings,
            &config.playbooks,
            &mut collected.index,
        );
        collected
            .notes
            .splice(0..0, set.notes.iter().chain(read_notes).cloned());
        let inventory = Inventory {
            due: set.due.clone(),
            collected,
            source: source.to_owned(),
        };
        reports.push(finish_offline(config, inventory, LedgerState::Absent, "a plan diff").await);
    }
    reports
}
