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
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detector => "detector",
            Self::Action => "action",
        }
    }

    /// Where the entry is written: its schema's place in a playbook.
    pub fn field(self) -> &'static str {
        match self {
            Self::Detector => "spec.detect",
            Self::Action => "spec.remediate[]",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub kind: Kind,
    /// What it does, how, and its arguments in prose.
    pub text: &'static str,
    /// A complete document using it (a playbook; a runner config for channels).
    pub example: &'static str,
}

/// Every entry of every registration list, in list order.
pub fn all() -> impl Iterator<Item = &'static Entry> {
    crate::detect::Detector::CATALOG
        .iter()
        .chain(crate::plan::Action::CATALOG)
}

pub fn find(name: &str) -> Option<&'static Entry> {
    all().find(|e| e.name == name)
}
