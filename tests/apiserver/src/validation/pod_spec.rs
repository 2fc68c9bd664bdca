//! Pod spec validation (`ValidatePodSpec`, `ValidatePodTemplateSpec`): containers, images,
//! resources and restart policies, the parts rounds' writes can break.

use serde_json::Value;

use super::{dns1123_label, labels, nonnegative_quantity, qualified_name};
use crate::field::{ErrorList, FieldError, Path, go};
use crate::quantity::Quantity;

/// Where a pod spec sits, which decides the restart policies allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A Pod, or a Job's template (Jobs add their own rule).
    Pod,
    /// A Deployment, ReplicaSet, StatefulSet or DaemonSet template: only `Always`.
    Workload,
}

/// `ValidatePodTemplateSpec`: template labels and the pod spec.
pub fn pod_template(template: Option<&Value>, path: &Path, owner: Owner) -> ErrorList {
    let Some(template) = template else {
        return vec![FieldError::required(path, "")];
    };
    let mut errors = labels(
        template
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object),
        &path.child("metadata").child("labels"),
    );
    errors.extend(pod_spec(template.get("spec"), &path.child("spec"), owner));
    errors
}

/// `ValidatePodSpec` (the subset this server models).
pub fn pod_spec(spec: Option<&Value>, path: &Path, owner: Owner) -> ErrorList {
    let empty = Value::Null;
    let spec = spec.unwrap_or(&empty);
    let mut errors = Vec::new();
    let mut names: Vec<String> = Vec::new();
    match spec.get("containers").and_then(Value::as_array) {
        Some(containers) if !containers.is_empty() => {
            for (index, container) in containers.iter().enumerate() {
                errors.extend(container_errors(
                    container,
                    &path.child("containers").index(index),
                    &mut names,
                ));
            }
        }
        _ => errors.push(FieldError::required(&path.child("containers"), "")),
    }
    for (index, container) in spec
        .get("initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        errors.extend(container_errors(
            container,
            &path.child("initContainers").index(index),
            &mut names,
        ));
    }
    let restart = spec
        .get("restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Always");
    let restart_path = path.child("restartPolicy");
    match owner {
        Owner::Pod => {
            if !matches!(restart, "Always" | "OnFailure" | "Never") {
                errors.push(FieldError::not_supported(
                    &restart_path,
                    go::quote(restart),
                    &["Always", "OnFailure", "Never"],
                ));
            }
        }
        Owner::Workload => {
            if restart != "Always" {
                errors.push(FieldError::not_supported(
                    &restart_path,
                    go::quote(restart),
                    &["Always"],
                ));
            }
        }
    }
    if let Some(deadline) = spec.get("activeDeadlineSeconds").and_then(Value::as_i64)
        && deadline <= 0
    {
        errors.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            deadline.to_string(),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    errors
}

fn container_errors(container: &Value, path: &Path, names: &mut Vec<String>) -> ErrorList {
    let mut errors = Vec::new();
    let name = container
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    } else {
        for message in dns1123_label(name) {
            errors.push(FieldError::invalid(
                &path.child("name"),
                go::quote(name),
                &message,
            ));
        }
        if names.iter().any(|n| n == name) {
            errors.push(FieldError::duplicate(&path.child("name"), go::quote(name)));
        }
        names.push(name.to_string());
    }
    if container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .is_empty()
    {
        errors.push(FieldError::required(&path.child("image"), ""));
    }
    errors.extend(resources(
        container.get("resources"),
        &path.child("resources"),
    ));
    errors
}

fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

fn resource_name_errors(name: &str, path: &Path) -> ErrorList {
    let mut errors: ErrorList = qualified_name(name)
        .into_iter()
        .map(|m| FieldError::invalid(path, go::quote(name), &m))
        .collect();
    if !name.contains('/') && !is_standard_container_resource(name) {
        errors.push(FieldError::invalid(
            path,
            go::quote(name),
            "must be a standard resource for containers",
        ));
    }
    errors
}

