//! Warning: a playbook that changes the cluster but sets no budget, so one round could act on
//! every finding at once.

use super::{Input, path, writes};
use crate::playbook::Diagnostic;
use crate::playbook::tree::PathSeg;

pub fn check(input: &Input, out: &mut Vec<Diagnostic>) {
    for p in input.playbooks {
        let spec = &p.playbook.spec;
        if spec.guards.max_actions_per_round.is_some()
            || spec.guards.max_actions_per_namespace.is_some()
        {
            continue;
        }
        let writes: Vec<(usize, &str)> = spec
            .remediate
            .iter()
            .enumerate()
            .filter(|(_, a)| writes(a))
            .map(|(i, a)| (i, a.name()))
            .collect();
        let Some((first, name)) = writes.first() else {
            continue;
        };
        let names: Vec<&str> = writes.iter().map(|(_, n)| *n).collect();
        let mut at = path(&["spec", "remediate"]);
        at.extend([PathSeg::Index(*first), PathSeg::Key((*name).to_owned())]);
        out.push(
            p.located
                .diagnostic(
                    &at,
                    format!(
                        "{} changes the cluster, but the playbook has no budget: set guards.maxActionsPerRound (or maxActionsPerNamespace) so that one round cannot act on every finding at once",
                        names.join(", ")
                    ),
                )
                .warning(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{messages, playbook};

    #[test]
    fn write_actions_need_a_budget() {
        let pb = playbook(
            "  detect: {oomKilled: {}}\n  remediate:\n  - notifyOnly: {}\n  - raiseMemoryLimit: {max: 4Gi}\n",
        );
        assert_eq!(
            messages(&[("a.yaml", &pb)]),
            [
                "warning spec.remediate[1].raiseMemoryLimit: raiseMemoryLimit changes the cluster, but the playbook has no budget: set guards.maxActionsPerRound (or maxActionsPerNamespace) so that one round cannot act on every finding at once"
            ]
        );
        let budgeted = format!("{pb}  guards: {{maxActionsPerNamespace: 1}}\n");
        assert!(messages(&[("a.yaml", &budgeted)]).is_empty());
    }

    #[test]
    fn notifications_need_none() {
        let pb = playbook("  detect: {oomKilled: {}}\n  remediate:\n  - notifyOnly: {}\n");
        assert!(messages(&[("a.yaml", &pb)]).is_empty());
    }
}
