//! Events: one store for core/v1 and events.k8s.io/v1 (as kube-apiserver keeps them), the
//! conversion between the two shapes, and `ValidateEventCreate`/`ValidateEventUpdate` with the
//! rules of the API version the request used.

use serde_json::{Map, Value, json};

use super::{Context, Strategy};
use crate::field::{ErrorList, FieldError, Path, go};
use crate::validation::{NameRule, dns1123_subdomain, object_meta, qualified_name};

/// The Event strategy.
pub struct EventStrategy;

/// core/v1 field ↔ events.k8s.io/v1 field, for the fields that are renamed.
const RENAMED: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

/// An events.k8s.io/v1 Event in the core/v1 shape it is stored in.
pub fn to_core(event: &Value) -> Value {
    let Some(map) = event.as_object() else {
        return event.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let key = RENAMED
            .iter()
            .find(|(_, new)| new == key)
            .map_or(key.as_str(), |(old, _)| old);
        out.insert(key.to_string(), value.clone());
    }
    out.insert("apiVersion".into(), json!("v1"));
    normalize_core(Value::Object(out))
}

/// A stored (core/v1) Event as events.k8s.io/v1 serves it.
pub fn to_events_v1(event: &Value) -> Value {
    let Some(map) = event.as_object() else {
        return event.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let key = RENAMED
            .iter()
            .find(|(old, _)| old == key)
            .map_or(key.as_str(), |(_, new)| new);
        // Fields a typed encoder omits when empty.
        let empty = value.is_null()
            || value.as_str() == Some("")
            || value.as_object().is_some_and(Map::is_empty)
            || (key == "deprecatedCount" && value.as_i64() == Some(0));
        if empty && key != "eventTime" && key != "regarding" {
            continue;
        }
        out.insert(key.to_string(), value.clone());
    }
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    out.entry("eventTime").or_insert(Value::Null);
    Value::Object(out)
}

/// A core/v1 Event with the fields the typed encoder always writes (`source`, the timestamps,
/// `reportingComponent`, `reportingInstance`).
pub fn normalize_core(mut event: Value) -> Value {
    if let Some(map) = event.as_object_mut() {
        map.entry("involvedObject").or_insert_with(|| json!({}));
        map.entry("source").or_insert_with(|| json!({}));
        for field in ["firstTimestamp", "lastTimestamp", "eventTime"] {
            map.entry(field).or_insert(Value::Null);
        }
        for field in ["reportingComponent", "reportingInstance"] {
            map.entry(field).or_insert_with(|| json!(""));
        }
    }
    event
}

fn text<'a>(event: &'a Value, pointer: &str) -> &'a str {
    event
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_set(event: &Value, pointer: &str) -> bool {
    event
        .pointer(pointer)
        .is_some_and(|v| !v.is_null() && v != "")
}

