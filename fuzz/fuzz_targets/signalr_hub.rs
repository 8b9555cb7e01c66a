#![no_main]
//! SignalR hub protocols (JSON and MessagePack) on the same bytes.
//!
//! Properties: no input panics; every error points inside the input; every decoded message
//! (other than an unknown type) encodes, the encoding decodes to one message that encodes to the
//! same bytes again, and for JSON to the same message. (A MessagePack string that is not UTF-8
//! is kept as read and re-encoded as binary by rmpv, so there only the bytes are compared.)

use libfuzzer_sys::fuzz_target;
use sio_signalr_proto::{HubMessage, HubProtocol};

const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    for protocol in [HubProtocol::Json, HubProtocol::MessagePack] {
        for result in protocol.decode_frame(data, MAX).take(10_000) {
            match result {
                Ok(HubMessage::Unknown { .. }) => {}
                Ok(message) => {
                    let mut wire = Vec::new();
                    if let Err(e) = protocol.encode(&message, &mut wire) {
                        panic!("{protocol:?} {message:?} does not encode: {e}");
                    }
                    let again: Vec<_> = protocol.decode_frame(&wire, usize::MAX).collect();
                    match again.as_slice() {
                        [Ok(again)] => {
                            if protocol == HubProtocol::Json {
                                assert_eq!(again, &message, "{wire:02x?}");
                            }
                            let mut wire2 = Vec::new();
                            assert!(protocol.encode(again, &mut wire2).is_ok());
                            assert_eq!(wire2, wire, "{protocol:?} {again:?}");
                        }
                        other => panic!("{protocol:?} {message:?} -> {wire:02x?} -> {other:?}"),
                    }
                }
                Err(e) => assert!(e.offset() <= data.len(), "{protocol:?}: {e:?}"),
            }
        }
    }
});
