//! Container logs served at `pods/{name}/log`, filled by tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

type LogKey = (String, String, String, bool);

/// Log text per (namespace, pod, container, previous).
#[derive(Debug, Default)]
pub struct LogStore {
    logs: Mutex<BTreeMap<LogKey, String>>,
}

impl LogStore {
    /// Sets the log of the running container.
    pub fn set(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        self.insert(namespace, pod, container, false, text);
    }

    /// Sets the log of the previous (terminated) instance of the container.
    pub fn set_previous(&self, namespace: &str, pod: &str, container: &str, text: &str) {
        self.insert(namespace, pod, container, true, text);
    }

    /// The stored log.
    pub fn get(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Option<String> {
        let key = (
            namespace.to_string(),
            pod.to_string(),
            container.to_string(),
            previous,
        );
        self.lock().get(&key).cloned()
    }

    fn insert(&self, namespace: &str, pod: &str, container: &str, previous: bool, text: &str) {
        let key = (
            namespace.to_string(),
            pod.to_string(),
            container.to_string(),
            previous,
        );
        self.lock().insert(key, text.to_string());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<LogKey, String>> {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The last `lines` lines of a text (all of it when `None`).
pub fn tail(text: &str, lines: Option<usize>) -> String {
    let Some(lines) = lines else {
        return text.to_string();
    };
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    all[all.len().saturating_sub(lines)..].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_lines() {
        assert_eq!(tail("a\nb\nc\n", Some(2)), "b\nc\n");
        assert_eq!(tail("a\nb\nc", Some(1)), "c");
        assert_eq!(tail("a\n", Some(5)), "a\n");
        assert_eq!(tail("a\nb\n", None), "a\nb\n");
        assert_eq!(tail("a\nb\n", Some(0)), "");
    }
}
