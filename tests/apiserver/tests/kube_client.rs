//! The kube-rs client (the one rounds uses) against the test server, through a kubeconfig.

mod common;

use common::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, EvictParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, FaultAction, FaultRule, TestApiServer};
use serde_json::json;

async fn kube_client(server: &TestApiServer, token: &str) -> Client {
    kube_client_with_retry(server, token, false).await
}

async fn kube_client_with_retry(server: &TestApiServer, token: &str, retry: bool) -> Client {
    // rounds installs the ring provider at the start of main; tests do the same.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig =
        Kubeconfig::from_yaml(&server.kubeconfig(token, "default")).expect("kubeconfig");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    // kube 5 retries 429/503/504 up to 15 times with exponential backoff (minutes in total),
    // which would turn the PDB's 429 into a four-minute wait; see `default_retry_retries_429`.
    config.default_retry = retry;
    Client::try_from(config).expect("client")
}

fn api_code(error: kube::Error) -> u16 {
    match error {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_lists_pages_patches_and_evicts() {
    let server = start().await;
    let client = kube_client(&server, ROUNDS_TOKEN).await;
    let pods: Api<Pod> = Api::all(client.clone());
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(4);
    loop {
        let page = pods.list(&params).await.expect("page");
        names.extend(page.items.iter().filter_map(|p| p.metadata.name.clone()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(names.len(), 6);

    let web = Api::<Deployment>::namespaced(client.clone(), "shop");
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "resources": {"limits": {"memory": "512Mi"}}}]}}}});
    let dry = web
        .patch(
            "web",
            &PatchParams::default().dry_run(),
            &Patch::Strategic(&patch),
        )
        .await
        .expect("dry-run patch");
    let containers = dry
        .spec
        .template
        .spec
        .map(|s| s.containers)
        .unwrap_or_default();
    assert_eq!(containers.len(), 1);
    assert_eq!(
        containers[0].image.as_deref(),
        Some("registry.example/web:1.4.2")
    );
    let stored = server
        .object("apps", "deployments", "shop", "web")
        .expect("web");
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "256Mi"
    );
    let scale = web.get_scale("web").await.expect("scale");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));

    let shop_pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let blocked = shop_pods
        .evict("api-5f6a7b-ddddd", &EvictParams::default())
        .await;
    assert_eq!(api_code(blocked.expect_err("PDB blocks")), 429);
    let evicted = shop_pods
        .evict("web-7d4b9c-aaaaa", &EvictParams::default())
        .await
        .expect("evicted");
    assert_eq!(evicted.code, 201);

    server
        .logs()
        .set_previous("shop", "web-7d4b9c-bbbbb", "app", "1\n2\n3\n");
    let log = shop_pods
        .logs(
            "web-7d4b9c-bbbbb",
            &LogParams {
                container: Some("app".into()),
                previous: true,
                tail_lines: Some(1),
                ..LogParams::default()
            },
        )
        .await
        .expect("logs");
    assert_eq!(log, "3\n");

    let forbidden = Api::<k8s_openapi::api::core::v1::Secret>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect_err("forbidden");
    match forbidden {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
            assert!(
                status.message.starts_with("secrets is forbidden"),
                "{}",
                status.message
            );
        }
        other => panic!("expected 403, got {other}"),
    }

    let summary: serde_json::Value = client
        .request(
            http::Request::get("/api/v1/nodes/node-1/proxy/stats/summary")
                .body(Vec::new())
                .expect("request"),
        )
        .await
        .expect("summary");
    assert_eq!(summary["node"]["nodeName"], "node-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_leases_access_reviews_and_expired_lists() {
    let server = start().await;
    let client = kube_client(&server, ROUNDS_TOKEN).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "rounds");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "rounds-lock"},
        "spec": {"holderIdentity": "round-1", "leaseDurationSeconds": 600}}))
    .expect("lease");
    let created = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let mut first = created.clone();
    let mut second = created.clone();
    first.spec.get_or_insert_default().holder_identity = Some("round-2".into());
    second.spec.get_or_insert_default().holder_identity = Some("round-3".into());
    leases
        .replace("rounds-lock", &PostParams::default(), &first)
        .await
        .expect("replace");
    let conflict = leases
        .replace("rounds-lock", &PostParams::default(), &second)
        .await;
    assert_eq!(api_code(conflict.expect_err("stale")), 409);

    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = |verb: &str, namespace: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some("coordination.k8s.io".into()),
                resource: Some("leases".into()),
                namespace: Some(namespace.into()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let allowed = reviews
        .create(&PostParams::default(), &review("update", "rounds"))
        .await
        .expect("ssar");
    assert_eq!(allowed.status.map(|s| s.allowed), Some(true));
    let denied = reviews
        .create(&PostParams::default(), &review("delete", "rounds"))
        .await
        .expect("ssar");
    assert_eq!(denied.status.map(|s| s.allowed), Some(false));

    let admin_client = kube_client(&server, DEFAULT_ADMIN_TOKEN).await;
    let pods: Api<Pod> = Api::all(admin_client);
    let page = pods
        .list(&ListParams::default().limit(2))
        .await
        .expect("page");
    let token = page.metadata.continue_.expect("continue token");
    server.expire_continue_tokens();
    let expired = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await;
    assert_eq!(api_code(expired.expect_err("expired")), 410);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_retry_retries_429_honouring_retry_after() {
    let server = start().await;
    let client = kube_client_with_retry(&server, ROUNDS_TOKEN, true).await;
    server
        .faults()
        .add(
            FaultRule::new(
                "GET",
                "/api/v1/namespaces/shop/pods",
                FaultAction::too_many_requests(1),
            )
            .times(2),
        )
        .expect("fault");
    let pods: Api<Pod> = Api::namespaced(client, "shop");
    let list = pods
        .list(&ListParams::default())
        .await
        .expect("retried until success");
    assert_eq!(list.items.len(), 5);
    assert_eq!(
        server
            .requests()
            .count("GET", "/api/v1/namespaces/shop/pods"),
        3
    );
}
