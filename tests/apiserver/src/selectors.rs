//! Label and field selectors: parsing the query-string forms and the `LabelSelector` objects
//! of PodDisruptionBudgets, and matching them against objects.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// A selector string or object that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelRequirement {
    /// `key=value` / `key==value` / `key in (a,b)`.
    In(String, Vec<String>),
    /// `key!=value` / `key notin (a,b)`: also true when the label is absent.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
    /// `key>N`.
    GreaterThan(String, i64),
    /// `key<N`.
    LessThan(String, i64),
}

/// Where a label selector reads labels: an object's `metadata.labels`, or the store's index
/// of them (so a list can be filtered without decoding every object).
pub trait Labels {
    /// The value of a label, when set to a string.
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for Option<&Map<String, Value>> {
    fn label(&self, key: &str) -> Option<&str> {
        self.and_then(|l| l.get(key)).and_then(Value::as_str)
    }
}

/// Where a field selector reads fields: an object, or the store's index of the
/// [`SUPPORTED_FIELDS`].
pub trait Fields {
    /// The field as a selector compares it (a missing field is `""`).
    fn field(&self, path: &str) -> Cow<'_, str>;
}

impl Fields for Value {
    fn field(&self, path: &str) -> Cow<'_, str> {
        Cow::Owned(field_value(self, path))
    }
}

impl LabelRequirement {
    fn matches(&self, labels: &impl Labels) -> bool {
        let get = |key: &str| labels.label(key);
        match self {
            Self::In(key, values) => get(key).is_some_and(|v| values.iter().any(|x| x == v)),
            Self::NotIn(key, values) => get(key).is_none_or(|v| values.iter().all(|x| x != v)),
            Self::Exists(key) => get(key).is_some(),
            Self::DoesNotExist(key) => get(key).is_none(),
            Self::GreaterThan(key, n) => get(key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Self::LessThan(key, n) => get(key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }
}

/// A label selector: every requirement must hold. `Nothing` matches no object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<LabelRequirement>,
    nothing: bool,
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter form.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_top_level(input) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(Self {
            requirements,
            nothing: false,
        })
    }

    /// Converts a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions`).
    /// `null` selects nothing; `{}` selects everything.
    pub fn from_object(selector: Option<&Value>) -> Result<Self, SelectorError> {
        let Some(selector) = selector.filter(|s| !s.is_null()) else {
            return Ok(Self {
                requirements: Vec::new(),
                nothing: true,
            });
        };
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (key, value) in labels {
                let value = value.as_str().unwrap_or_default().to_string();
                requirements.push(LabelRequirement::In(key.clone(), vec![value]));
            }
        }
        for expression in selector
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = expression
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| SelectorError("matchExpressions entry without key".into()))?
                .to_string();
            let values: Vec<String> = expression
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let operator = expression
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            requirements.push(match operator {
                "In" => LabelRequirement::In(key, values),
                "NotIn" => LabelRequirement::NotIn(key, values),
                "Exists" => LabelRequirement::Exists(key),
                "DoesNotExist" => LabelRequirement::DoesNotExist(key),
                other => {
                    return Err(SelectorError(format!("{other:?} is not a valid operator")));
                }
            });
        }
        Ok(Self {
            requirements,
            nothing: false,
        })
    }

    /// Whether the selector has no requirement (and selects everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && !self.nothing
    }

    /// Whether the object's `metadata.labels` satisfy the selector.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object);
        self.matches_labels(&labels)
    }

    /// Whether these labels satisfy the selector.
    pub fn matches_labels(&self, labels: &impl Labels) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
}

