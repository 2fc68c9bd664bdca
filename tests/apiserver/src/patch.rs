//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch
//! (merge patch, but lists of named things are merged by their merge key).

use serde_json::{Map, Value};

/// The patch types the server accepts, from the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
}

impl PatchType {
    /// The patch type of a `Content-Type` header value; `None` for anything else (including
    /// server-side apply, `application/apply-patch+yaml`).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            _ => None,
        }
    }
}

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The body is not valid JSON of the right shape.
    #[error("invalid patch body: {0}")]
    Body(String),
    /// A JSON patch operation failed (a `test` did not hold, a path is missing), worded as
    /// the evanphx/json-patch library kube-apiserver uses words it.
    #[error("{0}")]
    Operation(String),
    /// A strategic merge patch list element lacks its merge key (`mergepatch.ErrNoMergeKey`).
    #[error("{0}")]
    NoMergeKey(String),
}

/// Applies a patch of the given type to a copy of `target` and returns the result.
pub fn apply(patch_type: PatchType, target: &Value, body: &[u8]) -> Result<Value, PatchError> {
    let mut result = target.clone();
    match patch_type {
        PatchType::Merge => {
            let patch: Value =
                serde_json::from_slice(body).map_err(|e| PatchError::Body(e.to_string()))?;
            json_patch::merge(&mut result, &patch);
        }
        PatchType::Json => {
            let patch: json_patch::Patch =
                serde_json::from_slice(body).map_err(|e| PatchError::Body(e.to_string()))?;
            json_patch::patch(&mut result, &patch)
                .map_err(|e| PatchError::Operation(operation_message(&patch, &e)))?;
        }
        PatchType::Strategic => {
            let patch: Value =
                serde_json::from_slice(body).map_err(|e| PatchError::Body(e.to_string()))?;
            if !patch.is_object() {
                return Err(PatchError::Body(
                    "a strategic merge patch must be a JSON object".into(),
                ));
            }
            strategic_merge(&mut result, &patch)?;
        }
    }
    Ok(result)
}

/// The evanphx/json-patch wording of a failed operation.
fn operation_message(patch: &json_patch::Patch, error: &json_patch::PatchError) -> String {
    let path = error.path.to_string();
    let operation = patch.0.get(error.operation);
    match (&error.kind, operation) {
        (json_patch::PatchErrorKind::TestFailed, _) => {
            format!("testing value {path} failed: test failed")
        }
        (_, Some(json_patch::PatchOperation::Replace(_))) => {
            format!("replace operation does not apply: doc is missing key: {path}: missing value")
        }
        (_, Some(json_patch::PatchOperation::Remove(_))) => {
            let key = path.rsplit('/').next().unwrap_or_default();
            format!("Unable to remove nonexistent key: {key}: missing value")
        }
        (_, Some(json_patch::PatchOperation::Add(_))) => {
            format!("add operation does not apply: doc is missing path: {path:?}: missing value")
        }
        (kind, _) => format!("{kind}: {path}"),
    }
}

/// The merge key of a list field, by field name (and, for `ports`, by the elements' shape).
fn merge_key(field: &str, elements: &[Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ownerReferences" => Some("uid"),
        "ports" => {
            if elements.iter().any(|e| e.get("containerPort").is_some()) {
                Some("containerPort")
            } else {
                Some("port")
            }
        }
        _ => None,
    }
}

/// Merges `patch` into `target` with strategic merge semantics.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return Ok(());
    };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replacement = patch_map.clone();
            replacement.remove("$patch");
            *target = Value::Object(strip_directives(replacement));
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(target_map) = target.as_object_mut() else {
        return Ok(());
    };
    for (key, value) in patch_map {
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/")
            && let (Some(Value::Array(existing)), Some(remove)) =
                (target_map.get_mut(field), value.as_array())
        {
            existing.retain(|item| !remove.contains(item));
            continue;
        }
        if is_directive(key) {
            continue;
        }
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        match (target_map.get_mut(key), value) {
            (Some(Value::Array(existing)), Value::Array(patch_list)) => {
                match merge_key(key, patch_list) {
                    Some(merge_key) => merge_list(existing, patch_list, merge_key)?,
                    // `finalizers` is a merged list of strings: the patch adds to it.
                    None if key == "finalizers" => {
                        for item in patch_list {
                            if !existing.contains(item) {
                                existing.push(item.clone());
                            }
                        }
                    }
                    None => *existing = patch_list.clone(),
                }
            }
            (Some(existing @ Value::Object(_)), Value::Object(_)) => {
                strategic_merge(existing, value)?;
                if existing.is_null() {
                    target_map.remove(key);
                }
            }
            (_, Value::Object(_)) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, value)?;
                if !fresh.is_null() {
                    target_map.insert(key.clone(), fresh);
                }
            }
            (_, Value::Array(patch_list)) => {
                if let Some(merge_key) = merge_key(key, patch_list) {
                    check_merge_keys(patch_list, merge_key)?;
                }
                let cleaned: Vec<Value> = patch_list
                    .iter()
                    .filter(|e| e.get("$patch").and_then(Value::as_str) != Some("delete"))
                    .map(|e| match e {
                        Value::Object(map) => Value::Object(strip_directives(map.clone())),
                        other => other.clone(),
                    })
                    .collect();
                target_map.insert(key.clone(), Value::Array(cleaned));
            }
            _ => {
                target_map.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(())
}

