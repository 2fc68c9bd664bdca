//! Notification channels. Each is one file: its config struct (`deny_unknown_fields`, secrets
//! as `*File` fields), an `EXPLAIN` text and a tested `EXAMPLE`, how it renders a message within
//! the receiver's limits, and how it sends it. Adding one: a file and a line in [`channels!`].

mod alertmanager;
mod console;
mod email;
mod pagerduty;
mod slack;
mod teams;
mod webhook;

use super::message::Message;
use crate::secrets::{SecretFile, Secrets};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::time::Duration;

/// The static side of a channel: what it needs, checked before any round.
pub trait ChannelSpec {
    /// Its secret files, with the field (relative to the channel's mapping) naming each.
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)>;
    /// Checks across fields: `(field, message)`.
    fn problems(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// True for receivers that expect firing alerts again every round (Alertmanager).
    fn refreshes_every_round(&self) -> bool {
        false
    }
    /// An extra CA bundle for TLS to a private endpoint.
    fn ca_file(&self) -> Option<&PathBuf> {
        None
    }
}

/// What a channel gets to send one message.
pub struct SendContext<'a> {
    /// The channel's name in the config.
    pub name: &'a str,
    pub secrets: &'a Secrets,
    pub http: &'a reqwest::Client,
    pub now: DateTime<Utc>,
    /// Per attempt: to connect, and for the whole attempt.
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub extra_ca_pem: Option<&'a [u8]>,
}

impl SendContext<'_> {
    /// A secret the config named; it was read at the start of the round.
    pub fn secret(&self, file: &SecretFile) -> Result<&SecretString, SendError> {
        self.secrets.get(file).ok_or_else(|| {
            SendError::Permanent(format!("secret file {file} was not loaded for this round"))
        })
    }

    pub fn secret_text(&self, file: &SecretFile) -> Result<&str, SendError> {
        self.secret(file).map(|s| s.expose_secret())
    }
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// Network errors, timeouts, 5xx: retried with backoff.
    Transient(String),
    /// 429: retried after Retry-After when that fits the deadline.
    Throttled {
        retry_after: Option<Duration>,
        detail: String,
    },
    /// Other 4xx, a refused TLS or AUTH, a bad answer: not retried.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(d) | Self::Permanent(d) => f.write_str(d),
            Self::Throttled { detail, .. } => f.write_str(detail),
        }
    }
}

macro_rules! channels {
    ($($name:literal => $variant:ident($module:ident::$ty:ident)),* $(,)?) => {
        /// A channel with its typed config, as written under `notifications.channels.NAME`.
        #[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
        #[schemars(extend("x-rounds-kind" = "channel"))]
        pub enum Channel {
            $(#[serde(rename = $name)] $variant($module::$ty)),*
        }

        impl Channel {
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant(_) => $name),* }
            }

            pub fn imp(&self) -> &dyn ChannelSpec {
                match self { $(Self::$variant(c) => c),* }
            }

            pub async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
                match self { $(Self::$variant(c) => c.send(ctx, msg).await),* }
            }

            /// The `*File` fields of a channel kind (dotted for nested ones), to refuse their
            /// inline forms with a helpful message.
            pub fn secret_fields_of(kind: &str) -> &'static [&'static str] {
                match kind { $($name => $module::$ty::SECRET_FIELDS,)* _ => &[] }
            }

            /// Every channel: name, explanation and an example config (tested to validate).
            pub const CATALOG: &'static [(&'static str, &'static str, &'static str)] = &[
                $(($name, $module::$ty::EXPLAIN, $module::$ty::EXAMPLE)),*
            ];
        }
    };
}

channels! {
    "slack" => Slack(slack::Slack),
    "teams" => Teams(teams::Teams),
    "pagerduty" => PagerDuty(pagerduty::PagerDuty),
    "webhook" => Webhook(webhook::Webhook),
    "alertmanager" => Alertmanager(alertmanager::Alertmanager),
    "email" => Email(email::Email),
    "console" => Console(console::Console),
}

/// The sending side, implemented by every channel.
pub(crate) trait Deliver {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError>;
}
