//! The model-based property test.
//!
//! There is one model of `FtArray`'s documented semantics: the `ftarray-model` crate
//! (`fuzz/model/src/ops.rs`), a `Vec<T>` that every operation is also applied to (every error
//! case, the export rules, the strict rule, live exports held across operations), compared bit
//! for bit after every step. The `ops` fuzz target runs it under libFuzzer; this test runs the
//! same code on every `cargo test`, decoding operation sequences from byte strings that
//! proptest generates (and shrinks), one test per element type.

use ftarray_model::ops;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    Config {
        cases: if cfg!(miri) { 4 } else { 256 },
        // Do not write regression files into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Declares a test that runs the model on random inputs for the element type that `run_ops`
/// picks with `$ty` as its first byte.
macro_rules! model_tests {
    ($($name:ident: $ty:expr,)*) => {$(
        proptest! {
            #![proptest_config(config())]
            #[test]
            fn $name(input in vec(any::<u8>(), 0..2048)) {
                let mut data = vec![$ty];
                data.extend(input);
                ops::run_ops(&data);
            }
        }
    )*};
}

model_tests! {
    u8_array_matches_the_vec_model: 0,
    i16_array_matches_the_vec_model: 1,
    u32_array_matches_the_vec_model: 2,
    u64_array_matches_the_vec_model: 3,
    f64_array_with_arbitrary_bit_patterns_matches_the_vec_model: 4,
    f32_array_with_arbitrary_bit_patterns_matches_the_vec_model: 5,
}
