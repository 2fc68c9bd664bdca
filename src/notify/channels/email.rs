//! Email over SMTP with lettre and rustls (webpki roots compiled in, no OpenSSL, no system
//! certificates): STARTTLS required (never opportunistic) or implicit TLS, AUTH PLAIN/LOGIN,
//! text and HTML parts.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::message::Message;
use crate::notify::render;
use crate::secrets::SecretFile;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;

/// Mail clients cope with large mails, but on-call phones do not; keep each part bounded.
pub const MAX_TEXT: usize = 200_000;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Email {
    /// The relay's host name (as its certificate names it).
    pub host: String,
    /// Default: 587 for STARTTLS, 465 for implicit TLS.
    #[serde(default)]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// `starttls` (STARTTLS required: a server that does not offer it is refused) or
    /// `implicit` (TLS from the first byte). Default: implicit on port 465, else starttls.
    #[serde(default)]
    pub tls: Option<EmailTls>,
    /// The sender, e.g. `rounds <rounds@example.com>`.
    pub from: String,
    #[schemars(length(min = 1, max = 100))]
    pub to: Vec<String>,
    /// The AUTH user name (not a secret); or `usernameFile`.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub username_file: Option<SecretFile>,
    /// The file holding the AUTH password.
    #[serde(default)]
    pub password_file: Option<SecretFile>,
    /// An extra CA bundle (PEM) for a private relay.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Put in front of every subject (default `[rounds]`).
    #[serde(default = "default_prefix")]
    pub subject_prefix: String,
}

fn default_prefix() -> String {
    "[rounds]".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum EmailTls {
    Starttls,
    Implicit,
}

impl Email {
    /// `username` may be written inline (it is no secret); its file form is optional.
    pub const SECRET_FIELDS: &'static [&'static str] = &["passwordFile"];
    pub const EXPLAIN: &'static str = "Mails each group over SMTP with TLS, always: STARTTLS required on 587 (a server that\n\
does not offer STARTTLS is refused, never used in plain text) or implicit TLS on 465.\n\
AUTH PLAIN or LOGIN with the password from a file; certificates are checked against the\n\
compiled-in webpki roots plus an optional extra CA file for private relays. The mail has a\n\
text and an HTML part; the subject carries the tier and what was found. Connect and command\n\
timeouts come from notifications.timeouts.\n\n\
Fields:\n  host            the relay (as its certificate names it)\n  port            587 (starttls) or 465 (implicit) by default\n  tls             starttls | implicit\n  from, to        addresses\n  username        AUTH user (or usernameFile)\n  passwordFile    the file holding the AUTH password\n  caFile          extra CA bundle (PEM)\n  subjectPrefix   default [rounds]";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    oncall-mail:\n      email:\n        host: smtp.example.com\n        from: rounds <rounds@example.com>\n        to: [oncall@example.com]\n        username: rounds\n        passwordFile: smtp-password\n  routes:\n    - name: mail\n      channels: [oncall-mail]\n";

    pub fn tls_mode(&self) -> EmailTls {
        match (self.tls, self.port) {
            (Some(t), _) => t,
            (None, Some(465)) => EmailTls::Implicit,
            _ => EmailTls::Starttls,
        }
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls_mode() {
            EmailTls::Implicit => 465,
            EmailTls::Starttls => 587,
        })
    }

    /// The mail itself, for sending and for tests.
    pub fn mail(&self, msg: &Message) -> Result<lettre::Message, SendError> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|e| SendError::Permanent(format!("from: {e}")))?;
        let mut b = lettre::Message::builder().from(from).subject(
            format!("{} {}", self.subject_prefix, msg.title())
                .trim()
                .to_owned(),
        );
        for to in &self.to {
            let m: Mailbox = to
                .parse()
                .map_err(|e| SendError::Permanent(format!("to: {e}")))?;
            b = b.to(m);
        }
        b.multipart(MultiPart::alternative_plain_html(
            render::message_text(msg, MAX_TEXT),
            render::message_html(msg, MAX_TEXT),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))
    }
}

impl ChannelSpec for Email {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        let mut v = Vec::new();
        if let Some(p) = &self.password_file {
            v.push(("passwordFile", p));
        }
        if let Some(u) = &self.username_file {
            v.push(("usernameFile", u));
        }
        v
    }

    fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Err(e) = self.from.parse::<Mailbox>() {
            out.push(("from".into(), format!("not an email address: {e}")));
        }
        for (i, to) in self.to.iter().enumerate() {
            if let Err(e) = to.parse::<Mailbox>() {
                out.push((format!("to.{i}"), format!("not an email address: {e}")));
            }
        }
        let has_user = self.username.is_some() || self.username_file.is_some();
        if self.username.is_some() && self.username_file.is_some() {
            out.push((
                "usernameFile".into(),
                "give username or usernameFile, not both".into(),
            ));
        }
        if has_user != self.password_file.is_some() {
            out.push((
                "passwordFile".into(),
                "AUTH needs both a user name (username or usernameFile) and passwordFile".into(),
            ));
        }
        if self.tls == Some(EmailTls::Starttls) && self.port == Some(465) {
            out.push((
                "port".into(),
                "port 465 speaks implicit TLS; use `tls: implicit` (or port 587 for STARTTLS)"
                    .into(),
            ));
        }
        if self.host.is_empty() || self.host.contains(['/', ':', '@', ' ']) {
            out.push((
                "host".into(),
                "expected a host name such as smtp.example.com".into(),
            ));
        }
        out
    }

    fn ca_file(&self) -> Option<&PathBuf> {
        self.ca_file.as_ref()
    }
}

impl Deliver for Email {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let mail = self.mail(msg)?;
        let mut params = TlsParameters::builder(self.host.clone());
        if let Some(pem) = ctx.extra_ca_pem {
            let cert = Certificate::from_pem(pem)
                .map_err(|e| SendError::Permanent(format!("the CA file: {e}")))?;
            params = params.add_root_certificate(cert);
        }
        let params = params
            .build_rustls()
            .map_err(|e| SendError::Permanent(format!("TLS setup: {e}")))?;
        let tls = match self.tls_mode() {
            EmailTls::Starttls => Tls::Required(params),
            EmailTls::Implicit => Tls::Wrapper(params),
        };
        let mut transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
                .port(self.port())
                .tls(tls)
                // lettre's async transport applies this to connecting only: a server that
                // stops answering mid-session is cut off by the attempt's timeout below.
                .timeout(Some(
                    ctx.connect_timeout.max(std::time::Duration::from_secs(1)),
                ));
        let user = match (&self.username, &self.username_file) {
            (Some(u), _) => Some(u.clone()),
            (None, Some(f)) => Some(ctx.secret_text(f)?.to_owned()),
            _ => None,
        };
        if let (Some(user), Some(pw)) = (user, &self.password_file) {
            transport = transport
                .credentials(Credentials::new(user, ctx.secret_text(pw)?.to_owned()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        let transport = transport.build();
        match tokio::time::timeout(ctx.attempt_timeout, transport.send(mail)).await {
            Err(_) => Err(SendError::Transient(format!(
                "the SMTP server did not finish within {}",
                humantime::format_duration(ctx.attempt_timeout)
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(&e)),
        }
    }
}

fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let text = format!("SMTP: {}", crate::notify::http::chain(e));
    if e.is_permanent() || e.is_tls() || e.is_client() {
        SendError::Permanent(text)
    } else {
        // Transient replies (4xx), timeouts, connection errors.
        SendError::Transient(text)
    }
}
