//! The probes for what is not Engine.IO: the Socket.IO 0.9 handshake and ASP.NET Core SignalR's
//! negotiate.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::Value as Json;
use sio_legacy_proto as legacy;
use tokio_tungstenite::tungstenite::Message;

use super::Attempt;
use super::engine::{cache_buster, request_line};
use super::http::{Failure, Http, Target};

/// A Socket.IO 0.9 server's handshake.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LegacyFinding {
    /// The resource, `/socket.io` by default.
    pub resource: String,
    /// Seconds within which heartbeats are due.
    pub heartbeat_timeout: Option<u64>,
    /// Seconds a closed connection is kept.
    pub close_timeout: Option<u64>,
    /// Transports in the server's order of preference.
    pub transports: Vec<String>,
    /// `works`, `failed: …`, `not offered`.
    pub websocket: String,
}

/// What `POST …/negotiate?negotiateVersion=1` answered.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SignalRFinding {
    /// The hub URL's path.
    pub hub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negotiate_version: Option<u64>,
    /// `availableTransports`: each transport with its transfer formats.
    pub transports: Vec<SignalRTransport>,
    /// Azure SignalR Service redirect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
}

/// One entry of `availableTransports`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SignalRTransport {
    pub transport: String,
    pub formats: Vec<String>,
}

/// `GET <resource>/1/?t=…`, then a WebSocket check, then a forced disconnect.
pub(crate) async fn legacy(
    http: &Http,
    target: &Target,
    resource: &str,
    attempts: &mut Vec<Attempt>,
) -> Result<Option<LegacyFinding>, Failure> {
    let pq = format!("{resource}/1/?t={}", cache_buster());
    let request = request_line("GET", &pq);
    let answer = match http.get(target, &pq, &[], http.timeout).await {
        Ok(answer) => answer,
        Err(failure) => {
            attempts.push(Attempt::failed(request, &failure));
            return Err(failure);
        }
    };
    let text = answer.text();
    let handshake = match (answer.status, legacy::Handshake::parse(text.trim())) {
        (200, Ok(handshake)) => handshake,
        (status, _) => {
            attempts.push(Attempt {
                request,
                status: Some(status),
                answer: answer.snippet(),
                finding: "not a Socket.IO 0.9 handshake".into(),
                good: false,
            });
            return Ok(None);
        }
    };
    attempts.push(Attempt {
        request,
        status: Some(answer.status),
        answer: answer.snippet(),
        finding: "Socket.IO 0.9 handshake (sid:heartbeat:close:transports)".into(),
        good: true,
    });
    let cookies = answer.cookies();
    let mut finding = LegacyFinding {
        resource: resource.to_owned(),
        heartbeat_timeout: handshake.heartbeat_timeout,
        close_timeout: handshake.close_timeout,
        transports: handshake.transports.clone(),
        websocket: "not offered".into(),
    };
    if handshake.offers("websocket") {
        let ws_pq = format!("{resource}/1/websocket/{}", handshake.sid);
        let result = async {
            let mut ws = http.websocket(target, &ws_pq, &cookies).await?;
            let first = tokio::time::timeout(http.timeout, ws.next())
                .await
                .map_err(|_| Failure::Timeout(http.timeout))?;
            let outcome = match first {
                Some(Ok(Message::Text(text))) if text.as_str().starts_with("1::") => Ok(()),
                Some(Ok(other)) => Err(Failure::Other(format!(
                    "expected 1:: (connect) first, got {other:?}"
                ))),
                Some(Err(error)) => Err(Failure::Other(format!("WebSocket error: {error}"))),
                None => Err(Failure::Other("the WebSocket closed at once".into())),
            };
            let _ = ws.send(Message::text("0::")).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
            outcome
        }
        .await;
        let request = format!("WS {ws_pq}");
        match result {
            Ok(()) => {
                finding.websocket = "works".into();
                attempts.push(Attempt {
                    request,
                    status: Some(101),
                    answer: "1:: (connected), then 0:: (disconnect)".into(),
                    finding: "0.9 WebSocket transport works".into(),
                    good: true,
                });
            }
            Err(failure) => {
                finding.websocket = format!("failed: {failure}");
                attempts.push(Attempt {
                    request,
                    status: None,
                    answer: failure.to_string(),
                    finding: "0.9 WebSocket transport fails".into(),
                    good: false,
                });
            }
        }
    }
    // Ends the session at once instead of leaving it to the close timeout.
    let pq = format!("{resource}/1/xhr-polling/{}?disconnect=1", handshake.sid);
    let request = format!("GET {pq}");
    match http.get(target, &pq, &cookies, http.timeout).await {
        Ok(answer) => attempts.push(Attempt {
            request,
            status: Some(answer.status),
            answer: answer.snippet(),
            finding: "session closed".into(),
            good: answer.status == 200,
        }),
        Err(failure) => attempts.push(Attempt {
            request,
            status: None,
            answer: failure.to_string(),
            finding: "could not close the session".into(),
            good: false,
        }),
    }
    Ok(Some(finding))
}

/// `POST <hub>/negotiate?negotiateVersion=1`.
pub(crate) async fn signalr(
    http: &Http,
    target: &Target,
    hub: &str,
    attempts: &mut Vec<Attempt>,
) -> Result<Option<SignalRFinding>, Failure> {
    let pq = format!("{}/negotiate?negotiateVersion=1", hub.trim_end_matches('/'));
    let request = format!("POST {pq}");
    let answer = match http
        .post(target, &pq, "", "text/plain;charset=UTF-8", &[])
        .await
    {
        Ok(answer) => answer,
        Err(failure) => {
            attempts.push(Attempt::failed(request, &failure));
            return Err(failure);
        }
    };
    let json: Option<serde_json::Map<String, Json>> = serde_json::from_slice(&answer.body).ok();
    let finding = match (answer.status, json) {
        (200, Some(object)) if object.contains_key("availableTransports") => {
            let transports = object
                .get("availableTransports")
                .and_then(Json::as_array)
                .map(|list| {
                    list.iter()
                        .map(|t| SignalRTransport {
                            transport: t
                                .get("transport")
                                .and_then(Json::as_str)
                                .unwrap_or("?")
                                .to_owned(),
                            formats: t
                                .get("transferFormats")
                                .and_then(Json::as_array)
                                .map(|f| {
                                    f.iter()
                                        .filter_map(Json::as_str)
                                        .map(str::to_owned)
                                        .collect()
                                })
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(SignalRFinding {
                hub: hub.to_owned(),
                negotiate_version: object.get("negotiateVersion").and_then(Json::as_u64),
                transports,
                redirect: None,
            })
        }
        (200, Some(object)) if object.contains_key("url") && object.contains_key("accessToken") => {
            Some(SignalRFinding {
                hub: hub.to_owned(),
                negotiate_version: None,
                transports: Vec::new(),
                redirect: object.get("url").and_then(Json::as_str).map(str::to_owned),
            })
        }
        _ => None,
    };
    attempts.push(Attempt {
        request,
        status: Some(answer.status),
        answer: answer.snippet(),
        finding: if finding.is_some() {
            "ASP.NET Core SignalR negotiate answer".into()
        } else {
            "not a SignalR negotiate answer".into()
        },
        good: finding.is_some(),
    });
    Ok(finding)
}
