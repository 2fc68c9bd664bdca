//! The server: configuration, shared state, the HTTPS accept loop and per-request handling
//! (authentication, impersonation, faults, routing, recording).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::auth::{Identity, Tokens};
use crate::body::ApiBody;
use crate::disruption::{self, Mode as DisruptionMode};
use crate::faults::{FaultError, FaultRule, Faults};
use crate::kubeconfig::{self, KubeconfigUser};
use crate::kubelet;
use crate::logs::LogStore;
use crate::rbac::{self, Attributes};
use crate::recorder::{RequestLog, RequestRecord};
use crate::registry;
use crate::resources::ResourceInfo;
use crate::routes::{self, ApiRequest, Query, Reply};
use crate::seed::{self, SeedError, SeedFilter, SeedStats};
use crate::status::ApiError;
use crate::store::{Store, StoreError};
use crate::tls::{Certificates, TlsError};

/// The token of the admin identity every default configuration has.
pub const DEFAULT_ADMIN_TOKEN: &str = "rounds-test-admin-token";

/// How to start a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; `127.0.0.1:0` (an ephemeral port) by default.
    pub listen: SocketAddr,
    /// Bearer tokens; by default [`DEFAULT_ADMIN_TOKEN`] for an admin named `admin`.
    pub tokens: Tokens,
    /// Snapshot files or directories to seed from.
    pub snapshots: Vec<PathBuf>,
    /// Files or directories from which only RBAC objects are loaded.
    pub rbac: Vec<PathBuf>,
    /// Objects to seed in addition to the files.
    pub objects: Vec<Value>,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Extra DNS names for the server certificate.
    pub extra_dns_names: Vec<String>,
    /// When PodDisruptionBudget statuses are recomputed ([`DisruptionMode::Auto`]: after every
    /// relevant write, and for seeded budgets at start; [`DisruptionMode::Paused`]: only on
    /// request, seeded statuses kept as they are).
    pub disruption: DisruptionMode,
    /// Whether pods deleted gracefully disappear when their grace period ends (as their kubelet
    /// would remove them); when false they stay Terminating until
    /// [`TestApiServer::finish_deletions`].
    pub pods_terminate_after_grace_period: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let mut tokens = Tokens::default();
        tokens.insert(DEFAULT_ADMIN_TOKEN, Identity::admin("admin"));
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tokens,
            snapshots: Vec::new(),
            rbac: Vec::new(),
            objects: Vec::new(),
            faults: Vec::new(),
            extra_dns_names: Vec::new(),
            disruption: DisruptionMode::Auto,
            pods_terminate_after_grace_period: true,
        }
    }
}

impl ServerConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a snapshot file or directory.
    pub fn snapshot(mut self, path: impl Into<PathBuf>) -> Self {
        self.snapshots.push(path.into());
        self
    }

    /// Adds a file or directory to load RBAC objects from.
    pub fn rbac(mut self, path: impl Into<PathBuf>) -> Self {
        self.rbac.push(path.into());
        self
    }

    /// Adds a token.
    pub fn token(mut self, token: &str, identity: Identity) -> Self {
        self.tokens.insert(token, identity);
        self
    }

    /// Adds an object to seed.
    pub fn object(mut self, object: Value) -> Self {
        self.objects.push(object);
        self
    }

    /// Adds a fault rule.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Sets the listen address.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.listen = address;
        self
    }

    /// Sets when PodDisruptionBudget statuses are recomputed.
    pub fn disruption_controller(mut self, mode: DisruptionMode) -> Self {
        self.disruption = mode;
        self
    }

    /// Sets whether graceful deletions end by themselves when their grace period is over.
    pub fn pods_terminate_after_grace_period(mut self, terminate: bool) -> Self {
        self.pods_terminate_after_grace_period = terminate;
        self
    }
}

