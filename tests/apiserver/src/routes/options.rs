//! Request options as the handlers decode and validate them (`ValidateCreateOptions`,
//! `ValidateUpdateOptions`, `ValidatePatchOptions`, `ValidateDeleteOptions`). A DELETE that
//! carries a body takes its DeleteOptions from the body alone: the query is ignored, as in
//! `handlers/delete.go`.

use serde_json::Value;

use super::{ApiRequest, Query};
use crate::field::{self, FieldError, Path, go};
use crate::registry::DeleteOptions;
use crate::status::ApiError;

/// Which write the options are for (the kind named in the 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Create,
    Update,
    Patch,
}

fn dry_run_errors(values: &[String]) -> Vec<FieldError> {
    if values.iter().all(|v| v == "All") {
        Vec::new()
    } else {
        vec![FieldError::not_supported(
            &Path::new("dryRun"),
            go::string_slice(values),
            &["All"],
        )]
    }
}

/// Decodes and validates the query options of a create, update or patch; returns whether it is
/// a dry run.
pub(crate) fn write_options(query: &Query, write: Write) -> Result<bool, ApiError> {
    let kind = match write {
        Write::Create => "CreateOptions",
        Write::Update => "UpdateOptions",
        Write::Patch => "PatchOptions",
    };
    let mut errors = Vec::new();
    if write == Write::Patch && query.get("force").is_some() {
        errors.push(FieldError::forbidden(
            &Path::new("force"),
            "may not be specified for non-apply patch",
        ));
    }
    let manager = query.get("fieldManager").unwrap_or_default();
    if manager.len() > 128 {
        errors.push(FieldError::too_long(&Path::new("fieldManager"), 128));
    }
    let dry_run = query.all("dryRun");
    errors.extend(dry_run_errors(&dry_run));
    let validation = query.get("fieldValidation").unwrap_or_default();
    if !matches!(validation, "" | "Ignore" | "Warn" | "Strict") {
        errors.push(FieldError::not_supported(
            &Path::new("fieldValidation"),
            go::quote(validation),
            &["", "Ignore", "Strict", "Warn"],
        ));
    }
    if !errors.is_empty() {
        return Err(field::invalid("meta.k8s.io", kind, "", &errors));
    }
    Ok(!dry_run.is_empty())
}

/// DeleteOptions as decoded before validation.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawDeleteOptions {
    pub(crate) dry_run: Vec<String>,
    pub(crate) grace_period: Option<i64>,
    pub(crate) uid: Option<String>,
    pub(crate) resource_version: Option<String>,
    pub(crate) propagation_policy: Option<String>,
    pub(crate) orphan_dependents: Option<bool>,
}

impl RawDeleteOptions {
    /// The options of a DELETE: from the body when there is one, else from the query.
    pub(crate) fn from_request(request: &ApiRequest) -> Result<Self, ApiError> {
        let body = request.json_body()?;
        if body.is_null() {
            Self::from_query(&request.query)
        } else {
            Self::from_value(&body)
        }
    }

    /// `ParameterCodec.DecodeParameters` of the query (400 on values that do not parse).
    pub(crate) fn from_query(query: &Query) -> Result<Self, ApiError> {
        let grace_period = match query.get("gracePeriodSeconds") {
            None => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "strconv.ParseInt: parsing {}: invalid syntax",
                    go::quote(text)
                ))
            })?),
        };
        let orphan_dependents = match query.get("orphanDependents") {
            None => None,
            Some(text) => Some(parse_bool(text).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "strconv.ParseBool: parsing {}: invalid syntax",
                    go::quote(text)
                ))
            })?),
        };
        Ok(Self {
            dry_run: query.all("dryRun"),
            grace_period,
            uid: None,
            resource_version: None,
            propagation_policy: query.get("propagationPolicy").map(str::to_string),
            orphan_dependents,
        })
    }

    /// A DeleteOptions object (a DELETE body, or an Eviction's `deleteOptions`).
    pub(crate) fn from_value(body: &Value) -> Result<Self, ApiError> {
        if body.is_null() {
            return Ok(Self::default());
        }
        let type_error = |field: &str, found: &Value, wanted: &str| {
            let found = match found {
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
                Value::Null => "null",
            };
            ApiError::bad_request(format!(
                "json: cannot unmarshal {found} into Go struct field DeleteOptions.{field} of type {wanted}"
            ))
        };
        let text = |field: &str, value: Option<&Value>| -> Result<Option<String>, ApiError> {
            match value {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(type_error(field, other, "string")),
            }
        };
        let dry_run = match body.get("dryRun") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| type_error("dryRun", v, "string"))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(type_error("dryRun", other, "[]string")),
        };
        let grace_period = match body.get("gracePeriodSeconds") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_i64()
                    .ok_or_else(|| type_error("gracePeriodSeconds", value, "int64"))?,
            ),
        };
        let orphan_dependents = match body.get("orphanDependents") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_bool()
                    .ok_or_else(|| type_error("orphanDependents", value, "bool"))?,
            ),
        };
        let preconditions = body.get("preconditions");
        Ok(Self {
            dry_run,
            grace_period,
            uid: text(
                "preconditions.uid",
                preconditions.and_then(|p| p.get("uid")),
            )?,
            resource_version: text(
                "preconditions.resourceVersion",
                preconditions.and_then(|p| p.get("resourceVersion")),
            )?,
            propagation_policy: text("propagationPolicy", body.get("propagationPolicy"))?,
            orphan_dependents,
        })
    }

    /// `ValidateDeleteOptions`, then the options the write path uses.
    pub(crate) fn validate(self) -> Result<DeleteOptions, ApiError> {
        let mut errors = Vec::new();
        let policy_path = Path::new("propagationPolicy");
        if let (Some(_), Some(policy)) = (self.orphan_dependents, &self.propagation_policy) {
            errors.push(FieldError::invalid(
                &policy_path,
                go::quote(policy),
                "orphanDependents and deletionPropagation cannot be both set",
            ));
        }
        if let Some(policy) = &self.propagation_policy
            && !matches!(policy.as_str(), "Foreground" | "Background" | "Orphan")
        {
            errors.push(FieldError::not_supported(
                &policy_path,
                go::quote(policy),
                &["Foreground", "Background", "Orphan", "nil"],
            ));
        }
        errors.extend(dry_run_errors(&self.dry_run));
        if !errors.is_empty() {
            return Err(field::invalid("meta.k8s.io", "DeleteOptions", "", &errors));
        }
        Ok(DeleteOptions {
            dry_run: !self.dry_run.is_empty(),
            grace_period: self.grace_period,
            uid: self.uid,
            resource_version: self.resource_version,
        })
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}
