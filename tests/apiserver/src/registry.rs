//! The generic write path, as kube-apiserver's `registry/generic/registry/store.go` and
//! `registry/rest/{create,update,delete}.go` run it for every kind: admission, the kind's
//! strategy (defaults, validation, generation), optimistic concurrency, no-op detection,
//! graceful deletion, and the commit. A dry run takes exactly the same path and skips only the
//! commit (`registry/generic/registry/dryrun.go`): it answers the object as it would be stored,
//! with the stored resourceVersion (or none, for a create).

use serde_json::{Value, json};

use crate::admission;
use crate::disruption;
use crate::field::{self, FieldError, Path, go};
use crate::kubelet;
use crate::resources::ResourceInfo;
use crate::status::{ApiError, deleted_status};
use crate::store::{Store, metadata_mut, metadata_str, now_timestamp};
use crate::strategy::{self, Context, Deletion, Strategy};
use crate::validation;

/// Which part of an object an update writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateTarget {
    /// The main resource: the kind's strategy decides what is kept (usually the status).
    Main,
    /// The `status` subresource: only `status` changes.
    Status,
}

/// `DeleteOptions` as the write path uses them (parsed and validated by the handler).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// `dryRun: [All]`.
    pub dry_run: bool,
    /// `gracePeriodSeconds`.
    pub grace_period: Option<i64>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
}

/// What a delete answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    /// The body: the object (kinds that return it, and pods being deleted gracefully) or a
    /// Success Status.
    pub body: Value,
    /// Whether the object is gone (false while it terminates).
    pub removed: bool,
}

/// The result of an update.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    /// The object as stored (or as it would be, for a dry run).
    pub object: Value,
    /// Whether the update created the object (PUT on a kind that allows create-on-update).
    pub created: bool,
}

/// The group and kind validation errors name (`Event` for both Event APIs, since both store
/// the same internal type).
fn invalid_kind(info: &ResourceInfo) -> (String, String) {
    if info.storage_key() != info.key() {
        (String::new(), "Event".to_string())
    } else {
        (info.group.clone(), info.kind.clone())
    }
}

/// `apiVersion` and `kind` objects of this resource are stored with.
fn set_type(info: &ResourceInfo, object: &mut Value) {
    let (api_version, kind) = if info.storage_key() != info.key() {
        ("v1".to_string(), "Event".to_string())
    } else {
        (info.api_version(), info.kind.clone())
    };
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
    }
}

fn name_of(object: &Value) -> String {
    metadata_str(object, "name").unwrap_or_default().to_string()
}

/// `rest.EnsureObjectNamespaceMatchesRequestNamespace`.
fn ensure_namespace(
    info: &ResourceInfo,
    namespace: &str,
    object: &mut Value,
) -> Result<(), ApiError> {
    let request = if info.namespaced { namespace } else { "" };
    let current = metadata_str(object, "namespace")
        .unwrap_or_default()
        .to_string();
    if current == request {
        return Ok(());
    }
    if current.is_empty() || request.is_empty() {
        let meta = metadata_mut(object);
        if request.is_empty() {
            meta.remove("namespace");
        } else {
            meta.insert("namespace".into(), json!(request));
        }
        return Ok(());
    }
    Err(ApiError::bad_request(
        "the namespace of the provided object does not match the namespace sent on the request",
    ))
}

fn validate_new(strategy: &dyn Strategy, ctx: &Context, object: &Value) -> Result<(), ApiError> {
    let mut errors = if strategy.validates_object_meta() {
        validation::object_meta(object, ctx.info.namespaced, strategy.name_rule())
    } else {
        Vec::new()
    };
    errors.extend(strategy.validate(ctx, object));
    fail_if_any(ctx.info, &name_of(object), errors)
}

fn fail_if_any(info: &ResourceInfo, name: &str, errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    let (group, kind) = invalid_kind(info);
    Err(field::invalid(&group, &kind, name, &errors))
}

