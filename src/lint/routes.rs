//! Checks between the runner config's notification routes and the playbooks validated with it:
//! a playbook's `notify.route` must name a route (error); a route's `match.playbooks` must name
//! playbooks that exist (error for a plain name, warning for a glob that matches none); a
//! route after one that catches everything it would match, without `continue`, is never
//! reached (warning). Routes naming unknown channels are the config's own check
//! (`NotifyConfig::problems`).

use super::{Input, covered, is_literal, path};
use crate::notify::config::{Matchers, Route};
use crate::playbook::Diagnostic;
use crate::playbook::tree::PathSeg;

/// Whether every finding `later` matches is certainly matched by `earlier` too.
fn covers(earlier: &Matchers, later: &Matchers) -> bool {
    let globs = |a: &[crate::playbook::values::Glob], b: &[crate::playbook::values::Glob]| {
        a.is_empty() || (!b.is_empty() && b.iter().all(|g| covered(g, a)))
    };
    let subset = |a: &[String], b: &[String]| {
        a.is_empty() || (!b.is_empty() && b.iter().all(|x| a.contains(x)))
    };
    globs(&earlier.playbooks, &later.playbooks)
        && subset(&earlier.detectors, &later.detectors)
        && globs(&earlier.namespaces, &later.namespaces)
        && (earlier.tiers.is_empty()
            || (!later.tiers.is_empty() && later.tiers.iter().all(|t| earlier.tiers.contains(t))))
        && earlier
            .labels
            .iter()
            .all(|(k, v)| later.labels.get(k) == Some(v))
}

fn route_path(i: usize, rest: &[&str]) -> Vec<PathSeg> {
    let mut p = path(&["notifications", "routes"]);
    p.push(PathSeg::Index(i));
    p.extend(rest.iter().map(|k| PathSeg::Key((*k).to_owned())));
    p
}

pub fn check(input: &Input, out: &mut Vec<Diagnostic>) {
    for c in input.configs {
        let routes: &[Route] = &c.config.notifications.routes;
        let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
        for p in input.playbooks {
            let Some(route) = &p.playbook.spec.notify.route else {
                continue;
            };
            if names.contains(&route.as_str()) {
                continue;
            }
            let defined = if names.is_empty() {
                "it defines no routes".to_owned()
            } else {
                format!("its routes: {}", names.join(", "))
            };
            out.push(p.located.diagnostic(
                &path(&["spec", "notify", "route"]),
                format!(
                    "unknown route `{route}`: the runner config {} does not define it ({defined})",
                    c.file
                ),
            ));
        }
        if !input.playbooks.is_empty() {
            let playbooks: Vec<&str> = input.playbooks.iter().map(|p| p.name()).collect();
            for (i, r) in routes.iter().enumerate() {
                for (j, g) in r.matchers.playbooks.iter().enumerate() {
                    if playbooks.iter().any(|p| g.matches(p)) {
                        continue;
                    }
                    let mut at = route_path(i, &["match", "playbooks"]);
                    at.push(PathSeg::Index(j));
                    let d = if is_literal(g) {
                        c.located.diagnostic(
                            &at,
                            format!(
                                "route `{}` names playbook `{g}`, which is not among the playbooks validated with this config ({})",
                                r.name,
                                playbooks.join(", ")
                            ),
                        )
                    } else {
                        c.located
                            .diagnostic(
                                &at,
                                format!(
                                    "route `{}`: `{g}` matches none of the playbooks validated with this config",
                                    r.name
                                ),
                            )
                            .warning()
                    };
                    out.push(d);
                }
            }
        }
        for (j, later) in routes.iter().enumerate() {
            // A playbook can send to a route by name, whatever comes before it.
            if input
                .playbooks
                .iter()
                .any(|p| p.playbook.spec.notify.route.as_deref() == Some(later.name.as_str()))
            {
                continue;
            }
            let shadow = routes[..j].iter().find(|earlier| {
                !earlier.continue_matching && covers(&earlier.matchers, &later.matchers)
            });
            if let Some(earlier) = shadow {
                out.push(
                    c.located
                        .diagnostic(
                            &route_path(j, &["name"]),
                            format!(
                                "route `{}` is never reached: route `{}` before it matches every finding it would match and does not continue (set `continue: true` there, or move this route up)",
                                later.name, earlier.name
                            ),
                        )
                        .warning(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{messages, playbook};

    const CHANNELS: &str = "apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\nnotifications:\n  channels:\n    ops: { console: {} }\n  routes:\n";

    fn config(routes: &str) -> String {
        format!("{CHANNELS}{routes}")
    }

    #[test]
    fn a_route_the_config_does_not_define_is_an_error() {
        let pb = playbook("  detect: {oomKilled: {}}\n  notify: {route: pager}\n");
        let cfg = config("    - { name: all, channels: [ops] }\n");
        let got = messages(&[("a.yaml", &pb), ("config.yaml", &cfg)]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .starts_with("error spec.notify.route: unknown route `pager`: the runner config "),
            "{got:?}"
        );
        assert!(got[0].ends_with("config.yaml does not define it (its routes: all)"));
        // Without a runner config there is nothing to check the route against.
        assert!(messages(&[("a.yaml", &pb)]).is_empty());
    }

    #[test]
    fn a_route_naming_an_unknown_playbook_is_an_error_and_an_empty_glob_a_warning() {
        let pb = playbook("  detect: {oomKilled: {}}\n");
        let cfg = config(
            "    - { name: a, match: { playbooks: [pb, pv] }, channels: [ops], continue: true }\n    - { name: b, match: { playbooks: [\"shop-*\"] }, channels: [ops] }\n",
        );
        let got = messages(&[("a.yaml", &pb), ("config.yaml", &cfg)]);
        assert_eq!(
            got,
            [
                "error notifications.routes[0].match.playbooks[1]: route `a` names playbook `pv`, which is not among the playbooks validated with this config (pb)",
                "warning notifications.routes[1].match.playbooks[0]: route `b`: `shop-*` matches none of the playbooks validated with this config",
            ]
        );
    }

    #[test]
    fn a_route_after_a_catch_all_is_unreachable() {
        let pb = playbook("  detect: {oomKilled: {}}\n");
        let cfg = config(
            "    - { name: critical, match: { tiers: [critical] }, channels: [ops], continue: true }\n    - { name: shop, match: { namespaces: [\"shop-*\"] }, channels: [ops] }\n    - { name: shop-eu, match: { namespaces: [shop-eu], tiers: [warning] }, channels: [ops] }\n    - { name: all, channels: [ops] }\n    - { name: late, match: { detectors: [oomKilled] }, channels: [ops] }\n",
        );
        let got = messages(&[("a.yaml", &pb), ("config.yaml", &cfg)]);
        assert_eq!(
            got,
            [
                "warning notifications.routes[2].name: route `shop-eu` is never reached: route `shop` before it matches every finding it would match and does not continue (set `continue: true` there, or move this route up)",
                "warning notifications.routes[4].name: route `late` is never reached: route `all` before it matches every finding it would match and does not continue (set `continue: true` there, or move this route up)",
            ]
        );
        // A playbook that names the route reaches it.
        let named = playbook("  detect: {oomKilled: {}}\n  notify: {route: late}\n");
        let got = messages(&[("a.yaml", &named), ("config.yaml", &cfg)]);
        assert_eq!(got.len(), 1, "{got:?}");
    }
}
