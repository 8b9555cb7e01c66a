//! Engine.IO probes: the polling handshake for one revision, the Socket.IO CONNECT that tells
//! protocol v5 from v4, a real WebSocket upgrade, and closing the session.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::Value as Json;
use sio_engineio_proto::{self as eio, ErrorResponse, Handshake};
use sio_engineio_session::handshake::{decode_polling_body, sniff_revision};
use sio_socketio_proto::{Codec, Packet as SioPacket, Parser, ProtocolVersion, value::field};
use tokio_tungstenite::tungstenite::Message;

use super::Attempt;
use super::http::{Answer, Failure, Http, Target, Ws, seconds};

const TEXT: &str = "text/plain;charset=UTF-8";

/// What an Engine.IO handshake told.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EngineFinding {
    /// Engine.IO revision of the session the server opened: 4 or 3.
    pub revision: u8,
    /// The `EIO=` asked for.
    pub asked: u8,
    /// The Engine.IO path.
    pub path: String,
    /// Long-polling works.
    pub polling: bool,
    /// Upgrades the open packet offered.
    pub upgrades: Vec<String>,
    /// `works`, `failed: …`, `not offered`.
    pub websocket: String,
    #[serde(rename = "pingInterval")]
    pub ping_interval: u64,
    #[serde(rename = "pingTimeout")]
    pub ping_timeout: u64,
    #[serde(rename = "maxPayload", skip_serializing_if = "Option::is_none")]
    pub max_payload: Option<u64>,
    /// The namespace the CONNECT asked for.
    pub namespace: String,
    /// `v5` (CONNECT answered with a sid), `v4` (connected without sid), or absent when no
    /// Socket.IO packet came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socketio: Option<&'static str>,
    /// What the server answered the CONNECT with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_answer: Option<String>,
    /// The CONNECT_ERROR (or v4 ERROR) data when the namespace refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_error: Option<Json>,
    /// Cookies the server set (sticky sessions behind a load balancer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<String>,
}

impl EngineFinding {
    fn new(handshake: &Handshake, revision: u8, asked: u8, path: &str, namespace: &str) -> Self {
        EngineFinding {
            revision,
            asked,
            path: path.to_owned(),
            polling: true,
            upgrades: handshake.upgrades.clone(),
            websocket: if handshake.upgrades.iter().any(|u| u == "websocket") {
                "untested".into()
            } else {
                "not offered".into()
            },
            ping_interval: handshake.ping_interval,
            ping_timeout: handshake.ping_timeout,
            max_payload: handshake.max_payload,
            namespace: namespace.to_owned(),
            socketio: None,
            connect_answer: None,
            connect_error: None,
            cookies: Vec::new(),
        }
    }
}

/// How one revision's probe ended.
#[derive(Debug, Clone)]
pub(crate) enum EngineOutcome {
    /// An Engine.IO server answered with a session.
    Found(EngineFinding),
    /// An Engine.IO server answered with an error (`{"code":…}`).
    Refused { code: u64 },
    /// Something answered, not an Engine.IO server.
    NotHere,
    /// Nothing answered.
    Unreachable(Failure),
}

/// A cache buster, as the JS client sends in `t=`.
pub(crate) fn cache_buster() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}", nanos % 0xffff_ffff_ffff)
}

/// `METHOD path?query` for the report, without the cache buster.
pub(crate) fn request_line(method: &str, path_and_query: &str) -> String {
    let shown = match path_and_query.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("t=")).collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => path_and_query.to_owned(),
    };
    format!("{method} {shown}")
}

fn answer_attempt(
    request: String,
    answer: &Answer,
    finding: impl Into<String>,
    good: bool,
) -> Attempt {
    Attempt {
        request,
        status: Some(answer.status),
        answer: answer.snippet(),
        finding: finding.into(),
        good,
    }
}

/// Engine.IO packets of a polling body of either revision (told apart as every client of the
/// project does, by `sio-engineio-session`).
fn polling_packets(body: &[u8]) -> Result<(u8, Vec<eio::Packet<'static>>), eio::DecodeError> {
    let revision = sniff_revision(body);
    let packets = decode_polling_body(revision, body, None)?;
    let number = match revision {
        eio::Revision::V3 => 3,
        eio::Revision::V4 => 4,
    };
    Ok((number, packets))
}

/// A Socket.IO packet in an Engine.IO message, if it is one.
fn socketio_packet(packet: &eio::Packet<'_>, revision: u8) -> Option<SioPacket> {
    let eio::Packet::Message(eio::Data::Text(text)) = packet else {
        return None;
    };
    let revision = if revision == 3 {
        eio::Revision::V3
    } else {
        eio::Revision::V4
    };
    Codec::new(Parser::Default, ProtocolVersion::for_revision(revision))
        .decoder(10)
        .feed_text(text)
        .ok()
        .flatten()
}

