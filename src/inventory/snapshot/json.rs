//! One JSON document read through the [`Framer`]: its outline (top-level keys, the items of a
//! list) is followed here, each item is parsed from its own piece on a worker thread
//! ([`Pool`]) while the framer copies the next ones, and the same [`DocumentFields`] and
//! [`Items`] as YAML's decide what is kept.

use super::document::{DocumentFields, Field, Filtered, Found, Item, Items, Shape};
use super::framer::{Framer, JsonError, OwnedPiece};
use super::item_pool::{Job, ListKind, Parsed, Pool, Settled};
use super::progress::Pos;
use serde::Deserializer as _;
use serde_json::Value;
use std::io::Read;
use std::sync::Arc;

/// A list item's piece, with where it began and its list's kind.
pub struct ItemJob {
    piece: OwnedPiece,
    pos: Pos,
    kind: ListKind,
}

impl Job for ItemJob {
    fn len(&self) -> usize {
        self.piece.len()
    }

    fn list_kind(&self) -> Option<&(String, String)> {
        self.kind.as_deref()
    }

    fn parse(&self) -> Result<(Item, Option<Pos>), String> {
        match self.piece.piece().parse::<Filtered>() {
            Ok(Filtered(item)) => Ok((item, Some(self.pos))),
            Err(e) => Err(e.to_string()),
        }
    }

    fn settle_directly(&self) -> Option<Settled> {
        let piece = self.piece.piece();
        let (item, without_kind) =
            super::ready::settle_text(piece.bytes, piece.kind, self.list_kind())?;
        Some(Settled {
            item,
            without_kind,
            pos: Some(self.pos),
        })
    }
}

/// Reads one document, handing its objects to `sink`; the cursor is on its first byte.
pub fn document<R: Read>(
    fr: &mut Framer<R>,
    pool: &mut Option<Pool<ItemJob>>,
    sink: &mut dyn FnMut(Found),
) -> Result<Shape, JsonError> {
    match fr.skip_space()? {
        Some(b'{') => {
            fr.open(b'{')?;
            let mut fields = DocumentFields::default();
            while let Some(key) = fr.next_key()? {
                match fields.field(&key) {
                    Field::Items(kind) => fields.items(items(fr, pool, sink, Items::new(kind))?),
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
            let (count, _) = items(fr, pool, sink, Items::new(None))?;
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
    pool: &mut Option<Pool<ItemJob>>,
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
    if items.skips_all() {
        while fr.next_element()? {
            let pos = Some(fr.pos());
            fr.skip()?;
            sink(items.skipped(pos));
        }
        return Ok(items.counts());
    }
    let kind: ListKind = items.kind().cloned().map(Arc::new);
    let pool = pool.get_or_insert_with(Pool::new);
    let mut done = |parsed: Parsed| -> Result<(), String> {
        let Settled {
            item,
            without_kind,
            pos,
        } = parsed?;
        sink(items.settled(item, without_kind, pos));
        Ok(())
    };
    let stopped = loop {
        match fr.next_element() {
            Ok(true) => {}
            Ok(false) => break None,
            Err(e) => break Some(e),
        }
        let pos = fr.pos();
        let piece = match fr.item() {
            Ok(piece) => piece.to_owned(),
            Err(e) => break Some(e),
        };
        let job = ItemJob {
            piece,
            pos,
            kind: kind.clone(),
        };
        pool.push(job, &mut done).map_err(JsonError::Checked)?;
    };
    // An item before the place the framer stopped at that does not parse is the first error.
    pool.flush(&mut done).map_err(JsonError::Checked)?;
    match stopped {
        Some(e) => Err(e),
        None => Ok(items.counts()),
    }
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
        let err = document(&mut fr, &mut None, &mut |_| {}).expect_err("not a list");
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

    #[test]
    fn an_item_that_does_not_parse_is_the_error_though_the_framer_stopped_later() {
        // The framer only steps over `[1 2]`; the parser refuses it on a worker, while the
        // framer has gone on to the cut-off item after it.
        let text = "{\"kind\": \"List\", \"items\": [\n{\"kind\": \"Pod\", \"spec\": {\"x\": [1 2]}},\n{\"kind\": \"Pod\"";
        assert!(
            error(text).starts_with("line 2, column "),
            "{}",
            error(text)
        );
        assert!(
            error(text).contains("expected `,` or `]`"),
            "{}",
            error(text)
        );
        let cut = "{\"kind\": \"List\", \"items\": [\n{\"kind\": \"Pod\", \"spec\": {}},\n{\"kind\": \"Pod\"";
        assert!(error(cut).contains("looks cut off"), "{}", error(cut));
    }

    #[test]
    fn items_come_back_in_order_with_their_places_and_their_list_s_kind() {
        let mut text =
            String::from("{\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"items\": [\n");
        for i in 0..2000 {
            let sep = if i == 0 { "" } else { ",\n" };
            text.push_str(&format!(
                "{sep}{{\"metadata\": {{\"name\": \"p{i}\", \"namespace\": \"x\", \"annotations\": {{\"pad\": \"{}\"}}}}}}",
                "y".repeat(100)
            ));
        }
        text.push_str("]}");
        let mut fr = Framer::new(text.as_bytes(), Limits::DEFAULT, 1);
        let mut seen = Vec::new();
        let shape = document(&mut fr, &mut None, &mut |f| {
            let Item::Ready(ready) = f.item else {
                panic!("not decoded on a worker");
            };
            seen.push((ready.describe, f.index, f.pos.map(|p| p.line)));
        })
        .expect("read");
        assert_eq!(shape.items, Some(2000));
        for (i, (describe, index, line)) in seen.iter().enumerate() {
            assert_eq!(describe, &format!("Pod x/p{i}"));
            assert_eq!(*index, Some(i));
            assert_eq!(*line, Some(i as u64 + 2));
        }
        assert_eq!(seen.len(), 2000);
    }
}
