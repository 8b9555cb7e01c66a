#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]
//! Replays the inputs saved under `fuzz/regressions/legacy_message/` (crashes the fuzz target
//! found) through the same checks as the target. Passes when the folder is empty or missing.

use std::path::Path;

use sio_legacy_proto::{
    DecodeError, Handshake, Jsonp, JsonpBody, decode, decode_jsonp, decode_jsonp_form,
    decode_payload, encode_jsonp, encode_jsonp_form,
};

/// The fuzz target's checks (fuzz/fuzz_targets/legacy_message.rs).
fn check(input: &str) {
    let in_bounds = |e: &DecodeError| e.offset().is_none_or(|o| o <= input.len());
    for e in [
        decode(input).err(),
        Handshake::parse(input).err(),
        decode_jsonp(input).err(),
        decode_jsonp_form(input).err(),
    ]
    .into_iter()
    .flatten()
    .chain(decode_payload(input).take(10_000).filter_map(Result::err))
    {
        assert!(in_bounds(&e), "{input:?}: {e:?}");
    }
    if let Ok(msg) = decode(input) {
        assert_eq!(msg.validate(), Ok(()), "{input:?}");
        let wire = msg.to_encoded();
        let again =
            decode(&wire).unwrap_or_else(|e| panic!("{input:?} re-encoded as {wire:?}: {e}"));
        assert_eq!(again, msg, "{input:?}");
        assert_eq!(again.to_encoded(), wire, "{input:?}");
    }
    for msg in decode_payload(input).take(10_000).flatten() {
        assert_eq!(decode(&msg.to_encoded()).unwrap(), msg, "{input:?}");
    }
    if let Ok(hs) = Handshake::parse(input) {
        assert_eq!(Handshake::parse(&hs.to_string()).unwrap(), hs, "{input:?}");
    }
    if let Ok(Jsonp {
        index,
        body: JsonpBody::Data(data),
    }) = decode_jsonp(input)
    {
        let mut script = String::new();
        encode_jsonp(index, &data, &mut script);
        let expected = Jsonp {
            index,
            body: JsonpBody::Data(data),
        };
        assert_eq!(decode_jsonp(&script).unwrap(), expected, "{input:?}");
    }
    if let Ok(payload) = decode_jsonp_form(input) {
        let mut form = String::new();
        encode_jsonp_form(&payload, &mut form);
        assert_eq!(decode_jsonp_form(&form).unwrap(), payload, "{input:?}");
    }
}

#[test]
fn fuzz_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/legacy_message");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        check(&String::from_utf8_lossy(&bytes));
    }
}
