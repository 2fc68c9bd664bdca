//! Real servers for the notify tests, started on 127.0.0.1 and stopped when dropped: aiosmtpd
//! (Debian's python3-aiosmtpd, through scripts/smtp-server.py) and Alertmanager (Debian's
//! prometheus-alertmanager); and a Secret volume as kubelet mounts it.

use super::scan::{Ctx, Kind, SMTP_PASSWORD};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Stops a child process when dropped (every test stops what it started).
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// A Secret volume as kubelet mounts it: files in a timestamped directory, `..data` pointing
/// at it, one symlink per key. Every value ends with a newline, as `kubectl create secret
/// --from-file` of an editor-written file does.
pub fn mount_secrets(dir: &Path, keys: &[(&str, &str)]) -> PathBuf {
    let root = dir.join("secrets");
    let ts = root.join("..2026_11_22_09_00_00.000000001");
    std::fs::create_dir_all(&ts).expect("mkdir");
    for (k, v) in keys {
        std::fs::write(ts.join(k), format!("{v}\n")).expect("write");
    }
    std::os::unix::fs::symlink("..2026_11_22_09_00_00.000000001", root.join("..data"))
        .expect("symlink");
    for (k, _) in keys {
        std::os::unix::fs::symlink(format!("..data/{k}"), root.join(k)).expect("symlink");
    }
    root
}

/// aiosmtpd with STARTTLS and AUTH required (or `plain`: neither offered).
pub struct Smtp {
    _child: Child,
    pub port: u16,
    pub maildir: PathBuf,
    /// The PEM of the CA that signed the server's certificate.
    pub ca_pem: String,
}

impl Smtp {
    pub fn start(dir: &Path, plain: bool) -> Self {
        let dir = dir.join(format!("smtp-{}", if plain { "plain" } else { "tls" }));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let certs = rounds_test_apiserver::tls::Certificates::generate(&[]).expect("certs");
        std::fs::write(dir.join("cert.der"), certs.server_der.as_ref()).expect("write");
        std::fs::write(dir.join("key.der"), &certs.server_key_der).expect("write");
        std::fs::write(dir.join("pw"), format!("{SMTP_PASSWORD}\n")).expect("write");
        let maildir = dir.join("mail");
        std::fs::create_dir_all(&maildir).expect("mkdir");
        let port = free_port();
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/smtp-server.py"
        ))
        .arg("--port")
        .arg(port.to_string())
        .arg("--maildir")
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if plain {
            cmd.arg("--plain");
        } else {
            cmd.arg("--cert-der")
                .arg(dir.join("cert.der"))
                .arg("--key-der")
                .arg(dir.join("key.der"))
                .arg("--password-file")
                .arg(dir.join("pw"));
        }
        let child = Child(
            cmd.spawn()
                .expect("start scripts/smtp-server.py (python3-aiosmtpd)"),
        );
        wait_for_port(port);
        Self {
            _child: child,
            port,
            maildir,
            ca_pem: certs.ca_pem,
        }
    }

    /// The stored mails, oldest first (N.eml).
    pub fn mails(&self) -> Vec<String> {
        let mut n = 1;
        let mut out = Vec::new();
        while let Ok(m) = std::fs::read_to_string(self.maildir.join(format!("{n}.eml"))) {
            out.push(m);
            n += 1;
        }
        out
    }

    /// Collects every stored mail, raw and decoded, into the scan.
    pub fn collect(&self, ctx: &Ctx) {
        for (i, m) in self.mails().iter().enumerate() {
            ctx.record(Kind::Message, format!("mail {}", i + 1), m.clone());
            ctx.record(
                Kind::Message,
                format!("mail {} decoded", i + 1),
                decode_mail(&self.maildir.join(format!("{}.eml", i + 1))),
            );
        }
    }
}

/// A mail as a mail client shows it: `Subject: …`, then each part's type and decoded text.
pub fn decode_mail(path: &Path) -> String {
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg("import email,sys\nm=email.message_from_bytes(open(sys.argv[1],'rb').read())\nprint('Subject:', str(email.header.make_header(email.header.decode_header(m['Subject']))))\nfor p in m.walk():\n  if not p.is_multipart(): print(p.get_content_type()); print(p.get_payload(decode=True).decode())")
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A real Alertmanager on 127.0.0.1.
pub struct Alertmanager {
    _child: Child,
    pub port: u16,
}

impl Alertmanager {
    pub fn start(dir: &Path) -> Self {
        let port = free_port();
        let config = dir.join("am.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n",
        )
        .expect("write");
        let child = Child(
            Command::new("prometheus-alertmanager")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", dir.join("am-data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start prometheus-alertmanager (Debian package)"),
        );
        wait_for_port(port);
        Self {
            _child: child,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET /api/v2/alerts` (active, silenced, inhibited and unprocessed alerts), collected
    /// into the scan.
    pub fn alerts(&self, ctx: &Ctx) -> Vec<Value> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            s,
            "GET /api/v2/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        // Chunked or not, the JSON array is the body's one bracketed part.
        let start = body.find('[').expect("a JSON array");
        let end = body.rfind(']').expect("a JSON array");
        let json = &body[start..=end];
        ctx.record(Kind::Message, "alertmanager GET /api/v2/alerts", json);
        serde_json::from_str(json).expect("alerts JSON")
    }
}
