#![no_main]
//! SignalR handshake answers, negotiate answers (ASP.NET Core and classic) and classic frames.
//!
//! Properties: no input panics; a handshake answer's length stays inside the input; the transport
//! order of a negotiate answer only names transports the answer offered.

use libfuzzer_sys::fuzz_target;
use sio_signalr_proto::classic::{decode_classic_frame, decode_classic_negotiate};
use sio_signalr_proto::handshake::decode_handshake_response;
use sio_signalr_proto::negotiate::{
    NegotiateResponse, TransferFormat, HttpTransportType, decode_negotiate_response, transport_order,
};

fuzz_target!(|data: &[u8]| {
    if let Ok((_, used)) = decode_handshake_response(data, 1 << 16) {
        assert!(used <= data.len());
    }
    if let Ok(NegotiateResponse::Connect(n)) = decode_negotiate_response(data) {
        let all = [HttpTransportType::WebSockets, HttpTransportType::ServerSentEvents, HttpTransportType::LongPolling];
        for format in [TransferFormat::Text, TransferFormat::Binary] {
            for t in transport_order(&n.available_transports, &all, format) {
                assert!(n.available_transports.iter().any(|a| a.transport == t));
                assert!(t.supports(format));
            }
        }
    }
    let _ = decode_classic_negotiate(data);
    let _ = decode_classic_frame(data, 1 << 20);
});
