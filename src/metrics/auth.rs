//! Credentials for the Pushgateway, read once per round from files under the secrets directory.
//!
//! The project's secret reader (`crate::secrets`, built alongside) will replace [`read_secret`];
//! everything else here only sees [`Credentials`], so the switch is one function.

use super::config::PushAuth;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret file {file} must be a relative path under the secrets directory {dir}")]
    Outside { file: PathBuf, dir: PathBuf },
    #[error("cannot read secret file {path}: {detail}")]
    Unreadable { path: PathBuf, detail: String },
    #[error("secret file {path} is empty")]
    Empty { path: PathBuf },
}

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
    pub fn load(auth: Option<&PushAuth>, secrets_dir: &Path) -> Result<Self, SecretError> {
        Ok(match auth {
            None => Self::None,
            Some(PushAuth::Basic(b)) => Self::Basic {
                username: b.username.clone(),
                password: read_secret(secrets_dir, &b.password_file)?,
            },
            Some(PushAuth::Bearer(b)) => Self::Bearer(read_secret(secrets_dir, &b.token_file)?),
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
}

/// Reads `file` (relative to `dir`), without one trailing newline.
pub fn read_secret(dir: &Path, file: &Path) -> Result<SecretString, SecretError> {
    if file.is_absolute()
        || file
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(SecretError::Outside {
            file: file.to_owned(),
            dir: dir.to_owned(),
        });
    }
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| SecretError::Unreadable {
        path: path.clone(),
        detail: e.kind().to_string(),
    })?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if text.is_empty() {
        return Err(SecretError::Empty { path });
    }
    Ok(SecretString::from(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_read_under_the_directory_without_the_newline() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("token"), "s3cret\n").expect("write");
        std::fs::write(dir.path().join("crlf"), "s3cret\r\n").expect("write");
        std::fs::write(dir.path().join("empty"), "\n").expect("write");
        for f in ["token", "crlf", "./token"] {
            let s = read_secret(dir.path(), Path::new(f)).expect("secret");
            assert_eq!(s.expose_secret(), "s3cret");
        }
        assert!(matches!(
            read_secret(dir.path(), Path::new("empty")),
            Err(SecretError::Empty { .. })
        ));
        for f in ["../token", "/etc/passwd", "a/../../token"] {
            assert!(matches!(
                read_secret(dir.path(), Path::new(f)),
                Err(SecretError::Outside { .. })
            ));
        }
        let missing = read_secret(dir.path(), Path::new("missing")).unwrap_err();
        assert!(missing.to_string().contains("missing"), "{missing}");
        let creds = Credentials::Bearer(read_secret(dir.path(), Path::new("token")).expect("ok"));
        assert!(!format!("{creds:?}").contains("s3cret"));
    }
}
