//! The HTTP long-polling transport: a GET waits for packets, a POST delivers the client's.

use std::{io::Write, sync::Arc};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use sio_engineio_proto::{Packet, Revision, payload};

use sio_engineio_session::{CloseReason, TransportKind};

use crate::{
    engine::{EngineHandler, Inner, status_response},
    query::EngineQuery,
    socket::{Drained, Outgoing, Socket},
};

/// Serves a GET (poll) or POST (data) request of a polling session.
pub(crate) async fn serve<H, B>(
    inner: &Inner<H>,
    req: Request<B>,
    socket: Arc<Socket<H::Data>>,
    query: &EngineQuery,
) -> Response<Full<Bytes>>
where
    H: EngineHandler,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut response = match *req.method() {
        Method::GET => {
            let compression = inner
                .config
                .http_compression_threshold
                .and_then(|threshold| Compression::accepted(req.headers(), threshold));
            poll(&socket, query.jsonp.as_deref(), compression).await
        }
        Method::POST => {
            receive(
                &socket,
                req,
                query.jsonp.is_some(),
                inner.config.max_http_buffer_size,
            )
            .await
        }
        // Node answers other methods on an existing session with a bare 500.
        _ => status_response(StatusCode::INTERNAL_SERVER_ERROR),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Clears the pending-poll mark when a GET ends, and treats a GET dropped before its answer
/// (the client went away) as a transport error, as Node does.
struct PendingPoll<'a, D: Send + Sync + 'static> {
    socket: &'a Arc<Socket<D>>,
    answered: bool,
}

impl<D: Send + Sync + 'static> Drop for PendingPoll<'_, D> {
    fn drop(&mut self) {
        if !self.answered {
            tracing::debug!(sid = self.socket.id(), "poll connection closed prematurely");
        }
        let effect = self.socket.lock().end_poll(self.answered);
        self.socket.apply(effect);
    }
}

async fn poll<D: Send + Sync + 'static>(
    socket: &Arc<Socket<D>>,
    jsonp: Option<&str>,
    compression: Option<Compression>,
) -> Response<Full<Bytes>> {
    let begun = socket.lock().begin_poll();
    if let Err((overlap, effect)) = begun {
        tracing::debug!(sid = socket.id(), %overlap, "from client");
        socket.apply(effect);
        return status_response(StatusCode::BAD_REQUEST);
    }
    let mut pending = PendingPoll {
        socket,
        answered: false,
    };
    let (mut packets, last) = loop {
        let woken = socket.writer.notified();
        match socket.drain_for(TransportKind::Polling) {
            Drained::Nothing => woken.await,
            Drained::Superseded => break (Vec::new(), Some(Outgoing::Noop)),
            Drained::Packets(packets) => break (packets, None),
            // What a server close flushed goes alone, and the close packet with the next poll,
            // as in Node: socket.io-client handles the messages of a payload on the next tick
            // but its close packet at once, so together the messages would come after the
            // disconnection (and be lost).
            Drained::Closed {
                packets,
                client_closed: false,
            } if !packets.is_empty() => break (packets, None),
            // A client that asked to close gets a noop; anything else tells the client we closed.
            Drained::Closed {
                packets,
                client_closed,
            } => {
                // This poll takes the session's last packets: it may be forgotten now.
                socket.final_poll.notify_one();
                let last = if client_closed {
                    Outgoing::Noop
                } else {
                    Outgoing::Close
                };
                break (packets, Some(last));
            }
        }
    };
    pending.answered = true;
    packets.extend(last);
    encode_response(socket, &packets, jsonp, compression)
}

fn encode_response<D: Send + Sync + 'static>(
    socket: &Socket<D>,
    packets: &[Outgoing],
    jsonp: Option<&str>,
    compression: Option<Compression>,
) -> Response<Full<Bytes>> {
    let mut packets: Vec<_> = packets.iter().map(Outgoing::to_packet).collect();
    let body = match socket.revision() {
        Revision::V4 => payload::Body::Text(encode_v4_dropping_unsendable(socket, &mut packets)),
        Revision::V3 => payload::encode_v3(packets.iter(), socket.supports_binary()),
    };
    let (content_type, bytes) = match (body, jsonp) {
        (payload::Body::Text(text), Some(index)) => {
            let mut script = String::with_capacity(text.len() + 16);
            if payload::encode_jsonp(index, &text, &mut script).is_err() {
                return status_response(StatusCode::BAD_REQUEST);
            }
            ("text/plain; charset=UTF-8", Bytes::from(script))
        }
        (payload::Body::Text(text), None) => ("text/plain; charset=UTF-8", Bytes::from(text)),
        (payload::Body::Binary(bytes), _) => ("application/octet-stream", Bytes::from(bytes)),
    };
    let mut response = Response::new(Full::default());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let bytes = match compression.and_then(|c| c.apply(&bytes)) {
        Some((encoding, compressed)) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            compressed
        }
        None => bytes,
    };
    *response.body_mut() = Full::new(bytes);
    response
}

