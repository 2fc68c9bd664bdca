//! The REST protocol over HTTPS: discovery, lists, writes, patches, subresources, RBAC, faults.

mod common;

use common::*;
use rounds_test_apiserver::client::Client;
use rounds_test_apiserver::{FaultAction, FaultRule};
use serde_json::json;

#[tokio::test]
async fn missing_or_unknown_token_is_401_with_a_status_body() {
    let server = start().await;
    let anonymous = Client::new(&server, None).expect("client");
    let response = anonymous.get("/api/v1/pods").await.expect("request");
    assert_status(&response, 401, "Unauthorized");
    assert_eq!(response.json()["message"], "Unauthorized");
    let wrong = Client::new(&server, Some("wrong")).expect("client");
    assert_status(
        &wrong.get("/api").await.expect("request"),
        401,
        "Unauthorized",
    );
    // /version is public, as on a real cluster.
    assert_eq!(
        anonymous.get("/version").await.expect("request").status,
        200
    );
    let record = server
        .requests()
        .records()
        .into_iter()
        .next()
        .expect("recorded");
    assert_eq!(
        (record.path.as_str(), record.status, record.user),
        ("/api/v1/pods", 401, None)
    );
}

#[tokio::test]
async fn discovery_lists_groups_resources_and_subresources() {
    let server = start().await;
    let client = admin(&server);
    let version = client.get("/version").await.expect("version").json();
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("32"))
    );
    let api = client.get("/api").await.expect("api").json();
    assert_eq!(api["versions"], json!(["v1"]));
    let groups = client.get("/apis").await.expect("apis").json();
    let group_names: Vec<&str> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    for group in [
        "apps",
        "batch",
        "policy",
        "storage.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "authorization.k8s.io",
        "rbac.authorization.k8s.io",
    ] {
        assert!(
            group_names.contains(&group),
            "{group} missing from {group_names:?}"
        );
    }
    let core = client.get("/api/v1").await.expect("core").json();
    let resource = |name: &str| {
        core["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in /api/v1"))
    };
    assert_eq!(resource("pods")["shortNames"], json!(["po"]));
    assert_eq!(resource("pods")["namespaced"], true);
    assert_eq!(resource("nodes")["namespaced"], false);
    assert_eq!(resource("pods/eviction")["group"], "policy");
    assert_eq!(resource("pods/log")["verbs"], json!(["get"]));
    resource("nodes/proxy");
    let apps = client.get("/apis/apps/v1").await.expect("apps").json();
    let scale = apps["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .expect("deployments/scale")
        .clone();
    assert_eq!(
        (scale["group"].as_str(), scale["kind"].as_str()),
        (Some("autoscaling"), Some("Scale"))
    );
    assert_eq!(client.get("/apis/nope/v1").await.expect("404").status, 404);
}

#[tokio::test]
async fn lists_all_namespaces_one_namespace_and_cluster_scope() {
    let server = start().await;
    let client = admin(&server);
    let all = client.get("/api/v1/pods").await.expect("list").json();
    assert_eq!(all["kind"], "PodList");
    assert_eq!(all["apiVersion"], "v1");
    assert!(all["metadata"]["resourceVersion"].is_string());
    assert_eq!(
        names(&all),
        [
            "default/batch-runner",
            "shop/api-5f6a7b-ddddd",
            "shop/api-5f6a7b-eeeee",
            "shop/web-7d4b9c-aaaaa",
            "shop/web-7d4b9c-bbbbb",
            "shop/web-7d4b9c-ccccc"
        ]
    );
    let shop = client
        .get("/apis/apps/v1/namespaces/shop/deployments")
        .await
        .expect("list")
        .json();
    assert_eq!(shop["kind"], "DeploymentList");
    assert_eq!(names(&shop), ["shop/api", "shop/web"]);
    let nodes = client.get("/api/v1/nodes").await.expect("nodes").json();
    assert_eq!(names(&nodes), ["node-1", "node-2"]);
    let empty = client
        .get("/api/v1/namespaces/nowhere/pods")
        .await
        .expect("list")
        .json();
    assert_eq!(names(&empty), Vec::<String>::new());
}

