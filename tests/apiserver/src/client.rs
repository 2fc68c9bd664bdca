//! A minimal HTTPS client for tests that need raw status codes, headers and bodies (or to see
//! a connection dropped), trusting the server's CA.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::server::TestApiServer;
use crate::tls::provider;

/// A request could not be made or its answer not read.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA PEM is not usable.
    #[error("invalid CA certificate: {0}")]
    Ca(String),
    /// TLS configuration failed.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Connecting failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP exchange failed (including a body cut short by a dropped connection).
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("invalid request: {0}")]
    Request(#[from] http::Error),
}

/// A status, headers and a whole body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RawResponse {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client for one server and one (optional) bearer token. Each request uses a new connection.
#[derive(Clone)]
pub struct Client {
    address: SocketAddr,
    connector: TlsConnector,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a running server.
    pub fn new(server: &TestApiServer, token: Option<&str>) -> Result<Self, ClientError> {
        Self::from_parts(server.address(), server.ca_pem(), token)
    }

    /// A client for an address, trusting a CA PEM.
    pub fn from_parts(
        address: SocketAddr,
        ca_pem: &str,
        token: Option<&str>,
    ) -> Result<Self, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            let cert = cert.map_err(|e| ClientError::Ca(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| ClientError::Ca(e.to_string()))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            address,
            connector: TlsConnector::from(Arc::new(config)),
            token: token.map(str::to_string),
        })
    }

    /// Sends a request. `headers` are added as given (e.g. `Impersonate-User`).
    pub async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<RawResponse, ClientError> {
        let tcp = TcpStream::connect(self.address).await?;
        let tls = self
            .connector
            .connect(ServerName::from(self.address.ip()), tcp)
            .await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        let driver = tokio::spawn(connection);
        let mut builder = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(header::HOST, self.address.to_string())
            .header(header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        driver.abort();
        Ok(RawResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// GET.
    pub async fn get(&self, path_and_query: &str) -> Result<RawResponse, ClientError> {
        self.request(Method::GET, path_and_query, None, None, &[])
            .await
    }

    /// POST a JSON body.
    pub async fn post(
        &self,
        path_and_query: &str,
        body: &Value,
    ) -> Result<RawResponse, ClientError> {
        self.send_json(Method::POST, path_and_query, "application/json", body)
            .await
    }

    /// PUT a JSON body.
    pub async fn put(
        &self,
        path_and_query: &str,
        body: &Value,
    ) -> Result<RawResponse, ClientError> {
        self.send_json(Method::PUT, path_and_query, "application/json", body)
            .await
    }

    /// PATCH with a content type (`application/merge-patch+json`, ...).
    pub async fn patch(
        &self,
        path_and_query: &str,
        content_type: &str,
        body: &Value,
    ) -> Result<RawResponse, ClientError> {
        self.send_json(Method::PATCH, path_and_query, content_type, body)
            .await
    }

    /// DELETE, with an optional DeleteOptions body.
    pub async fn delete(
        &self,
        path_and_query: &str,
        options: Option<&Value>,
    ) -> Result<RawResponse, ClientError> {
        match options {
            Some(body) => {
                self.send_json(Method::DELETE, path_and_query, "application/json", body)
                    .await
            }
            None => {
                self.request(Method::DELETE, path_and_query, None, None, &[])
                    .await
            }
        }
    }

    async fn send_json(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: &str,
        body: &Value,
    ) -> Result<RawResponse, ClientError> {
        let bytes = body.to_string().into_bytes();
        self.request(method, path_and_query, Some(content_type), Some(bytes), &[])
            .await
    }
}
