//! Errors across documents: a playbook's `notify.route` must name a route of the runner config
//! it is validated with.
//!
//! The runner config has no routes section yet (notifications are being built), so today every
//! named route is unknown to it; routes and channels checks grow with that section.

use super::{Input, path};
use crate::config::RunnerConfig;
use crate::playbook::Diagnostic;

/// The routes a runner config defines, by name.
fn routes(_config: &RunnerConfig) -> Vec<String> {
    Vec::new()
}

pub fn check(input: &Input, out: &mut Vec<Diagnostic>) {
    for c in input.configs {
        let known = routes(&c.config);
        for p in input.playbooks {
            let Some(route) = &p.playbook.spec.notify.route else {
                continue;
            };
            if known.contains(route) {
                continue;
            }
            let defined = if known.is_empty() {
                "it defines no routes".to_owned()
            } else {
                format!("its routes: {}", known.join(", "))
            };
            out.push(p.located.diagnostic(
                &path(&["spec", "notify", "route"]),
                format!(
                    "unknown route `{route}`: the runner config {} does not define it ({defined})",
                    c.file
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{messages, playbook};

    const CONFIG: &str = "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\n";

    #[test]
    fn a_route_the_config_does_not_define_is_an_error() {
        let pb = playbook("  detect: {oomKilled: {}}\n  notify: {route: pager}\n");
        let got = messages(&[("a.yaml", &pb), ("config.yaml", CONFIG)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .starts_with("error spec.notify.route: unknown route `pager`: the runner config "),
            "{got:?}"
        );
        assert!(got[0].ends_with("config.yaml does not define it (it defines no routes)"));
        // Without a runner config there is nothing to check the route against.
        assert!(messages(&[("a.yaml", &pb)]).is_empty());
    }
}
