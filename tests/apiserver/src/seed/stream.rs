//! Reading a JSON snapshot as a stream of documents, without holding the file or a whole
//! list as `serde_json::Value`: a 100,000-pod `kubectl get -o json` list is about 2 GB of
//! text and ten times that as one `Value`. A list's items are kept as compact JSON until
//! they are stored, one at a time.

use std::fmt;
use std::io::Read;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The visits of JSON scalars, as `Value` makes them, wrapped.
macro_rules! scalars {
    ($wrap:path) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok($wrap(Value::from(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
    };
}

/// One top-level document of a JSON snapshot.
#[derive(Debug)]
pub(super) enum Document {
    /// Anything without an `items` array, as it is.
    Whole(Value),
    /// An object with an `items` array: its other fields, and the items as compact JSON
    /// (the list's `kind`, which says whether it is a list at all, may come after them).
    WithItems {
        fields: Map<String, Value>,
        items: Vec<Box<[u8]>>,
    },
}

impl Document {
    /// The document as one value (for an object that only looked like a list).
    pub(super) fn into_value(self) -> Value {
        match self {
            Self::Whole(value) => value,
            Self::WithItems { mut fields, items } => {
                let items = items.iter().map(|item| decode(item)).collect();
                fields.insert("items".into(), Value::Array(items));
                Value::Object(fields)
            }
        }
    }
}

/// A compact item back as a value.
pub(super) fn decode(item: &[u8]) -> Value {
    // The bytes were written from a Value just before, so they parse back.
    serde_json::from_slice(item).unwrap_or(Value::Null)
}

/// The documents of a JSON text (one or more concatenated values), read as they come.
pub(super) fn documents(reader: impl Read) -> impl Iterator<Item = Result<Document, String>> {
    serde_json::Deserializer::from_reader(reader)
        .into_iter::<Document>()
        .map(|document| document.map_err(|e| e.to_string()))
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut fields = Map::new();
        let mut items = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                match map.next_value::<Items>()? {
                    Items::Compact(list) => {
                        fields.remove("items");
                        items = Some(list);
                    }
                    Items::Other(value) => {
                        items = None;
                        fields.insert(key, value);
                    }
                }
            } else {
                fields.insert(key, map.next_value()?);
            }
        }
        Ok(match items {
            Some(items) => Document::WithItems { fields, items },
            None => Document::Whole(Value::Object(fields)),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Document, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Document::Whole)
    }

    scalars!(Document::Whole);
}

/// The value of an `items` field: an array kept compact, or anything else as it is.
enum Items {
    Compact(Vec<Box<[u8]>>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemsVisitor)
    }
}

struct ItemsVisitor;

impl<'de> Visitor<'de> for ItemsVisitor {
    type Value = Items;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            // Serializing a Value into memory cannot fail.
            items.push(serde_json::to_vec(&item).unwrap_or_default().into());
        }
        Ok(Items::Compact(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Items::Other)
    }

    scalars!(Items::Other);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Value> {
        documents(text.as_bytes())
            .map(|d| d.expect("document").into_value())
            .collect()
    }

    /// Streamed documents are the values a whole parse makes.
    #[test]
    fn documents_are_what_a_whole_parse_reads() {
        let text = r#"{"apiVersion":"v1","items":[{"a":1},{"b":[2.5,null]}],"kind":"List"}
            {"items":{"not":"a list"},"kind":"Thing"} [1,"x",true] null 7 "s"
            {"kind":"PodList","items":[]} {"x":{"items":[1]}}"#;
        let whole: Vec<Value> = serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .expect("valid");
        assert_eq!(read(text), whole);
    }

    #[test]
    fn list_items_stay_compact_until_used() {
        let text = r#"{"items": [ {"kind": "Pod",  "metadata": {"name": "p"}} ], "kind": "List"}"#;
        let Some(Ok(Document::WithItems { fields, items })) = documents(text.as_bytes()).next()
        else {
            panic!("a document with items");
        };
        assert_eq!(fields["kind"], "List");
        assert_eq!(items.len(), 1);
        assert_eq!(&*items[0], br#"{"kind":"Pod","metadata":{"name":"p"}}"#);
    }

    #[test]
    fn malformed_json_is_an_error() {
        let results: Vec<_> = documents(&b"{\"items\": [1, }"[..]).collect();
        assert!(matches!(results.as_slice(), [Err(_)]));
    }
}
