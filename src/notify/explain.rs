//! The channels' examples for `rounds explain CHANNEL` (src/catalog.rs) as whole runner
//! configs (tested below to validate).

/// An example as a whole runner config document.
pub fn example_config(example: &str) -> String {
    format!("apiVersion: rounds.dev/v1alpha1\nkind: RunnerConfig\n{example}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channels::Channel;
    use crate::playbook::document::Source;

    #[test]
    fn every_channel_has_an_example_config_that_validates() {
        assert_eq!(Channel::CATALOG.len(), 7);
        for (name, text, example) in Channel::CATALOG {
            assert!(!text.is_empty(), "{name}");
            let source = Source {
                file: format!("{name}.yaml"),
                text: example_config(example),
            };
            let docs = source.documents().expect("YAML");
            let config = crate::config::check_document(&source, &docs[0]).unwrap_or_else(|d| {
                panic!(
                    "{name}: {}",
                    d.iter().map(|d| d.render()).collect::<String>()
                )
            });
            let kinds: Vec<&str> = config
                .notifications
                .channels
                .values()
                .map(Channel::kind)
                .collect();
            assert_eq!(kinds, [*name], "{name}");
            assert!(!config.notifications.routes.is_empty(), "{name}");
        }
    }
}
