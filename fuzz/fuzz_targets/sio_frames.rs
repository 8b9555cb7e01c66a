//! The parser seam (`Codec`, `FrameDecoder`) over both parsers. See `sio_socketio_proto`'s
//! tests/harness/mod.rs for the input format and the checked properties (shared with the crate's
//! regression test over fuzz/regressions/sio_frames/).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/socketio-proto/tests/harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::sio_frames(data);
});
