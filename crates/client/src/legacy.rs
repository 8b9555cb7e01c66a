//! The Socket.IO 0.9 transport: `/socket.io/1/` handshake, then WebSocket or xhr-polling,
//! heartbeats echoed. Messages travel as their text; the manager decodes them.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Method, StatusCode};
use sio_legacy_proto::{Handshake, Paths, encode_payload_raw, frames};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::engine::{
    CloseReason, Closure, Command, EngineError, EngineEvent, EngineSender, Frame, HttpClient,
    connect_ws, request_path, timestamp,
};
use crate::error::{Error, LegacyError};
use crate::options::{ManagerOptions, TransportKind};

/// The heartbeat the client echoes.
const HEARTBEAT: &str = "2::";

/// An open 0.9 session.
#[derive(Debug)]
pub(crate) struct LegacyConn {
    pub(crate) sid: String,
    pub(crate) sender: EngineSender,
    pub(crate) events: mpsc::UnboundedReceiver<EngineEvent>,
    pub(crate) websocket: bool,
}

pub(crate) async fn open(options: &ManagerOptions) -> Result<LegacyConn, Error> {
    tokio::time::timeout(options.timeout, open_inner(options))
        .await
        .map_err(|_| Error::Timeout)?
}

async fn open_inner(options: &ManagerOptions) -> Result<LegacyConn, Error> {
    let target = crate::manager::engine_config(options, false).target()?;
    let http = HttpClient::new(target.clone(), options.headers.clone());
    let paths = Paths::new(&options.path);
    let t = timestamp();
    let handshake_path = request_path(&paths.handshake(), &[("t", t.as_str())], &options.query);
    let response = http
        .clone()
        .request(Method::GET, handshake_path, None)
        .await?;
    let body = String::from_utf8_lossy(&response.body).into_owned();
    if response.status != StatusCode::OK {
        return Err(LegacyError::Status {
            status: response.status.as_u16(),
            body: body.chars().take(200).collect(),
        }
        .into());
    }
    let handshake = Handshake::parse(body.trim()).map_err(|source| LegacyError::Handshake {
        body: body.chars().take(100).collect(),
        source,
    })?;
    let transport = options
        .transports
        .iter()
        .copied()
        .find(|t| match t {
            TransportKind::WebSocket => handshake.offers("websocket"),
            TransportKind::Polling => handshake.offers("xhr-polling"),
        })
        .ok_or_else(|| LegacyError::NoCommonTransport {
            offered: handshake.transports.clone(),
        })?;
    // Without a timeout from the server, fall back to the 0.9 default of 60 s.
    let heartbeat_timeout = handshake
        .heartbeat_timeout_duration()
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(60));
    let (events_tx, events) = mpsc::unbounded_channel();
    let (cmd_tx, cmds) = mpsc::unbounded_channel();
    let sid = handshake.sid.clone();
    let task = LegacyTask {
        events: events_tx,
        cmds,
        heartbeat_timeout,
    };
    match transport {
        TransportKind::WebSocket => {
            let path = request_path(&paths.websocket(&sid), &[], &options.query);
            let ws = connect_ws(&target, &path, &options.headers)
                .await
                .map_err(Error::Engine)?;
            tokio::spawn(task.run_ws(ws));
        }
        TransportKind::Polling => {
            let path = paths.xhr_polling(&sid);
            tokio::spawn(task.run_polling(http, path, options.query.clone()));
        }
    }
    Ok(LegacyConn {
        sid,
        sender: EngineSender::new(cmd_tx),
        events,
        websocket: transport == TransportKind::WebSocket,
    })
}

