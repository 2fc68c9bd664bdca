//! The request log: every request with its user and answer, for tests to count and inspect.

use std::sync::Mutex;

/// One request as the server saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The raw query string (empty if none).
    pub query: String,
    /// The authenticated user (after impersonation), `None` if unauthenticated.
    pub user: Option<String>,
    /// The HTTP status sent.
    pub status: u16,
    /// Whether the connection was dropped on purpose in the middle of the body.
    pub dropped: bool,
}

impl RequestRecord {
    /// `path?query`, or the path alone.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// The log of all requests, in arrival order of their answers.
#[derive(Debug, Default)]
pub struct RequestLog {
    records: Mutex<Vec<RequestRecord>>,
}

impl RequestLog {
    /// Appends a record.
    pub fn push(&self, record: RequestRecord) {
        self.lock().push(record);
    }

    /// A copy of every record.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.lock().clone()
    }

    /// How many requests had this method and a path starting with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.starts_with(path_prefix))
            .count()
    }

    /// Every record, forgotten as they are returned (one lock: nothing is lost in between).
    pub fn take(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *self.lock())
    }

    /// Forgets every record.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RequestRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
