//! The checks of the fuzz target `cluster_message` (fuzz/fuzz_targets/cluster_message.rs), shared
//! with the regression test over fuzz/regressions/cluster_message/.
//!
//! Input: any bytes, as another node's message arrives (JSON when it starts with `{`, msgpack
//! otherwise). Properties: reading gives a value or a typed error, never a panic; every reader a
//! node applies to a message's parts (envelope, packet, options, rooms, sockets) returns; and a
//! message that was read can be sent again: its msgpack encoding reads back as a message of the
//! same type, sender and namespace.
#![allow(dead_code, clippy::expect_used, clippy::panic)]

use sio_cluster_adapter::{
    ClusterMessage, socket_info,
    value::{decode_any, from_msgpack, get, strings},
    wire::{opts_from_value, packet_from_value},
};

pub(crate) fn cluster_message(data: &[u8]) {
    let Ok(mut value) = decode_any(data) else {
        return;
    };
    // The classic adapter's messages are read part by part from the whole value.
    let _ = packet_from_value(value.clone());
    let _ = opts_from_value(Some(&value));
    let _ = strings(Some(&value));
    let _ = socket_info::from_value(&value);
    let Some(message) = ClusterMessage::from_value(&mut value) else {
        return;
    };
    if let Some(data) = &message.data {
        let _ = opts_from_value(get(data, "opts"));
        let _ = strings(get(data, "rooms"));
        let _ = get(data, "packet").cloned().and_then(packet_from_value);
        let mut sockets = Vec::new();
        socket_info::extend_from(&mut sockets, get(data, "sockets"));
    }
    let _ = message.clone().to_json_or_msgpack();
    // Values notepack cannot stand for (an extension type it does not write) are not sent.
    if let Some(bytes) = message.clone().to_msgpack() {
        let mut again = from_msgpack(&bytes).expect("our own msgpack reads");
        let again = ClusterMessage::from_value(&mut again).expect("our own message reads");
        assert_eq!(
            (again.kind, &again.uid, &again.nsp),
            (message.kind, &message.uid, &message.nsp)
        );
    }
}
