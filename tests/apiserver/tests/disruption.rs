//! PodDisruptionBudgets as the disruption controller keeps their status, and evictions decided
//! from that stored status as `eviction.go` decides them.

mod common;

use common::*;
use rounds_test_apiserver::client::{Client, RawResponse};
use rounds_test_apiserver::{DisruptionMode, ServerConfig, TestApiServer};
use serde_json::{Value, json};

/// A Deployment `pay` scaled to `replicas`, its ReplicaSet, the given pods (name, ready) on
/// node-1, and a PDB `pay` with this spec (the selector is added).
fn pay(replicas: i64, pods: &[(&str, bool)], pdb: Value) -> ServerConfig {
    let mut config = config()
        .object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "pay", "namespace": "shop", "uid": "uid-deploy-pay"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "pay"}},
                "template": {"metadata": {"labels": {"app": "pay"}},
                    "spec": {"containers": [{"name": "app", "image": "pay:1"}]}}}}))
        .object(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "pay-1", "namespace": "shop", "uid": "uid-rs-pay",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "pay",
                    "uid": "uid-deploy-pay", "controller": true}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "pay"}}}}));
    for (name, ready) in pods {
        config = config.object(pay_pod(name, *ready));
    }
    let mut spec = pdb;
    spec["selector"] = json!({"matchLabels": {"app": "pay"}});
    config.object(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "pay", "namespace": "shop"}, "spec": spec}),
    )
}

fn pay_pod(name: &str, ready: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "pay"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "pay-1",
                "uid": "uid-rs-pay", "controller": true}]},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "pay:1"}]},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

async fn evict(client: &Client, pod: &str) -> RawResponse {
    evict_with(client, pod, "").await
}

async fn evict_with(client: &Client, pod: &str, query: &str) -> RawResponse {
    let body = json!({"apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": pod, "namespace": "shop"}});
    client
        .post(
            &format!("/api/v1/namespaces/shop/pods/{pod}/eviction{query}"),
            &body,
        )
        .await
        .expect("evict")
}

fn numbers(status: &Value) -> (i64, i64, i64, i64) {
    let n = |field: &str| status[field].as_i64().unwrap_or(-1);
    (
        n("expectedPods"),
        n("desiredHealthy"),
        n("currentHealthy"),
        n("disruptionsAllowed"),
    )
}

