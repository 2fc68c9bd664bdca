//! Checks for `rounds doctor` (the command is `ship`'s): the secret files exist and are valid,
//! and every channel's endpoint answers. Nothing here sends a notification.

use super::NotifyConfig;
use super::channels::Channel;
use crate::secrets::{Secrets, SecretsDir};
use secrecy::ExposeSecret;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `secret notifications.channels.ops.slack.webhookUrlFile`.
    pub what: String,
    pub ok: bool,
    /// Why it failed or what was found; never a secret value (URLs are stripped).
    pub detail: String,
}

/// Every secret file the config names: exists, readable, UTF-8, not empty, at most 64 KiB.
pub fn check_secrets(cfg: &NotifyConfig, secrets_dir: &Path) -> Vec<Check> {
    let dir = SecretsDir::new(secrets_dir);
    cfg.secret_files()
        .into_iter()
        .map(|(file, field)| {
            let what = format!("secret {field}");
            match dir.read(file, &field) {
                Ok(_) => Check {
                    what,
                    ok: true,
                    detail: format!("{} is readable", dir.resolve(file).display()),
                },
                Err(e) => Check {
                    what,
                    ok: false,
                    detail: e.to_string(),
                },
            }
        })
        .collect()
}

/// Whether each channel's endpoint accepts a connection within `timeout` (TCP; no message is
/// sent). Channels whose secrets cannot be read are reported by [`check_secrets`] and skipped.
pub async fn check_channels(
    cfg: &NotifyConfig,
    secrets_dir: &Path,
    timeout: Duration,
) -> Vec<Check> {
    let (secrets, _) = Secrets::load_available(&SecretsDir::new(secrets_dir), cfg.secret_files());
    let redactor = secrets.redactor();
    let secrets = Some(&secrets);
    let mut out = Vec::new();
    for (name, channel) in &cfg.channels {
        let what = format!("channel {name} ({})", channel.kind());
        let endpoint = match endpoint(channel, secrets) {
            Ok(Some(e)) => e,
            Ok(None) => {
                out.push(Check {
                    what,
                    ok: true,
                    detail: "nothing to reach".into(),
                });
                continue;
            }
            Err(e) => {
                out.push(Check {
                    what,
                    ok: false,
                    detail: e,
                });
                continue;
            }
        };
        let result = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&endpoint)).await;
        let (ok, detail) = match result {
            Ok(Ok(_)) => (true, format!("{endpoint} accepts connections")),
            Ok(Err(e)) => (false, format!("cannot connect to {endpoint}: {e}")),
            Err(_) => (
                false,
                format!(
                    "{endpoint} did not answer within {}",
                    humantime::format_duration(timeout)
                ),
            ),
        };
        out.push(Check {
            what,
            ok,
            detail: redactor.scrub(&detail),
        });
    }
    out
}

/// `host:port` of a channel, from its config or its secret URL.
fn endpoint(channel: &Channel, secrets: Option<&Secrets>) -> Result<Option<String>, String> {
    let from_url = |url: &str| -> Result<Option<String>, String> {
        let (scheme, rest) = url.split_once("://").ok_or("the URL has no scheme")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        if host_port.is_empty() {
            return Err("the URL has no host".into());
        }
        if host_port
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            return Ok(Some(host_port.to_owned()));
        }
        let port = if scheme == "https" { 443 } else { 80 };
        Ok(Some(format!("{host_port}:{port}")))
    };
    let secret_url = |file| -> Result<Option<String>, String> {
        let s = secrets
            .and_then(|s| s.get(file))
            .ok_or("its secret file cannot be read (see the secret checks)")?;
        from_url(s.expose_secret())
    };
    match channel {
        Channel::Slack(c) => secret_url(&c.webhook_url_file),
        Channel::Teams(c) => secret_url(&c.webhook_url_file),
        Channel::Webhook(c) => secret_url(&c.url_file),
        Channel::PagerDuty(c) => from_url(&c.url),
        Channel::Alertmanager(c) => from_url(&c.url),
        Channel::Email(c) => Ok(Some(format!("{}:{}", c.host, c.port()))),
        Channel::Console(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> NotifyConfig {
        let v: serde_json::Value = serde_saphyr::from_str(yaml).expect("yaml");
        serde_json::from_value(v).expect("config")
    }

    #[test]
    fn secrets_and_endpoints_are_checked_without_printing_secrets() {
        let dir = tempfile::tempdir().expect("tmp");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::fs::write(
            dir.path().join("url"),
            format!("http://127.0.0.1:{port}/hook/T0PSECRET\n"),
        )
        .expect("write");
        let cfg = config(
            "channels:\n  ok:\n    slack: { webhookUrlFile: url }\n  missing:\n    pagerduty: { routingKeyFile: nope, url: 'http://127.0.0.1:1' }\n  out:\n    console: {}\n",
        );
        let s = check_secrets(&cfg, dir.path());
        assert_eq!(s.len(), 2);
        assert!(
            s.iter()
                .any(|c| c.ok && c.what.contains("ok.slack.webhookUrlFile"))
        );
        assert!(s.iter().any(|c| !c.ok && c.detail.contains("nope")));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let c = rt.block_on(check_channels(&cfg, dir.path(), Duration::from_secs(2)));
        let by = |n: &str| {
            c.iter()
                .find(|c| c.what.starts_with(&format!("channel {n} ")))
                .expect(n)
                .clone()
        };
        assert!(by("ok").ok, "{:?}", by("ok"));
        assert!(!by("missing").ok);
        assert!(by("out").ok);
        for check in s.iter().chain(&c) {
            assert!(!check.detail.contains("T0PSECRET"), "{check:?}");
        }
    }
}
