//! The handshake and the connection task.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Method, StatusCode};
use sio_engineio_proto::{
    Data, ErrorCode, ErrorResponse, Handshake, Packet, Revision, decode_binary, decode_text_frame,
    encode_binary_frame, payload,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::http::Response;
use super::ws::Ws;
use super::{
    Command, Engine, EngineConfig, EngineError, EngineEvent, EngineSender, Frame, HttpClient,
    OpenInfo, Target, connect_ws, request_path, timestamp,
};
use crate::Transport;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Most packets per polling POST: python-engineio refuses more than 16 by default, and a
/// long queue is better sent in several requests anyway.
const MAX_PACKETS_PER_POST: usize = 16;

/// How long the server has to answer a WebSocket probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long closing may take (writing what is queued, then the close packet) when the server
/// stops answering.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection: performs the handshake on the first configured transport, then spawns
/// the task that runs it.
///
/// # Errors
/// When the server cannot be reached, refuses the handshake or answers something that is not
/// Engine.IO, or when the handshake takes longer than [`EngineConfig::connect_timeout`].
pub async fn open(config: EngineConfig) -> Result<Engine, EngineError> {
    let timeout = config.connect_timeout;
    tokio::time::timeout(timeout, open_inner(Arc::new(config)))
        .await
        .map_err(|_| EngineError::Timeout)?
}

async fn open_inner(config: Arc<EngineConfig>) -> Result<Engine, EngineError> {
    let target = config.target()?;
    let http = HttpClient::new(target.clone(), config.headers.clone());
    let first = *config.transports.first().ok_or(EngineError::NoTransport)?;
    let (tx, events) = mpsc::unbounded_channel();
    let (cmd_tx, cmds) = mpsc::unbounded_channel();
    let (revision, handshake, ws, transport) = match first {
        Transport::Polling => {
            let (revision, handshake, rest) = polling_handshake(&config, &http).await?;
            for packet in rest {
                // Engine.IO 3 servers send the first Socket.IO packet with the handshake.
                if let Packet::Message(data) = packet {
                    let _ = tx.send(EngineEvent::Message(frame_of(data)));
                }
            }
            (revision, handshake, None, Transport::Polling)
        }
        Transport::Websocket => {
            let (revision, handshake, ws) = ws_handshake(&config, &target).await?;
            (revision, handshake, Some(ws), Transport::Websocket)
        }
    };
    let upgrade = ws.is_none()
        && config.upgrade
        && config.transports.contains(&Transport::Websocket)
        && handshake.upgrades.iter().any(|u| u == "websocket");
    let info = OpenInfo {
        sid: handshake.sid.clone(),
        revision,
        transport,
        upgrades: handshake.upgrades.clone(),
        ping_interval: Duration::from_millis(handshake.ping_interval),
        ping_timeout: Duration::from_millis(handshake.ping_timeout),
        max_payload: handshake.max_payload,
    };
    let task = Task {
        config,
        http,
        target,
        sid: handshake.sid,
        revision,
        ping_interval: info.ping_interval,
        ping_timeout: info.ping_timeout,
        events: tx,
        cmds,
        queue: Vec::new(),
        max_payload: info.max_payload.and_then(|m| usize::try_from(m).ok()),
    };
    tokio::spawn(task.run(ws, upgrade));
    Ok(Engine {
        info,
        sender: EngineSender { tx: cmd_tx },
        events,
    })
}

fn frame_of(data: Data<'_>) -> Frame {
    match data {
        Data::Text(text) => Frame::Text(text.into_owned()),
        Data::Binary(bytes) => Frame::Binary(Bytes::from(bytes.into_owned())),
    }
}

fn base_params(
    revision: Revision,
    transport: &'static str,
    config: &EngineConfig,
) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![("EIO", revision.as_str()), ("transport", transport)];
    if revision == Revision::V3 && config.force_base64 {
        params.push(("b64", "1"));
    }
    params
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body.get(..200).unwrap_or(body)).into_owned()
}

