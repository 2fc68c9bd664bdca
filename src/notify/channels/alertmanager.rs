//! Alertmanager's API: POST `/api/v2/alerts`.
//!
//! Alertmanager keeps no alerts across restarts and resolves an alert at its `endsAt`, so each
//! round re-sends what still fires with `endsAt` ahead (by `endsAfter`), and sends findings
//! that are gone with `endsAt` now. Alertmanager then does its own grouping and repeating.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::http::Auth;
use crate::notify::message::{Message, alert_labels, member_of_item};
use crate::notify::render::{self, Detail, truncate};
use crate::playbook::values::Duration;
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alertmanager {
    /// Base URL, e.g. http://alertmanager-operated.monitoring:9093 (no credentials in it).
    pub url: String,
    /// A firing alert ends this long after the round unless the next round re-sends it: a few
    /// CronJob intervals (default 1h).
    #[serde(default = "default_ends_after")]
    pub ends_after: Duration,
    #[serde(default)]
    pub bearer_token_file: Option<SecretFile>,
    #[serde(default)]
    pub basic_auth: Option<super::webhook::BasicAuth>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_ends_after() -> Duration {
    Duration::from_secs(3600)
}

impl Alertmanager {
    pub const SECRET_FIELDS: &'static [&'static str] =
        &["bearerTokenFile", "basicAuth.passwordFile"];
    pub const EXPLAIN: &'static str = "POSTs findings as alerts to Alertmanager's API ({url}/api/v2/alerts): labels\n\
(alertname = playbook, playbook, detector, severity, namespace, pod/node/..., container),\n\
annotations (summary, description with the evidence, playbook_digest), startsAt, endsAt\n\
and generatorURL.\n\
Alertmanager keeps no alerts across restarts and expects firing alerts to be re-sent, so\n\
every round re-sends what still fires with endsAt `endsAfter` ahead (default 1h: make it a\n\
few CronJob intervals) and sends findings that are gone with endsAt now.\n\n\
Fields:\n  url              Alertmanager's base URL\n  endsAfter        how far ahead endsAt is set for firing alerts (default 1h)\n  bearerTokenFile  a file with a bearer token\n  basicAuth        { username, passwordFile }\n  caFile           extra CA bundle (PEM)";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    am:\n      alertmanager:\n        url: http://alertmanager-operated.monitoring:9093\n        endsAfter: 30m\n  routes:\n    - name: all\n      channels: [am]\n";

    pub fn alerts(&self, msg: &Message) -> Value {
        let starts = msg
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let now = msg.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let ends =
            (msg.now + self.ends_after.chrono()).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let with_generator = |mut a: Value| {
            if let Some(u) = &msg.external_url {
                a["generatorURL"] = json!(u);
            }
            a
        };
        let mut alerts: Vec<Value> = msg
            .items
            .iter()
            .map(|i| {
                let mut annotations = json!({
                    "summary": truncate(&i.message, 500),
                    "description": truncate(&render::item_text(i, Detail { events: 5, log_lines: 20, patch_chars: 1000 }), 4000),
                    "round": msg.run_id,
                });
                if msg.dry_run {
                    annotations["dry_run"] = json!("true");
                }
                with_generator(json!({
                    "labels": alert_labels(&member_of_item(i), i.tier, &msg.route),
                    "annotations": annotations,
                    "startsAt": starts,
                    "endsAt": ends,
                }))
            })
            .collect();
        for g in &msg.resolved {
            alerts.push(with_generator(json!({
                "labels": alert_labels(&g.member, msg.tier, &msg.route),
                "annotations": {"summary": format!("{} is resolved", g.label()), "round": msg.run_id},
                "startsAt": starts,
                "endsAt": now,
            })));
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
        Value::Array(alerts)
    }
}

impl ChannelSpec for Alertmanager {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        let mut v = Vec::new();
        if let Some(t) = &self.bearer_token_file {
            v.push(("bearerTokenFile", t));
        }
        if let Some(b) = &self.basic_auth {
            v.push(("basicAuth.passwordFile", &b.password_file));
        }
        v
    }

    fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(m) = crate::notify::config::url_problem(&self.url) {
            out.push(("url".into(), m));
        }
        if self.bearer_token_file.is_some() && self.basic_auth.is_some() {
            out.push((
                "basicAuth".into(),
                "give bearerTokenFile or basicAuth, not both".into(),
            ));
        }
        out
    }

    fn refreshes_every_round(&self) -> bool {
        true
    }

    fn ca_file(&self) -> Option<&PathBuf> {
        self.ca_file.as_ref()
    }
}

impl Deliver for Alertmanager {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let auth = match (&self.bearer_token_file, &self.basic_auth) {
            (Some(t), _) => Some(Auth::Bearer(ctx.secret_text(t)?)),
            (None, Some(b)) => Some(Auth::Basic(&b.username, ctx.secret_text(&b.password_file)?)),
            _ => None,
        };
        let url = format!("{}/api/v2/alerts", self.url.trim_end_matches('/'));
        crate::notify::http::post_json(ctx, &url, &self.alerts(msg), auth, |s, _| s == 200).await
    }
}
