//! The three ASP.NET Core transports, each giving the connection a channel of received frames
//! and a way to send one.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use http::{Method, StatusCode, header};
use http_body_util::BodyExt;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use sio_signalr_proto::negotiate::{
    HttpTransportType, TransferFormat, append_query, websocket_url,
};
use sio_signalr_proto::sse::SseDecoder;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::error::HubError;
use crate::http::{Http, bearer};

/// How long one long poll may take before the client gives up on it and polls again (the
/// official client's 100 s).
const POLL_TIMEOUT: Duration = Duration::from_secs(100);

/// What a transport reports.
#[derive(Debug)]
pub(crate) enum TransportEvent {
    Frame(Bytes),
    /// The transport ended: `None` when the server closed it cleanly.
    Closed(Option<String>),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Ws = WebSocketStream<Box<dyn Io>>;

enum Inner {
    WebSockets {
        sink: Box<SplitSink<Ws, Message>>,
        binary: bool,
    },
    Http {
        http: Http,
        url: String,
        token: Option<String>,
        binary: bool,
    },
}

/// An open transport.
pub(crate) struct Transport {
    pub(crate) kind: HttpTransportType,
    inner: Inner,
    pub(crate) events: mpsc::Receiver<TransportEvent>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Where and how to open a transport.
pub(crate) struct Connect<'a> {
    pub(crate) http: &'a Http,
    pub(crate) tls: &'a Arc<ClientConfig>,
    /// The connection URL (`…?id=<token>` when negotiated), http(s) or ws(s).
    pub(crate) url: String,
    pub(crate) token: Option<String>,
    pub(crate) format: TransferFormat,
    pub(crate) max_message_len: usize,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

impl Transport {
    pub(crate) async fn connect(kind: HttpTransportType, c: Connect<'_>) -> Result<Self, HubError> {
        let (tx, events) = mpsc::channel(64);
        let binary = c.format == TransferFormat::Binary;
        let (inner, task) = match kind {
            HttpTransportType::WebSockets => {
                let ws = open_websocket(&c).await?;
                let (sink, stream) = ws.split();
                let sink = Box::new(sink);
                (
                    Inner::WebSockets { sink, binary },
                    tokio::spawn(read_websocket(stream, tx)),
                )
            }
            HttpTransportType::ServerSentEvents => {
                // The official client puts the token in the query for SSE (browsers' EventSource
                // cannot send headers).
                let url = match &c.token {
                    Some(token) => append_query(&c.url, "access_token", token),
                    None => c.url.clone(),
                };
                let extra = [
                    (header::ACCEPT, "text/event-stream"),
                    (header::CACHE_CONTROL, "no-cache"),
                ];
                let response = c
                    .http
                    .send(Method::GET, &url, None, &extra, Bytes::new())
                    .await?;
                if response.status() != StatusCode::OK {
                    return Err(HubError::Status {
                        url,
                        status: response.status().as_u16(),
                    });
                }
                let task = tokio::spawn(read_event_stream(
                    response.into_body(),
                    c.max_message_len,
                    tx,
                ));
                (http_inner(&c, binary), task)
            }
            HttpTransportType::LongPolling => {
                // The poll loop starts at once and the transport counts as open: the handshake
                // is sent while the first poll is out, so a server that holds the first poll
                // (instead of answering it at once) does not delay or time out the handshake.
                let task = tokio::spawn(poll(c.http.clone(), c.url.clone(), c.token.clone(), tx));
                (http_inner(&c, binary), task)
            }
        };
        Ok(Self {
            kind,
            inner,
            events,
            task,
        })
    }

    /// Long polling keeps the connection alive by itself: no pings, no server timeout.
    pub(crate) fn inherent_keep_alive(&self) -> bool {
        self.kind == HttpTransportType::LongPolling
    }

    pub(crate) async fn send(&mut self, frame: Vec<u8>) -> Result<(), HubError> {
        match &mut self.inner {
            Inner::WebSockets { sink, binary } => {
                let message = if *binary {
                    Message::Binary(frame.into())
                } else {
                    let text = String::from_utf8(frame)
                        .map_err(|e| HubError::WebSocket(format!("text frame not UTF-8: {e}")))?;
                    Message::Text(text.into())
                };
                sink.send(message)
                    .await
                    .map_err(|e| HubError::WebSocket(e.to_string()))
            }
            Inner::Http {
                http,
                url,
                token,
                binary,
            } => {
                let content_type = if *binary {
                    "application/octet-stream"
                } else {
                    "text/plain;charset=UTF-8"
                };
                let (status, _) = http
                    .fetch(
                        Method::POST,
                        url,
                        token.as_deref(),
                        &[(header::CONTENT_TYPE, content_type)],
                        Bytes::from(frame),
                    )
                    .await?;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(HubError::Status {
                        url: url.clone(),
                        status: status.as_u16(),
                    })
                }
            }
        }
    }

