//! Identities behind bearer tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user name (`system:serviceaccount:NS:NAME` for service accounts).
    pub user: String,
    /// Groups, `system:authenticated` included.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Bypasses RBAC, like a member of `system:masters`.
    #[serde(default)]
    pub admin: bool,
}

impl Identity {
    /// An ordinary user.
    pub fn user(name: &str) -> Self {
        Self {
            user: name.to_string(),
            groups: vec!["system:authenticated".to_string()],
            admin: false,
        }
    }

    /// A user that bypasses RBAC (member of `system:masters`).
    pub fn admin(name: &str) -> Self {
        Self {
            user: name.to_string(),
            groups: vec![
                "system:masters".to_string(),
                "system:authenticated".to_string(),
            ],
            admin: true,
        }
    }

    /// A service account, with the groups the real API server gives it.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            user: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_string(),
            ],
            admin: false,
        }
    }

    /// Adds a group.
    pub fn with_group(mut self, group: &str) -> Self {
        if !self.groups.iter().any(|g| g == group) {
            self.groups.push(group.to_string());
        }
        self
    }

    /// Whether RBAC is bypassed.
    pub fn is_admin(&self) -> bool {
        self.admin || self.groups.iter().any(|g| g == "system:masters")
    }

    /// An identity from an `Impersonate-User` value: a service account if it has that form.
    pub fn impersonated(user: &str, groups: &[String]) -> Self {
        let mut identity = match user
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
        {
            Some((namespace, name)) => Self::service_account(namespace, name),
            None => Self::user(user),
        };
        for group in groups {
            identity = identity.with_group(group);
        }
        identity
    }
}

/// Bearer tokens and the identities they stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    tokens: BTreeMap<String, Identity>,
}

impl Tokens {
    /// Adds or replaces a token.
    pub fn insert(&mut self, token: &str, identity: Identity) {
        self.tokens.insert(token.to_string(), identity);
    }

    /// The identity of a token.
    pub fn get(&self, token: &str) -> Option<&Identity> {
        self.tokens.get(token)
    }

    /// Every token with its identity.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Identity)> {
        self.tokens.iter()
    }

    /// Parses a token file: one `TOKEN,USER[,GROUP...]` per line (like the API server's
    /// `--token-auth-file`, groups not quoted); a group `system:masters` makes an admin.
    /// Blank lines and lines starting with `#` are skipped.
    pub fn parse_file(text: &str) -> Result<Self, String> {
        let mut tokens = Self::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split(',').map(str::trim);
            let token = fields.next().unwrap_or_default();
            let user = fields.next().unwrap_or_default();
            if token.is_empty() || user.is_empty() {
                return Err(format!(
                    "line {}: expected TOKEN,USER[,GROUP...]",
                    index + 1
                ));
            }
            let groups: Vec<String> = fields.map(str::to_string).collect();
            let mut identity = Identity::impersonated(user, &groups);
            identity.admin = identity.is_admin();
            tokens.insert(token, identity);
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_files() {
        let tokens = Tokens::parse_file(
            "# comment\nt1,admin,system:masters\n\nt2,system:serviceaccount:rounds:rounds\n",
        )
        .expect("parse");
        assert!(tokens.get("t1").expect("t1").is_admin());
        let sa = tokens.get("t2").expect("t2");
        assert!(!sa.is_admin());
        assert!(
            sa.groups
                .contains(&"system:serviceaccounts:rounds".to_string())
        );
        assert!(Tokens::parse_file("only-token\n").is_err());
    }
}