struct LegacyTask {
    events: mpsc::UnboundedSender<EngineEvent>,
    cmds: mpsc::UnboundedReceiver<Command>,
    heartbeat_timeout: Duration,
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

async fn wait<T>(fut: &mut Option<BoxFuture<T>>) -> T {
    match fut {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

impl LegacyTask {
    fn deliver(&self, text: &str) {
        let _ = self
            .events
            .send(EngineEvent::Message(Frame::Text(text.to_owned())));
    }

    async fn run_ws(mut self, mut ws: crate::engine::Ws) {
        let mut deadline = Instant::now() + self.heartbeat_timeout;
        let reason = loop {
            tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    Some(Command::Send { frame: Frame::Text(text), .. }) => {
                        if let Err(e) = ws.send(WsMessage::text(text)).await {
                            break Closure::with(CloseReason::TransportError, e.to_string());
                        }
                    }
                    Some(Command::Send { frame: Frame::Binary(_), .. }) => {}
                    None | Some(Command::Close(_)) => {
                        // A `done` sender in the command is dropped after this: that tells
                        // the waiter the close was written.
                        let close = async {
                            let _ = ws.send(WsMessage::text("0::")).await;
                            let _ = ws.close(None).await;
                            // Read until the server closes: dropping a socket with unread
                            // data resets it, which can lose what the server has not read.
                            while let Some(Ok(_)) = ws.next().await {}
                        };
                        let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
                        break Closure::new(CloseReason::ForcedClose);
                    }
                },
                message = ws.next() => match message {
                    Some(Ok(WsMessage::Text(text))) => {
                        deadline = Instant::now() + self.heartbeat_timeout;
                        if text.as_str() == HEARTBEAT {
                            if let Err(e) = ws.send(WsMessage::text(HEARTBEAT)).await {
                                break Closure::with(CloseReason::TransportError, e.to_string());
                            }
                        } else {
                            self.deliver(text.as_str());
                        }
                    }
                    Some(Ok(WsMessage::Binary(_))) => {
                        break Closure::with(CloseReason::ParseError, "binary frame from a 0.9 server");
                    }
                    Some(Ok(WsMessage::Close(_))) | None => break Closure::new(CloseReason::TransportClose),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break Closure::with(CloseReason::TransportError, e.to_string()),
                },
                () = tokio::time::sleep_until(deadline) => break Closure::new(CloseReason::PingTimeout),
            }
        };
        let _ = self.events.send(EngineEvent::Closed(reason));
    }

    async fn run_polling(
        mut self,
        http: Arc<HttpClient>,
        path: String,
        query: Vec<(String, String)>,
    ) {
        let url = move || {
            let t = timestamp();
            request_path(&path, &[("t", t.as_str())], &query)
        };
        let mut deadline = Instant::now() + self.heartbeat_timeout;
        let mut get: Option<BoxFuture<_>> = None;
        let mut post: Option<BoxFuture<_>> = None;
        let mut queue: Vec<String> = Vec::new();
        let reason = loop {
            if get.is_none() {
                get = Some(Box::pin(http.clone().request(Method::GET, url(), None)));
            }
            if post.is_none() && !queue.is_empty() {
                let mut body = String::new();
                encode_payload_raw(queue.iter().map(String::as_str), &mut body);
                queue.clear();
                post = Some(Box::pin(http.clone().request(
                    Method::POST,
                    url(),
                    Some((Bytes::from(body), "text/plain;charset=UTF-8")),
                )));
            }
            tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    Some(Command::Send { frame: Frame::Text(text), volatile }) => {
                        if !(volatile && post.is_some()) {
                            queue.push(text);
                        }
                    }
                    Some(Command::Send { frame: Frame::Binary(_), .. }) => {}
                    None | Some(Command::Close(_)) => {
                        // The POST in flight and the queued messages go before the
                        // disconnect, so nothing emitted before the close is lost.
                        queue.push("0::".to_owned());
                        let mut body = String::new();
                        encode_payload_raw(queue.iter().map(String::as_str), &mut body);
                        let in_flight = post.take();
                        let http = http.clone();
                        let path = url();
                        let close = async move {
                            if let Some(in_flight) = in_flight {
                                let _ = in_flight.await;
                            }
                            let _ = http
                                .request(
                                    Method::POST,
                                    path,
                                    Some((Bytes::from(body), "text/plain;charset=UTF-8")),
                                )
                                .await;
                        };
                        let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
                        break Closure::new(CloseReason::ForcedClose);
                    }
                },
                response = wait(&mut get) => {
                    get = None;
                    let response: Result<_, EngineError> = response;
                    let body = match response {
                        Ok(r) if r.status == StatusCode::OK => r.body,
                        Ok(r) => break Closure::with(CloseReason::TransportError, format!("poll answered {}", r.status)),
                        Err(e) => break Closure::with(CloseReason::TransportError, e.to_string()),
                    };
                    deadline = Instant::now() + self.heartbeat_timeout;
                    let Ok(body) = std::str::from_utf8(&body) else {
                        break Closure::with(CloseReason::ParseError, "poll body is not UTF-8");
                    };
                    let mut failed = None;
                    for frame in frames(body) {
                        match frame {
                            Ok(HEARTBEAT) => queue.push(HEARTBEAT.to_owned()),
                            Ok(text) => self.deliver(text),
                            Err(e) => {
                                failed = Some(e.to_string());
                                break;
                            }
                        }
                    }
                    if let Some(e) = failed {
                        break Closure::with(CloseReason::ParseError, e);
                    }
                }
                response = wait(&mut post) => {
                    post = None;
                    match response {
                        Ok(r) if r.status == StatusCode::OK => {}
                        Ok(r) => break Closure::with(CloseReason::TransportError, format!("post answered {}", r.status)),
                        Err(e) => break Closure::with(CloseReason::TransportError, e.to_string()),
                    }
                }
                () = tokio::time::sleep_until(deadline) => break Closure::new(CloseReason::PingTimeout),
            }
        };
        let _ = self.events.send(EngineEvent::Closed(reason));
    }
}
