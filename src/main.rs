//! The `counsel` command: the webhook server and the same engine on a
//! laptop and in CI.

mod cli;

use std::process::ExitCode;

use clap::Parser;

// The webhook allocates and frees many small buffers per review on several
// threads at once; mimalloc does that at about half glibc malloc's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(&args);
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
