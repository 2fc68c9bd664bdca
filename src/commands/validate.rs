//! `rounds validate PATH...`: every problem of every file, as `file:line:col`.

use super::Exit;
use crate::cli::{OutputFormat, ValidateArgs};
use crate::playbook::Diagnostic;
use serde::Serialize;

#[derive(Serialize)]
struct ValidateReport<'a> {
    valid: bool,
    playbooks: Vec<PlaybookLine>,
    errors: &'a [Diagnostic],
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
    let (loaded, errors) = if missing.is_empty() {
        match crate::config::load_with_playbooks(&args.paths) {
            Ok(l) => (l, Vec::new()),
            Err(e) => (Vec::new(), e),
        }
    } else {
        (Vec::new(), missing)
    };
    match args.format {
        OutputFormat::Text => {
            for d in &errors {
                eprint!("{}", d.render());
            }
            if errors.is_empty() {
                for p in &loaded {
                    println!("ok {} ({}) {}", p.name(), p.file, p.digest);
                }
                println!("{} playbook(s) valid", loaded.len());
            } else {
                eprintln!("{} error(s)", errors.len());
            }
        }
        OutputFormat::Json => {
            let report = ValidateReport {
                valid: errors.is_empty(),
                playbooks: loaded
                    .iter()
                    .map(|p| PlaybookLine {
                        name: p.name().to_owned(),
                        file: p.file.clone(),
                        digest: p.digest.clone(),
                    })
                    .collect(),
                errors: &errors,
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
