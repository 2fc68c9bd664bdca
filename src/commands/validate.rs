//! `rounds validate PATH...`: every problem of every file, as `file:line:col`.

use super::Exit;
use crate::cli::{OutputFormat, ValidateArgs};
use crate::playbook::{Diagnostic, Validated};
use serde::Serialize;

#[derive(Serialize)]
struct ValidateReport<'a> {
    valid: bool,
    playbooks: Vec<PlaybookLine>,
    configs: &'a [String],
    errors: Vec<&'a Diagnostic>,
    warnings: Vec<&'a Diagnostic>,
}

#[derive(Serialize)]
struct PlaybookLine {
    name: String,
    file: String,
    digest: String,
}

pub fn validate(args: &ValidateArgs) -> Exit {
    let missing: Vec<Diagnostic> = args
        .paths
        .iter()
        .filter(|p| !p.exists())
        .map(|p| {
            Diagnostic::new(
                &p.display().to_string(),
                "",
                Default::default(),
                "(document)".into(),
                "no such file or directory".into(),
            )
        })
        .collect();
    let (validated, problems) = if missing.is_empty() {
        match crate::config::load_with_playbooks(&args.paths) {
            Ok(v) => {
                let warnings = v.warnings.clone();
                (v, warnings)
            }
            Err(e) => (Validated::default(), e),
        }
    } else {
        (Validated::default(), missing)
    };
    let errors: Vec<&Diagnostic> = problems.iter().filter(|d| d.is_error()).collect();
    let warnings: Vec<&Diagnostic> = problems.iter().filter(|d| !d.is_error()).collect();
    match args.format {
        OutputFormat::Text => {
            for d in &problems {
                eprint!("{}", d.render());
            }
            let warned = if warnings.is_empty() {
                String::new()
            } else {
                format!(", with {} warning(s)", warnings.len())
            };
            if errors.is_empty() {
                for p in &validated.playbooks {
                    println!("ok {} ({}) {}", p.name(), p.file, p.digest);
                }
                for c in &validated.configs {
                    println!("ok runner config ({c})");
                }
                let (n, c) = (validated.playbooks.len(), validated.configs.len());
                let what = match (n, c) {
                    (n, 0) => format!("{n} playbook(s)"),
                    (0, c) => format!("{c} runner config(s)"),
                    (n, c) => format!("{n} playbook(s) and {c} runner config(s)"),
                };
                println!("{what} valid{warned}");
            } else {
                eprintln!("{} error(s){warned}", errors.len());
            }
        }
        OutputFormat::Json => {
            let report = ValidateReport {
                valid: errors.is_empty(),
                playbooks: validated
                    .playbooks
                    .iter()
                    .map(|p| PlaybookLine {
                        name: p.name().to_owned(),
                        file: p.file.clone(),
                        digest: p.digest.clone(),
                    })
                    .collect(),
                configs: &validated.configs,
                errors: errors.clone(),
                warnings,
            };
            match serde_json::to_string_pretty(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: cannot write the report: {e}"),
            }
        }
    }
    if errors.is_empty() {
        Exit::Done
    } else {
        Exit::Invalid
    }
}
