//! Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received");
//! Office 365 connectors are retired.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::message::{Kind, Message};
use crate::notify::render::{self, Detail, fit, truncate};
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Teams refuses cards over about 28 KB; the budget leaves room for the envelope.
pub const MAX_BYTES: usize = 28 * 1000;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Teams {
    /// The file holding the Workflows webhook URL (it carries a signature: a credential).
    pub webhook_url_file: SecretFile,
}

impl Teams {
    pub const SECRET_FIELDS: &'static [&'static str] = &["webhookUrlFile"];
    pub const EXPLAIN: &'static str = "Posts each group to a Microsoft Teams Workflows webhook as an Adaptive Card\n\
(`{\"type\":\"message\",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\",...}]}`),\n\
kept under 28 KB: findings that do not fit are summarized as \"… and 37 more pods\".\n\
Workflows answer 202 Accepted with an empty body: that is success.\n\n\
Fields:\n  webhookUrlFile  the file (under the secrets directory) holding the workflow's URL";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    ops-teams:\n      teams:\n        webhookUrlFile: teams-workflow-url\n  routes:\n    - name: warnings\n      match: { tiers: [warning, critical] }\n      channels: [ops-teams]\n";

    pub fn payload(msg: &Message) -> Value {
        let text_block = |text: String, extra: Value| {
            let mut b = json!({"type": "TextBlock", "text": text, "wrap": true});
            if let (Some(b), Some(extra)) = (b.as_object_mut(), extra.as_object()) {
                b.extend(extra.clone());
            }
            b
        };
        let mut body = vec![text_block(
            truncate(&msg.title(), 300),
            json!({"size": "Large", "weight": "Bolder", "color": color(msg)}),
        )];
        let header = render::header_text(msg);
        body.push(text_block(
            truncate(
                &header.lines().skip(1).collect::<Vec<_>>().join("\n\n"),
                2000,
            ),
            json!({"isSubtle": true, "size": "Small"}),
        ));
        let envelope = |body: Vec<Value>| {
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "msteams": {"width": "Full"},
                        "body": body,
                    }
                }]
            })
        };
        let fixed = serde_json::to_vec(&envelope(body.clone()))
            .map(|v| v.len())
            .unwrap_or(0);
        // JSON escaping can double a character's size; count generously.
        let budget = MAX_BYTES.saturating_sub(fixed + 1500) / 2;
        if msg.kind == Kind::Firing {
            let (parts, left) = fit(&msg.items, usize::MAX, budget, 0, |i| {
                let d = Detail {
                    events: 3,
                    log_lines: 10,
                    patch_chars: 400,
                };
                truncate(&render::item_text(i, d), 2500)
            });
            for p in parts {
                body.push(text_block(
                    p,
                    json!({"fontType": "Monospace", "separator": true}),
                ));
            }
            if left > 0 {
                body.push(text_block(
                    render::more(msg, left),
                    json!({"weight": "Bolder"}),
                ));
            }
            if msg.muted > 0 {
                body.push(text_block(
                    format!("{} muted by inhibition", msg.muted),
                    json!({}),
                ));
            }
        }
        let resolved = render::resolved_text(msg, 3000);
        if !resolved.is_empty() {
            body.push(text_block(resolved, json!({"color": "Good"})));
        }
        envelope(body)
    }
}

fn color(msg: &Message) -> &'static str {
    match (msg.kind, msg.tier) {
        (Kind::Resolved, _) => "Good",
        (_, crate::notify::Tier::Critical) => "Attention",
        (_, crate::notify::Tier::Warning) => "Warning",
        _ => "Default",
    }
}

impl ChannelSpec for Teams {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        vec![("webhookUrlFile", &self.webhook_url_file)]
    }
}

impl Deliver for Teams {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let url = ctx.secret_text(&self.webhook_url_file)?;
        // Workflows answer 202 with an empty body; older flows answer 200.
        crate::notify::http::post_json(ctx, url, &Self::payload(msg), None, |status, _| {
            status == 200 || status == 202
        })
        .await
    }
}
