//! Replays every input saved under fuzz/regressions/<target>/ through the fuzz targets' checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod harness;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            check(&data);
        }
    }
}

#[test]
fn sio_packet_regressions() {
    replay("sio_packet", harness::sio_packet);
}

#[test]
fn sio_binary_regressions() {
    replay("sio_binary", harness::sio_binary);
}

#[test]
fn sio_msgpack_regressions() {
    replay("sio_msgpack", harness::sio_msgpack);
}

/// A few hand-made inputs in the targets' formats, so the harness itself is exercised.
#[test]
fn harness_smoke() {
    harness::sio_packet(br#"2/a,1["x",1.5,{"k":[null]}]"#);
    harness::sio_packet(br#"51-["x",{"_placeholder":true,"num":0}]"#);
    let header = br#"51-["x",{"_placeholder":true,"num":0}]"#;
    let mut frames = vec![0x15, 0, header.len() as u8];
    frames.extend_from_slice(header);
    frames.extend_from_slice(&[1, 3, 1, 2, 3]);
    harness::sio_binary(&frames);
    harness::sio_msgpack(
        b"\x83\xa4type\x02\xa4data\x92\xa1x\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\xa3nsp\xa1/",
    );
}

#[test]
fn sio_frames_regressions() {
    replay("sio_frames", harness::sio_frames);
}

/// A few hand-made inputs of the `sio_frames` layout, so that the harness itself runs here.
#[test]
fn sio_frames_examples() {
    // Default parser, v5, 1 attachment: a binary event and its attachment.
    let text = br#"51-["a",{"_placeholder":true,"num":0}]"#;
    let mut input = vec![0b0101, 0, u8::try_from(text.len()).unwrap()];
    input.extend_from_slice(text);
    input.extend_from_slice(&[1, 2, 0xde, 0xad]);
    harness::sio_frames(&input);
    // msgpack: a text frame (refused), then a packet, then garbage.
    let packet = sio_socketio_proto::msgpack::encode(&sio_socketio_proto::Packet::event(
        "/",
        "a",
        vec![sio_socketio_proto::Value::from(1.5)],
    ))
    .unwrap();
    let mut input = vec![0b0011, 0, 2, b'2', b'['];
    input.extend_from_slice(&[1, u8::try_from(packet.len()).unwrap()]);
    input.extend_from_slice(&packet);
    input.extend_from_slice(&[1, 1, 0xc1]);
    harness::sio_frames(&input);
}
