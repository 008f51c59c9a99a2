#![no_main]
//! The `capi` fuzz target; the logic is `ftarray_fuzz::run_capi` (see fuzz/src/capi.rs).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ftarray_fuzz::run_capi(data));
