//! The WebSocket transport: sessions opened over WebSocket, and upgrades of polling sessions.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use sio_engineio_proto::{
    Revision, decode_binary, decode_text, decode_text_frame, encode_binary_frame,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        Error as WsError, Message as WsMessage, Utf8Bytes,
        error::ProtocolError,
        handshake::derive_accept_key,
        protocol::{Role, WebSocketConfig},
    },
};

use sio_engineio_session::{
    CloseReason, TransportKind,
    server::{ProbeStep, UPGRADE_NOOP_INTERVAL, probe_step},
};

use crate::{
    engine::{EngineHandler, Inner, status_response},
    lean_read::LeanRead,
    socket::{Drained, Outgoing, Socket},
};

type Ws = WebSocketStream<LeanRead<TokioIo<Upgraded>>>;

/// Whether a request asks to become a WebSocket.
pub(crate) fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    req.method() == http::Method::GET
        && has(header::UPGRADE, "websocket")
        && has(header::CONNECTION, "upgrade")
}

/// The 101 answer to a valid WebSocket request, and the future that yields the connection;
/// `None` for a request that is not a valid WebSocket handshake (answer 400).
fn accept<B>(req: &mut Request<B>) -> Option<(Response<Full<Bytes>>, OnUpgrade)> {
    let key = req.headers().get(header::SEC_WEBSOCKET_KEY)?;
    let version_ok = req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    if !version_ok {
        return None;
    }
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()?;
    let on_upgrade = hyper::upgrade::on(req);
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Some((response, on_upgrade))
}

#[derive(Debug, Clone, Copy)]
struct WsSettings {
    max_message_size: usize,
    read_buffer_size: usize,
    upgrade_timeout: Duration,
    close_timeout: Duration,
}

impl WsSettings {
    fn of<H: EngineHandler>(inner: &Inner<H>) -> Self {
        WsSettings {
            max_message_size: inner.config.max_http_buffer_size,
            read_buffer_size: inner.config.ws_read_buffer_size,
            upgrade_timeout: inner.config.upgrade_timeout,
            close_timeout: inner.config.close_timeout,
        }
    }

    async fn connect(self, on_upgrade: OnUpgrade) -> Option<Ws> {
        let upgraded = on_upgrade
            .await
            .inspect_err(|error| tracing::debug!(%error, "websocket upgrade failed"))
            .ok()?;
        let config = WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            // Frames of one drain go out in one write (flushed at its end); 16 KB bounds the batch.
            .write_buffer_size(16 * 1024)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size));
        Some(
            WebSocketStream::from_raw_socket(
                LeanRead::new(TokioIo::new(upgraded)),
                Role::Server,
                Some(config),
            )
            .await,
        )
    }
}

/// A new session opened directly over WebSocket. `supports_binary` is false for a client that
/// asked for base64 (`b64=1`).
pub(crate) fn handshake<H: EngineHandler, B>(
    inner: &Inner<H>,
    req: &mut Request<B>,
    revision: Revision,
    supports_binary: bool,
) -> Response<Full<Bytes>> {
    let Some((response, on_upgrade)) = accept(req) else {
        return status_response(StatusCode::BAD_REQUEST);
    };
    let settings = WsSettings::of(inner);
    let socket = inner.open(req, revision, TransportKind::WebSocket, supports_binary);
    tokio::spawn(async move {
        match settings.connect(on_upgrade).await {
            Some(ws) => run(socket, ws, settings.close_timeout).await,
            None => socket.close_with(CloseReason::TransportError),
        }
    });
    response
}

/// A WebSocket that wants to take over an existing polling session.
pub(crate) fn upgrade_existing<H: EngineHandler, B>(
    inner: &Inner<H>,
    req: &mut Request<B>,
    socket: Arc<Socket<H::Data>>,
) -> Response<Full<Bytes>> {
    let Some((response, on_upgrade)) = accept(req) else {
        return status_response(StatusCode::BAD_REQUEST);
    };
    let settings = WsSettings::of(inner);
    // Like Node, a WebSocket for a session that is closed, already upgrading or upgraded is
    // accepted and then closed: refusing it with an HTTP error would make some clients throw.
    // Marked as upgrading before the 101 goes out, so that polling requests sent after it wait
    // for the upgrade to settle (see `Socket::settle_upgrade`).
    let may_upgrade = socket.lock().begin_upgrade();
    tokio::spawn(async move {
        let ws = settings.connect(on_upgrade).await;
        let mut ws = match (ws, may_upgrade) {
            (Some(ws), true) => ws,
            (Some(mut ws), false) => {
                let _ = ws.close(None).await;
                return;
            }
            (None, upgrading) => {
                if upgrading {
                    socket.end_upgrade(false);
                }
                return;
            }
        };
        let probed = tokio::time::timeout(settings.upgrade_timeout, probe(&socket, &mut ws)).await;
        if probed.is_ok_and(|ok| ok) {
            socket.end_upgrade(true);
            tracing::debug!(sid = socket.id(), "upgraded to websocket");
            // Release a poll still pending so the polling side ends cleanly.
            socket.writer.notify_one();
            run(socket, ws, settings.close_timeout).await;
        } else {
            socket.end_upgrade(false);
            tracing::debug!(sid = socket.id(), "upgrade failed or timed out");
            let _ = ws.close(None).await;
        }
    });
    response
}

