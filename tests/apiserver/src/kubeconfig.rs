//! kubeconfig files and in-cluster service-account directories pointing at the server.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// One context of a kubeconfig: a name, a bearer token and a default namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigUser {
    /// Name of the context (and of its user entry).
    pub name: String,
    /// The bearer token.
    pub token: String,
    /// The context's namespace.
    pub namespace: String,
}

/// A kubeconfig (YAML) with one cluster and a context per user; the first is current.
pub fn kubeconfig_yaml(server: &str, ca_pem: &str, users: &[KubeconfigUser]) -> String {
    let ca_data = BASE64.encode(ca_pem);
    let mut out = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    out.push_str(&format!(
        "- name: rounds-test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca_data}\n"
    ));
    out.push_str("users:\n");
    for user in users {
        out.push_str(&format!(
            "- name: {}\n  user:\n    token: {}\n",
            quote(&user.name),
            quote(&user.token)
        ));
    }
    out.push_str("contexts:\n");
    for user in users {
        out.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: rounds-test\n    user: {name}\n    namespace: {}\n",
            quote(&user.namespace),
            name = quote(&user.name)
        ));
    }
    if let Some(first) = users.first() {
        out.push_str(&format!("current-context: {}\n", quote(&first.name)));
    }
    out
}

/// Writes the files a pod sees under `/var/run/secrets/kubernetes.io/serviceaccount`:
/// `token`, `ca.crt` and `namespace`.
pub fn write_service_account_dir(
    dir: &Path,
    token: &str,
    ca_pem: &str,
    namespace: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("token"), token)?;
    std::fs::write(dir.join("ca.crt"), ca_pem)?;
    std::fs::write(dir.join("namespace"), namespace)?;
    Ok(())
}

/// A YAML double-quoted scalar.
fn quote(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_parses_as_yaml_with_current_context() {
        let users = [
            KubeconfigUser {
                name: "admin".into(),
                token: "t1".into(),
                namespace: "default".into(),
            },
            KubeconfigUser {
                name: "rounds".into(),
                token: "t2".into(),
                namespace: "rounds".into(),
            },
        ];
        let text = kubeconfig_yaml("https://127.0.0.1:1", "PEM", &users);
        let parsed: serde_json::Value = serde_saphyr::from_str(&text).expect("yaml");
        assert_eq!(parsed["current-context"], "admin");
        assert_eq!(parsed["users"][1]["user"]["token"], "t2");
        assert_eq!(
            parsed["clusters"][0]["cluster"]["certificate-authority-data"],
            "UEVN"
        );
        assert_eq!(parsed["contexts"][1]["context"]["namespace"], "rounds");
    }
}
