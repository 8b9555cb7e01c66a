//! Packets and broadcast options as Node's adapters put them in their messages.

use std::time::Duration;

use sio_server::{
    Value,
    adapter::{BroadcastFlags, BroadcastOptions},
    proto::Packet,
};

use crate::value::{get, get_str, map, string_array, strings};

/// Socket.IO packet types found in adapter messages.
const EVENT: u64 = 2;
const BINARY_EVENT: u64 = 5;

/// An EVENT as `{type: 2, data: [event, ...args], nsp}` (the key order Node's objects have).
pub fn packet_to_value(packet: &Packet) -> Option<Value> {
    let Packet::Event {
        nsp, event, args, ..
    } = packet
    else {
        return None;
    };
    let mut data = Vec::with_capacity(args.len() + 1);
    data.push(Value::from(event.as_str()));
    data.extend(args.iter().cloned());
    Some(map([
        ("type", Value::from(EVENT)),
        ("data", Value::Array(data)),
        ("nsp", Value::from(nsp.as_str())),
    ]))
}

/// A server-side emit's `[event, ...args]`, as both adapters' messages carry it.
pub fn event_data(event: String, args: Vec<Value>) -> Value {
    let mut data = Vec::with_capacity(args.len().saturating_add(1));
    data.push(Value::from(event));
    data.extend(args);
    Value::Array(data)
}

/// An EVENT from another node for namespace `nsp` (`nsp` defaults to `/`, as in Node); `None`
/// for anything else.
pub fn packet_from_value(value: Value) -> Option<Packet> {
    let ty = get(&value, "type")?.as_u64()?;
    if ty != EVENT && ty != BINARY_EVENT {
        return None;
    }
    let nsp = get_str(&value, "nsp").unwrap_or("/").to_owned();
    let Some(Value::Array(data)) = crate::value::get(&value, "data").cloned() else {
        return None;
    };
    let mut data = data.into_iter();
    let event = match data.next()? {
        Value::String(s) => s.into_str()?,
        other => other.to_string(),
    };
    Some(Packet::Event {
        nsp,
        id: None,
        event,
        args: data.collect(),
    })
}

/// `{rooms, except, flags}`; `flags` only with the fields that are set, as Node's objects.
pub fn opts_to_value(opts: &BroadcastOptions, with_flags: bool) -> Value {
    let rooms = string_array(&opts.rooms);
    let except = string_array(&opts.except);
    if !with_flags {
        return map([("rooms", rooms), ("except", except)]);
    }
    let mut flags = Vec::new();
    if let Some(compress) = opts.flags.compress {
        flags.push((Value::from("compress"), Value::from(compress)));
    }
    if opts.flags.volatile {
        flags.push((Value::from("volatile"), Value::from(true)));
    }
    if let Some(timeout) = opts.flags.timeout {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        flags.push((Value::from("timeout"), Value::from(ms)));
    }
    map([
        ("rooms", rooms),
        ("except", except),
        ("flags", Value::Map(flags)),
    ])
}

/// Longest acknowledgement wait another node may ask of this one (`flags.timeout` of a broadcast
/// with acks): this node keeps a task and its clients' acknowledgements open that long to relay
/// them. The requester chooses it, so it is capped: without a bound one message (`timeout:
/// 2^64-1`) would hold them for ever, or overflow the deadline. Two minutes is well past the 5 s
/// Node waits by default; a requester that asks longer gets the acks of the first two minutes.
pub const MAX_PEER_ACK_TIMEOUT: Duration = Duration::from_secs(120);

/// Options from another node; missing fields are empty, a timeout is at most
/// [`MAX_PEER_ACK_TIMEOUT`].
pub fn opts_from_value(value: Option<&Value>) -> BroadcastOptions {
    let Some(value) = value else {
        return BroadcastOptions::default();
    };
    let flags = get(value, "flags");
    let flag = |key: &str| flags.and_then(|f| get(f, key));
    BroadcastOptions {
        rooms: strings(get(value, "rooms")),
        except: strings(get(value, "except")),
        flags: BroadcastFlags {
            // Never trust a remote `local`: it was meant for the sender's node.
            local: false,
            volatile: flag("volatile").and_then(Value::as_bool).unwrap_or(false),
            compress: flag("compress").and_then(Value::as_bool),
            timeout: flag("timeout")
                .and_then(Value::as_u64)
                .map(|ms| Duration::from_millis(ms).min(MAX_PEER_ACK_TIMEOUT)),
        },
    }
}

/// Node's `uid2(n)`: random letters and digits.
pub fn uid2(n: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| {
            let i = rng.random_range(0..CHARS.len());
            char::from(CHARS.get(i).copied().unwrap_or(b'a'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_round_trip() {
        let packet = Packet::Event {
            nsp: "/chat".into(),
            id: None,
            event: "hi".into(),
            args: vec![Value::from(1)],
        };
        let value = packet_to_value(&packet).unwrap();
        assert_eq!(packet_from_value(value).unwrap(), packet);
        let no_nsp = map([
            ("type", Value::from(2)),
            ("data", Value::Array(vec![Value::from("x")])),
        ]);
        assert_eq!(packet_from_value(no_nsp).unwrap().nsp(), "/");
        assert!(packet_from_value(map([("type", Value::from(0))])).is_none());
    }

    #[test]
    fn options_round_trip() {
        let opts = BroadcastOptions {
            rooms: vec!["a".into()],
            except: vec!["b".into()],
            flags: BroadcastFlags {
                local: false,
                volatile: true,
                compress: Some(true),
                timeout: Some(Duration::from_millis(1500)),
            },
        };
        assert_eq!(opts_from_value(Some(&opts_to_value(&opts, true))), opts);
        assert_eq!(uid2(6).len(), 6);
    }

    #[test]
    fn a_peers_timeout_is_capped() {
        let opts = BroadcastOptions {
            flags: BroadcastFlags {
                timeout: Some(Duration::MAX),
                ..BroadcastFlags::default()
            },
            ..BroadcastOptions::default()
        };
        let wire = opts_to_value(&opts, true);
        assert_eq!(
            get(get(&wire, "flags").unwrap(), "timeout"),
            Some(&Value::from(u64::MAX))
        );
        assert_eq!(
            opts_from_value(Some(&wire)).flags.timeout,
            Some(MAX_PEER_ACK_TIMEOUT)
        );
    }
}
