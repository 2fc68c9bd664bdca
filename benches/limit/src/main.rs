//! `limit`: how fast the bytes of a snapshot can be decoded at all, with nothing built from
//! them. scripts/bench.sh divides rounds' throughput by this one to show how far each reader
//! is from its format's limit.
//!
//! `limit json FILE` decodes the file with serde_json into `serde::de::IgnoredAny`;
//! `limit yaml FILE` runs the fastest YAML parser measured here (libyaml, through
//! `unsafe-libyaml`) over it, events only; `limit yaml-saphyr FILE` and
//! `limit yaml-libyaml-safer FILE` run the other two, for comparison.
//!
//! The file is read into memory first and only the parse is timed: the limit is the decoder's,
//! not the disk's. One line goes to stdout: `bytes=N seconds=S parser=NAME events=E`.

mod json;
mod yaml;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Why a measurement failed.
#[derive(Debug, thiserror::Error)]
enum LimitError {
    #[error("usage: limit json|yaml|yaml-saphyr|yaml-libyaml-safer FILE")]
    Usage,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not UTF-8 (saphyr-parser reads &str): {source}")]
    Utf8 {
        path: PathBuf,
        source: std::str::Utf8Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Yaml { path: PathBuf, message: String },
}

/// What one parse did: which parser, and how many events it produced (0 for JSON).
struct Parsed {
    parser: &'static str,
    events: u64,
}

fn measure(mode: &str, path: &Path) -> Result<(), LimitError> {
    let bytes = std::fs::read(path).map_err(|source| LimitError::Read {
        path: path.to_owned(),
        source,
    })?;
    let yaml_error = |message: String| LimitError::Yaml {
        path: path.to_owned(),
        message,
    };
    let start = Instant::now();
    let parsed = match mode {
        "json" => json::decode(&bytes).map_err(|source| LimitError::Json {
            path: path.to_owned(),
            source,
        })?,
        "yaml" => yaml::libyaml(&bytes).map_err(yaml_error)?,
        "yaml-libyaml-safer" => yaml::libyaml_safer(&bytes).map_err(yaml_error)?,
        "yaml-saphyr" => {
            let text = std::str::from_utf8(&bytes).map_err(|source| LimitError::Utf8 {
                path: path.to_owned(),
                source,
            })?;
            yaml::saphyr(text).map_err(yaml_error)?
        }
        _ => return Err(LimitError::Usage),
    };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "bytes={} seconds={seconds:.3} parser={} events={}",
        bytes.len(),
        parsed.parser,
        parsed.events
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [mode, file] => measure(mode, Path::new(file)),
        _ => Err(LimitError::Usage),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("limit: {error}");
            ExitCode::from(2)
        }
    }
}
