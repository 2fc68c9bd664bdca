//! Field-level validation errors as apimachinery words them (`field.Error`, `ErrorList`), the
//! 422 `Invalid` Status they become, and the Go `fmt` renderings their messages embed.

use serde_json::{Map, Value, json};

use crate::status::ApiError;

/// The kind of a field error (`field.ErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// `FieldValueNotFound`.
    NotFound,
    /// `FieldValueRequired`.
    Required,
    /// `FieldValueDuplicate`.
    Duplicate,
    /// `FieldValueInvalid`.
    Invalid,
    /// `FieldValueNotSupported`.
    NotSupported,
    /// `FieldValueForbidden`.
    Forbidden,
    /// `FieldValueTooLong`.
    TooLong,
    /// `FieldValueTooMany`.
    TooMany,
}

impl ErrorType {
    /// The `reason` of the StatusCause.
    pub fn cause(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
        }
    }

    /// The words that start the message (`Invalid value`).
    pub fn text(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
        }
    }

    /// Types whose message never shows the value.
    fn omits_value(self) -> bool {
        matches!(
            self,
            Self::Required | Self::Forbidden | Self::TooLong | Self::TooMany
        )
    }
}

/// A field path (`field.Path`): `spec.containers[0].resources.limits[memory]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(String),
}

impl Path {
    /// A path starting at a field (`field.NewPath("spec")`); `""` is the whole object (`[]`).
    pub fn new(name: &str) -> Self {
        Self(vec![Segment::Name(name.to_string())])
    }

    /// `spec` → `spec.template`.
    pub fn child(&self, name: &str) -> Self {
        let mut segments = self.0.clone();
        for part in name.split('.') {
            segments.push(Segment::Name(part.to_string()));
        }
        Self(segments)
    }

    /// `containers` → `containers[0]`.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index.to_string()));
        Self(segments)
    }

    /// `limits` → `limits[memory]`.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(key.to_string()));
        Self(segments)
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Name(name) if !name.is_empty() => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Name(_) => f.write_str("[]")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// One field error (`field.Error`): type, field path, bad value (already rendered the way
/// `ErrorBody` renders it) and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The type.
    pub kind: ErrorType,
    /// The field path as text.
    pub field: String,
    /// The bad value as Go prints it (`"text"`, `3`, `[]string{"x"}`), if shown at all.
    pub value: Option<String>,
    /// The detail after the value.
    pub detail: String,
}

impl FieldError {
    fn new(kind: ErrorType, path: &Path, value: Option<String>, detail: &str) -> Self {
        Self {
            kind,
            field: path.to_string(),
            value,
            detail: detail.to_string(),
        }
    }

    /// `field.Required`.
    pub fn required(path: &Path, detail: &str) -> Self {
        Self::new(ErrorType::Required, path, None, detail)
    }

    /// `field.Forbidden`.
    pub fn forbidden(path: &Path, detail: &str) -> Self {
        Self::new(ErrorType::Forbidden, path, None, detail)
    }

    /// `field.Invalid` with a value already rendered (see [`go`]).
    pub fn invalid(path: &Path, value: String, detail: &str) -> Self {
        Self::new(ErrorType::Invalid, path, Some(value), detail)
    }

    /// `field.Duplicate`.
    pub fn duplicate(path: &Path, value: String) -> Self {
        Self::new(ErrorType::Duplicate, path, Some(value), "")
    }

    /// `field.NotSupported`: `supported values: "a", "b"`.
    pub fn not_supported(path: &Path, value: String, supported: &[&str]) -> Self {
        let quoted: Vec<String> = supported.iter().map(|v| go::quote(v)).collect();
        let detail = if quoted.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, path, Some(value), &detail)
    }

    /// `field.TooLong`: `must have at most N bytes`.
    pub fn too_long(path: &Path, max: usize) -> Self {
        Self::new(
            ErrorType::TooLong,
            path,
            None,
            &format!("must have at most {max} bytes"),
        )
    }

    /// The message without the field (`ErrorBody`).
    pub fn body(&self) -> String {
        let mut body = self.kind.text().to_string();
        if !self.kind.omits_value()
            && let Some(value) = &self.value
        {
            body.push_str(": ");
            body.push_str(value);
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }

    /// `field: body`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.field, self.body())
    }
}

/// Errors of one validation pass.
pub type ErrorList = Vec<FieldError>;

/// An error list as `utilerrors.Aggregate` prints it: one message alone, several in brackets,
/// duplicates once.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for error in errors {
        let message = error.message();
        if !seen.contains(&message) {
            seen.push(message);
        }
    }
    match seen.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// `errors.NewInvalid(GroupKind{group, kind}, name, errs)`: 422 with one cause per error.
pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> ApiError {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let message = if errors.is_empty() {
        format!("{qualified} {} is invalid", go::quote(name))
    } else {
        format!(
            "{qualified} {} is invalid: {}",
            go::quote(name),
            aggregate(errors)
        )
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|error| {
            let mut cause = Map::new();
            cause.insert("reason".into(), json!(error.kind.cause()));
            cause.insert("message".into(), json!(error.body()));
            if !error.field.is_empty() {
                cause.insert("field".into(), json!(error.field));
            }
            Value::Object(cause)
        })
        .collect();
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    if !kind.is_empty() {
        details.insert("kind".into(), json!(kind));
    }
    details.insert("causes".into(), Value::Array(causes));
    ApiError::new(422, "Invalid", message).with_details(Value::Object(details))
}

/// Go `fmt` renderings used in messages, so that texts match the real server's byte for byte.
pub mod go {
    use serde_json::Value;

