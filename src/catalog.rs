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
    Channel,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detector => "detector",
            Self::Action => "action",
            Self::Channel => "notification channel",
        }
    }

    /// Where the entry is written: its schema's place in a playbook.
    pub fn field(self) -> &'static str {
        match self {
            Self::Detector => "spec.detect",
            Self::Action => "spec.remediate[]",
            Self::Channel => "notifications.channels.NAME",
        }
    }

    /// The `x-rounds-kind` of its enum in the JSON Schema.
    pub fn schema_kind(self) -> &'static str {
        match self {
            Self::Detector => "detector",
            Self::Action => "action",
            Self::Channel => "channel",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub kind: Kind,
    /// What it does, how, and its arguments in prose.
    pub text: &'static str,
    /// An example using it: a complete playbook; for channels the runner config's
    /// `notifications` section (see [`Entry::document`]).
    pub example: &'static str,
}

impl Entry {
    /// The example as a complete document, ready to validate.
    pub fn document(&self) -> String {
        match self.kind {
            Kind::Detector | Kind::Action => self.example.to_owned(),
            Kind::Channel => crate::notify::explain::example_config(self.example),
        }
    }

    /// The JSON Schema the entry's arguments are in.
    pub fn schema(&self) -> serde_json::Value {
        match self.kind {
            Kind::Detector | Kind::Action => crate::playbook::schema(),
            Kind::Channel => crate::config::schema(),
        }
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
        });
    crate::detect::Detector::CATALOG
        .iter()
        .chain(crate::plan::Action::CATALOG)
        .copied()
        .chain(channels)
}

pub fn find(name: &str) -> Option<Entry> {
    all().find(|e| e.name == name)
}
