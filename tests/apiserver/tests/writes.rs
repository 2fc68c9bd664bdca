//! The write semantics of kube-apiserver's handlers and generic registry: options
//! validation, DELETE bodies, dry-run answers, no-op writes, per-kind update rules, graceful
//! deletion, the request body limit and namespace lifecycle. Each test pins the status code,
//! reason and message the real server answers.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rounds_test_apiserver::client::Client;
use serde_json::{Value, json};

const CONFIGMAPS: &str = "/api/v1/namespaces/rounds/configmaps";
const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/rounds/leases";
const WEB: &str = "/apis/apps/v1/namespaces/shop/deployments/web";

async fn configmap(client: &Client, name: &str) -> Value {
    let created = client
        .post(
            CONFIGMAPS,
            &json!({"metadata": {"name": name}, "data": {"k": "v"}}),
        )
        .await
        .expect("create");
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()
}

fn rv(object: &Value) -> &str {
    object["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
}

#[tokio::test]
async fn delete_with_a_body_reads_only_the_body() {
    let server = start().await;
    let client = admin(&server);
    configmap(&client, "query-ignored").await;
    configmap(&client, "body-dry-run").await;
    configmap(&client, "query-only").await;

    // `?dryRun=All` with a body that lacks dryRun: the body wins, the object is deleted.
    let deleted = client
        .delete(
            &format!("{CONFIGMAPS}/query-ignored?dryRun=All"),
            Some(&json!({"gracePeriodSeconds": 0})),
        )
        .await
        .expect("delete");
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert!(
        server
            .object("", "configmaps", "rounds", "query-ignored")
            .is_none()
    );

    // dryRun in the body: nothing is deleted.
    let kept = client
        .delete(
            &format!("{CONFIGMAPS}/body-dry-run"),
            Some(&json!({"dryRun": ["All"]})),
        )
        .await
        .expect("delete");
    assert_eq!(kept.status, 200, "{}", kept.text());
    assert!(
        server
            .object("", "configmaps", "rounds", "body-dry-run")
            .is_some()
    );

    // Without a body the query is read.
    let kept = client
        .delete(&format!("{CONFIGMAPS}/query-only?dryRun=All"), None)
        .await
        .expect("delete");
    assert_eq!(kept.status, 200);
    assert!(
        server
            .object("", "configmaps", "rounds", "query-only")
            .is_some()
    );
}

#[tokio::test]
async fn options_are_validated_with_the_real_messages() {
    let server = start().await;
    let client = admin(&server);
    let cm = json!({"metadata": {"name": "x"}});
    let create = client
        .post(&format!("{CONFIGMAPS}?dryRun=Foo"), &cm)
        .await
        .expect("create");
    assert_status(&create, 422, "Invalid");
    assert_eq!(
        create.json()["message"],
        r#"CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Foo"}: supported values: "All""#
    );
    assert_eq!(
        create.json()["details"],
        json!({"group": "meta.k8s.io", "kind": "CreateOptions", "causes": [{
            "reason": "FieldValueNotSupported",
            "message": r#"Unsupported value: []string{"Foo"}: supported values: "All""#,
            "field": "dryRun"}]})
    );
    let patch = client
        .patch(
            &format!("{WEB}?dryRun=All&dryRun=all"),
            "application/merge-patch+json",
            &json!({}),
        )
        .await
        .expect("patch");
    assert_eq!(
        patch.json()["message"],
        r#"PatchOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"All", "all"}: supported values: "All""#
    );
    let put = client
        .put(&format!("{WEB}?fieldValidation=Loud"), &json!({}))
        .await
        .expect("put");
    assert_eq!(
        put.json()["message"],
        r#"UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn""#
    );

    configmap(&client, "victim").await;
    let policy = client
        .delete(
            &format!("{CONFIGMAPS}/victim"),
            Some(&json!({"propagationPolicy": "Sideways"})),
        )
        .await
        .expect("delete");
    assert_status(&policy, 422, "Invalid");
    assert_eq!(
        policy.json()["message"],
        r#"DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil""#
    );
    let dry_run = client
        .delete(
            &format!("{CONFIGMAPS}/victim"),
            Some(&json!({"dryRun": ["Everything"]})),
        )
        .await
        .expect("delete");
    assert_eq!(
        dry_run.json()["message"],
        r#"DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Everything"}: supported values: "All""#
    );
    let grace = client
        .delete(
            &format!("{CONFIGMAPS}/victim?gracePeriodSeconds=soon"),
            None,
        )
        .await
        .expect("delete");
    assert_status(&grace, 400, "BadRequest");
    assert_eq!(
        grace.json()["message"],
        r#"strconv.ParseInt: parsing "soon": invalid syntax"#
    );
    assert!(
        server
            .object("", "configmaps", "rounds", "victim")
            .is_some()
    );
}

#[tokio::test]
async fn dry_run_answers_what_would_be_stored_and_stores_nothing() {
    let server = start().await;
    let client = admin(&server);
    let before = server.with_store(|store| store.resource_version());

    let dry = client
        .post(
            &format!("{CONFIGMAPS}?dryRun=All"),
            &json!({"metadata": {"generateName": "ledger-"}, "data": {"k": "v"}}),
        )
        .await
        .expect("dry create");
    assert_eq!(dry.status, 201, "{}", dry.text());
    let dry = dry.json();
    assert!(dry["metadata"].get("resourceVersion").is_none(), "{dry}");
    let dry_name = dry["metadata"]["name"].as_str().expect("generated name");
    assert!(
        dry_name.starts_with("ledger-") && dry_name.len() == 12,
        "{dry_name}"
    );
    assert!(dry["metadata"]["uid"].is_string());
    assert_eq!(server.with_store(|store| store.resource_version()), before);
    assert!(server.objects("", "configmaps").is_empty());
    // The dry run used up no uid: the real create gets its own.
    let real = configmap(&client, "ledger").await;
    assert_ne!(real["metadata"]["uid"], dry["metadata"]["uid"]);

    let stored = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    let patch = json!({"spec": {"replicas": 7}});
    let dry_patch = client
        .patch(
            &format!("{WEB}?dryRun=All"),
            "application/merge-patch+json",
            &patch,
        )
        .await
        .expect("dry patch")
        .json();
    assert_eq!(dry_patch["spec"]["replicas"], 7);
    assert_eq!(dry_patch["metadata"]["generation"], 2);
    assert_eq!(rv(&dry_patch), rv(&stored), "the stored resourceVersion");
    let mut put = stored.clone();
    put["spec"]["replicas"] = json!(9);
    let dry_put = client
        .put(&format!("{WEB}?dryRun=All"), &put)
        .await
        .expect("dry put")
        .json();
    assert_eq!(
        (dry_put["spec"]["replicas"].as_i64(), rv(&dry_put)),
        (Some(9), rv(&stored))
    );
    assert_eq!(
        server
            .object("apps", "deployments", "shop", "web")
            .expect("web"),
        stored
    );

    // A dry-run delete of a pod on a node answers it Terminating, and leaves it running.
    let pod = "/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa";
    let dry_delete = client
        .delete(pod, Some(&json!({"dryRun": ["All"]})))
        .await
        .expect("dry delete")
        .json();
    assert_eq!(dry_delete["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(dry_delete["metadata"]["deletionTimestamp"].is_string());
    let live = server
        .object("", "pods", "shop", "web-7d4b9c-aaaaa")
        .expect("pod");
    assert!(live["metadata"].get("deletionTimestamp").is_none());
}

#[tokio::test]
async fn writes_that_change_nothing_store_nothing() {
    let server = start().await;
    let client = admin(&server);
    let stored = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    let before = server.with_store(|store| store.resource_version());
    let same = client
        .patch(
            WEB,
            "application/merge-patch+json",
            &json!({"spec": {"replicas": 3}}),
        )
        .await
        .expect("patch")
        .json();
    assert_eq!(same, stored);
    let put = client.put(WEB, &stored).await.expect("put").json();
    assert_eq!(rv(&put), rv(&stored));
    assert_eq!(server.with_store(|store| store.resource_version()), before);
    let changed = client
        .patch(
            WEB,
            "application/merge-patch+json",
            &json!({"spec": {"replicas": 4}}),
        )
        .await
        .expect("patch")
        .json();
    assert_ne!(rv(&changed), rv(&stored));
}

#[tokio::test]
async fn leases_must_name_the_version_they_replace_and_may_be_created_by_put() {
    let server = start().await;
    let client = admin(&server);
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "rounds-lock"},
        "spec": {"holderIdentity": "round-1", "leaseDurationSeconds": 60}});
    // PUT of a missing Lease creates it.
    let created = client
        .put(&format!("{LEASES}/rounds-lock"), &lease)
        .await
        .expect("put");
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    assert!(created["metadata"].get("generation").is_none(), "{created}");
    // An update without resourceVersion is refused.
    let mut update = lease.clone();
    update["spec"]["holderIdentity"] = json!("round-2");
    let refused = client
        .put(&format!("{LEASES}/rounds-lock"), &update)
        .await
        .expect("put");
    assert_status(&refused, 422, "Invalid");
    assert_eq!(
        refused.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "leases.coordination.k8s.io \"rounds-lock\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
            "reason": "Invalid",
            "details": {"name": "rounds-lock", "group": "coordination.k8s.io", "kind": "leases",
                "causes": [{"reason": "FieldValueInvalid",
                    "message": "Invalid value: 0x0: must be specified for an update",
                    "field": "metadata.resourceVersion"}]},
            "code": 422})
    );
    update["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let updated = client
        .put(&format!("{LEASES}/rounds-lock"), &update)
        .await
        .expect("put");
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["spec"]["holderIdentity"], "round-2");

    // ConfigMaps take unconditional updates, and have no generation either.
    let cm = configmap(&client, "ledger").await;
    assert!(cm["metadata"].get("generation").is_none(), "{cm}");
    let unconditional = client
        .put(
            &format!("{CONFIGMAPS}/ledger"),
            &json!({"metadata": {"name": "ledger"}, "data": {"k": "w"}}),
        )
        .await
        .expect("put");
    assert_eq!(unconditional.status, 200, "{}", unconditional.text());
    assert!(unconditional.json()["metadata"].get("generation").is_none());
}

