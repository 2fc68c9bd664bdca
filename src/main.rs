use clap::Parser;
use rounds::cli::Cli;
use rounds::commands::{self, Exit};
use std::process::ExitCode;

/// A large dump is decoded on worker threads and freed on the reader's: glibc's malloc pays
/// for each such free across threads, mimalloc does not (see the README's measurements).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's own `mi_option_set` (the mimalloc crate links it; only its `extended`
    /// feature, which needs another crate, declares it).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// mimalloc keeps freed memory for 10 ms before it returns it; a live round frees each list
/// page (megabytes) as the next arrives, so that delay held pages twice over (peak RSS at
/// 50,000 pods: 58 MiB with it, 34 MiB without; no slower). `MIMALLOC_PURGE_DELAY` would do
/// the same, but the CronJob should not depend on its environment for its memory.
fn purge_freed_memory_at_once() {
    // `mi_option_purge_delay` in mimalloc v3's `mi_option_t` (include/mimalloc.h).
    const PURGE_DELAY: std::ffi::c_int = 15;
    // SAFETY: a plain store of an option, which mimalloc allows at any time.
    unsafe { mi_option_set(PURGE_DELAY, 0) };
}

fn main() -> ExitCode {
    purge_freed_memory_at_once();
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
