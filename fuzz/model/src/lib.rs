//! The `Vec` model of `FtArray`'s documented semantics, shared by the fuzz targets (the `ops`
//! target runs it under libFuzzer) and the root crate's property test (`tests/model.rs`, which
//! runs it on proptest-generated inputs in every `cargo test`): one model, two drivers.
//!
//! * [`ops`]: operation sequences applied to an `FtArray<T>` and to a `Vec<T>`, compared bit
//!   for bit after every step (every error case and the export rules included).
//! * [`elem`]: the element types the fuzzers use and bit-exact helpers for them.

pub mod elem;
pub mod ops;

pub use ops::run_ops;

/// Whether `FTARRAY_FUZZ_DEBUG` is set: the targets then print the input they decoded (for
/// triage: `FTARRAY_FUZZ_DEBUG=1 cargo test --manifest-path fuzz/Cargo.toml -- --nocapture`).
pub fn debug() -> bool {
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("FTARRAY_FUZZ_DEBUG").is_some())
}
