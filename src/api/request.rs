//! A write as rounds plans it and the executor sends it: method, path (built from an
//! [`ObjectRef`]), content type and body. The report shows exactly this.

use super::resource::ObjectRef;
use http::Method;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// The body formats rounds sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    Json,
    MergePatch,
    StrategicMergePatch,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::MergePatch => "application/merge-patch+json",
            Self::StrategicMergePatch => "application/strategic-merge-patch+json",
        }
    }
}

impl Serialize for ContentType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a write does, so the executor knows where `dryRun` goes and what a 429 means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Patch,
    Update,
    Delete,
    /// `POST pods/NAME/eviction`.
    Evict,
}

impl Verb {
    /// The RBAC verb.
    pub fn rbac(self) -> &'static str {
        match self {
            Self::Create | Self::Evict => "create",
            Self::Patch => "patch",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(serialize_with = "method_text")]
    method: Method,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<ContentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Body>,
    #[serde(skip)]
    verb: Verb,
    #[serde(skip)]
    target: ObjectRef,
}

/// A body as compact JSON text. A plan holds one per action until the report is written, and
/// as a `Value` each nested map of a small patch took a B-tree node: about 2.5 KB a patch,
/// 5 MB of a 100,000-pod round's 20. The report and the wire get the same JSON as before.
#[derive(Debug, Clone, PartialEq)]
struct Body(Box<str>);

impl Body {
    fn new(value: &Value) -> Self {
        Self(value.to_string().into_boxed_str())
    }

    fn value(&self) -> Value {
        // The text was written by `Body::new` from a `Value`.
        serde_json::from_str(&self.0).expect("a request body is JSON")
    }
}

impl Serialize for Body {
    /// As the JSON it holds, not as a string: the report shows the body as an object.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

fn method_text<S: Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

impl Request {
    /// PATCH the object.
    pub fn patch(target: &ObjectRef, content_type: ContentType, body: Value) -> Self {
        Self {
            method: Method::PATCH,
            path: target.path(),
            content_type: Some(content_type),
            body: Some(Body::new(&body)),
            verb: Verb::Patch,
            target: target.clone(),
        }
    }

    /// PUT the whole object (with its resourceVersion).
    pub fn update(target: &ObjectRef, body: Value) -> Self {
        Self {
            method: Method::PUT,
            path: target.path(),
            content_type: Some(ContentType::Json),
            body: Some(Body::new(&body)),
            verb: Verb::Update,
            target: target.clone(),
        }
    }

    /// POST the object to its collection.
    pub fn create(target: &ObjectRef, body: Value) -> Self {
        Self {
            method: Method::POST,
            path: target.collection_path(),
            content_type: Some(ContentType::Json),
            body: Some(Body::new(&body)),
            verb: Verb::Create,
            target: target.clone(),
        }
    }

    /// DELETE the object with DeleteOptions (always a body, so dry-run goes into it).
    pub fn delete(target: &ObjectRef, grace_period_seconds: Option<u32>) -> Self {
        let mut body = json!({"apiVersion": "v1", "kind": "DeleteOptions"});
        if let Some(g) = grace_period_seconds {
            body["gracePeriodSeconds"] = json!(g);
        }
        if let Some(uid) = target.uid() {
            // The pod that was found, not a new one with the same name.
            body["preconditions"] = json!({"uid": uid});
        }
        Self {
            method: Method::DELETE,
            path: target.path(),
            content_type: Some(ContentType::Json),
            body: Some(Body::new(&body)),
            verb: Verb::Delete,
            target: target.clone(),
        }
    }

