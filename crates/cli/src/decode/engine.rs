//! Engine.IO frames and payloads, with the Socket.IO packets they carry (text and msgpack parsers).

use base64::Engine as _;
use bytes::Bytes;
use sio_engineio_proto::{self as eio, Data, Revision, payload};
use sio_socketio_proto::{
    self as sio, Decoder, DecoderConfig, Packet as SioPacket, ProtocolVersion,
};

use super::json::Json;
use super::report::{EngineIoReport, FrameReport, HandshakeReport, PacketReport, SocketIoReport};
use super::value::{attachment_marker, binary_json, to_json};

/// Attachments announced by a BINARY_EVENT/BINARY_ACK header and not yet seen. They may come in
/// later packets of the same payload or in later frames, so this lives across frames.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pending {
    header: Option<PendingHeader>,
}

#[derive(Debug, Clone)]
struct PendingHeader {
    text: String,
    version: ProtocolVersion,
    name: String,
    expected: usize,
    received: Vec<Bytes>,
}

impl Pending {
    /// Attachments still awaited.
    pub(crate) fn awaiting(&self) -> usize {
        self.header
            .as_ref()
            .map_or(0, |h| h.expected.saturating_sub(h.received.len()))
    }

    /// Gives up on the awaited attachments, saying so.
    fn abandon(&mut self) -> Option<String> {
        let header = self.header.take()?;
        Some(format!(
            "the {} before this packet still awaited {} attachment(s); they were not in the input",
            header.name,
            header.expected.saturating_sub(header.received.len())
        ))
    }
}

/// Most attachments shown for one header (the reference server accepts 10 by default).
const MAX_ATTACHMENTS: usize = 1000;
/// Attachments the reference server accepts by default.
const REFERENCE_MAX_ATTACHMENTS: usize = 10;

fn packet_name(packet_type: eio::PacketType) -> &'static str {
    match packet_type {
        eio::PacketType::Open => "open",
        eio::PacketType::Close => "close",
        eio::PacketType::Ping => "ping",
        eio::PacketType::Pong => "pong",
        eio::PacketType::Message => "message",
        eio::PacketType::Upgrade => "upgrade",
        eio::PacketType::Noop => "noop",
    }
}

/// An Engine.IO v4 text frame, or a v4 polling body (packets joined by `\x1e`).
pub(crate) fn v4_payload(text: &str, pending: &mut Pending) -> FrameReport {
    let packets: Vec<_> = payload::decode_v4(text.as_bytes()).collect();
    let several = packets.len() > 1;
    let has_base64 = text.starts_with('b') || text.contains("\x1eb");
    let single = !text.contains('\x1e');
    let (framing, revision) = if several {
        (
            format!(
                "Engine.IO v4 polling payload, {} packets joined by \\x1e",
                packets.len()
            ),
            Some("v4"),
        )
    } else if has_base64 {
        (
            "one Engine.IO v4 packet (binary as base64: a polling body)".to_owned(),
            Some("v4"),
        )
    } else {
        (
            "one Engine.IO packet (a WebSocket frame or a polling body; v3 and v4 write it alike)"
                .to_owned(),
            None,
        )
    };
    packets_report(packets, framing, revision, pending, single)
}

/// An Engine.IO v3 string payload: `<length>:<packet>…`.
pub(crate) fn v3_payload(text: &str, pending: &mut Pending) -> FrameReport {
    let packets: Vec<_> = payload::decode_v3_string(text.as_bytes()).collect();
    let framing = format!(
        "Engine.IO v3 polling payload, {} length-prefixed packet{}",
        packets.len(),
        if packets.len() == 1 { "" } else { "s" }
    );
    let mut report = packets_report(packets, framing, Some("v3"), pending, false);
    if report.packets.is_empty() && report.error.is_none() {
        report.notes.push(
            "an empty payload: what a v3 server answers a poll with when it has nothing to send"
                .into(),
        );
    }
    report
}

/// A single Engine.IO v3 text packet, where binary is `b4<base64>`.
pub(crate) fn v3_frame(text: &str, pending: &mut Pending) -> FrameReport {
    let packets = vec![eio::decode_text_frame(text, Revision::V3)];
    packets_report(
        packets,
        "one Engine.IO v3 packet (binary as b4<base64>)",
        Some("v3"),
        pending,
        true,
    )
}

