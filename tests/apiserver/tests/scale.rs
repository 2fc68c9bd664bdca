//! A seed of 50,000 pods (the server doubles as a load generator): seeding from a JSON
//! snapshot and paginating through every pod stay linear.

mod common;

use common::admin;
use rounds_test_apiserver::{ServerConfig, TestApiServer};
use serde_json::json;

const PODS: usize = 50_000;
const NAMESPACES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_pods_seed_and_paginate() {
    let items: Vec<serde_json::Value> = (0..PODS)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("pod-{i:05}"), "namespace": format!("ns-{:02}", i % NAMESPACES),
                    "labels": {"app": format!("app-{}", i % 7)}},
                "spec": {"nodeName": format!("node-{}", i % 10),
                    "containers": [{"name": "app", "image": "registry.example/app:1"}]},
                "status": {"phase": "Running"}})
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join("pods.json");
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    std::fs::write(&snapshot, list.to_string()).expect("write snapshot");
    drop(list);

    let server = TestApiServer::start(ServerConfig::new().snapshot(&snapshot))
        .await
        .expect("server starts");
    assert_eq!(server.seed_stats().objects, PODS);
    let client = admin(&server);

    let mut seen = 0;
    let mut pages = 0;
    let mut path = "/api/v1/pods?limit=500".to_string();
    loop {
        let page = client.get(&path).await.expect("page").json();
        let count = page["items"].as_array().map_or(0, Vec::len);
        seen += count;
        pages += 1;
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                assert_eq!(
                    page["metadata"]["remainingItemCount"].as_u64(),
                    Some((PODS - seen) as u64)
                );
                path = format!("/api/v1/pods?limit=500&continue={token}");
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (PODS, PODS / 500));

    // One namespace, filtered by label and field, across pages.
    let mut matched = 0;
    let mut path = "/api/v1/namespaces/ns-07/pods?limit=50&labelSelector=app%3Dapp-0".to_string();
    loop {
        let page = client.get(&path).await.expect("page").json();
        matched += page["items"].as_array().map_or(0, Vec::len);
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                path = format!(
                    "/api/v1/namespaces/ns-07/pods?limit=50&labelSelector=app%3Dapp-0&continue={token}"
                );
            }
            None => break,
        }
    }
    let expected = (0..PODS)
        .filter(|i| i % NAMESPACES == 7 && i % 7 == 0)
        .count();
    assert_eq!(matched, expected);
}