/// The server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Certificates or TLS configuration failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A snapshot cannot be loaded.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// A seeded object cannot be stored.
    #[error("cannot seed object: {0}")]
    Object(#[from] StoreError),
    /// A fault rule is invalid.
    #[error(transparent)]
    Fault(#[from] FaultError),
}

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct State {
    store: RwLock<Store>,
    tokens: RwLock<Tokens>,
    pub(crate) faults: Faults,
    pub(crate) requests: RequestLog,
    pub(crate) logs: LogStore,
    pub(crate) server_address: String,
    /// Wakes the kubelet task after a write (a graceful deletion may have started).
    pub(crate) kubelet: Notify,
}

impl State {
    pub(crate) fn read_store(&self) -> RwLockReadGuard<'_, Store> {
        self.store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn write_store(&self) -> RwLockWriteGuard<'_, Store> {
        self.store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn identity(&self, token: &str) -> Option<Identity> {
        self.tokens
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned()
    }
}

/// A running test API server. Dropping it stops the server.
#[derive(Debug)]
pub struct TestApiServer {
    state: Arc<State>,
    address: SocketAddr,
    certificates: Certificates,
    seed_stats: SeedStats,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    kubelet_task: Option<JoinHandle<()>>,
}

impl TestApiServer {
    /// Seeds the store, generates certificates, binds and starts serving in the background.
    pub async fn start(config: ServerConfig) -> Result<Self, ServerError> {
        let mut store = Store::new();
        let mut seed_stats = SeedStats::default();
        for path in &config.snapshots {
            seed_stats += seed::load_path(&mut store, path, SeedFilter::Everything)?;
        }
        for path in &config.rbac {
            seed_stats += seed::load_path(&mut store, path, SeedFilter::RbacOnly)?;
        }
        seed_stats +=
            seed::load_documents(&mut store, config.objects.clone(), SeedFilter::Everything)?;
        store.ensure_namespaces();
        store.disruption = config.disruption;
        store.terminations.after_grace_period = config.pods_terminate_after_grace_period;
        if config.disruption == DisruptionMode::Auto {
            disruption::sync_all(&mut store);
        }
        let faults = Faults::default();
        for rule in &config.faults {
            faults.add(rule.clone())?;
        }
        let certificates = Certificates::generate(&config.extra_dns_names)?;
        let acceptor = TlsAcceptor::from(Arc::new(certificates.server_config()?));
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    address: config.listen,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| ServerError::Bind {
            address: config.listen,
            source,
        })?;
        let state = Arc::new(State {
            store: RwLock::new(store),
            tokens: RwLock::new(config.tokens.clone()),
            faults,
            requests: RequestLog::default(),
            logs: LogStore::default(),
            server_address: address.to_string(),
            kubelet: Notify::new(),
        });
        let (shutdown, shutdown_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, acceptor, state.clone(), shutdown_rx));
        let kubelet_task = tokio::spawn(kubelet_loop(Arc::downgrade(&state)));
        Ok(Self {
            state,
            address,
            certificates,
            seed_stats,
            shutdown: Some(shutdown),
            task: Some(task),
            kubelet_task: Some(kubelet_task),
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The CA certificate (PEM) that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.certificates.ca_pem
    }

    /// What seeding loaded.
    pub fn seed_stats(&self) -> SeedStats {
        self.seed_stats
    }

    /// Adds or replaces a bearer token while running.
    pub fn add_token(&self, token: &str, identity: Identity) {
        self.state
            .tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token, identity);
    }

    /// A kubeconfig (YAML) for one token, with a context named `rounds-test`.
    pub fn kubeconfig(&self, token: &str, namespace: &str) -> String {
        let user = KubeconfigUser {
            name: "rounds-test".to_string(),
            token: token.to_string(),
            namespace: namespace.to_string(),
        };
        kubeconfig::kubeconfig_yaml(&self.url(), self.ca_pem(), &[user])
    }

    /// Writes [`Self::kubeconfig`] to a file.
    pub fn write_kubeconfig(
        &self,
        path: &Path,
        token: &str,
        namespace: &str,
    ) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig(token, namespace))
    }

    /// Writes `token`, `ca.crt` and `namespace` into a directory, as Kubernetes mounts them
    /// at `/var/run/secrets/kubernetes.io/serviceaccount`.
    pub fn write_service_account_dir(
        &self,
        dir: &Path,
        token: &str,
        namespace: &str,
    ) -> std::io::Result<()> {
        kubeconfig::write_service_account_dir(dir, token, self.ca_pem(), namespace)
    }

    /// The fault rules (add and clear them while the server runs).
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// The request log.
    pub fn requests(&self) -> &RequestLog {
        &self.state.requests
    }

    /// The container logs served at `pods/{name}/log`.
    pub fn logs(&self) -> &LogStore {
        &self.state.logs
    }

    /// Runs a closure with the store locked for writing (seed more objects, inspect state).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.state.write_store())
    }

    /// A copy of one object, by group (`""` for core), plural resource, namespace (`""` when
    /// cluster-scoped) and name.
    pub fn object(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let store = self.state.read_store();
        let info = resource_info(&store, group, resource)?;
        store.get(&info, namespace, name)
    }

    /// A PodDisruptionBudget's status as stored.
    pub fn pdb_status(&self, namespace: &str, name: &str) -> Option<Value> {
        self.object("policy", "poddisruptionbudgets", namespace, name)?
            .get("status")
            .cloned()
    }

    /// Copies of every object of a resource, in namespace/name order.
    pub fn objects(&self, group: &str, resource: &str) -> Vec<Value> {
        let store = self.state.read_store();
        match resource_info(&store, group, resource) {
            Some(info) => store.iter(&info).collect(),
            None => Vec::new(),
        }
    }

    /// Adds or replaces an object as seeded state: stored as given (no validation), its
    /// namespace created if missing; the disruption controller, when running, reacts to it as
    /// to any write.
    pub fn insert(&self, object: Value) -> Result<(), StoreError> {
        let mut store = self.state.write_store();
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let info = store.insert(object)?;
        store.ensure_namespaces();
        disruption::on_change(&mut store, &info, &namespace);
        Ok(())
    }

    /// Makes every continue token issued so far expired (410 Gone on use).
    pub fn expire_continue_tokens(&self) {
        self.state.write_store().expire_continue_tokens();
    }

    /// Finishes every deletion in progress now, as kubelets and the namespace controller
    /// would: Terminating pods (without finalizers) are removed, Terminating namespaces are
    /// emptied and removed. Returns how many objects went.
    pub fn finish_deletions(&self) -> usize {
        kubelet::finish_all(&mut self.state.write_store())
    }

    /// Removes one Terminating pod now; false if it is not Terminating (or finalizers hold it).
    pub fn finish_pod_deletion(&self, namespace: &str, name: &str) -> bool {
        kubelet::finish_pod(&mut self.state.write_store(), namespace, name)
    }

    /// Recomputes every PodDisruptionBudget status now, as the disruption controller would.
    pub fn sync_disruption_budgets(&self) {
        disruption::sync_all(&mut self.state.write_store());
    }

    /// Stops recomputing PodDisruptionBudget statuses after writes (statuses then change only
    /// through evictions, [`Self::set_pdb_status`] and [`Self::sync_disruption_budgets`]).
    pub fn pause_disruption_controller(&self) {
        self.state.write_store().disruption = DisruptionMode::Paused;
    }

    /// Recomputes after writes again, and once now.
    pub fn resume_disruption_controller(&self) {
        let mut store = self.state.write_store();
        store.disruption = DisruptionMode::Auto;
        disruption::sync_all(&mut store);
    }

    /// Writes a PodDisruptionBudget's status as given (a lagging `observedGeneration`, a
    /// stale `disruptionsAllowed`...). With the controller running, the next relevant write
    /// recomputes it: pause it to keep the status as set.
    pub fn set_pdb_status(
        &self,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<Value, ApiError> {
        let mut store = self.state.write_store();
        let pdbs = resource_info(&store, "policy", "poddisruptionbudgets")
            .ok_or_else(|| ApiError::internal("poddisruptionbudgets are not served"))?;
        registry::write_status(&mut store, &pdbs, namespace, name, status)
            .ok_or_else(|| ApiError::not_found(&pdbs, name))
    }

    /// Stops accepting connections and aborts open ones.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.kubelet_task.take() {
            task.abort();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(task) = self.kubelet_task.take() {
            task.abort();
        }
    }
}

