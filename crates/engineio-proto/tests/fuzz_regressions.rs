#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Replays every input saved under `fuzz/regressions/<target>/` (crashes the fuzzers
//! found, since fixed) through the checks of that fuzz target.

mod fuzz_checks;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0; // No regressions saved for this target.
    };
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            check(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn eio_packet() {
    replay("eio_packet", fuzz_checks::check_packet);
}

#[test]
fn eio_payload_v4() {
    replay("eio_payload_v4", fuzz_checks::check_payload_v4);
}

#[test]
fn eio_payload_v3() {
    replay("eio_payload_v3", fuzz_checks::check_payload_v3);
}

/// The checks themselves hold on a few hand-made inputs (so the replay is not vacuous
/// when no regression is saved).
#[test]
fn checks_accept_valid_inputs() {
    fuzz_checks::check_packet(b"4hello");
    fuzz_checks::check_packet(b"\x04\x01\x02");
    fuzz_checks::check_packet(b"b4AQIDBA==");
    fuzz_checks::check_payload_v4(b"4hello\x1ebAQIDBA==\x1e2probe");
    fuzz_checks::check_payload_v3("6:4hello10:b4AQIDBA==2:4€".as_bytes());
    fuzz_checks::check_payload_v3(&[
        0, 6, 255, 52, 104, 101, 108, 108, 111, 1, 5, 255, 4, 1, 2, 3, 4,
    ]);
    fuzz_checks::check_payload_v3(b"d=6%3A4hello");
}
