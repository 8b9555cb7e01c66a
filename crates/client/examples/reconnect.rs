//! Survives server restarts: reconnects with backoff, re-subscribes in the `connect` handler
//! (the namespace is joined again automatically; application state such as rooms joined by
//! emitting is ours to restore), and buffers events emitted while offline.
//!
//! ```sh
//! cargo run -p sio-client --example reconnect -- http://localhost:3000/chat
//! ```

use std::time::Duration;

use sio_client::{Client, Event};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://localhost:3000/chat".into());
    let client = Client::builder(&url)
        // A fresh token for every connection attempt.
        .auth_fn(|| serde_json::json!({ "token": format!("token-{}", std::process::id()) }))
        .reconnection_delay(Duration::from_millis(500))
        .reconnection_delay_max(Duration::from_secs(5))
        .on("connect", |client: Client, _event: Event| async move {
            println!(
                "connected as {:?} (recovered: {})",
                client.id(),
                client.recovered()
            );
            if !client.recovered() {
                // A recovered session kept its rooms; a new one must join again.
                let _ = client.emit("join", &"general");
            }
        })
        .on("disconnect", |_client: Client, event: Event| async move {
            println!("disconnected: {:?}", event.args::<(String,)>());
        })
        .on(
            "reconnect_attempt",
            |_client: Client, event: Event| async move {
                println!("reconnection attempt {:?}", event.args::<(u32,)>());
            },
        )
        .on("message", |_client: Client, event: Event| async move {
            println!("message: {:?}", event.args::<serde_json::Value>());
        })
        .build()?;

    let mut n = 0u64;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        n += 1;
        // Buffered while offline, sent once connected again.
        client.emit("message", &format!("hello #{n}"))?;
    }
}
