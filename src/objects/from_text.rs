//! Decoding straight from JSON text, for the kinds a dump is mostly made of (pods and their
//! controllers). Building a `serde_json::Value` of every pod and dropping it again was most of
//! a large dump's decoding time; here the typed view is filled from the bytes. Only the plain
//! case is taken: whatever [`super::decode`] could see differently (a `null` it would strip, a
//! duplicate key, a name that cannot be a target) fails here, and the caller decodes through
//! `Value`, which says what is wrong and where.

use super::meta::ObjectMeta;
use super::pod::{Pod, PodSpec, PodStatus};
use super::workload::{RawSpec, RawStatus, Workload, WorkloadKind};
use super::{Object, check_named};
use serde::Deserialize;

/// An object as written: what every view of a kind with `spec` and `status` reads.
#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "S: Deserialize<'de> + Default, T: Deserialize<'de> + Default")
)]
struct Text<S, T> {
    kind: Option<String>,
    api_version: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: S,
    #[serde(default)]
    status: T,
}

impl<S, T> Text<S, T>
where
    S: for<'de> Deserialize<'de> + Default,
    T: for<'de> Deserialize<'de> + Default,
{
    /// The text as an object of `kind`, when it names that kind or none, and names itself
    /// exactly.
    fn read(bytes: &[u8], kind: &str) -> Option<Self> {
        let text: Self = serde_json::from_slice(bytes).ok()?;
        if text.kind.as_deref().is_some_and(|k| k != kind) {
            return None;
        }
        let meta = &text.metadata;
        check_named(kind, Some(&meta.name), meta.namespace.as_deref()).ok()?;
        Some(text)
    }
}

/// The object `bytes` hold, as [`super::decode`] would decode it, when it is a plain `kind`
/// (its own or, when it names none, its list's: then `list_api_version` is its apiVersion).
/// `None`: decode it through `Value`.
pub fn decode(bytes: &[u8], kind: &str, list_api_version: Option<&str>) -> Option<Object> {
    if kind == "Pod" {
        let Text {
            metadata,
            spec,
            status,
            ..
        } = Text::<PodSpec, PodStatus>::read(bytes, kind)?;
        return Some(Object::Pod(Box::new(Pod {
            metadata,
            spec,
            status,
        })));
    }
    let workload = WorkloadKind::from_kind(kind)?;
    let text = Text::<RawSpec, RawStatus>::read(bytes, kind)?;
    // As `decode` does: a list's apiVersion is given only to the items that name no kind.
    let api_version = match (text.api_version, text.kind) {
        (Some(v), _) => v,
        (None, None) => list_api_version.unwrap_or_default().to_owned(),
        (None, Some(_)) => String::new(),
    };
    Some(Object::Workload(Box::new(Workload::from_parts(
        workload,
        api_version,
        text.metadata,
        text.spec,
        text.status,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{Decoded, decode as decode_value};

    /// What the `Value` path decodes the same text to, debug-printed.
    fn through_value(text: &str, list: Option<(&str, &str)>) -> String {
        let mut value: serde_json::Value = serde_json::from_str(text).expect("json");
        if let (Some((kind, api)), Some(map)) = (list, value.as_object_mut())
            && !map.contains_key("kind")
        {
            map.insert("kind".into(), kind.into());
            map.entry("apiVersion").or_insert_with(|| api.into());
        }
        match decode_value(value) {
            Ok(Decoded::Object(o)) => format!("{o:?}"),
            other => panic!("not decoded: {other:?}"),
        }
    }

    fn direct(text: &str, kind: &str, list_api: Option<&str>) -> Option<String> {
        decode(text.as_bytes(), kind, list_api).map(|o| format!("{o:?}"))
    }

    const POD: &str = r#"{"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-1", "namespace": "shop", "uid": "u1", "resourceVersion": "7",
                     "labels": {"app": "api"}, "ownerReferences": [{"apiVersion": "apps/v1",
                     "kind": "ReplicaSet", "name": "api-5d", "controller": true}],
                     "creationTimestamp": "2025-06-01T10:00:00Z"},
        "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "shop/api:1",
                 "resources": {"limits": {"memory": "512Mi", "cpu": 1.5}}, "env": [{"name": "X"}]}],
                 "volumes": [{"name": "v", "emptyDir": {}}]},
        "status": {"phase": "Running", "startTime": "2025-06-01T10:00:01Z",
                   "containerStatuses": [{"name": "app", "ready": false, "restartCount": 4,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                       "finishedAt": "2025-06-01T11:00:00Z"}}}]}}"#;

    #[test]
    fn a_pod_decodes_as_through_value() {
        assert_eq!(direct(POD, "Pod", None), Some(through_value(POD, None)));
        let listed = POD.replace(r#""apiVersion": "v1", "kind": "Pod","#, "");
        assert_eq!(
            direct(&listed, "Pod", Some("v1")),
            Some(through_value(&listed, Some(("Pod", "v1"))))
        );
    }

    #[test]
    fn workloads_decode_as_through_value_with_the_apiversion_they_would_get() {
        let rs = r#"{"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": "api-5d", "namespace": "shop", "ownerReferences": [
              {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}]},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app"}]}}},
            "status": {"readyReplicas": 2}}"#;
        assert_eq!(
            direct(rs, "ReplicaSet", None),
            Some(through_value(rs, None))
        );
        let unversioned = rs.replace(r#""apiVersion": "apps/v1","#, "");
        assert_eq!(
            direct(&unversioned, "ReplicaSet", Some("apps/v1")),
            Some(through_value(&unversioned, Some(("ReplicaSet", "apps/v1"))))
        );
        let listed = rs.replace(r#""kind": "ReplicaSet", "apiVersion": "apps/v1","#, "");
        let out = direct(&listed, "ReplicaSet", Some("apps/v1")).expect("decoded");
        assert_eq!(out, through_value(&listed, Some(("ReplicaSet", "apps/v1"))));
        assert!(out.contains("api_version: \"apps/v1\""), "{out}");
        let cron = r#"{"kind": "CronJob", "metadata": {"name": "c", "namespace": "x"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "j"}]}}}}}}"#;
        assert_eq!(
            direct(cron, "CronJob", None),
            Some(through_value(cron, None))
        );
    }

    #[test]
    fn what_the_value_path_would_read_otherwise_is_left_to_it() {
        let cases = [
            // `decode` strips nulls: the label goes, the map stays.
            POD.replace(r#"{"app": "api"}"#, r#"{"app": null}"#),
            POD.replace(
                r#""spec": {"nodeName""#,
                r#""spec": null, "x": {"nodeName""#,
            ),
            // The last of two keys wins there; here it is refused.
            POD.replace(r#""kind": "Pod","#, r#""kind": "Pod", "kind": "Pod","#),
            POD.replace(r#""name": "api-1""#, r#""name": "a/b""#),
            POD.replace(r#""name": "api-1""#, r#""name": """#),
            POD.replace(r#""namespace": "shop", "#, ""),
            POD.replace(r#""restartCount": 4"#, r#""restartCount": "4""#),
            POD.replace(r#""kind": "Pod""#, r#""kind": "Node""#),
        ];
        for case in &cases {
            assert_eq!(direct(case, "Pod", None), None, "{case}");
        }
        assert_eq!(direct(POD, "Node", None), None, "a kind not read here");
    }
}
