//! `HubConnectionBuilder` and `HubConnection`: negotiate, transport fallback, handshake, the
//! connection task (messages, keep-alive, server timeout) and automatic reconnect.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use rustls::ClientConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sio_signalr_proto::handshake::{
    HandshakeError, HandshakeResponse, decode_handshake_response, encode_handshake_request,
};
use sio_signalr_proto::negotiate::{
    NegotiateResponse, Negotiation, TransportKind, connect_url, decode_negotiate_response,
    negotiate_url, transport_order,
};
use sio_signalr_proto::{
    Completion, DEFAULT_MAX_MESSAGE_LEN, Headers, HubMessage, HubProtocol, Invocation, Outcome,
    Value,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::arguments::{Arguments, to_arguments};
use crate::error::{BoxError, HubError};
use crate::http::{Http, default_tls};
use crate::retry::{DefaultRetryPolicy, RetryContext, RetryPolicy};
use crate::transport::{Connect, Transport, TransportEvent};

/// How long the server has to answer the handshake (the official client's 15 s).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// The official client follows at most 100 negotiate redirects.
const MAX_REDIRECTS: usize = 100;

/// The state of a [`HubConnection`] (the official `HubConnectionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubConnectionState {
    Disconnected,
    Connecting,
    Connected,
    Disconnecting,
    Reconnecting,
}

type TokenFuture = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;
type TokenFactory = Arc<dyn Fn() -> TokenFuture + Send + Sync>;
type Handler = Arc<dyn Fn(&Arguments) + Send + Sync>;
type CloseHandler = Arc<dyn Fn(Option<&HubError>) + Send + Sync>;
type ReconnectedHandler = Arc<dyn Fn(Option<&str>) + Send + Sync>;

#[derive(Clone)]
enum AccessToken {
    Static(String),
    Factory(TokenFactory),
}

/// What a [`HubConnection`] reports through [`HubConnection::events`].
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// The server invoked `target` on the client.
    Invocation {
        target: String,
        arguments: Arguments,
    },
    /// The connection was lost and automatic reconnect started.
    Reconnecting { error: Option<Arc<HubError>> },
    /// Automatic reconnect succeeded, with the new connection id.
    Reconnected { connection_id: Option<String> },
    /// The connection closed for good (after `stop`, a server close, or failed reconnects).
    Closed { error: Option<Arc<HubError>> },
}

#[derive(Clone)]
struct Config {
    url: String,
    protocol: HubProtocol,
    transports: Vec<TransportKind>,
    skip_negotiation: bool,
    token: Option<AccessToken>,
    retry: Option<Arc<dyn RetryPolicy>>,
    keep_alive_interval: Duration,
    server_timeout: Duration,
    max_message_len: usize,
    tls: Arc<ClientConfig>,
    http: Http,
}

/// Builds a [`HubConnection`] (the official `HubConnectionBuilder`).
pub struct HubConnectionBuilder {
    url: Option<String>,
    protocol: HubProtocol,
    transports: Vec<TransportKind>,
    skip_negotiation: bool,
    headers: Vec<(String, String)>,
    token: Option<AccessToken>,
    retry: Option<Arc<dyn RetryPolicy>>,
    keep_alive_interval: Duration,
    server_timeout: Duration,
    max_message_len: usize,
    tls: Option<Arc<ClientConfig>>,
}

impl std::fmt::Debug for HubConnectionBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConnectionBuilder")
            .field("url", &self.url)
            .field("protocol", &self.protocol)
            .field("transports", &self.transports)
            .finish_non_exhaustive()
    }
}

impl Default for HubConnectionBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HubConnectionBuilder {
    pub fn new() -> Self {
        Self {
            url: None,
            protocol: HubProtocol::Json,
            transports: vec![
                TransportKind::WebSockets,
                TransportKind::ServerSentEvents,
                TransportKind::LongPolling,
            ],
            skip_negotiation: false,
            headers: Vec::new(),
            token: None,
            retry: None,
            keep_alive_interval: Duration::from_secs(15),
            server_timeout: Duration::from_secs(30),
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            tls: None,
        }
    }

    /// The hub URL (`http(s)://host/hubs/chat`; its query goes on every request).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The transports the client may use, tried in the server's order (default: all three).
    pub fn with_transports(mut self, transports: &[TransportKind]) -> Self {
        self.transports = transports.to_vec();
        self
    }

    /// Connects a WebSocket straight to the URL, without negotiate (WebSockets only).
    pub fn with_skip_negotiation(mut self, skip: bool) -> Self {
        self.skip_negotiation = skip;
        self
    }

