//! Decoding of the Kubernetes protobuf request bodies that kubectl sends for built-in types
//! (`application/vnd.kubernetes.protobuf`): the `k8s\0` envelope and a schema table for the
//! objects kubectl creates (`create job|cronjob|deployment|configmap|namespace|pdb`, `run`,
//! `auth can-i`, `drain`'s evictions, leases). Responses are always JSON, which kubectl accepts.

use serde_json::{Map, Value, json};

/// The media type of protobuf bodies.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// A protobuf body that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The bytes are not a Kubernetes protobuf envelope.
    #[error("invalid protobuf body: {0}")]
    Malformed(&'static str),
    /// The kind has no schema here.
    #[error("the test API server cannot decode protobuf bodies of kind {0:?}; send JSON")]
    UnsupportedKind(String),
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    /// An optional integer: zero is kept.
    IntPtr,
    Bool,
    /// An optional boolean: false is kept.
    BoolPtr,
    Msg(&'static [Field]),
    RepStr,
    RepMsg(&'static [Field]),
    MapStr,
    MapQuantity,
    Time,
    MicroTime,
    /// `intstr.IntOrString`.
    IntOrString,
}

#[derive(Clone, Copy)]
struct Field(u32, &'static str, Kind);

use Kind::*;

const TYPE_META: &[Field] = &[Field(1, "apiVersion", Str), Field(2, "kind", Str)];
const OWNER_REFERENCE: &[Field] = &[
    Field(1, "kind", Str),
    Field(3, "name", Str),
    Field(4, "uid", Str),
    Field(5, "apiVersion", Str),
    Field(6, "controller", BoolPtr),
    Field(7, "blockOwnerDeletion", BoolPtr),
];
const OBJECT_META: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "generateName", Str),
    Field(3, "namespace", Str),
    Field(5, "uid", Str),
    Field(6, "resourceVersion", Str),
    Field(7, "generation", Int),
    Field(8, "creationTimestamp", Time),
    Field(9, "deletionTimestamp", Time),
    Field(10, "deletionGracePeriodSeconds", IntPtr),
    Field(11, "labels", MapStr),
    Field(12, "annotations", MapStr),
    Field(13, "ownerReferences", RepMsg(OWNER_REFERENCE)),
    Field(14, "finalizers", RepStr),
];
const LABEL_SELECTOR_REQUIREMENT: &[Field] = &[
    Field(1, "key", Str),
    Field(2, "operator", Str),
    Field(3, "values", RepStr),
];
const LABEL_SELECTOR: &[Field] = &[
    Field(1, "matchLabels", MapStr),
    Field(2, "matchExpressions", RepMsg(LABEL_SELECTOR_REQUIREMENT)),
];
const CONTAINER_PORT: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "hostPort", Int),
    Field(3, "containerPort", Int),
    Field(4, "protocol", Str),
    Field(5, "hostIP", Str),
];
const ENV_VAR: &[Field] = &[Field(1, "name", Str), Field(2, "value", Str)];
const RESOURCE_REQUIREMENTS: &[Field] = &[
    Field(1, "limits", MapQuantity),
    Field(2, "requests", MapQuantity),
];
const VOLUME_MOUNT: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "readOnly", Bool),
    Field(3, "mountPath", Str),
    Field(4, "subPath", Str),
];
const CONTAINER: &[Field] = &[
    Field(1, "name", Str),
    Field(2, "image", Str),
    Field(3, "command", RepStr),
    Field(4, "args", RepStr),
    Field(5, "workingDir", Str),
    Field(6, "ports", RepMsg(CONTAINER_PORT)),
    Field(7, "env", RepMsg(ENV_VAR)),
    Field(8, "resources", Msg(RESOURCE_REQUIREMENTS)),
    Field(9, "volumeMounts", RepMsg(VOLUME_MOUNT)),
    Field(13, "terminationMessagePath", Str),
    Field(14, "imagePullPolicy", Str),
    Field(16, "stdin", Bool),
    Field(17, "stdinOnce", Bool),
    Field(18, "tty", Bool),
    Field(20, "terminationMessagePolicy", Str),
];
const LOCAL_OBJECT_REFERENCE: &[Field] = &[Field(1, "name", Str)];
const TOLERATION: &[Field] = &[
    Field(1, "key", Str),
    Field(2, "operator", Str),
    Field(3, "value", Str),
    Field(4, "effect", Str),
    Field(5, "tolerationSeconds", IntPtr),
];
const POD_SPEC: &[Field] = &[
    Field(2, "containers", RepMsg(CONTAINER)),
    Field(3, "restartPolicy", Str),
    Field(4, "terminationGracePeriodSeconds", IntPtr),
    Field(5, "activeDeadlineSeconds", IntPtr),
    Field(6, "dnsPolicy", Str),
    Field(7, "nodeSelector", MapStr),
    Field(8, "serviceAccountName", Str),
    Field(9, "serviceAccount", Str),
    Field(10, "nodeName", Str),
    Field(11, "hostNetwork", Bool),
    Field(12, "hostPID", Bool),
    Field(13, "hostIPC", Bool),
    Field(15, "imagePullSecrets", RepMsg(LOCAL_OBJECT_REFERENCE)),
    Field(16, "hostname", Str),
    Field(17, "subdomain", Str),
    Field(19, "schedulerName", Str),
    Field(20, "initContainers", RepMsg(CONTAINER)),
    Field(21, "automountServiceAccountToken", BoolPtr),
    Field(22, "tolerations", RepMsg(TOLERATION)),
    Field(24, "priorityClassName", Str),
    Field(25, "priority", IntPtr),
];
const POD_TEMPLATE_SPEC: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(POD_SPEC)),
];
const POD: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(POD_SPEC)),
];
const JOB_SPEC: &[Field] = &[
    Field(1, "parallelism", IntPtr),
    Field(2, "completions", IntPtr),
    Field(3, "activeDeadlineSeconds", IntPtr),
    Field(4, "selector", Msg(LABEL_SELECTOR)),
    Field(5, "manualSelector", BoolPtr),
    Field(6, "template", Msg(POD_TEMPLATE_SPEC)),
    Field(7, "backoffLimit", IntPtr),
    Field(8, "ttlSecondsAfterFinished", IntPtr),
    Field(9, "completionMode", Str),
    Field(10, "suspend", BoolPtr),
];
const JOB: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(JOB_SPEC)),
];
const JOB_TEMPLATE_SPEC: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(JOB_SPEC)),
];
const CRON_JOB_SPEC: &[Field] = &[
    Field(1, "schedule", Str),
    Field(2, "startingDeadlineSeconds", IntPtr),
    Field(3, "concurrencyPolicy", Str),
    Field(4, "suspend", BoolPtr),
    Field(5, "jobTemplate", Msg(JOB_TEMPLATE_SPEC)),
    Field(6, "successfulJobsHistoryLimit", IntPtr),
    Field(7, "failedJobsHistoryLimit", IntPtr),
    Field(8, "timeZone", Str),
];
const CRON_JOB: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(CRON_JOB_SPEC)),
];
const DEPLOYMENT_SPEC: &[Field] = &[
    Field(1, "replicas", IntPtr),
    Field(2, "selector", Msg(LABEL_SELECTOR)),
    Field(3, "template", Msg(POD_TEMPLATE_SPEC)),
    Field(5, "minReadySeconds", Int),
    Field(6, "revisionHistoryLimit", IntPtr),
    Field(7, "paused", Bool),
    Field(9, "progressDeadlineSeconds", IntPtr),
];
const DEPLOYMENT: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(DEPLOYMENT_SPEC)),
];
const CONFIG_MAP: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "data", MapStr),
    Field(4, "immutable", BoolPtr),
];
const NAMESPACE_SPEC: &[Field] = &[Field(1, "finalizers", RepStr)];
const NAMESPACE: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(NAMESPACE_SPEC)),
];
const LEASE_SPEC: &[Field] = &[
    Field(1, "holderIdentity", Str),
    Field(2, "leaseDurationSeconds", IntPtr),
    Field(3, "acquireTime", MicroTime),
    Field(4, "renewTime", MicroTime),
    Field(5, "leaseTransitions", IntPtr),
];
const LEASE: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(LEASE_SPEC)),
];
const PDB_SPEC: &[Field] = &[
    Field(1, "minAvailable", IntOrString),
    Field(2, "selector", Msg(LABEL_SELECTOR)),
    Field(3, "maxUnavailable", IntOrString),
    Field(4, "unhealthyPodEvictionPolicy", Str),
];
const POD_DISRUPTION_BUDGET: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(PDB_SPEC)),
];
const PRECONDITIONS: &[Field] = &[Field(1, "uid", Str), Field(2, "resourceVersion", Str)];
const DELETE_OPTIONS: &[Field] = &[
    Field(1, "gracePeriodSeconds", IntPtr),
    Field(2, "preconditions", Msg(PRECONDITIONS)),
    Field(3, "orphanDependents", BoolPtr),
    Field(4, "propagationPolicy", Str),
    Field(5, "dryRun", RepStr),
];
const EVICTION: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "deleteOptions", Msg(DELETE_OPTIONS)),
];
const RESOURCE_ATTRIBUTES: &[Field] = &[
    Field(1, "namespace", Str),
    Field(2, "verb", Str),
    Field(3, "group", Str),
    Field(4, "version", Str),
    Field(5, "resource", Str),
    Field(6, "subresource", Str),
    Field(7, "name", Str),
];
const NON_RESOURCE_ATTRIBUTES: &[Field] = &[Field(1, "path", Str), Field(2, "verb", Str)];
const ACCESS_REVIEW_SPEC: &[Field] = &[
    Field(1, "resourceAttributes", Msg(RESOURCE_ATTRIBUTES)),
    Field(2, "nonResourceAttributes", Msg(NON_RESOURCE_ATTRIBUTES)),
];
const SELF_SUBJECT_ACCESS_REVIEW: &[Field] = &[
    Field(1, "metadata", Msg(OBJECT_META)),
    Field(2, "spec", Msg(ACCESS_REVIEW_SPEC)),
];
const INT_OR_STRING: &[Field] = &[
    Field(1, "type", Int),
    Field(2, "intVal", Int),
    Field(3, "strVal", Str),
];
const TIMESTAMP: &[Field] = &[Field(1, "seconds", Int), Field(2, "nanos", Int)];
const QUANTITY: &[Field] = &[Field(1, "string", Str)];
const MAP_ENTRY_STR: &[Field] = &[Field(1, "key", Str), Field(2, "value", Str)];
const MAP_ENTRY_QUANTITY: &[Field] = &[Field(1, "key", Str), Field(2, "value", Msg(QUANTITY))];

