//! One client connection: Socket.IO over WebSocket, Socket.IO over long-polling, or a bare
//! WebSocket for the floor server. Each speaks the wire format directly (through the protocol
//! crates) so that the generator spends as little as it can per message.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use sio_engineio_proto::{self as eio, Revision};
use sio_engineio_session::{
    client::reply_to,
    handshake::{HandshakeOutcome, read_polling_answer, read_websocket_open},
};
use sio_socketio_proto::{self as sio, Decoder, DecoderConfig, ProtocolVersion, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, protocol::WebSocketConfig};

use crate::config::{Config, Protocol, Target, TransportKind};

/// The largest polling answer read whole: the same bound tungstenite puts on a WebSocket
/// message, so a misbehaving server cannot make the generator buffer without end.
const MAX_POLL_BODY: usize = 64 << 20;

/// Why one client failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("WebSocket: {0}")]
    WebSocket(#[from] tungstenite::Error),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("Engine.IO: {0}")]
    EngineIo(#[from] eio::DecodeError),
    #[error("Socket.IO: {0}")]
    SocketIo(#[from] sio::DecodeError),
    #[error("cannot encode: {0}")]
    Encode(String),
    #[error("unexpected {0}")]
    Unexpected(String),
    #[error("the server refused the namespace: {0}")]
    Refused(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("the server closed the connection")]
    Closed,
}

impl ClientError {
    fn connect(error: std::io::Error) -> ClientError {
        if error.raw_os_error() == Some(24) {
            // EMFILE: the most common failure of a large connect storm.
            ClientError::Connect(std::io::Error::other(format!(
                "{error}: raise the open-file limit (ulimit -n)"
            )))
        } else {
            ClientError::Connect(error)
        }
    }
}

type Result<T> = std::result::Result<T, ClientError>;
type Ws = WebSocketStream<TcpStream>;
type Http = SendRequest<Full<Bytes>>;

/// What arrived on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// An ack with its id; `None` for raw WebSocket echoes, which come back in order.
    Ack(Option<u64>),
    /// A fan-out delivery with the sender's timestamp (nanoseconds since the run's epoch).
    Fan(Option<u64>),
    /// Anything else.
    Other,
}

/// The frames of a run, encoded once where their content does not change.
#[derive(Debug)]
pub(crate) struct Frames {
    namespace: String,
    payload: Value,
    raw_payload: String,
    /// The echo EVENT without its ack id, split where the id goes: `2` | `["echo",…]`.
    echo_head: String,
    echo_body: String,
    attachments: Vec<Bytes>,
    binary: bool,
}

impl Frames {
    pub(crate) fn new(config: &Config, namespace: &str) -> std::result::Result<Frames, String> {
        let text: String = (b'a'..=b'z')
            .cycle()
            .take(config.payload_bytes)
            .map(char::from)
            .collect();
        let payload = if config.binary {
            Value::Binary(vec![0xA5; config.payload_bytes])
        } else {
            Value::String(text.clone().into())
        };
        if namespace.contains('[') {
            return Err("namespaces may not contain '['".into());
        }
        let packet = sio::Packet::event(namespace, "echo", vec![payload.clone()]);
        let encoded = sio::encode_owned(packet, ProtocolVersion::V5).map_err(|e| e.to_string())?;
        let (head, body) = encoded
            .text
            .split_once('[')
            .ok_or("the echo packet has no argument list")?;
        Ok(Frames {
            namespace: namespace.to_owned(),
            payload,
            raw_payload: text,
            echo_head: head.to_owned(),
            echo_body: format!("[{body}"),
            attachments: encoded.attachments,
            binary: config.binary,
        })
    }

    /// The echo EVENT with ack id `id`, with the Engine.IO message prefix `4` if `eio_prefix`.
    fn echo_text(&self, id: u64, eio_prefix: bool) -> String {
        let mut text = String::with_capacity(self.echo_head.len() + self.echo_body.len() + 24);
        if eio_prefix {
            text.push('4');
        }
        text.push_str(&self.echo_head);
        text.push_str(&id.to_string());
        text.push_str(&self.echo_body);
        text
    }

    fn fan(&self, timestamp: u64) -> Result<sio::Encoded> {
        let packet = sio::Packet::event(
            self.namespace.as_str(),
            "fan",
            vec![Value::from(timestamp), self.payload.clone()],
        );
        sio::encode_owned(packet, ProtocolVersion::V5)
            .map_err(|e| ClientError::Encode(e.to_string()))
    }
}

/// A connected client.
#[derive(Debug)]
pub(crate) enum Conn {
    SocketIo(SioWs),
    Raw(Ws),
    Polling(Box<Polling>),
}

impl Conn {
    /// Connects client number `index` and joins the namespace (Socket.IO) or finishes the
    /// WebSocket handshake (raw).
    pub(crate) async fn open(config: &Config, target: &Target, index: usize) -> Result<Conn> {
        let source = match config.source_addrs.as_slice() {
            [] => None,
            list => list.get(index % list.len()).copied(),
        };
        match (config.protocol, config.transport) {
            (Protocol::RawWebSocket, _) => {
                let stream = tcp(target.addr, source).await?;
                let uri = format!("ws://{}{}", target.authority, target.raw_path);
                Ok(Conn::Raw(ws_handshake(uri, stream).await?))
            }
            (Protocol::SocketIo, TransportKind::WebSocket) => {
                let stream = tcp(target.addr, source).await?;
                let uri = format!(
                    "ws://{}{}?EIO=4&transport=websocket",
                    target.authority, config.path
                );
                let ws = ws_handshake(uri, stream).await?;
                let mut conn = SioWs {
                    ws,
                    decoder: decoder(),
                };
                conn.join(&target.namespace).await?;
                Ok(Conn::SocketIo(conn))
            }
            (Protocol::SocketIo, TransportKind::Polling) => Ok(Conn::Polling(Box::new(
                Polling::connect(config, target, source).await?,
            ))),
        }
    }

    /// Sends the echo event with ack id `id`.
    pub(crate) async fn send_echo(&mut self, frames: &Frames, id: u64) -> Result<()> {
        match self {
            Conn::SocketIo(conn) => {
                conn.ws
                    .feed(WsMessage::text(frames.echo_text(id, true)))
                    .await?;
                for attachment in &frames.attachments {
                    conn.ws.feed(WsMessage::Binary(attachment.clone())).await?;
                }
                conn.ws.flush().await?;
            }
            Conn::Raw(ws) => {
                let message = if frames.binary {
                    WsMessage::Binary(Bytes::from(vec![0xA5; frames.raw_payload.len()]))
                } else {
                    WsMessage::text(format!("e{}", frames.raw_payload))
                };
                ws.send(message).await?;
            }
            Conn::Polling(conn) => {
                conn.send(frames.echo_text(id, false), &frames.attachments)
                    .await?;
            }
        }
        Ok(())
    }

    /// Sends one fan-out broadcast stamped with `timestamp`.
    pub(crate) async fn send_fan(&mut self, frames: &Frames, timestamp: u64) -> Result<()> {
        match self {
            Conn::SocketIo(conn) => {
                let encoded = frames.fan(timestamp)?;
                conn.ws
                    .feed(WsMessage::text(format!("4{}", encoded.text)))
                    .await?;
                for attachment in encoded.attachments {
                    conn.ws.feed(WsMessage::Binary(attachment)).await?;
                }
                conn.ws.flush().await?;
            }
            Conn::Raw(ws) => {
                ws.send(WsMessage::text(format!(
                    "f{timestamp} {}",
                    frames.raw_payload
                )))
                .await?;
            }
            Conn::Polling(conn) => {
                let encoded = frames.fan(timestamp)?;
                conn.send(encoded.text, &encoded.attachments).await?;
            }
        }
        Ok(())
    }

    /// Waits for the next thing that matters, answering pings on the way.
    pub(crate) async fn next(&mut self) -> Result<Incoming> {
        match self {
            Conn::SocketIo(conn) => conn.next_packet().await.and_then(classify),
            Conn::Raw(ws) => loop {
                match ws.next().await.ok_or(ClientError::Closed)?? {
                    WsMessage::Text(text) => {
                        return Ok(match text.strip_prefix('f') {
                            Some(rest) => {
                                Incoming::Fan(rest.split(' ').next().and_then(|t| t.parse().ok()))
                            }
                            None => Incoming::Ack(None),
                        });
                    }
                    WsMessage::Binary(_) => return Ok(Incoming::Ack(None)),
                    WsMessage::Close(_) => return Err(ClientError::Closed),
                    WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {}
                }
            },
            Conn::Polling(conn) => conn.next_packet().await.and_then(classify),
        }
    }
}

fn classify(packet: sio::Packet) -> Result<Incoming> {
    Ok(match packet {
        sio::Packet::Ack { id, .. } => Incoming::Ack(Some(id)),
        sio::Packet::Event { event, args, .. } if event == "f" => {
            Incoming::Fan(args.first().and_then(Value::as_u64))
        }
        sio::Packet::Disconnect { .. } => return Err(ClientError::Closed),
        sio::Packet::ConnectError { data, .. } => {
            return Err(ClientError::Refused(sio::value::connect_error_message(
                &data,
            )));
        }
        _ => Incoming::Other,
    })
}

fn decoder() -> Decoder {
    Decoder::new(DecoderConfig::default())
}

/// A TCP connection with Nagle off, from `source` if given.
async fn tcp(addr: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(ClientError::connect)?;
    if let Some(ip) = source {
        // Reusing the ports of connections in TIME_WAIT is fine: the peer's address differs.
        socket.set_reuseaddr(true).map_err(ClientError::connect)?;
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(ClientError::connect)?;
    }
    let stream = socket.connect(addr).await.map_err(ClientError::connect)?;
    stream.set_nodelay(true).map_err(ClientError::connect)?;
    Ok(stream)
}

async fn ws_handshake(uri: String, stream: TcpStream) -> Result<Ws> {
    // Small buffers, as a server would keep them: thousands of clients live in one process.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(uri, stream, Some(config)).await?;
    Ok(ws)
}

/// Socket.IO over a WebSocket.
#[derive(Debug)]
pub(crate) struct SioWs {
    ws: Ws,
    decoder: Decoder,
}

impl SioWs {
    /// Reads the Engine.IO open packet, sends CONNECT for the namespace and waits for the grant.
    async fn join(&mut self, namespace: &str) -> Result<()> {
        match self.ws.next().await.ok_or(ClientError::Closed)?? {
            WsMessage::Text(text) => {
                read_websocket_open(Revision::V4, true, &text)
                    .map_err(|e| ClientError::Unexpected(e.to_string()))?;
            }
            other => return Err(ClientError::Unexpected(format!("frame {other:?}"))),
        }
        self.ws
            .send(WsMessage::text(connect_packet(namespace, true)?))
            .await?;
        loop {
            if let sio::Packet::Connect { .. } = self.next_packet().await? {
                return Ok(());
            }
        }
    }

    async fn next_packet(&mut self) -> Result<sio::Packet> {
        loop {
            let packet = match self.ws.next().await.ok_or(ClientError::Closed)?? {
                WsMessage::Text(text) => match eio::decode_text_frame(&text, Revision::V4)? {
                    ping @ eio::Packet::Ping(_) => {
                        if let Some(pong) = reply_to(&ping) {
                            let mut frame = String::new();
                            pong.encode_text(&mut frame)
                                .map_err(|e| ClientError::Encode(e.to_string()))?;
                            self.ws.send(WsMessage::text(frame)).await?;
                        }
                        None
                    }
                    eio::Packet::Message(eio::Data::Text(text)) => self.decoder.feed_text(&text)?,
                    eio::Packet::Message(eio::Data::Binary(bytes)) => {
                        self.decoder.feed_binary(Bytes::from(bytes.into_owned()))?
                    }
                    eio::Packet::Close => return Err(ClientError::Closed),
                    _ => None,
                },
                WsMessage::Binary(bytes) => self.decoder.feed_binary(bytes)?,
                WsMessage::Close(_) => return Err(ClientError::Closed),
                WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => None,
            };
            if let Some(packet) = packet {
                return Ok(packet);
            }
        }
    }
}

fn connect_packet(namespace: &str, eio_prefix: bool) -> Result<String> {
    let packet = sio::Packet::Connect {
        nsp: namespace.to_owned(),
        data: None,
        query: None,
    };
    let encoded = sio::encode(&packet, ProtocolVersion::V5)
        .map_err(|e| ClientError::Encode(e.to_string()))?;
    Ok(if eio_prefix {
        format!("4{}", encoded.text)
    } else {
        encoded.text
    })
}

/// Socket.IO over HTTP long-polling: a GET pending on one keep-alive connection, POSTs on
/// another.
#[derive(Debug)]
pub(crate) struct Polling {
    get: Http,
    post: Http,
    uri: String,
    host: String,
    decoder: Decoder,
    queue: VecDeque<sio::Packet>,
}

impl Polling {
    async fn connect(config: &Config, target: &Target, source: Option<IpAddr>) -> Result<Polling> {
        let mut get = http(target.addr, source).await?;
        let post = http(target.addr, source).await?;
        let host = target.authority.clone();
        let open_uri = format!("{}?EIO=4&transport=polling", config.path);
        let body = request(&mut get, &host, hyper::Method::GET, &open_uri, Bytes::new()).await?;
        let sid = match read_polling_answer(Revision::V4, true, 200, &body, None) {
            Ok(HandshakeOutcome::Opened { handshake, .. }) => handshake.sid,
            other => {
                return Err(ClientError::Unexpected(format!(
                    "handshake answer {other:?}"
                )));
            }
        };
        let mut conn = Polling {
            get,
            post,
            uri: format!("{open_uri}&sid={sid}"),
            host,
            decoder: decoder(),
            queue: VecDeque::new(),
        };
        conn.send(connect_packet(&target.namespace, false)?, &[])
            .await?;
        loop {
            if let sio::Packet::Connect { .. } = conn.next_packet().await? {
                return Ok(conn);
            }
        }
    }

    /// POSTs one Socket.IO packet (text without the `4` prefix) and its attachments.
    async fn send(&mut self, text: String, attachments: &[Bytes]) -> Result<()> {
        let mut packets = Vec::with_capacity(1 + attachments.len());
        packets.push(eio::Packet::text(text));
        packets.extend(attachments.iter().map(|a| eio::Packet::binary(a.as_ref())));
        self.post_packets(&packets).await
    }

    async fn post_packets(&mut self, packets: &[eio::Packet<'_>]) -> Result<()> {
        let mut body = String::new();
        eio::payload::encode_v4(packets, &mut body)
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        let answer = request(
            &mut self.post,
            &self.host,
            hyper::Method::POST,
            &self.uri,
            Bytes::from(body),
        )
        .await?;
        if !answer.eq_ignore_ascii_case(b"ok") {
            return Err(ClientError::Unexpected(format!(
                "answer to a POST: {:?}",
                String::from_utf8_lossy(&answer)
            )));
        }
        Ok(())
    }

    async fn next_packet(&mut self) -> Result<sio::Packet> {
        loop {
            if let Some(packet) = self.queue.pop_front() {
                return Ok(packet);
            }
            let body = request(
                &mut self.get,
                &self.host,
                hyper::Method::GET,
                &self.uri,
                Bytes::new(),
            )
            .await?;
            let mut replies = Vec::new();
            for packet in eio::payload::decode_v4(&body) {
                let decoded = match packet? {
                    ping @ eio::Packet::Ping(_) => {
                        replies.extend(reply_to(&ping));
                        None
                    }
                    eio::Packet::Message(eio::Data::Text(text)) => self.decoder.feed_text(&text)?,
                    eio::Packet::Message(eio::Data::Binary(bytes)) => {
                        self.decoder.feed_binary(Bytes::from(bytes.into_owned()))?
                    }
                    eio::Packet::Close => return Err(ClientError::Closed),
                    _ => None,
                };
                self.queue.extend(decoded);
            }
            for reply in replies {
                self.post_packets(&[reply]).await?;
            }
        }
    }
}

async fn http(addr: SocketAddr, source: Option<IpAddr>) -> Result<Http> {
    let stream = tcp(addr, source).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ClientError::Http(e.to_string()))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn request(
    sender: &mut Http,
    host: &str,
    method: hyper::Method,
    uri: &str,
    body: Bytes,
) -> Result<Bytes> {
    let http_error = |e: &dyn std::fmt::Display| ClientError::Http(e.to_string());
    sender.ready().await.map_err(|e| http_error(&e))?;
    let request = hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(Full::new(body))
        .map_err(|e| http_error(&e))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| http_error(&e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_POLL_BODY)
        .collect()
        .await
        .map_err(|e| http_error(&*e))?
        .to_bytes();
    if !status.is_success() {
        return Err(ClientError::Http(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_frames_carry_the_id() {
        let mut config = Config::new("http://127.0.0.1:1");
        config.payload_bytes = 4;
        let frames = Frames::new(&config, "/").unwrap();
        assert_eq!(frames.echo_text(7, true), r#"427["echo","abcd"]"#);
        let frames = Frames::new(&config, "/admin").unwrap();
        assert_eq!(frames.echo_text(12, false), r#"2/admin,12["echo","abcd"]"#);
        config.binary = true;
        let frames = Frames::new(&config, "/").unwrap();
        assert_eq!(
            frames.echo_text(3, true),
            r#"451-3["echo",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(frames.attachments, [Bytes::from(vec![0xA5; 4])]);
        let fan = frames.fan(99).unwrap();
        assert_eq!(fan.text, r#"51-["fan",99,{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn classifies_packets() {
        assert_eq!(
            classify(sio::Packet::ack("/", 5, vec![])).unwrap(),
            Incoming::Ack(Some(5))
        );
        assert_eq!(
            classify(sio::Packet::event("/", "f", vec![Value::from(42u64)])).unwrap(),
            Incoming::Fan(Some(42))
        );
        assert!(matches!(
            classify(sio::Packet::ConnectError {
                nsp: "/".into(),
                data: Value::Map(vec![("message".into(), "nope".into())])
            }),
            Err(ClientError::Refused(m)) if m == "nope"
        ));
    }
}