    /// A header on every HTTP request and on the WebSocket upgrade.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A fixed access token, sent as `Authorization: Bearer` (as `access_token` in the query on
    /// Server-Sent Events).
    pub fn with_access_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(AccessToken::Static(token.into()));
        self
    }

    /// An access token fetched anew before each connection attempt.
    pub fn with_access_token_factory<F, Fut>(mut self, factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
    {
        self.token = Some(AccessToken::Factory(Arc::new(move || Box::pin(factory()))));
        self
    }

    /// JSON (default) or MessagePack.
    pub fn with_hub_protocol(mut self, protocol: HubProtocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Reconnects after 0, 2, 10 and 30 seconds, then gives up.
    pub fn with_automatic_reconnect(self) -> Self {
        self.with_retry_policy(DefaultRetryPolicy::new())
    }

    /// Reconnects after each of `delays`, then gives up.
    pub fn with_automatic_reconnect_delays(self, delays: Vec<Duration>) -> Self {
        self.with_retry_policy(DefaultRetryPolicy::with_delays(delays))
    }

    /// Reconnects as `policy` says.
    pub fn with_retry_policy(mut self, policy: impl RetryPolicy + 'static) -> Self {
        self.retry = Some(Arc::new(policy));
        self
    }

    /// A Ping is sent after this long without sending anything (default 15 s).
    pub fn with_keep_alive_interval(mut self, interval: Duration) -> Self {
        self.keep_alive_interval = interval;
        self
    }

    /// The connection is taken as lost after this long without a message (default 30 s).
    pub fn with_server_timeout(mut self, timeout: Duration) -> Self {
        self.server_timeout = timeout;
        self
    }

    /// The longest message accepted (default 16 MiB).
    pub fn with_max_message_len(mut self, len: usize) -> Self {
        self.max_message_len = len;
        self
    }

    /// TLS settings for `https`/`wss` (default: the webpki root certificates).
    pub fn with_tls_config(mut self, tls: Arc<ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    pub fn build(self) -> Result<HubConnection, HubError> {
        let url = self.url.ok_or_else(|| HubError::InvalidUrl {
            url: String::new(),
            reason: "with_url was not called".into(),
        })?;
        if sio_signalr_proto::negotiate::websocket_url(&url).is_none() {
            return Err(HubError::InvalidUrl {
                url,
                reason: "not an http(s) or ws(s) URL".into(),
            });
        }
        // Negotiate and the HTTP transports need http(s): a ws(s) URL means the same host.
        let url = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => format!("http://{rest}"),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("wss") => format!("https://{rest}"),
            _ => url,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let bad = |reason: String| HubError::InvalidUrl {
                url: url.clone(),
                reason,
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| bad(format!("header {name}: {e}")))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| bad(format!("header {name}: {e}")))?;
            headers.append(name, value);
        }
        let tls = match self.tls {
            Some(tls) => tls,
            None => default_tls()?,
        };
        let config = Config {
            url,
            protocol: self.protocol,
            transports: self.transports,
            skip_negotiation: self.skip_negotiation,
            token: self.token,
            retry: self.retry,
            keep_alive_interval: self.keep_alive_interval,
            server_timeout: self.server_timeout,
            max_message_len: self.max_message_len,
            http: Http::new(tls.clone(), headers),
            tls,
        };
        let (state_tx, _) = watch::channel(HubConnectionState::Disconnected);
        Ok(HubConnection {
            shared: Arc::new(Shared {
                config,
                status: Mutex::new(Status {
                    connection_id: None,
                    transport: None,
                    commands: None,
                }),
                state: state_tx,
                pending: Mutex::new(HashMap::new()),
                handlers: Mutex::new(HashMap::new()),
                callbacks: Mutex::new(Callbacks::default()),
                subscribers: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(0),
            }),
        })
    }
}

enum Pending {
    Invoke(oneshot::Sender<Result<Option<Value>, HubError>>),
    Stream(mpsc::UnboundedSender<Result<Value, HubError>>),
}

enum Command {
    Send {
        message: HubMessage,
        done: Option<oneshot::Sender<Result<(), HubError>>>,
    },
    Stop,
}

#[derive(Default)]
struct Callbacks {
    close: Vec<CloseHandler>,
    reconnecting: Vec<CloseHandler>,
    reconnected: Vec<ReconnectedHandler>,
}

struct Status {
    connection_id: Option<String>,
    transport: Option<TransportKind>,
    commands: Option<mpsc::UnboundedSender<Command>>,
}

struct Shared {
    config: Config,
    status: Mutex<Status>,
    state: watch::Sender<HubConnectionState>,
    pending: Mutex<HashMap<String, Pending>>,
    handlers: Mutex<HashMap<String, Vec<Handler>>>,
    callbacks: Mutex<Callbacks>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<HubEvent>>>,
    next_id: AtomicU64,
}

