//! Keeping the ledger in ConfigMaps in rounds' namespace.
//!
//! The document is JSON under `data["ledger.json"]` of one ConfigMap. Past the size one
//! ConfigMap can hold (1 MiB), the text is cut into immutable shard ConfigMaps named after
//! their content (`NAME-<sha256 prefix>`), and the primary lists them with the sha256 of the
//! whole text: shards are written first, then the primary is switched with its
//! resourceVersion, then shards no longer listed are deleted. A save that loses the race
//! (409 Conflict) re-reads, merges this round's changes into what the other writer saved, and
//! tries again, so no entry is lost.

use super::document::{Ledger, VERSION};
use super::merge;
use crate::api::request::Request;
use crate::api::resource::{ObjectRef, Resource};
use crate::api::{Api, ApiError, Operation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A ConfigMap holds at most 1 MiB of data; keep well below, the object has metadata too.
pub const SHARD_BYTES: usize = 768 * 1024;
const KEY: &str = "ledger.json";
const MAX_SAVES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot read the ledger ConfigMap {what}: {source}")]
    Read { what: String, source: ApiError },
    #[error("the ledger ConfigMap {what} is unreadable: {detail}")]
    Unreadable { what: String, detail: String },
    #[error("cannot save the ledger ConfigMap {what}: {source}")]
    Write { what: String, source: ApiError },
    #[error(
        "cannot save the ledger ConfigMap {what}: it kept changing under this round ({attempts} conflicts)"
    )]
    Contended { what: String, attempts: u32 },
    #[error("cannot name the ledger ConfigMap: {0}")]
    Name(#[from] crate::api::resource::RefError),
}

/// The ledger as read, with what a save needs: the text it was read as (the base of a merge)
/// and the primary's resourceVersion (`None` when it does not exist yet).
#[derive(Debug, Clone)]
pub struct Stored {
    pub ledger: Ledger,
    base: Value,
    resource_version: Option<String>,
    shards: Vec<String>,
    /// What the round should report about reading it (a section that could not be read).
    pub notes: Vec<String>,
}

impl Stored {
    /// An empty ledger that does not exist in the cluster yet.
    pub fn empty() -> Self {
        let ledger = Ledger::default();
        Self {
            base: serde_json::to_value(&ledger).unwrap_or_default(),
            ledger,
            resource_version: None,
            shards: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Whether the ledger changed since it was read (so a save has something to do).
    pub fn changed(&self) -> bool {
        serde_json::to_value(&self.ledger).ok().as_ref() != Some(&self.base)
    }

    pub fn shards(&self) -> usize {
        self.shards.len()
    }
}

/// What a save did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    pub bytes: usize,
    pub shards: usize,
    /// Conflicts with another writer that were merged.
    pub merged: u32,
}

pub struct LedgerStore<'a> {
    api: &'a Api,
    primary: ObjectRef,
    shard_bytes: usize,
}

impl<'a> LedgerStore<'a> {
    pub fn new(api: &'a Api, namespace: &str, name: &str) -> Result<Self, LedgerError> {
        Ok(Self {
            api,
            primary: ObjectRef::namespaced(&Resource::CONFIG_MAP, namespace, name)?,
            shard_bytes: SHARD_BYTES,
        })
    }

    /// For tests of sharding with small documents.
    pub fn with_shard_bytes(mut self, bytes: usize) -> Self {
        self.shard_bytes = bytes.max(1024);
        self
    }

    pub fn reference(&self) -> &ObjectRef {
        &self.primary
    }

    fn what(&self) -> String {
        self.primary.display()
    }

    async fn get(&self, r: &ObjectRef) -> Result<Option<Value>, LedgerError> {
        let op = Operation::new("get", "configmaps", r.namespace());
        let text = self
            .api
            .get(&r.path(), op)
            .await
            .map_err(|source| LedgerError::Read {
                what: r.display(),
                source,
            })?;
        match text {
            None => Ok(None),
            Some(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| LedgerError::Unreadable {
                    what: r.display(),
                    detail: format!("the API answered something that is not JSON: {e}"),
                }),
        }
    }

