//! A test server on a free port, and small HTTP and WebSocket clients that show the raw wire.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    task::Poll,
    time::Duration,
};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode, header::HeaderMap};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use sio_engineio::{
    CloseReason, Cors, CorsOrigin, Data, Engine, EngineConfig, EngineHandler, EngineService,
    Message, Socket,
};
use tokio::{net::TcpStream, sync::mpsc};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Error as WsError, Message as WsMessage},
};

/// Echoes every message and records closes.
#[derive(Default)]
pub(crate) struct Echo {
    pub(crate) closed: Mutex<Vec<(String, CloseReason)>>,
    pub(crate) events: Option<mpsc::UnboundedSender<Event>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Open(String),
    Message(String, Vec<u8>, bool),
    Close(String, CloseReason),
}

impl EngineHandler for Echo {
    type Data = ();

    fn on_open(&self, socket: Arc<Socket<()>>) {
        if let Some(tx) = &self.events {
            let _ = tx.send(Event::Open(socket.id().to_owned()));
        }
    }

    fn on_message(&self, socket: &Arc<Socket<()>>, data: Data<'_>) {
        if let Some(tx) = &self.events {
            let (bytes, binary) = match &data {
                Data::Text(t) => (t.as_bytes().to_vec(), false),
                Data::Binary(b) => (b.to_vec(), true),
            };
            let _ = tx.send(Event::Message(socket.id().to_owned(), bytes, binary));
        }
        match data {
            Data::Text(text) => socket.send(Message::text(&text)),
            Data::Binary(bytes) => socket.send(Message::binary(bytes.into_owned())),
        }
    }

    fn on_close(&self, socket: &Arc<Socket<()>>, reason: CloseReason) {
        self.closed
            .lock()
            .unwrap()
            .push((socket.id().to_owned(), reason));
        if let Some(tx) = &self.events {
            let _ = tx.send(Event::Close(socket.id().to_owned(), reason));
        }
    }
}

/// The compliance suites' settings.
pub(crate) fn suite_config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        cors: Cors {
            origin: CorsOrigin::Any,
            credentials: false,
        },
        ..EngineConfig::default()
    }
}

pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) engine: Engine<Echo>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub(crate) async fn start(config: EngineConfig) -> TestServer {
    start_with(config, Echo::default()).await
}

