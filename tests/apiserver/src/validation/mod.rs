//! Validation shared by the kinds (apimachinery's `ValidateObjectMeta`, name, label and
//! quantity rules), with the real messages. Each kind's own rules live with its strategy.

pub mod pod_spec;

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::field::{ErrorList, FieldError, Path, go};
use crate::quantity::Quantity;

/// How a kind's names are validated (`ValidateXName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// `NameIsDNSSubdomain` (most kinds).
    Subdomain,
    /// `NameIsDNSLabel` (namespaces).
    Label,
    /// `NameIsDNS1035Label` (services).
    Dns1035,
    /// `path.ValidatePathSegmentName` only (no `/`, not `.` or `..`): custom resources.
    PathSegment,
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

fn dns1123_subdomain_fmt() -> String {
    format!("{DNS1123_LABEL_FMT}(\\.{DNS1123_LABEL_FMT})*")
}

fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("the validation patterns are valid")
}

static DNS1123_LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_LABEL_FMT));
static DNS1123_SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| anchored(&dns1123_subdomain_fmt()));
static DNS1035_LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1035_LABEL_FMT));
static QUALIFIED_NAME: LazyLock<Regex> = LazyLock::new(|| anchored(QUALIFIED_NAME_FMT));
static LABEL_VALUE: LazyLock<Regex> =
    LazyLock::new(|| anchored(&format!("({QUALIFIED_NAME_FMT})?")));

/// `validation.RegexError`: the message, examples and the pattern.
pub fn regex_error(message: &str, pattern: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{message} (regex used for validation is '{pattern}')");
    }
    let mut text = format!("{message} (e.g. ");
    for (index, example) in examples.iter().enumerate() {
        if index > 0 {
            text.push_str(" or ");
        }
        text.push_str(&format!("'{example}', "));
    }
    text.push_str(&format!("regex used for validation is '{pattern}')"));
    text
}

/// `validation.MaxLenError`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// `IsDNS1123Label`.
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push(max_len_error(63));
    }
    if !DNS1123_LABEL.is_match(value) {
        errors.push(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errors
}

/// `IsDNS1123Subdomain`.
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 253 {
        errors.push(max_len_error(253));
    }
    if !DNS1123_SUBDOMAIN.is_match(value) {
        errors.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            &dns1123_subdomain_fmt(),
            &["example.com"],
        ));
    }
    errors
}

/// `IsDNS1035Label`.
pub fn dns1035_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push(max_len_error(63));
    }
    if !DNS1035_LABEL.is_match(value) {
        errors.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errors
}

/// `IsQualifiedName` (label keys, annotation keys, resource names with a prefix).
pub fn qualified_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_string());
            } else {
                errors.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errors.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errors;
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errors.push(format!("name part {}", max_len_error(63)));
    }
    if !QUALIFIED_NAME.is_match(name) {
        errors.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errors
}