/// Records what a CONNECT answer for `namespace` says about the Socket.IO protocol.
fn read_connect_answer(
    finding: &mut EngineFinding,
    namespace: &str,
    packet: &SioPacket,
    raw: &str,
) -> bool {
    match packet {
        SioPacket::Connect { nsp, data, .. } if nsp == namespace => {
            let has_sid = data.as_ref().is_some_and(|d| field(d, "sid").is_some());
            finding.socketio = Some(if has_sid { "v5" } else { "v4" });
            finding.connect_answer = Some(raw.to_owned());
            true
        }
        SioPacket::ConnectError { nsp, data } if nsp == namespace => {
            finding.socketio = Some(if data.is_str() { "v4" } else { "v5" });
            finding.connect_answer = Some(raw.to_owned());
            finding.connect_error = Some(crate::probe::value_json(data));
            true
        }
        _ => false,
    }
}

/// Probes `path` with `EIO=<asked>` over polling (or WebSocket only, when polling is refused).
pub(crate) async fn probe(
    http: &Http,
    target: &Target,
    path: &str,
    namespace: &str,
    asked: u8,
    attempts: &mut Vec<Attempt>,
) -> EngineOutcome {
    let b64 = if asked == 3 { "&b64=1" } else { "" };
    let handshake_pq = format!(
        "{path}?EIO={asked}&transport=polling&t={}{b64}",
        cache_buster()
    );
    let request = request_line("GET", &handshake_pq);
    let answer = match http.get(target, &handshake_pq, &[], http.timeout).await {
        Ok(answer) => answer,
        Err(failure) => {
            attempts.push(Attempt::failed(request, &failure));
            return EngineOutcome::Unreachable(failure);
        }
    };
    if answer.status != 200 {
        if let Ok(error) = ErrorResponse::decode(&answer.body) {
            let code = error.code;
            let meaning = match code {
                0 => "Engine.IO server, polling refused (Transport unknown)".to_owned(),
                5 => format!("Engine.IO server that refuses EIO={asked} (Unsupported protocol version)"),
                4 => "Engine.IO server that refused the request (Forbidden): headers or cookies may be needed (-H)".to_owned(),
                _ => format!("Engine.IO error {code}: {}", error.message),
            };
            attempts.push(answer_attempt(request, &answer, meaning, code != 5));
            if code == 0 {
                return websocket_only(http, target, path, namespace, asked, attempts).await;
            }
            return EngineOutcome::Refused { code };
        }
        // python-engineio refuses a revision it does not speak with a JSON string.
        if answer.status == 400 && answer.text().contains("unsupported version") {
            attempts.push(answer_attempt(
                request,
                &answer,
                format!("Engine.IO server (python-engineio) that refuses EIO={asked}"),
                false,
            ));
            return EngineOutcome::Refused { code: 5 };
        }
        attempts.push(answer_attempt(
            request,
            &answer,
            format!("not an Engine.IO answer (HTTP {})", answer.status),
            false,
        ));
        return EngineOutcome::NotHere;
    }
    let (revision, packets) = match polling_packets(&answer.body) {
        Ok(decoded) => decoded,
        Err(error) => {
            let meaning = if answer.text().starts_with("Welcome to socket.io") {
                "HTTP 200 `Welcome to socket.io.`: the greeting of a Socket.IO 0.9 server"
                    .to_owned()
            } else {
                format!("HTTP 200, but not an Engine.IO payload ({})", error.kind())
            };
            attempts.push(answer_attempt(request, &answer, meaning, false));
            return EngineOutcome::NotHere;
        }
    };
    let Some(eio::Packet::Open(handshake)) = packets.first() else {
        attempts.push(answer_attempt(
            request,
            &answer,
            "HTTP 200, but no Engine.IO open packet",
            false,
        ));
        return EngineOutcome::NotHere;
    };
    let mut finding = EngineFinding::new(handshake, revision, asked, path, namespace);
    finding.cookies = answer.cookies();
    let opened = if revision == asked {
        format!("Engine.IO v{revision} open packet")
    } else {
        format!("answered EIO={asked} with an Engine.IO v{revision} payload")
    };
    attempts.push(answer_attempt(request, &answer, opened, true));
    // A v4 server (Socket.IO 2.x) connects the root namespace by itself: `40` may come with the
    // open packet.
    for packet in packets.iter().skip(1) {
        if let Some(sio) = socketio_packet(packet, revision) {
            let raw = packet_text(packet);
            read_connect_answer(&mut finding, "/", &sio, &raw);
        }
    }
    let sid = handshake.sid.clone();
    let session_pq =
        |t: &str| format!("{path}?EIO={revision}&transport=polling&t={t}&sid={sid}{b64}");
    let cookies = finding.cookies.clone();

    let session = Session {
        http,
        target,
        pq: &session_pq,
        cookies: &cookies,
    };
    let mut alive = true;
    if revision == 3 {
        // A Socket.IO 2.x server (and a 3/4 one with allowEIO3) connects the root namespace by
        // itself: its `40` proves Socket.IO, where an echo of ours would prove nothing.
        if finding.socketio.is_none() {
            alive = connect(&session, &mut finding, "/", false, attempts).await;
        }
        if finding.socketio.is_some() && namespace != "/" {
            alive = connect(&session, &mut finding, namespace, true, attempts).await;
        }
    } else {
        alive = connect(&session, &mut finding, namespace, true, attempts).await;
    }

    // Engine.IO servers drop a session whose poll the client gave up on: test the upgrade on a
    // new one then.
    let mut sid = sid;
    if !alive && finding.websocket == "untested" {
        match http.get(target, &handshake_pq, &[], http.timeout).await {
            Ok(answer) => {
                if let Ok((_, packets)) = polling_packets(&answer.body)
                    && let Some(eio::Packet::Open(handshake)) = packets.first()
                {
                    sid = handshake.sid.clone();
                    attempts.push(answer_attempt(
                        request_line("GET", &handshake_pq),
                        &answer,
                        "a new session for the upgrade test (the abandoned poll ended the first)",
                        true,
                    ));
                }
            }
            Err(failure) => attempts.push(Attempt::failed(
                request_line("GET", &handshake_pq),
                &failure,
            )),
        }
    }
    let session_pq =
        |t: &str| format!("{path}?EIO={revision}&transport=polling&t={t}&sid={sid}{b64}");

    let ws_pq = format!("{path}?EIO={revision}&transport=websocket&sid={sid}");
    let mut closed = false;
    if finding.websocket == "untested" {
        match upgrade(http, target, &ws_pq, &cookies).await {
            Ok(()) => {
                finding.websocket = "works".into();
                closed = true;
                attempts.push(Attempt {
                    request: request_line("WS", &ws_pq),
                    status: Some(101),
                    answer: "2probe → 3probe, then 5 (upgrade) and 1 (close)".into(),
                    finding: "WebSocket upgrade works".into(),
                    good: true,
                });
            }
            Err(failure) => {
                finding.websocket = format!("failed: {failure}");
                attempts.push(Attempt {
                    request: request_line("WS", &ws_pq),
                    status: match &failure {
                        Failure::Rejected { status, .. } => Some(*status),
                        _ => None,
                    },
                    answer: failure.to_string(),
                    finding: "WebSocket upgrade fails".into(),
                    good: false,
                });
            }
        }
    }
    if !closed {
        let pq = session_pq(&cache_buster());
        let body = if revision == 3 { "1:1" } else { "1" };
        let request = request_line("POST", &pq);
        match http.post(target, &pq, body, TEXT, &cookies).await {
            Ok(answer) => attempts.push(answer_attempt(
                request,
                &answer,
                "sent 1 (close): session closed",
                answer.status == 200,
            )),
            Err(failure) => attempts.push(Attempt::failed(request, &failure)),
        }
    }
    EngineOutcome::Found(finding)
}

