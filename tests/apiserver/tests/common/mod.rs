//! Shared setup for the integration tests: a server seeded from the fixtures, with tokens.

#![allow(dead_code)]

use std::path::PathBuf;

use rounds_test_apiserver::client::{Client, RawResponse};
use rounds_test_apiserver::{DEFAULT_ADMIN_TOKEN, Identity, ServerConfig, TestApiServer};
use serde_json::Value;

/// The rounds service account's token.
pub const ROUNDS_TOKEN: &str = "rounds-sa-token";
/// A user with no RBAC grants.
pub const NOBODY_TOKEN: &str = "nobody-token";

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn config() -> ServerConfig {
    ServerConfig::new()
        .snapshot(fixtures().join("cluster"))
        .rbac(fixtures().join("rbac"))
        .token(ROUNDS_TOKEN, Identity::service_account("rounds", "rounds"))
        .token(NOBODY_TOKEN, Identity::user("nobody"))
}

pub async fn start() -> TestApiServer {
    TestApiServer::start(config()).await.expect("server starts")
}

pub fn admin(server: &TestApiServer) -> Client {
    Client::new(server, Some(DEFAULT_ADMIN_TOKEN)).expect("client")
}

pub fn rounds(server: &TestApiServer) -> Client {
    Client::new(server, Some(ROUNDS_TOKEN)).expect("client")
}

pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let meta = &item["metadata"];
            match meta["namespace"].as_str() {
                Some(ns) => format!("{ns}/{}", meta["name"].as_str().unwrap_or_default()),
                None => meta["name"].as_str().unwrap_or_default().to_string(),
            }
        })
        .collect()
}

pub fn assert_status(response: &RawResponse, code: u16, reason: &str) {
    let body = response.json();
    assert_eq!(response.status, code, "{}", response.text());
    assert_eq!(body["kind"], "Status", "{}", response.text());
    assert_eq!(body["code"], code, "{}", response.text());
    assert_eq!(body["reason"], reason, "{}", response.text());
}