fn violation(response: &RawResponse, cause: &str) {
    assert_status(response, 429, "TooManyRequests");
    let body = response.json();
    assert_eq!(
        body["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "DisruptionBudget", "message": cause}])
    );
}

#[tokio::test]
async fn max_unavailable_counts_the_owners_replicas() {
    let server = TestApiServer::start(pay(
        2,
        &[("pay-a", true), ("pay-b", true)],
        json!({"maxUnavailable": 1}),
    ))
    .await
    .expect("server");
    let client = admin(&server);
    let status = server.pdb_status("shop", "pay").expect("status");
    assert_eq!(numbers(&status), (2, 1, 2, 1));
    assert_eq!(status["observedGeneration"], 1);
    assert_eq!(status["conditions"][0]["type"], "DisruptionAllowed");
    assert_eq!(status["conditions"][0]["status"], "True");
    assert_eq!(status["conditions"][0]["reason"], "SufficientPods");

    let first = evict(&client, "pay-a").await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(
        first.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
    );
    let status = server.pdb_status("shop", "pay").expect("status");
    assert_eq!(numbers(&status), (2, 1, 1, 0));
    assert_eq!(status["conditions"][0]["reason"], "InsufficientPods");
    violation(
        &evict(&client, "pay-b").await,
        "The disruption budget pay needs 1 healthy pods and has 1 currently",
    );
    // Even after the first pod is gone: its Deployment still wants 2.
    server.finish_deletions();
    assert_eq!(
        numbers(&server.pdb_status("shop", "pay").expect("status")),
        (2, 1, 1, 0)
    );
    assert_eq!(evict(&client, "pay-b").await.status, 429);
}

#[tokio::test]
async fn percentages_scale_against_the_owners_replicas() {
    // minAvailable 50% of 4 replicas, with only 3 pods present: 2 desired, 1 allowed.
    let server = TestApiServer::start(pay(
        4,
        &[("pay-a", true), ("pay-b", true), ("pay-c", true)],
        json!({"minAvailable": "50%"}),
    ))
    .await
    .expect("server");
    assert_eq!(
        numbers(&server.pdb_status("shop", "pay").expect("status")),
        (4, 2, 3, 1)
    );
    // An integer minAvailable counts the matching pods instead.
    let fixture = start().await;
    assert_eq!(
        numbers(&fixture.pdb_status("shop", "web").expect("status")),
        (3, 2, 3, 1)
    );
}

#[tokio::test]
async fn an_eviction_decrements_the_stored_status_and_records_the_pod() {
    let server = TestApiServer::start(
        pay(
            3,
            &[("pay-a", true), ("pay-b", true), ("pay-c", true)],
            json!({"maxUnavailable": 2}),
        )
        .disruption_controller(DisruptionMode::Paused),
    )
    .await
    .expect("server");
    let client = admin(&server);
    // Paused: the seeded PDB has no status yet, so it is still being processed.
    let lagging = evict(&client, "pay-a").await;
    violation(
        &lagging,
        "The disruption budget pay is still being processed by the server.",
    );
    assert_eq!(
        lagging
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("10")
    );
    assert_eq!(lagging.json()["details"]["retryAfterSeconds"], 10);

    server.sync_disruption_budgets();
    assert_eq!(
        numbers(&server.pdb_status("shop", "pay").expect("status")),
        (3, 1, 3, 2)
    );
    // A dry run decides the same and changes nothing.
    let dry = evict_with(&client, "pay-a", "?dryRun=All").await;
    assert_eq!(dry.status, 201, "{}", dry.text());
    assert_eq!(
        numbers(&server.pdb_status("shop", "pay").expect("status")),
        (3, 1, 3, 2)
    );
    let pod = server.object("", "pods", "shop", "pay-a").expect("pod");
    assert!(pod["metadata"].get("deletionTimestamp").is_none());

    assert_eq!(evict(&client, "pay-a").await.status, 201);
    let status = server.pdb_status("shop", "pay").expect("status");
    assert_eq!(status["disruptionsAllowed"], 1);
    assert!(status["disruptedPods"]["pay-a"].is_string(), "{status}");
    let pod = server.object("", "pods", "shop", "pay-a").expect("pod");
    assert!(pod["metadata"]["deletionTimestamp"].is_string());
    let target = pod["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == "DisruptionTarget")
        .cloned()
        .expect("DisruptionTarget condition");
    assert_eq!(
        (&target["status"], &target["reason"], &target["message"]),
        (
            &json!("True"),
            &json!("EvictionByEvictionAPI"),
            &json!("Eviction API: evicting")
        )
    );
    // The controller drops the entry once it sees the pod terminating.
    server.sync_disruption_budgets();
    let status = server.pdb_status("shop", "pay").expect("status");
    assert!(status.get("disruptedPods").is_none(), "{status}");
    assert_eq!(numbers(&status), (3, 1, 2, 1));
}

#[tokio::test]
async fn a_lagging_observed_generation_is_still_being_processed() {
    let server = start().await;
    let client = admin(&server);
    server.pause_disruption_controller();
    let changed = client
        .patch(
            "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web",
            "application/merge-patch+json",
            &json!({"spec": {"minAvailable": 1}}),
        )
        .await
        .expect("patch");
    assert_eq!(changed.json()["metadata"]["generation"], 2);
    assert_eq!(changed.json()["status"]["observedGeneration"], 1);
    violation(
        &evict(&client, "web-7d4b9c-aaaaa").await,
        "The disruption budget web is still being processed by the server.",
    );
    server.resume_disruption_controller();
    let status = server.pdb_status("shop", "web").expect("status");
    assert_eq!(status["observedGeneration"], 2);
    assert_eq!(numbers(&status), (3, 1, 3, 2));
    assert_eq!(evict(&client, "web-7d4b9c-aaaaa").await.status, 201);
}

#[tokio::test]
async fn seeded_statuses_are_used_as_they_are() {
    let server = TestApiServer::start(config().disruption_controller(DisruptionMode::Paused))
        .await
        .expect("server");
    let client = admin(&server);
    server
        .set_pdb_status(
            "shop",
            "web",
            json!({"observedGeneration": 1, "disruptionsAllowed": -1, "currentHealthy": 3,
                "desiredHealthy": 2, "expectedPods": 3}),
        )
        .expect("status");
    let negative = evict(&client, "web-7d4b9c-aaaaa").await;
    assert_eq!(
        negative.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "poddisruptionbudget.policy \"web\" is forbidden: pdb disruptions allowed is negative",
            "reason": "Forbidden",
            "details": {"name": "web", "group": "policy", "kind": "poddisruptionbudget"}, "code": 403})
    );
    // A stale status that still allows a disruption lets one through, whatever the pods say.
    server
        .set_pdb_status(
            "shop",
            "api",
            json!({"observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 2,
                "desiredHealthy": 2, "expectedPods": 2}),
        )
        .expect("status");
    assert_eq!(evict(&client, "api-5f6a7b-ddddd").await.status, 201);
    violation(
        &evict(&client, "api-5f6a7b-eeeee").await,
        "The disruption budget api needs 2 healthy pods and has 2 currently",
    );
}

