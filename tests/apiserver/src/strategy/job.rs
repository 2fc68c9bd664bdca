//! Jobs and CronJobs (`pkg/registry/batch/{job,cronjob}/strategy.go`): a Job gets its generated
//! selector and pod labels (`batch.kubernetes.io/controller-uid`, `job-name`), the defaults
//! kube-apiserver fills in, and a template that may not restart Always.

use serde_json::{Map, Value, json};

use super::{Context, Strategy, start_generation};
use crate::field::{ErrorList, FieldError, Path, go};
use crate::selectors::LabelSelector;
use crate::validation::pod_spec::{self, Owner};

/// The Job strategy.
pub struct JobStrategy;

/// The CronJob strategy.
pub struct CronJobStrategy;

const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_JOB_NAME: &str = "job-name";

fn manual_selector(job: &Value) -> bool {
    job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true)
}

/// `generateSelector`: label the template with the job's name and uid, and select the uid.
fn generate_selector(job: &mut Value) {
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let uid = job
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(spec) = job.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let template = spec.entry("template").or_insert_with(|| json!({}));
    if let Some(template) = template.as_object_mut() {
        let meta = template.entry("metadata").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                for key in [LEGACY_JOB_NAME, JOB_NAME] {
                    labels.entry(key).or_insert_with(|| json!(name));
                }
                for key in [LEGACY_CONTROLLER_UID, CONTROLLER_UID] {
                    labels.entry(key).or_insert_with(|| json!(uid));
                }
            }
        }
    }
    let selector = spec.entry("selector").or_insert_with(|| json!({}));
    if selector.is_null() {
        *selector = json!({});
    }
    if let Some(selector) = selector.as_object_mut() {
        let labels = selector
            .entry("matchLabels")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(labels) = labels.as_object_mut() {
            labels.entry(CONTROLLER_UID).or_insert_with(|| json!(uid));
        }
    }
}

