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
    HttpTransportType, NegotiateResponse, Negotiation, connect_url, decode_negotiate_response,
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
/// Frames handled in one turn of the connection task before it looks at sends and timers.
const BURST: usize = 64;
/// The official client follows at most 100 negotiate redirects.
const MAX_REDIRECTS: usize = 100;

/// The state of a [`HubConnection`] (the official `HubConnectionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubConnectionState {
    /// Not started, or closed for good.
    Disconnected,
    /// `start` is negotiating, opening the transport or shaking hands.
    Connecting,
    /// The handshake succeeded: messages flow.
    Connected,
    /// `stop` is closing the connection.
    Disconnecting,
    /// The connection was lost and automatic reconnect is trying again.
    Reconnecting,
}

type TokenFuture = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;
type TokenFactory = Arc<dyn Fn() -> TokenFuture + Send + Sync>;
type Handler = Arc<dyn Fn(&Arguments) + Send + Sync>;
/// A handler that answers the server's invocation (a client result).
type ResultHandler = Arc<dyn Fn(&Arguments, HubProtocol) -> Outcome + Send + Sync>;
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
        /// The client method the server called.
        target: String,
        /// Its arguments.
        arguments: Arguments,
    },
    /// The connection was lost and automatic reconnect started.
    Reconnecting {
        /// Why the connection was lost, if known.
        error: Option<Arc<HubError>>,
    },
    /// Automatic reconnect succeeded, with the new connection id.
    Reconnected {
        /// The server's id for the new connection (`None` with skip-negotiation).
        connection_id: Option<String>,
    },
    /// The connection closed for good (after `stop`, a server close, or failed reconnects).
    Closed {
        /// The error that closed it; `None` after `stop` or a server close without an error.
        error: Option<Arc<HubError>>,
    },
}

#[derive(Clone)]
struct Config {
    url: String,
    protocol: HubProtocol,
    transports: Vec<HttpTransportType>,
    skip_negotiation: bool,
    token: Option<AccessToken>,
    retry: Option<Arc<dyn RetryPolicy>>,
    keep_alive_interval: Duration,
    server_timeout: Duration,
    max_message_len: usize,
    stateful_reconnect: bool,
    stateful_buffer_size: usize,
    tls: Arc<ClientConfig>,
    http: Http,
}

/// Builds a [`HubConnection`] (the official `HubConnectionBuilder`).
pub struct HubConnectionBuilder {
    url: Option<String>,
    protocol: HubProtocol,
    transports: Vec<HttpTransportType>,
    skip_negotiation: bool,
    headers: Vec<(String, String)>,
    token: Option<AccessToken>,
    retry: Option<Arc<dyn RetryPolicy>>,
    keep_alive_interval: Duration,
    server_timeout: Duration,
    max_message_len: usize,
    stateful_reconnect: bool,
    stateful_buffer_size: usize,
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
    /// A builder with the official client's defaults: no URL yet, the JSON hub protocol, every
    /// transport, no automatic reconnect, keep-alive every 15 s, server timeout 30 s.
    pub fn new() -> Self {
        Self {
            url: None,
            protocol: HubProtocol::Json,
            transports: vec![
                HttpTransportType::WebSockets,
                HttpTransportType::ServerSentEvents,
                HttpTransportType::LongPolling,
            ],
            skip_negotiation: false,
            headers: Vec::new(),
            token: None,
            retry: None,
            keep_alive_interval: Duration::from_secs(15),
            server_timeout: Duration::from_secs(30),
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            stateful_reconnect: false,
            stateful_buffer_size: 100_000,
            tls: None,
        }
    }

