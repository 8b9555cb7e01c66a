#![no_main]
//! Socket.IO 0.9: message, polling payload, handshake and JSONP decoders.
//!
//! Properties: no input panics; every error points inside the input; a decoded message
//! passes `validate`, and encoding it gives a canonical string that decodes to the same
//! message and encodes to itself again; the same for every message of a payload;
//! handshakes and JSONP bodies survive a re-encode.

use libfuzzer_sys::fuzz_target;
use sio_legacy_proto::{
    DecodeError, Handshake, Jsonp, JsonpBody, decode, decode_jsonp, decode_jsonp_form,
    decode_payload, encode_jsonp, encode_jsonp_form,
};

fuzz_target!(|data: &[u8]| {
    // Lossy conversion keeps non-UTF-8 inputs useful: they turn into U+FFFD, the frame marker.
    let input = String::from_utf8_lossy(data);
    let input = input.as_ref();
    let in_bounds = |e: &DecodeError| e.offset().is_none_or(|o| o <= input.len());

    match decode(input) {
        Ok(msg) => {
            assert_eq!(msg.validate(), Ok(()), "{input:?}");
            let wire = msg.to_encoded();
            let again = match decode(&wire) {
                Ok(again) => again,
                Err(e) => panic!("{input:?} re-encoded as {wire:?} fails: {e}"),
            };
            assert_eq!(again, msg, "{input:?} -> {wire:?}");
            assert_eq!(again.to_encoded(), wire);
        }
        Err(e) => assert!(in_bounds(&e), "{input:?}: {e:?}"),
    }

    for result in decode_payload(input).take(10_000) {
        match result {
            Ok(msg) => {
                let wire = msg.to_encoded();
                let again = decode(&wire).ok();
                assert_eq!(again.as_ref(), Some(&msg), "{input:?} -> {wire:?}");
            }
            Err(e) => assert!(in_bounds(&e), "{input:?}: {e:?}"),
        }
    }

    match Handshake::parse(input) {
        Ok(hs) => {
            let again = Handshake::parse(&hs.to_string()).ok();
            assert_eq!(again.as_ref(), Some(&hs), "{input:?}");
        }
        Err(e) => assert!(in_bounds(&e), "{input:?}: {e:?}"),
    }

    match decode_jsonp(input) {
        Ok(Jsonp {
            index,
            body: JsonpBody::Data(data),
        }) => {
            let mut script = String::new();
            encode_jsonp(index, &data, &mut script);
            let expected = Jsonp {
                index,
                body: JsonpBody::Data(data),
            };
            assert_eq!(decode_jsonp(&script).ok(), Some(expected), "{input:?}");
        }
        Ok(_) => {}
        Err(e) => assert!(in_bounds(&e), "{input:?}: {e:?}"),
    }

    match decode_jsonp_form(input) {
        Ok(payload) => {
            let mut form = String::new();
            encode_jsonp_form(&payload, &mut form);
            assert_eq!(decode_jsonp_form(&form).ok(), Some(payload), "{input:?}");
        }
        Err(e) => assert!(in_bounds(&e), "{input:?}: {e:?}"),
    }
});