#[tokio::test]
async fn label_and_field_selectors() {
    let server = start().await;
    let client = admin(&server);
    let cases = [
        (
            "labelSelector=app%3Dweb",
            vec![
                "shop/web-7d4b9c-aaaaa",
                "shop/web-7d4b9c-bbbbb",
                "shop/web-7d4b9c-ccccc",
            ],
        ),
        (
            "labelSelector=app%20in%20(api,batch)",
            vec![
                "default/batch-runner",
                "shop/api-5f6a7b-ddddd",
                "shop/api-5f6a7b-eeeee",
            ],
        ),
        (
            "labelSelector=app!%3Dweb,!pod-template-hash",
            vec!["default/batch-runner"],
        ),
        (
            "fieldSelector=spec.nodeName%3Dnode-2,status.phase!%3DFailed",
            vec!["shop/api-5f6a7b-eeeee", "shop/web-7d4b9c-ccccc"],
        ),
        (
            "fieldSelector=metadata.name%3D%3Dweb-7d4b9c-bbbbb",
            vec!["shop/web-7d4b9c-bbbbb"],
        ),
        (
            "fieldSelector=metadata.namespace%3Ddefault",
            vec!["default/batch-runner"],
        ),
        (
            "fieldSelector=status.phase%3DFailed&labelSelector=app",
            vec!["default/batch-runner"],
        ),
    ];
    for (query, expected) in cases {
        let list = client
            .get(&format!("/api/v1/pods?{query}"))
            .await
            .expect("list")
            .json();
        assert_eq!(names(&list), expected, "{query}");
    }
    let bad = client
        .get("/api/v1/pods?fieldSelector=spec.image%3Dx")
        .await
        .expect("list");
    assert_status(&bad, 400, "BadRequest");
    assert_eq!(
        bad.json()["message"],
        "field label not supported: spec.image"
    );
}

#[tokio::test]
async fn pagination_returns_every_object_once_across_pages() {
    let server = start().await;
    let client = admin(&server);
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "paged"}});
    let created = client
        .post("/api/v1/namespaces", &namespace)
        .await
        .expect("namespace");
    assert_eq!(created.status, 201, "{}", created.text());
    for i in 0..5 {
        let cm = json!({"metadata": {"name": format!("cm-{i}")}, "data": {"i": i.to_string()}});
        let created = client
            .post("/api/v1/namespaces/paged/configmaps", &cm)
            .await
            .expect("create");
        assert_eq!(created.status, 201, "{}", created.text());
    }
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut path = "/api/v1/namespaces/paged/configmaps?limit=2".to_string();
    loop {
        let page = client.get(&path).await.expect("page").json();
        seen.extend(names(&page));
        pages.push(page["metadata"]["remainingItemCount"].as_u64());
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                path = format!("/api/v1/namespaces/paged/configmaps?limit=2&continue={token}");
            }
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "paged/cm-0",
            "paged/cm-1",
            "paged/cm-2",
            "paged/cm-3",
            "paged/cm-4"
        ]
    );
    assert_eq!(pages, [Some(3), Some(1), None]);
}

#[tokio::test]
async fn expired_continue_token_is_410_gone() {
    let server = start().await;
    let client = admin(&server);
    let first = client
        .get("/api/v1/pods?limit=2")
        .await
        .expect("page")
        .json();
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    server.expire_continue_tokens();
    let gone = client
        .get(&format!("/api/v1/pods?limit=2&continue={token}"))
        .await
        .expect("page");
    assert_status(&gone, 410, "Expired");
    assert!(
        gone.json()["message"]
            .as_str()
            .expect("message")
            .starts_with("The provided continue parameter is too old")
    );
    let garbage = client
        .get("/api/v1/pods?limit=2&continue=garbage")
        .await
        .expect("page");
    assert_status(&garbage, 410, "Expired");
    // A fresh list works again.
    let again = client
        .get("/api/v1/pods?limit=2")
        .await
        .expect("page")
        .json();
    let token = again["metadata"]["continue"].as_str().expect("continue");
    let next = client
        .get(&format!("/api/v1/pods?limit=2&continue={token}"))
        .await
        .expect("page");
    assert_eq!(next.status, 200);
}

