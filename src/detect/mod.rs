//! Detectors: pure functions from Kubernetes objects to findings. They never call the API and
//! never change anything, so they are tested on plain YAML dumps.
//!
//! Adding a detector: one file with its argument struct (defaults, validation via the schema,
//! an `EXPLAIN` text, tests) implementing [`Detect`], and one line in [`detectors!`] below.

pub mod finding;
pub(crate) mod util;

mod container_start_failure;
mod crash_loop_back_off;
mod disk_pressure;
mod evicted;
mod image_pull_back_off;
mod job_failed;
mod node_filesystem_usage;
mod node_not_ready;
mod node_oom_killed;
mod oom_killed;
mod pvc_usage;
mod unschedulable;

pub use finding::{
    Context, Detection, EventSummary, Evidence, Facts, Finding, LogTail, Owner, OwnerLink, Target,
    TargetKind,
};

use crate::objects::Object;
use chrono::{DateTime, Utc};

/// What a detector needs besides the object: the reference time of the round.
#[derive(Debug, Clone, Copy)]
pub struct DetectContext {
    pub now: DateTime<Utc>,
}

/// The kinds of object a round must read (and, live, list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reads {
    Pods,
    Nodes,
    Jobs,
    /// Events (node-level problems are recorded only as Events on the Node).
    Events,
    StatsSummaries,
    /// Disk usage from Prometheus, read into the stats summary shape.
    PrometheusDisk,
}

impl Reads {
    pub fn disk(source: crate::objects::storage::DiskSource) -> Self {
        match source {
            crate::objects::storage::DiskSource::Kubelet => Self::StatsSummaries,
            crate::objects::storage::DiskSource::Prometheus => Self::PrometheusDisk,
        }
    }
}

/// What detectors hand on while looking at objects: detections, and notes for the report
/// about what they saw but did not count (a kill dated after the round).
#[derive(Debug, Default)]
pub struct Out {
    found: Vec<Detection>,
    pub notes: Vec<String>,
}

impl Out {
    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }
}

impl std::ops::Deref for Out {
    type Target = Vec<Detection>;
    fn deref(&self) -> &Vec<Detection> {
        &self.found
    }
}

impl std::ops::DerefMut for Out {
    fn deref_mut(&mut self) -> &mut Vec<Detection> {
        &mut self.found
    }
}

/// Detectors' notes for the report: each said once, the first few of many listed.
pub fn summarize_notes(notes: Vec<String>) -> Vec<String> {
    const LISTED: usize = 10;
    let mut seen = std::collections::BTreeSet::new();
    let unique: Vec<String> = notes
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect();
    let more = unique.len().saturating_sub(LISTED);
    let mut out: Vec<String> = unique.into_iter().take(LISTED).collect();
    if more > 0 {
        out.push(format!(
            "... and {more} more note(s) of detectors like these"
        ));
    }
    out
}

pub trait Detect {
    /// What this detector reads.
    fn reads(&self) -> Reads;
    /// What its findings are about.
    fn target_kind(&self) -> TargetKind;
    /// Looks at one object and appends what it finds.
    fn detect(&self, object: &Object, ctx: &DetectContext, out: &mut Out);
    /// Minimum occurrences per owning workload before a finding counts (OOM `minCount`).
    fn min_occurrences_per_owner(&self) -> u32 {
        1
    }
}

macro_rules! detectors {
    ($($name:literal => $variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        /// A detector with its typed arguments, as written under a playbook's `spec.detect`.
        #[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
        #[schemars(extend("x-rounds-kind" = "detector"))]
        pub enum Detector {
            $(#[serde(rename = $name)] $variant($module::$ty)),*
        }

        impl Detector {
            pub fn name(&self) -> &'static str {
                match self { $(Self::$variant(_) => $name),* }
            }

            pub fn imp(&self) -> &dyn Detect {
                match self { $(Self::$variant(d) => d),* }
            }

            /// Every detector with its explanation and example (see [`crate::catalog`]).
            pub const CATALOG: &'static [crate::catalog::Entry] = &[
                $(crate::catalog::Entry {
                    name: $name,
                    kind: crate::catalog::Kind::Detector,
                    text: $module::$ty::EXPLAIN,
                    example: $module::$ty::EXAMPLE,
                    settings: &[],
                }),*
            ];
        }
    };
}

detectors! {
    "oomKilled" => OomKilled(oom_killed::OomKilled),
    "crashLoopBackOff" => CrashLoopBackOff(crash_loop_back_off::CrashLoopBackOff),
    "imagePullBackOff" => ImagePullBackOff(image_pull_back_off::ImagePullBackOff),
    "evicted" => Evicted(evicted::Evicted),
    "diskPressure" => DiskPressure(disk_pressure::DiskPressure),
    "nodeNotReady" => NodeNotReady(node_not_ready::NodeNotReady),
    "unschedulable" => Unschedulable(unschedulable::Unschedulable),
    "jobFailed" => JobFailed(job_failed::JobFailed),
    "pvcUsage" => PvcUsage(pvc_usage::PvcUsage),
    "nodeFilesystemUsage" => NodeFilesystemUsage(node_filesystem_usage::NodeFilesystemUsage),
    "containerStartFailure" => ContainerStartFailure(container_start_failure::ContainerStartFailure),
    "nodeOomKilled" => NodeOomKilled(node_oom_killed::NodeOomKilled),
}
