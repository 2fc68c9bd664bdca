//! Request routing: paths to discovery documents or resource handlers, RBAC checks, and the
//! shape of replies.

mod access;
mod codec;
mod objects;
mod options;
mod subresources;

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use crate::auth::Identity;
use crate::discovery;
use crate::protobuf;
use crate::rbac::{self, Attributes};
use crate::resources::ResourceInfo;
use crate::server::State;
use crate::status::ApiError;
use crate::store::EncodedObject;
use crate::table;

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(query: &str) -> Self {
        Self(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter (`dryRun=All&dryRun=All`).
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// A request as the handlers see it: authenticated, body read.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Query,
    pub(crate) content_type: String,
    pub(crate) accept: String,
    pub(crate) body: Bytes,
    /// Whether the body was longer than [`MAX_REQUEST_BODY_BYTES`] (only its start was read).
    pub(crate) body_too_large: bool,
    pub(crate) identity: Identity,
}

/// kube-apiserver's default `MaxRequestBodyBytes` (3 MiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

impl ApiRequest {
    /// The body, or 413 when it was over the limit (as `limitedReadBody` answers).
    pub(crate) fn body(&self) -> Result<&Bytes, ApiError> {
        if self.body_too_large {
            Err(ApiError::request_entity_too_large(MAX_REQUEST_BODY_BYTES))
        } else {
            Ok(&self.body)
        }
    }

    /// The body as JSON (an empty body is `null`).
    pub(crate) fn json_body(&self) -> Result<Value, ApiError> {
        self.body()?;
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        if self.content_type.starts_with(protobuf::CONTENT_TYPE) {
            return protobuf::decode(&self.body).map_err(|error| match error {
                protobuf::ProtobufError::UnsupportedKind(_) => {
                    ApiError::new(415, "UnsupportedMediaType", error.to_string())
                }
                protobuf::ProtobufError::Malformed(_) => ApiError::bad_request(error.to_string()),
            });
        }
        serde_json::from_slice(&self.body).or_else(|json_error| {
            // Accept YAML bodies too (as some clients send for create).
            let text = std::str::from_utf8(&self.body)
                .map_err(|_| ApiError::bad_request(json_error.to_string()))?;
            serde_saphyr::from_str(text).map_err(|_| {
                ApiError::bad_request(format!("the request body is not valid JSON: {json_error}"))
            })
        })
    }
}

/// A list reply, kept as items so a fault can cut it after some of them; the items stay the
/// store's bytes, written out as they are.
#[derive(Debug, Clone)]
pub(crate) struct ListReply {
    pub(crate) kind: String,
    pub(crate) api_version: String,
    pub(crate) metadata: Value,
    pub(crate) items: Vec<EncodedObject>,
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Json(u16, Value),
    List(ListReply),
    Text(u16, String),
}

pub(crate) type Outcome = Result<Reply, ApiError>;

/// A resource path, split.
#[derive(Debug, Clone)]
pub(crate) struct ResourceRoute {
    pub(crate) info: ResourceInfo,
    /// Empty at the cluster scope (or for all namespaces).
    pub(crate) namespace: String,
    /// Empty for collections.
    pub(crate) name: String,
    /// Empty for the main resource.
    pub(crate) subresource: String,
    /// Path segments after the subresource (`proxy/stats/summary`).
    pub(crate) rest: Vec<String>,
}

impl ResourceRoute {
    pub(crate) fn is_collection(&self) -> bool {
        self.name.is_empty()
    }
}

enum Route {
    Text(&'static str),
    Json(Value),
    Resource(Box<ResourceRoute>),
}

/// Paths any authenticated or anonymous client may read.
pub(crate) fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/version")
}

/// Serves one request.
pub(crate) fn dispatch(state: &State, request: &ApiRequest) -> Outcome {
    let route = route(state, &request.path)?;
    match route {
        Route::Text(text) => {
            require_get(request)?;
            Ok(Reply::Text(200, text.to_string()))
        }
        Route::Json(value) => {
            require_get(request)?;
            Ok(Reply::Json(200, value))
        }
        Route::Resource(route) => {
            if route.info.group == "authorization.k8s.io"
                && route.info.resource == "selfsubjectaccessreviews"
            {
                return access::self_subject_access_review(state, request);
            }
            let attributes = attributes(request, &route)?;
            {
                let store = state.read_store();
                if !rbac::allowed(&store, &request.identity, &attributes) {
                    return Err(rbac::forbidden(&request.identity, &attributes));
                }
            }
            let reply = if route.subresource.is_empty() {
                objects::handle(state, request, &route).map(|r| as_table(request, &route, r))
            } else {
                subresources::handle(state, request, &route)
            };
            if request.method != Method::GET {
                // A write may have started a graceful deletion: let the kubelet look.
                state.kubelet.notify_one();
            }
            reply
        }
    }
}

/// Converts a GET reply to a Table when the client asked for one (kubectl get).
fn as_table(request: &ApiRequest, route: &ResourceRoute, reply: Reply) -> Reply {
    if request.method != Method::GET || !table::wants_table(&request.accept) {
        return reply;
    }
    let include = table::IncludeObject::from_query(request.query.get("includeObject"));
    // Event tables are printed from the core/v1 shape, whichever API was asked.
    let stored = |item: Value| codec::to_storage(&route.info, item);
    match reply {
        Reply::List(list) => {
            let items: Vec<Value> = list.items.iter().map(|i| stored(i.decode())).collect();
            Reply::Json(
                200,
                table::table(&route.info, &items, list.metadata, include),
            )
        }
        Reply::Json(status, object) => {
            let object = stored(object);
            let metadata = serde_json::json!({
                "resourceVersion": object["metadata"]["resourceVersion"].clone()
            });
            Reply::Json(
                status,
                table::table(&route.info, &[object], metadata, include),
            )
        }
        other => other,
    }
}

fn require_get(request: &ApiRequest) -> Result<(), ApiError> {
    if request.method == Method::GET {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed())
    }
}

