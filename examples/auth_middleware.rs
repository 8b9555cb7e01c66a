//! Authentication with namespace middlewares: Node's `io.use((socket, next) => …)`.
//!
//! The client sends a token in the handshake (`io(url, { auth: { token } })`). The middleware
//! of every namespace looks it up and either refuses the connection, with a message and data
//! the client receives as `err.message` / `err.data` in its `connect_error` handler, or stores
//! the user in `socket.data` for the handlers. `/admin` stacks a second middleware that only
//! lets admins in: middlewares run in order and the first refusal wins.
//!
//! Tokens known to this demo: `alice-token` (an admin) and `bob-token` (a member).
//!
//! ```text
//! cargo run -p sio-examples --example auth_middleware        # PORT=4000 to change the port
//! node peers/examples/auth_middleware.js http://127.0.0.1:3000
//! ```
//!
//! By hand, in a `node` REPL started in `peers/`:
//!
//! ```js
//! const { io } = require("socket.io-client");
//! io("http://127.0.0.1:3000", { auth: { token: "nope" } })
//!   .on("connect_error", (err) => console.log(err.message, err.data)); // invalid token { code: 'BAD_TOKEN' }
//! const bob = io("http://127.0.0.1:3000", { auth: { token: "bob-token" } });
//! await bob.emitWithAck("whoami");                                     // { name: 'bob', role: 'member' }
//! io("http://127.0.0.1:3000/admin", { auth: { token: "bob-token" } })
//!   .on("connect_error", (err) => console.log(err.message, err.data)); // forbidden { code: 'NOT_ADMIN' }
//! ```

use serde::{Deserialize, Serialize};
use sio_server::{
    ConnectError, Event, ServerConfig, SocketIo, SocketRef,
    proto::{from_value, to_value},
};
use tokio::net::TcpListener;

/// The user a token stands for; stored in `socket.data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    name: String,
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    Admin,
    Member,
}

/// The handshake's `auth` object.
#[derive(Debug, Default, Deserialize)]
struct Auth {
    token: Option<String>,
}

/// `err.data` on the client: a code a program can switch on, next to the human message.
#[derive(Debug, Serialize)]
struct Refusal<'a> {
    code: &'a str,
}

/// Stands in for a database or a JWT check; a real one would `await` here, which is fine.
async fn find_user(token: &str) -> Option<User> {
    let (name, role) = match token {
        "alice-token" => ("alice", Role::Admin),
        "bob-token" => ("bob", Role::Member),
        _ => return None,
    };
    Some(User {
        name: name.into(),
        role,
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let io = SocketIo::new(ServerConfig::default());

    // `io.use(authenticate)`: every connection to "/" goes through it first.
    io.use_middleware(authenticate);
    io.on_connection(|socket: SocketRef| async move {
        let Ok(user) = socket.data::<User>() else {
            return;
        };
        println!("{} ({:?}) connected to /", user.name, user.role);
        let _ = socket.emit("welcome", &user);
        socket.on("whoami", |socket: SocketRef, mut event: Event| async move {
            if let Ok(user) = socket.data::<User>() {
                let _ = event.ack(&user);
            }
        });
    });

    // Each namespace has its own middlewares, as in Node: authenticate again, then check
    // the role.
    let admin = io.of("/admin");
    admin.use_middleware(authenticate);
    admin.use_middleware(require_admin);
    let main_namespace = io.of("/");
    admin.on_connection(move |socket: SocketRef| {
        let main_namespace = main_namespace.clone();
        async move {
            println!("admin {} connected to /admin", user_name(&socket));
            // `socket.on("online", async (ack) => ack(names of io.of("/").fetchSockets()))`
            socket.on("online", move |_socket: SocketRef, mut event: Event| {
                let main_namespace = main_namespace.clone();
                async move {
                    let mut names: Vec<String> = main_namespace
                        .fetch_sockets()
                        .await
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|s| from_value::<User>(s.data().clone()).ok())
                        .map(|user| user.name)
                        .collect();
                    names.sort();
                    let _ = event.ack(&(names,));
                }
            });
        }
    });

    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "auth_middleware listening on http://{}",
        listener.local_addr()?
    );
    io.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// `io.use(async (socket, next) => { … next(err) or next() })`: `Err` refuses the connection.
async fn authenticate(socket: SocketRef) -> Result<(), ConnectError> {
    let auth: Auth = from_value(socket.handshake().auth.clone()).unwrap_or_default();
    let Some(token) = auth.token else {
        return Err(refusal("authentication required", "NO_TOKEN"));
    };
    let Some(user) = find_user(&token).await else {
        println!("refused token {token:?}");
        return Err(refusal("invalid token", "BAD_TOKEN"));
    };
    // `socket.data.user = user`, for the handlers and for `fetch_sockets`.
    socket
        .set_data(&user)
        .map_err(|_| ConnectError::new("internal error"))
}

/// Runs after `authenticate`, so `socket.data` holds the user.
async fn require_admin(socket: SocketRef) -> Result<(), ConnectError> {
    match socket.data::<User>() {
        Ok(user) if user.role == Role::Admin => Ok(()),
        _ => Err(refusal("forbidden", "NOT_ADMIN")),
    }
}

/// `const err = new Error(message); err.data = { code }; next(err)`
fn refusal(message: &str, code: &str) -> ConnectError {
    let error = ConnectError::new(message);
    match to_value(&Refusal { code }) {
        Ok(data) => error.with_data(data),
        Err(_) => error,
    }
}

fn user_name(socket: &SocketRef) -> String {
    socket
        .data::<User>()
        .map(|user| user.name)
        .unwrap_or_default()
}
