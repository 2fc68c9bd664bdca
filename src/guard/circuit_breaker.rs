//! `circuitBreaker`: a playbook that suddenly finds very many problems is more likely seeing
//! a broken cluster (or a broken detector) than many broken workloads: act on none, escalate.

use super::{Check, GuardCheck, GuardInput, Tally};
use crate::catalog::Setting;
use crate::round::context::RoundContext;

pub struct CircuitBreaker;

impl CircuitBreaker {
    pub const EXPLAIN: &str = "With more findings in one playbook than its guards.maxFindings (default: the runner config's guards.maxFindings, 50), acts on none of them; the findings are marked escalated.";

    pub const SETTINGS: &[Setting] = &[
        Setting::playbook("spec.guards.maxFindings"),
        Setting::config("guards.maxFindings"),
    ];

    /// A complete document showing it; a test validates it.
    pub const EXAMPLE: &str = r#"apiVersion: rounds.dev/v1alpha1
kind: Playbook
metadata:
  name: raise-memory
spec:
  detect:
    oomKilled: { minCount: 2, within: 6h }
  remediate:
    - raiseMemoryLimit: { max: 4Gi }
  guards:
    maxActionsPerRound: 3
    # More than 10 OOM-killed workloads at once looks like a broken node, not 10 bad limits.
    maxFindings: 10
"#;
}

/// The playbook's threshold and whether this round tripped it.
pub fn tripped(findings: usize, playbook_max: Option<u32>, default_max: u32) -> Option<u32> {
    let max = playbook_max.unwrap_or(default_max);
    (findings > max as usize).then_some(max)
}

impl GuardCheck for CircuitBreaker {
    fn check(&self, input: &GuardInput, ctx: &RoundContext, _: &Tally) -> Check {
        let pb = input.playbook.name();
        let n = ctx.findings_per_playbook.get(pb).copied().unwrap_or(0);
        match tripped(
            n,
            input.playbook.playbook.spec.guards.max_findings,
            ctx.config.guards.max_findings,
        ) {
            Some(max) => Check::Block(format!(
                "{n} findings in this playbook, more than its circuit breaker allows ({max}): acting on none, escalated"
            )),
            None => Check::Pass,
        }
    }
}
