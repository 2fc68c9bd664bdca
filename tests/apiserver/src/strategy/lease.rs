//! Leases (`pkg/registry/coordination/lease/strategy.go`): a PUT may create one, but an update
//! must say which resourceVersion it replaces (no unconditional updates).

use serde_json::Value;

use super::{Context, Strategy};
use crate::field::{ErrorList, FieldError, Path};

/// The Lease strategy.
pub struct LeaseStrategy;

impl Strategy for LeaseStrategy {
    fn allow_create_on_update(&self) -> bool {
        true
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let spec = Path::new("spec");
        let mut errors = Vec::new();
        if let Some(duration) = object
            .pointer("/spec/leaseDurationSeconds")
            .and_then(Value::as_i64)
            && duration <= 0
        {
            errors.push(FieldError::invalid(
                &spec.child("leaseDurationSeconds"),
                duration.to_string(),
                "must be greater than 0",
            ));
        }
        if let Some(transitions) = object
            .pointer("/spec/leaseTransitions")
            .and_then(Value::as_i64)
            && transitions < 0
        {
            errors.push(FieldError::invalid(
                &spec.child("leaseTransitions"),
                transitions.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        errors
    }
}
