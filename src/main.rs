use clap::Parser;
use rounds::cli::Cli;
use rounds::commands::{self, Exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    // One TLS crypto provider for the whole process: mixing ring and aws-lc-rs panics at run time.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; usage errors are invalid input (exit 1).
            let code = if e.use_stderr() {
                Exit::Invalid
            } else {
                Exit::Done
            };
            let _ = e.print();
            return code.into();
        }
    };
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROUNDS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kube_client=off")),
        )
        .init();
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit().into()
        }
    }
}
