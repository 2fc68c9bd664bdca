//! Shards for very large clusters: an Indexed Job runs N rounds at once (Kubernetes is the
//! distributed engine; rounds adds no coordinator), and each looks after the namespaces and
//! nodes whose stable hash falls in its bucket. Together they read every namespace and every
//! node exactly once.
//!
//! What belongs to a shard:
//! - namespaced objects (pods, workloads, Jobs, PDBs): by their namespace;
//! - nodes, and what comes through a node (its kubelet stats summary, with the PVC usage of
//!   every volume mounted there, wherever the claim lives): by the node's name;
//! - Events: by what they are about (an Event on a Node goes with the node);
//! - reference data that findings of any shard may need (Namespaces and their labels, claims,
//!   StorageClasses): every shard keeps it, and no detector finds anything in it.

use crate::objects::{Decoded, Object};
use sha2::{Digest, Sha256};

/// The environment the Job controller sets in each pod of an Indexed Job.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";
/// The shard count, from the Job's `completions` (the manifests set both from one value).
pub const COUNT_ENV: &str = "ROUNDS_SHARDS";

/// This runner's part of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("{name}={value:?} is not a number")]
    NotANumber { name: &'static str, value: String },
    #[error(
        "{INDEX_ENV}={index} but {COUNT_ENV}={count}: the index must be below the count (set {COUNT_ENV} to the Job's completions)"
    )]
    OutOfRange { index: u32, count: u32 },
    #[error("{COUNT_ENV} must be at least 1")]
    NoShards,
    #[error(
        "{COUNT_ENV}={count} is set, but {INDEX_ENV} is not: shards run as an Indexed Job (completionMode: Indexed)"
    )]
    NoIndex { count: u32 },
}

/// Which of a shard's buckets a key falls in: the first 8 bytes of its sha256, so the answer is
/// the same on every machine, in every version and every run.
pub fn bucket(key: &str, count: u32) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
}

impl Shard {
    /// One runner for the whole cluster.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// From `ROUNDS_SHARDS` and `JOB_COMPLETION_INDEX`; the whole cluster when neither is set
    /// or the count is 1.
    pub fn from_env() -> Result<Self, ShardError> {
        Self::from_values(
            std::env::var(COUNT_ENV).ok().as_deref(),
            std::env::var(INDEX_ENV).ok().as_deref(),
        )
    }

    pub fn from_values(count: Option<&str>, index: Option<&str>) -> Result<Self, ShardError> {
        let number = |name: &'static str, value: &str| {
            value
                .trim()
                .parse::<u32>()
                .map_err(|_| ShardError::NotANumber {
                    name,
                    value: value.to_owned(),
                })
        };
        let count = match count {
            None => return Ok(Self::WHOLE),
            Some(c) => number(COUNT_ENV, c)?,
        };
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        let index = match index {
            Some(i) => number(INDEX_ENV, i)?,
            None if count == 1 => 0,
            None => return Err(ShardError::NoIndex { count }),
        };
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Self { index, count })
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    pub fn owns_namespace(self, namespace: &str) -> bool {
        self.is_whole() || bucket(&format!("namespace/{namespace}"), self.count) == self.index
    }

    pub fn owns_node(self, node: &str) -> bool {
        self.is_whole() || bucket(&format!("node/{node}"), self.count) == self.index
    }

    /// Whether this shard reads `object` (see the module's rules).
    pub fn owns(self, object: &Object) -> bool {
        if self.is_whole() {
            return true;
        }
        let namespaced = |ns: Option<&str>| self.owns_namespace(ns.unwrap_or("default"));
        match object {
            Object::Pod(p) => namespaced(p.metadata.namespace.as_deref()),
            Object::Workload(w) => self.owns_namespace(w.namespace()),
            Object::PodDisruptionBudget(m) => namespaced(m.namespace.as_deref()),
            Object::Node(n) => self.owns_node(&n.metadata.name),
            Object::StatsSummary(s) => self.owns_node(&s.node.node_name),
            Object::Event(e) if e.involved_object.kind == "Node" => {
                self.owns_node(&e.involved_object.name)
            }
            Object::Event(e) => namespaced(
                e.involved_object
                    .namespace
                    .as_deref()
                    .or(e.metadata.namespace.as_deref()),
            ),
            Object::Namespace(_) | Object::Pvc(_) | Object::StorageClass(_) => true,
        }
    }

    /// The hook a round calls for each object it reads: objects of other shards are dropped
    /// before any detector or index sees them.
    pub fn keeps(self, decoded: &Decoded) -> bool {
        match decoded {
            Decoded::Object(o) => self.owns(o),
            Decoded::Ignored { .. } => true,
        }
    }

    /// For the report: `shard 2 of 4`.
    pub fn describe(self) -> String {
        format!("shard {} of {}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_indexed_jobs_environment() {
        assert_eq!(Shard::from_values(None, None), Ok(Shard::WHOLE));
        assert_eq!(Shard::from_values(None, Some("3")), Ok(Shard::WHOLE));
        assert_eq!(
            Shard::from_values(Some("4"), Some("2")),
            Ok(Shard { index: 2, count: 4 })
        );
        assert_eq!(Shard::from_values(Some("1"), None), Ok(Shard::WHOLE));
        assert_eq!(
            Shard::from_values(Some("4"), Some("4")),
            Err(ShardError::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!(
            Shard::from_values(Some("4"), None),
            Err(ShardError::NoIndex { count: 4 })
        );
        assert_eq!(
            Shard::from_values(Some("0"), Some("0")),
            Err(ShardError::NoShards)
        );
        assert!(matches!(
            Shard::from_values(Some("four"), Some("0")),
            Err(ShardError::NotANumber { .. })
        ));
    }

    #[test]
    fn every_key_has_exactly_one_shard_and_buckets_are_stable() {
        for count in 1..=7 {
            for i in 0..200 {
                let ns = format!("team-{i}");
                let owners = (0..count)
                    .filter(|&index| Shard { index, count }.owns_namespace(&ns))
                    .count();
                assert_eq!(owners, 1, "{ns} with {count} shards");
            }
        }
        // Pinned (computed independently with Python's hashlib): a change of the hash would
        // move namespaces to other shards between rounds.
        let pinned: Vec<u32> = ["namespace/default", "namespace/kube-system", "node/node-1"]
            .iter()
            .map(|k| bucket(k, 8))
            .collect();
        assert_eq!(pinned, [0, 4, 3]);
    }

    #[test]
    fn buckets_spread_namespaces() {
        let count = 4;
        let mut sizes = [0usize; 4];
        for i in 0..4000 {
            sizes[bucket(&format!("namespace/ns-{i}"), count) as usize] += 1;
        }
        for s in sizes {
            assert!((800..1200).contains(&s), "{sizes:?}");
        }
    }
}