#[tokio::test]
async fn get_create_update_delete_with_conflicts_and_dry_run() {
    let server = start().await;
    let client = admin(&server);
    let path = "/apis/coordination.k8s.io/v1/namespaces/rounds/leases";
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "rounds-lock"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 60}});
    let dry = client
        .post(&format!("{path}?dryRun=All"), &lease)
        .await
        .expect("dry");
    assert_eq!(dry.status, 201);
    assert!(
        server
            .object("coordination.k8s.io", "leases", "rounds", "rounds-lock")
            .is_none()
    );
    let created = client.post(path, &lease).await.expect("create");
    assert_eq!(created.status, 201);
    let created = created.json();
    assert!(created["metadata"]["uid"].is_string());
    assert_eq!(created["metadata"]["namespace"], "rounds");
    assert_status(
        &client.post(path, &lease).await.expect("again"),
        409,
        "AlreadyExists",
    );

    let mut update = created.clone();
    update["spec"]["holderIdentity"] = json!("b");
    let updated = client
        .put(&format!("{path}/rounds-lock"), &update)
        .await
        .expect("update");
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_ne!(
        updated.json()["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    // The same stale resourceVersion again: 409 Conflict with the real wording.
    let stale = client
        .put(&format!("{path}/rounds-lock"), &update)
        .await
        .expect("stale");
    assert_status(&stale, 409, "Conflict");
    assert_eq!(
        stale.json()["message"],
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"rounds-lock\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let got = client
        .get(&format!("{path}/rounds-lock"))
        .await
        .expect("get")
        .json();
    assert_eq!(got["spec"]["holderIdentity"], "b");

    let wrong_uid = json!({"preconditions": {"uid": "not-the-uid"}});
    let refused = client
        .delete(&format!("{path}/rounds-lock"), Some(&wrong_uid))
        .await
        .expect("delete");
    assert_status(&refused, 409, "Conflict");
    let dry_delete = json!({"dryRun": ["All"], "gracePeriodSeconds": 0});
    let kept = client
        .delete(&format!("{path}/rounds-lock"), Some(&dry_delete))
        .await
        .expect("delete");
    assert_eq!(kept.status, 200);
    assert!(
        server
            .object("coordination.k8s.io", "leases", "rounds", "rounds-lock")
            .is_some()
    );
    let right_uid = json!({"preconditions": {"uid": created["metadata"]["uid"]}});
    let deleted = client
        .delete(&format!("{path}/rounds-lock"), Some(&right_uid))
        .await
        .expect("delete");
    assert_eq!(deleted.status, 200);
    let missing = client
        .get(&format!("{path}/rounds-lock"))
        .await
        .expect("get");
    assert_status(&missing, 404, "NotFound");
    assert_eq!(
        missing.json()["message"],
        "leases.coordination.k8s.io \"rounds-lock\" not found"
    );
}

#[tokio::test]
async fn patch_types_and_dry_run() {
    let server = start().await;
    let client = admin(&server);
    let path = "/apis/apps/v1/namespaces/shop/deployments/web";
    let strategic = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "resources": {"limits": {"memory": "384Mi"}}}]}}}});
    let dry = client
        .patch(
            &format!("{path}?dryRun=All"),
            "application/strategic-merge-patch+json",
            &strategic,
        )
        .await
        .expect("dry");
    assert_eq!(
        dry.json()["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "384Mi"
    );
    let stored = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "256Mi"
    );

    let patched = client
        .patch(path, "application/strategic-merge-patch+json", &strategic)
        .await
        .expect("patch")
        .json();
    let container = &patched["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["memory"], "384Mi");
    assert_eq!(
        container["image"], "registry.example/web:1.4.2",
        "merged by name, not replaced"
    );
    assert_eq!(container["env"][0]["name"], "LOG_LEVEL");
    assert_eq!(patched["metadata"]["generation"], 2);

    let merge = json!({"metadata": {"annotations": {"rounds.dev/restartedAt": "now"}}, "spec": {"replicas": 4}});
    let merged = client
        .patch(path, "application/merge-patch+json", &merge)
        .await
        .expect("merge")
        .json();
    assert_eq!(merged["spec"]["replicas"], 4);
    assert_eq!(
        merged["metadata"]["annotations"]["rounds.dev/restartedAt"],
        "now"
    );

    let json_patch = json!([{"op": "test", "path": "/spec/replicas", "value": 4},
                            {"op": "replace", "path": "/spec/replicas", "value": 2}]);
    let replaced = client
        .patch(path, "application/json-patch+json", &json_patch)
        .await
        .expect("json")
        .json();
    assert_eq!(replaced["spec"]["replicas"], 2);
    let failing = json!([{"op": "test", "path": "/spec/replicas", "value": 99}]);
    let refused = client
        .patch(path, "application/json-patch+json", &failing)
        .await
        .expect("json");
    assert_eq!(refused.status, 422);

    let stale = json!({"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 9}});
    let conflict = client
        .patch(path, "application/merge-patch+json", &stale)
        .await
        .expect("stale");
    assert_status(&conflict, 409, "Conflict");
    let apply = client
        .patch(path, "application/apply-patch+yaml", &json!({}))
        .await
        .expect("apply");
    assert_status(&apply, 415, "UnsupportedMediaType");
}

#[tokio::test]
async fn status_and_scale_subresources() {
    let server = start().await;
    let client = admin(&server);
    let path = "/apis/apps/v1/namespaces/shop/deployments/web";
    // PUT on the main resource keeps the stored status.
    let mut web = client.get(path).await.expect("get").json();
    web["status"]["readyReplicas"] = json!(0);
    let put = client.put(path, &web).await.expect("put").json();
    assert_eq!(put["status"]["readyReplicas"], 3);
    // The status subresource changes only the status.
    let status_patch = json!({"status": {"readyReplicas": 1}, "spec": {"replicas": 7}});
    let patched = client
        .patch(
            &format!("{path}/status"),
            "application/merge-patch+json",
            &status_patch,
        )
        .await
        .expect("status")
        .json();
    assert_eq!(
        (
            patched["status"]["readyReplicas"].as_i64(),
            patched["spec"]["replicas"].as_i64()
        ),
        (Some(1), Some(3))
    );

    let scale = client
        .get(&format!("{path}/scale"))
        .await
        .expect("scale")
        .json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["selector"], "app=web");
    let scaled = client
        .patch(
            &format!("{path}/scale"),
            "application/merge-patch+json",
            &json!({"spec": {"replicas": 5}}),
        )
        .await
        .expect("scale")
        .json();
    assert_eq!(scaled["spec"]["replicas"], 5);
    assert_eq!(
        server
            .object("apps", "deployments", "shop", "web")
            .expect("web")["spec"]["replicas"],
        5
    );
    let mut put_scale = scaled.clone();
    put_scale["spec"]["replicas"] = json!(0);
    let zero = client
        .put(&format!("{path}/scale"), &put_scale)
        .await
        .expect("put scale");
    assert_eq!(zero.status, 200, "{}", zero.text());
    let stale = client
        .put(&format!("{path}/scale"), &put_scale)
        .await
        .expect("stale scale");
    assert_status(&stale, 409, "Conflict");
}

#[tokio::test]
async fn eviction_respects_pod_disruption_budgets() {
    let server = start().await;
    let client = admin(&server);
    let evict = |pod: &str| {
        let body = json!({"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": pod, "namespace": "shop"}});
        let path = format!("/api/v1/namespaces/shop/pods/{pod}/eviction");
        let client = client.clone();
        async move { client.post(&path, &body).await.expect("evict") }
    };
    // api has maxUnavailable: 0.
    let blocked = evict("api-5f6a7b-ddddd").await;
    assert_status(&blocked, 429, "TooManyRequests");
    let body = blocked.json();
    assert_eq!(
        body["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(body["details"]["causes"][0]["reason"], "DisruptionBudget");
    assert_eq!(
        body["details"]["causes"][0]["message"],
        "The disruption budget api needs 2 healthy pods and has 2 currently"
    );
    assert!(
        server
            .object("", "pods", "shop", "api-5f6a7b-ddddd")
            .is_some()
    );

    // web has minAvailable: 2 over 3 healthy pods: one eviction, then 429.
    let dry = client
        .post(
            "/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa/eviction?dryRun=All",
            &json!({"metadata": {"name": "web-7d4b9c-aaaaa"}}),
        )
        .await
        .expect("dry");
    assert_eq!(dry.status, 201);
    assert!(
        server
            .object("", "pods", "shop", "web-7d4b9c-aaaaa")
            .is_some()
    );
    let first = evict("web-7d4b9c-aaaaa").await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.json()["status"], "Success");
    // The pod runs on a node: it is Terminating until its grace period ends.
    let terminating = server
        .object("", "pods", "shop", "web-7d4b9c-aaaaa")
        .expect("still there");
    assert!(terminating["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(evict("web-7d4b9c-bbbbb").await.status, 429);
    assert_eq!(server.finish_deletions(), 1);
    assert!(
        server
            .object("", "pods", "shop", "web-7d4b9c-aaaaa")
            .is_none()
    );

    // A pod without PDB (and a failed one) is simply deleted.
    let free = client
        .post(
            "/api/v1/namespaces/default/pods/batch-runner/eviction",
            &json!({"metadata": {"name": "batch-runner"}}),
        )
        .await
        .expect("evict");
    assert_eq!(free.status, 201);
    assert_status(&evict("missing").await, 404, "NotFound");
}

#[tokio::test]
async fn logs_and_node_stats_summary() {
    let server = start().await;
    let client = admin(&server);
    server
        .logs()
        .set("shop", "web-7d4b9c-bbbbb", "app", "one\ntwo\nthree\n");
    server
        .logs()
        .set_previous("shop", "web-7d4b9c-bbbbb", "app", "OOM\nkilled\n");
    let base = "/api/v1/namespaces/shop/pods/web-7d4b9c-bbbbb/log";
    let tail = client
        .get(&format!("{base}?container=app&tailLines=2"))
        .await
        .expect("log");
    assert_eq!((tail.status, tail.text().as_str()), (200, "two\nthree\n"));
    let previous = client
        .get(&format!("{base}?container=app&previous=true"))
        .await
        .expect("log");
    assert_eq!(previous.text(), "OOM\nkilled\n");
    let ambiguous = client.get(base).await.expect("log");
    assert_status(&ambiguous, 400, "BadRequest");
    assert_eq!(
        ambiguous.json()["message"],
        "a container name must be specified for pod web-7d4b9c-bbbbb, choose one of: [app sidecar]"
    );
    let default_line = client
        .get("/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa/log")
        .await
        .expect("log");
    assert_eq!(default_line.text(), "log of shop/web-7d4b9c-aaaaa/app\n");
    let no_previous = client
        .get("/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa/log?previous=true")
        .await
        .expect("log");
    assert_eq!(no_previous.status, 400);

    let summary = client
        .get("/api/v1/nodes/node-1/proxy/stats/summary")
        .await
        .expect("summary")
        .json();
    assert_eq!(summary["node"]["nodeName"], "node-1");
    assert_eq!(
        summary["pods"][0]["volume"][0]["pvcRef"]["name"],
        "data-db-0"
    );
    assert_eq!(
        client
            .get("/api/v1/nodes/node-2/proxy/stats/summary")
            .await
            .expect("none")
            .status,
        503
    );
}

#[tokio::test]
async fn rbac_forbids_with_the_real_status_body() {
    let server = start().await;
    let client = rounds(&server);
    assert_eq!(client.get("/api/v1/pods").await.expect("list").status, 200);
    assert_eq!(
        client
            .get("/apis/apps/v1/namespaces/shop/deployments/web")
            .await
            .expect("get")
            .status,
        200
    );
    let secrets = client.get("/api/v1/secrets").await.expect("list");
    assert_status(&secrets, 403, "Forbidden");
    assert_eq!(
        secrets.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "secrets is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot list resource \"secrets\" in API group \"\" at the cluster scope",
            "reason": "Forbidden", "details": {"kind": "secrets"}, "code": 403})
    );
    let delete = client
        .delete("/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa", None)
        .await
        .expect("delete");
    assert_eq!(
        delete.json()["message"],
        "pods \"web-7d4b9c-aaaaa\" is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot delete resource \"pods\" in API group \"\" in the namespace \"shop\""
    );
    // Eviction is granted in shop only (RoleBinding), not in default.
    let other_ns = client
        .post(
            "/api/v1/namespaces/default/pods/batch-runner/eviction",
            &json!({}),
        )
        .await
        .expect("evict");
    assert_eq!(
        other_ns.json()["message"],
        "pods \"batch-runner\" is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot create resource \"pods/eviction\" in API group \"\" in the namespace \"default\""
    );
    let evicted = client
        .post(
            "/api/v1/namespaces/shop/pods/web-7d4b9c-ccccc/eviction",
            &json!({"metadata": {"name": "web-7d4b9c-ccccc"}}),
        )
        .await
        .expect("evict");
    assert_eq!(evicted.status, 201, "{}", evicted.text());
    // The ledger Role: configmaps in rounds, not elsewhere.
    let cm = json!({"metadata": {"name": "rounds-ledger"}, "data": {}});
    assert_eq!(
        client
            .post("/api/v1/namespaces/rounds/configmaps", &cm)
            .await
            .expect("cm")
            .status,
        201
    );
    assert_eq!(
        client
            .post("/api/v1/namespaces/shop/configmaps", &cm)
            .await
            .expect("cm")
            .status,
        403
    );
    let nobody = Client::new(&server, Some(NOBODY_TOKEN)).expect("client");
    assert_eq!(
        nobody.get("/api/v1/nodes").await.expect("nodes").status,
        403
    );
}

#[tokio::test]
async fn self_subject_access_review_and_impersonation() {
    let server = start().await;
    let review = |verb: &str, resource: &str, subresource: &str, namespace: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "resource": resource,
                "subresource": subresource, "namespace": namespace}}})
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let client = rounds(&server);
    let allowed = client
        .post(path, &review("list", "pods", "", ""))
        .await
        .expect("ssar");
    assert_eq!(allowed.status, 201);
    assert_eq!(allowed.json()["status"]["allowed"], true);
    let eviction = client
        .post(path, &review("create", "pods", "eviction", "shop"))
        .await
        .expect("ssar");
    assert_eq!(eviction.json()["status"]["allowed"], true);
    let denied = client
        .post(path, &review("delete", "nodes", "", ""))
        .await
        .expect("ssar");
    assert_eq!(denied.json()["status"]["allowed"], false);

    // The admin may impersonate; the service account may not.
    let impersonated = admin(&server)
        .request(
            http::Method::GET,
            "/api/v1/secrets",
            None,
            None,
            &[("Impersonate-User", "system:serviceaccount:rounds:rounds")],
        )
        .await
        .expect("impersonated");
    assert_eq!(impersonated.status, 403);
    let refused = client
        .request(
            http::Method::GET,
            "/api/v1/pods",
            None,
            None,
            &[("Impersonate-User", "admin")],
        )
        .await
        .expect("impersonation");
    assert_eq!(
        refused.json()["message"],
        "users \"admin\" is forbidden: User \"system:serviceaccount:rounds:rounds\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
}

