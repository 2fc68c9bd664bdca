//! HTTP for the webhook-style channels: one client per channel (rustls with the webpki roots,
//! plus an optional extra CA bundle), and one rule for reading answers: which are success, which
//! are worth a retry.

use super::channels::{SendContext, SendError};
use std::sync::Arc;
use std::time::Duration;

/// A client with the connect timeout; each request sets its own total timeout.
pub fn client(connect: Duration, extra_ca_pem: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = extra_ca_pem {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("the CA file holds no certificate".into());
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| format!("the CA file holds a certificate rustls refuses: {e}"))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(connect)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("rounds/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client setup: {}", chain(&e)))
}

/// An error with its causes ("error sending request: connection refused"), without the URL.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

/// POSTs JSON and reads the answer. `ok` decides whether a 2xx answer (status, body) is success.
pub async fn post_json(
    ctx: &SendContext<'_>,
    url: &str,
    body: &serde_json::Value,
    auth: Option<Auth<'_>>,
    ok: impl Fn(u16, &str) -> bool,
) -> Result<(), SendError> {
    let mut req = ctx.http.post(url).timeout(ctx.attempt_timeout).json(body);
    match auth {
        Some(Auth::Bearer(t)) => req = req.bearer_auth(t),
        Some(Auth::Basic(u, p)) => req = req.basic_auth(u, Some(p)),
        None => {}
    }
    let resp = req.send().await.map_err(|e| {
        let e = e.without_url();
        let text = chain(&e);
        if e.is_timeout() {
            SendError::Transient(format!("timed out: {text}"))
        } else {
            SendError::Transient(text)
        }
    })?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, ctx.now));
    // The body only for messages; bounded, since a misbehaving server can send anything.
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) if (200..300).contains(&status) => {
            return Err(SendError::Transient(format!(
                "HTTP {status}, but reading the answer failed: {}",
                chain(&e.without_url())
            )));
        }
        Err(_) => String::new(),
    };
    let detail = |what: &str| {
        let body = super::render::truncate(text.trim(), 200);
        if body.is_empty() {
            format!("HTTP {status} {what}")
        } else {
            format!("HTTP {status} {what}: {body}")
        }
    };
    match status {
        200..=299 if ok(status, &text) => Ok(()),
        200..=299 => Err(SendError::Permanent(detail("with an unexpected answer"))),
        429 => Err(SendError::Throttled {
            retry_after,
            detail: detail("(throttled)"),
        }),
        500..=599 => Err(SendError::Transient(detail("(server error)"))),
        _ => Err(SendError::Permanent(detail("(refused)"))),
    }
}

pub enum Auth<'a> {
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let t = chrono::DateTime::parse_from_rfc2822(v).ok()?.to_utc();
    Some((t - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .expect("time")
            .to_utc();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        assert!(client(Duration::from_secs(1), Some(b"not pem")).is_err());
        assert!(client(Duration::from_secs(1), None).is_ok());
    }
}
