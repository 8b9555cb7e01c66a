//! The README, tried as a newcomer would: every command of its `sh` blocks is run (in order,
//! with `sio` installed by the README's own `cargo install` line, on a free port instead of
//! 3000), and its client example, which is `crates/client/examples/chat.rs`, runs against
//! `sio serve`, as does `request_response`. Its Rust blocks are compiled by the doctests of
//! `examples/src/lib.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{Running, WAIT, free_port};
use tokio::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn readme() -> String {
    std::fs::read_to_string(workspace().join("README.md")).unwrap()
}

/// The lines of the README's ```sh blocks, without comments, and what each comment said.
fn commands() -> Vec<(String, String)> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in readme().lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh || line.trim().is_empty() {
            continue;
        }
        let (command, comment) = match line.find(" #") {
            Some(at) => (&line[..at], line[at + 2..].trim()),
            None => (line, ""),
        };
        commands.push((command.trim().to_owned(), comment.to_owned()));
    }
    commands
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The cargo target directory these tests were built in (`…/target/debug/deps/readme-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// `sh -c command` with `bin` first on the PATH; returns (code, stdout, stderr).
///
/// Generous: the first `cargo install` or `cargo run --example` of a fresh checkout compiles.
async fn shell(bin: &Path, command: &str) -> (Option<i32>, String, String) {
    let output = tokio::time::timeout(WAIT * 20, shell_command(bin, command).output())
        .await
        .unwrap_or_else(|_| panic!("{command} did not finish"))
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn shell_command(bin: &Path, command: &str) -> Command {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(command)
        .current_dir(workspace())
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    shell
}

#[tokio::test]
async fn the_client_example_is_the_chat_example() {
    let example =
        std::fs::read_to_string(workspace().join("crates/client/examples/chat.rs")).unwrap();
    let code = &example[example.find("use sio_client").unwrap()..];
    assert!(
        readme().contains(&format!("```rust,no_run\n{code}```")),
        "the README's client block differs from crates/client/examples/chat.rs"
    );
}

/// Every command of the README, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_command_runs() {
    let port = free_port();
    let here = format!("127.0.0.1:{port}");
    let root = std::env::temp_dir().join(format!("sio-readme-{}", std::process::id()));
    let bin = root.join("bin");
    let mut server: Option<Running> = None;
    let mut listener: Option<Running> = None;
    let commands = commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for (command, comment) in &commands {
        let command = command
            .replace("127.0.0.1:3000", &here)
            .replace("localhost:3000", &here);
        match command.as_str() {
            // The test command is CI's (.ci/run runs exactly it); it would run this test again.
            "scripts/test" => {}
            "cargo run --release -p sio-cli -- serve" => {
                // The same binary as `sio serve`: started (from the dev build, not a second
                // release build) and stopped as Ctrl-C would.
                let mut serve = Running::start(&["serve", "--port", &port.to_string()]);
                serve
                    .line_where("listening", |l| l.contains("listening on"))
                    .await;
                let (code, stderr) = serve.signal("INT").await;
                assert_eq!(code, Some(0), "{stderr}");
            }
            "cargo install --path crates/cli" => {
                // Into a folder of its own, from the build these tests come from.
                let install = format!(
                    "{} install --path crates/cli --debug --locked --offline --quiet --root {} \
                     --target-dir {}",
                    cargo(),
                    root.display(),
                    target_dir().display()
                );
                let (code, _, stderr) = shell(&bin, &install).await;
                assert_eq!(code, Some(0), "{install}: {stderr}");
                assert!(bin.join("sio").is_file());
            }
            "sio serve" => {
                let mut command = shell_command(&bin, &format!("exec sio serve --port {port}"));
                command.env("RUST_LOG", "info");
                let mut serve = Running::spawn(command);
                let line = serve
                    .line_where("listening", |l| l.contains("listening on"))
                    .await;
                assert!(
                    line.contains(&format!("http://{here}/socket.io/")),
                    "{line}"
                );
                // The start-up hint is the README's next command, and works once installed.
                let hint = serve.line_where("the hint", |l| l.contains("try: ")).await;
                assert!(
                    hint.contains(&format!("try: sio listen http://{here} --event echo")),
                    "{hint}"
                );
                server = Some(serve);
            }
            background if background.ends_with('&') => {
                assert!(server.is_some(), "{background} before sio serve");
                let command = format!("exec {}", background.trim_end_matches('&').trim());
                let mut running = Running::spawn(shell_command(&bin, &command));
                let line = running.line().await;
                assert!(line.contains("connected to"), "{command}: {line}");
                listener = Some(running);
            }
            other => {
                assert!(
                    other.starts_with("sio "),
                    "a README command this test does not know how to run: {other}"
                );
                let (code, stdout, stderr) = shell(&bin, other).await;
                assert_eq!(code, Some(0), "{other}: {stdout}{stderr}");
                if let Some(printed) = comment.strip_prefix("prints ") {
                    assert_eq!(stdout.trim(), printed, "{other}");
                }
                if comment.contains("sio listen shows it") {
                    let listen = listener.as_mut().expect("sio listen runs");
                    let line = listen.line().await;
                    assert!(
                        line.contains("echo") && line.contains(r#""hello"  {"n": 1}"#),
                        "{line}"
                    );
                }
            }
        }
    }
    if let Some(listen) = listener {
        let (code, stderr) = listen.signal("TERM").await;
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, stderr) = server.expect("sio serve ran").signal("TERM").await;
    assert_eq!(code, Some(0), "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}

/// `cargo run -p sio-client --example NAME -- URL` against `sio serve`, as the client guide
/// says; returns its stdout.
async fn run_example(name: &str, url: &str) -> String {
    let command = format!(
        "{} run --quiet --locked --offline -p sio-client --example {name} --target-dir {} -- {url}",
        cargo(),
        target_dir().display()
    );
    let (code, stdout, stderr) = shell(Path::new("/nonexistent"), &command).await;
    assert_eq!(code, Some(0), "{command}: {stdout}{stderr}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_examples_run_against_sio_serve() {
    let serve = common::Serve::start().await;
    let chat = run_example("chat", &serve.url("/chat")).await;
    assert_eq!(
        chat.lines().collect::<Vec<_>>(),
        ["joined: true; 1 member(s) in room rust", "me: hello, room"],
        "{chat}"
    );
    let request_response = run_example("request_response", &serve.url("/")).await;
    assert!(
        request_response.contains("2 + 40 = 42"),
        "{request_response}"
    );
    assert!(
        request_response.contains("uploaded report.bin: 4 bytes"),
        "{request_response}"
    );
}
