//! What to send this round, per (route, channel, group), from the round's findings and the
//! notification log: new and changed groups, repeats after the repeat interval, Alertmanager's
//! refreshes, and resolves for groups that are gone. Pure: nothing is sent or recorded here.

use super::Tier;
use super::config::NotifyConfig;
use super::log::{self, LogEntry, Member, NotificationLog};
use super::message::{self, Gone, Kind, Message, PlaybookRef, Reason};
use super::redact::LogRedactor;
use super::select;
use crate::detect::Finding;
use crate::playbook::Loaded;
use crate::report::RoundReport;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// One message to one channel, and the log state to record if it is delivered.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub channel: String,
    pub key: String,
    pub message: Message,
    pub fallback: Option<String>,
    /// The entry to store on delivery (None: remove the key, for a resolve).
    pub record: Option<LogEntry>,
}

/// A group that needs nothing this round.
#[derive(Debug, Clone)]
pub struct Quiet {
    pub channel: String,
    pub route: String,
    pub group: String,
    pub tier: Tier,
    pub findings: usize,
}

#[derive(Debug, Default)]
pub struct Decisions {
    pub send: Vec<Outgoing>,
    pub quiet: Vec<Quiet>,
    /// Log entries to forget without sending (their route or channel was removed, or the route
    /// does not send resolves).
    pub forget: Vec<String>,
    pub notes: Vec<String>,
}

pub struct Inputs<'a> {
    pub cfg: &'a NotifyConfig,
    pub report: &'a RoundReport,
    pub playbooks: &'a [Loaded],
    pub now: DateTime<Utc>,
    pub dry_run: bool,
    /// Channels that expect firing alerts every round.
    pub refreshes: &'a BTreeSet<String>,
}

struct Group<'a> {
    route: usize,
    text: String,
    labels: BTreeMap<String, String>,
    /// (finding, tier, why raised, muted)
    members: Vec<(&'a Finding, Tier, Vec<String>, bool)>,
}

