//! The subcommands. Each returns the process exit status; errors that stop a command are
//! returned with their context and mapped to exit codes by `main`.

pub mod diff;
pub mod doctor;
pub mod explain;
pub mod lock;
pub mod plan;
pub mod run;
pub mod schema;
pub mod validate;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Exit codes, stable and documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done = 0,
    Invalid = 1,
    CouldNotRun = 2,
    Failures = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// An error that stops a command, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    CouldNotRun(String),
}

impl CommandError {
    pub fn exit(&self) -> Exit {
        match self {
            Self::Invalid(_) => Exit::Invalid,
            Self::CouldNotRun(_) => Exit::CouldNotRun,
        }
    }
}

pub fn run(cli: Cli) -> Result<Exit, CommandError> {
    match cli.command {
        Command::Plan(args) => plan::plan(&args),
        Command::Run(args) => run::run(&args),
        Command::Doctor(args) => doctor::doctor(&args),
        Command::Validate(args) => Ok(validate::validate(&args)),
        Command::Schema(args) => schema::schema(&args),
        Command::Explain(args) => explain::explain(args.name.as_deref()),
        Command::Lock(args) => lock::lock(&args),
        Command::VerifyLock(args) => lock::verify(&args),
        Command::Diff(args) => diff::diff(&args),
    }
}
