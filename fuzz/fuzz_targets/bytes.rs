#![no_main]
//! The `bytes` fuzz target; the logic is `ftarray_fuzz::run_bytes` (see fuzz/src/bytes.rs).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ftarray_fuzz::run_bytes(data));
