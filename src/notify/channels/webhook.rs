//! A generic webhook with Alertmanager's webhook payload (version 4), so receivers written for
//! Alertmanager work unchanged.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::http::Auth;
use crate::notify::message::{Kind, Message, alert_labels};
use crate::notify::render::{self, Detail, truncate};
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What Alertmanager writes for an alert that has not ended.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
pub const MAX_DESCRIPTION: usize = 4000;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Webhook {
    /// The file holding the receiver's URL (URLs often carry a token).
    pub url_file: SecretFile,
    /// The file holding a bearer token for `Authorization: Bearer`.
    #[serde(default)]
    pub bearer_token_file: Option<SecretFile>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// At most this many alerts per message; the rest are counted in `truncatedAlerts`.
    #[serde(default = "default_max_alerts")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_alerts: usize,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_max_alerts() -> usize {
    200
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BasicAuth {
    pub username: String,
    pub password_file: SecretFile,
}

impl Webhook {
    pub const SECRET_FIELDS: &'static [&'static str] =
        &["urlFile", "bearerTokenFile", "basicAuth.passwordFile"];
    pub const EXPLAIN: &'static str = "POSTs each group as Alertmanager's webhook payload (version \"4\": groupKey, status\n\
firing|resolved, receiver, groupLabels, commonLabels, commonAnnotations, externalURL,\n\
truncatedAlerts, alerts[] with status, labels, annotations (with playbook_digest), startsAt,\n\
endsAt, generatorURL, fingerprint), so receivers written for Alertmanager work unchanged. Findings that are gone\n\
are sent as resolved alerts. Optional bearer token or basic auth, both from files.\n\n\
Fields:\n  urlFile          the file holding the receiver URL\n  bearerTokenFile  a file with a bearer token\n  basicAuth        { username, passwordFile }\n  maxAlerts        alerts per message (default 200)\n  caFile           extra CA bundle (PEM)";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    receiver:\n      webhook:\n        urlFile: webhook-url\n        bearerTokenFile: webhook-token\n  routes:\n    - name: all\n      channels: [receiver]\n";

    pub fn payload(&self, receiver: &str, msg: &Message) -> Value {
        let mut alerts: Vec<Value> = Vec::new();
        let generator = msg.external_url.clone().unwrap_or_default();
        let starts = msg
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let now = msg.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let total = msg.items.len() + msg.resolved.len();
        for i in msg.items.iter().take(self.max_alerts) {
            let labels = alert_labels(
                &crate::notify::message::member_of_item(i),
                i.tier,
                &msg.route,
            );
            alerts.push(json!({
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": truncate(&i.message, 500),
                    "description": truncate(&render::item_text(i, Detail { events: 5, log_lines: 20, patch_chars: 1000 }), MAX_DESCRIPTION),
                },
                "startsAt": starts,
                "endsAt": ZERO_TIME,
                "generatorURL": generator,
                "fingerprint": crate::notify::log::short(&i.fingerprint),
            }));
        }
        let room = self.max_alerts.saturating_sub(alerts.len());
        for g in msg.resolved.iter().take(room) {
            let labels = alert_labels(&g.member, msg.tier, &msg.route);
            alerts.push(json!({
                "status": "resolved",
                "labels": labels,
                "annotations": {"summary": format!("{} is resolved", g.label())},
                "startsAt": starts,
                "endsAt": now,
                "generatorURL": generator,
                "fingerprint": crate::notify::log::short(&g.fingerprint),
            }));
        }
        if msg.dry_run {
            // An annotation, not a label: the alert is the same one an apply round sends.
            for a in &mut alerts {
                a["annotations"]["dry_run"] = json!("true");
            }
        }
        // Which version of the playbook spoke; an annotation, so a new version is no new alert.
        for a in &mut alerts {
            if let Some(d) = a["labels"]["playbook"]
                .as_str()
                .and_then(|p| msg.digest_of(p))
            {
                a["annotations"]["playbook_digest"] = json!(d);
            }
        }
        let status = if msg.kind == Kind::Firing && !msg.items.is_empty() {
            "firing"
        } else {
            "resolved"
        };
        json!({
            "version": "4",
            "groupKey": format!("rounds/{}:{}", msg.route, msg.group),
            "truncatedAlerts": total - alerts.len(),
            "status": status,
            "receiver": receiver,
            "groupLabels": msg.group_labels,
            "commonLabels": common(&alerts, "labels"),
            "commonAnnotations": common(&alerts, "annotations"),
            "externalURL": generator,
            "alerts": alerts,
        })
    }
}

/// The key/value pairs every alert has in `field`.
fn common(alerts: &[Value], field: &str) -> BTreeMap<String, String> {
    let mut iter = alerts.iter().filter_map(|a| a[field].as_object());
    let Some(first) = iter.next() else {
        return BTreeMap::new();
    };
    let mut out: Map<String, Value> = first.clone();
    for a in iter {
        out.retain(|k, v| a.get(k) == Some(v));
    }
    out.into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect()
}

impl ChannelSpec for Webhook {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        let mut v = vec![("urlFile", &self.url_file)];
        if let Some(t) = &self.bearer_token_file {
            v.push(("bearerTokenFile", t));
        }
        if let Some(b) = &self.basic_auth {
            v.push(("basicAuth.passwordFile", &b.password_file));
        }
        v
    }

    fn problems(&self) -> Vec<(String, String)> {
        if self.bearer_token_file.is_some() && self.basic_auth.is_some() {
            return vec![(
                "basicAuth".into(),
                "give bearerTokenFile or basicAuth, not both".into(),
            )];
        }
        Vec::new()
    }

    fn ca_file(&self) -> Option<&PathBuf> {
        self.ca_file.as_ref()
    }
}

impl Deliver for Webhook {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let url = ctx.secret_text(&self.url_file)?;
        let auth = match (&self.bearer_token_file, &self.basic_auth) {
            (Some(t), _) => Some(Auth::Bearer(ctx.secret_text(t)?)),
            (None, Some(b)) => Some(Auth::Basic(&b.username, ctx.secret_text(&b.password_file)?)),
            _ => None,
        };
        let body = self.payload(ctx.name, msg);
        crate::notify::http::post_json(ctx, url, &body, auth, |_, _| true).await
    }
}
