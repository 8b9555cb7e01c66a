//! A chat with rooms: the Socket.IO "hello world", the way a Node developer writes it.
//!
//! Clients say who they are in the handshake (`io(url, { auth: { name: "alice" } })`), then:
//!
//! | client emits                        | server does                                                   |
//! |-------------------------------------|---------------------------------------------------------------|
//! | `join` `room` (with ack)            | joins, tells the room `user joined`, acks the room's users    |
//! | `leave` `room`                      | leaves, tells the room `user left`                            |
//! | `message` `room, text` (with ack)   | sends `message` to the others in the room; acks `{ok}`        |
//! | `users` `room` (with ack)           | acks the names of the users in the room                       |
//! | *(disconnects)*                     | every room it was in gets `user left` with the reason         |
//!
//! Run it, then connect from Node (`peers/` has socket.io-client installed):
//!
//! ```text
//! cargo run -p sio-examples --example chat            # PORT=4000 to change the port
//! node peers/examples/chat.js http://127.0.0.1:3000   # a scripted conversation
//! ```
//!
//! or by hand, in two `node` REPLs started in `peers/`:
//!
//! ```js
//! const { io } = require("socket.io-client");
//! const s = io("http://127.0.0.1:3000", { auth: { name: "alice" } });
//! s.onAny((event, ...args) => console.log(event, args));
//! await s.emitWithAck("join", "rust");          // → [ 'alice' ]
//! await s.emitWithAck("message", "rust", "hi"); // the other REPL sees `message`
//! ```
//!
//! `RUST_LOG=sio_server=debug` shows what the server does.

use serde::{Deserialize, Serialize};
use sio_server::{DisconnectReason, Event, ServerConfig, SocketIo, SocketRef, proto::from_value};
use tokio::net::TcpListener;

/// What the server keeps about a user, in `socket.data` (so `fetch_sockets` sees it).
#[derive(Debug, Serialize, Deserialize)]
struct User {
    name: String,
}

/// The handshake's `auth` object; every field is optional on the wire.
#[derive(Debug, Default, Deserialize)]
struct Auth {
    name: Option<String>,
}

/// What everyone in a room sees when someone comes or goes.
#[derive(Debug, Serialize)]
struct Presence<'a> {
    room: &'a str,
    name: &'a str,
    /// Why the user left: `"left"`, or the disconnect reason (`"transport close"`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// A chat line as delivered to the room.
#[derive(Debug, Serialize)]
struct ChatMessage<'a> {
    room: &'a str,
    from: &'a str,
    text: &'a str,
}

/// The answer to `message`: Node code often acks `{ ok: true }` or `{ ok: false, error }`.
#[derive(Debug, Serialize)]
struct Receipt {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let io = SocketIo::new(ServerConfig::default());
    io.on_connection(on_connection);

    // PORT=0 picks a free port; the line below says which (the tests read it).
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("chat listening on http://{}", listener.local_addr()?);
    io.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// `io.on("connection", socket => { … })`
async fn on_connection(socket: SocketRef) {
    let auth: Auth = from_value(socket.handshake().auth.clone()).unwrap_or_default();
    // Like `socket.id.slice(0, 6)` in Node: ids are ASCII, so `get` never cuts a character.
    let name = auth
        .name
        .unwrap_or_else(|| format!("guest-{}", socket.id().get(..6).unwrap_or_default()));
    println!("{name} connected ({})", socket.id());
    // `socket.data.name = name`: kept with the socket, visible to `fetch_sockets`.
    let _ = socket.set_data(&User { name });

    socket.on("join", join);
    socket.on("leave", leave);
    socket.on("message", message);
    socket.on("users", users);
    // "disconnecting" fires while the socket is still in its rooms, so we can tell them.
    socket.on_disconnecting(announce_departure);
    socket.on_disconnect(|socket: SocketRef, reason: DisconnectReason| async move {
        println!("{} disconnected: {reason}", user_name(&socket));
    });
}

/// `socket.on("join", async (room, ack) => { … })`
async fn join(socket: SocketRef, mut event: Event) {
    let Ok(room) = event.args::<String>() else {
        return;
    };
    let name = user_name(&socket);
    socket.join(room.as_str());
    let _ = socket.to(room.as_str()).emit(
        "user joined",
        &Presence {
            room: &room,
            name: &name,
            reason: None,
        },
    );
    // Awaiting here is fine: the handler moves to a task only when it has to wait.
    let users = users_in(&socket, &room).await;
    // A Vec is a list of arguments; a 1-tuple sends it as one array argument.
    let _ = event.ack(&(users,));
}

/// `socket.on("leave", room => { … })`
async fn leave(socket: SocketRef, event: Event) {
    let Ok(room) = event.args::<String>() else {
        return;
    };
    socket.leave(&room);
    let _ = socket.to(room.as_str()).emit(
        "user left",
        &Presence {
            room: &room,
            name: &user_name(&socket),
            reason: Some("left"),
        },
    );
}

/// `socket.on("message", (room, text, ack) => { … })`
async fn message(socket: SocketRef, mut event: Event) {
    let Ok((room, text)) = event.args::<(String, String)>() else {
        let _ = event.ack(&Receipt {
            ok: false,
            error: Some("expected (room, text)"),
        });
        return;
    };
    if !socket.rooms().contains(&room) {
        let _ = event.ack(&Receipt {
            ok: false,
            error: Some("join the room first"),
        });
        return;
    }
    // `socket.to(room)` is everyone in the room but the sender, as in Node.
    let _ = socket.to(room.as_str()).emit(
        "message",
        &ChatMessage {
            room: &room,
            from: &user_name(&socket),
            text: &text,
        },
    );
    let _ = event.ack(&Receipt {
        ok: true,
        error: None,
    });
}

/// `socket.on("users", async (room, ack) => ack(await names(room)))`
async fn users(socket: SocketRef, mut event: Event) {
    let Ok(room) = event.args::<String>() else {
        return;
    };
    let users = users_in(&socket, &room).await;
    let _ = event.ack(&(users,));
}

/// `socket.on("disconnecting", reason => { for (const room of socket.rooms) … })`
async fn announce_departure(socket: SocketRef, reason: DisconnectReason) {
    let name = user_name(&socket);
    for room in socket.rooms() {
        // Every socket is in a room named after its own id; nobody else is.
        if room == socket.id() {
            continue;
        }
        let _ = socket.to(room.as_str()).emit(
            "user left",
            &Presence {
                room: &room,
                name: &name,
                reason: Some(reason.as_str()),
            },
        );
    }
}

/// `(await io.in(room).fetchSockets()).map(s => s.data.name)`, sorted for a stable answer.
async fn users_in(socket: &SocketRef, room: &str) -> Vec<String> {
    let sockets = socket
        .namespace()
        .to(room)
        .fetch_sockets()
        .await
        .unwrap_or_default();
    let mut names: Vec<String> = sockets
        .iter()
        .filter_map(|s| from_value::<User>(s.data().clone()).ok())
        .map(|user| user.name)
        .collect();
    names.sort();
    names
}

fn user_name(socket: &SocketRef) -> String {
    socket
        .data::<User>()
        .map(|user| user.name)
        .unwrap_or_default()
}
