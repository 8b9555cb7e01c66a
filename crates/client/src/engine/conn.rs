//! The handshake and the connection task: a tokio driver of `sio-engineio-session`'s
//! [`ClientSession`].
//!
//! Every rule (heartbeat, polling batches, the upgrade, the graceful close) is the machine's;
//! this task performs what it asks — HTTP requests, WebSocket frames — and reports back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::Method;
use sio_engineio_proto::{Data, Handshake, Packet, Revision};
use sio_engineio_session::{
    ClientSession, TransportKind,
    client::{Cause, ClientConfig, ClientEvent, FrameRef, Link, Transmit, WsFrame},
    handshake::{
        HandshakeError, HandshakeOutcome, first_revision, query_params, read_polling_answer,
        read_websocket_open, retry_websocket_with,
    },
};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::http::Response;
use super::ws::Ws;
use super::{
    CloseReason, Closure, Command, Engine, EngineConfig, EngineError, EngineEvent, EngineSender,
    Frame, HttpClient, ProtocolError, Target, connect_ws, request_path, timestamp,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// How long closing a WebSocket may take when the server stops answering (the machine's
/// close deadline, which cannot fire while the task waits on the socket).
const CLOSE_TIMEOUT: std::time::Duration = ClientConfig::DEFAULT_CLOSE_TIMEOUT;

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

/// The driver's clock: tokio's (so that tests with paused time move it), as the machine's
/// `std` instant.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

fn from_handshake(error: HandshakeError) -> EngineError {
    match error {
        HandshakeError::Status { status, body } => EngineError::Status { status, body },
        HandshakeError::UnsupportedRevision(revision) => EngineError::UnsupportedRevision(revision),
        other => EngineError::Protocol(other.into()),
    }
}

async fn open_inner(config: Arc<EngineConfig>) -> Result<Engine, EngineError> {
    let target = config.target()?;
    let http = HttpClient::new(target.clone(), config.headers.clone());
    let first = *config.transports.first().ok_or(EngineError::NoTransport)?;
    let (tx, events) = mpsc::unbounded_channel();
    let (cmd_tx, cmds) = mpsc::unbounded_channel();
    let (revision, handshake, rest, ws, transport) = match first {
        TransportKind::Polling => {
            let (revision, handshake, rest) = polling_handshake(&config, &http).await?;
            (revision, handshake, rest, None, TransportKind::Polling)
        }
        TransportKind::WebSocket => {
            let (revision, handshake, ws) = ws_handshake(&config, &target).await?;
            (
                revision,
                handshake,
                Vec::new(),
                Some(ws),
                TransportKind::WebSocket,
            )
        }
    };
    let session_info = ClientSession::open_info(revision, transport, handshake);
    let info = session_info.clone();
    let session = ClientSession::new(
        now(),
        session_info,
        rest,
        ClientConfig {
            upgrade: config.upgrade && config.transports.contains(&TransportKind::WebSocket),
            force_base64: config.force_base64,
            ..ClientConfig::default()
        },
    );
    let task = Task {
        config,
        http,
        target,
        session,
        revision,
        events: tx,
        cmds,
        main: ws,
        probe: None,
        get: None,
        post: None,
        probe_open: None,
        close_done: Vec::new(),
        cmds_closed: false,
        last_error: None,
    };
    tokio::spawn(task.run());
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

fn request_params<'a>(
    revision: Revision,
    transport: TransportKind,
    config: &'a EngineConfig,
    sid: Option<&'a str>,
    t: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut params = query_params(revision, transport, config.force_base64);
    if let Some(sid) = sid {
        params.push(("sid", sid));
    }
    if config.timestamp_requests && transport == TransportKind::Polling {
        params.push((config.timestamp_param.as_str(), t));
    }
    params
}

async fn polling_handshake(
    config: &EngineConfig,
    http: &Arc<HttpClient>,
) -> Result<(Revision, Handshake, Vec<Packet<'static>>), EngineError> {
    let forced = config.revision.is_some();
    let mut revision = first_revision(config.revision);
    loop {
        let t = timestamp();
        let params = request_params(revision, TransportKind::Polling, config, None, &t);
        let path = request_path(&config.path, &params, &config.query);
        let response = http.clone().request(Method::GET, path, None).await?;
        let outcome = read_polling_answer(
            revision,
            forced,
            response.status.as_u16(),
            &response.body,
            response.content_type.as_deref(),
        )
        .map_err(from_handshake)?;
        match outcome {
            HandshakeOutcome::Retry(next) => revision = next,
            HandshakeOutcome::Opened {
                revision,
                handshake,
                rest,
            } => return Ok((revision, handshake, rest)),
        }
    }
}

async fn ws_handshake(
    config: &EngineConfig,
    target: &Target,
) -> Result<(Revision, Handshake, Ws), EngineError> {
    let forced = config.revision.is_some();
    let mut revision = first_revision(config.revision);
    loop {
        let params = request_params(revision, TransportKind::WebSocket, config, None, "");
        let path = request_path(&config.path, &params, &config.query);
        let mut ws = match connect_ws(target, &path, &config.headers).await {
            Ok(ws) => ws,
            Err(EngineError::WebSocket(error)) => match retry_websocket_with(revision, forced) {
                Some(next) => {
                    revision = next;
                    continue;
                }
                None => return Err(EngineError::WebSocket(error)),
            },
            Err(e) => return Err(e),
        };
        let first = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(other)) => {
                return Err(EngineError::Protocol(ProtocolError::ExpectedOpen {
                    got: format!("{other:?}"),
                }));
            }
            Some(Err(e)) => return Err(EngineError::WebSocket(e)),
            None => return Err(EngineError::WebSocketClosed),
        };
        let (revision, handshake) =
            read_websocket_open(revision, forced, first.as_str()).map_err(from_handshake)?;
        return Ok((revision, handshake, ws));
    }
}