pub fn decide(inp: &Inputs, log: &mut NotificationLog) -> Decisions {
    let mut d = Decisions::default();
    let r = inp.report;
    let due: BTreeSet<&str> = r
        .playbooks
        .iter()
        .filter(|p| p.due)
        .map(|p| p.name.as_str())
        .collect();
    let known: BTreeSet<&str> = r.playbooks.iter().map(|p| p.name.as_str()).collect();
    let tiers = select::tiers(&r.findings, &r.actions, inp.cfg, log, &due, inp.now);
    let muted = select::muted(&r.findings, &tiers, inp.cfg);
    let routes = select::routes(&r.findings, &tiers, inp.cfg, inp.playbooks);
    let muted_count = muted.iter().filter(|m| **m).count();
    if muted_count > 0 {
        d.notes.push(format!(
            "{muted_count} finding(s) muted by inhibition (a critical finding on the same object, or a NotReady node)"
        ));
    }
    let unrouted = routes.iter().filter(|r| r.is_empty()).count();
    if unrouted > 0 && !inp.cfg.channels.is_empty() {
        d.notes.push(format!(
            "{unrouted} finding(s) matched no notification route and were not sent anywhere"
        ));
    }

    let mut groups: BTreeMap<(usize, String), Group> = BTreeMap::new();
    for (i, f) in r.findings.iter().enumerate() {
        for &ri in &routes[i] {
            let route = &inp.cfg.routes[ri];
            let (text, labels) = select::group_of(route, f, tiers[i].0);
            groups
                .entry((ri, text.clone()))
                .or_insert_with(|| Group {
                    route: ri,
                    text,
                    labels,
                    members: Vec::new(),
                })
                .members
                .push((f, tiers[i].0, tiers[i].1.clone(), muted[i]));
        }
    }

    let redactor = LogRedactor::new(&inp.cfg.redact);
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    for g in groups.values() {
        let route = &inp.cfg.routes[g.route];
        let current: BTreeMap<String, Member> = g
            .members
            .iter()
            .map(|(f, ..)| (log::short(&f.fingerprint), message::member_of(f)))
            .collect();
        let visible: Vec<_> = g.members.iter().filter(|m| !m.3).collect();
        let tier = visible.iter().map(|m| m.1).max().unwrap_or(Tier::Info);
        let mut targets: Vec<String> = route.channels.clone();
        if let Some(fb) = &route.fallback {
            // Keep a fallback's entry while the group fires; it gets the resolve later.
            let k = log::key(&route.name, fb, &g.text);
            if log.entries.contains_key(&k) {
                claimed.insert(k);
            }
        }
        targets.dedup();
        for channel in &targets {
            let key = log::key(&route.name, channel, &g.text);
            claimed.insert(key.clone());
            let entry = log.entries.get(&key);
            // Members remembered from playbooks not due this round are still there.
            let mut members = current.clone();
            let mut gone = Vec::new();
            if let Some(e) = entry {
                for (fp, m) in &e.members {
                    if current.contains_key(fp) {
                        continue;
                    }
                    if known.contains(m.p.as_str()) && !due.contains(m.p.as_str()) {
                        members.insert(fp.clone(), m.clone());
                    } else {
                        gone.push(Gone {
                            fingerprint: fp.clone(),
                            member: m.clone(),
                        });
                    }
                }
            }
            if visible.is_empty() {
                // Everything is muted: say nothing, resolve nothing.
                d.quiet.push(Quiet {
                    channel: channel.clone(),
                    route: route.name.clone(),
                    group: g.text.clone(),
                    tier,
                    findings: 0,
                });
                continue;
            }
            let digest = log::digest(members.keys().map(String::as_str));
            let is_new = |f: &Finding| {
                entry.is_none_or(|e| !e.members.contains_key(&log::short(&f.fingerprint)))
            };
            let new_items = visible.iter().filter(|m| is_new(m.0)).count();
            let reason = match entry {
                None => Some(Reason::New),
                Some(e)
                    if tier > e.tier
                        || (e.digest != digest
                            && (new_items > 0 || (route.send_resolved && !gone.is_empty()))) =>
                {
                    Some(Reason::Changed)
                }
                Some(e) if inp.now - e.last_sent >= inp.cfg.repeat_interval(route, tier) => {
                    Some(Reason::Repeat)
                }
                Some(_) if inp.refreshes.contains(channel) => Some(Reason::Refresh),
                Some(_) => None,
            };
            let Some(reason) = reason else {
                d.quiet.push(Quiet {
                    channel: channel.clone(),
                    route: route.name.clone(),
                    group: g.text.clone(),
                    tier,
                    findings: visible.len(),
                });
                continue;
            };
            let items = visible
                .iter()
                .map(|(f, t, why, _)| {
                    message::item(f, *t, why.clone(), is_new(f), &r.actions, &redactor)
                })
                .collect();
            if !route.send_resolved {
                gone.clear();
            }
            let first_sent = entry.map_or(inp.now, |e| e.first_sent);
            let message = Message {
                kind: Kind::Firing,
                reason,
                tier,
                route: route.name.clone(),
                group: g.text.clone(),
                group_key: group_key(&route.name, &g.text),
                group_labels: g.labels.clone(),
                run_id: r.run_id.clone(),
                dry_run: inp.dry_run,
                fallback_for: None,
                playbooks: playbook_refs(inp, g.members.iter().map(|m| m.0.playbook.as_str())),
                items,
                resolved: gone,
                muted: g.members.len() - visible.len(),
                started_at: first_sent,
                now: inp.now,
                external_url: inp.cfg.external_url.clone(),
            };
            let record = LogEntry {
                route: route.name.clone(),
                channel: channel.clone(),
                group: g.text.clone(),
                tier,
                first_sent,
                last_sent: inp.now,
                digest,
                count: members.len(),
                members,
                via_fallback: false,
            };
            d.send.push(Outgoing {
                channel: channel.clone(),
                key,
                message,
                fallback: route.fallback.clone(),
                record: Some(record),
            });
        }
    }

    // Entries no group claimed: their findings are gone (or their route or channel changed).
    for (key, e) in &log.entries {
        if claimed.contains(key) {
            continue;
        }
        let remaining_not_due = e
            .members
            .values()
            .any(|m| known.contains(m.p.as_str()) && !due.contains(m.p.as_str()));
        if remaining_not_due {
            // Not looked at this round: neither firing nor resolved.
            continue;
        }
        let Some(route) = inp.cfg.routes.iter().find(|r| r.name == e.route) else {
            d.notes.push(format!(
                "route {} is no longer configured: {} stops tracking its group {}",
                e.route, e.channel, e.group
            ));
            d.forget.push(key.clone());
            continue;
        };
        if !inp.cfg.channels.contains_key(&e.channel) {
            d.notes.push(format!(
                "channel {} is no longer configured: the resolve of {} cannot be sent",
                e.channel, e.group
            ));
            d.forget.push(key.clone());
            continue;
        }
        if !route.send_resolved {
            d.forget.push(key.clone());
            continue;
        }
        let resolved = e
            .members
            .iter()
            .map(|(fp, m)| Gone {
                fingerprint: fp.clone(),
                member: m.clone(),
            })
            .collect();
        let message = Message {
            kind: Kind::Resolved,
            reason: Reason::Resolved,
            tier: e.tier,
            route: e.route.clone(),
            group: e.group.clone(),
            group_key: group_key(&e.route, &e.group),
            group_labels: group_labels_of(&e.group),
            run_id: r.run_id.clone(),
            dry_run: inp.dry_run,
            fallback_for: None,
            playbooks: playbook_refs(inp, e.members.values().map(|m| m.p.as_str())),
            items: Vec::new(),
            resolved,
            muted: 0,
            started_at: e.first_sent,
            now: inp.now,
            external_url: inp.cfg.external_url.clone(),
        };
        d.send.push(Outgoing {
            channel: e.channel.clone(),
            key: key.clone(),
            message,
            fallback: None,
            record: None,
        });
    }
    d
}

/// Stable for (route, group) across rounds and channels.
fn group_key(route: &str, group: &str) -> String {
    let k = log::key(route, "", group);
    k.trim_start_matches("sha256:").chars().take(32).collect()
}

fn group_labels_of(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn playbook_refs<'a>(inp: &Inputs, names: impl Iterator<Item = &'a str>) -> Vec<PlaybookRef> {
    let names: BTreeSet<&str> = names.collect();
    names
        .into_iter()
        .map(|n| {
            let entry = inp.report.playbooks.iter().find(|p| p.name == n);
            let loaded = inp.playbooks.iter().find(|p| p.name() == n);
            PlaybookRef {
                name: n.to_owned(),
                digest: entry.map(|e| e.digest.clone()).unwrap_or_default(),
                description: loaded.and_then(|l| l.playbook.spec.description.clone()),
            }
        })
        .collect()
}