/// A poisoned lock only means a handler panicked; the data is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A connection to a hub (the official `HubConnection`). Clones share the connection.
#[derive(Clone)]
pub struct HubConnection {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HubConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConnection")
            .field("url", &self.shared.config.url)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl HubConnection {
    /// A builder.
    pub fn builder() -> HubConnectionBuilder {
        HubConnectionBuilder::new()
    }

    pub fn state(&self) -> HubConnectionState {
        *self.shared.state.borrow()
    }

    /// The server's id for the connection (`None` before negotiate, or with skip-negotiation).
    pub fn connection_id(&self) -> Option<String> {
        lock(&self.shared.status).connection_id.clone()
    }

    /// The transport in use while connected.
    pub fn transport(&self) -> Option<TransportKind> {
        lock(&self.shared.status).transport
    }

    /// Calls `handler` for each invocation of `target` by the server (case-insensitive, as the
    /// official client matches method names).
    pub fn on<F>(&self, target: &str, handler: F)
    where
        F: Fn(&Arguments) + Send + Sync + 'static,
    {
        lock(&self.shared.handlers)
            .entry(target.to_lowercase())
            .or_default()
            .push(Arc::new(handler));
    }

    /// Removes the handlers of `target`.
    pub fn off(&self, target: &str) {
        lock(&self.shared.handlers).remove(&target.to_lowercase());
    }

    /// Called when the connection closes for good, with the error that closed it.
    pub fn on_close<F: Fn(Option<&HubError>) + Send + Sync + 'static>(&self, handler: F) {
        lock(&self.shared.callbacks).close.push(Arc::new(handler));
    }

