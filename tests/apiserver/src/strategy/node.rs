//! Nodes (`pkg/registry/core/node/strategy.go`): the status may be set on create and is kept by
//! updates of the main resource (cordoning patches `spec.unschedulable`).

use serde_json::Value;

use super::{Context, Strategy, keep_status};

/// The Node strategy.
pub struct NodeStrategy;

impl Strategy for NodeStrategy {
    fn prepare_for_update(&self, _ctx: &Context, new: &mut Value, old: &Value) {
        keep_status(new, old);
    }
}
