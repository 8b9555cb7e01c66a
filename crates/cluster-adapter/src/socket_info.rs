//! Sockets in `fetchSockets` answers: `{id, handshake, rooms, data}` with Node's handshake shape
//! (`headers, time, address, xdomain, secure, issued, url, query, auth`).

use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, UNIX_EPOCH},
};

use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use sio_server::{Handshake, Value, adapter::SocketInfo};

use crate::value::{civil_from_days, get, get_str, map, string_array, strings};

/// A local socket as Node describes it to other nodes.
pub fn to_value(info: &SocketInfo) -> Value {
    let h = &info.handshake;
    let headers = Value::Map(
        h.headers
            .keys()
            .map(|name| {
                let joined = h
                    .headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect::<Vec<_>>()
                    .join(", ");
                (Value::from(name.as_str()), Value::from(joined))
            })
            .collect(),
    );
    let issued = h
        .time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let query = Value::Map(
        h.url
            .query()
            .map(|q| {
                q.split('&')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        (Value::from(k), Value::from(v))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    );
    let address = h.address.map_or(Value::Nil, |a| {
        // Node reports IPv4 peers of a dual-stack socket this way; plain is fine too.
        Value::from(a.ip().to_string())
    });
    let handshake = map([
        ("headers", headers),
        ("time", Value::from(js_date_string(issued))),
        ("address", address),
        (
            "xdomain",
            Value::from(h.headers.contains_key(http::header::ORIGIN)),
        ),
        ("secure", Value::from(h.secure)),
        ("issued", Value::from(issued)),
        ("url", Value::from(h.url.to_string())),
        ("query", query),
        ("auth", h.auth.clone()),
    ]);
    map([
        ("id", Value::from(info.id.as_str())),
        ("handshake", handshake),
        ("rooms", string_array(&info.rooms)),
        ("data", info.data.clone()),
    ])
}

/// A socket of another node; `None` without an id. Missing details get neutral values.
pub fn from_value(value: &Value) -> Option<SocketInfo> {
    let id = get_str(value, "id")?.to_owned();
    let h = get(value, "handshake");
    let field = |key: &str| h.and_then(|h| get(h, key));
    let mut headers = HeaderMap::new();
    if let Some(Value::Map(fields)) = field("headers") {
        for (k, v) in fields {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                continue;
            };
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                headers.append(name, value);
            }
        }
    }
    let time = field("issued")
        .and_then(Value::as_u64)
        .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        // Another node's number: one past what this platform's clock holds is no time at all.
        .unwrap_or(UNIX_EPOCH);
    let address = field("address")
        .and_then(Value::as_str)
        .and_then(|a| a.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 0));
    let url = field("url")
        .and_then(Value::as_str)
        .and_then(|u| u.parse::<Uri>().ok())
        .unwrap_or_else(|| Uri::from_static("/"));
    Some(SocketInfo {
        id,
        handshake: Handshake {
            headers: headers.into(),
            time,
            address,
            secure: field("secure").and_then(Value::as_bool).unwrap_or(false),
            url,
            auth: field("auth").cloned().unwrap_or(Value::Map(Vec::new())),
        },
        rooms: strings(get(value, "rooms")),
        data: get(value, "data").cloned().unwrap_or(Value::Nil),
    })
}

/// Adds the sockets of another node's answer (its `sockets` array) to `sockets`; entries without
/// an id are left out.
pub fn extend_from(sockets: &mut Vec<SocketInfo>, remote: Option<&Value>) {
    if let Some(Value::Array(remote)) = remote {
        sockets.extend(remote.iter().filter_map(from_value));
    }
}

/// `new Date(ms).toString()` in UTC, e.g. `Tue Dec 01 2026 08:33:05 GMT+0000 (Coordinated Universal Time)`.
fn js_date_string(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days % 7).unwrap_or(0))
        .unwrap_or(&"Thu");
    let month = MONTHS
        .get(usize::try_from(m.saturating_sub(1)).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{weekday} {month} {d:02} {y} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// For tests: a handshake made now.
#[cfg(test)]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_string_like_node() {
        assert_eq!(
            js_date_string(1_796_113_985_000),
            "Tue Dec 01 2026 08:33:05 GMT+0000 (Coordinated Universal Time)"
        );
        assert!(now_ms() > 0);
    }

    #[test]
    fn round_trip() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("1"));
        let info = SocketInfo {
            id: "abc".into(),
            handshake: Handshake {
                headers: headers.into(),
                time: UNIX_EPOCH + Duration::from_millis(1234),
                address: Some("127.0.0.1:5000".parse().unwrap()),
                secure: false,
                url: "/socket.io/?EIO=4&transport=polling".parse().unwrap(),
                auth: map([("token", Value::from("t"))]),
            },
            rooms: vec!["abc".into(), "r1".into()],
            data: Value::from(5),
        };
        let back = from_value(&to_value(&info)).unwrap();
        assert_eq!(back.id, "abc");
        assert_eq!(back.rooms, info.rooms);
        assert_eq!(back.data, info.data);
        assert_eq!(back.handshake.auth, info.handshake.auth);
        assert_eq!(back.handshake.time, info.handshake.time);
        assert_eq!(back.handshake.headers, info.handshake.headers);
        assert_eq!(back.handshake.url, info.handshake.url);
    }
}