    /// Reads the ledger; a missing ConfigMap is an empty ledger.
    pub async fn load(&self) -> Result<Stored, LedgerError> {
        // A shard can be deleted between reading the primary and reading it (another writer
        // switched the primary): read again.
        let mut last = None;
        for _ in 0..3 {
            match self.load_once().await {
                Err(LedgerError::Unreadable { what, detail }) if detail.contains("shard") => {
                    last = Some(LedgerError::Unreadable { what, detail });
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| LedgerError::Unreadable {
            what: self.what(),
            detail: "its shards kept changing".into(),
        }))
    }

    async fn load_once(&self) -> Result<Stored, LedgerError> {
        let unreadable = |detail: String| LedgerError::Unreadable {
            what: self.what(),
            detail,
        };
        let Some(cm) = self.get(&self.primary).await? else {
            return Ok(Stored::empty());
        };
        let resource_version = cm["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_owned);
        let data = &cm["data"];
        let (text, shards) = if let Some(text) = data[KEY].as_str() {
            (text.to_owned(), Vec::new())
        } else if let Some(list) = data["shards"].as_str() {
            let names: Vec<String> = list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let mut text = String::new();
            for name in &names {
                let r = ObjectRef::namespaced(
                    &Resource::CONFIG_MAP,
                    self.primary.namespace().unwrap_or_default(),
                    name,
                )?;
                let Some(shard) = self.get(&r).await? else {
                    return Err(unreadable(format!("its shard {name} is missing")));
                };
                let Some(part) = shard["data"][KEY].as_str() else {
                    return Err(unreadable(format!("its shard {name} has no {KEY}")));
                };
                text.push_str(part);
            }
            let want = data["sha256"].as_str().unwrap_or_default();
            if hex::encode(Sha256::digest(text.as_bytes())) != want {
                return Err(unreadable(
                    "its shards do not add up to the sha256 it names".into(),
                ));
            }
            (text, names)
        } else {
            return Err(unreadable(format!("it has neither {KEY} nor shards")));
        };
        let base: Value = serde_json::from_str(&text)
            .map_err(|e| unreadable(format!("{KEY} is not JSON: {e}")))?;
        let version = base["version"].as_u64().unwrap_or(0);
        if version > u64::from(VERSION) {
            return Err(unreadable(format!(
                "it was written by a newer rounds (document version {version}; this one reads {VERSION}); rounds leaves it alone"
            )));
        }
        // The notification log is another component's section: if it cannot be read, the
        // notifications start afresh (and say so); every other section must read, or nothing
        // that depends on the ledger is done.
        let mut rest = base.clone();
        let log = rest.as_object_mut().and_then(|m| m.remove("notifications"));
        let mut ledger: Ledger = serde_json::from_value(rest)
            .map_err(|e| unreadable(format!("{KEY} does not match the ledger's shape: {e}")))?;
        let mut notes = Vec::new();
        if let Some(log) = log {
            match serde_json::from_value(log) {
                Ok(l) => ledger.notifications = l,
                Err(e) => notes.push(format!(
                    "the notification log in {} could not be read ({e}); notifications start afresh",
                    self.what()
                )),
            }
        }
        Ok(Stored {
            ledger,
            base,
            resource_version,
            shards,
            notes,
        })
    }

    /// Saves `stored.ledger`, merging with whatever another writer saved meanwhile. On success
    /// `stored` is what is now in the cluster.
    pub async fn save(&self, stored: &mut Stored) -> Result<Saved, LedgerError> {
        let mut merged = 0;
        let mut ours = serde_json::to_value(&stored.ledger).unwrap_or_default();
        // Shards written by attempts that lost the race, to clean up once one wins.
        let mut written: Vec<String> = Vec::new();
        for _ in 0..MAX_SAVES {
            let text = ours.to_string();
            let (data, shards) = self.write_shards(&text).await?;
            written.extend(shards.iter().cloned());
            let namespace = self.primary.namespace().unwrap_or_default();
            let mut body = json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": self.primary.name(),
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/managed-by": "rounds", "rounds.dev/ledger": self.primary.name()},
                },
                "data": data,
            });
            let request = match &stored.resource_version {
                Some(rv) => {
                    body["metadata"]["resourceVersion"] = json!(rv);
                    Request::update(&self.primary, body)
                }
                None => Request::create(&self.primary, body),
            };
            match self.api.send(&request).await {
                Ok(response) => {
                    let answer = response.json();
                    let mut old: Vec<String> = std::mem::take(&mut stored.shards);
                    old.extend(written);
                    stored.resource_version = answer["metadata"]["resourceVersion"]
                        .as_str()
                        .map(str::to_owned);
                    stored.base = ours.clone();
                    stored.ledger = serde_json::from_value(ours).unwrap_or_default();
                    stored.shards = shards.clone();
                    old.sort();
                    old.dedup();
                    for name in old.iter().filter(|o| !shards.contains(o)) {
                        self.delete_shard(name).await;
                    }
                    return Ok(Saved {
                        bytes: text.len(),
                        shards: shards.len(),
                        merged,
                    });
                }
                Err(ApiError::Status { code: 409, .. }) => {
                    // Another writer saved first: merge this round's changes into theirs.
                    merged += 1;
                    let theirs = self.load().await?;
                    ours = merge::three_way(&stored.base, &ours, &theirs.base);
                    tracing::info!(
                        ledger = %self.what(),
                        "The ledger changed since this round read it; merged and saving again."
                    );
                    stored.base = theirs.base;
                    stored.resource_version = theirs.resource_version;
                    stored.shards = theirs.shards;
                }
                Err(source) => {
                    return Err(LedgerError::Write {
                        what: self.what(),
                        source,
                    });
                }
            }
        }
        Err(LedgerError::Contended {
            what: self.what(),
            attempts: MAX_SAVES,
        })
    }

    /// The primary's data for `text`: the text itself, or the shards holding it (written now).
    async fn write_shards(&self, text: &str) -> Result<(Value, Vec<String>), LedgerError> {
        if text.len() <= self.shard_bytes {
            return Ok((json!({ KEY: text }), Vec::new()));
        }
        let namespace = self.primary.namespace().unwrap_or_default();
        let mut names = Vec::new();
        for part in chunks(text, self.shard_bytes) {
            let digest = hex::encode(Sha256::digest(part.as_bytes()));
            let name = format!("{}-{}", self.primary.name(), &digest[..16]);
            let r = ObjectRef::namespaced(&Resource::CONFIG_MAP, namespace, &name)?;
            let body = json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/managed-by": "rounds", "rounds.dev/ledger-shard-of": self.primary.name()},
                },
                "immutable": true,
                "data": { KEY: part },
            });
            match self.api.send(&Request::create(&r, body)).await {
                // The same content under the same name is already there.
                Ok(_) | Err(ApiError::Status { code: 409, .. }) => {}
                Err(source) => {
                    return Err(LedgerError::Write {
                        what: r.display(),
                        source,
                    });
                }
            }
            names.push(name);
        }
        let sha = hex::encode(Sha256::digest(text.as_bytes()));
        Ok((json!({"shards": names.join(","), "sha256": sha}), names))
    }

    async fn delete_shard(&self, name: &str) {
        let namespace = self.primary.namespace().unwrap_or_default();
        let Ok(r) = ObjectRef::namespaced(&Resource::CONFIG_MAP, namespace, name) else {
            return;
        };
        match self.api.send(&Request::delete(&r, None)).await {
            Ok(_) | Err(ApiError::NotServed { .. }) => {}
            Err(e) => {
                tracing::warn!(shard = %name, error = %e, "Could not delete an old ledger shard; it is unused and harmless.");
            }
        }
    }
}

/// Cuts `text` into pieces of at most `size` bytes, at character boundaries.
fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = size.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_characters_whole_and_add_up() {
        let text = "aé".repeat(1000);
        let parts = chunks(&text, 7);
        assert!(parts.iter().all(|p| p.len() <= 7));
        assert_eq!(parts.concat(), text);
        assert!(chunks("", 7).is_empty());
    }
}
