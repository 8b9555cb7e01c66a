//! Acknowledgements both ways, with and without time limits: Node's `emitWithAck`.
//!
//! | client emits                 | server does                                                      |
//! |------------------------------|------------------------------------------------------------------|
//! | `add` `a, b` (with ack)      | answers the client's ack with `a + b`                            |
//! | `quiz`                       | asks the client `question` with a 500 ms limit, then emits `quiz result`: the answer, or the timeout |
//! | `poll` `question` (with ack) | asks every client `vote` with a 500 ms limit; acks the tally of the votes that came in time |
//!
//! Node's equivalents: `socket.on("add", (a, b, ack) => ack(a + b))`,
//! `await socket.timeout(500).emitWithAck("question", q)` (which throws on timeout) and
//! `io.timeout(500).emit("vote", q, (err, answers) => …)` (`err` when some did not answer;
//! the answers that came are there all the same).
//!
//! ```text
//! cargo run -p sio-examples --example acks        # PORT=4000 to change the port
//! node peers/examples/acks.js http://127.0.0.1:3000
//! ```
//!
//! By hand, in a `node` REPL started in `peers/`:
//!
//! ```js
//! const { io } = require("socket.io-client");
//! const s = io("http://127.0.0.1:3000");
//! await s.emitWithAck("add", 2, 3);                  // 5
//! s.on("question", (q, ack) => ack(42));             // answer in time…
//! s.on("quiz result", console.log);
//! s.emit("quiz");                                    // { answer: 42, correct: true }
//! s.on("vote", (q, ack) => ack("rust"));
//! await s.emitWithAck("poll", "Rust or JS?");        // { votes: { rust: 1 }, answered: 1, expected: 1 }
//! ```

use std::{collections::BTreeMap, time::Duration};

use serde::Serialize;
use sio_server::{AckError, Event, ServerConfig, SocketIo, SocketRef, Value};
use tokio::net::TcpListener;

/// How long the server waits for a client's answer.
const ANSWER_TIME: Duration = Duration::from_millis(500);

/// What the server tells a client after its quiz.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum QuizResult {
    Answered { answer: Value, correct: bool },
    NoAnswer { error: String },
}

/// The outcome of a poll: votes per choice, and how many of the clients answered in time.
#[derive(Debug, Serialize)]
struct PollResult {
    votes: BTreeMap<String, usize>,
    answered: usize,
    expected: usize,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let io = SocketIo::new(ServerConfig::default());
    io.on_connection(|socket: SocketRef| async move {
        socket.on("add", add);
        socket.on("quiz", quiz);
        socket.on("poll", poll);
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("acks listening on http://{}", listener.local_addr()?);
    io.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Server answering a client's ack: `socket.on("add", (a, b, ack) => ack(a + b))`.
async fn add(_socket: SocketRef, mut event: Event) {
    match event.args::<(f64, f64)>() {
        Ok((a, b)) => {
            let _ = event.ack(&(a + b));
        }
        // Acks can carry errors too; Node code often answers `{ error }`.
        Err(error) => {
            let _ = event.ack(&serde_json::json!({ "error": error.to_string() }));
        }
    }
}

/// Server asking a client, with a time limit:
///
/// ```js
/// try {
///   const answer = await socket.timeout(500).emitWithAck("question", "What is 6 × 7?");
///   socket.emit("quiz result", { answer, correct: answer === 42 });
/// } catch (err) {
///   socket.emit("quiz result", { error: err.message });
/// }
/// ```
async fn quiz(socket: SocketRef, _event: Event) {
    let reply = socket
        .timeout(ANSWER_TIME)
        .emit_with_ack("question", "What is 6 × 7?")
        .await;
    let result = match reply {
        // The client acked with its arguments: the answer is the first one.
        Ok(args) => {
            let answer = args.into_iter().next().unwrap_or(Value::Nil);
            let correct = answer.as_f64() == Some(42.0);
            QuizResult::Answered { answer, correct }
        }
        Err(AckError::Timeout) => {
            println!("{} did not answer in time", socket.id());
            QuizResult::NoAnswer {
                error: "operation has timed out".into(),
            }
        }
        // Gone before answering: there is nobody left to tell.
        Err(error) => {
            println!("{}: no answer: {error}", socket.id());
            return;
        }
    };
    let _ = socket.emit("quiz result", &result);
}

/// A broadcast with acks, keeping the answers that arrive in time:
///
/// ```js
/// socket.on("poll", (question, ack) => {
///   io.timeout(500).emit("vote", question, (err, votes) => ack(tally(votes)));
/// });
/// ```
async fn poll(socket: SocketRef, mut event: Event) {
    let Ok(question) = event.args::<String>() else {
        return;
    };
    // `collect_acks` keeps partial answers; `emit_with_ack` would fail with
    // `AckError::Timeout` as soon as one client stays silent.
    let acks = match socket
        .namespace()
        .timeout(ANSWER_TIME)
        .collect_acks("vote", &question)
        .await
    {
        Ok(acks) => acks,
        Err(error) => {
            println!("poll failed: {error}");
            return;
        }
    };
    let mut votes = BTreeMap::new();
    for answer in &acks.responses {
        let choice = answer
            .first()
            .and_then(Value::as_str)
            .unwrap_or("(invalid)");
        *votes.entry(choice.to_owned()).or_insert(0) += 1;
    }
    let result = PollResult {
        votes,
        answered: acks.responses.len(),
        expected: acks.expected,
    };
    println!("poll {question:?}: {result:?}");
    let _ = event.ack(&result);
}
