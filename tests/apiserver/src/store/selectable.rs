//! What selectors read of each stored object, kept beside its bytes: its labels and the
//! values of the selectable fields. A filtered list of 100,000 pods then matches without
//! decoding any object that the selector rejects.

use std::borrow::Cow;

use serde_json::Value;

use crate::selectors::{self, FieldSelector, Fields, LabelSelector, Labels, SUPPORTED_FIELDS};

/// The labels (sorted by key) and the non-empty selectable fields of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectable {
    labels: Box<[(Box<str>, Box<str>)]>,
    /// Index into [`SUPPORTED_FIELDS`], and the field as a selector compares it.
    fields: Box<[(u8, Box<str>)]>,
}

impl Selectable {
    /// Reads an object's labels and selectable fields.
    pub fn of(object: &Value) -> Self {
        let mut labels: Vec<(Box<str>, Box<str>)> = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            // A label that is not a string is invisible to selectors (as in `Labels` on a Map).
            .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
            .collect();
        labels.sort();
        let fields = SUPPORTED_FIELDS
            .iter()
            .enumerate()
            .filter_map(|(index, path)| {
                let value = selectors::field_value(object, path);
                let index = u8::try_from(index).ok()?;
                (!value.is_empty()).then(|| (index, value.into_boxed_str()))
            })
            .collect();
        Self {
            labels: labels.into(),
            fields,
        }
    }

    /// Whether both selectors select the object.
    pub fn matches(&self, labels: &LabelSelector, fields: &FieldSelector) -> bool {
        labels.matches_labels(self) && fields.matches(self)
    }
}

impl Labels for Selectable {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|index| &*self.labels[index].1)
    }
}

impl Fields for Selectable {
    fn field(&self, path: &str) -> Cow<'_, str> {
        let value = SUPPORTED_FIELDS
            .iter()
            .position(|p| *p == path)
            .and_then(|wanted| self.fields.iter().find(|(i, _)| usize::from(*i) == wanted))
            .map_or("", |(_, value)| &**value);
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The index answers every selector as the object itself does.
    #[test]
    fn selects_as_the_object_does() {
        let objects = [
            json!({"metadata": {"name": "p", "namespace": "shop",
                    "labels": {"app": "web", "tier": "7", "odd": 1}},
                "spec": {"nodeName": "node-1", "unschedulable": true},
                "status": {"phase": "Running"}}),
            json!({"metadata": {"name": "q"}, "spec": null, "status": {"phase": null}}),
            json!({"kind": "Event", "metadata": {"name": "e"}, "involvedObject": {"kind": "Node"},
                "source": {"component": "kubelet"}, "type": "Warning"}),
        ];
        let labels = [
            "",
            "app=web",
            "app!=web",
            "tier>5",
            "tier<5",
            "odd",
            "!app",
            "app in (db,web)",
        ];
        let fields = [
            "",
            "metadata.name=p",
            "spec.nodeName!=node-1",
            "spec.unschedulable=true",
            "status.phase=",
            "involvedObject.kind=Node,type=Warning",
            r#"source={"component":"kubelet"}"#,
        ];
        for object in &objects {
            let index = Selectable::of(object);
            for label in labels {
                let label = LabelSelector::parse(label).expect("label selector");
                for field in fields {
                    let field = FieldSelector::parse(field).expect("field selector");
                    assert_eq!(
                        index.matches(&label, &field),
                        label.matches(object) && field.matches(object),
                        "{object} {label:?} {field:?}"
                    );
                }
            }
        }
    }
}
