//! How much a round may do: the one mode type for the CLI, the runner config and every stage.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `plan` sends no write at all; `dryRun` (the default of `rounds run`) sends every write with
/// `dryRun=All`, so RBAC, validation, admission and PodDisruptionBudgets answer without a
/// change; `apply` sends the same request as a dry run first and then for real.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    Plan,
    #[default]
    DryRun,
    Apply,
}

impl Mode {
    /// As the report and the text output write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::DryRun => "dry-run",
            Self::Apply => "apply",
        }
    }

    /// Whether requests go to the server at all (with `dryRun=All` or for real).
    pub fn sends(self) -> bool {
        self != Self::Plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_the_config_writes_it() {
        let m: Mode = serde_json::from_value(serde_json::json!("dryRun")).expect("mode");
        assert_eq!(m, Mode::DryRun);
        let m: Mode = serde_json::from_value(serde_json::json!("apply")).expect("mode");
        assert_eq!((m.as_str(), m.sends()), ("apply", true));
        assert!(!Mode::Plan.sends());
        assert!(serde_json::from_value::<Mode>(serde_json::json!("yolo")).is_err());
    }
}
