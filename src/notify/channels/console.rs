//! The console: messages as text on standard error (demos, snapshot rounds). Standard output
//! stays the report's.

use super::{ChannelSpec, Deliver, SendContext, SendError};
use crate::notify::message::Message;
use crate::notify::render;
use crate::secrets::SecretFile;
use schemars::JsonSchema;
use serde::Deserialize;
use std::io::Write as _;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Console {
    /// Characters per message at most (default 20000).
    #[serde(default = "default_max")]
    #[schemars(range(min = 200, max = 1000000))]
    pub max_chars: usize,
}

fn default_max() -> usize {
    20_000
}

impl Console {
    pub const SECRET_FIELDS: &'static [&'static str] = &[];
    pub const EXPLAIN: &'static str = "Prints each message as text on standard error (standard output is the report's):\n\
for demos and snapshot rounds, and to see what the other channels would say.\n\n\
Fields:\n  maxChars  characters per message at most (default 20000)";
    pub const EXAMPLE: &'static str = "notifications:\n  channels:\n    stderr:\n      console: {}\n  routes:\n    - name: all\n      channels: [stderr]\n";
}

impl ChannelSpec for Console {
    fn secret_files(&self) -> Vec<(&'static str, &SecretFile)> {
        Vec::new()
    }
}

impl Deliver for Console {
    async fn send(&self, ctx: &SendContext<'_>, msg: &Message) -> Result<(), SendError> {
        let text = render::message_text(msg, self.max_chars);
        let mut err = std::io::stderr().lock();
        writeln!(err, "--- notification ({}) ---\n{text}", ctx.name)
            .map_err(|e| SendError::Permanent(format!("cannot write to standard error: {e}")))
    }
}
