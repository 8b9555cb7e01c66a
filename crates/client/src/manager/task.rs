//! The manager's task: the I/O around the namespace state machine. It opens connections
//! (Engine.IO, or Socket.IO 0.9), reconnects with backoff, encodes and decodes frames through
//! the [`Wire`], and carries out the machine's [`Action`]s.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sio_engineio_proto::Revision;
use sio_socketio_proto::{ArgsError, Value, to_value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Cmd;
use super::namespaces::{Action, NamespaceSocket, Namespaces};
use super::wire::{Wire, WireDecoder};
use crate::backoff::Backoff;
use crate::client::SocketShared;
use crate::engine::{
    self, CloseReason, Closure, EngineConfig, EngineError, EngineEvent, EngineSender, Frame,
};
use crate::error::Error;
use crate::event::{AckSender, ClientEvent, DisconnectReason, Event};
use crate::legacy;
use crate::lock::Recover;
use crate::options::{ManagerOptions, Protocol, TransportKind};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl NamespaceSocket for Arc<SocketShared> {
    fn auth(&self) -> Option<Result<Value, ArgsError>> {
        self.auth.evaluate().map(|auth| to_value(&auth))
    }

    fn query(&self) -> Option<String> {
        self.query.clone()
    }
}

/// Starts the task of a new manager.
pub(super) fn spawn(
    options: Arc<ManagerOptions>,
    weak_cmds: mpsc::WeakUnboundedSender<Cmd>,
    cmds: mpsc::UnboundedReceiver<Cmd>,
) {
    let task = ManagerTask {
        backoff: Backoff::new(&options.reconnection),
        options,
        weak_cmds,
        cmds,
        namespaces: Namespaces::default(),
        conn: None,
        connecting: None,
        reconnect_at: None,
        reconnecting: false,
        detected: None,
        upgraded_once: false,
    };
    tokio::spawn(task.run());
}

struct Conn {
    wire: Wire,
    sid: String,
    sender: EngineSender,
    events: mpsc::UnboundedReceiver<EngineEvent>,
    decoder: WireDecoder,
    websocket: bool,
}

struct ManagerTask {
    options: Arc<ManagerOptions>,
    weak_cmds: mpsc::WeakUnboundedSender<Cmd>,
    cmds: mpsc::UnboundedReceiver<Cmd>,
    namespaces: Namespaces<Arc<SocketShared>>,
    conn: Option<Conn>,
    connecting: Option<BoxFuture<Result<Conn, Error>>>,
    reconnect_at: Option<Instant>,
    backoff: Backoff,
    reconnecting: bool,
    detected: Option<Protocol>,
    upgraded_once: bool,
}

async fn wait<T>(fut: &mut Option<BoxFuture<T>>) -> T {
    match fut {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn next_event(conn: &mut Option<Conn>) -> EngineEvent {
    match conn {
        Some(conn) => conn
            .events
            .recv()
            .await
            .unwrap_or(EngineEvent::Closed(Closure::new(
                CloseReason::TransportClose,
            ))),
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn disconnect_reason(closure: Closure) -> DisconnectReason {
    let detail = closure.detail.unwrap_or_default();
    match closure.reason {
        CloseReason::TransportClose => DisconnectReason::TransportClose,
        CloseReason::TransportError => DisconnectReason::TransportError(detail),
        CloseReason::PingTimeout => DisconnectReason::PingTimeout,
        CloseReason::ParseError => DisconnectReason::ParseError(detail),
        CloseReason::ForcedClose | CloseReason::ServerShuttingDown => {
            DisconnectReason::ClientDisconnect
        }
    }
}

/// The engine settings for one connection attempt.
pub(crate) fn engine_config(options: &ManagerOptions, websocket_first: bool) -> EngineConfig {
    let mut transports = options.transports.clone();
    if websocket_first && transports.contains(&TransportKind::WebSocket) {
        transports = vec![TransportKind::WebSocket];
    }
    EngineConfig {
        host: options.host.clone(),
        port: options.port,
        secure: options.secure,
        tls_config: options.tls_config.clone(),
        proxy: options.proxy.clone(),
        path: options.path.clone(),
        query: options.query.clone(),
        headers: options.headers.clone(),
        transports,
        revision: None,
        force_base64: options.force_base64,
        timestamp_requests: options.timestamp_requests,
        timestamp_param: options.timestamp_param.clone(),
        upgrade: options.upgrade,
        connect_timeout: options.timeout,
    }
}

async fn open_conn(
    options: Arc<ManagerOptions>,
    protocol: Protocol,
    websocket_first: bool,
) -> Result<Conn, Error> {
    if protocol == Protocol::Legacy09 {
        return open_legacy(&options).await;
    }
    let mut config = engine_config(&options, websocket_first);
    config.revision = match protocol {
        Protocol::V5 => Some(Revision::V4),
        Protocol::V4 => Some(Revision::V3),
        Protocol::Auto | Protocol::Legacy09 => None,
    };
    match engine::open(config).await {
        Ok(engine) => {
            let wire = Wire::for_revision(engine.info.revision, options.parser);
            Ok(Conn {
                wire,
                sid: engine.info.sid,
                sender: engine.sender,
                events: engine.events,
                decoder: wire.decoder(),
                websocket: engine.info.transport == TransportKind::WebSocket,
            })
        }
        Err(
            e @ (EngineError::Status { .. } | EngineError::Protocol(_) | EngineError::WebSocket(_)),
        ) if protocol == Protocol::Auto => {
            // Not Engine.IO: maybe a Socket.IO 0.9 server.
            open_legacy(&options).await.map_err(|_| Error::Engine(e))
        }
        Err(e) => Err(e.into()),
    }
}

async fn open_legacy(options: &ManagerOptions) -> Result<Conn, Error> {
    let conn = legacy::open(options).await?;
    Ok(Conn {
        wire: Wire::Legacy09,
        sid: conn.sid,
        sender: conn.sender,
        events: conn.events,
        decoder: Wire::Legacy09.decoder(),
        websocket: conn.websocket,
    })
}

impl ManagerTask {
    async fn run(mut self) {
        loop {
            tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    Some(cmd) => self.on_cmd(cmd),
                    None => break,
                },
                result = wait(&mut self.connecting) => {
                    self.connecting = None;
                    self.on_open(result);
                }
                event = next_event(&mut self.conn) => self.on_engine_event(event),
                () = sleep_until(self.reconnect_at) => {
                    self.reconnect_at = None;
                    if !self.namespaces.is_empty() {
                        let attempt = self.backoff.attempts;
                        self.namespaces.broadcast(&ClientEvent::ReconnectAttempt(attempt));
                        self.connecting = Some(self.connect_future());
                    }
                }
            }
            self.run_actions();
        }
        if let Some(conn) = self.conn.take() {
            conn.sender.close();
        }
    }

    /// Carries out what the namespace machine asked for.
    fn run_actions(&mut self) {
        while let Some(action) = self.namespaces.poll_action() {
            match action {
                Action::Send { packet, volatile } => self.send_packet(&packet, volatile),
                Action::Deliver { socket, event } => socket.deliver(event),
                Action::Event {
                    socket,
                    nsp,
                    name,
                    args,
                    ack,
                } => {
                    let ack = ack.and_then(|id| self.ack_sender(&nsp, id));
                    socket.deliver(ClientEvent::Event(Event { name, args, ack }));
                }
                Action::State {
                    socket,
                    id,
                    recovered,
                } => {
                    let mut state = socket.state.lock().recover();
                    state.connected = id.is_some();
                    if let Some(id) = id {
                        state.id = Some(id);
                        state.recovered = recovered;
                    }
                }
                Action::Answer { reply, args } => {
                    // An error only means the application stopped waiting.
                    let _ = reply.send(args);
                }
                Action::Connect => {
                    if self.conn.is_none()
                        && self.connecting.is_none()
                        && self.reconnect_at.is_none()
                    {
                        self.connecting = Some(self.connect_future());
                    }
                }
                Action::Reconnect => {
                    if self.reconnect_at.is_none() && self.connecting.is_none() {
                        self.maybe_reconnect();
                    }
                }
                Action::StopReconnecting => {
                    self.connecting = None;
                    self.reconnect_at = None;
                    self.reconnecting = false;
                    self.backoff.reset();
                }
                Action::CloseConnection { done } => {
                    if let Some(conn) = self.conn.take() {
                        match done {
                            Some(done) => conn.sender.close_then(done),
                            None => conn.sender.close(),
                        }
                    }
                }
            }
        }
    }

    fn connect_future(&self) -> BoxFuture<Result<Conn, Error>> {
        let options = self.options.clone();
        let protocol = self.detected.unwrap_or(options.protocol);
        let websocket_first = options.remember_upgrade && self.upgraded_once;
        Box::pin(open_conn(options, protocol, websocket_first))
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Open { socket } => {
                let nsp = socket.nsp.clone();
                self.namespaces.open(nsp, socket);
            }
            Cmd::Emit {
                nsp,
                event,
                args,
                ack,
                volatile,
            } => self.namespaces.emit(nsp, event, args, ack, volatile),
            Cmd::AckReply { nsp, id, args } => self.namespaces.ack_reply(nsp, id, args),
            Cmd::CancelAck { nsp, id } => self.namespaces.cancel_ack(&nsp, id),
            Cmd::Leave { nsp, done } => self.namespaces.leave(nsp, done),
            Cmd::Close { done } => self.namespaces.close(done),
        }
    }

    fn on_open(&mut self, result: Result<Conn, Error>) {
        match result {
            Ok(conn) => {
                let protocol = conn.wire.protocol();
                tracing::debug!(sid = %conn.sid, ?protocol, "connected");
                if conn.websocket {
                    self.upgraded_once = true;
                }
                self.detected = Some(protocol);
                let (dialect, sid) = (conn.wire.dialect(), conn.sid.clone());
                self.conn = Some(conn);
                if self.reconnecting {
                    self.reconnecting = false;
                    self.namespaces
                        .broadcast(&ClientEvent::Reconnect(self.backoff.attempts));
                }
                self.backoff.reset();
                self.namespaces.connected(dialect, sid);
            }
            Err(e) => {
                tracing::debug!(error = %e, "connection failed");
                if self.reconnecting {
                    self.namespaces
                        .broadcast(&ClientEvent::ReconnectError(e.to_string()));
                } else {
                    let message = e.to_string();
                    let failure = Arc::new(e);
                    for socket in self.namespaces.sockets() {
                        {
                            let mut state = socket.state.lock().recover();
                            state.connect_failure = Some(failure.clone());
                        }
                    }
                    self.namespaces
                        .broadcast(&ClientEvent::ConnectError(Value::from(message)));
                }
                self.maybe_reconnect();
            }
        }
    }

    fn maybe_reconnect(&mut self) {
        let options = &self.options.reconnection;
        if !options.enabled || self.namespaces.is_empty() {
            self.reconnecting = false;
            return;
        }
        if options
            .attempts
            .is_some_and(|max| self.backoff.attempts >= max)
        {
            self.namespaces.broadcast(&ClientEvent::ReconnectFailed);
            self.backoff.reset();
            self.reconnecting = false;
            return;
        }
        let delay = self.backoff.next();
        self.reconnecting = true;
        self.reconnect_at = Some(Instant::now() + delay);
    }

    /// Encodes and sends a packet; reports encoding failures as `error` events.
    fn send_packet(&mut self, packet: &sio_socketio_proto::Packet, volatile: bool) {
        let Some(conn) = &self.conn else { return };
        let send = |frame: Frame, volatile: bool| {
            if volatile {
                conn.sender.send_volatile(frame)
            } else {
                conn.sender.send(frame)
            }
        };
        match conn.wire.encode(packet, volatile) {
            Ok(encoded) => {
                send(encoded.first, encoded.volatile);
                for attachment in encoded.attachments {
                    send(Frame::Binary(attachment), false);
                }
            }
            Err(e) => {
                if let Some(socket) = self.namespaces.socket(packet.nsp()) {
                    socket.deliver(ClientEvent::Error(format!("cannot send: {e}")));
                }
            }
        }
    }

    fn ack_sender(&self, nsp: &str, id: u64) -> Option<AckSender> {
        Some(AckSender {
            cmds: self.weak_cmds.upgrade()?,
            nsp: nsp.to_owned(),
            id,
            sent: Arc::default(),
        })
    }

    fn on_engine_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Message(frame) => {
                let Some(conn) = self.conn.as_mut() else {
                    return;
                };
                match conn.decoder.feed(frame) {
                    Ok(decoded) => {
                        if let Some(ack) = decoded.auto_ack {
                            conn.sender.send(ack);
                        }
                        if let Some(packet) = decoded.packet {
                            self.namespaces.packet(packet);
                        }
                    }
                    Err(error) => self.namespaces.violation(error),
                }
            }
            EngineEvent::Upgraded => {
                self.upgraded_once = true;
                if let Some(conn) = self.conn.as_mut() {
                    conn.websocket = true;
                }
            }
            EngineEvent::Closed(reason) => {
                self.conn = None;
                self.namespaces.connection_lost(disconnect_reason(reason));
            }
        }
    }
}
