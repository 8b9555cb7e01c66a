//! `sio decode`: raw frames copied from DevTools, explained layer by layer.
//!
//! A frame is tried against every format it could be, most likely first (by its first
//! characters); the first reading that decodes completely is shown, and the other complete
//! readings are listed as alternatives. The decoding itself is done by the project's protocol
//! crates; SignalR records are JSON and read with serde_json.

mod engine;
// Shared with `sio listen` and `sio emit`: ordered JSON, arguments as JSON, JSON for people.
pub(crate) mod json;
mod legacy;
pub(crate) mod render;
mod report;
mod signalr;
pub(crate) mod value;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use crate::output::{self, Style};
use engine::Pending;
use report::FrameReport;

pub(crate) const EXAMPLES: &str = r#"Formats understood:
  Engine.IO v4 frames and polling bodies   2probe   0{"sid":…}   42["hey","Jude"]   42["a"]\x1e42["b"]
  Engine.IO v3 polling bodies              96:0{"sid":…}2:40   6:4hello2:4€   10:b4AQIDBA==   ___eio[0]("…");
  Socket.IO v5/v4 packets                  40/admin,{"sid":…}   40/admin?token=1,   44/admin,"Not authorized"
  binary placeholders and attachments      451-["ev",{"_placeholder":true,"num":0}]  then  bAQID  or  hex:010203
  msgpack parser (hex or base64)           83a474797065…   gqR0eXBl…   (--msgpack when it is not detected)
  Socket.IO 0.9                            5:1+:/chat:{"name":"join","args":[]}   2::   \ufffd5\ufffd3:::5…
  ASP.NET Core SignalR JSON                {"type":1,"target":"x","arguments":[1]}\x1e   {"protocol":"json","version":1}

The record separator may be typed as \x1e or \u001e, and 0.9's frame marker as \ufffd.

Examples:
  sio decode '42["hey","Jude"]'
  sio decode '42["hello"]\x1e42["world"]' '2probe'
  sio decode --json '451-["upload",{"_placeholder":true,"num":0}]' 'bAQIDBA=='
  pbpaste | sio decode            (one frame per line)

Exit status: 0 when every frame decoded, 1 when some frame did not (the others are still
shown), 2 on usage errors."#;

/// Options of `sio decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct DecodeArgs {
    /// Frames as copied from the browser's DevTools (Network tab, WebSocket messages or polling
    /// responses). Without any, frames are read from standard input, one per line.
    #[arg(value_name = "FRAME")]
    frames: Vec<String>,
    /// Print one JSON object per frame instead of the breakdown.
    #[arg(long)]
    json: bool,
    /// Read frames given as hex or base64 as socket.io-msgpack-parser packets, and report why one
    /// is not. (Without this flag, hex or base64 that starts like a msgpack packet is detected.)
    #[arg(long)]
    msgpack: bool,
}

