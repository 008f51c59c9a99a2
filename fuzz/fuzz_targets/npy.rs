#![no_main]
//! The `npy` fuzz target; the logic is `ftarray_fuzz::run_npy` (see fuzz/src/npy.rs).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ftarray_fuzz::run_npy(data));
