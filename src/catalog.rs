//! The registration lists as users read them: every detector, action, guard and channel with
//! its explanation and a complete example. `rounds explain`, the README and the tests read the
//! same entries, and each registration list (`detectors!`, `actions!`, ...) makes its entries,
//! so an entry cannot be forgotten and no example in the docs can go stale: a test validates
//! every one.

/// What a registration list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Detector,
    Action,
    Guard,
    Channel,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detector => "detector",
            Self::Action => "action",
            Self::Guard => "guard",
            Self::Channel => "notification channel",
        }
    }

    /// Where the entry is written: its schema's place in a playbook or the runner config. A
    /// guard is written nowhere (every guard checks every action); its settings are its
    /// [`Entry::settings`].
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::Detector => Some("spec.detect"),
            Self::Action => Some("spec.remediate[]"),
            Self::Guard => None,
            Self::Channel => Some("notifications.channels.NAME"),
        }
    }

    /// The `x-rounds-kind` of its enum in the JSON Schema (guards have no enum there).
    pub fn schema_kind(self) -> Option<&'static str> {
        match self {
            Self::Detector => Some("detector"),
            Self::Action => Some("action"),
            Self::Guard => None,
            Self::Channel => Some("channel"),
        }
    }
}

/// The two documents a user writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Playbook,
    RunnerConfig,
}

impl Document {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Playbook => "playbook",
            Self::RunnerConfig => "runner config",
        }
    }

    /// Its JSON Schema, as `rounds schema` (`--kind config`) prints it.
    pub fn schema(self) -> serde_json::Value {
        match self {
            Self::Playbook => crate::playbook::schema(),
            Self::RunnerConfig => crate::config::schema(),
        }
    }
}

/// A field that changes what a guard does: `spec.guards.cooldown` of a playbook, `lock.file`
/// of the runner config. Its type and description are read from the document's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub document: Document,
    /// The field's dotted path from the document's root.
    pub path: &'static str,
}

impl Setting {
    pub const fn playbook(path: &'static str) -> Self {
        Self {
            document: Document::Playbook,
            path,
        }
    }

    pub const fn config(path: &'static str) -> Self {
        Self {
            document: Document::RunnerConfig,
            path,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub kind: Kind,
    /// What it does, how, and its arguments in prose.
    pub text: &'static str,
    /// An example using it: a complete playbook (for a guard set in the runner config, a
    /// complete runner config); for channels the runner config's `notifications` section (see
    /// [`Entry::document`]).
    pub example: &'static str,
    /// The fields a guard reads, in the playbook or the runner config (none for the others:
    /// their arguments are their variant's in the schema).
    pub settings: &'static [Setting],
}

impl Entry {
    /// The example as a complete document, ready to validate.
    pub fn document(&self) -> String {
        match self.kind {
            Kind::Detector | Kind::Action | Kind::Guard => self.example.to_owned(),
            Kind::Channel => crate::notify::explain::example_config(self.example),
        }
    }

    /// Which document the example is.
    pub fn document_kind(&self) -> Document {
        match self.kind {
            Kind::Detector | Kind::Action => Document::Playbook,
            Kind::Channel => Document::RunnerConfig,
            Kind::Guard if self.example.contains("\nkind: RunnerConfig\n") => {
                Document::RunnerConfig
            }
            Kind::Guard => Document::Playbook,
        }
    }

    /// The JSON Schema of the example's document: where the entry's arguments are.
    pub fn schema(&self) -> serde_json::Value {
        self.document_kind().schema()
    }
}

/// Every entry of every registration list, in list order.
pub fn all() -> impl Iterator<Item = Entry> {
    let channels = crate::notify::channels::Channel::CATALOG
        .iter()
        .map(|(name, text, example)| Entry {
            name,
            kind: Kind::Channel,
            text,
            example,
            settings: &[],
        });
    crate::detect::Detector::CATALOG
        .iter()
        .chain(crate::plan::Action::CATALOG)
        .chain(crate::guard::Guard::CATALOG)
        .copied()
        .chain(channels)
}

pub fn find(name: &str) -> Option<Entry> {
    all().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::Guard;
    use crate::playbook::Diagnostic;

    fn render(ds: &[Diagnostic]) -> String {
        ds.iter().map(|d| d.render()).collect()
    }

    #[test]
    fn every_guard_has_an_entry() {
        let guards: Vec<&str> = all()
            .filter(|e| e.kind == Kind::Guard)
            .map(|e| e.name)
            .collect();
        let names: Vec<&str> = Guard::ALL.iter().map(|g| g.name()).collect();
        assert_eq!(guards, names, "every guard, in the guards' order");
        for g in Guard::ORDER {
            assert!(Guard::ALL.contains(g), "{g:?}");
        }
        for g in Guard::ALL {
            let e = find(g.name()).unwrap_or_else(|| panic!("{} has no entry", g.name()));
            assert_eq!(e.kind, Kind::Guard);
            assert!(!e.text.is_empty() && !e.example.is_empty(), "{}", g.name());
        }
    }

    #[test]
    fn every_setting_is_in_its_schema_and_its_example() {
        for e in all() {
            assert!(
                e.settings.is_empty() || e.kind == Kind::Guard,
                "{}: only guards have settings",
                e.name
            );
            let doc: serde_json::Value = serde_saphyr::from_str(&e.document()).expect("YAML");
            for s in e.settings {
                let schema = s.document.schema();
                assert!(
                    crate::commands::explain::setting_schema(&schema, s).is_some(),
                    "{}: {} is not in the {} schema",
                    e.name,
                    s.path,
                    s.document.as_str()
                );
                let pointer = format!("/{}", s.path.replace('.', "/"));
                if s.document == e.document_kind() {
                    assert!(
                        doc.pointer(&pointer).is_some(),
                        "the example of {} does not set {}",
                        e.name,
                        s.path
                    );
                }
            }
        }
    }

    /// Every example loads with no error and no warning, as `rounds validate --deny-warnings`
    /// wants (tests/review_docs.rs runs the binary on each too).
    #[test]
    fn every_example_validates() {
        let dir = tempfile::tempdir().expect("tempdir");
        for e in all() {
            let file = dir.path().join(format!("{}.yaml", e.name));
            std::fs::write(&file, e.document()).expect("write");
            let loading = crate::config::load_with_playbooks(std::slice::from_ref(&file));
            assert!(
                loading.errors.is_empty() && loading.warnings.is_empty(),
                "the example of {}:\n{}{}",
                e.name,
                render(&loading.errors),
                render(&loading.warnings)
            );
            let found = match e.document_kind() {
                Document::Playbook => (loading.playbooks.len(), loading.configs.len()),
                Document::RunnerConfig => (loading.configs.len(), loading.playbooks.len()),
            };
            assert_eq!(
                found,
                (1, 0),
                "{}: one {}",
                e.name,
                e.document_kind().as_str()
            );
            let lint = crate::lint::check(&crate::lint::Input {
                playbooks: &loading.playbooks,
                configs: &loading.configs,
            });
            assert!(lint.is_empty(), "{}: {}", e.name, render(&lint));
        }
    }
}