    /// Called when the connection is lost and automatic reconnect starts.
    pub fn on_reconnecting<F: Fn(Option<&HubError>) + Send + Sync + 'static>(&self, handler: F) {
        lock(&self.shared.callbacks)
            .reconnecting
            .push(Arc::new(handler));
    }

    /// Called when automatic reconnect succeeds, with the new connection id.
    pub fn on_reconnected<F: Fn(Option<&str>) + Send + Sync + 'static>(&self, handler: F) {
        lock(&self.shared.callbacks)
            .reconnected
            .push(Arc::new(handler));
    }

    /// Every invocation by the server and every change of connection, as a stream (the
    /// catch-all next to [`HubConnection::on`]).
    pub fn events(&self) -> HubEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.subscribers).push(tx);
        HubEvents { rx }
    }

    /// Negotiates, opens a transport and performs the handshake. A failed start is not retried
    /// (as in the official client); automatic reconnect covers connections lost later.
    pub async fn start(&self) -> Result<(), HubError> {
        let shared = &self.shared;
        let started = shared.state.send_if_modified(|state| {
            if *state == HubConnectionState::Disconnected {
                *state = HubConnectionState::Connecting;
                true
            } else {
                false
            }
        });
        if !started {
            return Err(HubError::AlreadyStarted);
        }
        match open(&shared.config).await {
            Ok(opened) => {
                let (tx, rx) = mpsc::unbounded_channel();
                {
                    let mut status = lock(&shared.status);
                    status.connection_id = opened.connection_id.clone();
                    status.transport = Some(opened.transport.kind);
                    status.commands = Some(tx);
                }
                shared.state.send_replace(HubConnectionState::Connected);
                tokio::spawn(drive(shared.clone(), opened, rx));
                Ok(())
            }
            Err(e) => {
                shared.state.send_replace(HubConnectionState::Disconnected);
                Err(e)
            }
        }
    }

    /// Closes the connection and waits until it is disconnected.
    pub async fn stop(&self) {
        let commands = lock(&self.shared.status).commands.clone();
        let Some(commands) = commands else { return };
        let mut state = self.shared.state.subscribe();
        self.shared.state.send_if_modified(|s| {
            if *s == HubConnectionState::Connected {
                *s = HubConnectionState::Disconnecting;
                true
            } else {
                false
            }
        });
        if commands.send(Command::Stop).is_ok() {
            let _ = state
                .wait_for(|s| *s == HubConnectionState::Disconnected)
                .await;
        }
    }

    async fn send_message(&self, message: HubMessage) -> Result<(), HubError> {
        if self.state() != HubConnectionState::Connected {
            return Err(HubError::NotConnected);
        }
        let commands = lock(&self.shared.status).commands.clone();
        let commands = commands.ok_or(HubError::NotConnected)?;
        let (done, written) = oneshot::channel();
        commands
            .send(Command::Send {
                message,
                done: Some(done),
            })
            .map_err(|_| HubError::NotConnected)?;
        written.await.map_err(|_| HubError::ConnectionStopped)?
    }

    fn next_invocation_id(&self) -> String {
        self.shared
            .next_id
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }

    fn arguments<A: Serialize + ?Sized>(&self, args: &A) -> Result<Vec<Value>, HubError> {
        to_arguments(self.shared.config.protocol, args)
    }

    /// Invokes `target` without waiting for it (no reply). `args`: a tuple or array gives one
    /// argument per element, `()` none, any other value one argument.
    pub async fn send<A: Serialize + ?Sized>(
        &self,
        target: &str,
        args: &A,
    ) -> Result<(), HubError> {
        let arguments = self.arguments(args)?;
        self.send_message(HubMessage::Invocation(Invocation {
            target: target.to_owned(),
            arguments,
            ..Invocation::default()
        }))
        .await
    }

    /// Invokes `target` and waits for its Completion: the result as `R` (`()` or an `Option`
    /// for a void method), or the hub's error as [`HubError::Hub`].
    pub async fn invoke<R: DeserializeOwned, A: Serialize + ?Sized>(
        &self,
        target: &str,
        args: &A,
    ) -> Result<R, HubError> {
        let result = self.invoke_value(target, args).await?;
        Ok(result.unwrap_or_else(Value::json_null).deserialize()?)
    }

    /// [`HubConnection::invoke`] returning the result as it arrived (`None`: a void method).
    pub async fn invoke_value<A: Serialize + ?Sized>(
        &self,
        target: &str,
        args: &A,
    ) -> Result<Option<Value>, HubError> {
        let arguments = self.arguments(args)?;
        let id = self.next_invocation_id();
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id.clone(), Pending::Invoke(tx));
        let sent = self
            .send_message(HubMessage::Invocation(Invocation {
                invocation_id: Some(id.clone()),
                target: target.to_owned(),
                arguments,
                ..Invocation::default()
            }))
            .await;
        if let Err(e) = sent {
            lock(&self.shared.pending).remove(&id);
            return Err(e);
        }
        rx.await.map_err(|_| HubError::ConnectionStopped)?
    }

    /// Invokes `target` with a client-to-server stream (the hub method's stream parameter) and
    /// waits for its Completion. The items are sent as they come; the stream's end is sent as a
    /// Completion of the stream, after which the hub method may return.
    pub async fn invoke_with_stream<R, A, S>(
        &self,
        target: &str,
        args: &A,
        upload: S,
    ) -> Result<R, HubError>
    where
        R: DeserializeOwned,
        A: Serialize + ?Sized,
        S: Stream + Send + 'static,
        S::Item: Serialize + Send,
    {
        let arguments = self.arguments(args)?;
        let id = self.next_invocation_id();
        let stream_id = self.next_invocation_id();
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id.clone(), Pending::Invoke(tx));
        let sent = self
            .send_message(HubMessage::Invocation(Invocation {
                invocation_id: Some(id.clone()),
                target: target.to_owned(),
                arguments,
                stream_ids: vec![stream_id.clone()],
                ..Invocation::default()
            }))
            .await;
        if let Err(e) = sent {
            lock(&self.shared.pending).remove(&id);
            return Err(e);
        }
        tokio::spawn(self.clone().pump(stream_id, upload));
        let result = rx.await.map_err(|_| HubError::ConnectionStopped)??;
        Ok(result.unwrap_or_else(Value::json_null).deserialize()?)
    }

    /// Like [`HubConnection::invoke_with_stream`], without waiting for a reply.
    pub async fn send_with_stream<A, S>(
        &self,
        target: &str,
        args: &A,
        upload: S,
    ) -> Result<(), HubError>
    where
        A: Serialize + ?Sized,
        S: Stream + Send + 'static,
        S::Item: Serialize + Send,
    {
        let arguments = self.arguments(args)?;
        let stream_id = self.next_invocation_id();
        self.send_message(HubMessage::Invocation(Invocation {
            target: target.to_owned(),
            arguments,
            stream_ids: vec![stream_id.clone()],
            ..Invocation::default()
        }))
        .await?;
        tokio::spawn(self.clone().pump(stream_id, upload));
        Ok(())
    }

    /// Sends the items of `upload` as StreamItems of `stream_id`, then its Completion (with an
    /// error if an item cannot be serialized).
    async fn pump<S>(self, stream_id: String, upload: S)
    where
        S: Stream + Send + 'static,
        S::Item: Serialize + Send,
    {
        let mut upload = std::pin::pin!(upload);
        let protocol = self.shared.config.protocol;
        let mut outcome = Outcome::Void;
        while let Some(item) = std::future::poll_fn(|cx| upload.as_mut().poll_next(cx)).await {
            let item = match protocol.value(&item) {
                Ok(item) => item,
                Err(e) => {
                    outcome = Outcome::Error(e.to_string());
                    break;
                }
            };
            let message = HubMessage::StreamItem(sio_signalr_proto::StreamItem {
                headers: Headers::new(),
                invocation_id: stream_id.clone(),
                item,
            });
            if self.send_message(message).await.is_err() {
                return;
            }
        }
        let _ = self
            .send_message(HubMessage::Completion(Completion {
                headers: Headers::new(),
                invocation_id: Some(stream_id),
                outcome,
            }))
            .await;
    }

    /// Starts the server-to-client stream `target`: its items as `T`, ending with the stream's
    /// Completion. Dropping the stream cancels it on the server.
    pub async fn stream<T: DeserializeOwned, A: Serialize + ?Sized>(
        &self,
        target: &str,
        args: &A,
    ) -> Result<HubStream<T>, HubError> {
        let arguments = self.arguments(args)?;
        let id = self.next_invocation_id();
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.pending).insert(id.clone(), Pending::Stream(tx));
        let sent = self
            .send_message(HubMessage::StreamInvocation(Invocation {
                invocation_id: Some(id.clone()),
                target: target.to_owned(),
                arguments,
                ..Invocation::default()
            }))
            .await;
        if let Err(e) = sent {
            lock(&self.shared.pending).remove(&id);
            return Err(e);
        }
        Ok(HubStream {
            rx,
            id,
            connection: Arc::downgrade(&self.shared),
            finished: false,
            convert: |v: Value| v.deserialize::<T>().map_err(HubError::from),
        })
    }
}