    /// POST an Eviction for the pod.
    pub fn evict(pod: &ObjectRef, grace_period_seconds: Option<u32>) -> Self {
        let mut options = json!({});
        if let Some(g) = grace_period_seconds {
            options["gracePeriodSeconds"] = json!(g);
        }
        if let Some(uid) = pod.uid() {
            options["preconditions"] = json!({"uid": uid});
        }
        let mut body = json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod.name(), "namespace": pod.namespace()},
        });
        if options.as_object().is_some_and(|o| !o.is_empty()) {
            body["deleteOptions"] = options;
        }
        Self {
            method: Method::POST,
            path: pod.subresource_path("eviction"),
            content_type: Some(ContentType::Json),
            body: Some(Body::new(&body)),
            verb: Verb::Evict,
            target: pod.clone(),
        }
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn content_type(&self) -> Option<ContentType> {
        self.content_type
    }

    /// The body, decoded (a copy: the request keeps it as text).
    pub fn body(&self) -> Option<Value> {
        self.body.as_ref().map(Body::value)
    }

    /// The body as the compact JSON text that is sent.
    pub fn body_text(&self) -> Option<&str> {
        self.body.as_ref().map(|b| &*b.0)
    }

    /// Changes the body, if there is one.
    pub fn edit_body(&mut self, edit: impl FnOnce(&mut Value)) {
        if let Some(body) = &mut self.body {
            let mut value = body.value();
            edit(&mut value);
            *body = Body::new(&value);
        }
    }

    pub fn verb(&self) -> Verb {
        self.verb
    }

    /// The object the request writes (for a create: the object it makes).
    pub fn target(&self) -> &ObjectRef {
        &self.target
    }

    /// The RBAC resource the request needs (`pods/eviction` for an eviction).
    pub fn rbac_resource(&self) -> String {
        let sub = (self.verb == Verb::Evict).then_some("eviction");
        self.target.resource().rbac_resource(sub)
    }

    /// The same request as a server-side dry run: `dryRun=All` in the query and, where a
    /// DeleteOptions body is sent, in the body too, because the API server reads only the body
    /// of a DELETE that has one.
    pub fn dry_run(&self) -> Self {
        let mut r = self.clone();
        r.path = format!("{}?dryRun=All", self.path);
        match self.verb {
            Verb::Delete => r.edit_body(|body| body["dryRun"] = json!(["All"])),
            Verb::Evict => r.edit_body(|body| {
                if body.get("deleteOptions").is_none() {
                    body["deleteOptions"] = json!({});
                }
                body["deleteOptions"]["dryRun"] = json!(["All"]);
            }),
            _ => {}
        }
        r
    }

    /// Whether this request is a server-side dry run.
    pub fn is_dry_run(&self) -> bool {
        self.path.ends_with("?dryRun=All")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::Resource;

    #[test]
    fn a_body_kept_as_text_is_sent_compact_reported_as_an_object_and_edited_in_place() {
        let pod = ObjectRef::namespaced(&Resource::POD, "shop", "web").expect("ref");
        let body =
            json!({"spec": {"template": {"metadata": {"annotations": {"a": "1"}}}}, "n": 1.5});
        let mut r = Request::patch(&pod, ContentType::StrategicMergePatch, body.clone());
        assert_eq!(r.body(), Some(body.clone()));
        assert_eq!(r.body_text(), Some(body.to_string().as_str()));
        let reported = serde_json::to_value(&r).expect("serializes");
        assert_eq!(
            reported["body"], body,
            "the report shows the object, not a string"
        );
        r.edit_body(|b| b["spec"]["replicas"] = json!(2));
        assert_eq!(r.body().expect("body")["spec"]["replicas"], json!(2));
        assert_eq!(r.body().expect("body")["n"], json!(1.5));
        let mut delete = Request::delete(&pod, None);
        let before = delete.clone();
        delete.edit_body(|_| {});
        assert_eq!(
            delete, before,
            "an edit that changes nothing keeps the same request"
        );
    }

    #[test]
    fn a_dry_run_delete_or_eviction_carries_dry_run_in_its_body() {
        let pod = ObjectRef::namespaced(&Resource::POD, "shop", "web-1")
            .expect("ref")
            .with_uid(Some("u1"));
        let d = Request::delete(&pod, Some(5)).dry_run();
        assert_eq!(d.path(), "/api/v1/namespaces/shop/pods/web-1?dryRun=All");
        assert_eq!(
            d.body(),
            Some(
                json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 5,
                "preconditions": {"uid": "u1"}, "dryRun": ["All"]})
            )
        );
        let e = Request::evict(&pod, None).dry_run();
        assert_eq!(
            e.path(),
            "/api/v1/namespaces/shop/pods/web-1/eviction?dryRun=All"
        );
        assert_eq!(
            e.body().map(|b| b["deleteOptions"].clone()),
            Some(json!({"preconditions": {"uid": "u1"}, "dryRun": ["All"]}))
        );
        assert_eq!(e.rbac_resource(), "pods/eviction");
        assert!(e.is_dry_run() && !Request::evict(&pod, None).is_dry_run());
    }

    #[test]
    fn serializes_as_the_report_shows_it() {
        let d = ObjectRef::namespaced(&Resource::DEPLOYMENT, "shop", "api").expect("ref");
        let r = Request::patch(&d, ContentType::StrategicMergePatch, json!({"spec": {}}));
        assert_eq!(
            serde_json::to_value(&r).expect("json"),
            json!({"method": "PATCH", "path": "/apis/apps/v1/namespaces/shop/deployments/api",
                "contentType": "application/strategic-merge-patch+json", "body": {"spec": {}}})
        );
        let job = ObjectRef::namespaced(&Resource::JOB, "shop", "fix").expect("ref");
        assert_eq!(
            Request::create(&job, json!({})).path(),
            "/apis/batch/v1/namespaces/shop/jobs"
        );
    }
}