#[tokio::test]
async fn events_configmaps_and_generated_names() {
    let server = start().await;
    let client = rounds(&server);
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"generateName": "web-7d4b9c-aaaaa."},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-aaaaa"},
        "reason": "RoundsEvicted", "message": "evicted by rounds", "type": "Normal"});
    let created = client
        .post("/api/v1/namespaces/shop/events", &event)
        .await
        .expect("event");
    assert_eq!(created.status, 201, "{}", created.text());
    assert!(
        created.json()["metadata"]["name"]
            .as_str()
            .expect("name")
            .starts_with("web-7d4b9c-aaaaa.")
    );
    let new_event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "rounds.1"}, "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-aaaaa"},
        "reason": "RoundsEvicted", "action": "Evict", "type": "Normal", "eventTime": "2025-01-10T10:00:00.000000Z",
        "reportingController": "rounds.dev/rounds", "reportingInstance": "rounds-1"});
    let admin = admin(&server);
    let created = admin
        .post("/apis/events.k8s.io/v1/namespaces/shop/events", &new_event)
        .await
        .expect("event");
    assert_eq!(created.status, 201);
    // One store for both Event APIs: each API lists the other's events, in its own shape.
    let listed = admin
        .get("/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dweb-7d4b9c-aaaaa,reason%3DRoundsEvicted")
        .await
        .expect("events")
        .json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    let core_view = &listed["items"][0];
    assert_eq!(core_view["metadata"]["name"], "rounds.1");
    assert_eq!(core_view["involvedObject"]["name"], "web-7d4b9c-aaaaa");
    assert_eq!(core_view["reportingComponent"], "rounds.dev/rounds");
    let new_events = admin
        .get("/apis/events.k8s.io/v1/namespaces/shop/events?fieldSelector=regarding.name%3Dweb-7d4b9c-aaaaa")
        .await
        .expect("events")
        .json();
    assert_eq!(new_events["items"].as_array().map(Vec::len), Some(2));
    let new_view = &new_events["items"][1];
    assert_eq!(new_view["apiVersion"], "events.k8s.io/v1");
    assert_eq!(new_view["note"], "evicted by rounds");
    assert_eq!(new_view["regarding"]["name"], "web-7d4b9c-aaaaa");
    assert!(new_view.get("message").is_none(), "{new_view}");
}

