//! One JSON document read through the [`Framer`]: its outline (top-level keys, the items of a
//! list) is followed here, each item is parsed from its own piece, and the same
//! [`DocumentFields`] and [`Items`] as YAML's decide what is kept.

use super::document::{DocumentFields, Field, Filtered, Found, Item, Items, Shape};
use super::framer::{Framer, JsonError};
use serde::Deserializer as _;
use serde_json::Value;
use std::io::Read;

/// Reads one document, handing its objects to `sink`; the cursor is on its first byte.
pub fn document<R: Read>(
    fr: &mut Framer<R>,
    sink: &mut dyn FnMut(Found),
) -> Result<Shape, JsonError> {
    match fr.skip_space()? {
        Some(b'{') => {
            fr.open(b'{')?;
            let mut fields = DocumentFields::default();
            while let Some(key) = fr.next_key()? {
                match fields.field(&key) {
                    Field::Items(kind) => fields.items(items(fr, sink, Items::new(kind))?),
                    Field::Value => {
                        let value = fr.whole()?.parse()?;
                        fields.value(key, value);
                    }
                    Field::Ignore => fr.skip()?,
                }
            }
            Ok(fields.finish(None, sink))
        }
        Some(b'[') => {
            let (count, _) = items(fr, sink, Items::new(None))?;
            Ok(Shape {
                items: Some(count),
                ..Shape::default()
            })
        }
        Some(_) => {
            // A document that is a plain value is not an object; handed on, it is reported so.
            let value: Value = fr.whole()?.parse()?;
            if value.is_null() {
                return Ok(Shape::default());
            }
            let value = cut_text(value);
            sink(Found {
                item: Item::Value(value),
                index: None,
                pos: None,
            });
            Ok(Shape::default())
        }
        None => Err(JsonError::Cut(fr.pos())),
    }
}

/// The items of a list, each parsed from its piece; `null` is an empty list.
fn items<R: Read>(
    fr: &mut Framer<R>,
    sink: &mut dyn FnMut(Found),
    mut items: Items,
) -> Result<(usize, usize), JsonError> {
    match fr.skip_space()? {
        Some(b'[') => fr.open(b'[')?,
        Some(b'n') => {
            let _: () = fr.whole()?.parse()?;
            return Ok((0, 0));
        }
        Some(_) => {
            let pos = fr.pos();
            let value = cut_text(fr.whole()?.parse()?);
            // serde says what was found instead, in its own words.
            let message = match value.deserialize_any(ListOfObjects) {
                Err(e) => e.to_string(),
                Ok(()) => String::new(),
            };
            return Err(JsonError::Data {
                pos: Some(pos),
                message,
            });
        }
        None => return Err(JsonError::Cut(fr.pos())),
    }
    while fr.next_element()? {
        let pos = Some(fr.pos());
        if items.skips_all() {
            fr.skip()?;
            sink(items.skipped(pos));
            continue;
        }
        let Filtered(item) = fr.item()?.parse()?;
        sink(items.item(item, pos));
    }
    Ok(items.counts())
}

/// A long text quoted in a note or an error is cut.
fn cut_text(value: Value) -> Value {
    match value {
        Value::String(s) => Value::from(crate::wording::cut(&s)),
        other => other,
    }
}

/// What a list's `items` must be; any other value is refused by serde's default visits.
struct ListOfObjects;

impl<'de> serde::de::Visitor<'de> for ListOfObjects {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of Kubernetes objects")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::snapshot::progress::Limits;

    fn error(text: &str) -> String {
        let mut fr = Framer::new(text.as_bytes(), Limits::DEFAULT, 1);
        let err = document(&mut fr, &mut |_| {}).expect_err("not a list");
        err.to_string()
    }

    #[test]
    fn items_that_are_not_a_list_say_what_they_are() {
        assert_eq!(
            error(r#"{"kind": "List", "items": "x"}"#),
            "line 1, column 27: expected a list of Kubernetes objects, found the string \"x\""
        );
        assert!(
            error(r#"{"kind": "List", "items": 1.5}"#)
                .ends_with("expected a list of Kubernetes objects, found the number 1.5"),
            "{}",
            error(r#"{"kind": "List", "items": 1.5}"#)
        );
    }
}
