//! Three-way merge of ledger documents, for a save that lost the race (409 Conflict): what this
//! round changed since it read the ledger is applied to what the other writer saved, key by key,
//! so neither writer's entries are lost. Every section is a map with stable keys, which is what
//! makes this exact; where both changed the same key, this round's value wins.

use serde_json::{Map, Value};

/// The changes from `base` to `ours` as a JSON merge patch (RFC 7386): changed or added keys
/// with their new values, removed keys as `null`. `None` when nothing changed.
pub fn diff(base: &Value, ours: &Value) -> Option<Value> {
    match (base, ours) {
        (Value::Object(b), Value::Object(o)) => {
            let mut patch = Map::new();
            for (k, ov) in o {
                match b.get(k) {
                    Some(bv) => {
                        if let Some(d) = diff(bv, ov) {
                            patch.insert(k.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), ov.clone());
                    }
                }
            }
            for k in b.keys() {
                if !o.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        // Scalars and lists are replaced whole. (Ledger documents hold no nulls, which a merge
        // patch would read as removals.)
        _ if base == ours => None,
        _ => Some(ours.clone()),
    }
}

/// Applies a merge patch to `target`.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return;
    };
    for (k, pv) in p {
        if pv.is_null() {
            t.remove(k);
        } else {
            apply(t.entry(k.clone()).or_insert(Value::Null), pv);
        }
    }
}

/// `theirs` with the changes from `base` to `ours`.
pub fn three_way(base: &Value, ours: &Value, theirs: &Value) -> Value {
    let mut merged = theirs.clone();
    if let Some(patch) = diff(base, ours) {
        apply(&mut merged, &patch);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_writers_keep_their_entries() {
        let base = json!({"version": 1, "cooldowns": {"a": {"at": 1}}, "history": {}});
        let ours = json!({"version": 1, "cooldowns": {"a": {"at": 1}, "b": {"at": 2}},
            "history": {"t2/ours": {"x": 1}}});
        let theirs = json!({"version": 1, "cooldowns": {"a": {"at": 1}, "c": {"at": 3}},
            "history": {"t1/theirs": {"x": 2}}});
        let merged = three_way(&base, &ours, &theirs);
        assert_eq!(
            merged,
            json!({"version": 1, "cooldowns": {"a": {"at": 1}, "b": {"at": 2}, "c": {"at": 3}},
                "history": {"t1/theirs": {"x": 2}, "t2/ours": {"x": 1}}})
        );
    }

    #[test]
    fn removals_and_changes_carry_over_and_ours_wins_on_the_same_key() {
        let base = json!({"intents": {"i1": {"s": "pending"}}, "cooldowns": {"a": {"at": 1}}});
        let ours = json!({"intents": {}, "cooldowns": {"a": {"at": 5}}});
        let theirs = json!({"intents": {"i1": {"s": "pending"}, "i2": {"s": "pending"}},
            "cooldowns": {"a": {"at": 4}}});
        assert_eq!(
            three_way(&base, &ours, &theirs),
            json!({"intents": {"i2": {"s": "pending"}}, "cooldowns": {"a": {"at": 5}}})
        );
        assert_eq!(diff(&base, &base), None);
        let lists = three_way(
            &json!({"f": [1]}),
            &json!({"f": [1, 2]}),
            &json!({"f": [3]}),
        );
        assert_eq!(lists, json!({"f": [1, 2]}), "lists are replaced whole");
    }
}