/// The items of a server-to-client stream.
pub struct HubStream<T> {
    rx: mpsc::UnboundedReceiver<Result<Value, HubError>>,
    id: String,
    connection: std::sync::Weak<Shared>,
    finished: bool,
    convert: fn(Value) -> Result<T, HubError>,
}

impl<T> std::fmt::Debug for HubStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubStream")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<T> HubStream<T> {
    /// The next item; `None` when the stream completed.
    pub async fn next(&mut self) -> Option<Result<T, HubError>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, HubError>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(item.and_then(self.convert))),
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Stream for HubStream<T> {
    type Item = Result<T, HubError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // `HubStream` holds no self-references: it is `Unpin` whatever `T` is.
        let this = Pin::into_inner(self);
        this.poll_item(cx)
    }
}

impl<T> Unpin for HubStream<T> {}

impl<T> Drop for HubStream<T> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let Some(shared) = self.connection.upgrade() else {
            return;
        };
        if lock(&shared.pending).remove(&self.id).is_none() {
            return;
        }
        if let Some(commands) = lock(&shared.status).commands.clone() {
            let _ = commands.send(Command::Send {
                message: HubMessage::CancelInvocation {
                    headers: Headers::new(),
                    invocation_id: self.id.clone(),
                },
                done: None,
            });
        }
    }
}

/// The stream of [`HubEvent`]s of a connection.
#[derive(Debug)]
pub struct HubEvents {
    rx: mpsc::UnboundedReceiver<HubEvent>,
}

impl HubEvents {
    pub async fn next(&mut self) -> Option<HubEvent> {
        self.rx.recv().await
    }
}

impl Stream for HubEvents {
    type Item = HubEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<HubEvent>> {
        self.rx.poll_recv(cx)
    }
}

// ---- opening a connection ----

struct Opened {
    transport: Transport,
    connection_id: Option<String>,
    /// Bytes after the handshake answer in its frame: the first hub messages.
    leftover: Bytes,
}

async fn token(config: &Config) -> Result<Option<String>, HubError> {
    match &config.token {
        None => Ok(None),
        Some(AccessToken::Static(t)) => Ok(Some(t.clone())),
        Some(AccessToken::Factory(f)) => f().await.map(Some).map_err(HubError::AccessToken),
    }
}

/// Negotiates, following redirects; returns the URL the connection lives at and its token.
async fn negotiate(
    config: &Config,
    mut url: String,
    mut access_token: Option<String>,
) -> Result<(Negotiation, String, Option<String>), HubError> {
    for _ in 0..=MAX_REDIRECTS {
        let (negotiate, _) = negotiate_url(&url, false);
        let (status, body) = config
            .http
            .fetch(
                Method::POST,
                &negotiate,
                access_token.as_deref(),
                &[],
                Bytes::new(),
            )
            .await?;
        if status != StatusCode::OK {
            return Err(HubError::Status {
                url: negotiate,
                status: status.as_u16(),
            });
        }
        match decode_negotiate_response(&body)? {
            NegotiateResponse::Connect(n) => return Ok((n, url, access_token)),
            NegotiateResponse::Redirect {
                url: to,
                access_token: t,
            } => {
                tracing::debug!(from = %url, to = %to, "negotiate redirect");
                url = to;
                if t.is_some() {
                    access_token = t;
                }
            }
            NegotiateResponse::Error(e) => return Err(HubError::Refused(e)),
            NegotiateResponse::Classic { .. } => return Err(HubError::ClassicServer(url)),
        }
    }
    Err(HubError::TooManyRedirects)
}