fn schema_for(kind: &str) -> Option<&'static [Field]> {
    Some(match kind {
        "Job" => JOB,
        "CronJob" => CRON_JOB,
        "Deployment" => DEPLOYMENT,
        "Pod" => POD,
        "ConfigMap" => CONFIG_MAP,
        "Namespace" => NAMESPACE,
        "Lease" => LEASE,
        "PodDisruptionBudget" => POD_DISRUPTION_BUDGET,
        "Eviction" => EVICTION,
        "DeleteOptions" => DELETE_OPTIONS,
        "SelfSubjectAccessReview" => SELF_SUBJECT_ACCESS_REVIEW,
        _ => return None,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    fn done(&self) -> bool {
        self.position >= self.bytes.len()
    }

    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.position)
                .ok_or(ProtobufError::Malformed("truncated varint"))?;
            self.position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::Malformed("varint too long"))
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], ProtobufError> {
        let end = self
            .position
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(ProtobufError::Malformed("truncated field"))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], ProtobufError> {
        let length = usize::try_from(self.varint()?)
            .map_err(|_| ProtobufError::Malformed("length too large"))?;
        self.take(length)
    }

    /// The next field: number, and its value as varint or bytes.
    fn field(&mut self) -> Result<(u32, Raw<'a>), ProtobufError> {
        let key = self.varint()?;
        let number =
            u32::try_from(key >> 3).map_err(|_| ProtobufError::Malformed("field number"))?;
        let raw = match key & 7 {
            0 => Raw::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Raw::Skipped
            }
            2 => Raw::Bytes(self.length_delimited()?),
            5 => {
                self.take(4)?;
                Raw::Skipped
            }
            _ => return Err(ProtobufError::Malformed("unsupported wire type")),
        };
        Ok((number, raw))
    }
}

