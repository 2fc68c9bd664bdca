//! One snapshot document as a stream of objects: a list's items one at a time (each kept only
//! until it is handed on), or the document itself. Objects of kinds rounds does not read are
//! skipped as they are parsed, never kept; of the others only the fields objects are read
//! from are kept. Works with any serde deserializer (YAML or JSON).

use super::progress::{Pos, Progress};
use crate::objects::{READ_FIELDS, reads_kind};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// An object as read.
#[derive(Debug)]
pub enum Item {
    /// The fields rounds reads (the kind may be missing: then the object is unreadable).
    Value(Value),
    /// An object of a kind rounds does not read; nothing of it was kept.
    Skipped { kind: String, api_version: String },
    /// Parsed and decoded on a worker thread.
    Ready(Box<super::ready::Ready>),
}

/// An object and where it was.
#[derive(Debug)]
pub struct Found {
    pub item: Item,
    /// Its index in its list.
    pub index: Option<usize>,
    pub pos: Option<Pos>,
}

/// What a document was, besides the objects handed on.
#[derive(Debug, Default)]
pub struct Shape {
    /// The number of items, when the document was a list.
    pub items: Option<usize>,
    /// The list's `kind`, if it had one.
    pub list_kind: Option<String>,
    /// Whether the list named its kind only after items that needed it.
    pub kind_after_items: bool,
}

pub struct DocumentSeed<'s> {
    pub sink: &'s mut dyn FnMut(Found),
    pub progress: &'s Progress,
    /// Where the document begins.
    pub pos: Option<Pos>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

/// A typed list (`PodList`, what the API and `kubectl get --raw` return) names its items' kind
/// once; `kind: List` items name their own.
fn items_kind(list: &Map<String, Value>) -> Option<(String, String)> {
    let kind = list.get("kind")?.as_str()?.strip_suffix("List")?;
    let api_version = list
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (!kind.is_empty()).then(|| (kind.to_owned(), api_version.to_owned()))
}

