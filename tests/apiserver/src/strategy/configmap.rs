//! ConfigMaps (`ValidateConfigMap[Update]`): valid keys, at most 1 MiB of data, and no change
//! to the data of an immutable one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use super::{Context, Strategy};
use crate::field::{ErrorList, FieldError, Path, go};
use crate::validation::{max_len_error, regex_error};

/// `core.MaxSecretSize`, the limit of a ConfigMap's data.
pub const MAX_SIZE: usize = 1024 * 1024;

/// The ConfigMap strategy.
pub struct ConfigMapStrategy;

/// `IsConfigMapKey`.
pub fn key_errors(key: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if key.len() > 253 {
        errors.push(max_len_error(253));
    }
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        errors.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if key == "." {
        errors.push("must not be '.'".to_string());
    } else if key == ".." {
        errors.push("must not be '..'".to_string());
    } else if key.starts_with("..") {
        errors.push("must not start with '..'".to_string());
    }
    errors
}

impl Strategy for ConfigMapStrategy {
    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let mut errors = Vec::new();
        let data = object.get("data").and_then(Value::as_object);
        let binary = object.get("binaryData").and_then(Value::as_object);
        let mut total = 0;
        for (key, value) in data.into_iter().flatten() {
            let path = Path::new("data").key(key);
            for message in key_errors(key) {
                errors.push(FieldError::invalid(&path, go::quote(key), &message));
            }
            if binary.is_some_and(|b| b.contains_key(key)) {
                errors.push(FieldError::invalid(
                    &path,
                    go::quote(key),
                    "duplicate of key present in binaryData",
                ));
            }
            total += value.as_str().map_or(0, str::len);
        }
        for (key, value) in binary.into_iter().flatten() {
            let path = Path::new("binaryData").key(key);
            for message in key_errors(key) {
                errors.push(FieldError::invalid(&path, go::quote(key), &message));
            }
            total += value
                .as_str()
                .and_then(|text| BASE64.decode(text).ok())
                .map_or(0, |bytes| bytes.len());
        }
        if total > MAX_SIZE {
            // The whole object is meant: the path is `""`, printed `[]`.
            errors.push(FieldError::too_long(&Path::new(""), MAX_SIZE));
        }
        errors
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = Vec::new();
        if old.get("immutable").and_then(Value::as_bool) == Some(true) {
            let detail = "field is immutable when `immutable` is set";
            if new.get("immutable").and_then(Value::as_bool) != Some(true) {
                errors.push(FieldError::forbidden(&Path::new("immutable"), detail));
            }
            for field in ["data", "binaryData"] {
                if new.get(field) != old.get(field) {
                    errors.push(FieldError::forbidden(&Path::new(field), detail));
                }
            }
        }
        errors.extend(self.validate(ctx, new));
        errors
    }
}
