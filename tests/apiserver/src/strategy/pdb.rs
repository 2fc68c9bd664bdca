//! PodDisruptionBudgets (`pkg/registry/policy/poddisruptionbudget/strategy.go`): generation 1
//! and a zero status on create (the disruption controller fills it in, see
//! `crate::disruption`), `generation` moved by spec changes.

use serde_json::{Value, json};

use super::{Context, Strategy, start_generation};
use crate::field::{ErrorList, FieldError, Path, go};

/// The PodDisruptionBudget strategy.
pub struct PdbStrategy;

/// The status of a PDB no controller has looked at yet.
pub fn empty_status() -> Value {
    json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
}

fn int_or_percent(value: &Value, path: &Path) -> ErrorList {
    let mut errors = Vec::new();
    if let Some(n) = value.as_i64() {
        if n < 0 {
            errors.push(FieldError::invalid(
                path,
                n.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        return errors;
    }
    let Some(text) = value.as_str() else {
        return errors;
    };
    match text
        .strip_suffix('%')
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    {
        None => errors.push(FieldError::invalid(
            path,
            go::quote(text),
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        )),
        Some(digits) => {
            if digits.parse::<u64>().is_ok_and(|p| p > 100) {
                errors.push(FieldError::invalid(
                    path,
                    go::quote(text),
                    "must not be greater than 100%",
                ));
            }
        }
    }
    errors
}

impl Strategy for PdbStrategy {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        start_generation(object, Some(empty_status()));
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let spec = Path::new("spec");
        let mut errors = Vec::new();
        for field in ["minAvailable", "maxUnavailable"] {
            if let Some(value) = object.pointer(&format!("/spec/{field}")) {
                errors.extend(int_or_percent(value, &spec.child(field)));
            }
        }
        if let Some(policy) = object
            .pointer("/spec/unhealthyPodEvictionPolicy")
            .and_then(Value::as_str)
            && !matches!(policy, "IfHealthyBudget" | "AlwaysAllow")
        {
            errors.push(FieldError::not_supported(
                &spec.child("unhealthyPodEvictionPolicy"),
                go::quote(policy),
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
        errors
    }
}