/// Every element of a list merged by key must carry the key (directive-only elements aside).
fn check_merge_keys(patch_list: &[Value], merge_key: &str) -> Result<(), PatchError> {
    for element in patch_list {
        let Some(map) = element.as_object() else {
            continue;
        };
        let directive_only = map.keys().all(|k| is_directive(k));
        if !directive_only && !map.contains_key(merge_key) {
            return Err(PatchError::NoMergeKey(format!(
                "map: {} does not contain declared merge key: {merge_key}",
                crate::field::go::value(element)
            )));
        }
    }
    Ok(())
}

fn merge_list(
    existing: &mut Vec<Value>,
    patch_list: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if patch_list
        .iter()
        .any(|e| e.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *existing = patch_list
            .iter()
            .filter(|e| e.get("$patch").is_none())
            .cloned()
            .collect();
        return Ok(());
    }
    check_merge_keys(patch_list, merge_key)?;
    for element in patch_list {
        let Some(key_value) = element.get(merge_key) else {
            continue;
        };
        let position = existing
            .iter()
            .position(|e| e.get(merge_key) == Some(key_value));
        let delete = element.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(index), true) => {
                existing.remove(index);
            }
            (None, true) => {}
            (Some(index), false) => strategic_merge(&mut existing[index], element)?,
            (None, false) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, element)?;
                existing.push(fresh);
            }
        }
    }
    Ok(())
}

fn is_directive(key: &str) -> bool {
    key == "$patch"
        || key == "$retainKeys"
        || key.starts_with("$setElementOrder/")
        || key.starts_with("$deleteFromPrimitiveList/")
}

fn strip_directives(mut map: Map<String, Value>) -> Map<String, Value> {
    map.retain(|key, _| !is_directive(key));
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "app", "image": "app:1", "resources": {"limits": {"memory": "128Mi"}},
             "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "proxy:1"}
        ]}}}})
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "resources": {"limits": {"memory": "192Mi"}},
             "env": [{"name": "B", "value": "2"}]}
        ]}}}});
        let patched = apply(
            PatchType::Strategic,
            &deployment(),
            patch.to_string().as_bytes(),
        )
        .expect("patch");
        let containers = &patched["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(2));
        assert_eq!(containers[0]["image"], "app:1");
        assert_eq!(containers[0]["resources"]["limits"]["memory"], "192Mi");
        assert_eq!(
            containers[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
        assert_eq!(containers[1]["name"], "sidecar");
    }

    #[test]
    fn strategic_merge_deletes_and_appends() {
        let patch = json!({"spec": {"replicas": null, "template": {"spec": {"containers": [
            {"name": "sidecar", "$patch": "delete"},
            {"name": "new", "image": "new:1"}
        ]}}}});
        let patched = apply(
            PatchType::Strategic,
            &deployment(),
            patch.to_string().as_bytes(),
        )
        .expect("patch");
        let names: Vec<&str> = patched["spec"]["template"]["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["app", "new"]);
        assert!(patched["spec"].get("replicas").is_none());
    }

    #[test]
    fn strategic_merge_unions_finalizers_and_deletes_from_them() {
        let target = json!({"metadata": {"finalizers": ["a", "b"]}});
        let added = apply(
            PatchType::Strategic,
            &target,
            json!({"metadata": {"finalizers": ["b", "c"]}})
                .to_string()
                .as_bytes(),
        )
        .expect("patch");
        assert_eq!(added["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let removed = apply(
            PatchType::Strategic,
            &added,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
                .to_string()
                .as_bytes(),
        )
        .expect("patch");
        assert_eq!(removed["metadata"]["finalizers"], json!(["b", "c"]));
    }

    #[test]
    fn strategic_merge_refuses_elements_without_their_merge_key() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert_eq!(
            apply(
                PatchType::Strategic,
                &deployment(),
                patch.to_string().as_bytes()
            ),
            Err(PatchError::NoMergeKey(
                "map: map[image:x] does not contain declared merge key: name".into()
            ))
        );
    }

    #[test]
    fn merge_patch_replaces_lists() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "only"}]}}}});
        let patched = apply(
            PatchType::Merge,
            &deployment(),
            patch.to_string().as_bytes(),
        )
        .expect("patch");
        assert_eq!(
            patched["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only"}])
        );
    }

    #[test]
    fn json_patch_applies_operations_and_fails_on_test() {
        let patch = json!([{"op": "replace", "path": "/spec/replicas", "value": 5}]);
        let patched =
            apply(PatchType::Json, &deployment(), patch.to_string().as_bytes()).expect("patch");
        assert_eq!(patched["spec"]["replicas"], 5);
        let failing = json!([{"op": "test", "path": "/spec/replicas", "value": 9}]);
        assert!(matches!(
            apply(
                PatchType::Json,
                &deployment(),
                failing.to_string().as_bytes()
            ),
            Err(PatchError::Operation(_))
        ));
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::Strategic)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            None
        );
    }
}