/// The RBAC attributes of a resource request.
fn attributes(request: &ApiRequest, route: &ResourceRoute) -> Result<Attributes, ApiError> {
    let collection = route.is_collection();
    let verb = match request.method {
        Method::GET | Method::HEAD if collection => {
            if request.query.flag("watch") {
                "watch"
            } else {
                "list"
            }
        }
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if collection => "deletecollection",
        Method::DELETE => "delete",
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(
        Attributes::resource(verb, &route.info, &route.namespace, &route.name)
            .with_subresource(&route.subresource),
    )
}

fn route(state: &State, path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let store = state.read_store();
    let registry = store.registry();
    let (group, version, rest) = match segments.as_slice() {
        ["healthz" | "livez" | "readyz"] => return Ok(Route::Text("ok")),
        ["version"] => return Ok(Route::Json(discovery::version())),
        ["api"] => return Ok(Route::Json(discovery::core_versions(&state.server_address))),
        ["apis"] => return Ok(Route::Json(discovery::group_list(registry))),
        ["apis", group] => {
            return discovery::group(registry, group)
                .map(Route::Json)
                .ok_or_else(ApiError::path_not_found);
        }
        ["api", version] => {
            return discovery::resource_list(registry, "", version)
                .map(Route::Json)
                .ok_or_else(ApiError::path_not_found);
        }
        ["apis", group, version] => {
            return discovery::resource_list(registry, group, version)
                .map(Route::Json)
                .ok_or_else(ApiError::path_not_found);
        }
        ["openapi", "v3"] => return Ok(Route::Json(discovery::openapi_v3_root(registry))),
        ["openapi", "v3", "api", version] => {
            return discovery::openapi_v3_group_version(registry, "", version)
                .map(Route::Json)
                .ok_or_else(ApiError::path_not_found);
        }
        ["openapi", "v3", "apis", group, version] => {
            return discovery::openapi_v3_group_version(registry, group, version)
                .map(Route::Json)
                .ok_or_else(ApiError::path_not_found);
        }
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::path_not_found()),
    };
    let lookup = |resource: &str| {
        registry
            .lookup(group, version, resource)
            .cloned()
            .ok_or_else(ApiError::path_not_found)
    };
    let owned = |segments: &[&str]| segments.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let route = match rest {
        ["namespaces", namespace, resource, tail @ ..]
            if !(group.is_empty()
                && tail.is_empty()
                && matches!(*resource, "status" | "finalize")) =>
        {
            let info = lookup(resource)?;
            if !info.namespaced {
                return Err(ApiError::path_not_found());
            }
            let (name, subresource, rest) = match tail {
                [] => ("", "", Vec::new()),
                [name] => (*name, "", Vec::new()),
                [name, subresource, rest @ ..] => (*name, *subresource, owned(rest)),
            };
            ResourceRoute {
                info,
                namespace: namespace.to_string(),
                name: name.to_string(),
                subresource: subresource.to_string(),
                rest,
            }
        }
        [resource, tail @ ..] => {
            let info = lookup(resource)?;
            let (name, subresource, rest) = match tail {
                [] => ("", "", Vec::new()),
                [name] => (*name, "", Vec::new()),
                [name, subresource, rest @ ..] => (*name, *subresource, owned(rest)),
            };
            if info.namespaced && !name.is_empty() {
                return Err(ApiError::path_not_found());
            }
            ResourceRoute {
                info,
                namespace: String::new(),
                name: name.to_string(),
                subresource: subresource.to_string(),
                rest,
            }
        }
        [] => return Err(ApiError::path_not_found()),
    };
    if !route.subresource.is_empty() && route.info.subresource(&route.subresource).is_none() {
        return Err(ApiError::path_not_found());
    }
    Ok(Route::Resource(Box::new(route)))
}
