//! Replays every input saved under fuzz/regressions/cluster_message/ through the fuzz target's
//! checks, and a few hand-made messages so that the harness itself is exercised.
#![allow(clippy::unwrap_used)]

mod harness;

use std::path::PathBuf;

#[test]
fn cluster_message_regressions() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/cluster_message");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            eprintln!("replaying {}", path.display());
            harness::cluster_message(&std::fs::read(&path).unwrap());
        }
    }
}

#[test]
fn harness_smoke() {
    // A sharded adapter's JSON broadcast, a fetch-sockets answer, a classic adapter's request.
    harness::cluster_message(
        br#"{"uid":"a1","nsp":"/","type":3,"data":{"packet":{"type":2,"data":["x",1.5],"nsp":"/"},"opts":{"rooms":["r"],"except":[],"flags":{"timeout":18446744073709551615}}}}"#,
    );
    harness::cluster_message(
        br#"{"uid":"a1","nsp":"/","type":8,"data":{"requestId":"r","sockets":[{"id":"s","handshake":{"issued":99999999999999999999,"url":"::"},"rooms":[1,null]}]}}"#,
    );
    harness::cluster_message(br#"{"uid":"abc","type":7,"requestId":"r","opts":{"rooms":"x"}}"#);
    // msgpack: {type: 12, uid: "u", nsp: "/", data: {packet: bin}} and a lone timestamp.
    harness::cluster_message(
        b"\x84\xa4type\x0c\xa3uid\xa1u\xa3nsp\xa1/\xa4data\x81\xa6packet\xc4\x01\x01",
    );
    harness::cluster_message(&[0xd6, 0xff, 0x5f, 0xee, 0x66, 0x00]);
    harness::cluster_message(b"{not json");
}