fn packet_text(packet: &eio::Packet<'_>) -> String {
    let mut text = String::new();
    packet.encode_text_base64(eio::Revision::V4, &mut text);
    text
}

/// A polling session's requests.
struct Session<'a> {
    http: &'a Http,
    target: &'a Target,
    /// The session's polling URL for a cache buster.
    pq: &'a dyn Fn(&str) -> String,
    cookies: &'a [String],
}

/// Sends the Socket.IO CONNECT for `namespace` (unless `send` is off: then waits for the one a
/// v4 server sends by itself) and reads the answer over polling.
async fn connect(
    session: &Session<'_>,
    finding: &mut EngineFinding,
    namespace: &str,
    send: bool,
    attempts: &mut Vec<Attempt>,
) -> bool {
    let Session {
        http,
        target,
        pq: session_pq,
        cookies,
    } = *session;
    let revision = finding.revision;
    let connect = if namespace == "/" {
        "40".to_owned()
    } else {
        format!("40{namespace},")
    };
    if send {
        let body = if revision == 3 {
            format!("{}:{connect}", connect.len())
        } else {
            connect.clone()
        };
        let pq = session_pq(&cache_buster());
        let request = request_line("POST", &pq);
        match http.post(target, &pq, &body, TEXT, cookies).await {
            Ok(answer) => {
                let good = answer.status == 200;
                attempts.push(answer_attempt(
                    request,
                    &answer,
                    format!("sent {connect} (Socket.IO CONNECT to {namespace})"),
                    good,
                ));
                if !good {
                    return true;
                }
            }
            Err(failure) => {
                attempts.push(Attempt::failed(request, &failure));
                return true;
            }
        }
    }
    // The answer comes at once from a Socket.IO server; a plain Engine.IO server says nothing
    // until its next ping, so the wait is short.
    let wait = http.timeout.min(Duration::from_secs(2));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let pq = session_pq(&cache_buster());
        let request = request_line("GET", &pq);
        let answer = match http.get(target, &pq, cookies, left).await {
            Ok(answer) => answer,
            Err(Failure::Timeout(_)) => break,
            Err(failure) => {
                attempts.push(Attempt::failed(request, &failure));
                return false;
            }
        };
        let mut found = false;
        let mut echo = false;
        if let Ok((_, packets)) = polling_packets(&answer.body) {
            for packet in &packets {
                let Some(sio) = socketio_packet(packet, revision) else {
                    continue;
                };
                let raw = packet_text(packet);
                // A v5 server's answer always holds a sid: our own CONNECT coming back is an
                // Engine.IO server echoing messages.
                if send && revision == 4 && raw == connect {
                    echo = true;
                    break;
                }
                found |= read_connect_answer(finding, namespace, &sio, &raw);
            }
        }
        if echo {
            attempts.push(answer_attempt(
                request,
                &answer,
                "our CONNECT came back unchanged: a plain Engine.IO server echoing messages, not Socket.IO",
                false,
            ));
            return true;
        }
        let meaning = match (found, finding.socketio, &finding.connect_error) {
            (false, _, _) => "no Socket.IO answer yet".to_owned(),
            (true, _, Some(_)) => "the namespace refused the connection".to_owned(),
            (true, Some("v5"), None) => "Socket.IO v5 CONNECT answer (with sid)".to_owned(),
            (true, _, None) if !send => {
                "the server connected the root namespace by itself: Socket.IO protocol v4"
                    .to_owned()
            }
            (true, _, None) => "Socket.IO CONNECT answer without sid (protocol v4)".to_owned(),
        };
        attempts.push(answer_attempt(request, &answer, meaning, found));
        if found || answer.status != 200 {
            return true;
        }
    }
    attempts.push(Attempt {
        request: request_line("GET", &session_pq("…")),
        status: None,
        answer: format!("nothing within {}", seconds(wait)),
        finding: if send {
            "no Socket.IO answer to CONNECT: a plain Engine.IO server".into()
        } else {
            "no CONNECT (40) from the server: a plain Engine.IO server, not Socket.IO".into()
        },
        good: false,
    });
    false
}