/// Encodes a v4 payload. A text message holding the record separator `\x1e` cannot travel in
/// one (it would split into forged packets on the other side): it is dropped with a warning.
/// Socket.IO never produces one, since JSON escapes control characters.
fn encode_v4_dropping_unsendable<D: Send + Sync + 'static>(
    socket: &Socket<D>,
    packets: &mut Vec<Packet<'_>>,
) -> String {
    let mut text = String::new();
    while let Err(error) = payload::encode_v4(packets.iter(), &mut text) {
        match error {
            sio_engineio_proto::EncodeError::RecordSeparatorInText { index }
                if index < packets.len() =>
            {
                tracing::warn!(
                    sid = socket.id(),
                    "dropped a text message containing 0x1e, which polling cannot carry"
                );
                packets.remove(index);
            }
            _ => break,
        }
    }
    text
}

/// Clears the pending-POST mark however the request ends.
struct PendingPost<'a, D: Send + Sync + 'static>(&'a Socket<D>);

impl<D: Send + Sync + 'static> Drop for PendingPost<'_, D> {
    fn drop(&mut self) {
        self.0.lock().end_post();
    }
}

async fn receive<D, B>(
    socket: &Arc<Socket<D>>,
    req: Request<B>,
    jsonp: bool,
    max_size: usize,
) -> Response<Full<Bytes>>
where
    D: Send + Sync + 'static,
    B: Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let begun = socket.lock().begin_post();
    if let Err((overlap, effect)) = begun {
        tracing::debug!(sid = socket.id(), %overlap, "from client");
        socket.apply(effect);
        return status_response(StatusCode::BAD_REQUEST);
    }
    let _pending = PendingPost(socket);

    let binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/octet-stream");
    if binary && socket.revision() == Revision::V4 {
        socket.close_with(CloseReason::TransportError);
        return status_response(StatusCode::BAD_REQUEST);
    }
    // Refuse an announced oversized body before reading any of it.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|len| len > max_size) {
        return status_response(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let body = match Limited::new(req.into_body(), max_size).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return status_response(StatusCode::PAYLOAD_TOO_LARGE);
        }
        Err(error) => {
            tracing::debug!(sid = socket.id(), %error, "data request failed");
            socket.close_with(CloseReason::TransportError);
            return status_response(StatusCode::BAD_REQUEST);
        }
    };

    if let Err(error) = deliver(socket, &body, binary, jsonp) {
        tracing::debug!(sid = socket.id(), %error, "invalid polling payload");
        socket.close_with(CloseReason::ParseError);
        return status_response(StatusCode::BAD_REQUEST);
    }
    let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
    // text/html rather than text/plain: some user agents offer to download text/plain (Node GH-43).
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Decodes a POST body and hands each packet to the session, in order, stopping at the first
/// error as Node does (the packets before it are delivered).
fn deliver<D: Send + Sync + 'static>(
    socket: &Arc<Socket<D>>,
    body: &[u8],
    binary: bool,
    jsonp: bool,
) -> Result<(), sio_engineio_proto::DecodeError> {
    let jsonp_text;
    let text = if jsonp {
        jsonp_text = payload::decode_jsonp_body(body)?;
        Some(jsonp_text.as_bytes())
    } else if binary {
        None
    } else {
        Some(body)
    };
    let each = |packet: Result<Packet<'_>, sio_engineio_proto::DecodeError>| {
        let packet = packet?;
        socket.on_packet(packet);
        Ok::<_, sio_engineio_proto::DecodeError>(socket.is_open())
    };
    match (socket.revision(), text) {
        (Revision::V4, Some(text)) => {
            for packet in payload::decode_v4(text) {
                if !each(packet)? {
                    break;
                }
            }
        }
        (Revision::V3, Some(text)) => {
            for packet in payload::decode_v3_string(text) {
                if !each(packet)? {
                    break;
                }
            }
        }
        (_, None) => {
            for packet in payload::decode_v3_binary(body) {
                if !each(packet)? {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// HTTP compression of a polling response, chosen from `Accept-Encoding`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compression {
    gzip: bool,
    threshold: usize,
}

impl Compression {
    fn accepted(headers: &HeaderMap, threshold: usize) -> Option<Self> {
        let accept = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
        let accepts = |name: &str| {
            accept.split(',').any(|item| {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                });
                coding.eq_ignore_ascii_case(name) && !refused
            })
        };
        if accepts("gzip") {
            Some(Compression {
                gzip: true,
                threshold,
            })
        } else if accepts("deflate") {
            Some(Compression {
                gzip: false,
                threshold,
            })
        } else {
            None
        }
    }

    fn apply(self, body: &[u8]) -> Option<(&'static str, Bytes)> {
        if body.len() < self.threshold {
            return None;
        }
        let level = flate2::Compression::default();
        if self.gzip {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
            encoder.write_all(body).ok()?;
            Some(("gzip", Bytes::from(encoder.finish().ok()?)))
        } else {
            let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), level);
            encoder.write_all(body).ok()?;
            Some(("deflate", Bytes::from(encoder.finish().ok()?)))
        }
    }
}
