//! RBAC exactly as needed, proven both ways: rounds runs through its action and notification
//! paths against the test API server enforcing the rendered Roles of each overlay; a refused
//! request fails the test (a verb is missing), and so does a granted verb/resource pair that no
//! request used (a verb too many).

mod deploy;

use deploy::rbac::{Permission, covers, granted, needed};
use rounds_test_apiserver::RequestRecord;

fn record(method: &str, path: &str, query: &str) -> RequestRecord {
    RequestRecord {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        user: None,
        status: 200,
        dropped: false,
    }
}

fn p(verb: &str, group: &str, resource: &str, ns: Option<&str>) -> Permission {
    Permission {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        namespace: ns.map(str::to_owned),
    }
}

#[test]
fn requests_map_to_the_permissions_the_authorizer_checks() {
    let cases = [
        (
            ("GET", "/api/v1/pods", "limit=500"),
            Some(p("list", "", "pods", None)),
        ),
        (
            ("GET", "/api/v1/namespaces", ""),
            Some(p("list", "", "namespaces", None)),
        ),
        (
            ("GET", "/api/v1/namespaces/shop", ""),
            Some(p("get", "", "namespaces", None)),
        ),
        (
            (
                "GET",
                "/api/v1/namespaces/shop/pods/web-1/log",
                "tailLines=5",
            ),
            Some(p("get", "", "pods/log", Some("shop"))),
        ),
        (
            (
                "POST",
                "/api/v1/namespaces/shop/pods/web-1/eviction",
                "dryRun=All",
            ),
            Some(p("create", "", "pods/eviction", Some("shop"))),
        ),
        (
            ("GET", "/api/v1/nodes/node-1/proxy/stats/summary", ""),
            Some(p("get", "", "nodes/proxy", None)),
        ),
        (
            ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", ""),
            Some(p("patch", "apps", "deployments", Some("shop"))),
        ),
        (
            (
                "PUT",
                "/apis/coordination.k8s.io/v1/namespaces/rounds/leases/rounds",
                "",
            ),
            Some(p("update", "coordination.k8s.io", "leases", Some("rounds"))),
        ),
        (
            ("GET", "/apis/batch/v1/jobs", "watch=true"),
            Some(p("watch", "batch", "jobs", None)),
        ),
        (("GET", "/version", ""), None),
        (("GET", "/apis/apps/v1", ""), None),
    ];
    for ((method, path, query), want) in cases {
        assert_eq!(
            needed(&record(method, path, query)),
            want,
            "{method} {path}?{query}"
        );
    }
    assert!(covers(
        &p("get", "", "pods", None),
        &p("get", "", "pods", Some("shop"))
    ));
    assert!(!covers(
        &p("get", "", "pods", Some("a")),
        &p("get", "", "pods", Some("b"))
    ));
    assert!(!covers(
        &p("get", "", "pods", None),
        &p("get", "", "pods/log", None)
    ));
}

#[test]
fn grants_follow_bindings() {
    let objects = deploy::render("overlays/observe");
    let g = granted(&objects, "rounds", "rounds");
    assert!(g.contains(&p("list", "", "pods", None)));
    assert!(g.contains(&p("get", "coordination.k8s.io", "leases", Some("rounds"))));
    assert!(!g.contains(&p("get", "coordination.k8s.io", "leases", None)));
    // Nothing is granted to another account.
    assert!(granted(&objects, "rounds", "someone-else").is_empty());
}
