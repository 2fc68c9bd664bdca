//! Validation and admission of the kinds rounds writes, with the 422 and 403 Status bodies
//! (message and `details.causes`) kube-apiserver answers, dry runs included.

mod common;

use common::*;
use rounds_test_apiserver::TestApiServer;
use rounds_test_apiserver::client::{Client, RawResponse};
use serde_json::{Value, json};

const WEB: &str = "/apis/apps/v1/namespaces/shop/deployments/web";
const PVC: &str = "/api/v1/namespaces/shop/persistentvolumeclaims/data-db-0";

fn causes(response: &RawResponse) -> Value {
    response.json()["details"]["causes"].clone()
}

async fn strategic(client: &Client, path: &str, patch: Value) -> RawResponse {
    client
        .patch(path, "application/strategic-merge-patch+json", &patch)
        .await
        .expect("patch")
}

async fn merge(client: &Client, path: &str, patch: Value) -> RawResponse {
    client
        .patch(path, "application/merge-patch+json", &patch)
        .await
        .expect("patch")
}

#[tokio::test]
async fn a_misspelled_container_name_adds_a_container_without_image() {
    let server = start().await;
    let client = admin(&server);
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "ap", "resources": {"limits": {"memory": "512Mi"}}}]}}}});
    for path in [format!("{WEB}?dryRun=All"), WEB.to_string()] {
        let refused = strategic(&client, &path, patch.clone()).await;
        assert_status(&refused, 422, "Invalid");
        assert_eq!(
            refused.json()["message"],
            "Deployment.apps \"web\" is invalid: spec.template.spec.containers[1].image: Required value"
        );
        assert_eq!(
            refused.json()["details"],
            json!({"name": "web", "group": "apps", "kind": "Deployment", "causes": [{
                "reason": "FieldValueRequired", "message": "Required value",
                "field": "spec.template.spec.containers[1].image"}]})
        );
    }
    let web = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    assert_eq!(
        web["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn requests_may_not_exceed_limits_and_quantities_must_parse() {
    let server = start().await;
    let client = admin(&server);
    let over = strategic(
        &client,
        WEB,
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "resources": {"requests": {"memory": "512Mi"}}}]}}}}),
    )
    .await;
    assert_status(&over, 422, "Invalid");
    assert_eq!(
        over.json()["message"],
        "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: \"512Mi\": must be less than or equal to memory limit of 256Mi"
    );
    assert_eq!(
        causes(&over),
        json!([{"reason": "FieldValueInvalid",
            "message": "Invalid value: \"512Mi\": must be less than or equal to memory limit of 256Mi",
            "field": "spec.template.spec.containers[0].resources.requests"}])
    );

    // A patched object that does not decode: 422 on the field `patch`.
    let bad = strategic(
        &client,
        WEB,
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "resources": {"limits": {"memory": "1Gx"}}}]}}}}),
    )
    .await;
    assert_status(&bad, 422, "Invalid");
    assert_eq!(
        bad.json()["message"],
        " \"\" is invalid: patch: Invalid value: \"map[spec:map[template:map[spec:map[containers:[map[name:app resources:map[limits:map[memory:1Gx]]]]]]]]\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    // A created object that does not decode: 400.
    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "a",
        "resources": {"requests": {"cpu": "lots"}}}]}});
    let refused = client
        .post("/api/v1/namespaces/shop/pods", &pod)
        .await
        .expect("post");
    assert_status(&refused, 400, "BadRequest");
    assert_eq!(
        refused.json()["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    // Raising the limit above the request passes.
    let raised = strategic(
        &client,
        WEB,
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "resources": {"limits": {"memory": "1Gi"}, "requests": {"memory": "512Mi"}}}]}}}}),
    )
    .await;
    assert_eq!(raised.status, 200, "{}", raised.text());
}

