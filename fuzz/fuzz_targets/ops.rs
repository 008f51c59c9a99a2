#![no_main]
//! The `ops` fuzz target; the logic is `ftarray_fuzz::run_ops` (the `ftarray-model` crate, fuzz/model/src/ops.rs).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ftarray_fuzz::run_ops(data));
