//! Turns a stream of objects into findings: every due playbook's detector looks at each object
//! once as it arrives; afterwards scope, owners, thresholds and fingerprints are applied.

use super::context::NodeCounts;
use crate::detect::{DetectContext, Detection, Finding, Reads};
use crate::inventory::{Index, owners};
use crate::objects::{Decoded, Object, WorkloadKind};
use crate::playbook::Loaded;
use crate::playbook::scope::NamespaceLabels;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a pass over the inventory gave: findings in playbook order, the index later steps
/// read, notes for the report, and how many objects were read.
pub struct Collected {
    pub findings: Vec<Finding>,
    pub index: Index,
    pub notes: Vec<String>,
    pub objects: usize,
    pub nodes: NodeCounts,
}

pub struct Collector<'a> {
    playbooks: Vec<&'a Loaded>,
    ctx: DetectContext,
    pub index: Index,
    detections: Vec<(usize, Detection)>,
    ignored: BTreeMap<String, usize>,
    detector_notes: Vec<String>,
    pub objects: usize,
    nodes: NodeCounts,
    shard: crate::shard::Shard,
}

impl<'a> Collector<'a> {
    pub fn new(playbooks: Vec<&'a Loaded>, ctx: DetectContext) -> Self {
        Self {
            playbooks,
            ctx,
            index: Index::default(),
            detections: Vec::new(),
            ignored: BTreeMap::new(),
            detector_notes: Vec::new(),
            objects: 0,
            nodes: NodeCounts::default(),
            shard: crate::shard::Shard::WHOLE,
        }
    }

    /// Keeps only the workloads findings point at: for an input that [`reread`] can read
    /// again for an owner that came before its finding.
    ///
    /// [`reread`]: crate::inventory::reread
    pub fn keeping_wanted_owners(mut self) -> Self {
        self.index = Index::keeping_wanted();
        self
    }

    /// Looks only at what belongs to `shard` (an Indexed Job's pod).
    pub fn with_shard(mut self, shard: crate::shard::Shard) -> Self {
        self.shard = shard;
        self
    }

    /// The kinds the due playbooks read, so a live inventory lists only those.
    pub fn reads(&self) -> BTreeSet<Reads> {
        self.playbooks
            .iter()
            .map(|p| p.playbook.spec.detect.imp().reads())
            .collect()
    }

    pub fn accept(&mut self, decoded: Decoded) {
        let object = match decoded {
            Decoded::Object(o) => o,
            Decoded::Ignored { api_version, kind } => {
                *self
                    .ignored
                    .entry(format!("{kind} ({api_version})"))
                    .or_default() += 1;
                return;
            }
        };
        self.objects += 1;
        if let Object::Node(n) = &object {
            // Counted for the whole cluster: the node guards' shares are of all nodes.
            self.nodes.total += 1;
            if n.spec.unschedulable {
                self.nodes.unschedulable += 1;
            }
        }
        if !self.shard.owns(&object) {
            return;
        }
        let reads = match &object {
            Object::Pod(_) => Some(Reads::Pods),
            Object::Node(_) => Some(Reads::Nodes),
            Object::Workload(w) if w.kind == WorkloadKind::Job => Some(Reads::Jobs),
            Object::StatsSummary(s) => Some(Reads::disk(s.origin)),
            Object::Event(_) => Some(Reads::Events),
            _ => None,
        };
        if let Some(reads) = reads {
            let mut found = crate::detect::Out::default();
            for (i, p) in self.playbooks.iter().enumerate() {
                let detector = p.playbook.spec.detect.imp();
                if detector.reads() != reads {
                    continue;
                }
                detector.detect(&object, &self.ctx, &mut found);
                let scope = &p.playbook.spec.scope;
                found.retain_mut(|d| {
                    if d.target.kind == crate::detect::TargetKind::PersistentVolumeClaim {
                        return true; // its labels are the claim's, from the index: in finish
                    }
                    // Checked here against all of the object's labels, so that the finding
                    // keeps only those the guards read.
                    if !scope.admits_labels(&d.labels) {
                        return false;
                    }
                    d.labels = guard_labels(std::mem::take(&mut d.labels));
                    true
                });
                for d in found.iter() {
                    if let (Some(ns), Some(c)) = (&d.target.namespace, &d.controller) {
                        self.index.want(ns, c);
                    }
                }
                if let Object::Workload(w) = &object
                    && !found.is_empty()
                {
                    self.index.want_workload(w);
                }
                self.detections.extend(found.drain(..).map(|d| (i, d)));
            }
            self.detector_notes.append(&mut found.notes);
        }
        // Detectors are done with it; the index keeps what later steps need, without a copy.
        self.index.add(object);
    }