/// The upgrade handshake on the new WebSocket: `2probe` → `3probe`, then `5`. While it runs,
/// a pending poll is released every 100 ms so the client can pause polling.
async fn probe<D: Send + Sync + 'static>(socket: &Arc<Socket<D>>, ws: &mut Ws) -> bool {
    let mut probed = false;
    let mut release = tokio::time::interval(UPGRADE_NOOP_INTERVAL);
    loop {
        tokio::select! {
            _ = socket.closed.cancelled() => return false,
            _ = release.tick(), if probed => socket.request_noop(),
            frame = ws.next() => {
                let Some(Ok(WsMessage::Text(text))) = frame else { return false };
                let Ok(packet) = decode_text(text.as_str()) else { return false };
                match probe_step(probed, &packet) {
                    ProbeStep::AnswerProbe => {
                        if ws.send(WsMessage::Text(Utf8Bytes::from_static("3probe"))).await.is_err() {
                            return false;
                        }
                        probed = true;
                        socket.request_noop();
                    }
                    ProbeStep::Upgraded => return true,
                    ProbeStep::Failed => return false,
                }
            }
        }
    }
}

/// Serves a session over its WebSocket until either side ends it.
///
/// A write to a peer that stopped reading waits for it only while the session is open, and
/// `close_timeout` after it ended: then the connection is dropped (no zombie holds its file
/// descriptor and send buffer).
async fn run<D: Send + Sync + 'static>(
    socket: Arc<Socket<D>>,
    mut ws: Ws,
    close_timeout: Duration,
) {
    let revision = socket.revision();
    let binary = socket.supports_binary();
    let given_up = async {
        socket.closed.cancelled().await;
        tokio::time::sleep(close_timeout).await;
    };
    let mut given_up = std::pin::pin!(given_up);
    loop {
        let woken = socket.writer.notified();
        match socket.drain_for(TransportKind::WebSocket) {
            Drained::Packets(packets) => {
                let written = tokio::select! {
                    result = write(&mut ws, &packets, revision, binary) => result.is_ok(),
                    () = given_up.as_mut() => false,
                };
                if !written {
                    tracing::debug!(sid = socket.id(), "websocket write failed or timed out");
                    socket.close_with(CloseReason::TransportError);
                    return;
                }
                continue;
            }
            Drained::Closed { packets, .. } => {
                let last_words = async {
                    let _ = write(&mut ws, &packets, revision, binary).await;
                    let _ = ws.close(None).await;
                };
                if tokio::time::timeout(close_timeout, last_words)
                    .await
                    .is_err()
                {
                    tracing::debug!(sid = socket.id(), "peer does not read: connection dropped");
                }
                return;
            }
            Drained::Nothing | Drained::Superseded => {}
        }
        // A reader that has nothing new is not polled (the task is often woken only to write).
        let next_frame = std::future::poll_fn(|cx| {
            if ws.get_ref().may_read_or_wake(cx.waker()) {
                ws.poll_next_unpin(cx)
            } else {
                std::task::Poll::Pending
            }
        });
        tokio::select! {
            _ = woken => {}
            frame = next_frame => {
                let packet_result = match &frame {
                    // Clients asked for base64 (`forceBase64`) send binary as `b…` text.
                    Some(Ok(WsMessage::Text(text))) => {
                        decode_text_frame(text.as_str(), revision).map(Some)
                    }
                    Some(Ok(WsMessage::Binary(data))) => decode_binary(data, revision).map(Some),
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => Ok(None),
                    Some(Ok(WsMessage::Close(_))) | None => {
                        socket.close_with(CloseReason::TransportClose);
                        return;
                    }
                    Some(Err(error)) => {
                        tracing::debug!(sid = socket.id(), %error, "websocket error");
                        socket.close_with(if is_disconnect(error) {
                            CloseReason::TransportClose
                        } else {
                            CloseReason::TransportError
                        });
                        return;
                    }
                };
                match packet_result {
                    Ok(Some(packet)) => socket.on_packet(packet),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::debug!(sid = socket.id(), %error, "invalid packet");
                        socket.close_with(CloseReason::ParseError);
                    }
                }
            }
        }
    }
}

/// Whether a read error only means that the peer went away. Node's `ws` reports that as a
/// close (code 1006), keeping "transport error" for peers that break the protocol.
fn is_disconnect(error: &WsError) -> bool {
    matches!(
        error,
        WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
    )
}

/// Writes packets as frames and flushes once. Without `binary` support, binary messages go
/// as base64 text frames, as Node writes them for `b64=1` clients.
async fn write(
    ws: &mut Ws,
    packets: &[Outgoing],
    revision: Revision,
    binary: bool,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    for packet in packets {
        let frame = match packet {
            Outgoing::Message(message) => match (message.text_frame(), message.as_binary()) {
                (Some(frame), _) => WsMessage::Text(frame.clone()),
                (None, Some(_)) if !binary => {
                    let mut text = String::new();
                    packet.to_packet().encode_text_base64(revision, &mut text);
                    WsMessage::Text(text.into())
                }
                (None, Some(data)) if revision == Revision::V4 => WsMessage::Binary(data.clone()),
                (None, Some(data)) => {
                    let mut frame = Vec::with_capacity(data.len() + 1);
                    encode_binary_frame(data, revision, &mut frame);
                    WsMessage::Binary(frame.into())
                }
                (None, None) => continue,
            },
            other => {
                let mut text = String::new();
                if other.to_packet().encode_text(&mut text).is_err() {
                    continue;
                }
                WsMessage::Text(text.into())
            }
        };
        ws.feed(frame).await?;
    }
    ws.flush().await
}
