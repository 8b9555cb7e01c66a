// The properties the fuzz targets check, shared with the regression test that replays the
// saved crash inputs (`tests/fuzz_regressions.rs`). The fuzz targets `include!` this file,
// so it must stay free of `crate::`/`super::` paths.

use sio_engineio_proto::{
    Data, Packet, Revision, decode_binary, decode_text, decode_text_frame, encode_binary_frame,
    payload,
};

/// Whether re-encoding must reproduce the input byte for byte: handshake JSON may be
/// reformatted and base64 may gain its padding, everything else is canonical.
fn canonical(packets: &[Packet<'_>]) -> bool {
    packets
        .iter()
        .all(|p| !matches!(p, Packet::Open(_) | Packet::Message(Data::Binary(_))))
}

/// `fuzz_targets/eio_packet.rs`: single WebSocket frames.
pub(crate) fn check_packet(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(packet) = decode_text(text) {
            let mut out = String::new();
            assert!(
                packet.encode_text(&mut out).is_ok(),
                "decoded text packet has no text form"
            );
            assert_eq!(decode_text(&out).as_ref(), Ok(&packet));
            if canonical(std::slice::from_ref(&packet)) {
                assert_eq!(out, text);
            }
        }
        for revision in [Revision::V3, Revision::V4] {
            if let Ok(packet) = decode_text_frame(text, revision) {
                let mut out = String::new();
                packet.encode_text_base64(revision, &mut out);
                assert_eq!(decode_text_frame(&out, revision).as_ref(), Ok(&packet));
            }
        }
    }
    for revision in [Revision::V3, Revision::V4] {
        if let Ok(packet) = decode_binary(data, revision) {
            let Packet::Message(Data::Binary(bytes)) = &packet else {
                panic!("a binary frame decoded to {packet:?}");
            };
            let mut out = Vec::new();
            encode_binary_frame(bytes, revision, &mut out);
            assert_eq!(out, data);
            assert_eq!(decode_binary(&out, revision).as_ref(), Ok(&packet));
        }
    }
}

/// `fuzz_targets/eio_payload_v4.rs`: V4 polling bodies.
pub(crate) fn check_payload_v4(data: &[u8]) {
    // Decode packet by packet, as a server with a packet cap does.
    let mut decoded = Vec::new();
    let mut failed = false;
    for item in payload::decode_v4(data) {
        match item {
            Ok(packet) => decoded.push(packet),
            Err(_) => failed = true,
        }
    }
    if failed {
        return;
    }
    let mut out = String::new();
    // Decoded text never holds the separator, so re-encoding cannot fail.
    assert!(payload::encode_v4(&decoded, &mut out).is_ok());
    let again: Result<Vec<_>, _> = payload::decode_v4(out.as_bytes()).collect();
    assert_eq!(again.as_ref(), Ok(&decoded));
    if canonical(&decoded) {
        assert_eq!(out.as_bytes(), data);
    }
}

/// `fuzz_targets/eio_payload_v3.rs`: V3 string and XHR2 binary bodies, and JSONP form
/// bodies.
pub(crate) fn check_payload_v3(data: &[u8]) {
    if let Ok(packets) = payload::decode_v3_string(data).collect::<Result<Vec<_>, _>>() {
        let mut out = String::new();
        payload::encode_v3_string(&packets, &mut out);
        let again: Result<Vec<_>, _> = payload::decode_v3_string(out.as_bytes()).collect();
        assert_eq!(again.as_ref(), Ok(&packets));
        for supports_binary in [false, true] {
            let body = payload::encode_v3(&packets, supports_binary);
            let again: Result<Vec<_>, _> = payload::decode_v3(body.as_bytes()).collect();
            if packets.is_empty() && matches!(body, payload::Body::Text(_)) {
                assert_eq!(again, Ok(Vec::new()));
            } else {
                assert_eq!(again.as_ref(), Ok(&packets));
            }
        }
    }
    if let Ok(packets) = payload::decode_v3_binary(data).collect::<Result<Vec<_>, _>>() {
        let mut out = Vec::new();
        payload::encode_v3_binary(&packets, &mut out);
        let again: Result<Vec<_>, _> = payload::decode_v3_binary(&out).collect();
        assert_eq!(again.as_ref(), Ok(&packets));
    }
    if let Ok(text) = payload::decode_jsonp_body(data) {
        let mut form = String::new();
        payload::encode_jsonp_body(&text, &mut form);
        assert_eq!(
            payload::decode_jsonp_body(form.as_bytes()).as_ref(),
            Ok(&text)
        );
        let mut script = String::new();
        assert!(payload::encode_jsonp("0", &text, &mut script).is_ok());
        assert!(!script.contains(['\u{2028}', '\u{2029}', '\n', '\r']));
        // The form carries a text payload of either revision.
        let _ = payload::decode_v3_string(text.as_bytes()).count();
        let _ = payload::decode_v4(text.as_bytes()).count();
    }
}
