//! The request log on disk, for the binary's `--request-log FILE`: benchmarks count the
//! requests a client made by asking the server (SIGUSR1) to write what it served since the
//! last dump.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::recorder::RequestLog;

/// Why the log could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the request log {path}: {source}")]
pub struct DumpError {
    path: PathBuf,
    source: std::io::Error,
}

/// Writes the requests served since the last dump to `path`, one per line
/// (`METHOD path?query STATUS`), and forgets them. Returns how many were written.
///
/// The file is written beside `path` and renamed over it, so a reader that waits for `path`
/// to appear never sees half a log.
pub fn dump(log: &RequestLog, path: &Path) -> Result<usize, DumpError> {
    let error = |source| DumpError {
        path: path.to_owned(),
        source,
    };
    let records = log.take();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(error)?);
    for record in &records {
        writeln!(
            out,
            "{} {} {}",
            record.method,
            record.path_and_query(),
            record.status
        )
        .map_err(error)?;
    }
    out.into_inner()
        .map_err(|e| error(e.into_error()))?
        .sync_all()
        .map_err(error)?;
    std::fs::rename(&tmp, path).map_err(error)?;
    Ok(records.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::RequestRecord;

    fn record(path: &str, query: &str) -> RequestRecord {
        RequestRecord {
            method: "GET".to_string(),
            path: path.to_string(),
            query: query.to_string(),
            user: Some("admin".to_string()),
            status: 200,
            dropped: false,
        }
    }

    #[test]
    fn each_dump_holds_the_requests_since_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.log");
        let log = RequestLog::default();
        log.push(record("/api/v1/pods", "limit=500"));
        log.push(record("/api/v1/nodes", ""));
        assert_eq!(dump(&log, &path).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "GET /api/v1/pods?limit=500 200\nGET /api/v1/nodes 200\n"
        );
        log.push(record("/api/v1/namespaces", ""));
        assert_eq!(dump(&log, &path).unwrap(), 1);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "GET /api/v1/namespaces 200\n"
        );
    }
}