/// Runs `sio decode`.
pub(crate) fn run(args: DecodeArgs) -> ExitCode {
    let style = Style::for_stdout(args.json);
    let frames: Box<dyn Iterator<Item = Result<String, String>>> = if args.frames.is_empty() {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!(
                "sio decode: reading frames from standard input, one per line (Ctrl-D to end)"
            );
        }
        Box::new(stdin_frames(stdin.lock()))
    } else {
        Box::new(args.frames.into_iter().map(Ok))
    };

    let mut pending = Pending::default();
    let (mut total, mut failed) = (0usize, 0usize);
    for frame in frames {
        let report = match frame {
            Ok(frame) => {
                let text = frame.trim_matches([' ', '\t', '\r', '\n']);
                let mut report = decode_frame(text, &mut pending, args.msgpack);
                report.frame = frame;
                report
            }
            Err(error) => {
                let mut report = FrameReport::failed("unknown", "a line of standard input", error);
                report.frame = "(unreadable line)".into();
                report
            }
        };
        total += 1;
        if !report.ok {
            failed += 1;
        }
        if args.json {
            output::print_json_line(&report);
        } else {
            output::print(&render::frame(&report, style));
        }
    }
    if pending.awaiting() > 0 {
        eprintln!(
            "sio decode: the last BINARY_EVENT/BINARY_ACK still awaits {} attachment(s); give them as \
             further frames (b<base64>, hex:…, base64:…)",
            pending.awaiting()
        );
    }
    if total == 0 {
        eprintln!(
            "sio decode: no frames given\n  try: sio decode '42[\"hey\",\"Jude\"]'   (or pipe frames in, one per line)"
        );
        return ExitCode::from(2);
    }
    if failed > 0 {
        if !args.json {
            eprintln!("sio decode: {failed} of {total} frame(s) could not be decoded");
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Non-empty lines of standard input; a line that is not UTF-8 is an error item.
fn stdin_frames(mut input: impl BufRead) -> impl Iterator<Item = Result<String, String>> {
    let mut line_no = 0usize;
    std::iter::from_fn(move || {
        loop {
            let mut buf = Vec::new();
            line_no += 1;
            match input.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) => return Some(Err(format!("cannot read standard input: {error}"))),
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            return Some(String::from_utf8(buf).map_err(|e| {
                format!(
                    "line {line_no} is not UTF-8 (byte {}); give binary frames as hex:… or base64:…",
                    e.utf8_error().valid_up_to()
                )
            }));
        }
    })
}

#[derive(Debug, Clone)]
enum Candidate {
    V4Payload,
    V3Payload,
    V3Frame,
    EioJsonp,
    EioForm,
    LegacyMessage,
    LegacyPayload,
    LegacyHandshake,
    LegacyJsonp,
    JsonObject,
    /// Bytes the user marked as binary, or that `--msgpack` or a pending attachment asks for.
    Binary(Vec<u8>),
    /// Hex or base64 that starts like a msgpack packet: taken only when it decodes as one.
    DetectedMsgpack(Vec<u8>),
}

/// Decodes one frame (already trimmed), choosing the most likely reading.
pub(crate) fn decode_frame(frame: &str, pending: &mut Pending, msgpack: bool) -> FrameReport {
    let (text, unescaped) = unescape(frame);
    if text.is_empty() {
        return FrameReport::failed(
            "unknown",
            "an empty frame",
            "empty frame: nothing to decode".into(),
        );
    }
    let mut readings: Vec<(FrameReport, Pending)> = Vec::new();
    for candidate in candidates(&text, pending, msgpack) {
        let mut state = pending.clone();
        let detected = matches!(candidate, Candidate::DetectedMsgpack(_));
        let report = read(&candidate, &text, &mut state, msgpack);
        if detected && report.quality() < 2 {
            continue;
        }
        readings.push((report, state));
    }
    let best = [2, 1]
        .iter()
        .find_map(|q| readings.iter().position(|(r, _)| r.quality() == *q))
        .unwrap_or(0);
    if best >= readings.len() {
        return FrameReport::failed("unknown", "no reading", "nothing to decode".into());
    }
    let alternatives: Vec<String> = readings
        .iter()
        .enumerate()
        .filter(|(i, (r, _))| *i != best && r.quality() == 2)
        .map(|(_, (r, _))| r.summary())
        .collect();
    let (mut report, state) = readings.swap_remove(best);
    *pending = state;
    report.alternatives = alternatives;
    if unescaped {
        report.notes.push(
            "typed escapes (\\x1e, \\u001e, \\ufffd) were read as the characters they stand for"
                .into(),
        );
    }
    if report.quality() == 0 && report.protocol == "engine.io" && !looks_like_any(&text) {
        report.notes.push(
            "this does not look like an Engine.IO, Socket.IO (any revision) or SignalR frame"
                .into(),
        );
    }
    report.finish()
}

fn read(candidate: &Candidate, text: &str, pending: &mut Pending, msgpack: bool) -> FrameReport {
    match candidate {
        Candidate::V4Payload => engine::v4_payload(text, pending),
        Candidate::V3Payload => engine::v3_payload(text, pending),
        Candidate::V3Frame => engine::v3_frame(text, pending),
        Candidate::EioJsonp => engine::jsonp_script(text, pending),
        Candidate::EioForm => engine::jsonp_form(text, pending),
        Candidate::LegacyMessage => legacy::message(text),
        Candidate::LegacyPayload => legacy::payload(text),
        Candidate::LegacyHandshake => legacy::handshake(text),
        Candidate::LegacyJsonp => legacy::jsonp(text),
        Candidate::JsonObject => signalr::json_frame(text),
        Candidate::Binary(bytes) => engine::binary_frame(bytes, pending, msgpack),
        Candidate::DetectedMsgpack(bytes) => engine::binary_frame(bytes, pending, true),
    }
}

/// The readings worth trying for `text`, most likely first.
fn candidates(text: &str, pending: &Pending, msgpack: bool) -> Vec<Candidate> {
    if let Some(bytes) = engine::parse_bytes(text, true) {
        return vec![Candidate::Binary(bytes)];
    }
    let mut list = Vec::new();
    let as_bytes = engine::parse_bytes(text, false);
    if msgpack && let Some(bytes) = &as_bytes {
        list.push(Candidate::Binary(bytes.clone()));
    }
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'{') => list.push(Candidate::JsonObject),
        _ if text.starts_with('\u{fffd}') => list.push(Candidate::LegacyPayload),
        _ if text.starts_with("___eio[") => list.push(Candidate::EioJsonp),
        _ if text.starts_with("io.j[") => list.push(Candidate::LegacyJsonp),
        _ if text.starts_with("d=") => list.push(Candidate::EioForm),
        Some(b'b') => list.extend([Candidate::V4Payload, Candidate::V3Frame]),
        Some(b'0'..=b'9') if looks_legacy(bytes) => list.extend([
            Candidate::LegacyMessage,
            Candidate::V3Payload,
            Candidate::V4Payload,
        ]),
        Some(b'0'..=b'9') if length_prefixed(bytes) => list.extend([
            Candidate::V3Payload,
            Candidate::LegacyMessage,
            Candidate::V4Payload,
        ]),
        _ => list.push(Candidate::V4Payload),
    }
    if text.matches(':').count() == 3 {
        list.push(Candidate::LegacyHandshake);
    }
    if !msgpack && let Some(bytes) = as_bytes {
        if pending.awaiting() > 0 {
            list.push(Candidate::Binary(bytes));
        } else if engine::looks_like_msgpack(&bytes) {
            list.push(Candidate::DetectedMsgpack(bytes));
        }
    }
    list
}