/// Decodes a polling body of the given revision.
fn decode_body(
    revision: Revision,
    response: &Response,
) -> Result<Vec<Packet<'static>>, EngineError> {
    let body = &response.body;
    let result: Result<Vec<_>, _> = match revision {
        Revision::V4 => payload::decode_v4(body)
            .map(|p| p.map(Packet::into_owned))
            .collect(),
        Revision::V3 => {
            let binary = response
                .content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/octet-stream"));
            if binary {
                payload::decode_v3_binary(body)
                    .map(|p| p.map(Packet::into_owned))
                    .collect()
            } else {
                payload::decode_v3_string(body)
                    .map(|p| p.map(Packet::into_owned))
                    .collect()
            }
        }
    };
    result.map_err(|e| EngineError::Protocol(e.to_string()))
}

async fn polling_handshake(
    config: &EngineConfig,
    http: &Arc<HttpClient>,
) -> Result<(Revision, Handshake, Vec<Packet<'static>>), EngineError> {
    let mut revision = config.revision.unwrap_or(Revision::V4);
    loop {
        let mut params = base_params(revision, "polling", config);
        let t = timestamp();
        if config.timestamp_requests {
            params.push((config.timestamp_param.as_str(), t.as_str()));
        }
        let path = request_path(&config.path, &params, &config.query);
        let response = http.clone().request(Method::GET, path, None).await?;
        if response.status != StatusCode::OK {
            let refused = ErrorResponse::decode(&response.body)
                .ok()
                .and_then(|e| e.error_code())
                == Some(ErrorCode::UnsupportedProtocolVersion);
            if refused {
                if config.revision.is_none() && revision == Revision::V4 {
                    revision = Revision::V3;
                    continue;
                }
                return Err(EngineError::UnsupportedRevision(revision));
            }
            return Err(EngineError::Status {
                status: response.status.as_u16(),
                body: snippet(&response.body),
            });
        }
        let mut decoded = decode_body(revision, &response);
        if decoded.is_err() && config.revision.is_none() {
            // An Engine.IO 3 server answers whatever `EIO` it is asked with its own framing.
            if let Ok(packets) = decode_body(Revision::V3, &response) {
                revision = Revision::V3;
                decoded = Ok(packets);
            }
        }
        let mut packets = decoded
            .map_err(|_| {
                EngineError::Protocol(format!(
                    "not an Engine.IO handshake: {}",
                    snippet(&response.body)
                ))
            })?
            .into_iter();
        return match packets.next() {
            Some(Packet::Open(handshake)) => Ok((revision, handshake, packets.collect())),
            _ => Err(EngineError::Protocol(format!(
                "expected an open packet, got {}",
                snippet(&response.body)
            ))),
        };
    }
}

async fn ws_handshake(
    config: &EngineConfig,
    target: &Target,
) -> Result<(Revision, Handshake, Ws), EngineError> {
    let mut revision = config.revision.unwrap_or(Revision::V4);
    loop {
        let params = base_params(revision, "websocket", config);
        let path = request_path(&config.path, &params, &config.query);
        let mut ws = match connect_ws(target, &path, &config.headers).await {
            Ok(ws) => ws,
            Err(EngineError::WebSocket(_))
                if config.revision.is_none() && revision == Revision::V4 =>
            {
                // A v4-only server refuses `EIO=3` and vice versa; try the older revision.
                revision = Revision::V3;
                continue;
            }
            Err(e) => return Err(e),
        };
        let first = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(other)) => {
                return Err(EngineError::Protocol(format!(
                    "expected an open packet, got {other:?}"
                )));
            }
            Some(Err(e)) => return Err(EngineError::WebSocket(e.to_string())),
            None => return Err(EngineError::WebSocket("closed during the handshake".into())),
        };
        return match decode_text_frame(first.as_str(), revision) {
            Ok(Packet::Open(handshake)) => {
                // Only Engine.IO 4 servers announce `maxPayload`: without it, this is v3.
                if config.revision.is_none() && handshake.max_payload.is_none() {
                    revision = Revision::V3;
                }
                Ok((revision, handshake, ws))
            }
            _ => Err(EngineError::Protocol(format!(
                "expected an open packet, got {first}"
            ))),
        };
    }
}

/// The connection task.
struct Task {
    config: Arc<EngineConfig>,
    http: Arc<HttpClient>,
    target: Target,
    sid: String,
    revision: Revision,
    ping_interval: Duration,
    ping_timeout: Duration,
    events: mpsc::UnboundedSender<EngineEvent>,
    cmds: mpsc::UnboundedReceiver<Command>,
    /// Packets waiting for the next polling POST.
    queue: Vec<Packet<'static>>,
    /// The server's `maxPayload` (v4): a POST body stays below it when possible.
    max_payload: Option<usize>,
}

