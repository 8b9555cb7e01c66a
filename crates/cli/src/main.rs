//! `sio`: a Socket.IO server and a toolbox for Socket.IO endpoints, on the command line.

mod bench;
mod connect;
mod decode;
mod emit;
mod listen;
mod output;
mod probe;
mod serve;
mod signalr;

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
    /// Connect to a namespace and print its events as they come, until Ctrl-C.
    #[command(after_help = listen::EXAMPLES)]
    Listen(listen::ListenArgs),
    /// Send one event, optionally wait for its acknowledgement and print it.
    #[command(after_help = emit::EXAMPLES)]
    Emit(emit::EmitArgs),
    /// Explain raw frames copied from DevTools: Engine.IO, Socket.IO (any revision), SignalR.
    #[command(after_help = decode::EXAMPLES)]
    Decode(decode::DecodeArgs),
    /// Tell what an endpoint speaks and how to connect to it.
    #[command(after_help = probe::EXAMPLES)]
    Probe(probe::ProbeArgs),
    /// Load a server (echo, fan-out, connect storm) and report rate, latency and generator CPU.
    #[command(after_help = bench::EXAMPLES)]
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Decoding needs no runtime; it reads its input synchronously.
    let command = match cli.command {
        Command::Decode(args) => return decode::run(args),
        // The load generator runs its own runtimes, one per thread.
        Command::Bench(args) => return bench::run(args),
        command => command,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sio: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match command {
            Command::Serve(args) => match serve::run(args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("sio: {message}");
                    ExitCode::FAILURE
                }
            },
            Command::Listen(args) => listen::run(args).await,
            Command::Emit(args) => emit::run(args).await,
            Command::Probe(args) => probe::run(args).await,
            Command::Decode(args) => decode::run(args),
            Command::Bench(args) => bench::run(args),
        }
    })
}