/// The connection task.
struct Task {
    config: Arc<EngineConfig>,
    http: Arc<HttpClient>,
    target: Target,
    session: ClientSession,
    revision: Revision,
    events: mpsc::UnboundedSender<EngineEvent>,
    cmds: mpsc::UnboundedReceiver<Command>,
    /// The WebSocket that carries the session.
    main: Option<Ws>,
    /// The upgrade's WebSocket.
    probe: Option<Ws>,
    get: Option<BoxFuture<Result<Response, EngineError>>>,
    post: Option<BoxFuture<Result<Response, EngineError>>>,
    probe_open: Option<BoxFuture<Result<Ws, EngineError>>>,
    /// Answered once the close is done.
    close_done: Vec<oneshot::Sender<()>>,
    /// Every sender is gone: the command channel is not polled again (it would be ready for
    /// ever) while the close runs.
    cmds_closed: bool,
    /// The last failure the task reported to the machine, for the close reason.
    last_error: Option<String>,
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

/// What a WebSocket read means to the machine.
enum Read {
    Frame(Message),
    Skip,
    Closed { failed: bool, error: Option<String> },
}

fn read_of(message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> Read {
    match message {
        Some(Ok(frame @ (Message::Text(_) | Message::Binary(_)))) => Read::Frame(frame),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Read::Skip,
        Some(Ok(Message::Close(_))) | None => Read::Closed {
            failed: false,
            error: None,
        },
        Some(Err(e)) => Read::Closed {
            failed: true,
            error: Some(e.to_string()),
        },
    }
}

/// The frame as the machine reads it (borrowed: no copy).
fn frame_ref(message: &Message) -> Option<FrameRef<'_>> {
    match message {
        Message::Text(text) => Some(FrameRef::Text(text.as_str())),
        Message::Binary(bytes) => Some(FrameRef::Binary(bytes)),
        _ => None,
    }
}

fn ws_message(frame: WsFrame) -> Message {
    match frame {
        WsFrame::Text(text) => Message::text(text),
        WsFrame::Binary(bytes) => Message::Binary(bytes),
    }
}

impl Task {
    async fn run(mut self) {
        let closure = self.run_inner().await;
        tracing::debug!(sid = %self.session.info().sid, reason = closure.reason.as_str(), "engine.io connection closed");
        for done in self.close_done.drain(..) {
            let _ = done.send(());
        }
        let _ = self.events.send(EngineEvent::Closed(closure));
    }