enum Raw<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Skipped,
}

fn as_bytes<'a>(raw: &Raw<'a>) -> Result<&'a [u8], ProtobufError> {
    match raw {
        Raw::Bytes(bytes) => Ok(bytes),
        _ => Err(ProtobufError::Malformed(
            "expected a length-delimited field",
        )),
    }
}

fn as_varint(raw: &Raw<'_>) -> Result<u64, ProtobufError> {
    match raw {
        Raw::Varint(value) => Ok(*value),
        _ => Err(ProtobufError::Malformed("expected a varint field")),
    }
}

fn as_string(raw: &Raw<'_>) -> Result<String, ProtobufError> {
    String::from_utf8(as_bytes(raw)?.to_vec())
        .map_err(|_| ProtobufError::Malformed("invalid UTF-8"))
}

/// Integers are int32/int64 in two's complement on the wire.
fn as_int(raw: &Raw<'_>) -> Result<i64, ProtobufError> {
    as_varint(raw).map(|v| v as i64)
}

fn decode_message(bytes: &[u8], schema: &[Field]) -> Result<Map<String, Value>, ProtobufError> {
    let mut out = Map::new();
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        let (number, raw) = reader.field()?;
        let Some(Field(_, name, kind)) = schema.iter().find(|f| f.0 == number) else {
            continue;
        };
        let name = (*name).to_string();
        match kind {
            Str => {
                let value = as_string(&raw)?;
                if !value.is_empty() {
                    out.insert(name, json!(value));
                }
            }
            Int => {
                let value = as_int(&raw)?;
                if value != 0 {
                    out.insert(name, json!(value));
                }
            }
            IntPtr => {
                out.insert(name, json!(as_int(&raw)?));
            }
            Bool => {
                if as_varint(&raw)? != 0 {
                    out.insert(name, json!(true));
                }
            }
            BoolPtr => {
                out.insert(name, json!(as_varint(&raw)? != 0));
            }
            Msg(fields) => {
                let value = decode_message(as_bytes(&raw)?, fields)?;
                if !value.is_empty() {
                    out.insert(name, Value::Object(value));
                }
            }
            RepStr => push(&mut out, name, json!(as_string(&raw)?)),
            RepMsg(fields) => {
                let value = decode_message(as_bytes(&raw)?, fields)?;
                push(&mut out, name, Value::Object(value));
            }
            MapStr | MapQuantity => {
                let entry_schema = if matches!(kind, MapStr) {
                    MAP_ENTRY_STR
                } else {
                    MAP_ENTRY_QUANTITY
                };
                let entry = decode_message(as_bytes(&raw)?, entry_schema)?;
                let key = entry
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let value = match entry.get("value") {
                    Some(Value::Object(quantity)) => {
                        quantity.get("string").cloned().unwrap_or(json!(""))
                    }
                    Some(value) => value.clone(),
                    None => json!(""),
                };
                let map = out.entry(name).or_insert_with(|| Value::Object(Map::new()));
                if let Some(map) = map.as_object_mut() {
                    map.insert(key, value);
                }
            }
            Time | MicroTime => {
                let time = decode_message(as_bytes(&raw)?, TIMESTAMP)?;
                let seconds = time.get("seconds").and_then(Value::as_i64).unwrap_or(0);
                let nanos = time.get("nanos").and_then(Value::as_i64).unwrap_or(0);
                if seconds != 0 || nanos != 0 {
                    let nanos = u32::try_from(nanos).unwrap_or(0);
                    if let Some(at) = chrono::DateTime::from_timestamp(seconds, nanos) {
                        let format = if matches!(kind, MicroTime) {
                            "%Y-%m-%dT%H:%M:%S%.6fZ"
                        } else {
                            "%Y-%m-%dT%H:%M:%SZ"
                        };
                        out.insert(name, json!(at.format(format).to_string()));
                    }
                }
            }
            IntOrString => {
                let value = decode_message(as_bytes(&raw)?, INT_OR_STRING)?;
                let is_string = value.get("type").and_then(Value::as_i64) == Some(1);
                let converted = if is_string {
                    value.get("strVal").cloned().unwrap_or(json!(""))
                } else {
                    value.get("intVal").cloned().unwrap_or(json!(0))
                };
                out.insert(name, converted);
            }
        }
    }
    Ok(out)
}