pub(crate) async fn start_with(config: EngineConfig, handler: Echo) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let engine = Engine::new(config, handler);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = EngineService::new(engine.clone());
    tokio::spawn(async move {
        sio_engineio::serve(listener, service, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    TestServer {
        addr,
        engine,
        _stop: stop,
    }
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// A response header as text, if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    async fn of(response: Response<Full<Bytes>>) -> Reply {
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }
}

impl TestServer {
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// One request on a fresh connection, so concurrent requests never share one.
    pub(crate) async fn request(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        self.request_on(stream, method, path_and_query, headers, body)
            .await
    }

    /// One request on a connection the caller opened (to know its local address, say).
    pub(crate) async fn request_on(
        &self,
        stream: TcpStream,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("host", self.addr.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = sender
            .send_request(req.body(Full::new(body.into())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, path_and_query: &str) -> Reply {
        self.request("GET", path_and_query, &[], Bytes::new()).await
    }

    pub(crate) async fn post(&self, path_and_query: &str, body: impl Into<Bytes>) -> Reply {
        self.request("POST", path_and_query, &[], body).await
    }

    /// Opens a v4 polling session and returns its sid and the handshake JSON.
    pub(crate) async fn open_polling(&self, eio: &str) -> (String, serde_json::Value) {
        let reply = self
            .get(&format!("/engine.io/?EIO={eio}&transport=polling"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "handshake: {}", reply.text());
        let text = reply.text();
        let json_start = text.find('{').unwrap();
        let json: serde_json::Value = serde_json::from_str(&text[json_start..]).unwrap();
        (json["sid"].as_str().unwrap().to_owned(), json)
    }

    /// One request handed straight to `Engine::handle`, without HTTP (no `RemoteAddr`).
    pub(crate) async fn handle(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let response = self
            .engine
            .handle(in_process_request(method, path_and_query, headers, body))
            .await;
        Reply::of(response).await
    }

    /// Starts a request in process and polls it once: when this returns, the engine has
    /// taken the request in (a GET is the session's pending poll) and has not answered it.
    /// This orders a pending poll before what the test does next without any sleep.
    pub(crate) async fn start_request(
        &self,
        method: &str,
        path_and_query: &str,
        body: impl Into<Bytes>,
    ) -> InFlight {
        let engine = self.engine.clone();
        let req = in_process_request(method, path_and_query, &[], body);
        let mut future: Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>> =
            Box::pin(async move { engine.handle(req).await });
        let first = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await;
        assert!(
            first.is_pending(),
            "{method} {path_and_query} was answered at once"
        );
        InFlight(future)
    }

    /// Starts the session's next poll (see [`TestServer::start_request`]).
    pub(crate) async fn start_poll(&self, path_and_query: &str) -> InFlight {
        self.start_request("GET", path_and_query, Bytes::new())
            .await
    }

    /// Opens a WebSocket that the server must refuse; returns the HTTP status it answered.
    pub(crate) async fn ws_refused(&self, path_and_query: &str) -> StatusCode {
        match tokio_tungstenite::connect_async(format!("ws://{}{}", self.addr, path_and_query))
            .await
        {
            Err(WsError::Http(response)) => response.status(),
            Err(other) => panic!("expected an HTTP refusal, got {other}"),
            Ok(_) => panic!("the WebSocket {path_and_query} was accepted"),
        }
    }

    /// Opens a v4 WebSocket session (`extra` is appended to the query) and reads its open
    /// packet: the WebSocket and the sid.
    pub(crate) async fn open_ws(&self, extra: &str) -> (Ws, String) {
        let mut ws = self
            .ws(&format!("/engine.io/?EIO=4&transport=websocket{extra}"))
            .await;
        let open = ws.next_text().await;
        let sid = sid_of_open(&open);
        (ws, sid)
    }

    pub(crate) async fn ws(&self, path_and_query: &str) -> Ws {
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{}{}", self.addr, path_and_query))
                .await
                .unwrap();
        Ws(ws)
    }
}

pub(crate) struct Ws(pub(crate) WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    pub(crate) async fn send_text(&mut self, text: &str) {
        self.0.send(WsMessage::Text(text.into())).await.unwrap();
    }

    pub(crate) async fn send_binary(&mut self, data: &[u8]) {
        self.0
            .send(WsMessage::Binary(Bytes::copy_from_slice(data)))
            .await
            .unwrap();
    }

    /// The next data frame within 3 s; `None` when the server closed the connection.
    pub(crate) async fn next(&mut self) -> Option<WsMessage> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(3), self.0.next())
                .await
                .expect("no frame within 3 s");
            match frame {
                Some(Ok(WsMessage::Text(t))) => return Some(WsMessage::Text(t)),
                Some(Ok(WsMessage::Binary(b))) => return Some(WsMessage::Binary(b)),
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    pub(crate) async fn next_binary(&mut self) -> Vec<u8> {
        match self.next().await {
            Some(WsMessage::Binary(b)) => b.to_vec(),
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    /// Waits for the server to close the connection; a data frame instead is a failure.
    pub(crate) async fn expect_closed(&mut self) {
        if let Some(frame) = self.next().await {
            panic!("expected the server to close the WebSocket, got {frame:?}");
        }
    }

    pub(crate) async fn next_text(&mut self) -> String {
        match self.next().await {
            Some(WsMessage::Text(t)) => t.as_str().to_owned(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Polls `condition` until it holds or `within` passes.
pub(crate) async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    condition()
}

/// A request for `Engine::handle`.
pub(crate) fn in_process_request(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    let mut req = Request::builder().method(method).uri(path_and_query);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Full::new(body.into())).unwrap()
}

/// A request the engine holds (a pending poll); [`InFlight::reply`] waits for its answer.
pub(crate) struct InFlight(Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>);

impl InFlight {
    /// The answer, within 3 s.
    pub(crate) async fn reply(self) -> Reply {
        let response = tokio::time::timeout(Duration::from_secs(3), self.0)
            .await
            .expect("the pending request was not answered within 3 s");
        Reply::of(response).await
    }
}

/// Long heartbeat periods, so that no ping interleaves with what a test looks at.
pub(crate) fn calm_config() -> EngineConfig {
    EngineConfig::default()
}

/// A server whose handler reports every event.
pub(crate) async fn start_recording(config: EngineConfig) -> (TestServer, Events) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = start_with(
        config,
        Echo {
            events: Some(tx),
            ..Echo::default()
        },
    )
    .await;
    (server, Events(rx))
}

/// The handler's events, in order.
pub(crate) struct Events(pub(crate) mpsc::UnboundedReceiver<Event>);

impl Events {
    /// The next event, within 5 s.
    pub(crate) async fn next(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(5), self.0.recv())
            .await
            .expect("no handler event within 5 s")
            .expect("the handler is gone")
    }

    /// Waits for session `sid` to close and returns the reason the handler was given.
    pub(crate) async fn close_of(&mut self, sid: &str) -> CloseReason {
        loop {
            if let Event::Close(id, reason) = self.next().await
                && id == sid
            {
                return reason;
            }
        }
    }

    /// Waits for the next message of session `sid`: its bytes and whether it was binary.
    pub(crate) async fn message_of(&mut self, sid: &str) -> (Vec<u8>, bool) {
        loop {
            match self.next().await {
                Event::Message(id, bytes, binary) if id == sid => return (bytes, binary),
                Event::Close(id, reason) if id == sid => {
                    panic!("session closed ({reason}) while a message was expected")
                }
                _ => {}
            }
        }
    }

    /// Whatever the handler reported so far, without waiting.
    pub(crate) fn drain(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Ok(event) = self.0.try_recv() {
            out.push(event);
        }
        out
    }
}

/// The sid of a v4 open packet `0{…}`.
pub(crate) fn sid_of_open(packet: &str) -> String {
    let json = packet.strip_prefix('0').expect("not an open packet");
    serde_json::from_str::<serde_json::Value>(json).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}
