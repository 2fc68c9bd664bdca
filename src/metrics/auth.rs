//! Credentials for the Pushgateway, read once per round through [`crate::secrets`] from files
//! under the secrets directory.

use super::config::PushAuth;
use crate::secrets::{SecretError, SecretsDir};
use secrecy::{ExposeSecret, SecretString};

/// What goes into the `Authorization` header. Debug never shows a secret (`SecretString`).
#[derive(Debug, Clone)]
pub enum Credentials {
    None,
    Basic {
        username: String,
        password: SecretString,
    },
    Bearer(SecretString),
}

impl Credentials {
    pub fn load(auth: Option<&PushAuth>, dir: &SecretsDir) -> Result<Self, SecretError> {
        Ok(match auth {
            None => Self::None,
            Some(PushAuth::Basic(b)) => Self::Basic {
                username: b.username.clone(),
                password: dir.read(
                    &b.password_file,
                    "metrics.pushgateway.auth.basic.passwordFile",
                )?,
            },
            Some(PushAuth::Bearer(b)) => {
                Self::Bearer(dir.read(&b.token_file, "metrics.pushgateway.auth.bearer.tokenFile")?)
            }
        })
    }

    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Self::None => request,
            Self::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose_secret()))
            }
            Self::Bearer(token) => request.bearer_auth(token.expose_secret()),
        }
    }

    /// Scrubs the secret from text that goes into the report or the log (an answer that
    /// echoes a header, say). The gateway URL holds no credentials, so it stays: it says where.
    pub fn scrub(&self, text: &str) -> String {
        let secret = match self {
            Self::None => return text.to_owned(),
            Self::Basic { password, .. } => password.expose_secret(),
            Self::Bearer(token) => token.expose_secret(),
        };
        text.replace(secret, "[secret]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::config::{BasicAuth, BearerAuth};
    use crate::secrets::SecretFile;

    #[test]
    fn credentials_come_from_secret_files_and_never_show() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("token"), "s3cret-token\n").expect("write");
        let secrets = SecretsDir::new(dir.path());
        let bearer = PushAuth::Bearer(BearerAuth {
            token_file: SecretFile("token".into()),
        });
        let creds = Credentials::load(Some(&bearer), &secrets).expect("token");
        assert!(matches!(&creds, Credentials::Bearer(t) if t.expose_secret() == "s3cret-token"));
        assert!(!format!("{creds:?}").contains("s3cret"));
        assert_eq!(
            creds.scrub("the proxy at http://gw said: bad token s3cret-token"),
            "the proxy at http://gw said: bad token [secret]"
        );
        let basic = PushAuth::Basic(BasicAuth {
            username: "rounds".into(),
            password_file: SecretFile("missing".into()),
        });
        let err = Credentials::load(Some(&basic), &secrets).unwrap_err();
        assert_eq!(err.field, "metrics.pushgateway.auth.basic.passwordFile");
        let outside = PushAuth::Basic(BasicAuth {
            username: "rounds".into(),
            password_file: SecretFile("../token".into()),
        });
        assert!(Credentials::load(Some(&outside), &secrets).is_err());
    }
}
