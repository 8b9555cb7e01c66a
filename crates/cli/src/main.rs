//! `sio`: a Socket.IO server, and (in later releases) a client toolbox, on the command line.

mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Socket.IO from the command line.
#[derive(Debug, Parser)]
#[command(name = "sio", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a ready Socket.IO server on the in-memory adapter.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sio: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sio: {message}");
            ExitCode::FAILURE
        }
    }
}
