//! The same object read twice (two overlapping snapshot paths, a copy in a subdirectory) is
//! one object: counting it twice would make one OOM kill meet `minCount: 2`. Objects are keyed
//! by kind, namespace and name; a second copy is read once, and a copy that differs (another
//! uid: deleted and re-created between two dumps; or another version) is reported with both
//! files, the first one read. Only hashes are kept, 16 bytes an object and a tenth more, so
//! the 127,000 objects of a 100,000-pod dump cost about 2.2 MB: at that count this table is
//! still the largest part of what reading keeps.

use serde_json::Value;
use std::hash::{DefaultHasher, Hash, Hasher};

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// A part of the content's hash: two copies that differ are told apart but for one pair
    /// in four billion, and then the first is read all the same, only not noted.
    content: u32,
    /// A part of the uid's hash (0: none): enough to tell a re-created object from an edited
    /// one.
    uid: u16,
    /// The input it was read from; [`FILE_UNKNOWN`] past the 65,534th.
    file: u16,
}

const FILE_UNKNOWN: u16 = u16::MAX;

/// What a second sighting of an object is.
#[derive(Debug, PartialEq, Eq)]
pub enum Sighting {
    First,
    /// Exactly the same object again, first read in this file.
    Again {
        first_file: usize,
    },
    /// The same kind, namespace and name with other content.
    Differs {
        first_file: usize,
        other_uid: bool,
    },
}

/// Sorted runs of `(key, first sighting)`, one run per value of the key's top `bits` bits, so
/// that all runs in order are the whole table sorted. A hash table costs twice its entries
/// at its worst (at 127,000 objects std's held 262,144 buckets: 4.5 MB), and while it grows it
/// holds its old and new buckets at once; these runs cost their 16 bytes an entry plus about a
/// tenth, and a split moves one run at a time.
pub struct Identities {
    runs: Vec<Vec<(u64, Seen)>>,
    bits: u32,
    len: usize,
}

/// Runs are split in two when they hold this many entries on average: short enough that an
/// insert moves at most a few hundred bytes, long enough that a run's header is 1 byte an
/// entry.
const RUN: usize = 32;

impl Default for Identities {
    fn default() -> Self {
        Self {
            runs: vec![Vec::new(); 16],
            bits: 4,
            len: 0,
        }
    }
}

/// `Pod shop/api-1`, for notes.
pub fn describe(value: &Value) -> String {
    let text = |p: &str| value.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let (kind, name) = (text("/kind"), text("/metadata/name"));
    if kind == "Event" && name.is_empty() {
        return format!(
            "Event about {} {}",
            text("/involvedObject/kind"),
            text("/involvedObject/name")
        );
    }
    describe_named(kind, text("/metadata/namespace"), name)
}

/// `Pod shop/api-1` from the object's kind, namespace and name.
pub fn describe_named(kind: &str, ns: &str, name: &str) -> String {
    let kind = if kind.is_empty() { "object" } else { kind };
    if ns.is_empty() {
        format!("{kind} {}", crate::wording::cut(name))
    } else {
        format!(
            "{kind} {}/{}",
            crate::wording::cut(ns),
            crate::wording::cut(name)
        )
    }
}

fn hash_of(parts: &[&str], salt: u8) -> u64 {
    let mut h = DefaultHasher::new();
    salt.hash(&mut h);
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// The key of an object: kind, namespace and name. A nameless Event (pasted fragments) is
/// keyed by its content: only an exact copy is the same Event. Objects without a kind or name
/// have no key; decoding reports them. 64 bits: two objects of a million-object dump share a
/// key with a chance of about 3 in 100 million.
fn key(value: &Value) -> Option<u64> {
    let text = |p: &str| value.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let kind = text("/kind");
    let name = text("/metadata/name");
    let parts: [&str; 3] = if kind.is_empty() {
        let node = text("/node/nodeName");
        if node.is_empty() {
            return None;
        }
        ["StatsSummary", "", node]
    } else if name.is_empty() {
        if kind != "Event" {
            return None;
        }
        let content = content_hash(value).to_string();
        return Some(hash_of(&["Event", &content], 1));
    } else {
        [kind, text("/metadata/namespace"), name]
    };
    Some(hash_of(&parts, 1))
}

fn content_hash(value: &Value) -> u64 {
    fn feed(v: &Value, h: &mut DefaultHasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => {
                2u8.hash(h);
                match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => i.hash(h),
                    (None, Some(u)) => u.hash(h),
                    _ => n.as_f64().map(f64::to_bits).hash(h),
                }
            }
            Value::String(s) => (3u8, s).hash(h),
            Value::Array(items) => {
                (4u8, items.len()).hash(h);
                items.iter().for_each(|i| feed(i, h));
            }
            Value::Object(map) => {
                (5u8, map.len()).hash(h);
                // serde_json's map is ordered by key, so equal objects hash equal.
                for (k, v) in map {
                    k.hash(h);
                    feed(v, h);
                }
            }
        }
    }
    let mut h = DefaultHasher::new();
    feed(value, &mut h);
    h.finish()
}

