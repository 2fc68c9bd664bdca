use clap::Parser;
use rounds::cli::Cli;
use rounds::commands::{self, Exit};
use std::process::ExitCode;

/// A large dump is decoded on worker threads and freed on the reader's: glibc's malloc pays
/// for each such free across threads, mimalloc does not (see the README's measurements).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    rounds::job::log::init(cli.log_format);
    match commands::run(cli) {
        Ok(exit) => exit.into(),
        Err(e) => {
            rounds::job::log::error(&e, e.exit() as u8);
            e.exit().into()
        }
    }
}
