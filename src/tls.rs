//! TLS for outgoing HTTPS other than the Kubernetes API (Prometheus, notification channels):
//! rustls with the ring provider and the webpki roots compiled in, because a `FROM scratch`
//! image has no system certificates.

use std::sync::Arc;

pub fn client_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| unreachable!("ring supports the default protocol versions"))
        .with_root_certificates(roots)
        .with_no_client_auth()
}