#[tokio::test]
async fn deployment_generation_follows_spec_and_annotations() {
    let server = start().await;
    let client = admin(&server);
    let generation = || async {
        server
            .object("apps", "deployments", "shop", "web")
            .expect("web")["metadata"]["generation"]
            .as_i64()
    };
    let merge = |patch: Value| {
        let client = client.clone();
        async move {
            let response = client
                .patch(WEB, "application/merge-patch+json", &patch)
                .await
                .expect("patch");
            assert_eq!(response.status, 200, "{}", response.text());
        }
    };
    assert_eq!(generation().await, Some(1));
    // What `kubectl rollout restart` patches: a template annotation.
    merge(json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2025-01-10T10:00:00Z"}}}}}))
    .await;
    assert_eq!(generation().await, Some(2));
    // Annotations of the Deployment itself are copied to ReplicaSets: they move it too.
    merge(json!({"metadata": {"annotations": {"rounds.dev/last-action": "raise-memory"}}})).await;
    assert_eq!(generation().await, Some(3));
    // Labels and status do not.
    merge(json!({"metadata": {"labels": {"tier": "front"}}})).await;
    assert_eq!(generation().await, Some(3));
    let status = client
        .patch(
            &format!("{WEB}/status"),
            "application/merge-patch+json",
            &json!({"status": {"readyReplicas": 2}}),
        )
        .await
        .expect("status");
    assert_eq!(status.status, 200);
    assert_eq!(generation().await, Some(3));
    // Nor may a client set it.
    merge(json!({"metadata": {"generation": 42}, "spec": {"replicas": 5}})).await;
    assert_eq!(generation().await, Some(4));
}

#[tokio::test]
async fn pods_on_a_node_terminate_gracefully() {
    let server = start().await;
    let client = admin(&server);
    let path = |name: &str| format!("/api/v1/namespaces/shop/pods/{name}");

    let deleted = client
        .delete(&path("web-7d4b9c-aaaaa"), None)
        .await
        .expect("delete");
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let body = deleted.json();
    assert_eq!(body["kind"], "Pod");
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 30);
    let stored = server
        .object("", "pods", "shop", "web-7d4b9c-aaaaa")
        .expect("Terminating, still stored");
    assert_eq!(
        stored["metadata"]["deletionTimestamp"],
        body["metadata"]["deletionTimestamp"]
    );
    // Deleting again with a longer grace period changes nothing; a shorter one shortens it.
    let again = client
        .delete(
            &path("web-7d4b9c-aaaaa"),
            Some(&json!({"gracePeriodSeconds": 60})),
        )
        .await
        .expect("delete")
        .json();
    assert_eq!(again["metadata"]["deletionGracePeriodSeconds"], 30);
    let shorter = client
        .delete(&path("web-7d4b9c-aaaaa?gracePeriodSeconds=10"), None)
        .await
        .expect("delete")
        .json();
    assert_eq!(shorter["metadata"]["deletionGracePeriodSeconds"], 10);
    // The test hook ends it as the kubelet would.
    assert!(server.finish_pod_deletion("shop", "web-7d4b9c-aaaaa"));
    assert_status(
        &client.get(&path("web-7d4b9c-aaaaa")).await.expect("get"),
        404,
        "NotFound",
    );

    // gracePeriodSeconds=0 deletes at once (the answer shows the deletion it went through).
    let now = client
        .delete(
            &path("web-7d4b9c-bbbbb"),
            Some(&json!({"gracePeriodSeconds": 0})),
        )
        .await
        .expect("delete")
        .json();
    assert_eq!(now["metadata"]["deletionGracePeriodSeconds"], 0);
    assert!(
        server
            .object("", "pods", "shop", "web-7d4b9c-bbbbb")
            .is_none()
    );

    // A pod not bound to a node is deleted at once.
    let pending = json!({"metadata": {"name": "pending"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]}});
    let created = client
        .post("/api/v1/namespaces/shop/pods", &pending)
        .await
        .expect("create");
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["status"]["phase"], "Pending");
    client.delete(&path("pending"), None).await.expect("delete");
    assert!(server.object("", "pods", "shop", "pending").is_none());

    // The grace period ends by itself.
    client
        .delete(
            &path("web-7d4b9c-ccccc"),
            Some(&json!({"gracePeriodSeconds": 1})),
        )
        .await
        .expect("delete");
    let started = Instant::now();
    while server
        .object("", "pods", "shop", "web-7d4b9c-ccccc")
        .is_some()
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pod was not removed after its grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(500));
}