/// The upgrade of a polling session: `2probe`, `3probe`, `5`, then `1` to close.
async fn upgrade(
    http: &Http,
    target: &Target,
    ws_pq: &str,
    cookies: &[String],
) -> Result<(), Failure> {
    let mut ws = http.websocket(target, ws_pq, cookies).await?;
    send(&mut ws, "2probe").await?;
    let answered = tokio::time::timeout(http.timeout, async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Text(text)) if text.as_str() == "3probe" => return Ok(()),
                Ok(Message::Close(frame)) => {
                    return Err(Failure::Other(format!(
                        "the server closed the WebSocket ({})",
                        frame.map_or_else(|| "no reason".to_owned(), |f| f.reason.to_string())
                    )));
                }
                Ok(_) => {}
                Err(error) => return Err(Failure::Other(format!("WebSocket error: {error}"))),
            }
        }
        Err(Failure::Other("the WebSocket ended before 3probe".into()))
    })
    .await
    .unwrap_or(Err(Failure::Timeout(http.timeout)));
    if let Err(failure) = answered {
        let _ = ws.close(None).await;
        return Err(match failure {
            Failure::Timeout(_) => Failure::Other(format!(
                "no 3probe answer to 2probe within {}",
                seconds(http.timeout)
            )),
            other => other,
        });
    }
    send(&mut ws, "5").await?;
    send(&mut ws, "1").await?;
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    Ok(())
}

async fn send(ws: &mut Ws, text: &str) -> Result<(), Failure> {
    ws.send(Message::text(text))
        .await
        .map_err(|error| Failure::Other(format!("cannot send on the WebSocket: {error}")))
}