    fn path(&self, transport: TransportKind) -> String {
        let t = timestamp();
        let sid = self.session.info().sid.as_str();
        let params = request_params(self.revision, transport, &self.config, Some(sid), &t);
        request_path(&self.config.path, &params, &self.config.query)
    }

    fn closure_of(&mut self, reason: CloseReason, cause: Cause) -> Closure {
        let detail = match cause {
            Cause::Driver => self.last_error.take(),
            Cause::None => None,
            other => Some(other.to_string()),
        };
        Closure { reason, detail }
    }

    fn failed(&mut self, error: String) {
        self.last_error = Some(error);
        self.session.handle_transport_error(now());
    }

    /// Carries out what the machine asks, then forwards what it reports; `Some` once the
    /// session has ended.
    async fn step(&mut self) -> Option<Closure> {
        while let Some(transmit) = self.session.poll_transmit() {
            self.carry(transmit).await;
        }
        while let Some(event) = self.session.poll_event() {
            match event {
                ClientEvent::Message(data) => {
                    let _ = self.events.send(EngineEvent::Message(frame_of(data)));
                }
                ClientEvent::Upgraded => {
                    let _ = self.events.send(EngineEvent::Upgraded);
                }
                ClientEvent::Closed(reason, cause) => {
                    // Whatever the machine still asked for (closing a WebSocket) goes first.
                    while let Some(transmit) = self.session.poll_transmit() {
                        self.carry(transmit).await;
                    }
                    return Some(self.closure_of(reason, cause));
                }
            }
        }
        None
    }