#[tokio::test]
async fn other_kinds_answer_a_success_status_and_check_preconditions() {
    let server = start().await;
    let client = admin(&server);
    let cm = configmap(&client, "ledger").await;
    let wrong = client
        .delete(
            &format!("{CONFIGMAPS}/ledger"),
            Some(&json!({"preconditions": {"uid": "not-the-uid"}})),
        )
        .await
        .expect("delete");
    assert_status(&wrong, 409, "Conflict");
    assert_eq!(
        wrong.json()["message"],
        format!(
            "Operation cannot be fulfilled on ConfigMap \"ledger\": the UID in the precondition (not-the-uid) does not match the UID in record ({}). The object might have been deleted and then recreated",
            cm["metadata"]["uid"].as_str().expect("uid")
        )
    );
    let stale = client
        .delete(
            &format!("{CONFIGMAPS}/ledger"),
            Some(&json!({"preconditions": {"resourceVersion": "1"}})),
        )
        .await
        .expect("delete");
    assert_eq!(
        stale.json()["message"],
        format!(
            "Operation cannot be fulfilled on ConfigMap \"ledger\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ({}). The object might have been modified",
            rv(&cm)
        )
    );
    let deleted = client
        .delete(&format!("{CONFIGMAPS}/ledger"), None)
        .await
        .expect("delete");
    assert_eq!(
        deleted.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": "ledger", "kind": "configmaps", "uid": cm["metadata"]["uid"]}})
    );

    let lease = client
        .post(
            LEASES,
            &json!({"metadata": {"name": "lock"}, "spec": {"holderIdentity": "a"}}),
        )
        .await
        .expect("lease")
        .json();
    let deleted = client
        .delete(&format!("{LEASES}/lock"), None)
        .await
        .expect("delete")
        .json();
    assert_eq!(
        deleted["details"],
        json!({"name": "lock", "group": "coordination.k8s.io", "kind": "leases",
            "uid": lease["metadata"]["uid"]})
    );
    let event = client
        .post(
            "/api/v1/namespaces/shop/events",
            &json!({"metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod",
                "namespace": "shop", "name": "web-7d4b9c-aaaaa"}, "reason": "Test"}),
        )
        .await
        .expect("event");
    assert_eq!(event.status, 201, "{}", event.text());
    let deleted = client
        .delete("/apis/events.k8s.io/v1/namespaces/shop/events/e1", None)
        .await
        .expect("delete")
        .json();
    assert_eq!(deleted["status"], "Success");
    assert_eq!(
        deleted["details"],
        json!({"name": "e1", "group": "events.k8s.io", "kind": "events",
            "uid": event.json()["metadata"]["uid"]})
    );
}