async fn open(config: &Config) -> Result<Opened, HubError> {
    let access_token = token(config).await?;
    let format = config.protocol.transfer_format();
    let connect = |url: &str, token: Option<&str>, kind: TransportKind| {
        let c = Connect {
            http: &config.http,
            tls: &config.tls,
            url: url.to_owned(),
            token: token.map(str::to_owned),
            format,
            max_message_len: config.max_message_len,
        };
        Transport::connect(kind, c)
    };
    let (transport, connection_id, url) = if config.skip_negotiation {
        if !config.transports.contains(&TransportKind::WebSockets) {
            return Err(HubError::NoTransport(Vec::new()));
        }
        let transport = connect(
            &config.url,
            access_token.as_deref(),
            TransportKind::WebSockets,
        )
        .await
        .map_err(|e| HubError::NoTransport(vec![(TransportKind::WebSockets, e.to_string())]))?;
        (transport, None, config.url.clone())
    } else {
        let mut failures = Vec::new();
        let mut negotiated = Some(negotiate(config, config.url.clone(), access_token).await?);
        let order = match &negotiated {
            Some((n, _, _)) => transport_order(&n.available_transports, &config.transports, format),
            None => Vec::new(),
        };
        let mut opened = None;
        for kind in order {
            // After a failed transport the official client negotiates again: the failed attempt
            // may have used up the connection.
            let (n, url, token) = match negotiated.take() {
                Some(n) => n,
                None => negotiate(config, config.url.clone(), self::token(config).await?).await?,
            };
            let target = connect_url(&url, n.url_id());
            match connect(&target, token.as_deref(), kind).await {
                Ok(transport) => {
                    opened = Some((transport, n.connection_id, target));
                    break;
                }
                Err(e) => {
                    tracing::debug!(transport = kind.name(), error = %e, "transport failed");
                    failures.push((kind, e.to_string()));
                }
            }
        }
        opened.ok_or(HubError::NoTransport(failures))?
    };
    tracing::debug!(url = %url, transport = transport.kind.name(), "transport open");
    handshake(config, transport, connection_id).await
}

async fn handshake(
    config: &Config,
    mut transport: Transport,
    connection_id: Option<String>,
) -> Result<Opened, HubError> {
    let protocol = config.protocol;
    let mut request = Vec::new();
    encode_handshake_request(protocol.name(), protocol.version(false), &mut request);
    transport.send(request).await?;
    let mut buffer: Vec<u8> = Vec::new();
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    loop {
        let event = tokio::time::timeout_at(deadline, transport.events.recv())
            .await
            .map_err(|_| HubError::Handshake("no answer within 15 s".into()))?;
        match event {
            Some(TransportEvent::Frame(frame)) => buffer.extend_from_slice(&frame),
            Some(TransportEvent::Closed(reason)) => {
                return Err(HubError::Handshake(format!(
                    "the transport closed before the answer{}",
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                )));
            }
            None => {
                return Err(HubError::Handshake(
                    "the transport ended before the answer".into(),
                ));
            }
        }
        match decode_handshake_response(&buffer, config.max_message_len) {
            Err(HandshakeError::Incomplete { .. }) => continue,
            Err(e) => return Err(HubError::Handshake(e.to_string())),
            Ok((HandshakeResponse::Refused(e), _)) => {
                return Err(HubError::Handshake(format!("refused: {e}")));
            }
            Ok((HandshakeResponse::Accepted, used)) => {
                let leftover = Bytes::from(buffer).slice(used..);
                let mut opened = Opened {
                    transport,
                    connection_id,
                    leftover,
                };
                if !opened.transport.inherent_keep_alive() {
                    // As the official client: a Ping right away tells the server the client is
                    // alive and starts its keep-alive bookkeeping.
                    let mut ping = Vec::new();
                    protocol.encode(&HubMessage::Ping, &mut ping)?;
                    opened.transport.send(ping).await?;
                }
                return Ok(opened);
            }
        }
    }
}

// ---- the connection task ----

struct Ended {
    error: Option<HubError>,
    by_user: bool,
    reconnect_allowed: bool,
}

impl Ended {
    fn lost(error: HubError) -> Self {
        Self {
            error: Some(error),
            by_user: false,
            reconnect_allowed: true,
        }
    }
}

impl Shared {
    fn emit(&self, event: &HubEvent) {
        lock(&self.subscribers).retain(|tx| tx.send(event.clone()).is_ok());
    }