#[tokio::test]
async fn pod_specs_are_immutable_except_images() {
    let server = start().await;
    let client = admin(&server);
    let path = "/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa";
    let refused = strategic(
        &client,
        path,
        json!({"spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "384Mi"}}}]}}),
    )
    .await;
    assert_status(&refused, 422, "Invalid");
    let message = refused.json()["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.starts_with("Pod \"web-7d4b9c-aaaaa\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  core.PodSpec{\n"),
        "{message}"
    );
    assert_eq!(causes(&refused)[0]["field"], "spec");
    let image = strategic(
        &client,
        path,
        json!({"spec": {"containers": [{"name": "app", "image": "registry.example/web:1.5.0"}]}}),
    )
    .await;
    assert_eq!(image.status, 200, "{}", image.text());
    let missing = client
        .post(
            "/api/v1/namespaces/shop/pods",
            &json!({"metadata": {"name": "no-image"}, "spec": {"containers": [{"name": "app"}]}}),
        )
        .await
        .expect("post");
    assert_eq!(
        missing.json()["message"],
        "Pod \"no-image\" is invalid: spec.containers[0].image: Required value"
    );
}

#[tokio::test]
async fn claims_grow_only_when_bound_and_expandable_and_never_shrink() {
    let server = TestApiServer::start(
        config()
            .object(
                json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": "fixed"}, "provisioner": "example.com/fixed"}),
            )
            .object(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "fixed-0", "namespace": "shop"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fixed",
                    "resources": {"requests": {"storage": "1Gi"}}},
                "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}))
            .object(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "pending-0", "namespace": "shop"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                    "resources": {"requests": {"storage": "1Gi"}}},
                "status": {"phase": "Pending"}})),
    )
    .await
    .expect("server");
    let client = admin(&server);
    let size = |storage: &str| json!({"spec": {"resources": {"requests": {"storage": storage}}}});

    let shrink = merge(&client, PVC, size("512Mi")).await;
    assert_status(&shrink, 422, "Invalid");
    assert_eq!(
        shrink.json()["message"],
        "PersistentVolumeClaim \"data-db-0\" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
    );
    assert_eq!(
        causes(&shrink),
        json!([{"reason": "FieldValueForbidden",
            "message": "Forbidden: field can not be less than status.capacity",
            "field": "spec.resources.requests.storage"}])
    );

    // The class of data-db-0 allows expansion: a dry run and then the real grow pass.
    let dry = merge(&client, &format!("{PVC}?dryRun=All"), size("2Gi")).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(
        server
            .object("", "persistentvolumeclaims", "shop", "data-db-0")
            .expect("pvc")["spec"]["resources"]["requests"]["storage"],
        "1Gi"
    );
    let grown = merge(&client, PVC, size("2Gi")).await;
    assert_eq!(grown.status, 200, "{}", grown.text());

    // Its class does not: the resize admission plugin forbids it, dry run included.
    let fixed = "/api/v1/namespaces/shop/persistentvolumeclaims/fixed-0";
    for path in [format!("{fixed}?dryRun=All"), fixed.to_string()] {
        let refused = merge(&client, &path, size("2Gi")).await;
        assert_eq!(
            refused.json(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "persistentvolumeclaims \"fixed-0\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
                "reason": "Forbidden",
                "details": {"name": "fixed-0", "kind": "persistentvolumeclaims"}, "code": 403})
        );
    }

    // An unbound claim, and any other spec field, cannot change.
    let pending = merge(
        &client,
        "/api/v1/namespaces/shop/persistentvolumeclaims/pending-0",
        size("2Gi"),
    )
    .await;
    assert_eq!(
        pending.json()["message"],
        "PersistentVolumeClaim \"pending-0\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
    );
    let modes = merge(
        &client,
        PVC,
        json!({"spec": {"accessModes": ["ReadWriteMany"]}}),
    )
    .await;
    assert_eq!(
        modes.json()["message"],
        "PersistentVolumeClaim \"data-db-0\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
    );
}

