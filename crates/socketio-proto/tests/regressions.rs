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
