//! PagerDuty Events API v2: `trigger` and `resolve` with a stable `dedup_key` per group.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::Tier;
use crate::notify::message::{Kind, Message};
use crate::notify::render::{self, Detail, fit, truncate};
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::PathBuf;

pub const MAX_SUMMARY: usize = 1024;
pub const MAX_DEDUP_KEY: usize = 255;
/// PagerDuty refuses events over 512 KB; keep a wide margin.
pub const MAX_EVENT_BYTES: usize = 400 * 1024;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PagerDuty {
    /// The file holding the integration's routing key (32 characters).
    pub routing_key_file: SecretFile,
    /// Base URL of the Events API (default https://events.pagerduty.com); events go to
    /// `{url}/v2/enqueue`.
    #[serde(default = "default_url")]
    pub url: String,
    /// `payload.source`: where the problem is (default: rounds).
    #[serde(default = "default_source")]
    pub source: String,
    /// An extra CA bundle (PEM) for a proxy or a private endpoint.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_url() -> String {
    "https://events.pagerduty.com".into()
}

fn default_source() -> String {
    "rounds".into()
}

impl PagerDuty {
    pub const SECRET_FIELDS: &'static [&'static str] = &["routingKeyFile"];
    pub const EXPLAIN: &'static str = "Sends each group to PagerDuty's Events API v2 (POST {url}/v2/enqueue) as a `trigger`,\n\
and a `resolve` with the same `dedup_key` when the group's findings are gone; one incident\n\
per route and group. Tiers map to severities critical, warning and info; `summary` is cut\n\
to 1024 characters, `dedup_key` is at most 255, the findings with their evidence go to\n\
`custom_details` and the whole event stays under 512 KB (\"… and 37 more pods\").\n\
202 is success; only 429 and 5xx are retried.\n\n\
Fields:\n  routingKeyFile  the file holding the integration's routing key\n  url             base URL (default https://events.pagerduty.com)\n  source          payload.source (default rounds)\n  caFile          extra CA bundle (PEM)";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    oncall:\n      pagerduty:\n        routingKeyFile: pagerduty-routing-key\n        source: prod-eu-1\n  routes:\n    - name: pages\n      match: { tiers: [critical] }\n      channels: [oncall]\n";

    pub fn dedup_key(msg: &Message) -> String {
        truncate(&format!("rounds-{}", msg.group_key), MAX_DEDUP_KEY)
    }

    pub fn event(&self, msg: &Message, routing_key: &str) -> Value {
        if msg.kind == Kind::Resolved {
            return json!({
                "routing_key": routing_key,
                "event_action": "resolve",
                "dedup_key": Self::dedup_key(msg),
            });
        }
        let severity = match msg.tier {
            Tier::Critical => "critical",
            Tier::Warning => "warning",
            Tier::Info => "info",
        };
        let mut details = json!({
            "round": msg.run_id,
            "route": msg.route,
            "group": msg.group,
            "dryRun": msg.dry_run,
            "playbooks": msg.playbooks.iter().map(|p| json!({"name": p.name, "digest": p.digest})).collect::<Vec<_>>(),
        });
        let fixed = serde_json::to_vec(&details).map(|v| v.len()).unwrap_or(0) + 4096;
        let (findings, left) = fit(
            &msg.items,
            usize::MAX,
            MAX_EVENT_BYTES.saturating_sub(fixed) / 2,
            0,
            |i| {
                render::item_text(
                    i,
                    Detail {
                        events: 5,
                        log_lines: 30,
                        patch_chars: 2000,
                    },
                )
            },
        );
        details["findings"] = json!(findings);
        if left > 0 {
            details["more"] = json!(render::more(msg, left));
        }
        if !msg.resolved.is_empty() {
            let (gone, left) = fit(&msg.resolved, 200, 20_000, 0, |g| g.label());
            details["resolved"] = json!(gone);
            if left > 0 {
                details["resolvedMore"] = json!(left);
            }
        }
        if let Some(f) = &msg.fallback_for {
            details["fallbackFor"] = json!(f);
        }
        let mut event = json!({
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": Self::dedup_key(msg),
            "client": "rounds",
            "payload": {
                "summary": truncate(&msg.title(), MAX_SUMMARY),
                "source": self.source,
                "severity": severity,
                "timestamp": msg.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "component": msg.playbooks.first().map(|p| p.name.clone()).unwrap_or_default(),
                "group": msg.route,
                "class": msg.items.first().map(|i| i.detector).unwrap_or(""),
                "custom_details": details,
            },
        });
        if let Some(u) = &msg.external_url {
            event["links"] = json!([{"href": u, "text": "rounds"}]);
            event["client_url"] = json!(u);
        }
        event
    }
}

impl ChannelSpec for PagerDuty {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        vec![("routingKeyFile", &self.routing_key_file)]
    }

    fn problems(&self) -> Vec<(String, String)> {
        crate::notify::config::url_problem(&self.url)
            .map(|m| vec![("url".to_owned(), m)])
            .unwrap_or_default()
    }

    fn ca_file(&self) -> Option<&PathBuf> {
        self.ca_file.as_ref()
    }
}

impl Deliver for PagerDuty {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let key = ctx.secret_text(&self.routing_key_file)?;
        let url = format!("{}/v2/enqueue", self.url.trim_end_matches('/'));
        crate::notify::http::post_json(ctx, &url, &self.event(msg, key), None, |s, _| {
            s == 202 || s == 200
        })
        .await
    }
}
