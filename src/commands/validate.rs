//! `rounds validate PATH...`: every problem of every file at once, as `file:line:col`, for people
//! (text), tools (json) or GitHub Actions (workflow-command annotations).
//!
//! Runner configs among the paths are validated together with the playbooks given with them
//! (see `crate::lint`); warnings fail the command only with `--deny-warnings`.

use super::Exit;
use crate::cli::{ValidateArgs, ValidateOutput};
use crate::config::RunnerConfig;
use crate::lint;
use crate::playbook::{Diagnostic, Level, Loading};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

#[derive(Serialize)]
struct ValidateReport<'a> {
    valid: bool,
    playbooks: Vec<DocumentLine>,
    configs: Vec<DocumentLine>,
    errors: Vec<&'a Diagnostic>,
    warnings: Vec<&'a Diagnostic>,
}

#[derive(Serialize)]
struct DocumentLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    file: String,
    digest: String,
}

/// What validation found, in the order it is reported: load errors as the files were read,
/// then the checks across documents, then warnings.
struct Outcome {
    loading: Loading<RunnerConfig>,
    diagnostics: Vec<Diagnostic>,
}

impl Outcome {
    fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.level == Level::Error)
    }

    fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.level == Level::Warning)
    }
}

fn check(paths: &[PathBuf]) -> Outcome {
    let mut missing = Vec::new();
    let mut present = Vec::new();
    for p in paths {
        if p.exists() {
            present.push(p.clone());
        } else {
            missing.push(whole_file(p, "no such file or directory"));
        }
    }
    let loading = crate::config::load_with_playbooks(&present);
    let mut diagnostics = missing;
    diagnostics.extend(loading.errors.iter().cloned());
    diagnostics.extend(loading.warnings.iter().cloned());
    diagnostics.extend(lint::check(&lint::Input {
        playbooks: &loading.playbooks,
        configs: &loading.configs,
    }));
    // In file order, as a reader goes through them.
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    Outcome {
        loading,
        diagnostics,
    }
}

fn whole_file(path: &Path, message: &str) -> Diagnostic {
    Diagnostic::new(
        &path.display().to_string(),
        "",
        Default::default(),
        "(document)".into(),
        message.into(),
    )
}

pub fn validate(args: &ValidateArgs) -> Exit {
    let outcome = check(&args.paths);
    let errors = outcome.errors().count();
    let warnings = outcome.warnings().count();
    let valid = errors == 0 && (warnings == 0 || !args.deny_warnings);
    match args.output {
        ValidateOutput::Text => {
            let (out, err) = text(&outcome, args.deny_warnings);
            print!("{out}");
            eprint!("{err}");
        }
        ValidateOutput::Json => {
            let report = ValidateReport {
                valid,
                playbooks: outcome
                    .loading
                    .playbooks
                    .iter()
                    .map(|p| DocumentLine {
                        name: Some(p.name().to_owned()),
                        file: p.file.clone(),
                        digest: p.digest.clone(),
                    })
                    .collect(),
                configs: outcome
                    .loading
                    .configs
                    .iter()
                    .map(|c| DocumentLine {
                        name: None,
                        file: c.file.clone(),
                        digest: c.digest.clone(),
                    })
                    .collect(),
                errors: outcome.errors().collect(),
                warnings: outcome.warnings().collect(),
            };
            match serde_json::to_string_pretty(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: cannot write the report: {e}"),
            }
        }
        ValidateOutput::Github => {
            let workspace = std::env::var_os("GITHUB_WORKSPACE")
                .map(PathBuf::from)
                .or_else(|| std::env::current_dir().ok());
            print!(
                "{}",
                github(&outcome, workspace.as_deref(), args.deny_warnings)
            );
        }
    }
    if valid { Exit::Done } else { Exit::Invalid }
}

/// Text: the documents that are valid on stdout; every diagnostic and the count on stderr.
fn text(outcome: &Outcome, deny_warnings: bool) -> (String, String) {
    let (mut out, mut err) = (String::new(), String::new());
    for d in &outcome.diagnostics {
        err.push_str(&d.render());
    }
    let errors = outcome.errors().count();
    let warnings = outcome.warnings().count();
    let warned = if warnings == 0 {
        String::new()
    } else {
        format!(", with {warnings} warning(s)")
    };
    if errors > 0 {
        let _ = writeln!(err, "{errors} error(s){warned}");
        return (out, err);
    }
    let l = &outcome.loading;
    for p in &l.playbooks {
        let _ = writeln!(out, "ok {} ({}) {}", p.name(), p.file, p.digest);
    }
    for c in &l.configs {
        let _ = writeln!(out, "ok runner config ({})", c.file);
    }
    let what = match (l.playbooks.len(), l.configs.len()) {
        (n, 0) => format!("{n} playbook(s)"),
        (0, c) => format!("{c} runner config(s)"),
        (n, c) => format!("{n} playbook(s) and {c} runner config(s)"),
    };
    let _ = writeln!(out, "{what} valid{warned}");
    if warnings > 0 && deny_warnings {
        let _ = writeln!(err, "{warnings} warning(s), denied by --deny-warnings");
    }
    (out, err)
}

/// GitHub Actions workflow commands: one annotation per diagnostic, then a summary line.
fn github(outcome: &Outcome, workspace: Option<&Path>, deny_warnings: bool) -> String {
    let mut out = String::new();
    for d in &outcome.diagnostics {
        let command = d.level.as_str();
        let mut props = vec![format!(
            "file={}",
            escape_property(&repo_path(&d.file, workspace))
        )];
        if d.line > 0 {
            props.push(format!("line={}", d.line));
            props.push(format!("col={}", d.column));
        }
        let title = if d.path == "(document)" {
            "rounds validate".to_owned()
        } else {
            format!("rounds validate: {}", d.path)
        };
        props.push(format!("title={}", escape_property(&title)));
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&d.message)
        );
    }
    let errors = outcome.errors().count();
    let warnings = outcome.warnings().count();
    let l = &outcome.loading;
    let _ = writeln!(
        out,
        "rounds validate: {} playbook(s), {} runner config(s); {errors} error(s), {warnings} warning(s){}",
        l.playbooks.len(),
        l.configs.len(),
        if warnings > 0 && deny_warnings {
            " (warnings denied)"
        } else {
            ""
        }
    );
    out
}

/// A path as GitHub names files in a pull request: relative to the workspace (the repository
/// root), without `./`.
pub(crate) fn repo_path(file: &str, workspace: Option<&Path>) -> String {
    let path = Path::new(file);
    let path = match workspace {
        Some(w) if path.is_absolute() => path.strip_prefix(w).unwrap_or(path),
        _ => path,
    };
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path.is_absolute() {
        path.display().to_string()
    } else {
        parts.join("/")
    }
}

/// Message escaping of the Actions toolkit (`escapeData`): `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property escaping (`escapeProperty`): as messages, and also `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% of\r\nit: a, b"), "50%25 of%0D%0Ait: a, b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn files_are_named_relative_to_the_repository() {
        let w = Path::new("/home/runner/work/repo/repo");
        assert_eq!(
            repo_path("/home/runner/work/repo/repo/playbooks/a.yaml", Some(w)),
            "playbooks/a.yaml"
        );
        assert_eq!(
            repo_path("./playbooks/./a.yaml", Some(w)),
            "playbooks/a.yaml"
        );
        assert_eq!(repo_path("/elsewhere/a.yaml", Some(w)), "/elsewhere/a.yaml");
    }
}