/// About how many bytes a packet takes in a polling body.
fn wire_size(packet: &Packet<'_>) -> usize {
    match packet {
        Packet::Message(Data::Binary(bytes)) => bytes.len().div_ceil(3) * 4 + 3,
        Packet::Message(Data::Text(text)) | Packet::Ping(text) | Packet::Pong(text) => {
            text.len() + 8
        }
        _ => 8,
    }
}

/// Heartbeat bookkeeping.
struct Heartbeat {
    /// v4: when the last packet arrived.
    last_rx: Instant,
    /// v3: when to send the next ping.
    next_ping: Instant,
    /// v3: a ping is unanswered until then.
    pong_deadline: Option<Instant>,
}

async fn wait<T>(fut: &mut Option<BoxFuture<T>>) -> T {
    match fut {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn ws_next(
    ws: &mut Option<Ws>,
) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    match ws {
        Some(ws) => ws.next().await,
        None => std::future::pending().await,
    }
}

impl Task {
    async fn run(mut self, ws: Option<Ws>, upgrade: bool) {
        let reason = self.run_inner(ws, upgrade).await;
        tracing::debug!(sid = %self.sid, reason = reason.as_str(), "engine.io connection closed");
        let _ = self.events.send(EngineEvent::Closed(reason));
    }

    fn get_path(&self, transport: &'static str) -> String {
        let mut params = base_params(self.revision, transport, &self.config);
        params.push(("sid", self.sid.as_str()));
        let t = timestamp();
        if self.config.timestamp_requests && transport == "polling" {
            params.push((self.config.timestamp_param.as_str(), t.as_str()));
        }
        request_path(&self.config.path, &params, &self.config.query)
    }

    fn poll(&self) -> BoxFuture<Result<Response, EngineError>> {
        Box::pin(
            self.http
                .clone()
                .request(Method::GET, self.get_path("polling"), None),
        )
    }

    fn body_of(&self, packets: &[Packet<'static>]) -> Result<(Bytes, &'static str), EngineError> {
        match self.revision {
            Revision::V4 => {
                let mut out = String::new();
                // A text holding the record separator would reach the server as several
                // packets: refused rather than sent.
                payload::encode_v4(packets, &mut out)
                    .map_err(|error| EngineError::Protocol(error.to_string()))?;
                Ok((Bytes::from(out), "text/plain;charset=UTF-8"))
            }
            Revision::V3 => {
                let body = payload::encode_v3(packets, !self.config.force_base64);
                let content_type = body.content_type();
                Ok((Bytes::from(body.into_bytes()), content_type))
            }
        }
    }

    fn post(&mut self) -> BoxFuture<Result<Response, EngineError>> {
        let max_bytes = self.max_payload.unwrap_or(usize::MAX);
        let (mut count, mut size) = (0, 0usize);
        for packet in &self.queue {
            let len = wire_size(packet);
            if count > 0 && (count >= MAX_PACKETS_PER_POST || size.saturating_add(len) > max_bytes)
            {
                break;
            }
            count += 1;
            size = size.saturating_add(len);
        }
        let packets: Vec<Packet<'static>> = self.queue.drain(..count).collect();
        let body = match self.body_of(&packets) {
            Ok(body) => body,
            Err(error) => return Box::pin(async move { Err(error) }),
        };
        Box::pin(
            self.http
                .clone()
                .request(Method::POST, self.get_path("polling"), Some(body)),
        )
    }

    fn probe(&self) -> BoxFuture<Result<Ws, EngineError>> {
        let target = self.target.clone();
        let path = self.get_path("websocket");
        let headers = self.config.headers.clone();
        Box::pin(async move {
            let mut ws = connect_ws(&target, &path, &headers).await?;
            ws.send(Message::text("2probe"))
                .await
                .map_err(|e| EngineError::WebSocket(e.to_string()))?;
            let deadline = Instant::now() + PROBE_TIMEOUT;
            loop {
                match tokio::time::timeout_at(deadline, ws.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "3probe" => {
                        return Ok(ws);
                    }
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                    other => {
                        return Err(EngineError::WebSocket(format!("probe failed: {other:?}")));
                    }
                }
            }
        })
    }

    fn ws_message(&self, packet: &Packet<'_>) -> Message {
        match packet {
            Packet::Message(Data::Binary(bytes)) if !self.config.force_base64 => {
                let mut out = Vec::with_capacity(bytes.len() + 1);
                encode_binary_frame(bytes, self.revision, &mut out);
                Message::Binary(out.into())
            }
            _ => {
                let mut out = String::new();
                packet.encode_text_base64(self.revision, &mut out);
                Message::text(out)
            }
        }
    }

    async fn ws_send(&self, ws: &mut Ws, packet: &Packet<'_>) -> Result<(), CloseReason> {
        ws.send(self.ws_message(packet))
            .await
            .map_err(|e| CloseReason::TransportError(e.to_string()))
    }

    /// Sends over the WebSocket when there is one, else queues for the next POST.
    async fn output(
        &mut self,
        ws: &mut Option<Ws>,
        packet: Packet<'static>,
    ) -> Result<(), CloseReason> {
        match ws {
            Some(ws) => self.ws_send(ws, &packet).await,
            None => {
                self.queue.push(packet);
                Ok(())
            }
        }
    }

    async fn handle(
        &mut self,
        packet: Packet<'_>,
        ws: &mut Option<Ws>,
        heartbeat: &mut Heartbeat,
    ) -> Result<(), CloseReason> {
        heartbeat.last_rx = Instant::now();
        heartbeat.pong_deadline = None;
        match packet {
            Packet::Message(data) => {
                let _ = self.events.send(EngineEvent::Message(frame_of(data)));
                Ok(())
            }
            Packet::Ping(data) => {
                let pong = Packet::Pong(data.into_owned().into());
                self.output(ws, pong).await
            }
            Packet::Pong(_) | Packet::Noop => Ok(()),
            Packet::Close => Err(CloseReason::TransportClose),
            Packet::Open(_) | Packet::Upgrade => Err(CloseReason::ParseError(format!(
                "unexpected {:?} packet",
                packet.packet_type()
            ))),
        }
    }

    /// Writes the close packet. On polling, the POST in flight and the queued packets go
    /// first, as the JavaScript client drains its write buffer before closing: an event
    /// emitted just before a close is not lost.
    async fn send_close(
        &mut self,
        ws: &mut Option<Ws>,
        post: Option<BoxFuture<Result<Response, EngineError>>>,
    ) {
        let close = async {
            match ws {
                Some(ws) => {
                    let _ = self.ws_send(ws, &Packet::Close).await;
                    let _ = ws.close(None).await;
                    // Complete the closing handshake: read until the server closes. Dropping
                    // a socket with unread data (a broadcast, a ping) resets the connection,
                    // and a reset can make the server drop what it has not read yet.
                    while let Some(Ok(_)) = ws.next().await {}
                }
                None => {
                    if let Some(post) = post {
                        let _ = post.await;
                    }
                    // The messages first, the close packet in a POST of its own once they are
                    // answered: Node's socket.io drops an event read together with the close.
                    let mut written = true;
                    while written && !self.queue.is_empty() {
                        written = matches!(self.post().await, Ok(r) if r.status == StatusCode::OK);
                    }
                    if written {
                        self.queue.push(Packet::Close);
                        let _ = self.post().await;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
    }

    async fn run_inner(&mut self, mut ws: Option<Ws>, upgrade: bool) -> CloseReason {
        let mut get: Option<BoxFuture<Result<Response, EngineError>>> = None;
        let mut post: Option<BoxFuture<Result<Response, EngineError>>> = None;
        let mut probe = if upgrade { Some(self.probe()) } else { None };
        // A WebSocket whose probe succeeded, waiting for the polling requests to finish.
        let mut paused: Option<Ws> = None;
        let now = Instant::now();
        let mut heartbeat = Heartbeat {
            last_rx: now,
            next_ping: now + self.ping_interval,
            pong_deadline: None,
        };
        loop {
            if paused.is_some()
                && get.is_none()
                && post.is_none()
                && let Some(mut new_ws) = paused.take()
            {
                let mut result = self.ws_send(&mut new_ws, &Packet::Upgrade).await;
                for packet in std::mem::take(&mut self.queue) {
                    if result.is_ok() {
                        result = self.ws_send(&mut new_ws, &packet).await;
                    }
                }
                if let Err(reason) = result {
                    return reason;
                }
                ws = Some(new_ws);
                let _ = self.events.send(EngineEvent::Upgraded);
            }
            if ws.is_none() && paused.is_none() {
                if get.is_none() {
                    get = Some(self.poll());
                }
                if post.is_none() && !self.queue.is_empty() {
                    post = Some(self.post());
                }
            }
            let heartbeat_at = match self.revision {
                Revision::V4 => heartbeat.last_rx + self.ping_interval + self.ping_timeout,
                Revision::V3 => heartbeat
                    .pong_deadline
                    .map_or(heartbeat.next_ping, |d| d.min(heartbeat.next_ping)),
            };
            tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    None => {
                        self.send_close(&mut ws, post.take()).await;
                        return CloseReason::ForcedClose;
                    }
                    Some(Command::Close(done)) => {
                        self.send_close(&mut ws, post.take()).await;
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                        return CloseReason::ForcedClose;
                    }
                    Some(Command::Send { frame, volatile }) => {
                        let packet = match frame {
                            Frame::Text(text) => Packet::Message(Data::Text(text.into())),
                            Frame::Binary(bytes) => Packet::Message(Data::Binary(Vec::from(bytes).into())),
                        };
                        // A volatile packet is dropped while the transport is busy.
                        let busy = ws.is_none() && (post.is_some() || paused.is_some());
                        if !(volatile && busy)
                            && let Err(reason) = self.output(&mut ws, packet).await
                        {
                            return reason;
                        }
                    }
                },
                response = wait(&mut get) => {
                    get = None;
                    let packets = match response {
                        Ok(r) if r.status == StatusCode::OK => decode_body(self.revision, &r),
                        Ok(r) => return CloseReason::TransportError(format!("poll answered {}", r.status)),
                        Err(e) => return CloseReason::TransportError(e.to_string()),
                    };
                    match packets {
                        Ok(packets) => {
                            for packet in packets {
                                if let Err(reason) = self.handle(packet, &mut ws, &mut heartbeat).await {
                                    return reason;
                                }
                            }
                        }
                        Err(e) => return CloseReason::ParseError(e.to_string()),
                    }
                }
                response = wait(&mut post) => {
                    post = None;
                    match response {
                        Ok(r) if r.status == StatusCode::OK => {}
                        Ok(r) => return CloseReason::TransportError(format!("post answered {}", r.status)),
                        Err(e) => return CloseReason::TransportError(e.to_string()),
                    }
                }
                result = wait(&mut probe) => {
                    probe = None;
                    match result {
                        Ok(new_ws) => paused = Some(new_ws),
                        Err(e) => tracing::debug!(error = %e, "websocket upgrade failed, staying on polling"),
                    }
                }
                message = ws_next(&mut ws) => {
                    let packet = match &message {
                        Some(Ok(Message::Text(text))) => decode_text_frame(text.as_str(), self.revision),
                        Some(Ok(Message::Binary(bytes))) => decode_binary(bytes, self.revision),
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                        Some(Ok(Message::Close(_))) | None => return CloseReason::TransportClose,
                        Some(Err(e)) => return CloseReason::TransportError(e.to_string()),
                    };
                    match packet {
                        Ok(packet) => {
                            let packet = packet.into_owned();
                            if let Err(reason) = self.handle(packet, &mut ws, &mut heartbeat).await {
                                return reason;
                            }
                        }
                        Err(e) => return CloseReason::ParseError(e.to_string()),
                    }
                }
                () = tokio::time::sleep_until(heartbeat_at) => {
                    let now = Instant::now();
                    match self.revision {
                        Revision::V4 => return CloseReason::PingTimeout,
                        Revision::V3 => {
                            if heartbeat.pong_deadline.is_some_and(|d| d <= now) {
                                return CloseReason::PingTimeout;
                            }
                            if heartbeat.next_ping <= now {
                                heartbeat.next_ping = now + self.ping_interval;
                                heartbeat.pong_deadline = Some(now + self.ping_timeout);
                                if let Err(reason) = self.output(&mut ws, Packet::Ping("".into())).await {
                                    return reason;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

use super::CloseReason;
