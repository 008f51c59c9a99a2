#![no_main]
//! The `threads` fuzz target; the logic is `ftarray_fuzz::run_threads` (see fuzz/src/threads.rs).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ftarray_fuzz::run_threads(data));
