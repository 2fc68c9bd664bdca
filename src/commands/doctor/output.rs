//! The doctor's findings and how they are printed: text for people (each missing permission
//! with the RBAC rule to paste), JSON for tools (the same checks, the rule as a PolicyRule).

use super::permissions::{Permission, Place, Reason, Uses};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::Serialize;
use std::fmt::Write as _;

/// Which part of a round a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    Config,
    Api,
    Rbac,
    Ledger,
    Secret,
    Channel,
    Prometheus,
    Metrics,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Api => "api",
            Self::Rbac => "rbac",
            Self::Ledger => "ledger",
            Self::Secret => "secret",
            Self::Channel => "channel",
            Self::Prometheus => "prometheus",
            Self::Metrics => "metrics",
        }
    }

    /// A failure here is invalid input or config (what `rounds run` refuses with exit 1).
    pub fn is_input(self) -> bool {
        matches!(self, Self::Config | Self::Secret)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Ok,
    /// Something a round needs is missing or does not work.
    Fail,
    /// Not granted, and a round does without it (it only does less).
    Optional,
}

/// The permission a check asked about, as the SelfSubjectAccessReview put it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Asked {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// What grants a permission: a rule for a Role (in a namespace) or a ClusterRole.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub rule: PolicyRule,
}

impl Grant {
    pub fn of(p: &Permission) -> Self {
        Self {
            kind: p.role_kind(),
            namespace: p.namespace().map(str::to_owned),
            rule: p.rule(),
        }
    }

    /// Where to add the rule, in words.
    pub fn place(&self) -> String {
        match &self.namespace {
            Some(ns) => format!(
                "add this rule to a Role in namespace {ns} bound to rounds' service account (RoleBinding)"
            ),
            None => "add this rule to a ClusterRole bound to rounds' service account (ClusterRoleBinding)".into(),
        }
    }

    /// The rule as YAML to paste under the role's `rules:`, in the flow style kubectl users
    /// write (each string JSON-quoted, which YAML reads the same).
    pub fn rule_yaml(&self) -> String {
        let list = |items: &[String]| {
            let quoted: Vec<String> = items
                .iter()
                .map(|s| serde_json::Value::from(s.as_str()).to_string())
                .collect();
            format!("[{}]", quoted.join(", "))
        };
        let r = &self.rule;
        format!(
            "- apiGroups: {}\n  resources: {}\n  verbs: {}",
            list(r.api_groups.as_deref().unwrap_or_default()),
            list(r.resources.as_deref().unwrap_or_default()),
            list(&r.verbs)
        )
    }
}

/// One finding of the doctor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub stage: Stage,
    pub what: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<Asked>,
    /// What needs the permission.
    #[serde(rename = "for", skip_serializing_if = "Vec::is_empty")]
    pub needed_for: Vec<Reason>,
    /// The rule to add, for a permission that is not granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<Grant>,
}

impl Check {
    pub fn ok(stage: Stage, what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            stage,
            what: what.into(),
            status: Status::Ok,
            detail: detail.into(),
            permission: None,
            needed_for: Vec::new(),
            grant: None,
        }
    }

    pub fn fail(stage: Stage, what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            status: Status::Fail,
            ..Self::ok(stage, what, detail)
        }
    }

    pub fn optional(stage: Stage, what: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            status: Status::Optional,
            ..Self::ok(stage, what, detail)
        }
    }

    /// A check about `p`, with what was asked, what needs it, and the rule to add when it is
    /// not granted.
    pub fn about(mut self, p: &Permission, uses: &Uses) -> Self {
        self.needed_for = uses.reasons.clone();
        self.permission = Some(Asked {
            verb: p.verb.as_str(),
            group: p.resource.group,
            resource: p.rbac_resource(),
            namespace: match &p.place {
                Place::Namespace(ns) => Some(ns.clone()),
                Place::Cluster => None,
            },
        });
        if self.status != Status::Ok {
            self.grant = Some(Grant::of(p));
        }
        self
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub ok: usize,
    pub failed: usize,
    pub optional: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub mode: &'static str,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub playbooks: usize,
    pub summary: Summary,
    pub exit_code: u8,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    pub fn count(checks: &[Check]) -> Summary {
        let n = |s: Status| checks.iter().filter(|c| c.status == s).count();
        Summary {
            ok: n(Status::Ok),
            failed: n(Status::Fail),
            optional: n(Status::Optional),
        }
    }
}