/// Creates an object (POST, or PUT on a kind that allows create-on-update).
pub fn create(
    store: &mut Store,
    info: &ResourceInfo,
    namespace: &str,
    mut object: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    }
    set_type(info, &mut object);
    ensure_namespace(info, namespace, &mut object)?;
    if metadata_str(&object, "resourceVersion")
        .and_then(|rv| rv.parse::<u64>().ok())
        .is_some_and(|rv| rv != 0)
    {
        // etcd3's store refuses a version it can parse (others are dropped); it is not a
        // Status error, hence a bare 500.
        return Err(ApiError::unknown(
            500,
            "resourceVersion should not be set on objects to be created",
        ));
    }
    // Mutating admission runs before the registry sees the object.
    admission::admit_create(store, info, namespace, &name_of(&object))?;
    let strategy = strategy::for_resource(info);
    // `FillObjectMetaSystemFields`, then the name from generateName.
    let uid = if dry_run {
        store.dry_run_uid()
    } else {
        store.new_uid()
    };
    let generated = match metadata_str(&object, "generateName") {
        Some(prefix) if !prefix.is_empty() && name_of(&object).is_empty() => {
            Some(store.generate_name(prefix))
        }
        _ => None,
    };
    {
        let meta = metadata_mut(&mut object);
        meta.insert("uid".into(), json!(uid));
        meta.insert("creationTimestamp".into(), json!(now_timestamp()));
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        meta.remove("resourceVersion");
        if let Some(name) = generated {
            meta.insert("name".into(), json!(name));
        }
    }
    let ctx = Context { info, store };
    strategy.prepare_for_create(&ctx, &mut object);
    validate_new(strategy, &ctx, &object)?;
    let name = name_of(&object);
    if let Some(existing) = store.get(info, namespace_of(info, namespace), &name) {
        let mut error = ApiError::already_exists(info, &name);
        if strategy::pod::is_terminating(&existing) {
            error.message = format!("object is being deleted: {}", error.message);
        }
        return Err(error);
    }
    if dry_run {
        return Ok(object);
    }
    let stored = store.commit(info, object);
    disruption::on_change(store, info, namespace_of(info, namespace));
    Ok(stored)
}

fn namespace_of<'a>(info: &ResourceInfo, namespace: &'a str) -> &'a str {
    if info.namespaced { namespace } else { "" }
}

/// Replaces an object (PUT, the result of a PATCH, or a subresource write).
#[allow(clippy::too_many_arguments)]
pub fn update(
    store: &mut Store,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    mut object: Value,
    target: UpdateTarget,
    dry_run: bool,
    allow_create: bool,
) -> Result<Updated, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    }
    let namespace = namespace_of(info, namespace);
    let strategy = strategy::for_resource(info);
    let Some(old) = store.get(info, namespace, name) else {
        if target == UpdateTarget::Main && allow_create && strategy.allow_create_on_update() {
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                // The storage layer ignores it when creating through an update.
                meta.remove("resourceVersion");
            }
            let created = create(store, info, namespace, object, dry_run)?;
            return Ok(Updated {
                object: created,
                created: true,
            });
        }
        return Err(ApiError::not_found(info, name));
    };
    set_type(info, &mut object);
    ensure_namespace(info, namespace, &mut object)?;
    let stored_rv = metadata_str(&old, "resourceVersion")
        .unwrap_or_default()
        .to_string();
    match metadata_str(&object, "resourceVersion").filter(|rv| !rv.is_empty()) {
        None if strategy.allow_unconditional_update() => {}
        None => {
            let error = FieldError::invalid(
                &Path::new("metadata").child("resourceVersion"),
                "0x0".to_string(),
                "must be specified for an update",
            );
            // The real server names the resource here, not the kind.
            return Err(field::invalid(&info.group, &info.resource, name, &[error]));
        }
        Some(rv) if rv != stored_rv => return Err(ApiError::modified(info, name)),
        Some(_) => {}
    }
    // `rest.BeforeUpdate`: system fields come from the stored object.
    {
        let old_meta = old.get("metadata").cloned().unwrap_or(json!({}));
        let meta = metadata_mut(&mut object);
        meta.insert("name".into(), json!(name));
        for field in ["generation", "creationTimestamp", "deletionTimestamp"] {
            match old_meta.get(field) {
                Some(value) => meta.insert(field.into(), value.clone()),
                None => meta.remove(field),
            };
        }
        if meta.get("deletionGracePeriodSeconds").is_none()
            && let Some(grace) = old_meta.get("deletionGracePeriodSeconds")
        {
            meta.insert("deletionGracePeriodSeconds".into(), grace.clone());
        }
        if meta
            .get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && let Some(uid) = old_meta.get("uid")
        {
            meta.insert("uid".into(), uid.clone());
        }
        meta.insert("resourceVersion".into(), json!(stored_rv));
    }
    let ctx = Context { info, store };
    let mut errors = Vec::new();
    if metadata_str(&object, "uid") != metadata_str(&old, "uid") {
        errors.push(FieldError::invalid(
            &Path::new("metadata").child("uid"),
            go::quote(metadata_str(&object, "uid").unwrap_or_default()),
            "field is immutable",
        ));
    }
    match target {
        UpdateTarget::Main => {
            strategy.prepare_for_update(&ctx, &mut object, &old);
            if strategy.validates_object_meta() {
                let meta = Path::new("metadata");
                let labels = object
                    .pointer("/metadata/labels")
                    .and_then(Value::as_object);
                errors.extend(validation::labels(labels, &meta.child("labels")));
                let annotations = object
                    .pointer("/metadata/annotations")
                    .and_then(Value::as_object);
                errors.extend(validation::annotations(
                    annotations,
                    &meta.child("annotations"),
                ));
            }
            errors.extend(strategy.validate_update(&ctx, &object, &old));
        }
        UpdateTarget::Status => strategy.prepare_for_status_update(&mut object, &old),
    }
    fail_if_any(info, name, errors)?;
    if target == UpdateTarget::Main {
        admission::validate_update(store, info, &object, &old)?;
    }
    // An update that clears the last finalizer of an object being deleted completes the delete.
    let finalizers_left = object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let old_grace = old
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if strategy::pod::is_terminating(&old) && !finalizers_left && old_grace.unwrap_or(0) == 0 {
        if !dry_run {
            store.remove(info, namespace, name);
            disruption::on_change(store, info, namespace);
        }
        return Ok(Updated {
            object,
            created: false,
        });
    }
    // A write that changes nothing stores nothing: same object, same resourceVersion.
    if object == old || dry_run {
        return Ok(Updated {
            object: if object == old { old } else { object },
            created: false,
        });
    }
    let stored = store.commit(info, object);
    disruption::on_change(store, info, namespace);
    Ok(Updated {
        object: stored,
        created: false,
    })
}

