//! Secrets, only from files of mounted Kubernetes Secrets.
//!
//! Every secret in the runner config is a `*File` field naming a file relative to the secrets
//! directory (default `/etc/rounds/secrets`, where a Secret volume is mounted with its `..data`
//! symlinks). Files are read once per round into [`SecretString`]s; their content never
//! appears in an error, a log line, a report or an Event.

pub mod redact;

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use redact::Redactor;

/// A secret larger than this is a mistake (a certificate bundle in the wrong field, a binary).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// The default mount point of the Secret that holds rounds' credentials.
pub const DEFAULT_DIR: &str = "/etc/rounds/secrets";

/// How to put a secret where rounds reads it; every refusal of an inline secret says this.
pub const HOW_TO_MOUNT: &str = "secrets come only from files of a mounted Secret: create one \
(kubectl -n rounds create secret generic rounds-notify --from-file=KEY=./file), mount it at the \
secrets directory (default /etc/rounds/secrets), and name the key in the `*File` field";

/// A `*File` field: the name of a file under the secrets directory, e.g. `slack-webhook-url`
/// (a key of the mounted Secret) or `slack/webhook-url` (a Secret mounted in a subdirectory).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
#[schemars(
    transparent,
    extend("x-rounds-secret-file" = true),
    description = "A file under the secrets directory (a key of a mounted Secret), e.g. slack-webhook-url."
)]
pub struct SecretFile(pub String);

impl SecretFile {
    /// Static checks, for `rounds validate`: a relative path inside the secrets directory that
    /// names a file, not the secret itself. The message never repeats the value.
    pub fn problem(&self) -> Option<String> {
        let v = self.0.as_str();
        if v.is_empty() {
            return Some("must name a file under the secrets directory".into());
        }
        if v.contains("://") || v.starts_with("http") {
            return Some(format!(
                "this looks like a URL, not a file name; a URL with a token in it is a secret: {HOW_TO_MOUNT}"
            ));
        }
        if v.contains('$') {
            return Some(format!(
                "environment variables are not read (no `$VAR` expansion); {HOW_TO_MOUNT}"
            ));
        }
        if v.contains(char::is_whitespace) || v.contains(':') || v.len() > 253 {
            return Some(format!(
                "this does not look like a file name (a secret value written inline?); {HOW_TO_MOUNT}"
            ));
        }
        if v.starts_with('/') {
            return Some(
                "must be relative to the secrets directory (write `slack-webhook-url`, not an absolute path)"
                    .into(),
            );
        }
        if Path::new(v)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Some("must stay inside the secrets directory (no `..` or `.`)".into());
        }
        None
    }
}

impl std::fmt::Display for SecretFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a secret file cannot be used. Names the file, never its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret file {path} ({field}): {problem}")]
pub struct SecretError {
    pub path: String,
    /// The config field that names it, e.g. `notifications.channels.ops.slack.webhookUrlFile`.
    pub field: String,
    pub problem: String,
}

/// Reads secret files from one directory.
#[derive(Debug, Clone)]
pub struct SecretsDir {
    dir: PathBuf,
}

impl SecretsDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn resolve(&self, file: &SecretFile) -> PathBuf {
        self.dir.join(&file.0)
    }

    /// Reads one secret: follows the `..data` symlinks of a Secret volume, refuses a file
    /// outside the directory, an empty, oversized, unreadable or non-UTF-8 file, and trims one
    /// trailing newline (and nothing else: spaces may be part of a password).
    pub fn read(&self, file: &SecretFile, field: &str) -> Result<SecretString, SecretError> {
        let path = self.resolve(file);
        let fail = |problem: String| SecretError {
            path: path.display().to_string(),
            field: field.to_owned(),
            problem,
        };
        if let Some(p) = file.problem() {
            return Err(fail(p));
        }
        let real = path
            .canonicalize()
            .map_err(|e| fail(format!("cannot read it: {}", io_reason(&e))))?;
        let root = self.dir.canonicalize().map_err(|e| {
            fail(format!(
                "cannot read the secrets directory {}: {}",
                self.dir.display(),
                io_reason(&e)
            ))
        })?;
        if !real.starts_with(&root) {
            return Err(fail(
                "it resolves to a file outside the secrets directory".into(),
            ));
        }
        if !real.is_file() {
            return Err(fail("it is not a file".into()));
        }
        let f = std::fs::File::open(&real)
            .map_err(|e| fail(format!("cannot read it: {}", io_reason(&e))))?;
        let mut bytes = Vec::new();
        f.take(MAX_SECRET_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read it: {}", io_reason(&e))))?;
        if bytes.len() as u64 > MAX_SECRET_BYTES {
            return Err(fail(format!(
                "it is larger than {} KiB; a credential is much smaller (is it the right file?)",
                MAX_SECRET_BYTES / 1024
            )));
        }
        let mut text = String::from_utf8(bytes)
            .map_err(|_| fail("it is not UTF-8 text (binary data?)".into()))?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.is_empty() {
            return Err(fail("it is empty".into()));
        }
        Ok(SecretString::from(text))
    }
}

