//! Logs on stderr. In a Job (`--log-format json`, which the CronJob sets through
//! `ROUNDS_LOG_FORMAT`), every line is one JSON object with the round's run id, validation
//! problems and the final error included, and the last line carries the whole report, so that
//! `kubectl logs job/NAME` is enough to see what a round did. On a terminal the same events are
//! text, and errors keep their `file:line:col` rendering with the caret.

use crate::playbook::Diagnostic;
use serde_json::{Map, Value};
use std::fmt;
use std::io::Write as _;
use std::sync::{OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines; errors rendered with their source line.
    #[default]
    Text,
    /// One JSON object per line, each with the run id; the report is the last line.
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();
/// One process makes one round, so its run id is the process's.
// Set once the round's inputs are read, and again when a live round adds its nonce, so every
// line carries the report's `runId`.
static RUN_ID: RwLock<Option<String>> = RwLock::new(None);

fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// Installs the subscriber. `ROUNDS_LOG` filters, as `RUST_LOG` would (default: rounds' info
/// lines, warnings from the libraries it uses).
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROUNDS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rounds=info,kube_client=off"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.event_format(JsonLines).try_init(),
    };
}

/// Sets the run id that every following line carries (the report's `runId`).
pub fn set_run_id(id: &str) {
    if let Ok(mut slot) = RUN_ID.write() {
        *slot = Some(id.to_owned());
    }
}

pub fn run_id() -> Option<String> {
    RUN_ID.read().ok().and_then(|slot| slot.clone())
}

/// The fields every JSON line starts with.
fn line(level: &str, target: &str, message: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "time".into(),
        Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );
    map.insert("level".into(), Value::from(level));
    if let Some(id) = run_id() {
        map.insert("runId".into(), Value::from(id));
    }
    map.insert("target".into(), Value::from(target));
    map.insert("message".into(), Value::from(message));
    map
}

fn write_line(map: Map<String, Value>) {
    let text = Value::Object(map).to_string();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// A validation problem: its rendering on a terminal, one line with its place in a Job.
pub fn diagnostic(d: &Diagnostic) {
    match format() {
        LogFormat::Text => eprint!("{}", d.render()),
        LogFormat::Json => {
            let mut map = line("ERROR", "rounds::validate", &d.message);
            map.insert("file".into(), Value::from(d.file.as_str()));
            map.insert("line".into(), Value::from(d.line));
            map.insert("column".into(), Value::from(d.column));
            map.insert("field".into(), Value::from(d.path.as_str()));
            write_line(map);
        }
    }
}

/// The error that ended the command, and the exit code it gives.
pub fn error(e: &dyn fmt::Display, exit_code: u8) {
    match format() {
        LogFormat::Text => eprintln!("error: {e}"),
        LogFormat::Json => {
            let mut map = line("ERROR", "rounds", &e.to_string());
            map.insert("exitCode".into(), Value::from(exit_code));
            write_line(map);
        }
    }
}

/// The round's report as the last log line (JSON logs only: on a terminal, stdout has it).
pub fn report(report: &impl serde::Serialize, exit_code: u8) {
    if format() != LogFormat::Json {
        return;
    }
    let mut map = line(
        "INFO",
        "rounds::report",
        "The round is over; this is its report.",
    );
    map.insert("exitCode".into(), Value::from(exit_code));
    map.insert(
        "report".into(),
        serde_json::to_value(report).unwrap_or_else(|e| Value::from(e.to_string())),
    );
    write_line(map);
}

/// tracing events as JSON lines in the same shape.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut map = line(meta.level().as_str(), meta.target(), &fields.message);
        for (k, v) in fields.rest {
            // An event field never overwrites the line's own keys.
            let key = if map.contains_key(&k) {
                format!("field.{k}")
            } else {
                k
            };
            map.insert(key, v);
        }
        writeln!(writer, "{}", Value::Object(map))
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.rest.push((field.name().to_owned(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_carries_time_level_run_id_target_and_message() {
        set_run_id("20260101T000000Z-abcdef12");
        let map = line("INFO", "rounds::x", "A sentence.");
        let keys: std::collections::BTreeSet<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["time", "level", "runId", "target", "message"]
                .into_iter()
                .collect()
        );
        assert_eq!(map["runId"], "20260101T000000Z-abcdef12");
        assert!(chrono::DateTime::parse_from_rfc3339(map["time"].as_str().unwrap_or("")).is_ok());
    }
}
