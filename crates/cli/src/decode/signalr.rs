//! Frames that are JSON objects: ASP.NET Core SignalR (JSON hub protocol, records ending in
//! `\x1e`, and negotiate answers), and the JSON answers of an Engine.IO server.

use sio_engineio_proto::{ErrorResponse, Handshake};

use super::json::Json;
use super::report::{EngineIoReport, FrameReport, HandshakeReport, PacketReport, SignalRReport};

const RECORD_SEPARATOR: char = '\x1e';

/// A frame starting with `{`.
pub(crate) fn json_frame(text: &str) -> FrameReport {
    let records: Vec<&str> = text.split(RECORD_SEPARATOR).collect();
    // A SignalR frame ends with the separator, which leaves an empty last piece.
    let terminated = text.ends_with(RECORD_SEPARATOR);
    let records: Vec<&str> = match records.split_last() {
        Some((last, rest)) if last.trim().is_empty() => rest.to_vec(),
        _ => records,
    };
    let mut report = FrameReport::new(
        "signalr",
        format!(
            "ASP.NET Core SignalR JSON hub protocol, {} record{} ending in \\x1e",
            records.len(),
            if records.len() == 1 { "" } else { "s" }
        ),
    );
    let mut offset = 0;
    for (index, record) in records.iter().enumerate() {
        let packet = record_report(record, offset);
        offset += record.len() + 1;
        if index == 0 {
            if packet.engineio.is_some() {
                report.protocol = "engine.io";
                report.framing = "JSON answer of an Engine.IO server (HTTP body)".into();
            } else if packet
                .signalr
                .as_ref()
                .is_some_and(|s| s.name.starts_with("negotiate"))
            {
                report.framing =
                    "ASP.NET Core SignalR negotiate answer (HTTP body of POST …/negotiate)".into();
            } else if packet.error.is_some() && records.len() == 1 && !record.contains("\"type\"") {
                let error = packet.error.unwrap_or_default();
                return FrameReport::failed("unknown", "a JSON object", error);
            }
        }
        report.packets.push(packet);
    }
    let hub_messages = report.packets.iter().any(|p| {
        p.signalr
            .as_ref()
            .is_some_and(|s| !s.name.starts_with("negotiate"))
    });
    if hub_messages && !terminated {
        report.notes.push(
            "no \\x1e at the end: on the wire every SignalR JSON record ends with one (DevTools may hide it)"
                .into(),
        );
    }
    report.finish()
}

fn record_report(record: &str, offset: usize) -> PacketReport {
    let mut packet = PacketReport::default();
    let object: Json = match serde_json::from_str::<Json>(record) {
        Ok(object @ Json::Object(_)) => object,
        Ok(_) => {
            packet.error = Some(format!(
                "the record at byte {offset} is JSON but not an object"
            ));
            return packet;
        }
        Err(error) => {
            packet.error = Some(format!(
                "invalid JSON in the record at byte {offset}: {error}"
            ));
            return packet;
        }
    };
    let has = |key: &str| object.get(key).is_some();
    let len = match &object {
        Json::Object(entries) => entries.len(),
        _ => 0,
    };
    if let Some(kind) = object.get("type") {
        let Some(kind) = kind.as_u64() else {
            packet.error = Some("SignalR `type` must be a number".into());
            return packet;
        };
        hub_message(kind, &object, &mut packet);
    } else if has("protocol") && has("version") {
        let protocol = object.get("protocol").and_then(Json::as_str).unwrap_or("?");
        packet.notes.push(format!(
            "the client asks for the `{protocol}` hub protocol; the server answers {{}} (accepted) or {{\"error\":…}}"
        ));
        signalr(&mut packet, None, "handshake request", object);
    } else if len == 0 {
        packet
            .notes
            .push("the server accepted the handshake: hub messages follow".into());
        signalr(&mut packet, None, "handshake response", object);
    } else if has("error") && len == 1 {
        let error = object
            .get("error")
            .and_then(Json::as_str)
            .unwrap_or_default();
        packet
            .notes
            .push(format!("the server refused the handshake: {error}"));
        signalr(&mut packet, None, "handshake response (error)", object);
    } else if has("availableTransports") || has("negotiateVersion") || has("connectionId") {
        negotiate(&object, &mut packet);
    } else if has("url") && has("accessToken") {
        packet.notes.push(
            "redirect (Azure SignalR Service): connect to `url` with `accessToken` as the bearer token"
                .into(),
        );
        signalr(&mut packet, None, "negotiate answer (redirect)", object);
    } else if has("code") && has("message") {
        engineio_error(record, &mut packet);
    } else if has("sid") && has("pingInterval") {
        engineio_handshake(record, &mut packet);
    } else {
        packet.error = Some(
            "a JSON object, but neither a SignalR record (no `type`, `protocol` or `error`) nor an Engine.IO answer"
                .into(),
        );
    }
    packet
}

fn signalr(packet: &mut PacketReport, message_type: Option<u64>, name: &str, fields: Json) {
    packet.signalr = Some(SignalRReport {
        message_type,
        name: name.to_owned(),
        fields,
    });
}

