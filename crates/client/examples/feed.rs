//! Listens to a feed as a stream of events, for code that prefers a loop to handlers.
//!
//! ```sh
//! cargo run -p sio-client --example feed -- http://localhost:3000/prices
//! ```
//! The server is expected to emit `price` events (any arguments); everything the socket
//! sees is printed, lifecycle events included.

use sio_client::{Client, ClientEvent};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://localhost:3000/".into());
    // `build_with_events` connects in the background; the stream starts with the connection.
    let (client, mut events) = Client::builder(&url).build_with_events()?;
    while let Some(event) = events.next().await {
        match event {
            ClientEvent::Connect { id, recovered } => {
                println!("connected as {id} (recovered: {recovered})");
                // Application state is ours to restore after a reconnection.
                client.emit("subscribe", &"prices")?;
            }
            ClientEvent::Event(event) => {
                let args = event.args::<serde_json::Value>().unwrap_or_default();
                println!("{}: {args}", event.name);
            }
            ClientEvent::Disconnect(reason) => println!("disconnected: {reason}"),
            ClientEvent::ReconnectFailed => break,
            other => println!("{other:?}"),
        }
    }
    Ok(())
}