#[tokio::test]
async fn configmaps_hold_at_most_one_mebibyte_under_valid_keys() {
    let server = start().await;
    let client = admin(&server);
    let path = "/api/v1/namespaces/rounds/configmaps";
    let big = json!({"metadata": {"name": "big"}, "data": {"ledger": "x".repeat(1024 * 1024 + 1)}});
    let refused = client.post(path, &big).await.expect("post");
    assert_eq!(
        refused.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "ConfigMap \"big\" is invalid: []: Too long: must have at most 1048576 bytes",
            "reason": "Invalid",
            "details": {"name": "big", "kind": "ConfigMap", "causes": [{"reason": "FieldValueTooLong",
                "message": "Too long: must have at most 1048576 bytes", "field": "[]"}]},
            "code": 422})
    );
    let exactly =
        json!({"metadata": {"name": "full"}, "data": {"ledger": "x".repeat(1024 * 1024)}});
    assert_eq!(client.post(path, &exactly).await.expect("post").status, 201);
    let key = client
        .post(
            path,
            &json!({"metadata": {"name": "keys"}, "data": {"round log": "x"}}),
        )
        .await
        .expect("post");
    assert_eq!(
        key.json()["message"],
        "ConfigMap \"keys\" is invalid: data[round log]: Invalid value: \"round log\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    );
    let name = client
        .post(path, &json!({"metadata": {"name": "Rounds_Ledger"}}))
        .await
        .expect("post");
    assert_eq!(
        name.json()["message"],
        "ConfigMap \"Rounds_Ledger\" is invalid: metadata.name: Invalid value: \"Rounds_Ledger\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    // An immutable ConfigMap keeps its data.
    client
        .post(
            path,
            &json!({"metadata": {"name": "frozen"}, "data": {"k": "v"}, "immutable": true}),
        )
        .await
        .expect("post");
    let changed = merge(
        &client,
        &format!("{path}/frozen"),
        json!({"data": {"k": "w"}}),
    )
    .await;
    assert_eq!(
        changed.json()["message"],
        "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
}

#[tokio::test]
async fn jobs_get_a_generated_selector_and_never_restart_always() {
    let server = start().await;
    let client = admin(&server);
    let path = "/apis/batch/v1/namespaces/shop/jobs";
    let job = |name: &str, restart: Option<&str>| {
        let mut spec = json!({"containers": [{"name": "fix", "image": "busybox"}]});
        if let Some(restart) = restart {
            spec["restartPolicy"] = json!(restart);
        }
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": spec}}})
    };
    let created = client
        .post(path, &job("fix-1", Some("Never")))
        .await
        .expect("post");
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let uid = created["metadata"]["uid"].as_str().expect("uid");
    assert_eq!(
        created["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
    assert_eq!(
        created["spec"]["template"]["metadata"]["labels"],
        json!({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "fix-1",
            "controller-uid": uid, "job-name": "fix-1"})
    );
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["spec"]["backoffLimit"], 6);
    for restart in [Some("Always"), None] {
        let refused = client
            .post(path, &job("fix-2", restart))
            .await
            .expect("post");
        assert_status(&refused, 422, "Invalid");
        assert_eq!(
            refused.json()["message"],
            "Job.batch \"fix-2\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
        );
    }
    let dry = client
        .post(&format!("{path}?dryRun=All"), &job("fix-3", Some("Always")))
        .await
        .expect("post");
    assert_eq!(dry.status, 422);
}

#[tokio::test]
async fn events_are_validated_by_the_api_version_used() {
    let server = start().await;
    let client = admin(&server);
    let core = "/api/v1/namespaces/shop/events";
    let mismatch = client
        .post(
            core,
            &json!({"metadata": {"name": "e1"}, "reason": "X",
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"}}),
        )
        .await
        .expect("post");
    assert_eq!(
        mismatch.json()["message"],
        "Event \"e1\" is invalid: involvedObject.namespace: Invalid value: \"default\": does not match event.namespace"
    );
    let new = "/apis/events.k8s.io/v1/namespaces/shop/events";
    let incomplete = client
        .post(
            new,
            &json!({"metadata": {"name": "e2"}, "regarding": {"kind": "Pod", "namespace": "shop", "name": "p"},
                "reason": "RoundsEvicted", "type": "Normal", "eventTime": "2025-01-10T10:00:00.000000Z"}),
        )
        .await
        .expect("post");
    assert_status(&incomplete, 422, "Invalid");
    assert_eq!(
        incomplete.json()["message"],
        "Event \"e2\" is invalid: [reportingController: Required value, reportingController: Invalid value: \"\": name part must be non-empty, reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), reportingInstance: Required value, action: Required value]"
    );
    let no_time = client
        .post(
            new,
            &json!({"metadata": {"name": "e3"}, "regarding": {"kind": "Pod", "namespace": "shop", "name": "p"},
                "reason": "RoundsEvicted", "action": "Evict", "type": "Info",
                "reportingController": "rounds.dev/rounds", "reportingInstance": "r1"}),
        )
        .await
        .expect("post");
    assert_eq!(
        no_time.json()["message"],
        "Event \"e3\" is invalid: [eventTime: Required value, type: Invalid value: \"\": has invalid value: Info]"
    );
}