fn is_list_kind(kind: &str) -> bool {
    kind.ends_with("List")
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or a list of objects")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shape, A::Error> {
        let items = ItemsSeed {
            sink: self.sink,
            progress: self.progress,
            items: Items::new(None),
        }
        .visit_seq(seq)?;
        Ok(Shape {
            items: Some(items.0),
            ..Shape::default()
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shape, A::Error> {
        let mut fields = DocumentFields::default();
        FieldsSeed {
            fields: &mut fields,
            sink: &mut *self.sink,
            progress: self.progress,
        }
        .visit_map(map)?;
        Ok(fields.finish(self.pos, self.sink))
    }

    // A document that is a plain value is not an object; handed on, it is reported so.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Shape, E> {
        self.scalar(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Shape, E> {
        self.scalar(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Shape, E> {
        self.scalar(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Shape, E> {
        self.scalar(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Shape, E> {
        self.scalar(Value::from(crate::wording::cut(v)))
    }
}

/// Some of a document's top-level fields, read into `fields`: the whole mapping, or the part of
/// it a reader that frames the document itself parses at once (the fields around `items`).
pub struct FieldsSeed<'s> {
    pub fields: &'s mut DocumentFields,
    pub sink: &'s mut dyn FnMut(Found),
    pub progress: &'s Progress,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the fields of a Kubernetes object or list")
    }

    // Only comments: no fields.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match self.fields.field(&key) {
                Field::Items(kind) => {
                    let counts = map.next_value_seed(ItemsSeed {
                        sink: &mut *self.sink,
                        progress: self.progress,
                        items: Items::new(kind),
                    })?;
                    self.fields.items(counts);
                }
                Field::Value => self.fields.value(key, map.next_value()?),
                Field::Ignore => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

impl DocumentSeed<'_> {
    fn scalar<E: de::Error>(self, v: Value) -> Result<Shape, E> {
        (self.sink)(Found {
            item: Item::Value(v),
            index: None,
            pos: self.pos,
        });
        Ok(Shape::default())
    }
}

/// After an object's `kind` said it is not read, its other values are skipped unparsed, but
/// its apiVersion is kept for the report's count of ignored kinds.
fn keep_api_version<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: &str,
    kept: &mut Map<String, Value>,
) -> Result<(), A::Error> {
    if key == "apiVersion" {
        let v: Value = map.next_value()?;
        kept.insert(key.to_owned(), v);
    } else {
        map.next_value::<IgnoredAny>()?;
    }
    Ok(())
}

fn finish(kept: Map<String, Value>, skipping: bool) -> Item {
    if skipping {
        let text = |k: &str| {
            kept.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        return Item::Skipped {
            kind: text("kind"),
            api_version: text("apiVersion"),
        };
    }
    Item::Value(Value::Object(kept))
}

/// `metadata` without `managedFields`, which no object view reads: readers that frame the
/// input leave it out unparsed, so every reader hands on the same object (a copy of it in
/// another file is the same object, not "other content").
fn without_managed_fields(key: &str, mut value: Value) -> Value {
    if key == "metadata"
        && let Value::Object(m) = &mut value
    {
        m.remove("managedFields");
    }
    value
}

/// What to do with a document's top-level field.
pub enum Field {
    /// The objects of a list; a typed list (`PodList`) named their kind and apiVersion before.
    Items(Option<(String, String)>),
    /// Kept: read it whole.
    Value,
    /// Not read: skip it unparsed.
    Ignore,
}

/// A document's top-level fields as they are read, in whichever format: what is kept, whether
/// it is a list, and whether its items needed a kind it named only after them.
#[derive(Default)]
pub struct DocumentFields {
    kept: Map<String, Value>,
    /// Its `kind` is one rounds does not read: only `apiVersion` is kept.
    skipping: bool,
    shape: Shape,
    kindless_items: usize,
    kind_known: bool,
}

impl DocumentFields {
    pub fn field(&mut self, key: &str) -> Field {
        if key == "items" {
            let kind = items_kind(&self.kept);
            self.kind_known = kind.is_some();
            return Field::Items(kind);
        }
        let read = if self.skipping {
            key == "apiVersion"
        } else {
            READ_FIELDS.contains(&key)
        };
        if read { Field::Value } else { Field::Ignore }
    }

    pub fn value(&mut self, key: String, value: Value) {
        let value = without_managed_fields(&key, value);
        if key == "kind"
            && let Some(k) = value.as_str()
            && !reads_kind(k)
            && !is_list_kind(k)
        {
            self.skipping = true;
        }
        self.kept.insert(key, value);
    }

    /// The list's items were read: how many, and how many had no kind of their own.
    pub fn items(&mut self, (count, without_kind): (usize, usize)) {
        self.shape.items = Some(count);
        self.kindless_items = without_kind;
    }

    /// A list's shape; or the document itself, handed on as an object.
    pub fn finish(self, pos: Option<Pos>, sink: &mut dyn FnMut(Found)) -> Shape {
        let mut shape = self.shape;
        if shape.items.is_some() {
            shape.list_kind = self
                .kept
                .get("kind")
                .and_then(Value::as_str)
                .map(str::to_owned);
            shape.kind_after_items =
                self.kindless_items > 0 && !self.kind_known && items_kind(&self.kept).is_some();
            return shape;
        }
        sink(Found {
            item: finish(self.kept, self.skipping),
            index: None,
            pos,
        });
        shape
    }
}

/// The items of one list as they are read: their index, and the kind a typed list gives the
/// items that name none.
pub struct Items {
    kind: Option<(String, String)>,
    index: usize,
    without_kind: usize,
}

impl Items {
    pub fn new(kind: Option<(String, String)>) -> Self {
        Self {
            kind,
            index: 0,
            without_kind: 0,
        }
    }

    /// A typed list of a kind rounds does not read: its items are skipped unparsed.
    pub fn skips_all(&self) -> bool {
        self.kind.as_ref().is_some_and(|(k, _)| !reads_kind(k))
    }

    /// An item skipped unparsed (see [`Items::skips_all`]).
    pub fn skipped(&mut self, pos: Option<Pos>) -> Found {
        let (kind, api_version) = self.kind.clone().unwrap_or_default();
        self.found(Item::Skipped { kind, api_version }, pos)
    }

    pub fn item(&mut self, mut item: Item, pos: Option<Pos>) -> Found {
        let without_kind = super::ready::give_kind(&mut item, self.kind.as_ref());
        self.settled(item, without_kind, pos)
    }

    /// An item already given the list's kind (see [`Items::kind`]).
    pub fn settled(&mut self, item: Item, without_kind: bool, pos: Option<Pos>) -> Found {
        self.without_kind += usize::from(without_kind);
        self.found(item, pos)
    }

    /// The kind a typed list gives its items that name none, and its apiVersion.
    pub fn kind(&self) -> Option<&(String, String)> {
        self.kind.as_ref()
    }

    fn found(&mut self, item: Item, pos: Option<Pos>) -> Found {
        let index = self.index;
        self.index += 1;
        Found {
            item,
            index: Some(index),
            pos,
        }
    }

    /// The number of items, and how many had no kind of their own.
    pub fn counts(&self) -> (usize, usize) {
        (self.index, self.without_kind)
    }
}

struct ItemsSeed<'s> {
    sink: &'s mut dyn FnMut(Found),
    progress: &'s Progress,
    items: Items,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    /// The number of items, and how many had no kind of their own.
    type Value = (usize, usize);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(usize, usize), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = (usize, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(usize, usize), E> {
        Ok((0, 0))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(usize, usize), A::Error> {
        loop {
            self.progress.begin_object();
            if self.items.skips_all() {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    break;
                }
                (self.sink)(self.items.skipped(None));
                continue;
            }
            let Some(spanned) = seq.next_element::<serde_saphyr::Spanned<Filtered>>()? else {
                break;
            };
            let at = spanned.referenced;
            let pos = self.progress.in_document(at.line(), at.column());
            (self.sink)(self.items.item(spanned.value.0, pos));
        }
        Ok(self.items.counts())
    }
}

/// One list item, filtered as it is parsed. A plain `Deserialize` (not a seed) because
/// `Spanned`, which tells where the item was written, wraps only those.
pub struct Filtered(pub Item);

impl<'de> serde::Deserialize<'de> for Filtered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FilteredVisitor)
    }
}

struct FilteredVisitor;

impl<'de> Visitor<'de> for FilteredVisitor {
    type Value = Filtered;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Filtered, A::Error> {
        let mut kept = Map::new();
        let mut skipping = false;
        while let Some(key) = map.next_key::<String>()? {
            if skipping {
                keep_api_version(&mut map, &key, &mut kept)?;
                continue;
            }
            if key == "kind" {
                let kind: Value = map.next_value()?;
                skipping = kind.as_str().is_some_and(|k| !reads_kind(k));
                kept.insert(key, kind);
            } else if READ_FIELDS.contains(&key.as_str()) {
                let value = without_managed_fields(&key, map.next_value()?);
                kept.insert(key, value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Filtered(finish(kept, skipping)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Filtered, A::Error> {
        // Not an object: only its being a list matters.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Filtered(Item::Value(Value::Array(Vec::new()))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::Null)))
    }
    fn visit_none<E: de::Error>(self) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::Null)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::Bool(v))))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::from(v))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::from(v))))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::from(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Filtered, E> {
        Ok(Filtered(Item::Value(Value::from(crate::wording::cut(v)))))
    }
}