/// `IsValidLabelValue`.
pub fn label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push(max_len_error(63));
    }
    if !LABEL_VALUE.is_match(value) {
        errors.push(regex_error(
            LABEL_VALUE_ERR,
            &format!("({QUALIFIED_NAME_FMT})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

fn name_messages(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    // A generateName prefix may end in a dash (`maskTrailingDash`).
    let masked;
    let name = if prefix && name.len() > 1 && name.ends_with('-') {
        masked = format!("{}a", &name[..name.len() - 1]);
        masked.as_str()
    } else {
        name
    };
    match rule {
        NameRule::Subdomain => dns1123_subdomain(name),
        NameRule::Label => dns1123_label(name),
        NameRule::Dns1035 => dns1035_label(name),
        NameRule::PathSegment => path_segment(name),
    }
}

fn path_segment(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    for bad in ["/", "%"] {
        if name.contains(bad) {
            return vec![format!("may not contain '{bad}'")];
        }
    }
    Vec::new()
}

/// `ValidateLabels`: keys are qualified names, values label values.
pub fn labels(labels: Option<&Map<String, Value>>, path: &Path) -> ErrorList {
    let mut errors = Vec::new();
    for (key, value) in labels.into_iter().flatten() {
        for message in qualified_name(key) {
            errors.push(FieldError::invalid(path, go::quote(key), &message));
        }
        let value = value.as_str().unwrap_or_default();
        for message in label_value(value) {
            errors.push(FieldError::invalid(path, go::quote(value), &message));
        }
    }
    errors
}

/// `ValidateAnnotations`: keys are qualified names (lower-cased), the total at most 256 KiB.
pub fn annotations(annotations: Option<&Map<String, Value>>, path: &Path) -> ErrorList {
    let mut errors = Vec::new();
    let mut total = 0;
    for (key, value) in annotations.into_iter().flatten() {
        for message in qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(path, go::quote(key), &message));
        }
        total += key.len() + value.as_str().map_or(0, str::len);
    }
    if total > 256 * 1024 {
        errors.push(FieldError::too_long(path, 256 * 1024));
    }
    errors
}

/// `ValidateObjectMeta` for a new object: name (or generateName), namespace, generation,
/// labels, annotations and owner references.
pub fn object_meta(object: &Value, namespaced: bool, rule: NameRule) -> ErrorList {
    let path = Path::new("metadata");
    let meta = object.get("metadata").cloned().unwrap_or(Value::Null);
    let text = |field: &str| meta.get(field).and_then(Value::as_str).unwrap_or_default();
    let mut errors = Vec::new();
    let generate_name = text("generateName");
    if !generate_name.is_empty() {
        for message in name_messages(rule, generate_name, true) {
            errors.push(FieldError::invalid(
                &path.child("generateName"),
                go::quote(generate_name),
                &message,
            ));
        }
    }
    let name = text("name");
    if name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for message in name_messages(rule, name, false) {
            errors.push(FieldError::invalid(
                &path.child("name"),
                go::quote(name),
                &message,
            ));
        }
    }
    if namespaced {
        let namespace = text("namespace");
        if namespace.is_empty() {
            errors.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for message in dns1123_label(namespace) {
                errors.push(FieldError::invalid(
                    &path.child("namespace"),
                    go::quote(namespace),
                    &message,
                ));
            }
        }
    }
    if let Some(generation) = meta.get("generation").and_then(Value::as_i64)
        && generation < 0
    {
        errors.push(FieldError::invalid(
            &path.child("generation"),
            generation.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    errors.extend(labels(
        meta.get("labels").and_then(Value::as_object),
        &path.child("labels"),
    ));
    errors.extend(annotations(
        meta.get("annotations").and_then(Value::as_object),
        &path.child("annotations"),
    ));
    for (index, owner) in meta
        .get("ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let owner_path = path.child("ownerReferences").index(index);
        for field in ["apiVersion", "kind", "name", "uid"] {
            if owner
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty()
            {
                let detail = match field {
                    "apiVersion" => "version must not be empty",
                    "kind" => "kind must not be empty",
                    "name" => "name must not be empty",
                    _ => "uid must not be empty",
                };
                errors.push(FieldError::invalid(
                    &owner_path.child(field),
                    go::quote(""),
                    detail,
                ));
            }
        }
    }
    errors
}

/// `ValidateNonnegativeQuantity`.
pub fn nonnegative_quantity(quantity: &Quantity, path: &Path) -> ErrorList {
    if quantity.is_negative() {
        vec![FieldError::invalid(
            path,
            go::quote(&quantity.canonical()),
            "must be greater than or equal to 0",
        )]
    } else {
        Vec::new()
    }
}

/// Whether a value is a JSON string that is not empty.
pub fn has_text(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(|s| !s.is_empty())
}

/// Every quantity in an object that a typed decode would parse (resource lists, capacities,
/// size limits), with its JSON path, so that a malformed one fails the decode as it does in
/// kube-apiserver.
pub fn quantity_syntax(object: &Value) -> Result<(), crate::quantity::QuantityError> {
    fn walk(value: &Value, parent: Option<&str>) -> Result<(), crate::quantity::QuantityError> {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let is_resource_list = matches!(
                        key.as_str(),
                        "limits" | "requests" | "capacity" | "allocatable" | "allocatedResources"
                    ) && matches!(
                        parent,
                        Some("resources" | "status" | "spec")
                    ) || key == "hard";
                    if is_resource_list && let Value::Object(list) = child {
                        for quantity in list.values() {
                            Quantity::from_json(quantity)?;
                        }
                        continue;
                    }
                    if key == "sizeLimit" && !child.is_null() {
                        Quantity::from_json(child)?;
                        continue;
                    }
                    walk(child, Some(key))?;
                }
                Ok(())
            }
            Value::Array(items) => items.iter().try_for_each(|item| walk(item, parent)),
            _ => Ok(()),
        }
    }
    walk(object, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_checked_with_the_real_messages() {
        assert!(dns1123_subdomain("web-1.shop").is_empty());
        assert_eq!(
            dns1123_subdomain("Web_1"),
            [
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ]
        );
        assert_eq!(
            dns1123_label(&"a".repeat(64))[0],
            "must be no more than 63 characters"
        );
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert_eq!(
            qualified_name("bad key"),
            [
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ]
        );
    }

    #[test]
    fn object_meta_requires_a_name_and_checks_labels() {
        let errors = object_meta(
            &json!({"metadata": {"namespace": "shop", "labels": {"app": "-bad"}}}),
            true,
            NameRule::Subdomain,
        );
        let messages: Vec<String> = errors.iter().map(FieldError::message).collect();
        assert_eq!(
            messages[0],
            "metadata.name: Required value: name or generateName is required"
        );
        assert!(
            messages[1]
                .starts_with("metadata.labels: Invalid value: \"-bad\": a valid label must be"),
            "{messages:?}"
        );
        assert!(object_meta(&json!({"metadata": {"generateName": "web-", "name": "web-abcde", "namespace": "shop"}}), true, NameRule::Subdomain).is_empty());
    }

    #[test]
    fn quantities_in_resource_lists_are_parsed() {
        assert!(
            quantity_syntax(
                &json!({"spec": {"containers": [{"resources": {"limits": {"memory": "1Gi"}}}]}})
            )
            .is_ok()
        );
        assert!(
            quantity_syntax(
                &json!({"spec": {"containers": [{"resources": {"limits": {"memory": "1Gx"}}}]}})
            )
            .is_err()
        );
        assert!(quantity_syntax(&json!({"spec": {"resources": {"requests": {"storage": "2Gi"}}}, "status": {"capacity": {"storage": "x"}}})).is_err());
    }
}