/// Removes pods whose grace period has ended, sleeping until the next one ends or a write
/// wakes it. Holds the state weakly, so a dropped server stops it.
async fn kubelet_loop(state: Weak<State>) {
    loop {
        let deadline = {
            let Some(state) = state.upgrade() else { return };
            let store = state.read_store();
            kubelet::next_deadline(&store)
        };
        let Some(strong) = state.upgrade() else {
            return;
        };
        let woken = async {
            match deadline {
                Some(deadline) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {}
                        _ = strong.kubelet.notified() => {}
                    }
                }
                None => strong.kubelet.notified().await,
            }
        };
        woken.await;
        kubelet::finish_due(&mut strong.write_store(), std::time::Instant::now());
        drop(strong);
    }
}

fn resource_info(store: &Store, group: &str, resource: &str) -> Option<ResourceInfo> {
    store.info(group, resource)
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<State>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((tcp, _peer)) = accepted else { continue };
                while connections.try_join_next().is_some() {}
                let acceptor = acceptor.clone();
                let state = state.clone();
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, request).await) }
                    });
                    // Errors here are clients going away or injected dropped connections.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        }
    }
    connections.abort_all();
}

fn anonymous() -> Identity {
    Identity {
        user: "system:anonymous".to_string(),
        groups: vec!["system:unauthenticated".to_string()],
        admin: false,
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authenticates the request and applies `Impersonate-User` / `Impersonate-Group`.
fn authenticate(state: &State, headers: &HeaderMap, path: &str) -> Result<Identity, ApiError> {
    let identity = match bearer_token(headers).and_then(|t| state.identity(t)) {
        Some(identity) => identity,
        None if routes::is_public(path) && bearer_token(headers).is_none() => anonymous(),
        None => return Err(ApiError::unauthorized()),
    };
    let Some(user) = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(identity);
    };
    let groups: Vec<String> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let store = state.read_store();
    let mut checks = vec![match user
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((namespace, name)) => impersonation("serviceaccounts", namespace, name),
        None => impersonation("users", "", user),
    }];
    checks.extend(groups.iter().map(|g| impersonation("groups", "", g)));
    for attributes in checks {
        if !rbac::allowed(&store, &identity, &attributes) {
            return Err(rbac::forbidden(&identity, &attributes));
        }
    }
    Ok(Identity::impersonated(user, &groups))
}