/// Deletes an object: preconditions, then what the kind's strategy decides (at once,
/// gracefully, or by finalization), with finalizers holding the object back.
pub fn delete(
    store: &mut Store,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    options: &DeleteOptions,
) -> Result<Deleted, ApiError> {
    let namespace = namespace_of(info, namespace);
    let object = store
        .get(info, namespace, name)
        .ok_or_else(|| ApiError::not_found(info, name))?;
    let strategy = strategy::for_resource(info);
    if let Some(uid) = &options.uid {
        let actual = metadata_str(&object, "uid").unwrap_or_default();
        if uid != actual {
            return Err(ApiError::conflict_on_kind(
                info,
                name,
                &format!(
                    "the UID in the precondition ({uid}) does not match the UID in record ({actual}). The object might have been deleted and then recreated"
                ),
            ));
        }
    }
    if let Some(rv) = &options.resource_version {
        let actual = metadata_str(&object, "resourceVersion").unwrap_or_default();
        if rv != actual {
            return Err(ApiError::conflict_on_kind(
                info,
                name,
                &format!(
                    "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({actual}). The object might have been modified"
                ),
            ));
        }
    }
    if (info.group.as_str(), info.resource.as_str()) == ("", "namespaces")
        && matches!(name, "default" | "kube-system" | "kube-public")
    {
        return Err(ApiError::forbidden(
            "",
            "namespaces",
            name,
            "this namespace may not be deleted",
        ));
    }
    // Negative grace periods mean 1 second on the delete path.
    let grace = options.grace_period.map(|g| if g < 0 { 1 } else { g });
    let answer = |object: Value, removed: bool| {
        let body = if strategy.returns_deleted_object() {
            object
        } else {
            deleted_status(info, name, metadata_str(&object, "uid").unwrap_or_default())
        };
        Ok(Deleted { body, removed })
    };
    let deleting = strategy::pod::is_terminating(&object);
    let current_grace = object
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    let deletion = strategy.deletion(&object, grace);
    let finalizers = object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    match deletion {
        Deletion::Finalize => {
            if deleting {
                return answer(object, false);
            }
            let mut marked = object;
            metadata_mut(&mut marked).insert("deletionTimestamp".into(), json!(now_timestamp()));
            metadata_mut(&mut marked).insert("deletionGracePeriodSeconds".into(), json!(0));
            if let Some(map) = marked.as_object_mut() {
                let status = map.entry("status").or_insert_with(|| json!({}));
                if let Some(status) = status.as_object_mut() {
                    status.insert("phase".into(), json!("Terminating"));
                }
            }
            let marked = if options.dry_run {
                marked
            } else {
                store.commit(info, marked)
            };
            answer(marked, false)
        }
        Deletion::Graceful(period) if deleting && current_grace.unwrap_or(0) > 0 => {
            // Only a shorter grace period changes a deletion already under way.
            let current = current_grace.unwrap_or(0);
            match grace {
                Some(shorter) if shorter < current => {
                    let mut updated = object.clone();
                    mark_graceful(&mut updated, shorter);
                    finish_graceful(store, info, namespace, updated, shorter, options, |o, r| {
                        answer(o, r)
                    })
                }
                _ => {
                    let _ = period;
                    answer(object, false)
                }
            }
        }
        Deletion::Graceful(period) if !deleting => {
            let mut updated = object.clone();
            mark_graceful(&mut updated, period);
            if let Some(generation) = updated
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                && generation > 0
            {
                metadata_mut(&mut updated).insert("generation".into(), json!(generation + 1));
            }
            if finalizers {
                let updated = if options.dry_run {
                    updated
                } else {
                    let stored = store.commit(info, updated);
                    disruption::on_change(store, info, namespace);
                    stored
                };
                return answer(updated, false);
            }
            finish_graceful(store, info, namespace, updated, period, options, |o, r| {
                answer(o, r)
            })
        }
        _ => {
            if finalizers {
                // `markAsDeleting`: wait for the finalizers.
                if deleting {
                    return answer(object, false);
                }
                let mut marked = object;
                if let Some(generation) = marked
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    && generation > 0
                {
                    metadata_mut(&mut marked).insert("generation".into(), json!(generation + 1));
                }
                metadata_mut(&mut marked)
                    .insert("deletionTimestamp".into(), json!(now_timestamp()));
                metadata_mut(&mut marked).insert("deletionGracePeriodSeconds".into(), json!(0));
                let marked = if options.dry_run {
                    marked
                } else {
                    let stored = store.commit(info, marked);
                    disruption::on_change(store, info, namespace);
                    stored
                };
                return answer(marked, false);
            }
            if !options.dry_run {
                store.remove(info, namespace, name);
                kubelet::forget(store, namespace, name);
                disruption::on_change(store, info, namespace);
            }
            answer(object, true)
        }
    }
}