    async fn carry(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::Poll => {
                let path = self.path(TransportKind::Polling);
                self.get = Some(Box::pin(self.http.clone().request(Method::GET, path, None)));
            }
            Transmit::Post { body, content_type } => {
                let path = self.path(TransportKind::Polling);
                self.post = Some(Box::pin(self.http.clone().request(
                    Method::POST,
                    path,
                    Some((body, content_type)),
                )));
            }
            Transmit::Frame { link, frame } => {
                // After the switch, the probe link is the session's transport: failing to
                // write on it fails the session, as on the main link.
                let carries_session =
                    link == Link::Main || self.session.transport() == TransportKind::WebSocket;
                let ws = match link {
                    Link::Main => self.main.as_mut(),
                    Link::Probe => self.probe.as_mut(),
                };
                let Some(ws) = ws else {
                    if carries_session {
                        self.failed("no WebSocket to write on".into());
                    }
                    return;
                };
                // A server that stopped reading cannot hold a write past the session's next
                // deadline (its heartbeat, or the close's).
                let deadline = self
                    .session
                    .poll_timeout()
                    .map(tokio::time::Instant::from_std);
                let send = ws.send(ws_message(frame));
                let result = match deadline {
                    Some(at) => tokio::time::timeout_at(at, send)
                        .await
                        .unwrap_or_else(|_| Err(WsError::Io(std::io::ErrorKind::TimedOut.into()))),
                    None => send.await,
                };
                if let Err(error) = result {
                    if carries_session {
                        self.failed(error.to_string());
                    } else {
                        self.probe = None;
                        self.session
                            .handle_websocket_closed(now(), Link::Probe, true);
                    }
                }
            }
            Transmit::OpenProbe => {
                let target = self.target.clone();
                let path = self.path(TransportKind::WebSocket);
                let headers = self.config.headers.clone();
                self.probe_open = Some(Box::pin(async move {
                    connect_ws(&target, &path, &headers).await
                }));
            }
            Transmit::PromoteProbe => {
                self.main = self.probe.take();
                // Requests still in flight belong to the polling transport, now superseded.
                self.get = None;
                self.post = None;
            }
            Transmit::CloseWebSocket(Link::Probe) => {
                self.probe_open = None;
                if let Some(mut ws) = self.probe.take() {
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(None)).await;
                }
            }
            Transmit::CloseWebSocket(Link::Main) => {
                let Some(mut ws) = self.main.take() else {
                    return;
                };
                if self.session.is_closed() {
                    // The session already ended (a timeout, an error): drop the connection at
                    // once, as the JavaScript client does; a dead server would never finish
                    // a closing handshake.
                    return;
                }
                let close = async {
                    let _ = ws.close(None).await;
                    // Complete the closing handshake: read until the server closes. Dropping
                    // a socket with unread data (a broadcast, a ping) resets the connection,
                    // and a reset can make the server drop what it has not read yet.
                    while let Some(Ok(_)) = ws.next().await {}
                };
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
                self.session
                    .handle_websocket_closed(now(), Link::Main, false);
            }
        }
    }

    async fn run_inner(&mut self) -> Closure {
        loop {
            if let Some(reason) = self.step().await {
                return reason;
            }
            let deadline = self
                .session
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = self.cmds.recv(), if !self.cmds_closed => match cmd {
                    None => {
                        self.cmds_closed = true;
                        self.session.close(now());
                    }
                    Some(Command::Close(done)) => {
                        self.close_done.extend(done);
                        self.session.close(now());
                    }
                    Some(Command::Send { frame, volatile }) => {
                        let data = match frame {
                            Frame::Text(text) => Data::Text(text.into()),
                            Frame::Binary(bytes) => Data::Binary(Vec::from(bytes).into()),
                        };
                        if let Err(error) = self.session.send(data, volatile) {
                            tracing::warn!(%error, "message not sent");
                        }
                    }
                },
                response = wait(&mut self.get) => {
                    self.get = None;
                    match response {
                        Ok(r) => self.session.handle_poll_response(
                            now(),
                            Ok((r.status.as_u16(), &r.body, r.content_type.as_deref())),
                        ),
                        Err(e) => {
                            self.last_error = Some(e.to_string());
                            self.session.handle_poll_response(now(), Err(()));
                        }
                    }
                }
                response = wait(&mut self.post) => {
                    self.post = None;
                    match response {
                        Ok(r) => self.session.handle_post_response(now(), Ok(r.status.as_u16())),
                        Err(e) => {
                            self.last_error = Some(e.to_string());
                            self.session.handle_post_response(now(), Err(()));
                        }
                    }
                }
                result = wait(&mut self.probe_open) => {
                    self.probe_open = None;
                    match result {
                        Ok(ws) => {
                            self.probe = Some(ws);
                            self.session.handle_probe_opened(now(), Ok(()));
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "websocket upgrade failed, staying on polling");
                            self.session.handle_probe_opened(now(), Err(()));
                        }
                    }
                }
                message = ws_next(&mut self.main) => match read_of(message) {
                    Read::Frame(message) => {
                        if let Some(frame) = frame_ref(&message)
                            && let Some(data) = self.session.handle_frame(now(), Link::Main, frame)
                        {
                            let _ = self.events.send(EngineEvent::Message(frame_of(data)));
                        }
                    }
                    Read::Skip => {}
                    Read::Closed { failed, error } => {
                        self.main = None;
                        self.last_error = error;
                        self.session.handle_websocket_closed(now(), Link::Main, failed);
                    }
                },
                message = ws_next(&mut self.probe) => match read_of(message) {
                    Read::Frame(message) => {
                        if let Some(frame) = frame_ref(&message) {
                            let _ = self.session.handle_frame(now(), Link::Probe, frame);
                        }
                    }
                    Read::Skip => {}
                    Read::Closed { failed, .. } => {
                        self.probe = None;
                        tracing::debug!("websocket upgrade failed, staying on polling");
                        self.session.handle_websocket_closed(now(), Link::Probe, failed);
                    }
                },
                () = sleep => self.session.handle_timeout(now()),
            }
        }
    }
}
