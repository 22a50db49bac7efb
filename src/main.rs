//! The `tabel` command: parses the command line, sets up logging, runs the
//! chosen command and turns its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system's allocator: a night's rendering makes
/// and drops millions of small strings on every core, and glibc's
/// allocator took a seventh of the build's CPU time
/// (docs/benchmarks.md, "The allocator and the school's read").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = tabel::cmd::Cli::parse();
    tabel::cmd::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_unpark(tabel::http::worker_woke)
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tabel::cmd::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