#[tokio::test]
async fn unready_pods_follow_the_unhealthy_pod_eviction_policy() {
    // IfHealthyBudget (the default): an unready pod may go while the budget is met.
    let met = TestApiServer::start(pay(
        3,
        &[("pay-a", true), ("pay-b", true), ("pay-c", false)],
        json!({"minAvailable": 2}),
    ))
    .await
    .expect("server");
    assert_eq!(
        numbers(&met.pdb_status("shop", "pay").expect("status")),
        (3, 2, 2, 0)
    );
    assert_eq!(evict(&admin(&met), "pay-c").await.status, 201);
    violation(
        &evict(&admin(&met), "pay-a").await,
        "The disruption budget pay needs 2 healthy pods and has 2 currently",
    );

    // ...but not while it is not.
    let unmet = TestApiServer::start(pay(
        2,
        &[("pay-a", true), ("pay-c", false)],
        json!({"minAvailable": 2}),
    ))
    .await
    .expect("server");
    violation(
        &evict(&admin(&unmet), "pay-c").await,
        "The disruption budget pay needs 2 healthy pods and has 1 currently",
    );

    // AlwaysAllow: unready pods may always go, without using up the budget.
    let always = TestApiServer::start(pay(
        2,
        &[("pay-a", true), ("pay-c", false)],
        json!({"minAvailable": 2, "unhealthyPodEvictionPolicy": "AlwaysAllow"}),
    ))
    .await
    .expect("server");
    assert_eq!(evict(&admin(&always), "pay-c").await.status, 201);
    violation(
        &evict(&admin(&always), "pay-a").await,
        "The disruption budget pay needs 2 healthy pods and has 1 currently",
    );
}

#[tokio::test]
async fn pods_that_are_not_running_are_deleted_without_a_budget_check() {
    let mut pending = pay_pod("pay-pending", false);
    pending["status"] = json!({"phase": "Pending"});
    let mut failed = pay_pod("pay-failed", false);
    failed["status"] = json!({"phase": "Failed"});
    let server = TestApiServer::start(
        pay(2, &[("pay-a", true)], json!({"maxUnavailable": 0}))
            .object(pending)
            .object(failed),
    )
    .await
    .expect("server");
    let client = admin(&server);
    assert_eq!(
        server.pdb_status("shop", "pay").expect("status")["disruptionsAllowed"],
        0
    );
    assert_eq!(evict(&client, "pay-pending").await.status, 201);
    assert_eq!(evict(&client, "pay-failed").await.status, 201);
    // The failed pod goes at once; the pending one is bound to a node and terminates.
    assert!(server.object("", "pods", "shop", "pay-failed").is_none());
    assert!(
        server
            .object("", "pods", "shop", "pay-pending")
            .expect("pod")["metadata"]["deletionTimestamp"]
            .is_string()
    );
    assert_eq!(evict(&client, "pay-a").await.status, 429);
}