    /// Objects from other sources (disk usage from Prometheus).
    pub fn accept_all(&mut self, objects: &[Object]) {
        for o in objects {
            self.accept(Decoded::Object(o.clone()));
        }
    }

    /// What the findings so far refer to (owners, claims, namespaces), for a live inventory to
    /// fetch before [`Collector::finish`]. Objects outside the namespace scope are left out.
    pub fn wanted(&self) -> crate::inventory::live::Wanted {
        let mut wanted = crate::inventory::live::Wanted::default();
        for (i, d) in &self.detections {
            let scope = &self.playbooks[*i].playbook.spec.scope;
            let Some(ns) = d.target.namespace.as_deref() else {
                continue;
            };
            if !scope.admits_namespace(Some(ns)) {
                continue;
            }
            if let Some(c) = &d.controller {
                wanted.controllers.insert((ns.to_owned(), c.clone()));
            }
            if d.target.kind == crate::detect::TargetKind::PersistentVolumeClaim {
                wanted.claims.insert((ns.to_owned(), d.target.name.clone()));
            }
            // Every finding's namespace: for namespaceSelector, and for opt-out annotations.
            wanted.namespaces.insert(ns.to_owned());
        }
        wanted
    }

    /// Whether any playbook filters by namespace labels (then namespaces must be read).
    pub fn needs_namespaces(&self) -> bool {
        self.playbooks
            .iter()
            .any(|p| p.playbook.spec.scope.namespace_selector.is_some())
    }

    /// Applies scope, owners, per-owner thresholds and fingerprints.
    pub fn finish(self) -> Collected {
        let mut notes: Vec<String> = self
            .ignored
            .iter()
            .map(|(kind, n)| {
                format!("ignored {n} object(s) of kind {kind}: rounds does not read them")
            })
            .collect();
        notes.extend(crate::detect::summarize_notes(self.detector_notes));
        let mut unknown_namespaces = BTreeSet::new();
        let mut findings: Vec<(usize, Finding, u32)> = Vec::new();
        for (i, mut d) in self.detections {
            let p = &self.playbooks[i].playbook;
            let scope = &p.spec.scope;
            let ns = d.target.namespace.as_deref();
            if !scope.admits_namespace(ns) {
                continue;
            }
            let labels = match d.target.kind {
                crate::detect::TargetKind::PersistentVolumeClaim => {
                    let labels = self
                        .index
                        .pvc_meta(ns.unwrap_or_default(), &d.target.name)
                        .map(|m| m.labels.clone())
                        .unwrap_or_default();
                    if !scope.admits_labels(&labels) {
                        continue;
                    }
                    guard_labels(labels)
                }
                // Checked against the labels in `accept`.
                _ => std::mem::take(&mut d.labels),
            };
            if let Some(ns) = ns
                && scope.namespace_selector.is_some()
            {
                let known = match self.index.namespace_labels(ns) {
                    Some(l) => NamespaceLabels::Known(l),
                    None => {
                        unknown_namespaces.insert(ns.to_owned());
                        NamespaceLabels::Unknown
                    }
                };
                if !scope.admits_namespace_labels(known) {
                    continue;
                }
            }
            let owner = ns.and_then(|ns| owners::resolve(&self.index, ns, d.controller.as_ref()));
            let fingerprint = fingerprint(&p.metadata.name, p.spec.detect.name(), &d);
            findings.push((
                i,
                Finding {
                    playbook: p.metadata.name.clone(),
                    detector: p.spec.detect.name(),
                    severity: p.spec.severity,
                    target: d.target,
                    owner,
                    fingerprint,
                    evidence: d.evidence,
                    message: d.message,
                    context: Default::default(),
                    labels,
                    facts: d.facts,
                },
                d.occurrences,
            ));
        }
        for ns in unknown_namespaces {
            notes.push(format!(
                "namespace {ns} is not in the inventory, so namespaceSelector could not match its objects"
            ));
        }
        // Per-owner thresholds (oomKilled minCount): count occurrences across a workload's pods.
        let mut per_owner: HashMap<(usize, String), u32> = HashMap::new();
        for (i, f, n) in &findings {
            *per_owner.entry((*i, group_key(f))).or_default() += n;
        }
        let mut seen = BTreeSet::new();
        let mut kept: Vec<(usize, Finding)> = findings
            .into_iter()
            .filter(|(i, f, _)| {
                let min = self.playbooks[*i]
                    .playbook
                    .spec
                    .detect
                    .imp()
                    .min_occurrences_per_owner();
                per_owner.get(&(*i, group_key(f))).copied().unwrap_or(0) >= min
            })
            .filter(|(_, f, _)| seen.insert(f.fingerprint.clone()))
            .map(|(i, f, _)| (i, f))
            .collect();
        kept.sort_by(|(a, fa), (b, fb)| a.cmp(b).then_with(|| fa.target.cmp(&fb.target)));
        let mut findings: Vec<Finding> = kept.into_iter().map(|(_, f)| f).collect();
        // Collected in place, the findings would keep the room of every detection pushed
        // (a Finding is 928 bytes; at 100,000 pods 2,048 of them for 1,884) to the end.
        findings.shrink_to_fit();
        Collected {
            findings,
            index: self.index,
            notes,
            objects: self.objects,
            nodes: self.nodes,
        }
    }
}