/// `type:id:` as a 0.9 message starts: a digit 0-8, `:`, digits, maybe `+`, `:`.
fn looks_legacy(bytes: &[u8]) -> bool {
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = rest.get(digits..).unwrap_or_default();
    let rest = rest.strip_prefix(b"+").unwrap_or(rest);
    (b'0'..=b'8').contains(first) && rest.first() == Some(&b':')
}

/// `<digits>:` as an Engine.IO v3 payload starts.
fn length_prefixed(bytes: &[u8]) -> bool {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && bytes.get(digits) == Some(&b':')
}

fn looks_like_any(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || c == 'b' || c == '{' || c == '\u{fffd}')
}

/// Replaces the escapes a person types for invisible characters (`\x1e`, `\u001e`, `␞`, and
/// `\ufffd`) with those characters, outside JSON strings (where `\u001e` is JSON's own escape).
/// Returns the text and whether anything was replaced.
fn unescape(frame: &str) -> (String, bool) {
    const ESCAPES: [(&str, char); 6] = [
        ("\\x1e", '\x1e'),
        ("\\x1E", '\x1e'),
        ("\\u001e", '\x1e'),
        ("\\u001E", '\x1e'),
        ("\\ufffd", '\u{fffd}'),
        ("\\uFFFD", '\u{fffd}'),
    ];
    let mut out = String::with_capacity(frame.len());
    let mut replaced = false;
    let mut in_string = false;
    let mut rest = frame;
    while let Some(c) = rest.chars().next() {
        if !in_string {
            if let Some((escape, replacement)) =
                ESCAPES.iter().find(|(escape, _)| rest.starts_with(escape))
            {
                out.push(*replacement);
                replaced = true;
                rest = rest.get(escape.len()..).unwrap_or_default();
                continue;
            }
            if c == '\u{241e}' {
                out.push('\x1e');
                replaced = true;
                rest = rest.get(c.len_utf8()..).unwrap_or_default();
                continue;
            }
        }
        if c == '"' {
            in_string = !in_string;
        } else if c == '\\' && in_string {
            // Keep an escaped character (such as \") inside the string.
            out.push(c);
            rest = rest.get(1..).unwrap_or_default();
            if let Some(next) = rest.chars().next() {
                out.push(next);
                rest = rest.get(next.len_utf8()..).unwrap_or_default();
            }
            continue;
        }
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    (out, replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(frame: &str) -> FrameReport {
        decode_frame(frame, &mut Pending::default(), false)
    }

    #[test]
    fn unescapes_outside_strings_only() {
        assert_eq!(
            unescape(r#"42["a"]\x1e42["b\u001e"]"#),
            ("42[\"a\"]\x1e42[\"b\\u001e\"]".to_owned(), true)
        );
        assert_eq!(
            unescape(r#"42["\"\x1e"]"#),
            (r#"42["\"\x1e"]"#.to_owned(), false)
        );
        assert_eq!(
            unescape(r"\ufffd3\ufffd2::"),
            ("\u{fffd}3\u{fffd}2::".to_owned(), true)
        );
        assert_eq!(unescape("4a␞4b"), ("4a\x1e4b".to_owned(), true));
    }

    #[test]
    fn heartbeat_ambiguity() {
        let report = decode("2::");
        assert_eq!(report.protocol, "socket.io-0.9");
        assert_eq!(report.alternatives.len(), 1, "{report:?}");
        assert!(report.alternatives[0].contains("ping"));
        let report = decode("2");
        assert_eq!(report.protocol, "engine.io");
        assert!(report.alternatives.is_empty());
    }

    #[test]
    fn picks_v3_payload() {
        let report = decode("6:4hello2:4€");
        assert!(report.ok);
        assert_eq!(report.packets.len(), 2);
    }

    #[test]
    fn attachments_across_frames() {
        let mut pending = Pending::default();
        let header = decode_frame(
            r#"451-["ev",{"_placeholder":true,"num":0}]"#,
            &mut pending,
            false,
        );
        assert!(header.ok);
        assert_eq!(pending.awaiting(), 1);
        let attachment = decode_frame("AQID", &mut pending, false);
        assert!(attachment.ok, "{attachment:?}");
        assert_eq!(pending.awaiting(), 0);
        let sio = attachment.packets[0].socketio.as_ref().unwrap();
        assert_eq!(sio.event.as_deref(), Some("ev"));
    }
}