/// Splits at commas that are not inside parentheses.
fn split_top_level(input: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&input[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<LabelRequirement, SelectorError> {
    parse_requirement_inner(part)
        .map_err(|e| SelectorError(format!("unable to parse requirement: {}", e.0)))
}

fn parse_requirement_inner(part: &str) -> Result<LabelRequirement, SelectorError> {
    let error = || SelectorError(format!("invalid requirement {part:?}"));
    if let Some(key) = part.strip_prefix('!') {
        return valid_key(key.trim()).map(|k| LabelRequirement::DoesNotExist(k.into()));
    }
    if let Some((key, value)) = part.split_once("!=") {
        return Ok(LabelRequirement::NotIn(
            valid_key(key.trim())?.into(),
            vec![value.trim().into()],
        ));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(LabelRequirement::In(
            valid_key(key.trim())?.into(),
            vec![value.trim().into()],
        ));
    }
    for (op, greater) in [('>', true), ('<', false)] {
        if let Some((key, value)) = part.split_once(op) {
            let key = valid_key(key.trim())?.to_string();
            let n = value.trim().parse::<i64>().map_err(|_| error())?;
            return Ok(if greater {
                LabelRequirement::GreaterThan(key, n)
            } else {
                LabelRequirement::LessThan(key, n)
            });
        }
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = valid_key(words.next().unwrap_or_default())?.to_string();
    let rest = words.next().unwrap_or_default().trim();
    if rest.is_empty() {
        return Ok(LabelRequirement::Exists(key));
    }
    let (negated, list) = if let Some(list) = rest.strip_prefix("notin") {
        (true, list)
    } else if let Some(list) = rest.strip_prefix("in") {
        (false, list)
    } else {
        return Err(error());
    };
    let list = list
        .trim()
        .strip_prefix('(')
        .and_then(|l| l.strip_suffix(')'))
        .ok_or_else(error)?;
    let values: Vec<String> = list
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    Ok(if negated {
        LabelRequirement::NotIn(key, values)
    } else {
        LabelRequirement::In(key, values)
    })
}

fn valid_key(key: &str) -> Result<&str, SelectorError> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(key)
    } else {
        Err(SelectorError(format!("invalid label key {key:?}")))
    }
}

/// A field selector: `metadata.name=x,spec.nodeName!=y`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

/// The fields the real API server accepts for every resource, plus the per-kind ones we serve.
pub const SUPPORTED_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.unschedulable",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
    "status.successful",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "regarding.kind",
    "regarding.name",
    "regarding.namespace",
    "regarding.uid",
];

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_unescaped(input, ',') {
            if part.trim().is_empty() {
                continue;
            }
            let (field, negated, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, false, v)
            } else {
                return Err(SelectorError(format!("invalid field selector: '{part}'")));
            };
            let field = field.trim();
            if !SUPPORTED_FIELDS.contains(&field) {
                return Err(SelectorError(format!("field label not supported: {field}")));
            }
            requirements.push((field.to_string(), negated, unescape(value)));
        }
        Ok(Self { requirements })
    }

    /// Whether there is no requirement.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether the object satisfies every requirement. A missing field compares as `""`.
    pub fn matches(&self, object: &impl Fields) -> bool {
        self.requirements.iter().all(|(field, negated, expected)| {
            let actual = object.field(field);
            (*actual == **expected) != *negated
        })
    }

    /// The value a `metadata.namespace=` requirement fixes, to narrow a list to one namespace.
    pub fn namespace(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|(field, negated, _)| field == "metadata.namespace" && !negated)
            .map(|(_, _, value)| value.as_str())
    }
}

/// A field as a selector compares it: strings as they are, `null` and missing as `""`, other
/// values as JSON.
pub fn field_value(object: &Value, path: &str) -> String {
    let mut current = object;
    for segment in path.split('.') {
        match current.get(segment) {
            Some(next) => current = next,
            None => return String::new(),
        }
    }
    match current {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn split_unescaped(input: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in input.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "shop", "labels": labels},
               "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn equality_and_set_based_label_requirements() {
        let object = pod(json!({"app": "web", "tier": "front"}));
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (db, web)", true),
            ("app notin (db,web)", false),
            ("app,tier", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier in (front),!canary", true),
            ("", true),
        ];
        for (selector, expected) in cases {
            let parsed = LabelSelector::parse(selector).expect(selector);
            assert_eq!(parsed.matches(&object), expected, "{selector}");
        }
    }

    #[test]
    fn rejects_malformed_label_selectors() {
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
        assert!(LabelSelector::parse("=x").is_err());
    }

    #[test]
    fn object_selectors_follow_pdb_semantics() {
        let object = pod(json!({"app": "web"}));
        assert!(
            !LabelSelector::from_object(None)
                .expect("null")
                .matches(&object)
        );
        assert!(
            LabelSelector::from_object(Some(&json!({})))
                .expect("{}")
                .matches(&object)
        );
        let selector = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]});
        assert!(
            LabelSelector::from_object(Some(&selector))
                .expect("sel")
                .matches(&object)
        );
        let selector =
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]});
        assert!(
            !LabelSelector::from_object(Some(&selector))
                .expect("sel")
                .matches(&object)
        );
    }

    #[test]
    fn field_selectors() {
        let object = pod(json!({}));
        let cases = [
            ("metadata.name=p", true),
            ("metadata.namespace==shop", true),
            ("spec.nodeName!=node-1", false),
            ("status.phase!=Succeeded,status.phase!=Failed", true),
            ("spec.nodeName=", false),
        ];
        for (selector, expected) in cases {
            let parsed = FieldSelector::parse(selector).expect(selector);
            assert_eq!(parsed.matches(&object), expected, "{selector}");
        }
        assert_eq!(
            FieldSelector::parse("spec.foo=x")
                .expect_err("unsupported")
                .0,
            "field label not supported: spec.foo"
        );
    }
}