/// The restart policy rule of Job templates (`validateJobSpec`).
fn restart_policy(template_spec: Option<&Value>, path: &Path) -> ErrorList {
    let policy = template_spec
        .and_then(|s| s.get("restartPolicy"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match policy {
        "OnFailure" | "Never" => Vec::new(),
        // An unset policy is defaulted to Always first, hence "Required" for both.
        "" | "Always" => vec![FieldError::required(
            path,
            "valid values: \"OnFailure\", \"Never\"",
        )],
        other => vec![FieldError::not_supported(
            path,
            go::quote(other),
            &["OnFailure", "Never"],
        )],
    }
}

fn job_spec_errors(job_spec: Option<&Value>, path: &Path) -> ErrorList {
    let mut errors = Vec::new();
    let empty = Value::Null;
    let spec = job_spec.unwrap_or(&empty);
    for field in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
    ] {
        if let Some(value) = spec.get(field).and_then(Value::as_i64)
            && (value < 0 || (field == "activeDeadlineSeconds" && value == 0))
        {
            let detail = if field == "activeDeadlineSeconds" {
                "must be greater than 0"
            } else {
                "must be greater than or equal to 0"
            };
            errors.push(FieldError::invalid(
                &path.child(field),
                value.to_string(),
                detail,
            ));
        }
    }
    match spec.get("selector").filter(|s| !s.is_null()) {
        None => errors.push(FieldError::required(&path.child("selector"), "")),
        Some(selector) => {
            let template = spec.get("template").cloned().unwrap_or(Value::Null);
            if let Ok(parsed) = LabelSelector::from_object(Some(selector))
                && !parsed.matches(&template)
            {
                errors.push(FieldError::invalid(
                    &path.child("template").child("metadata").child("labels"),
                    go::string_map(
                        template
                            .pointer("/metadata/labels")
                            .and_then(Value::as_object),
                    ),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    errors.extend(pod_spec::pod_template(
        spec.get("template"),
        &path.child("template"),
        Owner::Pod,
    ));
    errors.extend(restart_policy(
        spec.pointer("/template/spec"),
        &path.child("template").child("spec").child("restartPolicy"),
    ));
    errors
}

impl Strategy for JobStrategy {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        start_generation(object, Some(json!({})));
        if !manual_selector(object) {
            generate_selector(object);
        }
        if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
            let indexed = spec.get("completionMode").and_then(Value::as_str) == Some("Indexed");
            spec.entry("parallelism").or_insert_with(|| json!(1));
            if !indexed {
                spec.entry("completions").or_insert_with(|| json!(1));
            }
            spec.entry("backoffLimit").or_insert_with(|| json!(6));
            spec.entry("completionMode")
                .or_insert_with(|| json!("NonIndexed"));
            spec.entry("suspend").or_insert_with(|| json!(false));
            spec.entry("manualSelector").or_insert_with(|| json!(false));
            spec.entry("podReplacementPolicy")
                .or_insert_with(|| json!("TerminatingOrFailed"));
        }
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let mut errors = job_spec_errors(object.get("spec"), &Path::new("spec"));
        if !manual_selector(object) {
            let uid = object
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let expected = json!({"metadata": {"labels": {CONTROLLER_UID: uid}}});
            if let Some(selector) = object.pointer("/spec/selector")
                && let Ok(parsed) = LabelSelector::from_object(Some(selector))
                && !parsed.matches(&expected)
            {
                errors.push(FieldError::invalid(
                    &Path::new("spec").child("selector"),
                    go::label_selector(selector),
                    "`selector` not auto-generated",
                ));
            }
        }
        errors
    }

    fn validate_update(&self, ctx: &Context, new: &Value, old: &Value) -> ErrorList {
        let mut errors = self.validate(ctx, new);
        let spec = Path::new("spec");
        let selector = |o: &Value| o.pointer("/spec/selector").cloned().unwrap_or(Value::Null);
        if selector(new) != selector(old) {
            errors.push(FieldError::invalid(
                &spec.child("selector"),
                go::label_selector(&selector(new)),
                "field is immutable",
            ));
        }
        let suspended = old.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
        if !suspended && new.pointer("/spec/template") != old.pointer("/spec/template") {
            // The real message prints the Go PodTemplateSpec; this one prints its JSON.
            errors.push(FieldError::invalid(
                &spec.child("template"),
                new.pointer("/spec/template")
                    .map(Value::to_string)
                    .unwrap_or_default(),
                "field is immutable",
            ));
        }
        errors
    }
}

impl Strategy for CronJobStrategy {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, _ctx: &Context, object: &mut Value) {
        start_generation(object, Some(json!({})));
        if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
            spec.entry("concurrencyPolicy")
                .or_insert_with(|| json!("Allow"));
            spec.entry("suspend").or_insert_with(|| json!(false));
            spec.entry("successfulJobsHistoryLimit")
                .or_insert_with(|| json!(3));
            spec.entry("failedJobsHistoryLimit")
                .or_insert_with(|| json!(1));
        }
    }

    fn validate(&self, _ctx: &Context, object: &Value) -> ErrorList {
        let spec = Path::new("spec");
        let mut errors = Vec::new();
        let schedule = object
            .pointer("/spec/schedule")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if schedule.is_empty() {
            errors.push(FieldError::required(&spec.child("schedule"), ""));
        }
        if let Some(policy) = object
            .pointer("/spec/concurrencyPolicy")
            .and_then(Value::as_str)
            && !matches!(policy, "Allow" | "Forbid" | "Replace")
        {
            errors.push(FieldError::not_supported(
                &spec.child("concurrencyPolicy"),
                go::quote(policy),
                &["Allow", "Forbid", "Replace"],
            ));
        }
        let job_spec = object.pointer("/spec/jobTemplate/spec");
        let job_path = spec.child("jobTemplate").child("spec");
        errors.extend(pod_spec::pod_template(
            job_spec.and_then(|s| s.get("template")),
            &job_path.child("template"),
            Owner::Pod,
        ));
        errors.extend(restart_policy(
            job_spec.and_then(|s| s.pointer("/template/spec")),
            &job_path
                .child("template")
                .child("spec")
                .child("restartPolicy"),
        ));
        errors
    }
}
