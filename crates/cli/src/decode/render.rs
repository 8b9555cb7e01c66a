//! The human-readable breakdown of a [`FrameReport`].

use std::fmt::Write as _;

use super::json::Json;
use super::report::{FrameReport, HandshakeReport, PacketReport};
use crate::output::{Style, escape_control};
use base64::Engine as _;

/// Width of the label column.
const LABEL: usize = 13;
/// Longest JSON value printed on one line; longer ones are indented over several lines.
const COMPACT: usize = 72;

/// The breakdown of one frame, ending with a blank line.
pub(crate) fn frame(report: &FrameReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold(escape_control(&report.frame, 200)));
    let mut lines = Lines {
        out: &mut out,
        style,
        indent: 2,
    };
    lines.field("reading", &report.framing);
    if let Some(error) = &report.error {
        lines.error(error);
    }
    let many = report.packets.len() > 1;
    for (index, packet) in report.packets.iter().enumerate() {
        if many {
            let _ = writeln!(
                lines.out,
                "  {}",
                style.bold(format!("packet {}", index + 1))
            );
            lines.indent = 4;
        }
        lines.packet(packet);
        lines.indent = 2;
    }
    for note in &report.notes {
        lines.note(note);
    }
    for alternative in &report.alternatives {
        lines.labelled("also reads as", &style.dim(alternative));
    }
    out.push('\n');
    out
}

struct Lines<'a> {
    out: &'a mut String,
    style: Style,
    indent: usize,
}

impl Lines<'_> {
    fn labelled(&mut self, label: &str, value: &str) {
        let pad = " ".repeat(self.indent);
        let label_text = format!("{label:<LABEL$}");
        let continuation = " ".repeat(self.indent + LABEL.max(label.len()) + 1);
        let mut first = true;
        for line in value.lines() {
            if first {
                let _ = writeln!(self.out, "{pad}{} {line}", self.style.dim(&label_text));
                first = false;
            } else {
                let _ = writeln!(self.out, "{continuation}{line}");
            }
        }
        if first {
            let _ = writeln!(self.out, "{pad}{}", self.style.dim(label_text.trim_end()));
        }
    }

    fn field(&mut self, label: &str, value: &str) {
        self.labelled(label, value);
    }

    fn error(&mut self, error: &str) {
        let text = self.style.red(error);
        self.labelled("error", &text);
    }

    fn note(&mut self, note: &str) {
        let text = self.style.yellow(note);
        self.labelled("note", &text);
    }

    fn json(&mut self, label: &str, value: &Json) {
        self.labelled(label, &show_json(value));
    }

    fn args(&mut self, args: &[Json]) {
        if args.is_empty() {
            self.labelled("args", &self.style.dim("(none)"));
            return;
        }
        let mut text = String::new();
        for (index, arg) in args.iter().enumerate() {
            let shown = show_json(arg);
            let prefix = format!("[{index}] ");
            for (line_no, line) in shown.lines().enumerate() {
                if line_no == 0 {
                    let _ = writeln!(text, "{}{line}", self.style.dim(&prefix));
                } else {
                    let _ = writeln!(text, "{}{line}", " ".repeat(prefix.len()));
                }
            }
        }
        self.labelled(&format!("args ({})", args.len()), &text);
    }

    fn handshake(&mut self, handshake: &HandshakeReport) {
        self.field("sid", &handshake.sid);
        let upgrades = if handshake.upgrades.is_empty() {
            "(none)".to_owned()
        } else {
            handshake.upgrades.join(", ")
        };
        self.field("upgrades", &upgrades);
        self.field(
            "ping",
            &format!(
                "interval {} ms, timeout {} ms",
                handshake.ping_interval, handshake.ping_timeout
            ),
        );
        if let Some(max) = handshake.max_payload {
            self.field("maxPayload", &format!("{max} bytes"));
        }
    }

    fn packet(&mut self, packet: &PacketReport) {
        let style = self.style;
        if let Some(eio) = &packet.engineio {
            let mut value = match eio.packet_type {
                Some(t) => format!("{t} {}", style.cyan(eio.name)),
                None => style.cyan(eio.name),
            };
            if let Some(revision) = eio.revision {
                let _ = write!(value, " (Engine.IO {revision})");
            }
            self.field("engine.io", &value);
            if let Some(handshake) = &eio.handshake {
                self.handshake(handshake);
            }
            let show_data = packet.socketio.is_none() || eio.binary;
            if let (true, Some(data)) = (show_data, &eio.data) {
                self.json("data", data);
            }
        }
        if let Some(sio) = &packet.socketio {
            let mut value = format!("{} {}", sio.packet_type, style.cyan(&sio.name));
            let mut extra = Vec::new();
            if let Some(protocol) = sio.protocol {
                extra.push(format!("protocol {protocol}"));
            }
            if sio.parser == "msgpack" {
                extra.push("msgpack parser".to_owned());
            }
            if !extra.is_empty() {
                let _ = write!(value, " ({})", extra.join(", "));
            }
            self.field("socket.io", &value);
            self.field("namespace", &sio.namespace);
            if let Some(query) = &sio.query {
                self.field("query", query);
            }
            if let Some(id) = sio.ack_id {
                self.field("ack id", &id.to_string());
            }
            if sio.attachments > 0 {
                self.field("attachments", &sio.attachments.to_string());
            }
            if let Some(event) = &sio.event {
                self.field("event", &style.magenta(event));
            }
            if let Some(args) = &sio.args {
                self.args(args);
            }
            if let Some(data) = &sio.data {
                self.json("data", data);
            }
        }
        if let Some(legacy) = &packet.legacy {
            let value = format!("{} {}", legacy.message_type, style.cyan(legacy.name));
            self.field("socket.io 0.9", &value);
            if let Some(id) = legacy.id {
                let ack = match legacy.ack {
                    Some("user") => " (+: acknowledged by the receiver's code)",
                    Some(_) => " (acknowledged automatically)",
                    None => "",
                };
                self.field("message id", &format!("{id}{ack}"));
            }
            if legacy.name != "handshake" {
                let endpoint = if legacy.endpoint.is_empty() {
                    "(default)"
                } else {
                    &legacy.endpoint
                };
                self.field("endpoint", endpoint);
            }
            if let Some(query) = &legacy.query {
                self.field("query", query);
            }
            if let Some(event) = &legacy.event {
                self.field("event", &style.magenta(event));
            }
            if let Some(id) = legacy.ack_id {
                self.field("acks id", &id.to_string());
            }
            if let Some(args) = &legacy.args {
                self.args(args);
            }
            match (&legacy.data, legacy.name) {
                (Some(Json::Object(fields)), "handshake") => {
                    for (key, value) in fields {
                        let shown = match value {
                            Json::Array(items) => items
                                .iter()
                                .map(|i| i.as_str().map_or_else(|| i.to_compact(), str::to_owned))
                                .collect::<Vec<_>>()
                                .join(", "),
                            Json::Number(n) => format!("{n} s"),
                            other => other
                                .as_str()
                                .map_or_else(|| other.to_compact(), str::to_owned),
                        };
                        self.field(key, &shown);
                    }
                }
                (Some(data), _) => self.json("data", data),
                (None, _) => {}
            }
            if let Some(reason) = &legacy.reason {
                self.field("reason", reason);
            }
            if let Some(advice) = &legacy.advice {
                self.field("advice", advice);
            }
        }
        if let Some(signalr) = &packet.signalr {
            let value = match signalr.message_type {
                Some(kind) => format!("{kind} {}", style.cyan(&signalr.name)),
                None => style.cyan(&signalr.name),
            };
            self.field("signalr", &value);
            if let Json::Object(fields) = &signalr.fields {
                for (key, value) in fields {
                    match key.as_str() {
                        "type" => {}
                        // Not to be mistaken for a decoding error.
                        "error" => self.json("error text", value),
                        _ => self.json(key, value),
                    }
                }
            }
        }
        if let Some(error) = &packet.error {
            self.error(error);
        }
        for note in &packet.notes {
            self.note(note);
        }
    }
}

