#![no_main]
//! The server-sent events decoder SignalR's SSE transport reads through.
//!
//! Properties: no input panics; the same bytes fed whole and fed in two pieces (split at the
//! first byte's value) give the same events; no event is longer than the limit.

use libfuzzer_sys::fuzz_target;
use sio_signalr_proto::sse::SseDecoder;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut whole = SseDecoder::new(MAX);
    let mut whole_events = Vec::new();
    let whole_ok = whole.feed(data, &mut whole_events).is_ok();

    let split = usize::from(data.first().copied().unwrap_or(0)).min(data.len());
    let (a, b) = data.split_at(split);
    let mut pieces = SseDecoder::new(MAX);
    let mut piece_events = Vec::new();
    let pieces_ok = pieces.feed(a, &mut piece_events).is_ok() && pieces.feed(b, &mut piece_events).is_ok();

    assert_eq!(whole_ok, pieces_ok);
    if whole_ok {
        assert_eq!(whole_events, piece_events);
    }
    assert!(whole_events.iter().all(|e| e.len() <= MAX));
});
