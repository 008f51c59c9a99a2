//! The C ABI of ftarray: `libftarray` and its header `ftarray.h`, for runtimes written in C
//! that want a thread-safe backing store for their array type.
//!
//! One opaque handle (`ftarray` in C, [`Handle`] here) wraps a [`ftarray::DynArray`]: an array
//! whose element type is chosen at run time by a Python `array` type code. Every entry point
//! is an `extern "C"` function that returns a [`Status`] and goes through one boundary macro
//! (`ffi!`, in `boundary.rs`): it initialises the library on first use (exactly once, see
//! [`ftarray_init`]), checks pointer arguments for NULL, runs the body under
//! `catch_unwind` (no panic crosses into C), and turns the result into a status, recording
//! a message that [`ftarray_last_error`] copies out.
//!
//! The header is generated from these sources by cbindgen (`capi/cbindgen.toml`); the
//! test `capi/tests/header.rs` regenerates it and fails when the checked-in copy is stale.
//! The documentation comments here are the header's: they speak C.
//!
//! Rust code can call the entry points too (the fuzz crate does), as `unsafe` functions.
//!
//! ```
//! use ftarray_capi::*;
//! let mut a = std::ptr::null_mut();
//! // SAFETY: every pointer is valid; the handle is freed once, by this thread.
//! unsafe {
//!     assert_eq!(ftarray_new(b'i' as std::ffi::c_char, &mut a), Status::Ok);
//!     assert_eq!(ftarray_push_i64(a, 7), Status::Ok);
//!     let mut x = 0i64;
//!     assert_eq!(ftarray_get_i64(a, -1, &mut x), Status::Ok);
//!     assert_eq!(x, 7);
//!     assert_eq!(ftarray_get_i64(a, 1, &mut x), Status::IndexError);
//!     assert_eq!(ftarray_free(a), Status::Ok);
//! }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// Declared in the order the header lists them (cbindgen follows declaration order).

/// Status codes.
mod status;

/// The panic boundary, the last error, initialisation.
mod boundary;

/// Process-wide counters.
mod stats;

/// Creating and freeing handles; shape and settings.
mod lifecycle;

/// Single elements.
mod elements;

/// Whole-array operations, slices, snapshots, comparison.
mod bulk;

/// Searching by value.
mod search;

/// Atomic read-modify-write.
mod atomics;

/// Raw exports.
mod exports;

/// Reader sessions.
mod session;

/// The after-fork call, flushing and draining retired memory.
mod quiesce;

/// The `fork()` handlers (no entry points).
mod fork;

/// The live exports' storage (no entry points).
mod registry;

/// Saving and loading `.npy` files.
mod persist;

/// The Arrow C Data Interface.
mod arrow;

/// The handle and argument conversions (no entry points).
mod handle;

pub use arrow::*;
pub use atomics::*;
pub use boundary::{
    ftarray_clear_error, ftarray_init, ftarray_last_error, ftarray_status_str, ftarray_version,
    ftarray_version_number,
};
pub use bulk::*;
pub use elements::*;
pub use exports::*;
pub use handle::Handle;
pub use lifecycle::*;
pub use persist::*;
pub use quiesce::*;
pub use search::*;
pub use session::*;
pub use stats::{Stats, ftarray_get_stats};
pub use status::Status;
