//! One JSON document read through the [`Framer`]: its outline (top-level keys, the items of a
//! list) is followed here, each item is parsed from its own piece, and the same
//! [`DocumentFields`] and [`Items`] as YAML's decide what is kept.

use super::document::{DocumentFields, Field, Filtered, Found, Item, Items, Shape};
use super::framer::{Framer, JsonError};
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
            let value = match value {
                Value::Null => return Ok(Shape::default()),
                Value::String(s) => Value::from(crate::wording::cut(&s)),
                other => other,
            };
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
            let value: Value = fr.whole()?.parse()?;
            return Err(JsonError::Data {
                pos: Some(pos),
                message: format!(
                    "invalid type: {}, expected a list of Kubernetes objects",
                    what(&value)
                ),
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

/// serde's words for a value of the wrong type.
fn what(value: &Value) -> String {
    match value {
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {:?}", crate::wording::cut(s)),
        Value::Object(_) => "map".into(),
        Value::Array(_) | Value::Null => "sequence".into(),
    }
}