fn impersonation(resource: &str, namespace: &str, name: &str) -> Attributes {
    Attributes {
        verb: "impersonate".to_string(),
        resource: resource.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
        ..Attributes::default()
    }
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Response<ApiBody> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let path_and_query = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let mut record = RequestRecord {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        user: None,
        status: 0,
        dropped: false,
    };
    let (response, dropped) = match serve(
        &state,
        &parts,
        body,
        &path,
        &query,
        &path_and_query,
        &mut record,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => (error_response(&error), false),
    };
    record.status = response.status().as_u16();
    record.dropped = dropped;
    state.requests.push(record);
    response
}

async fn serve(
    state: &State,
    parts: &http::request::Parts,
    body: Incoming,
    path: &str,
    query: &str,
    path_and_query: &str,
    record: &mut RequestRecord,
) -> Result<(Response<ApiBody>, bool), ApiError> {
    let identity = authenticate(state, &parts.headers, path)?;
    let (body, body_too_large) = read_body(body).await?;
    record.user = Some(identity.user.clone());
    let fired = state
        .faults
        .evaluate(parts.method.as_str(), path, path_and_query);
    if let Some(delay) = fired.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(error) = fired.error {
        return Err(error);
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let request = ApiRequest {
        method: parts.method.clone(),
        accept,
        path: path.to_string(),
        query: Query::parse(query),
        content_type,
        body,
        body_too_large,
        identity,
    };
    let reply = routes::dispatch(state, &request)?;
    Ok(reply_response(reply, fired.drop_after_items))
}

/// Reads the body up to one byte over the limit; a longer body is answered 413 by the handler
/// that needs it (as `limitedReadBody` does), the rest is not read.
async fn read_body(mut body: Incoming) -> Result<(Bytes, bool), ApiError> {
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        if let Ok(chunk) = frame.into_data() {
            data.extend_from_slice(&chunk);
            if data.len() > routes::MAX_REQUEST_BODY_BYTES {
                return Ok((Bytes::new(), true));
            }
        }
    }
    Ok((Bytes::from(data), false))
}

fn json_response(status: u16, body: ApiBody) -> Response<ApiBody> {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(error: &ApiError) -> Response<ApiBody> {
    let mut response = json_response(error.code, ApiBody::full(error.to_status().to_string()));
    if let Some(seconds) = error.retry_after
        && let Ok(value) = http::HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Serializes a reply; with `drop_after_items`, only that many list items (or half of another
/// body) are sent before the connection is dropped.
fn reply_response(reply: Reply, drop_after_items: Option<usize>) -> (Response<ApiBody>, bool) {
    match reply {
        Reply::Json(status, value) => {
            let bytes = value.to_string().into_bytes();
            match drop_after_items {
                Some(_) => {
                    let half = bytes.len() / 2;
                    (
                        json_response(status, ApiBody::truncated(bytes[..half].to_vec())),
                        true,
                    )
                }
                None => (json_response(status, ApiBody::full(bytes)), false),
            }
        }
        Reply::Text(status, text) => {
            let mut response = Response::new(ApiBody::full(text));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            (response, false)
        }
        Reply::List(list) => {
            let bytes: usize = list.items.iter().map(|i| i.as_bytes().len() + 1).sum();
            let mut out = Vec::with_capacity(256 + bytes);
            out.extend_from_slice(b"{\"kind\":");
            write_json(&mut out, &Value::from(list.kind));
            out.extend_from_slice(b",\"apiVersion\":");
            write_json(&mut out, &Value::from(list.api_version));
            out.extend_from_slice(b",\"metadata\":");
            write_json(&mut out, &list.metadata);
            out.extend_from_slice(b",\"items\":[");
            let cut = drop_after_items.map(|n| n.min(list.items.len()));
            let count = cut.unwrap_or(list.items.len());
            for (index, item) in list.items.iter().take(count).enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(item.as_bytes());
            }
            match cut {
                Some(_) => {
                    if count > 0 {
                        out.push(b',');
                    }
                    (json_response(200, ApiBody::truncated(out)), true)
                }
                None => {
                    out.extend_from_slice(b"]}");
                    (json_response(200, ApiBody::full(out)), false)
                }
            }
        }
    }
}

fn write_json(out: &mut Vec<u8>, value: &Value) {
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}