/// A part of a uid's hash, never 0 unless there is no uid.
fn part(uid: u64) -> u16 {
    (uid >> 48) as u16 | u16::from(uid != 0)
}

/// What sighting an object takes from it: its key and what tells two versions apart. Worked
/// out apart from [`Identities::sight`], so it can be on the thread that parsed the object.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    key: u64,
    content: u32,
    uid: u16,
}

/// The identity of an object; `None` when it has no key (decoding reports it).
pub fn identify(value: &Value) -> Option<Identity> {
    let key = key(value)?;
    let text = |p: &str| value.pointer(p).and_then(Value::as_str);
    Some(
        identity_of(
            key,
            text("/metadata/uid"),
            text("/metadata/resourceVersion"),
        )
        .unwrap_or_else(|uid| Identity {
            key,
            content: (content_hash(value) >> 32) as u32,
            uid: part(uid),
        }),
    )
}

/// The identity of a named object (`kind` and `name` not empty) that has a uid and a
/// resourceVersion; without them, the content must be hashed (`None`).
pub fn identify_named(
    [kind, ns, name]: [&str; 3],
    uid: Option<&str>,
    version: Option<&str>,
) -> Option<Identity> {
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    identity_of(hash_of(&[kind, ns, name], 1), uid, version).ok()
}

/// A resourceVersion names one version of one object: two copies with the same uid and
/// resourceVersion are the same, without hashing all of them. Without either, the uid's hash
/// is given back and the content must be hashed.
fn identity_of(key: u64, uid: Option<&str>, version: Option<&str>) -> Result<Identity, u64> {
    let uid = uid.map_or(0, |u| hash_of(&[u], 3));
    match version.filter(|v| !v.is_empty() && uid != 0) {
        Some(v) => Ok(Identity {
            key,
            content: ((hash_of(&[v], 4) ^ uid) >> 32) as u32,
            uid: part(uid),
        }),
        None => Err(uid),
    }
}

/// The index of the input an object was first read from; `usize::MAX` when there were too
/// many inputs to keep it.
fn first_file(file: u16) -> usize {
    if file == FILE_UNKNOWN {
        usize::MAX
    } else {
        usize::from(file)
    }
}

impl Identities {
    /// Records an object read from `file` and says whether it was seen before.
    pub fn sight(&mut self, identity: Option<Identity>, file: usize) -> Sighting {
        let Some(Identity { key, content, uid }) = identity else {
            return Sighting::First;
        };
        let run = &mut self.runs[(key >> (64 - self.bits)) as usize];
        match run.binary_search_by_key(&key, |(k, _)| *k) {
            Err(at) => {
                let seen = Seen {
                    content,
                    uid,
                    file: u16::try_from(file)
                        .ok()
                        .filter(|f| *f != FILE_UNKNOWN)
                        .unwrap_or(FILE_UNKNOWN),
                };
                if run.len() == run.capacity() {
                    // A run grows by an eighth, not double: its spare room stays a few percent.
                    run.reserve_exact((run.len() / 8).max(4));
                }
                run.insert(at, (key, seen));
                self.len += 1;
                if self.len > RUN * self.runs.len() {
                    self.split();
                }
                Sighting::First
            }
            Ok(at) => {
                let first = run[at].1;
                if first.content == content {
                    Sighting::Again {
                        first_file: first_file(first.file),
                    }
                } else {
                    Sighting::Differs {
                        first_file: first_file(first.file),
                        other_uid: first.uid != 0 && uid != 0 && first.uid != uid,
                    }
                }
            }
        }
    }

