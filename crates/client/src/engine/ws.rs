//! Opening a WebSocket.

use http::HeaderMap;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::EngineError;
use super::net::{Stream, Target};

pub(crate) type Ws = WebSocketStream<Stream>;

/// Connects to `ws[s]://<target><path_and_query>` with the extra headers.
pub(crate) async fn connect_ws(
    target: &Target,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Result<Ws, EngineError> {
    let url = format!(
        "{}://{}{}",
        target.ws_scheme(),
        target.authority(),
        path_and_query
    );
    let mut request = url.into_client_request().map_err(EngineError::WebSocket)?;
    for (name, value) in headers {
        request.headers_mut().append(name, value.clone());
    }
    let stream = target.connect().await?;
    // Small buffers: Socket.IO messages are small and many connections may be open.
    let config = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(EngineError::WebSocket)?;
    Ok(ws)
}
