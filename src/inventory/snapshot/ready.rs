//! What can be done for an object before the reader takes it in, on the thread that parsed it:
//! its list's kind given where it names none, its identity worked out, and its decoding. The
//! reader's own thread then only sights and hands on, so a large dump is decoded on every core.

use super::document::Item;
use super::identity::{self, Identity};
use crate::objects::{self, DecodeError, Decoded};
use serde_json::Value;

/// An object ready to be sighted and handed on.
#[derive(Debug)]
pub struct Ready {
    pub identity: Option<Identity>,
    /// `Pod shop/api-1`, for the note when it was read before.
    pub describe: String,
    pub decoded: Result<Decoded, DecodeError>,
}

impl Ready {
    pub fn of(value: Value) -> Self {
        Self {
            identity: identity::identify(&value),
            describe: identity::describe(&value),
            decoded: objects::decode(value),
        }
    }
}

/// An object decoded straight from its JSON text ([`objects::from_text`]), with whether it
/// named no kind (`own_kind`: the kind it names); `None` when that text is not the plain case
/// or has no uid and resourceVersion to tell its copies apart by: then it is parsed and
/// settled through `Value`.
pub fn settle_text(
    bytes: &[u8],
    own_kind: Option<&str>,
    list_kind: Option<&(String, String)>,
) -> Option<(Item, bool)> {
    let (kind, list_api_version) = match (own_kind, list_kind) {
        (Some(kind), _) => (kind, None),
        (None, Some((kind, api_version))) => (kind.as_str(), Some(api_version.as_str())),
        (None, None) => return None,
    };
    let object = objects::from_text::decode(bytes, kind, list_api_version)?;
    let meta = match &object {
        objects::Object::Pod(pod) => &pod.metadata,
        objects::Object::Workload(workload) => &workload.metadata,
        _ => return None,
    };
    let ns = meta.namespace.as_deref().unwrap_or_default();
    let identity = identity::identify_named(
        [kind, ns, &meta.name],
        meta.uid.as_deref(),
        meta.resource_version.as_deref(),
    )?;
    let ready = Ready {
        identity: Some(identity),
        describe: identity::describe_named(kind, ns, &meta.name),
        decoded: Ok(Decoded::Object(object)),
    };
    Some((Item::Ready(Box::new(ready)), own_kind.is_none()))
}

/// Gives an object that names no kind its typed list's kind (`PodList` items are written
/// without one); whether it named none.
pub fn give_kind(item: &mut Item, kind: Option<&(String, String)>) -> bool {
    let Item::Value(Value::Object(map)) = item else {
        return false;
    };
    if map.contains_key("kind") {
        return false;
    }
    if let Some((kind, api_version)) = kind {
        map.insert("kind".into(), Value::from(kind.as_str()));
        if !api_version.is_empty() {
            map.entry("apiVersion")
                .or_insert_with(|| Value::from(api_version.as_str()));
        }
    }
    true
}

/// A parsed item made ready (on a worker thread): given its list's kind, then decoded; whether
/// it named no kind of its own.
pub fn settle(mut item: Item, kind: Option<&(String, String)>) -> (Item, bool) {
    let without_kind = give_kind(&mut item, kind);
    let item = match item {
        Item::Value(v) => Item::Ready(Box::new(Ready::of(v))),
        other => other,
    };
    (item, without_kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_item_without_a_kind_takes_its_list_s_and_is_decoded() {
        let kind = ("Pod".to_owned(), "v1".to_owned());
        let item = Item::Value(json!({"metadata": {"name": "a", "namespace": "x"}}));
        let (item, without_kind) = settle(item, Some(&kind));
        assert!(without_kind);
        let Item::Ready(ready) = item else {
            panic!("not made ready: {item:?}");
        };
        assert_eq!(ready.describe, "Pod x/a");
        assert!(ready.identity.is_some());
        assert!(
            matches!(ready.decoded, Ok(Decoded::Object(objects::Object::Pod(_)))),
            "{:?}",
            ready.decoded
        );

        let named = Item::Value(json!({"kind": "Node", "metadata": {"name": "n"}}));
        let (item, without_kind) = settle(named, Some(&kind));
        assert!(!without_kind);
        let Item::Ready(ready) = item else {
            panic!("not made ready");
        };
        assert_eq!(ready.describe, "Node n");
    }

    #[test]
    fn what_cannot_be_decoded_is_ready_with_the_reason() {
        let (item, _) = settle(Item::Value(json!({"kind": "Pod"})), None);
        let Item::Ready(ready) = item else {
            panic!("not made ready");
        };
        assert!(ready.identity.is_none(), "no name, no key");
        assert!(ready.decoded.is_err());
        let skipped = Item::Skipped {
            kind: "ConfigMap".into(),
            api_version: "v1".into(),
        };
        assert!(matches!(
            settle(skipped, None),
            (Item::Skipped { .. }, false)
        ));
    }
}