    /// `%q` of a string (`strconv.Quote`).
    pub fn quote(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for ch in text.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// `%#v` of a `[]string`.
    pub fn string_slice(values: &[String]) -> String {
        let quoted: Vec<String> = values.iter().map(|v| quote(v)).collect();
        format!("[]string{{{}}}", quoted.join(", "))
    }

    /// `%v` of a `[]string` (`[a b]`).
    pub fn string_slice_plain(values: &[String]) -> String {
        format!("[{}]", values.join(" "))
    }

    /// `%#v` of a `map[string]string` (keys sorted, as fmt sorts them).
    pub fn string_map(map: Option<&serde_json::Map<String, Value>>) -> String {
        let Some(map) = map else {
            return "map[string]string(nil)".to_string();
        };
        let mut entries: Vec<(&String, String)> = map
            .iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
            .collect();
        entries.sort();
        let parts: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
            .collect();
        format!("map[string]string{{{}}}", parts.join(", "))
    }

    /// `%#v` of a `metav1.LabelSelector` (what immutable-selector errors print).
    pub fn label_selector(selector: &Value) -> String {
        let labels = string_map(selector.get("matchLabels").and_then(Value::as_object));
        let expressions = match selector.get("matchExpressions").and_then(Value::as_array) {
            None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
            Some(list) => {
                let items: Vec<String> = list
                    .iter()
                    .map(|e| {
                        let values: Vec<String> = e
                            .get("values")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect();
                        let values = if e.get("values").is_some() {
                            string_slice(&values)
                        } else {
                            "[]string(nil)".to_string()
                        };
                        format!(
                            "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{values}}}",
                            quote(e.get("key").and_then(Value::as_str).unwrap_or_default()),
                            quote(
                                e.get("operator")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                            ),
                        )
                    })
                    .collect();
                format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
            }
        };
        format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
    }

    /// `%v` of an unstructured value (`map[string]interface{}` and friends): maps as
    /// `map[k:v]` with sorted keys, lists as `[a b]`, strings bare, null as `<nil>`.
    pub fn value(value: &Value) -> String {
        match value {
            Value::Null => "<nil>".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number(n),
            Value::String(s) => s.clone(),
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().map(self::value).collect();
                format!("[{}]", parts.join(" "))
            }
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{k}:{}", self::value(&map[k.as_str()])))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
        }
    }

    /// `%v` of a JSON number decoded with ints preserved (int64, else float64 `%v`).
    fn number(n: &serde_json::Number) -> String {
        if let Some(i) = n.as_i64() {
            return i.to_string();
        }
        if let Some(u) = n.as_u64() {
            return u.to_string();
        }
        let f = n.as_f64().unwrap_or_default();
        let exponent = if f == 0.0 {
            0
        } else {
            f.abs().log10().floor() as i32
        };
        if (-4..21).contains(&exponent) {
            format!("{f}")
        } else {
            // Go's %v switches to exponent form (%e with the shortest digits) outside that range.
            let text = format!("{f:e}");
            match text.split_once('e') {
                Some((mantissa, exp)) => {
                    let exp: i32 = exp.parse().unwrap_or_default();
                    let sign = if exp < 0 { '-' } else { '+' };
                    format!("{mantissa}e{sign}{:02}", exp.abs())
                }
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_field_path() {
        let path = Path::new("spec")
            .child("containers")
            .index(1)
            .child("resources")
            .child("limits")
            .key("memory");
        assert_eq!(
            path.to_string(),
            "spec.containers[1].resources.limits[memory]"
        );
        assert_eq!(Path::new("").to_string(), "[]");
        assert_eq!(Path::new("data").key("a b").to_string(), "data[a b]");
    }

    #[test]
    fn bodies_and_aggregates() {
        let required = FieldError::required(
            &Path::new("spec")
                .child("containers")
                .index(0)
                .child("image"),
            "",
        );
        assert_eq!(
            required.message(),
            "spec.containers[0].image: Required value"
        );
        let unsupported = FieldError::not_supported(
            &Path::new("dryRun"),
            go::string_slice(&["x".to_string()]),
            &["All"],
        );
        assert_eq!(
            unsupported.message(),
            r#"dryRun: Unsupported value: []string{"x"}: supported values: "All""#
        );
        let too_long = FieldError::too_long(&Path::new(""), 1_048_576);
        assert_eq!(
            too_long.message(),
            "[]: Too long: must have at most 1048576 bytes"
        );
        assert_eq!(
            aggregate(std::slice::from_ref(&required)),
            required.message()
        );
        assert_eq!(
            aggregate(&[required.clone(), too_long.clone(), required.clone()]),
            format!("[{}, {}]", required.message(), too_long.message())
        );
        let error = invalid("", "ConfigMap", "big", &[too_long]);
        assert_eq!(
            error.message,
            "ConfigMap \"big\" is invalid: []: Too long: must have at most 1048576 bytes"
        );
        assert_eq!(
            error.details.expect("details"),
            json!({"name": "big", "kind": "ConfigMap", "causes": [{"reason": "FieldValueTooLong",
                "message": "Too long: must have at most 1048576 bytes", "field": "[]"}]})
        );
    }

    #[test]
    fn go_renderings() {
        assert_eq!(go::quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(
            go::value(&json!({"b": [1, "x"], "a": {"c": null}, "d": 2.5})),
            "map[a:map[c:<nil>] b:[1 x] d:2.5]"
        );
        assert_eq!(
            go::label_selector(&json!({"matchLabels": {"b": "2", "a": "1"}})),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"a":"1", "b":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"#
        );
    }
}