#[tokio::test]
async fn request_bodies_over_three_mebibytes_are_refused() {
    let server = start().await;
    let client = admin(&server);
    let big = json!({"metadata": {"name": "big"}, "data": {"k": "x".repeat(3 * 1024 * 1024)}});
    let refused = client.post(CONFIGMAPS, &big).await.expect("post");
    assert_status(&refused, 413, "RequestEntityTooLarge");
    assert_eq!(
        refused.json()["message"],
        "Request entity too large: limit is 3145728"
    );
}

#[tokio::test]
async fn namespaces_must_exist_and_not_be_terminating() {
    let server = start().await;
    let client = admin(&server);
    let cm = json!({"metadata": {"name": "x"}});
    let missing = client
        .post("/api/v1/namespaces/nowhere/configmaps", &cm)
        .await
        .expect("post");
    assert_eq!(
        missing.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "namespaces \"nowhere\" not found", "reason": "NotFound",
            "details": {"name": "nowhere", "kind": "namespaces"}, "code": 404})
    );
    // Even a dry run: admission answers it.
    let dry = client
        .post("/api/v1/namespaces/nowhere/configmaps?dryRun=All", &cm)
        .await
        .expect("post");
    assert_eq!(dry.status, 404);

    client
        .post(
            "/api/v1/namespaces",
            &json!({"metadata": {"name": "doomed"}}),
        )
        .await
        .expect("namespace");
    let deleted = client
        .delete("/api/v1/namespaces/doomed", None)
        .await
        .expect("delete")
        .json();
    assert_eq!(deleted["status"]["phase"], "Terminating");
    let refused = client
        .post("/api/v1/namespaces/doomed/configmaps", &cm)
        .await
        .expect("post");
    assert_status(&refused, 403, "Forbidden");
    assert_eq!(
        refused.json()["message"],
        "configmaps \"x\" is forbidden: unable to create new content in namespace doomed because it is being terminated"
    );
    assert_eq!(server.finish_deletions(), 1);
    assert!(server.object("", "namespaces", "", "doomed").is_none());

    let immortal = client
        .delete("/api/v1/namespaces/default", None)
        .await
        .expect("delete");
    assert_status(&immortal, 403, "Forbidden");
    assert_eq!(
        immortal.json()["message"],
        "namespaces \"default\" is forbidden: this namespace may not be deleted"
    );
}