/// `ValidateContainerResourceRequirements`: names, non-negative values, whole numbers for
/// extended resources, and requests at most limits.
pub fn resources(resources: Option<&Value>, path: &Path) -> ErrorList {
    let mut errors = Vec::new();
    let Some(resources) = resources else {
        return errors;
    };
    let list = |field: &str| -> Vec<(String, Quantity)> {
        resources
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| Some((name.clone(), Quantity::from_json(value).ok()?)))
            .collect()
    };
    let limits = list("limits");
    let requests = list("requests");
    let limits_path = path.child("limits");
    let requests_path = path.child("requests");
    for (name, quantity) in &limits {
        let key_path = limits_path.key(name);
        errors.extend(resource_name_errors(name, &key_path));
        errors.extend(quantity_value_errors(name, quantity, &key_path));
    }
    for (name, quantity) in &requests {
        let key_path = requests_path.key(name);
        errors.extend(resource_name_errors(name, &key_path));
        errors.extend(quantity_value_errors(name, quantity, &key_path));
        if let Some((_, limit)) = limits.iter().find(|(limit_name, _)| limit_name == name) {
            let overcommit =
                is_standard_container_resource(name) && !name.starts_with("hugepages-");
            if quantity != limit && !overcommit {
                errors.push(FieldError::invalid(
                    &requests_path,
                    go::quote(&quantity.canonical()),
                    &format!("must be equal to {name} limit of {}", limit.canonical()),
                ));
            } else if quantity > limit {
                errors.push(FieldError::invalid(
                    &requests_path,
                    go::quote(&quantity.canonical()),
                    &format!(
                        "must be less than or equal to {name} limit of {}",
                        limit.canonical()
                    ),
                ));
            }
        }
    }
    errors
}

fn quantity_value_errors(name: &str, quantity: &Quantity, path: &Path) -> ErrorList {
    let mut errors = nonnegative_quantity(quantity, path);
    let integer_resource =
        !matches!(name, "cpu" | "memory" | "ephemeral-storage") && !name.starts_with("hugepages-");
    if integer_resource && !quantity.is_integer() {
        errors.push(FieldError::invalid(
            path,
            go::quote(&quantity.canonical()),
            "must be an integer",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: &ErrorList) -> Vec<String> {
        errors.iter().map(FieldError::message).collect()
    }

    #[test]
    fn containers_need_a_name_and_an_image() {
        let spec = json!({"containers": [{"name": "app", "image": "a:1"}, {"name": "app2"}]});
        assert_eq!(
            messages(&pod_spec(Some(&spec), &Path::new("spec"), Owner::Pod)),
            ["spec.containers[1].image: Required value"]
        );
        assert_eq!(
            messages(&pod_spec(Some(&json!({})), &Path::new("spec"), Owner::Pod)),
            ["spec.containers: Required value"]
        );
    }

    #[test]
    fn requests_may_not_exceed_limits() {
        let spec = json!({"containers": [{"name": "app", "image": "a",
            "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "512Mi"}}}]});
        assert_eq!(
            messages(&pod_spec(
                Some(&spec),
                &Path::new("spec").child("template").child("spec"),
                Owner::Workload
            )),
            [
                "spec.template.spec.containers[0].resources.requests: Invalid value: \"512Mi\": must be less than or equal to memory limit of 256Mi"
            ]
        );
        let negative = json!({"name": "app", "image": "a", "resources": {"limits": {"cpu": "-1"}}});
        assert_eq!(
            messages(&resources(
                negative.get("resources"),
                &Path::new("resources")
            )),
            ["resources.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"]
        );
    }

    #[test]
    fn workload_templates_restart_always() {
        let spec = json!({"restartPolicy": "Never", "containers": [{"name": "a", "image": "b"}]});
        assert_eq!(
            messages(&pod_spec(Some(&spec), &Path::new("spec"), Owner::Workload)),
            ["spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]
        );
    }
}
