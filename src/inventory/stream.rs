//! Streams a document that may be a list: each item is handed on as soon as it is parsed and
//! then dropped, so a list of 50,000 pods (a snapshot, or an API page) never sits in memory as
//! one tree. Works with any serde deserializer (YAML from a file, JSON from a file or the API).

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// Streams one document: the items of a list one at a time, or the document as one object.
pub struct DocumentSeed<'s> {
    sink: &'s mut dyn FnMut(Value) -> Result<(), String>,
}

impl<'s> DocumentSeed<'s> {
    pub fn new(sink: &'s mut dyn FnMut(Value) -> Result<(), String>) -> Self {
        Self { sink }
    }
}

/// What a document said about itself besides its items: a list's `metadata` (with its
/// `continue` token), or nothing for a single object.
pub type ListMetadata = Option<Value>;

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = ListMetadata;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ListMetadata, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = ListMetadata;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or a list of objects")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<ListMetadata, E> {
        Ok(None)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<ListMetadata, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListMetadata, A::Error> {
        ItemsSeed {
            sink: self.sink,
            kind: None,
        }
        .visit_seq(seq)
        .map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListMetadata, A::Error> {
        let mut rest = serde_json::Map::new();
        let mut was_list = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                map.next_value_seed(ItemsSeed {
                    sink: &mut *self.sink,
                    kind: item_kind(&rest),
                })?;
                was_list = true;
            } else {
                let value: Value = map.next_value()?;
                rest.insert(key, value);
            }
        }
        if was_list {
            return Ok(Some(rest.remove("metadata").unwrap_or(Value::Null)));
        }
        (self.sink)(Value::Object(rest)).map_err(serde::de::Error::custom)?;
        Ok(None)
    }
}

/// A typed list (`PodList`, what the API and `kubectl get --raw` return) names its items' kind
/// once; its items carry none. `kind: List` items always name their own.
fn item_kind(list: &serde_json::Map<String, Value>) -> Option<(String, Value)> {
    let kind = list.get("kind")?.as_str()?.strip_suffix("List")?;
    let api_version = list.get("apiVersion").cloned().unwrap_or(Value::Null);
    (!kind.is_empty()).then(|| (kind.to_owned(), api_version))
}

struct ItemsSeed<'s> {
    sink: &'s mut dyn FnMut(Value) -> Result<(), String>,
    /// The kind and apiVersion of a typed list's items.
    kind: Option<(String, Value)>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(mut item) = seq.next_element::<Value>()? {
            if let (Some((kind, api_version)), Some(map)) = (&self.kind, item.as_object_mut()) {
                map.entry("kind")
                    .or_insert_with(|| Value::from(kind.as_str()));
                if !api_version.is_null() {
                    map.entry("apiVersion")
                        .or_insert_with(|| api_version.clone());
                }
            }
            (self.sink)(item).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}
