//! Checks that run after every document is loaded: across documents (a playbook's route must
//! exist in the runner config validated with it) and warnings (valid documents that will not do
//! what their author probably meant: a scope that excludes everything, an action with no
//! budget, an unreachable route). Warnings about one value alone (a schedule that never fires,
//! a percentage that looks like a fraction) come from the schema check
//! (`playbook::values::format_warning`).
//!
//! Adding a check: one file with a `check` function, and one line in [`CHECKS`].

mod budget;
mod routes;
mod scope;

use crate::config::{LoadedConfig, RunnerConfig};
use crate::plan::Action;
use crate::playbook::tree::PathSeg;
use crate::playbook::values::Glob;
use crate::playbook::{Diagnostic, Loaded};

/// What the checks look at.
pub struct Input<'a> {
    pub playbooks: &'a [Loaded],
    /// The runner configs validated together with the playbooks.
    pub configs: &'a [LoadedConfig],
}

impl Input<'_> {
    /// The protected namespaces the runner would use: those of the configs given, else the
    /// defaults.
    fn runner_configs(&self) -> Vec<(Option<&LoadedConfig>, RunnerConfig)> {
        if self.configs.is_empty() {
            vec![(None, RunnerConfig::default())]
        } else {
            self.configs
                .iter()
                .map(|c| (Some(c), c.config.clone()))
                .collect()
        }
    }
}

type Check = fn(&Input, &mut Vec<Diagnostic>);

/// Every check, in the order their diagnostics are reported.
const CHECKS: &[Check] = &[routes::check, scope::check, budget::check];

/// Runs every check; errors and warnings are told apart by their level.
pub fn check(input: &Input) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for check in CHECKS {
        check(input, &mut out);
    }
    out.sort_by(|a, b| {
        (a.level, &a.file, a.line, a.column).cmp(&(b.level, &b.file, b.line, b.column))
    });
    out
}

/// Whether an action changes the cluster (every action but `notifyOnly`).
fn writes(action: &Action) -> bool {
    !matches!(action, Action::NotifyOnly(_))
}

/// Whether a glob is a plain name.
fn is_literal(g: &Glob) -> bool {
    !g.to_string().contains(['*', '?', '[', ']', '{', '}', '\\'])
}

/// Whether every name `inner` matches is certainly matched by one of `outer` (a literal name
/// against a glob, equal patterns, or `*`: never a guess).
fn covered(inner: &Glob, outer: &[Glob]) -> bool {
    let text = inner.to_string();
    outer.iter().any(|o| {
        let o_text = o.to_string();
        o_text == "*" || o_text == text || (is_literal(inner) && o.matches(&text))
    })
}

/// `spec.a.b` as a path.
fn path(keys: &[&str]) -> Vec<PathSeg> {
    keys.iter().map(|k| PathSeg::Key((*k).to_owned())).collect()
}

#[cfg(test)]
mod testing {
    use crate::config::RunnerConfig;
    use crate::playbook::Loading;

    /// Loads documents written to a temporary directory.
    pub fn load(files: &[(&str, &str)]) -> Loading<RunnerConfig> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let loading = crate::config::load_with_playbooks(&[dir.path().to_owned()]);
        assert!(loading.errors.is_empty(), "{:?}", loading.errors);
        loading
    }

    /// The messages of every diagnostic the checks give.
    pub fn messages(files: &[(&str, &str)]) -> Vec<String> {
        let loading = load(files);
        super::check(&super::Input {
            playbooks: &loading.playbooks,
            configs: &loading.configs,
        })
        .into_iter()
        .map(|d| format!("{} {}: {}", d.level.as_str(), d.path, d.message))
        .collect()
    }

    pub fn playbook(spec: &str) -> String {
        format!(
            "apiVersion: rounds.dev/v1alpha1\nkind: Playbook\nmetadata:\n  name: pb\nspec:\n{spec}"
        )
    }
}
