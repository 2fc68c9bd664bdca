//! Validation errors with their place: `file:line:col`, the field path and the source line.

use super::tree::Pos;
use serde::Serialize;
use std::fmt::Write as _;

/// Source lines wider than this are shown as a window around the column.
const SOURCE_WIDTH: usize = 100;

/// How bad a problem is: an error makes the input invalid; a warning marks a valid input that
/// probably does not do what its author meant (`rounds validate --deny-warnings` fails on
/// those too).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Error,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The field path, e.g. `spec.detect.oomKilled.within`.
    pub path: String,
    pub message: String,
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, source: &str, pos: Pos, path: String, message: String) -> Self {
        let source_line = (pos.line > 0)
            .then(|| source.lines().nth(pos.line - 1))
            .flatten()
            .map(str::to_owned);
        Self {
            level: Level::Error,
            file: file.to_owned(),
            line: pos.line,
            column: pos.col,
            path,
            message,
            source_line,
        }
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.level = Level::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// `file:line:col: error: message`, the field, then the line with a caret under the column.
    /// A long source line is shown as a window around the column.
    pub fn render(&self) -> String {
        let level = self.level.as_str();
        // A problem with the whole file (unreadable, too large) has no position.
        let mut out = if self.line == 0 {
            format!("{}: {level}: {}\n", self.file, self.message)
        } else {
            format!(
                "{}:{}:{}: {level}: {}\n",
                self.file, self.line, self.column, self.message
            )
        };
        if self.path != "(document)" {
            let _ = writeln!(out, "  field: {}", self.path);
        }
        if let Some(line) = &self.source_line {
            let (src, column) = crate::wording::window(line, self.column, SOURCE_WIDTH);
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let _ = writeln!(out, " {pad} |");
            let _ = writeln!(out, " {num} | {src}");
            let caret_at: String = src
                .chars()
                .take(column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, " {pad} | {caret_at}^");
        }
        out
    }
}
