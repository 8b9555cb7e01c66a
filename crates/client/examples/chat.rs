//! The README's client example: joins a room of `sio serve`'s `/chat` namespace, counts its
//! members, sends a message to the room and prints it when the server delivers it.
//!
//! ```sh
//! sio serve &
//! cargo run -p sio-client --example chat -- http://127.0.0.1:3000/chat
//! ```
//! The README shows this file from its `use` lines on; `crates/cli/tests/readme.rs` checks that
//! both say the same and runs it against `sio serve`.

use sio_client::{Client, ClientEvent};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:3000/chat".into());
    // The URL's path is the namespace, as in the JavaScript client.
    let (client, mut events) = Client::builder(&url)
        .auth(serde_json::json!({ "token": "secret" }))
        .connect_with_events()
        .await?;

    // Acknowledgements come back as the types asked for.
    let joined: bool = client.emit_with_ack("join", &"rust").await?;
    let members: usize = client.emit_with_ack("count", &"rust").await?;
    println!("joined: {joined}; {members} member(s) in room rust");

    // A tuple is several arguments: sio serve's `to ROOM EVENT ...args` emits to the room.
    client.emit("to", &("rust", "message", "me", "hello, room"))?;
    while let Some(event) = events.next().await {
        if let ClientEvent::Event(event) = event
            && event.name == "message"
        {
            let (from, text): (String, String) = event.args()?;
            println!("{from}: {text}");
            break;
        }
    }
    client.close().await; // leaves the namespace and stops reconnecting
    Ok(())
}