/// The labels guards read, in a new map: one that `retain` left empty keeps its node.
fn guard_labels(labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .into_iter()
        .filter(|(k, _)| crate::guard::reads_label(k))
        .collect()
}

fn group_key(f: &Finding) -> String {
    match &f.owner {
        Some(o) => format!("{}/{}/{}", o.kind, o.namespace, o.name),
        None => f.target.display(),
    }
}

/// Stable across rounds: the same problem on the same object gives the same fingerprint.
fn fingerprint(playbook: &str, detector: &str, d: &Detection) -> String {
    let mut h = Sha256::new();
    for part in [
        playbook,
        detector,
        d.target.kind.as_str(),
        d.target.namespace.as_deref().unwrap_or(""),
        &d.target.name,
        d.target.container.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::util::{at, pod};

    fn oom_pod(name: &str, labels: &str) -> Object {
        pod(&format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
  labels: {labels}
  annotations:
    checksum/config: "{}"
    rounds.dev/exclude: "true"
    argocd.argoproj.io/tracking-id: "shop:apps/Deployment:shop/api"
spec:
  containers: [{{name: api, resources: {{limits: {{memory: 256Mi}}}}}}]
status:
  containerStatuses:
  - name: api
    restartCount: 4
    state: {{running: {{startedAt: "2026-11-22T09:58:00Z"}}}}
    lastState:
      terminated: {{exitCode: 137, reason: OOMKilled, finishedAt: "2026-11-22T09:57:50Z"}}
"#,
            "f".repeat(64)
        ))
    }

    #[test]
    fn scope_sees_every_label_and_findings_keep_only_what_guards_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("oom.yaml");
        std::fs::write(
            &file,
            "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata: {name: oom}\nspec:\n  scope:\n    selector: team=shop\n  detect: {oomKilled: {within: 1h}}\n",
        )
        .expect("write");
        let loaded = crate::playbook::load(&[file]).expect("valid");
        let mut c = Collector::new(loaded.iter().collect(), at("2026-11-22T10:00:00Z"));
        let labels = r#"{team: shop, app: api, pod-template-hash: 5d8f, argocd.argoproj.io/instance: shop, kustomize.toolkit.fluxcd.io/name: apps}"#;
        c.accept(Decoded::Object(oom_pod("in-scope", labels)));
        c.accept(Decoded::Object(oom_pod("other-team", "{team: web}")));
        let findings = c.finish().findings;
        assert_eq!(findings.len(), 1, "the selector on team still chooses");
        let f = &findings[0];
        assert_eq!(f.target.name, "in-scope");
        assert_eq!(
            f.labels.keys().collect::<Vec<_>>(),
            [
                "argocd.argoproj.io/instance",
                "kustomize.toolkit.fluxcd.io/name"
            ]
        );
        assert_eq!(
            f.facts.annotations.keys().collect::<Vec<_>>(),
            ["argocd.argoproj.io/tracking-id", "rounds.dev/exclude"]
        );
    }
}