/// `legacyValidateEvent`: the rules both API versions keep (field names are the internal
/// ones, `involvedObject` and `message`, whichever API was used).
fn legacy_errors(event: &Value, core_api: bool) -> ErrorList {
    let mut errors = Vec::new();
    let namespace = text(event, "/metadata/namespace");
    let involved_namespace = text(event, "/involvedObject/namespace");
    let reporting = if core_api {
        "reportingComponent"
    } else {
        "reportingController"
    };
    let namespace_error = || {
        FieldError::invalid(
            &Path::new("involvedObject").child("namespace"),
            go::quote(involved_namespace),
            "does not match event.namespace",
        )
    };
    if !is_set(event, "/eventTime") {
        if involved_namespace.is_empty() {
            if !namespace.is_empty() && namespace != "default" {
                errors.push(namespace_error());
            }
        } else if namespace != involved_namespace {
            errors.push(namespace_error());
        }
    } else {
        if involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            errors.push(namespace_error());
        }
        let controller = text(event, "/reportingComponent");
        if controller.is_empty() {
            errors.push(FieldError::required(&Path::new(reporting), ""));
        }
        for message in qualified_name(controller) {
            errors.push(FieldError::invalid(
                &Path::new(reporting),
                go::quote(controller),
                &message,
            ));
        }
        let limited = [
            ("reportingInstance", 128, true),
            ("action", 128, true),
            ("reason", 128, true),
            ("message", 1024, false),
        ];
        for (field, limit, required) in limited {
            let value = text(event, &format!("/{field}"));
            if required && value.is_empty() {
                errors.push(FieldError::required(&Path::new(field), ""));
            }
            if value.len() > limit {
                errors.push(FieldError::invalid(
                    &Path::new(field),
                    go::quote(""),
                    &format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    for message in dns1123_subdomain(namespace) {
        errors.push(FieldError::invalid(
            &Path::new("namespace"),
            go::quote(namespace),
            &message,
        ));
    }
    errors
}

/// `validateV1EventSeries`.
fn series_errors(event: &Value) -> ErrorList {
    let mut errors = Vec::new();
    if let Some(series) = event.get("series").filter(|s| !s.is_null()) {
        if series.get("count").and_then(Value::as_i64).unwrap_or(0) < 2 {
            errors.push(FieldError::invalid(
                &Path::new("series.count"),
                go::quote(""),
                "should be at least 2",
            ));
        }
        if !is_set(series, "/lastObservedTime") {
            errors.push(FieldError::required(
                &Path::new("series.lastObservedTime"),
                "",
            ));
        }
    }
    errors
}

fn core_api(ctx: &Context) -> bool {
    ctx.info.group.is_empty()
}

impl Strategy for EventStrategy {
    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn validates_object_meta(&self) -> bool {
        false
    }

    fn validate(&self, ctx: &Context, event: &Value) -> ErrorList {
        let mut errors = legacy_errors(event, core_api(ctx));
        if core_api(ctx) {
            // No further validation for backwards compatibility.
            return errors;
        }
        errors.extend(object_meta(event, true, NameRule::Subdomain));
        errors.extend(series_errors(event));
        if !is_set(event, "/eventTime") {
            errors.push(FieldError::required(&Path::new("eventTime"), ""));
        }
        let kind = text(event, "/type");
        if kind != "Normal" && kind != "Warning" {
            errors.push(FieldError::invalid(
                &Path::new("type"),
                go::quote(""),
                &format!("has invalid value: {kind}"),
            ));
        }
        for (pointer, field) in [
            ("/firstTimestamp", "deprecatedFirstTimestamp"),
            ("/lastTimestamp", "deprecatedLastTimestamp"),
        ] {
            if is_set(event, pointer) {
                errors.push(FieldError::invalid(
                    &Path::new(field),
                    go::quote(""),
                    "needs to be unset",
                ));
            }
        }
        if event.get("count").and_then(Value::as_i64).unwrap_or(0) != 0 {
            errors.push(FieldError::invalid(
                &Path::new("deprecatedCount"),
                go::quote(""),
                "needs to be unset",
            ));
        }
        if is_set(event, "/source/component") || is_set(event, "/source/host") {
            errors.push(FieldError::invalid(
                &Path::new("deprecatedSource"),
                go::quote(""),
                "needs to be unset",
            ));
        }
        errors
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = legacy_errors(new, core_api(ctx));
        if core_api(ctx) {
            return errors;
        }
        if new.get("series") != old.get("series") {
            errors.extend(series_errors(new));
        }
        for field in [
            "involvedObject",
            "reason",
            "message",
            "source",
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "type",
            "eventTime",
            "action",
            "related",
            "reportingComponent",
            "reportingInstance",
        ] {
            let (before, after) = (old.get(field), new.get(field));
            if before.unwrap_or(&Value::Null) != after.unwrap_or(&Value::Null) {
                let value = match after {
                    Some(Value::String(s)) => go::quote(s),
                    Some(other) => other.to_string(),
                    None => "null".to_string(),
                };
                let path = if field == "reportingComponent" {
                    "reportingController"
                } else {
                    field
                };
                errors.push(FieldError::invalid(
                    &Path::new(path),
                    value,
                    "field is immutable",
                ));
            }
        }
        errors
    }
}