#[tokio::test]
async fn a_pod_under_two_budgets_cannot_be_evicted() {
    let server = TestApiServer::start(config().object(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web-too", "namespace": "shop"},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
    ))
    .await
    .expect("server");
    let refused = evict(&admin(&server), "web-7d4b9c-aaaaa").await;
    assert_eq!(
        refused.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            "code": 500})
    );
}

#[tokio::test]
async fn owners_without_a_scale_make_the_controller_fail_safe() {
    let mut pod = pay_pod("agent-a", true);
    pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet",
        "name": "agent", "uid": "uid-ds", "controller": true}]);
    let server = TestApiServer::start(pay(1, &[], json!({"maxUnavailable": 1})).object(pod))
        .await
        .expect("server");
    let status = server.pdb_status("shop", "pay").expect("status");
    assert_eq!(status["disruptionsAllowed"], 0);
    let condition = &status["conditions"][0];
    assert_eq!(
        (
            &condition["status"],
            &condition["reason"],
            &condition["message"]
        ),
        (
            &json!("False"),
            &json!("SyncFailed"),
            &json!("daemonsets.apps does not implement the scale subresource")
        )
    );
}

#[tokio::test]
async fn eviction_bodies_are_decoded_as_the_real_server_decodes_them() {
    let server = start().await;
    let client = admin(&server);
    let path = "/api/v1/namespaces/shop/pods/web-7d4b9c-aaaaa/eviction";
    let post = |body: Value| {
        let client = client.clone();
        async move { client.post(path, &body).await.expect("evict") }
    };
    let other = post(json!({"metadata": {"name": "web-7d4b9c-bbbbb"}})).await;
    assert_status(&other, 400, "BadRequest");
    assert_eq!(
        other.json()["message"],
        "name in URL does not match name in Eviction object"
    );
    let unnamed = post(json!({})).await;
    assert_eq!(
        unnamed.json()["message"],
        "name in URL does not match name in Eviction object"
    );
    let pod = post(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-7d4b9c-aaaaa"}}))
    .await;
    assert_status(&pod, 400, "BadRequest");
    assert_eq!(
        pod.json()["message"],
        "Pod in version \"v1\" cannot be handled as a Eviction: converting (v1.Pod) to (policy.Eviction): unknown conversion"
    );
    let beta = post(json!({"apiVersion": "policy/v1beta1", "kind": "Eviction",
        "metadata": {"name": "web-7d4b9c-aaaaa"},
        "deleteOptions": {"dryRun": ["All"]}}))
    .await;
    assert_eq!(beta.status, 201, "{}", beta.text());
    let mismatch = client
        .post(
            &format!("{path}?dryRun=All"),
            &json!({"metadata": {"name": "web-7d4b9c-aaaaa"}, "deleteOptions": {"dryRun": ["Al"]}}),
        )
        .await
        .expect("evict");
    assert_eq!(
        mismatch.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Non-matching dry-run options in request and content: [All] and [Al]",
            "code": 500})
    );
    assert!(
        server
            .object("", "pods", "shop", "web-7d4b9c-aaaaa")
            .expect("pod")["metadata"]
            .get("deletionTimestamp")
            .is_none()
    );
}

#[tokio::test]
async fn the_controller_reacts_to_objects_inserted_while_running() {
    let server = start().await;
    assert_eq!(
        numbers(&server.pdb_status("shop", "web").expect("status")),
        (3, 2, 3, 1)
    );
    let mut pod = server
        .object("", "pods", "shop", "web-7d4b9c-aaaaa")
        .expect("pod");
    pod["metadata"]["name"] = json!("web-7d4b9c-fffff");
    pod["metadata"]["uid"] = json!("uid-pod-fffff");
    server.insert(pod).expect("insert");
    assert_eq!(
        numbers(&server.pdb_status("shop", "web").expect("status")),
        (4, 2, 4, 2)
    );
}