/// The report as text: a header, one line per check (a missing permission followed by the
/// rule to add, indented), and a summary with the exit code.
pub fn text(r: &DoctorReport) -> String {
    let mut out = String::new();
    let shard = r
        .shard
        .as_ref()
        .map(|s| format!(", {s}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "rounds doctor: {} mode, namespace {}{shard}, {} playbook(s)",
        r.mode, r.namespace, r.playbooks
    );
    for c in &r.checks {
        let mark = match c.status {
            Status::Ok => "ok  ",
            Status::Fail => "FAIL",
            Status::Optional => "opt ",
        };
        let _ = writeln!(
            out,
            "{mark}  {:<10} {}: {}",
            c.stage.as_str(),
            c.what,
            c.detail
        );
        if let Some(g) = &c.grant {
            let _ = writeln!(out, "{:18}{}:", "", g.place());
            for line in g.rule_yaml().lines() {
                let _ = writeln!(out, "{:20}{line}", "");
            }
        }
    }
    let s = &r.summary;
    let _ = writeln!(
        out,
        "{} ok, {} failed, {} optional not granted; exit {}",
        s.ok, s.failed, s.optional, r.exit_code
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::Resource;
    use crate::commands::doctor::permissions::Verb;

    #[test]
    fn a_missing_permission_prints_the_rule_that_grants_it() {
        let p = Permission::in_namespace(Verb::Update, &Resource::CONFIG_MAP, "rounds");
        let checks = vec![
            Check::ok(
                Stage::Config,
                "runner config and playbooks",
                "1 playbook(s) load",
            ),
            Check::fail(Stage::Rbac, p.describe(), "missing; needed for the ledger").about(
                &p,
                &Uses {
                    need: crate::commands::doctor::permissions::Need::Required,
                    reasons: vec![Reason {
                        what: "the ledger".into(),
                        playbooks: Vec::new(),
                    }],
                },
            ),
        ];
        let report = DoctorReport {
            api_version: "rounds.dev/v1alpha1",
            kind: "DoctorReport",
            mode: "dry-run",
            namespace: "rounds".into(),
            shard: None,
            playbooks: 1,
            summary: DoctorReport::count(&checks),
            exit_code: 2,
            checks,
        };
        assert_eq!(
            text(&report),
            "rounds doctor: dry-run mode, namespace rounds, 1 playbook(s)
ok    config     runner config and playbooks: 1 playbook(s) load
FAIL  rbac       update configmaps in namespace rounds: missing; needed for the ledger
                  add this rule to a Role in namespace rounds bound to rounds' service account (RoleBinding):
                    - apiGroups: [\"\"]
                      resources: [\"configmaps\"]
                      verbs: [\"update\"]
1 ok, 1 failed, 0 optional not granted; exit 2
"
        );
        let json = serde_json::to_value(&report.checks[1]).expect("json");
        assert_eq!(
            json["grant"],
            serde_json::json!({"kind": "Role", "namespace": "rounds",
                "rule": {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["update"]}})
        );
        assert_eq!(
            json["permission"],
            serde_json::json!({"verb": "update", "group": "", "resource": "configmaps", "namespace": "rounds"})
        );
        // The printed rule reads back as the same PolicyRule.
        let grant = report.checks[1].grant.as_ref().expect("grant");
        let parsed: Vec<PolicyRule> = serde_saphyr::from_str(&grant.rule_yaml()).expect("YAML");
        assert_eq!(parsed, vec![grant.rule.clone()]);
    }
}
