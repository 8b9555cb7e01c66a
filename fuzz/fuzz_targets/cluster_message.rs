//! See `sio_cluster_adapter`'s tests/harness/mod.rs for the input format and the checked
//! properties (shared with the crate's regression test over fuzz/regressions/cluster_message/).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/cluster-adapter/tests/harness/mod.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::cluster_message(data);
});