#[tokio::test]
async fn strategic_merge_patches_need_merge_keys() {
    let server = start().await;
    let client = admin(&server);
    let refused = client
        .patch(
            WEB,
            "application/strategic-merge-patch+json",
            &json!({"spec": {"template": {"spec": {"containers": [{"image": "web:2"}]}}}}),
        )
        .await
        .expect("patch");
    // Not a Status error in kube-apiserver: 500 without a reason.
    assert_eq!(
        refused.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "map: map[image:web:2] does not contain declared merge key: name",
            "code": 500})
    );
    let failed_test = client
        .patch(
            WEB,
            "application/json-patch+json",
            &json!([{"op": "test", "path": "/spec/replicas", "value": 9}]),
        )
        .await
        .expect("patch");
    assert_status(&failed_test, 422, "Invalid");
    assert_eq!(
        failed_test.json()["message"],
        "the server rejected our request due to an error in our request"
    );
    assert_eq!(
        failed_test.json()["details"]["causes"],
        json!([{"reason": "UnexpectedServerResponse",
            "message": "testing value /spec/replicas failed: test failed"}])
    );
}

#[tokio::test]
async fn creates_and_updates_follow_the_registry_rules() {
    let server = start().await;
    let client = admin(&server);
    let with_rv = client
        .post(
            CONFIGMAPS,
            &json!({"metadata": {"name": "copied", "resourceVersion": "12"}}),
        )
        .await
        .expect("post");
    assert_eq!(
        with_rv.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "resourceVersion should not be set on objects to be created", "code": 500})
    );
    // PUT creates only kinds that allow it.
    let missing = client
        .put(
            &format!("{CONFIGMAPS}/missing"),
            &json!({"metadata": {"name": "missing"}}),
        )
        .await
        .expect("put");
    assert_status(&missing, 404, "NotFound");
    assert_eq!(
        missing.json()["message"],
        "configmaps \"missing\" not found"
    );
    let event = client
        .put(
            "/api/v1/namespaces/shop/events/created-by-put",
            &json!({"metadata": {"name": "created-by-put"}, "reason": "Test",
                "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-aaaaa"}}),
        )
        .await
        .expect("put");
    assert_eq!(event.status, 201, "{}", event.text());
    let renamed = client
        .put(WEB, &json!({"metadata": {"name": "api"}}))
        .await
        .expect("put");
    assert_eq!(
        renamed.json()["message"],
        "the name of the object (api) does not match the name on the URL (web)"
    );
    // The scale subresource validates the Scale.
    let negative = client
        .patch(
            &format!("{WEB}/scale"),
            "application/merge-patch+json",
            &json!({"spec": {"replicas": -1}}),
        )
        .await
        .expect("scale");
    assert_status(&negative, 422, "Invalid");
    assert_eq!(
        negative.json()["message"],
        "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    );
    // A status write changes the status only.
    let status = client
        .patch(
            "/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa/status",
            "application/merge-patch+json",
            &json!({"status": {"phase": "Failed"}, "spec": {"nodeName": "node-2"}}),
        )
        .await
        .expect("status")
        .json();
    assert_eq!(
        (
            status["status"]["phase"].as_str(),
            status["spec"]["nodeName"].as_str()
        ),
        (Some("Failed"), Some("node-1"))
    );
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_until_they_are_removed() {
    let server = start().await;
    let client = admin(&server);
    let created = client
        .post(
            CONFIGMAPS,
            &json!({"metadata": {"name": "held", "finalizers": ["rounds.dev/audit"]}}),
        )
        .await
        .expect("create");
    assert_eq!(created.status, 201, "{}", created.text());
    let deleted = client
        .delete(&format!("{CONFIGMAPS}/held"), None)
        .await
        .expect("delete")
        .json();
    assert_eq!(deleted["status"], "Success");
    let held = server
        .object("", "configmaps", "rounds", "held")
        .expect("held by its finalizer");
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(held["metadata"]["deletionGracePeriodSeconds"], 0);
    let released = client
        .patch(
            &format!("{CONFIGMAPS}/held"),
            "application/strategic-merge-patch+json",
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["rounds.dev/audit"]}}),
        )
        .await
        .expect("patch");
    assert_eq!(released.status, 200, "{}", released.text());
    assert!(server.object("", "configmaps", "rounds", "held").is_none());
}