/// A JSON value for people: binary data and attachment placeholders in words, short values on
/// one line, long ones indented.
pub(crate) fn show_json(value: &Json) -> String {
    let mut compact = String::new();
    write_json(&mut compact, value, None);
    if compact.chars().count() <= COMPACT {
        return compact;
    }
    let mut pretty = String::new();
    write_json(&mut pretty, value, Some(0));
    pretty
}

fn special(value: &Json) -> Option<String> {
    let Json::Object(entries) = value else {
        return None;
    };
    if value.get("_binary") == Some(&Json::Bool(true)) {
        let bytes = value
            .get("base64")
            .and_then(Json::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())?;
        let mut text = format!(
            "<{} byte{}",
            bytes.len(),
            if bytes.len() == 1 { "" } else { "s" }
        );
        if !bytes.is_empty() {
            text.push(':');
        }
        for byte in bytes.iter().take(16) {
            let _ = write!(text, " {byte:02x}");
        }
        if bytes.len() > 16 {
            text.push_str(" …");
        }
        text.push('>');
        return Some(text);
    }
    if entries.len() == 2 && value.get("_placeholder") == Some(&Json::Bool(true)) {
        let num = value.get("num")?.as_u64()?;
        return Some(format!("<attachment {num}: sent in a later binary frame>"));
    }
    None
}

fn write_json(out: &mut String, value: &Json, indent: Option<usize>) {
    if let Some(text) = special(value) {
        out.push_str(&text);
        return;
    }
    let newline = |out: &mut String, level: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(level));
    };
    match value {
        Json::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                if let Some(level) = indent {
                    newline(out, level + 1);
                }
                write_json(out, item, indent.map(|l| l + 1));
            }
            if let Some(level) = indent {
                newline(out, level);
            }
            out.push(']');
        }
        Json::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                if let Some(level) = indent {
                    newline(out, level + 1);
                }
                out.push_str(&Json::String(key.clone()).to_compact());
                out.push_str(": ");
                write_json(out, item, indent.map(|l| l + 1));
            }
            if let Some(level) = indent {
                newline(out, level);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_compact()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn specials_and_layout() {
        assert_eq!(show_json(&json(r#"{"3": [true]}"#)), r#"{"3": [true]}"#);
        assert_eq!(
            show_json(&json(r#"{"_binary": true, "length": 2, "base64": "AQI="}"#)),
            "<2 bytes: 01 02>"
        );
        assert_eq!(
            show_json(&json(r#"{"_placeholder": true, "num": 0}"#)),
            "<attachment 0: sent in a later binary frame>"
        );
        let long = json(&format!(r#"{{"a": "{}", "b": [1]}}"#, "x".repeat(80)));
        assert_eq!(
            show_json(&long),
            format!(
                "{{\n  \"a\": \"{}\",\n  \"b\": [\n    1\n  ]\n}}",
                "x".repeat(80)
            )
        );
    }
}
