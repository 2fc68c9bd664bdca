//! `rounds lock` and `rounds verify-lock`.

use super::validate::{escape_data, escape_property, repo_path};
use super::{CommandError, Exit};
use crate::cli::{LockArgs, ValidateOutput, VerifyLockArgs};
use crate::lock::verify::{self, Verification, VerifyError};
use crate::lock::{self, Lock, LockError, lock_dir, resolve};
use crate::playbook::{self, Diagnostic};
use std::fmt::Write as _;
use std::path::PathBuf;

pub fn lock(args: &LockArgs) -> Result<Exit, CommandError> {
    let existing = if args.files.lock.exists() {
        Some(Lock::read(&args.files.lock).map_err(lock_error)?)
    } else {
        None
    };
    let base = lock_dir(&args.files.lock).map_err(lock_error)?;
    let paths: Vec<PathBuf> = if !args.files.paths.is_empty() {
        args.files.paths.clone()
    } else if let Some(l) = &existing {
        l.paths.iter().map(|p| resolve(&base, p)).collect()
    } else {
        return Err(CommandError::Invalid(format!(
            "there is no lock {} to take the playbook paths from: give them, e.g. `rounds lock playbooks`",
            args.files.lock.display()
        )));
    };
    for p in &paths {
        if !p.exists() {
            return Err(CommandError::Invalid(format!(
                "playbook path {} does not exist; nothing was locked",
                p.display()
            )));
        }
    }
    let config = args.files.config.clone().or_else(|| {
        existing
            .as_ref()
            .and_then(|l| l.config.as_ref())
            .map(|c| resolve(&base, &c.file))
    });
    let loading = playbook::load_all::<()>(&paths, &[]);
    let mut errors = loading.errors;
    let config = match &config {
        Some(file) => match crate::config::load(file)
            .and_then(|_| verify::config_digest(file).map_err(|d| vec![d]))
        {
            Ok(digest) => Some((file.as_path(), digest)),
            Err(mut d) => {
                errors.append(&mut d);
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(invalid(&errors, "nothing was locked"));
    }
    if loading.playbooks.is_empty() {
        return Err(CommandError::Invalid(
            "no playbooks found; nothing was locked".into(),
        ));
    }
    let new =
        lock::build(&args.files.lock, &paths, &loading.playbooks, config).map_err(lock_error)?;
    new.write(&args.files.lock).map_err(lock_error)?;
    let files: std::collections::BTreeSet<&str> =
        new.playbooks.iter().map(|p| p.file.as_str()).collect();
    println!(
        "wrote {}: {} playbook(s) in {} file(s){}",
        args.files.lock.display(),
        new.playbooks.len(),
        files.len(),
        new.config
            .as_ref()
            .map(|c| format!(" and the runner config {}", c.file))
            .unwrap_or_default()
    );
    Ok(Exit::Done)
}

pub fn verify(args: &VerifyLockArgs) -> Result<Exit, CommandError> {
    let v = match verify::verify(
        &args.files.lock,
        &args.files.paths,
        args.files.config.as_deref(),
    ) {
        Ok(v) => v,
        Err(VerifyError::Lock(e)) => return Err(lock_error(e)),
        Err(VerifyError::Read(d)) => return Err(invalid(&d, "the lock was not checked")),
    };
    match args.output {
        ValidateOutput::Text => {
            let (out, err) = text(&v);
            print!("{out}");
            eprint!("{err}");
        }
        ValidateOutput::Json => {
            let json = serde_json::to_string_pretty(&v)
                .map_err(|e| CommandError::CouldNotRun(format!("cannot write the result: {e}")))?;
            println!("{json}");
        }
        ValidateOutput::Github => {
            let base = lock_dir(&args.files.lock).map_err(lock_error)?;
            let workspace = std::env::var_os("GITHUB_WORKSPACE")
                .map(PathBuf::from)
                .or_else(|| std::env::current_dir().ok());
            print!("{}", github(&v, &base, workspace.as_deref()));
        }
    }
    Ok(if v.matches { Exit::Done } else { Exit::Invalid })
}

fn summary(v: &Verification) -> String {
    format!(
        "{} playbook(s) in {} file(s){}",
        v.playbooks,
        v.files,
        if v.config.is_some() {
            " and the runner config"
        } else {
            ""
        }
    )
}

/// Text: the verdict on stdout when it matches; otherwise each file on stderr.
fn text(v: &Verification) -> (String, String) {
    let (mut out, mut err) = (String::new(), String::new());
    for n in &v.notes {
        let _ = writeln!(err, "note: {n}");
    }
    if v.matches {
        let _ = writeln!(out, "{} matches {}", v.lock, summary(v));
        return (out, err);
    }
    let _ = writeln!(
        err,
        "{} does not match {} file(s):",
        v.lock,
        v.changes.len()
    );
    for c in &v.changes {
        let _ = writeln!(
            err,
            "  {:<8} {}: {}",
            c.status.as_str(),
            c.file,
            c.details.join("; ")
        );
    }
    let _ = writeln!(
        err,
        "Run `rounds lock` to record the change, and have it reviewed with the playbooks."
    );
    (out, err)
}

fn github(v: &Verification, base: &std::path::Path, workspace: Option<&std::path::Path>) -> String {
    let mut out = String::new();
    for c in &v.changes {
        let file = std::path::absolute(base.join(&c.file))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| c.file.clone());
        let _ = writeln!(
            out,
            "::error file={},title={}::{}",
            escape_property(&repo_path(&file, workspace)),
            escape_property(&format!("rounds verify-lock: {}", c.status.as_str())),
            escape_data(&format!(
                "{}; run `rounds lock` and review the change",
                c.details.join("; ")
            ))
        );
    }
    let _ = writeln!(
        out,
        "rounds verify-lock: {} {} {}",
        v.lock,
        if v.matches {
            "matches"
        } else {
            "does not match"
        },
        if v.matches {
            summary(v)
        } else {
            format!("{} file(s)", v.changes.len())
        }
    );
    out
}

fn lock_error(e: LockError) -> CommandError {
    match e {
        LockError::Invalid { diagnostics, .. } => invalid(&diagnostics, "the lock is unreadable"),
        LockError::Write { .. } => CommandError::CouldNotRun(e.to_string()),
        LockError::Path(_) => CommandError::Invalid(e.to_string()),
    }
}

fn invalid(diagnostics: &[Diagnostic], what: &str) -> CommandError {
    for d in diagnostics {
        eprint!("{}", d.render());
    }
    CommandError::Invalid(format!("{} error(s); {what}", diagnostics.len()))
}