/// A JSONP polling answer of Engine.IO v3: `___eio[<j>]("<payload>");`.
pub(crate) fn jsonp_script(text: &str, pending: &mut Pending) -> FrameReport {
    let framing = "Engine.IO v3 JSONP polling answer";
    let Some(rest) = text.strip_prefix("___eio[") else {
        return FrameReport::failed("engine.io", framing, "expected `___eio[` at byte 0".into());
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (index, rest) = rest.split_at_checked(digits).unwrap_or(("", rest));
    let Some(literal) = rest.strip_prefix("](").and_then(|r| {
        r.trim_end()
            .strip_suffix(';')
            .unwrap_or(r)
            .strip_suffix(')')
    }) else {
        return FrameReport::failed(
            "engine.io",
            framing,
            format!(
                "expected `](\"…\");` after `___eio[{index}` at byte {}",
                7 + digits
            ),
        );
    };
    let body = match serde_json::from_str::<String>(literal) {
        Ok(body) => body,
        Err(error) => {
            return FrameReport::failed(
                "engine.io",
                framing,
                format!(
                    "the callback argument at byte {} is not a JSON string: {error}",
                    9 + digits
                ),
            );
        }
    };
    let mut report = v3_payload(&body, pending);
    report.framing = format!(
        "Engine.IO v3 JSONP answer (callback {index}) holding a {}",
        report.framing.trim_start_matches("Engine.IO v3 ")
    );
    report
}

/// A JSONP POST body of Engine.IO v3: `d=<url-encoded payload>`.
pub(crate) fn jsonp_form(text: &str, pending: &mut Pending) -> FrameReport {
    match payload::decode_jsonp_body(text.as_bytes()) {
        Ok(body) => {
            let mut report = v3_payload(&body, pending);
            report.framing = format!(
                "Engine.IO v3 JSONP form (the client's POST) holding a {}",
                report.framing.trim_start_matches("Engine.IO v3 ")
            );
            report
        }
        Err(error) => FrameReport::failed(
            "engine.io",
            "Engine.IO v3 JSONP form",
            format!("Engine.IO: {error}"),
        ),
    }
}

fn packets_report(
    packets: Vec<Result<eio::Packet<'_>, eio::DecodeError>>,
    framing: impl Into<String>,
    revision: Option<&'static str>,
    pending: &mut Pending,
    single: bool,
) -> FrameReport {
    let framing = framing.into();
    let mut report = FrameReport::new("engine.io", framing.clone());
    let mut decoded = 0;
    for packet in packets {
        match packet {
            Ok(packet) => {
                decoded += 1;
                let packet_report = packet_report(packet, revision, pending);
                report.packets.push(packet_report);
            }
            Err(error) => {
                let message = engine_error(&error, single);
                if decoded == 0 {
                    return FrameReport::failed("engine.io", framing, message);
                }
                report.packets.push(PacketReport {
                    error: Some(message),
                    ..PacketReport::default()
                });
            }
        }
    }
    report.finish()
}

/// An Engine.IO decoding error in words; a frame of one packet needs no packet index.
fn engine_error(error: &eio::DecodeError, single: bool) -> String {
    let shown = if single { error.kind() } else { error };
    let mut message = format!("Engine.IO: {shown}");
    if let eio::DecodeError::UnknownPacketType { byte, .. } = error.kind()
        && byte.is_ascii_graphic()
    {
        message.push_str(&format!(
            " ({:?}: Engine.IO packets start with a type digit 0-6, or b for base64 binary)",
            char::from(*byte)
        ));
    }
    message
}

/// A binary frame (or a `b<base64>` packet): an attachment awaited, a msgpack packet, or raw
/// Engine.IO binary data.
pub(crate) fn binary_frame(bytes: &[u8], pending: &mut Pending, msgpack: bool) -> FrameReport {
    // An Engine.IO v3 XHR2 polling body: `<0|1><length digits>0xff<packet>…`.
    if matches!(bytes.first(), Some(0 | 1)) && !msgpack {
        let packets: Vec<_> = payload::decode_v3_binary(bytes).take(10_000).collect();
        if !packets.is_empty() && packets.iter().all(Result::is_ok) {
            let framing = format!(
                "Engine.IO v3 XHR2 binary polling payload, {} packet{}",
                packets.len(),
                if packets.len() == 1 { "" } else { "s" }
            );
            return packets_report(packets, framing, Some("v3"), pending, false);
        }
    }
    let mut report = FrameReport::new(
        "engine.io",
        format!("one binary Engine.IO message ({} bytes)", bytes.len()),
    );
    // Engine.IO v3 WebSocket binary frames start with the message type byte 4.
    if pending.awaiting() == 0
        && bytes.first() == Some(&4)
        && let Some(rest) = bytes.get(1..)
        && let Ok(packet) = sio::msgpack::decode(rest)
    {
        let mut packet_report = binary_message_report(rest, Some("v3"));
        packet_report.socketio = Some(msgpack_report(&packet));
        packet_report.notes.push(
            "Engine.IO v3 WebSocket binary frame: the leading byte 4 is the message type".into(),
        );
        report.packets.push(packet_report);
        return report.finish();
    }
    let mut packet_report = binary_message_report(bytes, None);
    binary_message(bytes, pending, msgpack, &mut packet_report);
    report.packets.push(packet_report);
    report.finish()
}

fn binary_message_report(bytes: &[u8], revision: Option<&'static str>) -> PacketReport {
    PacketReport {
        engineio: Some(EngineIoReport {
            revision,
            packet_type: Some(4),
            name: "message",
            binary: true,
            data: Some(binary_json(bytes)),
            handshake: None,
        }),
        ..PacketReport::default()
    }
}

fn binary_message(bytes: &[u8], pending: &mut Pending, msgpack: bool, report: &mut PacketReport) {
    if pending.awaiting() > 0 {
        attachment(bytes, pending, report);
        return;
    }
    match sio::msgpack::decode(bytes) {
        Ok(packet) => report.socketio = Some(msgpack_report(&packet)),
        Err(error) if msgpack => {
            report.error = Some(format!("Socket.IO msgpack parser: {error}"));
        }
        Err(error) if looks_like_msgpack(bytes) => report.notes.push(format!(
            "raw binary data: an attachment of a BINARY_EVENT/BINARY_ACK sent before it, or a plain \
             Engine.IO binary message (not a msgpack Socket.IO packet: {error})"
        )),
        Err(_) => report.notes.push(
            "raw binary data: an attachment of a BINARY_EVENT/BINARY_ACK sent before it, or a plain \
             Engine.IO binary message"
                .into(),
        ),
    }
}

fn attachment(bytes: &[u8], pending: &mut Pending, report: &mut PacketReport) {
    let Some(header) = pending.header.as_mut() else {
        return;
    };
    header.received.push(Bytes::copy_from_slice(bytes));
    let (count, expected) = (header.received.len(), header.expected);
    if count < expected {
        report.notes.push(format!(
            "attachment {count} of {expected} of the {} before it",
            header.name
        ));
        return;
    }
    let Some(header) = pending.header.take() else {
        return;
    };
    let mut decoder = Decoder::new(DecoderConfig {
        version: header.version,
        max_attachments: MAX_ATTACHMENTS,
    });
    let mut result = decoder.feed_text(&header.text).map(|_| None);
    for data in header.received {
        result = result.and_then(|_| decoder.feed_binary(data));
    }
    match result {
        Ok(Some(packet)) => {
            let wire_type = header
                .text
                .bytes()
                .next()
                .map_or(0, |b| b.wrapping_sub(b'0'));
            report.socketio = Some(sio_report(
                &packet,
                wire_type,
                expected,
                "text",
                protocol_of(&packet, None),
            ));
            report.notes.push(format!(
                "attachment {count} of {expected}: completes the {} before it (shown with its binary data)",
                header.name
            ));
        }
        Ok(None) => report.notes.push(format!(
            "attachment {count} of {expected} of the {}",
            header.name
        )),
        Err(error) => {
            report.error = Some(format!(
                "Socket.IO: the attachments do not fit the {} header: {error}",
                header.name
            ));
        }
    }
}

fn packet_report(
    packet: eio::Packet<'_>,
    revision: Option<&'static str>,
    pending: &mut Pending,
) -> PacketReport {
    let packet_type = packet.packet_type();
    let mut report = PacketReport {
        engineio: Some(EngineIoReport {
            revision,
            packet_type: Some(packet_type.as_u8()),
            name: packet_name(packet_type),
            binary: packet.is_binary(),
            data: None,
            handshake: None,
        }),
        ..PacketReport::default()
    };
    let mut engine_revision = revision;
    match &packet {
        eio::Packet::Open(handshake) => {
            if handshake.max_payload.is_some() {
                engine_revision = engine_revision.or(Some("v4"));
                report.notes.push(
                    "the server opened an Engine.IO v4 session (Socket.IO 3.x/4.x: maxPayload is sent)"
                        .into(),
                );
            } else {
                engine_revision = engine_revision.or(Some("v3"));
                report.notes.push(
                    "no maxPayload: an Engine.IO v3 server (Socket.IO 1.x/2.x), or a v4 one that omits it"
                        .into(),
                );
            }
            if handshake.upgrades.is_empty() {
                report.notes.push(
                    "no upgrades offered: this session already runs on WebSocket, or the server allows no other transport"
                        .into(),
                );
            }
            if let Some(eio) = report.engineio.as_mut() {
                eio.handshake = Some(HandshakeReport::from(handshake));
            }
        }
        eio::Packet::Close => report.notes.push("closes the Engine.IO session".into()),
        eio::Packet::Ping(data) | eio::Packet::Pong(data) => {
            let ping = matches!(packet, eio::Packet::Ping(_));
            if !data.is_empty() {
                set_data(&mut report, Json::String(data.to_string()));
            }
            let note = match (ping, data.as_ref(), revision) {
                (true, "probe", _) => {
                    "upgrade probe: the client tests the new WebSocket before switching to it"
                }
                (false, "probe", _) => "answer to the upgrade probe: the WebSocket works",
                (true, _, Some("v4")) => {
                    "heartbeat: Engine.IO v4 servers ping every pingInterval, the client answers 3"
                }
                (true, _, Some("v3")) => {
                    "heartbeat: Engine.IO v3 clients ping every pingInterval, the server answers 3"
                }
                (true, _, _) => {
                    "heartbeat: in v4 the server pings and the client answers 3; in v3 (Socket.IO 2.x) the client pings"
                }
                (false, _, _) => "heartbeat answer to a ping",
            };
            report.notes.push(note.into());
        }
        eio::Packet::Message(Data::Text(text)) => {
            set_data(&mut report, Json::String(text.to_string()));
            socketio_text(text, revision, pending, &mut report);
        }
        eio::Packet::Message(Data::Binary(bytes)) => {
            set_data(&mut report, binary_json(bytes));
            binary_message(bytes, pending, false, &mut report);
        }
        eio::Packet::Upgrade => report.notes.push(
            "the client switches to the WebSocket: from now on everything goes over it".into(),
        ),
        eio::Packet::Noop => report.notes.push(
            "no operation: the server ends a pending poll so the client can finish an upgrade"
                .into(),
        ),
    }
    if let Some(eio) = report.engineio.as_mut() {
        eio.revision = engine_revision;
    }
    report
}

fn set_data(report: &mut PacketReport, data: Json) {
    if let Some(eio) = report.engineio.as_mut() {
        eio.data = Some(data);
    }
}

/// Decodes the text of an Engine.IO message as a Socket.IO packet.
fn socketio_text(
    text: &str,
    revision: Option<&'static str>,
    pending: &mut Pending,
    report: &mut PacketReport,
) {
    if let Some(note) = pending.abandon() {
        report.notes.push(note);
    }
    let Some(first) = text.bytes().next() else {
        report
            .notes
            .push("an empty message: not a Socket.IO packet".into());
        return;
    };
    if !(b'0'..=b'6').contains(&first) {
        report.notes.push(format!(
            "a plain Engine.IO message, not a Socket.IO packet (those start with a digit 0-6, this one with {:?})",
            text.chars().next().unwrap_or_default()
        ));
        return;
    }
    let wire_type = first - b'0';
    let version = if revision == Some("v3") {
        ProtocolVersion::V4
    } else {
        ProtocolVersion::V5
    };
    match decode_header(text, version) {
        Ok((packet, 0)) => {
            // v4 (Socket.IO 2.x) writes the CONNECT query on the namespace.
            let packet = match &packet {
                SioPacket::Connect { nsp, .. } if nsp.contains('?') => {
                    decode_header(text, ProtocolVersion::V4).map_or(packet, |(p, _)| p)
                }
                _ => packet,
            };
            report.socketio = Some(sio_report(
                &packet,
                wire_type,
                0,
                "text",
                protocol_of(&packet, revision),
            ));
            add_socketio_notes(&packet, wire_type, report);
        }
        Ok((packet, attachments)) => {
            let mut sio = sio_report(
                &packet,
                wire_type,
                attachments,
                "text",
                protocol_of(&packet, revision),
            );
            sio.protocol = sio.protocol.or(match version {
                ProtocolVersion::V4 => Some("v4"),
                ProtocolVersion::V5 => None,
            });
            let name = sio.name.clone();
            report.socketio = Some(sio);
            report.notes.push(format!(
                "{attachments} binary attachment{} expected: {} as binary WebSocket frames, or as `b…` packets in a polling payload",
                if attachments == 1 { "" } else { "s" },
                if attachments == 1 { "it follows" } else { "they follow" },
            ));
            if attachments > REFERENCE_MAX_ATTACHMENTS {
                report.notes.push(format!(
                    "the reference server refuses more than {REFERENCE_MAX_ATTACHMENTS} attachments by default"
                ));
            }
            pending.header = Some(PendingHeader {
                text: text.to_owned(),
                version,
                name,
                expected: attachments,
                received: Vec::new(),
            });
        }
        Err(error) => {
            let mut message =
                format!("Socket.IO (the message text after the Engine.IO type 4): {error}");
            if text.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
                message.push_str(
                    " (the frame holds typographic quotes “ ” ‘ ’, probably from a word processor or a web page: JSON needs plain \")",
                );
            }
            report.error = Some(message);
        }
    }
}