    /// Doubles the runs: each splits at the next bit of its keys, and is let go before the
    /// next is split, so the table never holds two copies of itself.
    fn split(&mut self) {
        let bit = 63 - self.bits;
        let mut runs = Vec::with_capacity(self.runs.len() * 2);
        for run in std::mem::take(&mut self.runs) {
            let at = run.partition_point(|(k, _)| k >> bit & 1 == 0);
            runs.push(run[..at].to_vec());
            runs.push(run[at..].to_vec());
        }
        self.runs = runs;
        self.bits += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_object_twice_is_seen_again_and_a_changed_one_differs() {
        let mut ids = Identities::default();
        let pod = json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "x", "uid": "1"}});
        assert_eq!(ids.sight(identify(&pod), 0), Sighting::First);
        assert_eq!(
            ids.sight(identify(&pod), 1),
            Sighting::Again { first_file: 0 }
        );
        let recreated =
            json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "x", "uid": "2"}});
        assert_eq!(
            ids.sight(identify(&recreated), 2),
            Sighting::Differs {
                first_file: 0,
                other_uid: true
            }
        );
        let other_ns = json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "y"}});
        assert_eq!(ids.sight(identify(&other_ns), 2), Sighting::First);
        let node = json!({"kind": "Node", "metadata": {"name": "a"}});
        assert_eq!(ids.sight(identify(&node), 2), Sighting::First);
        assert_eq!(
            ids.sight(identify(&json!({"kind": "Pod"})), 2),
            Sighting::First,
            "no key"
        );
    }

    /// Bytes the table holds: its entries' room and the runs' headers.
    fn held(ids: &Identities) -> usize {
        let entry = std::mem::size_of::<(u64, Seen)>();
        ids.runs.iter().map(|r| r.capacity() * entry).sum::<usize>()
            + ids.runs.capacity() * std::mem::size_of::<Vec<(u64, Seen)>>()
    }

    #[test]
    fn many_objects_are_each_told_apart_found_again_and_cost_little_over_their_entries() {
        let mut ids = Identities::default();
        let identity = |i: u64| Identity {
            key: hash_of(&[&i.to_string()], 9),
            content: i as u32,
            uid: 1,
        };
        let n = 127_000;
        for i in 0..n {
            assert_eq!(ids.sight(Some(identity(i)), 0), Sighting::First, "{i}");
        }
        for i in (0..n).step_by(7) {
            assert_eq!(
                ids.sight(Some(identity(i)), 1),
                Sighting::Again { first_file: 0 },
                "{i}"
            );
            let changed = Identity {
                content: !(i as u32),
                ..identity(i)
            };
            assert!(matches!(
                ids.sight(Some(changed), 1),
                Sighting::Differs { first_file: 0, .. }
            ));
        }
        let keys: Vec<u64> = ids.runs.iter().flatten().map(|(k, _)| *k).collect();
        assert_eq!(keys.len(), n as usize);
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "the runs in order are sorted"
        );
        let entries = n as usize * std::mem::size_of::<(u64, Seen)>();
        let held = held(&ids);
        assert!(
            held < entries * 115 / 100,
            "{held} bytes held for {entries} bytes of entries"
        );
    }

    #[test]
    fn nameless_events_are_the_same_only_when_identical() {
        let mut ids = Identities::default();
        let e = json!({"kind": "Event", "reason": "OOMKilling", "count": 3});
        assert_eq!(ids.sight(identify(&e), 0), Sighting::First);
        assert_eq!(
            ids.sight(identify(&e), 0),
            Sighting::Again { first_file: 0 }
        );
        let other = json!({"kind": "Event", "reason": "OOMKilling", "count": 4});
        assert_eq!(ids.sight(identify(&other), 0), Sighting::First);
    }

    #[test]
    fn an_input_past_the_ones_it_can_name_is_not_named_wrong() {
        let mut ids = Identities::default();
        let pod = json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "x"}});
        assert_eq!(ids.sight(identify(&pod), 70_000), Sighting::First);
        assert_eq!(
            ids.sight(identify(&pod), 3),
            Sighting::Again {
                first_file: usize::MAX
            }
        );
        let node = json!({"kind": "Node", "metadata": {"name": "n"}});
        assert_eq!(ids.sight(identify(&node), 65_534), Sighting::First);
        assert_eq!(
            ids.sight(identify(&node), 0),
            Sighting::Again { first_file: 65_534 }
        );
    }
}