fn hub_message(kind: u64, object: &Json, packet: &mut PacketReport) {
    let name = match kind {
        1 => "Invocation",
        2 => "StreamItem",
        3 => "Completion",
        4 => "StreamInvocation",
        5 => "CancelInvocation",
        6 => "Ping",
        7 => "Close",
        8 => "Ack",
        9 => "Sequence",
        _ => {
            packet.error = Some(format!(
                "unknown SignalR message type {kind} (1 Invocation … 7 Close, 8 Ack, 9 Sequence)"
            ));
            return;
        }
    };
    let text = |key: &str| object.get(key).and_then(Json::as_str);
    let invocation = text("invocationId");
    let missing = |field: &str| format!("SignalR {name} without `{field}`");
    match kind {
        1 | 4 => {
            let arguments = object.get("arguments").and_then(Json::as_array);
            match (text("target"), arguments) {
                (None, _) => packet.error = Some(missing("target")),
                (_, None) => packet.error = Some(missing("arguments")),
                (Some(target), Some(args)) => packet.notes.push(match (kind, invocation) {
                    (1, None) => format!("calls `{target}` with {} argument(s), no answer expected", args.len()),
                    (1, Some(id)) => format!("calls `{target}` with {} argument(s); a Completion with invocationId {id} answers", args.len()),
                    (_, id) => format!("calls the streaming method `{target}` with {} argument(s); StreamItems with invocationId {} follow", args.len(), id.unwrap_or("?")),
                }),
            }
        }
        2 => match invocation {
            Some(id) => packet.notes.push(format!("one item of the stream {id}")),
            None => packet.error = Some(missing("invocationId")),
        },
        3 => match invocation {
            Some(id) if object.get("error").is_some() => packet.notes.push(format!(
                "invocation {id} failed: {}",
                text("error").unwrap_or("?")
            )),
            Some(id) if object.get("result").is_some() => {
                packet
                    .notes
                    .push(format!("invocation {id} returned a result"));
            }
            Some(id) => packet.notes.push(format!("invocation {id} finished")),
            None => packet.error = Some(missing("invocationId")),
        },
        5 => match invocation {
            Some(id) => packet.notes.push(format!("cancels the stream {id}")),
            None => packet.error = Some(missing("invocationId")),
        },
        6 => packet
            .notes
            .push("keep-alive (each side sends one every 15 s by default)".into()),
        7 => {
            let reconnect = object.get("allowReconnect").and_then(Json::as_bool);
            packet.notes.push(match (text("error"), reconnect) {
                (Some(error), Some(true)) => {
                    format!("the server closes the connection ({error}); the client may reconnect")
                }
                (Some(error), _) => format!("the server closes the connection: {error}"),
                (None, Some(true)) => {
                    "the server closes the connection; the client may reconnect".into()
                }
                (None, _) => "the server closes the connection".into(),
            });
        }
        _ => packet
            .notes
            .push("stateful reconnect bookkeeping (ASP.NET Core 8+)".into()),
    }
    signalr(packet, Some(kind), name, object.clone());
}

fn negotiate(object: &Json, packet: &mut PacketReport) {
    let transports: Vec<String> = object
        .get("availableTransports")
        .and_then(Json::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|t| t.get("transport").and_then(Json::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !transports.is_empty() {
        packet
            .notes
            .push(format!("transports offered: {}", transports.join(", ")));
    }
    if let Some(token) = object
        .get("connectionToken")
        .or_else(|| object.get("connectionId"))
        .and_then(Json::as_str)
    {
        packet
            .notes
            .push(format!("the client connects next with ?id={token}"));
    }
    signalr(packet, None, "negotiate answer", object.clone());
}

fn engineio_error(record: &str, packet: &mut PacketReport) {
    match ErrorResponse::decode(record.as_bytes()) {
        Ok(answer) => {
            let meaning = match answer.error_code() {
                Some(code) => format!(
                    "Engine.IO error {}: {} (HTTP {})",
                    answer.code,
                    code.message(),
                    code.http_status()
                ),
                None => format!("Engine.IO error {} (unknown code)", answer.code),
            };
            packet.notes.push(meaning);
            if answer.code == 5 {
                packet.notes.push(
                    "the server does not speak the EIO= revision asked for: a Socket.IO 3/4 server refuses EIO=3 unless allowEIO3 is on"
                        .into(),
                );
            }
            packet.engineio = Some(EngineIoReport {
                revision: None,
                packet_type: None,
                name: "error answer",
                binary: false,
                data: serde_json::from_str(record).ok(),
                handshake: None,
            });
        }
        Err(error) => packet.error = Some(format!("Engine.IO: {error}")),
    }
}

fn engineio_handshake(record: &str, packet: &mut PacketReport) {
    match Handshake::from_json(record) {
        Ok(handshake) => {
            packet.notes.push(
                "the data of an Engine.IO open packet (on the wire it follows the type digit 0)"
                    .into(),
            );
            packet.engineio = Some(EngineIoReport {
                revision: Some(if handshake.max_payload.is_some() {
                    "v4"
                } else {
                    "v3"
                }),
                packet_type: Some(0),
                name: "open",
                binary: false,
                data: None,
                handshake: Some(HandshakeReport::from(&handshake)),
            });
        }
        Err(error) => packet.error = Some(format!("Engine.IO: {error}")),
    }
}
