#![no_main]
//! See `check_packet` in crates/engineio-proto/tests/fuzz_checks/mod.rs: decode,
//! re-encode, decode again and compare; the regression test replays saved crashes through
//! the same function.
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
mod checks {
    include!("../../crates/engineio-proto/tests/fuzz_checks/mod.rs");
}

fuzz_target!(|data: &[u8]| {
    checks::check_packet(data);
});