    /// Closes the transport: a WebSocket close, the end of the event stream, or a DELETE for
    /// long polling.
    pub(crate) async fn stop(mut self) {
        match &mut self.inner {
            Inner::WebSockets { sink, .. } => {
                let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
            }
            Inner::Http {
                http, url, token, ..
            } => {
                if self.kind == HttpTransportType::LongPolling {
                    let delete =
                        http.fetch(Method::DELETE, url, token.as_deref(), &[], Bytes::new());
                    let _ = tokio::time::timeout(Duration::from_secs(5), delete).await;
                }
            }
        }
        self.task.abort();
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn http_inner(c: &Connect<'_>, binary: bool) -> Inner {
    Inner::Http {
        http: c.http.clone(),
        url: c.url.clone(),
        token: c.token.clone(),
        binary,
    }
}

async fn open_websocket(c: &Connect<'_>) -> Result<Ws, HubError> {
    let invalid = |reason: &str| HubError::InvalidUrl {
        url: c.url.clone(),
        reason: reason.to_owned(),
    };
    let url = websocket_url(&c.url).ok_or_else(|| invalid("not http(s) or ws(s)"))?;
    let uri: http::Uri = url.parse().map_err(|_| invalid("unparsable"))?;
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tls = uri.scheme_str() == Some("wss");
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| HubError::WebSocket(e.to_string()))?;
    for (name, value) in c.http.headers() {
        request.headers_mut().append(name, value.clone());
    }
    // Outside browsers the official client sends the token as a header on WebSockets too.
    if let Some(auth) = bearer(c.token.as_deref()) {
        request.headers_mut().insert(header::AUTHORIZATION, auth);
    }
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| HubError::WebSocket(format!("connect {host}:{port}: {e}")))?;
    tcp.set_nodelay(true)
        .map_err(|e| HubError::WebSocket(e.to_string()))?;
    let stream: Box<dyn Io> = if tls {
        let name = ServerName::try_from(host.clone())
            .map_err(|e| HubError::WebSocket(format!("{host}: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(c.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| HubError::WebSocket(format!("TLS: {e}")))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let limit = c.max_message_len.saturating_add(64);
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| HubError::WebSocket(e.to_string()))?;
    Ok(ws)
}

async fn read_websocket(
    mut stream: futures_util::stream::SplitStream<Ws>,
    tx: mpsc::Sender<TransportEvent>,
) {
    let end = loop {
        match stream.next().await {
            // Binary frames are passed on whatever the protocol: some servers send JSON in them.
            Some(Ok(Message::Text(text))) => {
                if tx
                    .send(TransportEvent::Frame(Bytes::from(text)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Some(Ok(Message::Binary(data))) => {
                if tx.send(TransportEvent::Frame(data)).await.is_err() {
                    return;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                break frame
                    .filter(|f| !f.reason.is_empty())
                    .map(|f| f.reason.to_string());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break Some(e.to_string()),
            None => break Some("the WebSocket ended without a close frame".to_owned()),
        }
    };
    let _ = tx.send(TransportEvent::Closed(end)).await;
}

async fn read_event_stream(
    mut body: hyper::body::Incoming,
    max_len: usize,
    tx: mpsc::Sender<TransportEvent>,
) {
    let mut decoder = SseDecoder::new(max_len);
    let mut events = Vec::new();
    let end = loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if let Err(e) = decoder.feed(&data, &mut events) {
                    break Some(e.to_string());
                }
                for event in events.drain(..) {
                    if tx
                        .send(TransportEvent::Frame(Bytes::from(event)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
            Some(Err(e)) => break Some(e.to_string()),
            None => break None,
        }
    };
    let _ = tx.send(TransportEvent::Closed(end)).await;
}

async fn poll(http: Http, url: String, token: Option<String>, tx: mpsc::Sender<TransportEvent>) {
    let end = loop {
        let poll_url = append_query(&url, "_", &now_ms().to_string());
        let request = http.fetch(Method::GET, &poll_url, token.as_deref(), &[], Bytes::new());
        match tokio::time::timeout(POLL_TIMEOUT, request).await {
            // A poll the client gave up on: poll again, as the official client does.
            Err(_) => continue,
            Ok(Err(e)) => break Some(e.to_string()),
            Ok(Ok((StatusCode::NO_CONTENT, _))) => break None,
            Ok(Ok((StatusCode::OK, body))) => {
                if !body.is_empty() && tx.send(TransportEvent::Frame(body)).await.is_err() {
                    return;
                }
            }
            Ok(Ok((status, _))) => break Some(format!("poll answered HTTP {}", status.as_u16())),
        }
    };
    let _ = tx.send(TransportEvent::Closed(end)).await;
}