#[tokio::test]
async fn faults_status_retry_after_delay_and_count_limits() {
    let server = start().await;
    let client = admin(&server);
    server
        .faults()
        .add(FaultRule::new("GET", "/api/v1/pods", FaultAction::status(500)).times(1))
        .expect("fault");
    server
        .faults()
        .add(FaultRule::new("PATCH", "/apis/apps/v1", FaultAction::too_many_requests(7)).nth(2))
        .expect("fault");
    let failed = client.get("/api/v1/pods").await.expect("list");
    assert_status(&failed, 500, "InternalError");
    assert_eq!(
        client.get("/api/v1/pods").await.expect("list").status,
        200,
        "only the first request fails"
    );

    let patch = json!({"spec": {"replicas": 3}});
    let path = "/apis/apps/v1/namespaces/shop/deployments/web";
    assert_eq!(
        client
            .patch(path, "application/merge-patch+json", &patch)
            .await
            .expect("1st")
            .status,
        200
    );
    let throttled = client
        .patch(path, "application/merge-patch+json", &patch)
        .await
        .expect("2nd");
    assert_status(&throttled, 429, "TooManyRequests");
    assert_eq!(
        throttled
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    assert_eq!(throttled.json()["details"]["retryAfterSeconds"], 7);
    assert_eq!(
        client
            .patch(path, "application/merge-patch+json", &patch)
            .await
            .expect("3rd")
            .status,
        200
    );
    assert_eq!(server.faults().fired_counts(), [1, 1]);

    server.faults().clear();
    server
        .faults()
        .add(FaultRule::new(
            "GET",
            "/api/v1/nodes",
            FaultAction::delay(150),
        ))
        .expect("fault");
    let started = std::time::Instant::now();
    assert_eq!(
        client.get("/api/v1/nodes").await.expect("nodes").status,
        200
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
}

#[tokio::test]
async fn dropped_connection_in_the_middle_of_a_list() {
    let server = start().await;
    let client = admin(&server);
    server
        .faults()
        .add(FaultRule::new("GET", "/api/v1/pods", FaultAction::drop_after_items(2)).times(1))
        .expect("fault");
    let error = client
        .get("/api/v1/pods?limit=4")
        .await
        .expect_err("connection dropped");
    assert!(
        matches!(error, rounds_test_apiserver::client::ClientError::Http(_)),
        "{error}"
    );
    let record = server.requests().records().pop().expect("recorded");
    assert!(record.dropped);
    assert_eq!(record.query, "limit=4");
    // The next request succeeds.
    let page = client
        .get("/api/v1/pods?limit=4")
        .await
        .expect("list")
        .json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn request_log_counts_requests() {
    let server = start().await;
    let client = rounds(&server);
    for _ in 0..3 {
        client
            .get("/api/v1/namespaces/shop/pods")
            .await
            .expect("list");
    }
    client.get("/api/v1/secrets").await.expect("forbidden");
    assert_eq!(
        server
            .requests()
            .count("GET", "/api/v1/namespaces/shop/pods"),
        3
    );
    let forbidden: Vec<_> = server
        .requests()
        .records()
        .into_iter()
        .filter(|r| r.status == 403)
        .collect();
    assert_eq!(forbidden.len(), 1);
    assert_eq!(
        forbidden[0].user.as_deref(),
        Some("system:serviceaccount:rounds:rounds")
    );
    server.requests().clear();
    assert!(server.requests().records().is_empty());
}