    fn fail_pending(&self, error: &HubError) {
        let pending: Vec<Pending> = lock(&self.pending).drain().map(|(_, p)| p).collect();
        for p in pending {
            let e = HubError::TransportClosed(error.to_string());
            match p {
                Pending::Invoke(tx) => {
                    let _ = tx.send(Err(e));
                }
                Pending::Stream(tx) => {
                    let _ = tx.send(Err(e));
                }
            }
        }
    }

    fn finish(&self, error: Option<HubError>) {
        {
            let mut status = lock(&self.status);
            status.connection_id = None;
            status.transport = None;
            status.commands = None;
        }
        self.state.send_replace(HubConnectionState::Disconnected);
        let handlers = lock(&self.callbacks).close.clone();
        for h in handlers {
            h(error.as_ref());
        }
        self.emit(&HubEvent::Closed {
            error: error.map(Arc::new),
        });
    }
}

async fn drive(
    shared: Arc<Shared>,
    opened: Opened,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut opened = opened;
    loop {
        let leftover = std::mem::take(&mut opened.leftover);
        let ended = run(&shared, &mut opened.transport, leftover, &mut commands).await;
        opened.transport.stop().await;
        let lost = ended.error.as_ref().map_or_else(
            || HubError::ConnectionStopped,
            |e| HubError::TransportClosed(e.to_string()),
        );
        shared.fail_pending(&lost);
        let policy = shared.config.retry.clone();
        let Some(policy) = policy.filter(|_| !ended.by_user && ended.reconnect_allowed) else {
            shared.finish(ended.error);
            return;
        };
        shared.state.send_replace(HubConnectionState::Reconnecting);
        {
            let mut status = lock(&shared.status);
            status.connection_id = None;
            status.transport = None;
        }
        let reconnecting = lock(&shared.callbacks).reconnecting.clone();
        for h in reconnecting {
            h(ended.error.as_ref());
        }
        let mut reason = ended.error;
        shared.emit(&HubEvent::Reconnecting {
            error: reason
                .as_ref()
                .map(|e| Arc::new(HubError::TransportClosed(e.to_string()))),
        });
        let lost_at = Instant::now();
        let mut attempts = 0u32;
        let reopened = loop {
            let context = RetryContext {
                previous_retry_count: attempts,
                elapsed_time: lost_at.elapsed(),
                retry_reason: reason.as_ref(),
            };
            let Some(delay) = policy.next_retry_delay(&context) else {
                break None;
            };
            tracing::debug!(attempt = attempts + 1, ?delay, "reconnecting");
            if until_stopped(tokio::time::sleep(delay), &mut commands)
                .await
                .is_none()
            {
                shared.finish(None);
                return;
            }
            match until_stopped(open(&shared.config), &mut commands).await {
                None => {
                    shared.finish(None);
                    return;
                }
                Some(Ok(o)) => break Some(o),
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "reconnect attempt failed");
                    reason = Some(e);
                    attempts += 1;
                }
            }
        };
        let Some(reopened) = reopened else {
            shared.finish(reason);
            return;
        };
        opened = reopened;
        {
            let mut status = lock(&shared.status);
            status.connection_id = opened.connection_id.clone();
            status.transport = Some(opened.transport.kind);
        }
        shared.state.send_replace(HubConnectionState::Connected);
        let id = opened.connection_id.clone();
        let reconnected = lock(&shared.callbacks).reconnected.clone();
        for h in reconnected {
            h(id.as_deref());
        }
        shared.emit(&HubEvent::Reconnected { connection_id: id });
    }
}

/// Runs `fut`, refusing sends meanwhile; `None` when `stop` was called.
async fn until_stopped<F: Future>(
    fut: F,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Option<F::Output> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            command = commands.recv() => match command {
                None | Some(Command::Stop) => return None,
                Some(Command::Send { done, .. }) => {
                    if let Some(done) = done {
                        let _ = done.send(Err(HubError::NotConnected));
                    }
                }
            },
        }
    }
}

async fn write(
    shared: &Shared,
    transport: &mut Transport,
    message: &HubMessage,
) -> Result<(), HubError> {
    let mut frame = Vec::new();
    shared.config.protocol.encode(message, &mut frame)?;
    transport.send(frame).await
}