/// The reason of an I/O error without the path (we print the path ourselves).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "no such file (is the Secret mounted, with this key?)".into()
        }
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The secrets of one round, read once at its start, by file.
#[derive(Default, Clone)]
pub struct Secrets {
    values: BTreeMap<SecretFile, SecretString>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("files", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// Reads every `(file, field)` once; returns every problem together.
    pub fn load<'a>(
        dir: &SecretsDir,
        wanted: impl IntoIterator<Item = (&'a SecretFile, String)>,
    ) -> Result<Self, Vec<SecretError>> {
        let (secrets, problems) = Self::load_available(dir, wanted);
        if problems.is_empty() {
            Ok(secrets)
        } else {
            Err(problems)
        }
    }

    /// Reads what can be read and says what cannot (for `rounds doctor`).
    pub fn load_available<'a>(
        dir: &SecretsDir,
        wanted: impl IntoIterator<Item = (&'a SecretFile, String)>,
    ) -> (Self, Vec<SecretError>) {
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        for (file, field) in wanted {
            if values.contains_key(file) {
                continue;
            }
            match dir.read(file, &field) {
                Ok(v) => {
                    values.insert(file.clone(), v);
                }
                Err(e) => problems.push(e),
            }
        }
        (Self { values }, problems)
    }

    pub fn get(&self, file: &SecretFile) -> Option<&SecretString> {
        self.values.get(file)
    }

    /// A redactor that knows this round's secret values.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(
            self.values
                .values()
                .map(|s| s.expose_secret().to_owned())
                .collect(),
        )
    }

    #[cfg(test)]
    pub fn insert(&mut self, file: &str, value: &str) {
        self.values.insert(
            SecretFile(file.into()),
            SecretString::from(value.to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// The layout kubelet writes for a Secret volume: a timestamped directory, `..data`
    /// pointing at it, and one symlink per key through `..data`.
    fn mounted_secret(keys: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let ts = dir.path().join("..2026_11_22_10_00_00.123456789");
        std::fs::create_dir(&ts).expect("mkdir");
        for (k, v) in keys {
            std::fs::write(ts.join(k), v).expect("write");
        }
        symlink("..2026_11_22_10_00_00.123456789", dir.path().join("..data")).expect("symlink");
        for (k, _) in keys {
            symlink(format!("..data/{k}"), dir.path().join(k)).expect("symlink");
        }
        dir
    }

    fn read(dir: &tempfile::TempDir, name: &str) -> Result<String, SecretError> {
        SecretsDir::new(dir.path())
            .read(&SecretFile(name.into()), "f")
            .map(|s| s.expose_secret().to_owned())
    }

    #[test]
    fn reads_a_mounted_secret_through_its_data_symlinks_and_trims_one_newline() {
        let dir = mounted_secret(&[
            ("url", b"https://hooks.example/T1/B2/s3cr3t\n"),
            ("pw", b"  spaced pass \n\n"),
            ("crlf", b"abc\r\n"),
            ("bare", b"nolf"),
        ]);
        assert_eq!(
            read(&dir, "url").unwrap(),
            "https://hooks.example/T1/B2/s3cr3t"
        );
        assert_eq!(read(&dir, "pw").unwrap(), "  spaced pass \n");
        assert_eq!(read(&dir, "crlf").unwrap(), "abc");
        assert_eq!(read(&dir, "bare").unwrap(), "nolf");
    }

    #[test]
    fn bad_files_are_errors_that_name_the_file_and_never_the_content() {
        let big = vec![b'x'; 64 * 1024 + 1];
        let dir = mounted_secret(&[
            ("empty", b"\n"),
            ("big", &big),
            ("binary", b"\xff\xfe-sekrit-\x00"),
        ]);
        std::fs::write(dir.path().join("..data/locked"), b"sekrit-locked").expect("write");
        let cases = [
            ("empty", "it is empty"),
            ("big", "larger than 64 KiB"),
            ("binary", "not UTF-8"),
            ("missing", "no such file"),
            ("../outside", "inside the secrets directory"),
            ("/etc/passwd", "relative"),
            ("https://hooks.slack.com/services/T/B/x", "looks like a URL"),
            ("$SLACK_URL", "environment variables"),
        ];
        for (name, expected) in cases {
            let e = read(&dir, name).expect_err(name);
            let text = e.to_string();
            assert!(text.contains(expected), "{name}: {text}");
            assert!(text.contains("(f)"), "{text}");
            assert!(!text.contains("sekrit") && !text.contains("xxxx"), "{text}");
        }
        let e = read(&dir, "empty").unwrap_err();
        assert!(e.path.ends_with("/empty"), "{}", e.path);
    }

    #[test]
    fn a_symlink_out_of_the_directory_is_refused() {
        let outside = tempfile::NamedTempFile::new().expect("temp");
        std::fs::write(outside.path(), "elsewhere").expect("write");
        let dir = mounted_secret(&[]);
        symlink(outside.path(), dir.path().join("escape")).expect("symlink");
        let e = read(&dir, "escape").unwrap_err();
        assert!(e.problem.contains("outside"), "{e}");
    }

    #[test]
    fn a_directory_or_an_unmounted_key_is_an_error_naming_it() {
        let dir = mounted_secret(&[("key", b"sekrit")]);
        std::fs::create_dir(dir.path().join("adir")).expect("mkdir");
        let e = read(&dir, "adir").unwrap_err();
        assert!(e.problem.contains("not a file"), "{e}");
        let e = read(&dir, "sub/none").unwrap_err();
        assert!(e.to_string().contains("sub/none"), "{e}");
        assert!(e.problem.contains("is the Secret mounted"), "{e}");
    }

    #[test]
    fn load_reads_each_file_once_and_reports_all_problems() {
        let dir = mounted_secret(&[("a", b"one\n")]);
        let a = SecretFile("a".into());
        let b = SecretFile("b".into());
        let c = SecretFile("c".into());
        let errs = Secrets::load(
            &SecretsDir::new(dir.path()),
            [(&a, "x".to_string()), (&b, "y".into()), (&c, "z".into())],
        )
        .unwrap_err();
        assert_eq!(errs.len(), 2);
        let ok = Secrets::load(&SecretsDir::new(dir.path()), [(&a, "x".to_string())]).unwrap();
        assert_eq!(ok.get(&a).map(|s| s.expose_secret()), Some("one"));
        assert!(!format!("{ok:?}").contains("one\""), "{ok:?}");
    }
}
