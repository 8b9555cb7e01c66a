//! Request/response with acknowledgements, both ways.
//!
//! ```sh
//! sio serve &
//! cargo run -p sio-client --example request_response -- http://localhost:3000/
//! ```
//! Sends `add` with two numbers and waits for the sum the server acknowledges with, then
//! `upload` with binary data and waits for what the server counted (`sio serve` does both:
//! `sio serve --help`); answers the server's `ping` requests with `pong`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sio_client::{Client, Event};

#[derive(Serialize)]
struct Add {
    a: i64,
    b: i64,
}

#[derive(Deserialize, Debug)]
struct Sum {
    sum: i64,
}

#[derive(Deserialize, Debug)]
struct Uploaded {
    name: String,
    bytes: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://localhost:3000/".into());
    let client = Client::builder(&url)
        // Like the JavaScript client's `ackTimeout` and `retries`.
        .ack_timeout(Duration::from_secs(5))
        .retries(2)
        .on("ping", |_client: Client, event: Event| async move {
            // The server waits for an answer: acknowledge it.
            if let Err(e) = event.ack(&("pong", 1)) {
                eprintln!("cannot answer: {e}");
            }
        })
        .connect()
        .await?;

    let (sum,): (Sum,) = client.emit_with_ack("add", &(Add { a: 2, b: 40 },)).await?;
    println!("2 + 40 = {}", sum.sum);

    // Binary travels anywhere in the arguments.
    let (uploaded,): (Uploaded,) = client
        .emit_with_ack_timeout(
            "upload",
            &("report.bin", sio_client::Bytes::from_static(&[0, 1, 2, 3])),
            Duration::from_secs(5),
        )
        .await?;
    println!("uploaded {}: {} bytes", uploaded.name, uploaded.bytes);

    client.disconnect();
    Ok(())
}
