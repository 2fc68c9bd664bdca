//! Slack: an incoming webhook with Block Kit.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::message::{Kind, Message};
use crate::notify::render::{self, Detail, fit, truncate};
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Slack's limits: blocks per message, characters per section and header, and the text
/// fallback (Slack cuts `text` at 40k; we stay well below).
pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION: usize = 3000;
pub const MAX_HEADER: usize = 150;
pub const MAX_TEXT: usize = 3000;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Slack {
    /// The file holding the incoming-webhook URL (https://hooks.slack.com/services/...). The
    /// URL is the credential; it is also the base URL, so tests point it at a local receiver.
    pub webhook_url_file: SecretFile,
}

impl Slack {
    pub const SECRET_FIELDS: &'static [&'static str] = &["webhookUrlFile"];
    pub const EXPLAIN: &'static str = "Posts each group to a Slack incoming webhook, as Block Kit.\n\
A header (the tier and what was found), one section per finding with its evidence, what was\n\
done and the previous container's log tail (redacted), within Slack's limits: at most 50\n\
blocks, 3000 characters per section, 150 per header; what does not fit is summarized as\n\
\"… and 37 more pods\". A plain `text` fallback is always set. Success is HTTP 200 with the\n\
body `ok`; 429 is retried after its Retry-After.\n\n\
Fields:\n  webhookUrlFile  the file (under the secrets directory) holding the webhook URL";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    ops-slack:\n      slack:\n        webhookUrlFile: slack-webhook-url\n  routes:\n    - name: everything\n      channels: [ops-slack]\n";

    pub fn payload(msg: &Message) -> Value {
        let mut blocks: Vec<Value> = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(&msg.title(), MAX_HEADER), "emoji": false}
        })];
        let header = render::header_text(msg);
        let context: Vec<&str> = header.lines().skip(1).collect();
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": truncate(&escape(&context.join("\n")), MAX_SECTION)}]
        }));
        // Header, context, the "more" section and the resolved section take four blocks.
        let room = MAX_BLOCKS - 4;
        if msg.kind == Kind::Firing {
            let (sections, left) = fit(&msg.items, room, usize::MAX, 0, |i| {
                let d = Detail {
                    events: 3,
                    log_lines: 10,
                    patch_chars: 600,
                };
                truncate(
                    &format!(
                        "```{}```",
                        render::item_text(i, d).trim_end().replace("```", "'''")
                    ),
                    MAX_SECTION,
                )
            });
            for s in sections {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": s}}));
            }
            if left > 0 || msg.muted > 0 {
                let mut t = String::new();
                if left > 0 {
                    t.push_str(&render::more(msg, left));
                }
                if msg.muted > 0 {
                    t.push_str(&format!(" ({} muted by inhibition)", msg.muted));
                }
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(t.trim(), MAX_SECTION)}}));
            }
        }
        let resolved = render::resolved_text(msg, MAX_SECTION - 10);
        if !resolved.is_empty() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&escape(&resolved), MAX_SECTION)}}));
        }
        json!({
            "text": truncate(&render::message_text(msg, MAX_TEXT), MAX_TEXT),
            "blocks": blocks,
        })
    }
}

/// Slack's mrkdwn needs &, < and > escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl ChannelSpec for Slack {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        vec![("webhookUrlFile", &self.webhook_url_file)]
    }
}

impl Deliver for Slack {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let url = ctx.secret_text(&self.webhook_url_file)?;
        let body = Self::payload(msg);
        crate::notify::http::post_json(ctx, url, &body, None, |status, text| {
            status == 200 && text.trim() == "ok"
        })
        .await
    }
}
