//! Socket.IO 0.9 messages, polling payloads, handshake answers and JSONP scripts.

use sio_legacy_proto::{self as legacy, Message};

use super::json::Json;
use super::report::{FrameReport, LegacyReport, PacketReport};

const PROTOCOL: &str = "socket.io-0.9";

/// One 0.9 message, `type:id:endpoint(:data)`.
pub(crate) fn message(text: &str) -> FrameReport {
    let framing = "one Socket.IO 0.9 message (type:id:endpoint:data)";
    match legacy::decode(text) {
        Ok(message) => {
            let mut report = FrameReport::new(PROTOCOL, framing);
            report.packets.push(message_report(&message));
            report.finish()
        }
        Err(error) => FrameReport::failed(PROTOCOL, framing, format!("Socket.IO 0.9: {error}")),
    }
}

/// A 0.9 polling body, `\u{fffd}<length>\u{fffd}<message>…`.
pub(crate) fn payload(text: &str) -> FrameReport {
    let results: Vec<_> = legacy::decode_payload(text).collect();
    let framing = format!(
        "Socket.IO 0.9 polling payload, {} message{} framed by \\ufffd<length>\\ufffd",
        results.len(),
        if results.len() == 1 { "" } else { "s" }
    );
    let mut report = FrameReport::new(PROTOCOL, framing.clone());
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(message) => report.packets.push(message_report(&message)),
            Err(error) if index == 0 => {
                return FrameReport::failed(PROTOCOL, framing, format!("Socket.IO 0.9: {error}"));
            }
            Err(error) => report.packets.push(PacketReport {
                error: Some(format!("Socket.IO 0.9: {error}")),
                ..PacketReport::default()
            }),
        }
    }
    report.finish()
}

/// The answer to the 0.9 handshake `GET /socket.io/1/`: `sid:heartbeat:close:transports`.
pub(crate) fn handshake(text: &str) -> FrameReport {
    let framing = "Socket.IO 0.9 handshake answer (sid:heartbeat timeout:close timeout:transports)";
    match legacy::Handshake::parse(text) {
        Ok(handshake) => {
            let mut report = FrameReport::new(PROTOCOL, framing);
            let mut packet = PacketReport {
                legacy: Some(LegacyReport {
                    message_type: 0,
                    name: "handshake",
                    id: None,
                    ack: None,
                    endpoint: String::new(),
                    query: None,
                    event: None,
                    args: None,
                    ack_id: None,
                    data: Some(Json::object([
                        ("sid", Json::from(handshake.sid.as_str())),
                        (
                            "heartbeatTimeout",
                            handshake.heartbeat_timeout.map_or(Json::Null, Json::from),
                        ),
                        (
                            "closeTimeout",
                            handshake.close_timeout.map_or(Json::Null, Json::from),
                        ),
                        (
                            "transports",
                            Json::Array(
                                handshake
                                    .transports
                                    .iter()
                                    .map(|t| Json::from(t.as_str()))
                                    .collect(),
                            ),
                        ),
                    ])),
                    reason: None,
                    advice: None,
                }),
                ..PacketReport::default()
            };
            packet.notes.push(format!(
                "connect next to /socket.io/1/<transport>/{} ; heartbeats are due within {} s",
                handshake.sid,
                handshake
                    .heartbeat_timeout
                    .map_or_else(|| "(none)".to_owned(), |t| t.to_string())
            ));
            report.packets.push(packet);
            report.finish()
        }
        Err(error) => FrameReport::failed(PROTOCOL, framing, format!("Socket.IO 0.9: {error}")),
    }
}

/// A 0.9 JSONP polling answer, `io.j[<i>]("<payload>");`.
pub(crate) fn jsonp(text: &str) -> FrameReport {
    let framing = "Socket.IO 0.9 JSONP polling answer";
    match legacy::decode_jsonp(text) {
        Ok(jsonp) => match jsonp.body {
            legacy::JsonpBody::Data(body) => {
                let mut report = if body.starts_with('\u{fffd}') {
                    payload(&body)
                } else if legacy::decode(&body).is_ok() {
                    message(&body)
                } else {
                    handshake(&body)
                };
                report.framing = format!(
                    "Socket.IO 0.9 JSONP answer (callback {}) holding {}",
                    jsonp.index,
                    report.framing.trim_start_matches("Socket.IO 0.9 ")
                );
                report
            }
            legacy::JsonpBody::Error(message) => {
                let mut report = FrameReport::new(PROTOCOL, framing);
                report
                    .notes
                    .push(format!("the server refused the JSONP handshake: {message}"));
                report
            }
        },
        Err(error) => FrameReport::failed(PROTOCOL, framing, format!("Socket.IO 0.9: {error}")),
    }
}

fn message_report(message: &Message) -> PacketReport {
    let message_type = message.message_type();
    let id = message.id();
    let mut report = LegacyReport {
        message_type: message_type as u8,
        name: message_type.name(),
        id: id.map(|id| id.id),
        ack: id.map(|id| if id.user_ack { "user" } else { "auto" }),
        endpoint: message.endpoint().to_owned(),
        query: None,
        event: None,
        args: None,
        ack_id: None,
        data: None,
        reason: None,
        advice: None,
    };
    let note = match message {
        Message::Disconnect { .. } => {
            "leaves the endpoint (or, without one, closes the connection)"
        }
        Message::Connect { query, .. } => {
            report.query.clone_from(query);
            "connects to the endpoint (the server confirms with the same message)"
        }
        Message::Heartbeat => "heartbeat: the server sends it, the client echoes it",
        Message::Message { data, .. } => {
            report.data = Some(Json::String(data.clone()));
            "a plain text message (socket.send)"
        }
        Message::Json { data, .. } => {
            report.data = Some(Json::from(data));
            "a JSON message (socket.json.send)"
        }
        Message::Event { name, args, .. } => {
            report.event = Some(name.clone());
            report.args = Some(args.iter().map(Json::from).collect());
            if id.is_some_and(|id| id.user_ack) {
                "the sender waits for an ack (6) with this id; `+` means the receiver's code sends it"
            } else if id.is_some() {
                "the receiver acknowledges this id automatically"
            } else {
                "an event"
            }
        }
        Message::Ack { ack_id, args, .. } => {
            report.ack_id = Some(*ack_id);
            report.args = Some(args.iter().map(Json::from).collect());
            "answers the message with this id"
        }
        Message::Error { reason, advice, .. } => {
            report.reason = Some(reason.clone());
            report.advice.clone_from(advice);
            "the server reports an error"
        }
        Message::Noop => "no operation",
    };
    let mut packet = PacketReport {
        legacy: Some(report),
        ..PacketReport::default()
    };
    if !note.is_empty() {
        packet.notes.push(note.into());
    }
    packet
}
