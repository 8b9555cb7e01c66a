//! The floor: a WebSocket echo and broadcast server with nothing above tokio-tungstenite (4 KiB
//! read buffer, no write buffer, TCP_NODELAY), on a single-threaded runtime like the others.
//!
//! Speaks the loadgen's raw protocol: a text frame `f…` is relayed to every other connection
//! (encoded once: the same bytes for all), any other data frame is echoed.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes, protocol::WebSocketConfig};

pub(crate) fn serve(port: u16) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        println!("listening {port}");
        let (fan, _) = broadcast::channel::<(u64, Utf8Bytes)>(1024);
        for id in 0u64.. {
            let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let _ = stream.set_nodelay(true);
            let fan = fan.clone();
            tokio::spawn(async move {
                let config = WebSocketConfig::default()
                    .read_buffer_size(4096)
                    .write_buffer_size(0);
                let Ok(mut ws) =
                    tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
                else {
                    return;
                };
                let mut relayed = fan.subscribe();
                loop {
                    tokio::select! {
                        message = ws.next() => match message {
                            Some(Ok(Message::Text(text))) if text.starts_with('f') => {
                                let _ = fan.send((id, text));
                            }
                            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                                if ws.send(message).await.is_err() {
                                    return;
                                }
                            }
                            Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                            Some(Ok(_)) => {}
                        },
                        relayed = relayed.recv() => match relayed {
                            Ok((from, text)) if from != id => {
                                if ws.send(Message::Text(text)).await.is_err() {
                                    return;
                                }
                            }
                            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                            Err(broadcast::error::RecvError::Closed) => return,
                        },
                    }
                }
            });
        }
        Ok(())
    })
}
