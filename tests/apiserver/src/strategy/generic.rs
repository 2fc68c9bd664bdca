//! Objects of kinds the server does not know (seeded from snapshots), served like custom
//! resources: generation 1 on create, moved by any change outside `metadata`.

use serde_json::Value;

use super::{Context, Strategy, bump_generation};
use crate::store::metadata_mut;
use crate::validation::NameRule;

/// The strategy of custom resources.
pub struct CustomResourceStrategy;

impl Strategy for CustomResourceStrategy {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        metadata_mut(object).insert("generation".into(), serde_json::json!(1));
    }

    fn prepare_for_update(&self, _ctx: &Context, new: &mut Value, old: &Value) {
        let content = |o: &Value| {
            let mut o = o.clone();
            if let Some(map) = o.as_object_mut() {
                map.remove("metadata");
            }
            o
        };
        if content(new) != content(old) {
            bump_generation(new, old);
        }
    }
}