async fn run(
    shared: &Shared,
    transport: &mut Transport,
    leftover: Bytes,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Ended {
    let config = &shared.config;
    let watched = !transport.inherent_keep_alive();
    let mut last_sent = Instant::now();
    let mut last_received = Instant::now();
    if !leftover.is_empty()
        && let Some(ended) = handle_frame(shared, transport, &leftover).await
    {
        return ended;
    }
    loop {
        let ping_at = last_sent + config.keep_alive_interval;
        let timeout_at = last_received + config.server_timeout;
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(Command::Stop) => {
                    return Ended { error: None, by_user: true, reconnect_allowed: false };
                }
                Some(Command::Send { message, done }) => {
                    let result = write(shared, transport, &message).await;
                    last_sent = Instant::now();
                    let failed = result.as_ref().err().map(ToString::to_string);
                    if let Some(done) = done {
                        let _ = done.send(result);
                    }
                    if let Some(e) = failed {
                        return Ended::lost(HubError::TransportClosed(e));
                    }
                }
            },
            event = transport.events.recv() => match event {
                Some(TransportEvent::Frame(frame)) => {
                    last_received = Instant::now();
                    if let Some(ended) = handle_frame(shared, transport, &frame).await {
                        return ended;
                    }
                }
                Some(TransportEvent::Closed(reason)) => {
                    return Ended::lost(HubError::TransportClosed(reason.unwrap_or_else(|| "closed by the server".into())));
                }
                None => return Ended::lost(HubError::TransportClosed("ended".into())),
            },
            _ = tokio::time::sleep_until(ping_at), if watched => {
                if let Err(e) = write(shared, transport, &HubMessage::Ping).await {
                    return Ended::lost(e);
                }
                last_sent = Instant::now();
            }
            _ = tokio::time::sleep_until(timeout_at), if watched => {
                return Ended::lost(HubError::ServerTimeout(config.server_timeout));
            }
        }
    }
}

/// Handles the messages of one frame; `Some` when the connection ends.
async fn handle_frame(shared: &Shared, transport: &mut Transport, frame: &[u8]) -> Option<Ended> {
    let protocol = shared.config.protocol;
    let messages: Vec<_> = protocol
        .decode_frame(frame, shared.config.max_message_len)
        .collect();
    for message in messages {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "malformed frame from the server");
                return Some(Ended::lost(HubError::Protocol(e)));
            }
        };
        match message {
            HubMessage::Invocation(call) => {
                let answer_id = call.invocation_id.clone();
                let arguments = Arguments::new(call.arguments);
                let handlers = lock(&shared.handlers)
                    .get(&call.target.to_lowercase())
                    .cloned();
                let handled = handlers.as_ref().is_some_and(|h| !h.is_empty());
                for handler in handlers.into_iter().flatten() {
                    handler(&arguments);
                }
                shared.emit(&HubEvent::Invocation {
                    target: call.target,
                    arguments,
                });
                if let Some(id) = answer_id {
                    // The server waits for a client result; this client does not return any.
                    let _ = handled;
                    let completion = HubMessage::Completion(Completion {
                        headers: Headers::new(),
                        invocation_id: Some(id),
                        outcome: Outcome::Error("Client didn't provide a result.".into()),
                    });
                    if let Err(e) = write(shared, transport, &completion).await {
                        return Some(Ended::lost(e));
                    }
                }
            }
            HubMessage::StreamItem(item) => {
                let pending = lock(&shared.pending);
                match pending.get(&item.invocation_id) {
                    Some(Pending::Stream(tx)) => {
                        let _ = tx.send(Ok(item.item));
                    }
                    _ => tracing::debug!(id = %item.invocation_id, "stream item for no stream"),
                }
            }
            HubMessage::Completion(done) => {
                let Some(id) = done.invocation_id else {
                    tracing::debug!("completion without an invocation id ignored");
                    continue;
                };
                let pending = lock(&shared.pending).remove(&id);
                match (pending, done.outcome) {
                    (Some(Pending::Invoke(tx)), Outcome::Void) => {
                        let _ = tx.send(Ok(None));
                    }
                    (Some(Pending::Invoke(tx)), Outcome::Result(v)) => {
                        let _ = tx.send(Ok(Some(v)));
                    }
                    (Some(Pending::Invoke(tx)), Outcome::Error(e)) => {
                        let _ = tx.send(Err(HubError::Hub(e)));
                    }
                    (Some(Pending::Stream(tx)), Outcome::Error(e)) => {
                        let _ = tx.send(Err(HubError::Hub(e)));
                    }
                    (Some(Pending::Stream(_)), _) => {}
                    (None, _) => tracing::debug!(%id, "completion for no invocation"),
                }
            }
            HubMessage::Close {
                error,
                allow_reconnect,
            } => {
                return Some(Ended {
                    error: error.map(|e| HubError::ServerClosed(Some(e))),
                    by_user: false,
                    reconnect_allowed: allow_reconnect,
                });
            }
            HubMessage::Ping => {}
            other => tracing::debug!(kind = other.kind(), "message ignored"),
        }
    }
    None
}