/// Decodes a Socket.IO text packet; a BINARY_* header is completed with stand-in attachments
/// (shown as their placeholders) and its attachment count returned.
fn decode_header(
    text: &str,
    version: ProtocolVersion,
) -> Result<(SioPacket, usize), sio::DecodeError> {
    let mut decoder = Decoder::new(DecoderConfig {
        version,
        max_attachments: MAX_ATTACHMENTS,
    });
    if let Some(packet) = decoder.feed_text(text)? {
        return Ok((packet, 0));
    }
    let attachments = decoder.pending_attachments();
    for num in 0..attachments {
        if let Some(packet) = decoder.feed_binary(attachment_marker(num))? {
            return Ok((packet, attachments));
        }
    }
    Err(sio::DecodeError::UnexpectedBinary)
}

/// Which Socket.IO protocol revision a packet shows, when it shows one.
fn protocol_of(packet: &SioPacket, revision: Option<&'static str>) -> Option<&'static str> {
    let from_engine = match revision {
        Some("v3") => Some("v4"),
        Some("v4") => Some("v5"),
        _ => None,
    };
    match packet {
        SioPacket::Connect { query: Some(_), .. } => Some("v4"),
        SioPacket::Connect { data: Some(_), .. } => Some("v5"),
        SioPacket::ConnectError { data, .. } if data.is_str() => Some("v4"),
        SioPacket::ConnectError { .. } => Some("v5"),
        _ => from_engine,
    }
}

fn add_socketio_notes(packet: &SioPacket, wire_type: u8, report: &mut PacketReport) {
    let note = match packet {
        SioPacket::Connect {
            data: Some(data), ..
        } => {
            let has_sid = sio_socketio_proto::value::field(data, "sid").is_some();
            if has_sid {
                "the server accepted the namespace connection (protocol v5: the answer carries the Socket.IO id)"
            } else {
                "a client's namespace connection request with auth data (protocol v5)"
            }
        }
        SioPacket::Connect { query: Some(_), .. } => {
            "a v4 client's connection request: the query rides on the namespace (Socket.IO 1.x/2.x)"
        }
        SioPacket::Connect { .. } => {
            "a client's namespace connection request (v5), or a v4 server (Socket.IO 2.x) confirming the connection (v5 servers answer with a sid)"
        }
        SioPacket::Disconnect { .. } => "leaves the namespace",
        SioPacket::ConnectError { data, .. } if data.is_str() => {
            "protocol v4 ERROR (Socket.IO 2.x): the namespace connection was refused"
        }
        SioPacket::ConnectError { .. } => "the server refused the namespace connection",
        SioPacket::Event { id: Some(_), .. } => "the sender waits for an ACK with the same id",
        SioPacket::Ack { .. } if wire_type == 6 => {
            "answers the EVENT with the same id (with binary)"
        }
        SioPacket::Ack { .. } => "answers the EVENT with the same id",
        SioPacket::Event { .. } => return,
    };
    report.notes.push(note.into());
}

fn type_name(packet: &SioPacket, wire_type: u8) -> String {
    match (packet, wire_type) {
        (_, 5) => "BINARY_EVENT".into(),
        (_, 6) => "BINARY_ACK".into(),
        (SioPacket::ConnectError { data, .. }, _) if data.is_str() => "ERROR".into(),
        (packet, _) => packet.packet_type().to_string(),
    }
}

fn sio_report(
    packet: &SioPacket,
    wire_type: u8,
    attachments: usize,
    parser: &'static str,
    protocol: Option<&'static str>,
) -> SocketIoReport {
    let mut report = SocketIoReport {
        protocol,
        parser,
        packet_type: wire_type,
        name: type_name(packet, wire_type),
        namespace: packet.nsp().to_owned(),
        query: None,
        ack_id: None,
        attachments,
        event: None,
        args: None,
        data: None,
    };
    match packet {
        SioPacket::Connect { data, query, .. } => {
            report.data = data.as_ref().map(to_json);
            report.query.clone_from(query);
        }
        SioPacket::Disconnect { .. } => {}
        SioPacket::Event {
            id, event, args, ..
        } => {
            report.ack_id = *id;
            report.event = Some(event.clone());
            report.args = Some(args.iter().map(to_json).collect());
        }
        SioPacket::Ack { id, args, .. } => {
            report.ack_id = Some(*id);
            report.args = Some(args.iter().map(to_json).collect());
        }
        SioPacket::ConnectError { data, .. } => report.data = Some(to_json(data)),
    }
    report
}

fn msgpack_report(packet: &SioPacket) -> SocketIoReport {
    sio_report(
        packet,
        packet.packet_type().as_u8(),
        0,
        "msgpack",
        Some("v5"),
    )
}

/// Bytes given as hex (`hex:`, `0x`, or plain pairs of hex digits, spaces allowed) or base64
/// (`base64:`, or plain). `explicit_only` accepts only the prefixed forms.
pub(crate) fn parse_bytes(input: &str, explicit_only: bool) -> Option<Vec<u8>> {
    if let Some(hex) = input
        .strip_prefix("hex:")
        .or_else(|| input.strip_prefix("0x"))
    {
        return parse_hex(hex);
    }
    if let Some(b64) = input.strip_prefix("base64:") {
        return parse_base64(b64);
    }
    if explicit_only {
        return None;
    }
    parse_hex(input).or_else(|| parse_base64(input))
}

fn parse_hex(input: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = input
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

fn parse_base64(input: &str) -> Option<Vec<u8>> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
}

/// Whether `bytes` start like a socket.io-msgpack-parser packet (a msgpack map), possibly
/// behind the Engine.IO v3 message byte.
pub(crate) fn looks_like_msgpack(bytes: &[u8]) -> bool {
    let is_map = |b: &u8| matches!(b, 0x80..=0x8f | 0xde | 0xdf);
    match bytes {
        [4, second, ..] => is_map(second),
        [first, ..] => is_map(first),
        [] => false,
    }
}