    /// The hub URL (`http(s)://host/hubs/chat`; its query goes on every request).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The transports the client may use, tried in the server's order (default: all three).
    pub fn with_transports(mut self, transports: &[HttpTransportType]) -> Self {
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

    /// Asks for stateful reconnect: when the server agrees (WebSockets only), a dropped socket
    /// is reopened on the same connection and unacknowledged messages are resent both ways,
    /// without a new connection id or lost messages.
    pub fn with_stateful_reconnect(mut self) -> Self {
        self.stateful_reconnect = true;
        self
    }

    /// Bytes of unacknowledged messages kept for stateful reconnect (default 100 000); sends
    /// wait while the buffer is full.
    pub fn with_stateful_reconnect_buffer_size(mut self, bytes: usize) -> Self {
        self.stateful_buffer_size = bytes;
        self
    }

    /// TLS settings for `https`/`wss` (default: the webpki root certificates).
    pub fn with_tls_config(mut self, tls: Arc<ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The connection, not yet started; [`HubError::InvalidUrl`] without a URL, with a URL that
    /// is not `http(s)://` or `ws(s)://`, or with a header that HTTP cannot carry;
    /// [`HubError::Http`] when the default TLS configuration cannot be set up.
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
            stateful_reconnect: self.stateful_reconnect,
            stateful_buffer_size: self.stateful_buffer_size,
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
                result_handlers: Mutex::new(HashMap::new()),
                callbacks: Mutex::new(Callbacks::default()),
                subscribers: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(0),
                stop_requested: std::sync::atomic::AtomicBool::new(false),
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
    transport: Option<HttpTransportType>,
    commands: Option<mpsc::UnboundedSender<Command>>,
}

struct Shared {
    config: Config,
    status: Mutex<Status>,
    state: watch::Sender<HubConnectionState>,
    pending: Mutex<HashMap<String, Pending>>,
    handlers: Mutex<HashMap<String, Vec<Handler>>>,
    result_handlers: Mutex<HashMap<String, ResultHandler>>,
    callbacks: Mutex<Callbacks>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<HubEvent>>>,
    next_id: AtomicU64,
    /// `stop` was called while `start` was still connecting.
    stop_requested: std::sync::atomic::AtomicBool,
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

    /// The connection's current state.
    pub fn state(&self) -> HubConnectionState {
        *self.shared.state.borrow()
    }

    /// The server's id for the connection (`None` before negotiate, or with skip-negotiation).
    pub fn connection_id(&self) -> Option<String> {
        lock(&self.shared.status).connection_id.clone()
    }

    /// The transport in use while connected.
    pub fn transport(&self) -> Option<HttpTransportType> {
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

    /// Answers the server's invocations of `target` that wait for a client result (ASP.NET
    /// Core 7 and later: `Clients.Client(id).InvokeAsync`): `Ok` is the result, `Err` the error
    /// message the server gets. One per target; a later one replaces it.
    pub fn on_invoke<F, R>(&self, target: &str, handler: F)
    where
        F: Fn(&Arguments) -> Result<R, String> + Send + Sync + 'static,
        R: Serialize,
    {
        let answer = move |args: &Arguments, protocol: HubProtocol| match handler(args) {
            Ok(result) => match protocol.value(&result) {
                Ok(value) => Outcome::Result(value),
                Err(e) => Outcome::Error(format!("the client's result does not serialize: {e}")),
            },
            Err(message) => Outcome::Error(message),
        };
        lock(&self.shared.result_handlers).insert(target.to_lowercase(), Arc::new(answer));
    }

    /// Removes the handlers of `target`, `on_invoke`'s included.
    pub fn off(&self, target: &str) {
        lock(&self.shared.handlers).remove(&target.to_lowercase());
        lock(&self.shared.result_handlers).remove(&target.to_lowercase());
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
                // Reset before anyone can see Connecting: only a stop seen during this start
                // counts.
                shared.stop_requested.store(false, Ordering::SeqCst);
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
                    // Checked under the lock `stop` takes too: either `stop` sees the commands
                    // and stops the task, or this sees its request and closes at once.
                    if shared.stop_requested.swap(false, Ordering::SeqCst) {
                        drop(status);
                        opened.transport.stop().await;
                        shared.state.send_replace(HubConnectionState::Disconnected);
                        return Err(HubError::ConnectionStopped);
                    }
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

    /// Closes the connection and waits until it is disconnected. During `start`, the start
    /// fails with [`HubError::ConnectionStopped`] once its attempt ends.
    pub async fn stop(&self) {
        let mut state = self.shared.state.subscribe();
        if *state.borrow() == HubConnectionState::Connecting {
            self.shared.stop_requested.store(true, Ordering::SeqCst);
        }
        let commands = lock(&self.shared.status).commands.clone();
        let Some(commands) = commands else {
            if *state.borrow() == HubConnectionState::Connecting {
                let _ = state
                    .wait_for(|s| *s == HubConnectionState::Disconnected)
                    .await;
            }
            return;
        };
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

    /// Sends a call that awaits an answer: its id is registered with `pending` before the
    /// message goes (the answer may come back at once) and forgotten if sending fails.
    async fn call(
        &self,
        pending: Pending,
        message: impl FnOnce(String) -> HubMessage,
    ) -> Result<String, HubError> {
        let id = self.next_invocation_id();
        lock(&self.shared.pending).insert(id.clone(), pending);
        if let Err(e) = self.send_message(message(id.clone())).await {
            lock(&self.shared.pending).remove(&id);
            return Err(e);
        }
        Ok(id)
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
        let (tx, rx) = oneshot::channel();
        self.call(Pending::Invoke(tx), |id| {
            HubMessage::Invocation(Invocation {
                invocation_id: Some(id),
                target: target.to_owned(),
                arguments,
                ..Invocation::default()
            })
        })
        .await?;
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
        let stream_id = self.next_invocation_id();
        let (tx, rx) = oneshot::channel();
        self.call(Pending::Invoke(tx), |id| {
            HubMessage::Invocation(Invocation {
                invocation_id: Some(id),
                target: target.to_owned(),
                arguments,
                stream_ids: vec![stream_id.clone()],
                ..Invocation::default()
            })
        })
        .await?;
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
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self
            .call(Pending::Stream(tx), |id| {
                HubMessage::StreamInvocation(Invocation {
                    invocation_id: Some(id),
                    target: target.to_owned(),
                    arguments,
                    ..Invocation::default()
                })
            })
            .await?;
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
    /// The next event; `None` once the connection is gone (every clone dropped).
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
    /// Where the transport was opened, with its token: a stateful reconnect reopens it there.
    url: String,
    token: Option<String>,
    /// Stateful reconnect was negotiated.
    stateful: bool,
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
        let (negotiate, _) = negotiate_url(&url, config.stateful_reconnect);
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
    let connect = |url: &str, token: Option<&str>, kind: HttpTransportType| {
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
    let (transport, connection_id, url, token, stateful) = if config.skip_negotiation {
        if !config.transports.contains(&HttpTransportType::WebSockets) {
            return Err(HubError::NoTransport(Vec::new()));
        }
        let transport = connect(
            &config.url,
            access_token.as_deref(),
            HttpTransportType::WebSockets,
        )
        .await
        .map_err(|e| HubError::NoTransport(vec![(HttpTransportType::WebSockets, e.to_string())]))?;
        (transport, None, config.url.clone(), access_token, false)
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
                    let stateful =
                        n.use_stateful_reconnect && kind == HttpTransportType::WebSockets;
                    opened = Some((transport, n.connection_id, target, token, stateful));
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
    let mut opened = handshake(config, transport, stateful).await?;
    opened.connection_id = connection_id;
    opened.url = url;
    opened.token = token;
    Ok(opened)
}

async fn handshake(
    config: &Config,
    mut transport: Transport,
    stateful: bool,
) -> Result<Opened, HubError> {
    let protocol = config.protocol;
    let mut request = Vec::new();
    encode_handshake_request(protocol.name(), protocol.version(stateful), &mut request);
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
                    connection_id: None,
                    url: String::new(),
                    token: None,
                    stateful,
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
    /// The transport broke under a healthy connection: stateful reconnect may resume it.
    resumable: bool,
}

impl Ended {
    fn lost(error: HubError) -> Self {
        Self {
            error: Some(error),
            by_user: false,
            reconnect_allowed: true,
            resumable: false,
        }
    }

    fn broken(error: HubError) -> Self {
        Self {
            resumable: true,
            ..Self::lost(error)
        }
    }
}

/// Stateful reconnect bookkeeping (the official client's `MessageBuffer`): messages of types 1
/// to 5 are numbered from 1 both ways; what was sent stays buffered until the server's Ack;
/// received ones are acknowledged at most once a second, and after a resume the duplicates the
/// server resends are dropped.
struct Sequencing {
    limit: usize,
    sent_count: u64,
    unacked: std::collections::VecDeque<(u64, Vec<u8>)>,
    unacked_bytes: usize,
    next_receiving: u64,
    latest_received: u64,
    wait_for_sequence: bool,
    ack_due: Option<Instant>,
}

impl Sequencing {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            sent_count: 0,
            unacked: std::collections::VecDeque::new(),
            unacked_bytes: 0,
            next_receiving: 1,
            latest_received: 0,
            wait_for_sequence: false,
            ack_due: None,
        }
    }

    fn is_full(&self) -> bool {
        self.unacked_bytes >= self.limit
    }

    fn sent(&mut self, frame: &[u8]) {
        self.sent_count += 1;
        self.unacked_bytes += frame.len();
        self.unacked.push_back((self.sent_count, frame.to_vec()));
    }

    /// Whether a received message is to be handled.
    fn received(&mut self, message: &HubMessage) -> Result<bool, HubError> {
        if self.wait_for_sequence {
            if !matches!(message, HubMessage::Sequence { .. }) {
                return Ok(false);
            }
            self.wait_for_sequence = false;
        }
        match message {
            HubMessage::Sequence { sequence_id } => {
                if *sequence_id > self.next_receiving {
                    return Err(HubError::TransportClosed(
                        "the server's Sequence is beyond the messages received".into(),
                    ));
                }
                self.next_receiving = *sequence_id;
                Ok(false)
            }
            HubMessage::Ack { sequence_id } => {
                while let Some((id, frame)) = self.unacked.front() {
                    if id > sequence_id {
                        break;
                    }
                    self.unacked_bytes -= frame.len();
                    self.unacked.pop_front();
                }
                Ok(false)
            }
            m if m.is_sequenced() => {
                let id = self.next_receiving;
                self.next_receiving += 1;
                if id <= self.latest_received {
                    return Ok(false);
                }
                self.latest_received = id;
                if self.ack_due.is_none() {
                    self.ack_due = Some(Instant::now() + Duration::from_secs(1));
                }
                Ok(true)
            }
            _ => Ok(true),
        }
    }

    /// The frames that restart a resumed transport: Sequence, then every unacknowledged message.
    fn resume(&mut self, protocol: HubProtocol) -> Result<Vec<Vec<u8>>, HubError> {
        self.wait_for_sequence = true;
        self.ack_due = None;
        let first = self
            .unacked
            .front()
            .map_or(self.sent_count + 1, |(id, _)| *id);
        let mut sequence = Vec::new();
        protocol.encode(&HubMessage::Sequence { sequence_id: first }, &mut sequence)?;
        let mut frames = vec![sequence];
        frames.extend(self.unacked.iter().map(|(_, frame)| frame.clone()));
        Ok(frames)
    }
}

/// Reopens the WebSocket of a stateful connection at the same URL (no negotiate, no handshake)
/// and resends what the server has not acknowledged.
async fn resume(
    shared: &Shared,
    opened: &Opened,
    sequencing: &mut Sequencing,
) -> Result<Transport, HubError> {
    let config = &shared.config;
    let connect = Connect {
        http: &config.http,
        tls: &config.tls,
        url: opened.url.clone(),
        token: opened.token.clone(),
        format: config.protocol.transfer_format(),
        max_message_len: config.max_message_len,
    };
    let mut transport = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        Transport::connect(HttpTransportType::WebSockets, connect),
    )
    .await
    .map_err(|_| HubError::WebSocket("stateful reconnect timed out".into()))??;
    for frame in sequencing.resume(config.protocol)? {
        transport.send(frame).await?;
    }
    Ok(transport)
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

    fn finish(&self, error: Option<Arc<HubError>>) {
        {
            let mut status = lock(&self.status);
            status.connection_id = None;
            status.transport = None;
            status.commands = None;
        }
        self.state.send_replace(HubConnectionState::Disconnected);
        let handlers = lock(&self.callbacks).close.clone();
        for h in handlers {
            h(error.as_deref());
        }
        self.emit(&HubEvent::Closed { error });
    }
}

async fn drive(
    shared: Arc<Shared>,
    opened: Opened,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut opened = opened;
    let mut sequencing = opened
        .stateful
        .then(|| Sequencing::new(shared.config.stateful_buffer_size));
    loop {
        let leftover = std::mem::take(&mut opened.leftover);
        let ended = run(
            &shared,
            &mut opened.transport,
            leftover,
            &mut commands,
            sequencing.as_mut(),
        )
        .await;
        if ended.resumable
            && let Some(seq) = sequencing.as_mut()
        {
            tracing::debug!(error = ?ended.error, "resuming the stateful connection");
            match until_stopped(resume(&shared, &opened, seq), &mut commands).await {
                None => {
                    shared.finish(None);
                    return;
                }
                Some(Ok(transport)) => {
                    // Same connection, same pending invocations: nothing to tell the application.
                    opened.transport = transport;
                    continue;
                }
                Some(Err(e)) => tracing::debug!(error = %e, "stateful reconnect failed"),
            }
        }
        opened.transport.stop().await;
        let lost = ended.error.as_ref().map_or_else(
            || HubError::ConnectionStopped,
            |e| HubError::TransportClosed(e.to_string()),
        );
        shared.fail_pending(&lost);
        let policy = shared.config.retry.clone();
        let Some(policy) = policy.filter(|_| !ended.by_user && ended.reconnect_allowed) else {
            shared.finish(ended.error.map(Arc::new));
            return;
        };
        shared.state.send_replace(HubConnectionState::Reconnecting);
        {
            let mut status = lock(&shared.status);
            status.connection_id = None;
            status.transport = None;
        }
        let mut reason = ended.error.map(Arc::new);
        let reconnecting = lock(&shared.callbacks).reconnecting.clone();
        for h in reconnecting {
            h(reason.as_deref());
        }
        shared.emit(&HubEvent::Reconnecting {
            error: reason.clone(),
        });
        let lost_at = Instant::now();
        let mut attempts = 0u32;
        let reopened = loop {
            let context = RetryContext {
                previous_retry_count: attempts,
                elapsed_time: lost_at.elapsed(),
                retry_reason: reason.as_deref(),
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
                    reason = Some(Arc::new(e));
                    attempts += 1;
                }
            }
        };
        let Some(reopened) = reopened else {
            shared.finish(reason);
            return;
        };
        opened = reopened;
        sequencing = opened
            .stateful
            .then(|| Sequencing::new(shared.config.stateful_buffer_size));
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

/// Encodes and sends one message; with stateful reconnect a numbered message is buffered first,
/// so it is resent after a resume even when this send fails.
async fn write(
    shared: &Shared,
    transport: &mut Transport,
    message: &HubMessage,
    seq: Option<&mut Sequencing>,
) -> Result<(), HubError> {
    let mut frame = Vec::new();
    shared.config.protocol.encode(message, &mut frame)?;
    if let Some(seq) = seq
        && message.is_sequenced()
    {
        seq.sent(&frame);
    }
    transport.send(frame).await
}

type Parked =
    std::collections::VecDeque<(HubMessage, Option<oneshot::Sender<Result<(), HubError>>>)>;

/// Sends a message for the application: `Some` when the transport broke.
async fn send_for_application(
    shared: &Shared,
    transport: &mut Transport,
    message: HubMessage,
    done: Option<oneshot::Sender<Result<(), HubError>>>,
    seq: Option<&mut Sequencing>,
) -> Option<Ended> {
    let buffered = seq.is_some() && message.is_sequenced();
    let result = write(shared, transport, &message, seq).await;
    let failed = result.as_ref().err().map(ToString::to_string);
    if let Some(done) = done {
        // A buffered message will be resent after the resume: for the application it is sent.
        let _ = done.send(if buffered { Ok(()) } else { result });
    }
    failed.map(|e| Ended::broken(HubError::TransportClosed(e)))
}

async fn run(
    shared: &Shared,
    transport: &mut Transport,
    leftover: Bytes,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    mut seq: Option<&mut Sequencing>,
) -> Ended {
    let config = &shared.config;
    let watched = !transport.inherent_keep_alive();
    let mut last_sent = Instant::now();
    let mut last_received = Instant::now();
    // Sends that wait for room in a full stateful-reconnect buffer.
    let mut parked = Parked::new();
    if !leftover.is_empty()
        && let Some(ended) = handle_frame(shared, transport, &leftover, seq.as_deref_mut()).await
    {
        return ended;
    }
    loop {
        while seq.as_deref().is_none_or(|s| !s.is_full())
            && let Some((message, done)) = parked.pop_front()
        {
            if let Some(ended) =
                send_for_application(shared, transport, message, done, seq.as_deref_mut()).await
            {
                return ended;
            }
            last_sent = Instant::now();
        }
        let ping_at = last_sent + config.keep_alive_interval;
        let timeout_at = last_received + config.server_timeout;
        let ack_at = seq.as_deref().and_then(|s| s.ack_due);
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(Command::Stop) => {
                    for (_, done) in parked.drain(..) {
                        if let Some(done) = done {
                            let _ = done.send(Err(HubError::ConnectionStopped));
                        }
                    }
                    return Ended { error: None, by_user: true, reconnect_allowed: false, resumable: false };
                }
                Some(Command::Send { message, done }) => {
                    if seq.as_deref().is_some_and(Sequencing::is_full) || !parked.is_empty() {
                        parked.push_back((message, done));
                        continue;
                    }
                    if let Some(ended) = send_for_application(shared, transport, message, done, seq.as_deref_mut()).await {
                        return ended;
                    }
                    last_sent = Instant::now();
                }
            },
            event = transport.events.recv() => {
                // Frames that arrived meanwhile are handled in the same turn (up to a bound, so
                // sends and timers still get their turn): a burst costs one pass through the
                // select and its timers, not one per frame.
                let mut event = event;
                for _ in 0..BURST {
                    match event {
                        Some(TransportEvent::Frame(frame)) => {
                            if let Some(ended) = handle_frame(shared, transport, &frame, seq.as_deref_mut()).await {
                                return ended;
                            }
                        }
                        Some(TransportEvent::Closed(reason)) => {
                            return Ended::broken(HubError::TransportClosed(reason.unwrap_or_else(|| "closed by the server".into())));
                        }
                        None => return Ended::broken(HubError::TransportClosed("ended".into())),
                    }
                    match transport.events.try_recv() {
                        Ok(next) => event = Some(next),
                        Err(_) => break,
                    }
                }
                last_received = Instant::now();
            },
            _ = tokio::time::sleep_until(ping_at), if watched => {
                if let Err(e) = write(shared, transport, &HubMessage::Ping, None).await {
                    return Ended::broken(e);
                }
                last_sent = Instant::now();
            }
            _ = tokio::time::sleep_until(timeout_at), if watched => {
                return Ended::lost(HubError::ServerTimeout(config.server_timeout));
            }
            _ = tokio::time::sleep_until(ack_at.unwrap_or(timeout_at)), if ack_at.is_some() => {
                if let Some(s) = seq.as_deref_mut() {
                    s.ack_due = None;
                    let ack = HubMessage::Ack { sequence_id: s.latest_received };
                    if let Err(e) = write(shared, transport, &ack, None).await {
                        return Ended::broken(e);
                    }
                }
            }
        }
    }
}

/// Handles the messages of one frame; `Some` when the connection ends.
async fn handle_frame(
    shared: &Shared,
    transport: &mut Transport,
    frame: &[u8],
    mut seq: Option<&mut Sequencing>,
) -> Option<Ended> {
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
        if let Some(seq) = seq.as_deref_mut() {
            match seq.received(&message) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => return Some(Ended::lost(e)),
            }
        }
        match message {
            HubMessage::Invocation(call) => {
                let answer_id = call.invocation_id.clone();
                let arguments = Arguments::new(call.arguments);
                let handlers = lock(&shared.handlers)
                    .get(&call.target.to_lowercase())
                    .cloned();
                for handler in handlers.into_iter().flatten() {
                    handler(&arguments);
                }
                // The server waits for a client result: the on_invoke handler's, or the
                // official client's error when there is none.
                let outcome = answer_id.as_ref().map(|_| {
                    let answer = lock(&shared.result_handlers)
                        .get(&call.target.to_lowercase())
                        .cloned();
                    match answer {
                        Some(answer) => answer(&arguments, shared.config.protocol),
                        None => Outcome::Error("Client didn't provide a result.".into()),
                    }
                });
                shared.emit(&HubEvent::Invocation {
                    target: call.target,
                    arguments,
                });
                if let (Some(id), Some(outcome)) = (answer_id, outcome) {
                    let completion = HubMessage::Completion(Completion {
                        headers: Headers::new(),
                        invocation_id: Some(id),
                        outcome,
                    });
                    if let Err(e) = write(shared, transport, &completion, seq.as_deref_mut()).await
                    {
                        return Some(Ended::broken(e));
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
                    resumable: false,
                });
            }
            HubMessage::Ping => {}
            other => tracing::debug!(kind = other.kind(), "message ignored"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn item(id: &str) -> HubMessage {
        HubMessage::StreamItem(sio_signalr_proto::StreamItem {
            headers: Headers::new(),
            invocation_id: id.to_owned(),
            item: Value::json_null(),
        })
    }

    #[test]
    fn sequencing_drops_resent_duplicates_and_refuses_a_sequence_ahead() {
        let mut seq = Sequencing::new(100);
        assert!(seq.received(&item("a")).unwrap());
        assert!(seq.received(&item("b")).unwrap());
        assert!(seq.received(&HubMessage::Ping).unwrap());
        // After a resume: nothing counts until the server's Sequence.
        seq.resume(HubProtocol::Json).unwrap();
        assert!(!seq.received(&item("ignored")).unwrap());
        assert!(
            !seq.received(&HubMessage::Sequence { sequence_id: 2 })
                .unwrap()
        );
        // Message 2 was seen: a duplicate; message 3 is new.
        assert!(!seq.received(&item("b")).unwrap());
        assert!(seq.received(&item("c")).unwrap());
        assert_eq!(seq.latest_received, 3);
        seq.resume(HubProtocol::Json).unwrap();
        assert!(
            seq.received(&HubMessage::Sequence { sequence_id: 9 })
                .is_err()
        );
    }

    #[test]
    fn sequencing_keeps_sent_messages_until_acked_and_resends_them() {
        let mut seq = Sequencing::new(10);
        seq.sent(b"12345");
        seq.sent(b"6789");
        assert!(!seq.is_full());
        seq.sent(b"0");
        assert!(seq.is_full());
        assert!(!seq.received(&HubMessage::Ack { sequence_id: 2 }).unwrap());
        assert!(!seq.is_full());
        let frames = seq.resume(HubProtocol::Json).unwrap();
        assert_eq!(
            frames,
            [b"{\"type\":9,\"sequenceId\":3}\x1e".to_vec(), b"0".to_vec()]
        );
        assert!(
            !seq.received(&HubMessage::Sequence { sequence_id: 1 })
                .unwrap()
        );
        assert!(!seq.received(&HubMessage::Ack { sequence_id: 3 }).unwrap());
        let frames = seq.resume(HubProtocol::Json).unwrap();
        assert_eq!(frames, [b"{\"type\":9,\"sequenceId\":4}\x1e".to_vec()]);
    }
}