fn push(out: &mut Map<String, Value>, name: String, value: Value) {
    let list = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = list.as_array_mut() {
        list.push(value);
    }
}

/// Decodes a `k8s\0`-prefixed protobuf body into the JSON object it stands for.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = body.strip_prefix(b"k8s\0").ok_or(ProtobufError::Malformed(
        "missing the k8s protobuf magic prefix",
    ))?;
    let mut reader = Reader::new(envelope);
    let mut type_meta = Map::new();
    let mut raw_object: &[u8] = &[];
    while !reader.done() {
        match reader.field()? {
            (1, raw) => type_meta = decode_message(as_bytes(&raw)?, TYPE_META)?,
            (2, raw) => raw_object = as_bytes(&raw)?,
            _ => {}
        }
    }
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let schema = schema_for(&kind).ok_or_else(|| ProtobufError::UnsupportedKind(kind.clone()))?;
    let mut object = decode_message(raw_object, schema)?;
    for field in ["apiVersion", "kind"] {
        if let Some(value) = type_meta.get(field) {
            object.insert(field.to_string(), value.clone());
        }
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `kubectl create job hello3 --image=busybox` as kubectl 1.32 sends it.
    const CREATE_JOB: &[u8] = b"k8s\x00\x0a\x0f\x0a\x08batch/v1\x12\x03Job\x12\x82\x01\x0a\x16\x0a\x06hello3\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x12\x5e\x32\x5c\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x12\x48\x12\x25\x0a\x06hello3\x12\x07busybox\x2a\x00\x42\x00\x6a\x00\x72\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x05Never\x32\x00\x42\x00\x4a\x00\x52\x00\x58\x00\x60\x00\x68\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00\x1a\x08\x20\x00\x28\x00\x30\x00\x3a\x00\x1a\x00\x22\x00";

    /// `kubectl auth can-i list pods -n shop --subresource=log`.
    const CAN_I: &[u8] = b"k8s\x00\x0a\x32\x0a\x17authorization.k8s.io/v1\x12\x17SelfSubjectAccessReview\x12\x3d\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x12\x1f\x0a\x1d\x0a\x04shop\x12\x04list\x1a\x00\x22\x00\x2a\x04pods\x32\x03log\x3a\x00\x1a\x08\x08\x00\x12\x00\x1a\x00\x20\x00\x1a\x00\x22\x00";

    #[test]
    fn decodes_kubectl_create_job() {
        let job = decode(CREATE_JOB).expect("decode");
        assert_eq!(
            job,
            json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "hello3"},
                "spec": {"template": {"spec": {
                    "containers": [{"name": "hello3", "image": "busybox"}],
                    "restartPolicy": "Never"}}}})
        );
    }

    #[test]
    fn decodes_kubectl_auth_can_i() {
        let review = decode(CAN_I).expect("decode");
        assert_eq!(
            review["spec"]["resourceAttributes"],
            json!({"namespace": "shop", "verb": "list", "resource": "pods", "subresource": "log"})
        );
        assert_eq!(review["kind"], "SelfSubjectAccessReview");
    }

    #[test]
    fn rejects_unknown_kinds_and_garbage() {
        assert_eq!(
            decode(b"k8s\x00\x0a\x0a\x0a\x02v1\x12\x04Node"),
            Err(ProtobufError::UnsupportedKind("Node".into()))
        );
        assert!(matches!(decode(b"{}"), Err(ProtobufError::Malformed(_))));
        assert!(matches!(
            decode(b"k8s\x00\x0a\x7f"),
            Err(ProtobufError::Malformed(_))
        ));
    }
}