/// Appends `frame` to the frames in `seen` (joined by ` | `) while they are shorter than a
/// snippet shows, so that `snippet(seen)` is the snippet of all of them joined.
fn keep_start(seen: &mut String, frame: &str) {
    // One character past the snippet, so that it is still marked as cut.
    let room = (super::http::SNIPPET_CHARS + 1).saturating_sub(seen.chars().count());
    if room == 0 {
        return;
    }
    if !seen.is_empty() {
        seen.push_str(" | ");
    }
    seen.extend(frame.chars().take(room));
}

/// A server that refuses polling: open a session over WebSocket directly.
async fn websocket_only(
    http: &Http,
    target: &Target,
    path: &str,
    namespace: &str,
    asked: u8,
    attempts: &mut Vec<Attempt>,
) -> EngineOutcome {
    let pq = format!("{path}?EIO={asked}&transport=websocket");
    let request = request_line("WS", &pq);
    let mut ws = match http.websocket(target, &pq, &[]).await {
        Ok(ws) => ws,
        Err(failure) => {
            attempts.push(Attempt {
                request,
                status: match &failure {
                    Failure::Rejected { status, .. } => Some(*status),
                    _ => None,
                },
                answer: failure.to_string(),
                finding: "WebSocket refused too".into(),
                good: false,
            });
            return EngineOutcome::NotHere;
        }
    };
    let mut finding: Option<EngineFinding> = None;
    // The start of the frames seen, for the answer's snippet: a server may send any amount
    // until the deadline.
    let mut seen = String::new();
    let connect = if namespace == "/" {
        "40".to_owned()
    } else {
        format!("40{namespace},")
    };
    let wait = http.timeout;
    let _ = tokio::time::timeout(wait, async {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let text = text.as_str().to_owned();
            keep_start(&mut seen, &text);
            let Ok(packet) = eio::decode_text(&text) else {
                continue;
            };
            match (&packet, finding.as_mut()) {
                (eio::Packet::Open(handshake), None) => {
                    let revision = if handshake.max_payload.is_some() {
                        4
                    } else {
                        asked
                    };
                    let mut found = EngineFinding::new(handshake, revision, asked, path, namespace);
                    found.polling = false;
                    found.websocket = "works".into();
                    finding = Some(found);
                    if send(&mut ws, &connect).await.is_err() {
                        return;
                    }
                }
                (eio::Packet::Ping(data), Some(_)) => {
                    let _ = send(&mut ws, &format!("3{data}")).await;
                }
                (_, Some(found)) => {
                    if let Some(sio) = socketio_packet(&packet, found.revision) {
                        if text == connect && found.revision == 4 {
                            found.connect_answer = Some(format!("{text} (an echo of ours)"));
                            return;
                        }
                        if read_connect_answer(found, namespace, &sio, &text) {
                            return;
                        }
                    }
                }
                _ => {}
            }
        }
    })
    .await;
    let _ = send(&mut ws, "1").await;
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    let answer = super::http::snippet(&seen);
    match finding {
        Some(found) => {
            attempts.push(Attempt {
                request,
                status: Some(101),
                answer,
                finding: match found.socketio {
                    Some(version) => format!(
                        "WebSocket-only Engine.IO v{} session, Socket.IO {version} CONNECT answer",
                        found.revision
                    ),
                    None => format!(
                        "WebSocket-only Engine.IO v{} session, no Socket.IO answer",
                        found.revision
                    ),
                },
                good: true,
            });
            EngineOutcome::Found(found)
        }
        None => {
            attempts.push(Attempt {
                request,
                status: Some(101),
                answer,
                finding: format!(
                    "the WebSocket opened but sent no Engine.IO open packet (EIO={asked} is probably refused)"
                ),
                good: false,
            });
            EngineOutcome::NotHere
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::http::{SNIPPET_CHARS, snippet};

    #[test]
    fn kept_start_shows_as_all_the_frames_joined() {
        let long = "x".repeat(10_000);
        let cases: [&[&str]; 5] = [
            &[],
            &["0{\"sid\":\"a\"}", "40", "2"],
            &[long.as_str(), "40"],
            &["2", long.as_str(), long.as_str()],
            &["é\x1e😀"; 60],
        ];
        for frames in cases {
            let mut seen = String::new();
            for frame in frames {
                keep_start(&mut seen, frame);
            }
            assert_eq!(snippet(&seen), snippet(&frames.join(" | ")), "{frames:?}");
            assert!(seen.chars().count() <= 2 * SNIPPET_CHARS, "{seen:?}");
        }
    }
}
