//! The logic of ftarray's fuzz targets, as plain functions.
//!
//! Each `fuzz_targets/<name>.rs` is a one-line wrapper around one of these functions, so that
//! `tests/regressions.rs` can replay the checked-in seeds (`corpus/<name>/seed-*`) and every
//! saved crash (`regressions/<name>-*`) through the same code on stable Rust, without libFuzzer.
//!
//! * [`run_ops`]: a sequence of operations applied to an `FtArray<T>` and to a `Vec<T>` model of
//!   the documented semantics (errors and the export rules included), compared bit for bit after
//!   every step; the model is the `ftarray-model` crate (`fuzz/model`), which the root crate's
//!   property test runs too.
//! * [`run_bytes`]: `extend_from_bytes` / `to_bytes` / `byteswap` against a byte-level model,
//!   for every element type.
//! * [`run_threads`]: 2–3 threads running operation lists against one shared array of tagged
//!   values; checks that nothing is invented, lost or duplicated.
//! * [`run_npy`]: the `.npy` loader over arbitrary bytes: no panic, no allocation by the
//!   header's claims, and every loading path agreeing (see fuzz/src/npy.rs).
//! * [`run_capi`]: arbitrary call sequences through the C ABI (`ftarray_capi`) on a few live
//!   handles, against a byte-level model; failed calls must change nothing.
//!
//! Every check is an `assert!`: a failure panics, which libFuzzer reports as a crash.

mod bytes;
mod capi;
mod npy;
mod threads;

pub use bytes::run_bytes;
pub use capi::run_capi;
pub use ftarray_model::run_ops;
pub use npy::run_npy;
pub use threads::run_threads;

use ftarray_model::debug;

/// A target's logic: runs one input, panics on a failed check.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name: `(name, function)`.
pub const TARGETS: &[(&str, Target)] = &[
    ("ops", run_ops),
    ("bytes", run_bytes),
    ("threads", run_threads),
    ("npy", run_npy),
    ("capi", run_capi),
];

/// The function of the target called `name`, if there is one.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