fn mark_graceful(object: &mut Value, period: i64) {
    let at = chrono::Utc::now() + chrono::Duration::seconds(period);
    let meta = metadata_mut(object);
    meta.insert(
        "deletionTimestamp".into(),
        json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    meta.insert("deletionGracePeriodSeconds".into(), json!(period));
}

/// Commits a graceful deletion: with a grace period the object stays (Terminating) and the
/// kubelet removes it when the period ends; with 0 it is removed now.
fn finish_graceful(
    store: &mut Store,
    info: &ResourceInfo,
    namespace: &str,
    updated: Value,
    period: i64,
    options: &DeleteOptions,
    answer: impl Fn(Value, bool) -> Result<Deleted, ApiError>,
) -> Result<Deleted, ApiError> {
    let name = name_of(&updated);
    if options.dry_run {
        return answer(updated, period == 0);
    }
    let stored = store.commit(info, updated);
    if period == 0 {
        store.remove(info, namespace, &name);
        kubelet::forget(store, namespace, &name);
        disruption::on_change(store, info, namespace);
        return answer(stored, true);
    }
    kubelet::schedule(store, info, &stored, period);
    disruption::on_change(store, info, namespace);
    answer(stored, false)
}

/// Writes a status as-is through the status path without validation (what a controller's
/// `UpdateStatus` does here), storing nothing when it is unchanged.
pub fn write_status(
    store: &mut Store,
    info: &ResourceInfo,
    namespace: &str,
    name: &str,
    status: Value,
) -> Option<Value> {
    let mut object = store.get(info, namespace, name)?;
    if object.get("status") == Some(&status) {
        return Some(object);
    }
    if let Some(map) = object.as_object_mut() {
        map.insert("status".into(), status);
    }
    Some(store.commit(info, object))
}
