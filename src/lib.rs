//! A growable array of plain numbers that any number of threads can read and write at once,
//! with no lock around it, and that never frees memory another thread is still reading.
//!
//! [`FtArray<T>`](FtArray) holds `i8` … `i64`, `u8` … `u64`, `f32`, `f64`, or your own
//! [`Element`] newtype of one of those sizes. Share it by reference (`&FtArray<T>`,
//! `Arc<FtArray<T>>`): every method takes `&self`.
//!
//! ```
//! use ftarray::FtArray;
//! use std::sync::Arc;
//!
//! let a = Arc::new(FtArray::<u32>::new());
//! let writer = {
//!     let a = Arc::clone(&a);
//!     std::thread::spawn(move || {
//!         for _ in 0..100 {
//!             a.clear();
//!             a.extend_from_slice(&[0, 1, 2, 3]); // readers see all four or none
//!         }
//!     })
//! };
//! for i in 0..4 {
//!     // `a[i]` is out of range or exactly what was stored there.
//!     assert!(a.get(i).is_none_or(|v| v == i as u32));
//! }
//! writer.join().unwrap();
//! // Edits of several elements are one step for readers too.
//! a.update(|v| v.iter_mut().for_each(|x| *x *= 10)).unwrap();
//! assert_eq!(a.to_vec(), [0, 10, 20, 30]);
//! ```
//!
//! # What is where
//!
//! * [`FtArray`]: reads ([`get`](FtArray::get), [`to_vec`](FtArray::to_vec), …) take no lock
//!   and never see a state that did not exist; writes take a per-array lock and take effect at
//!   one instant.
//! * [`Reader`] and [`Session`]: one epoch pin held across many reads, released at the
//!   caller's own quiescent points (pinning is the largest fixed cost of a read).
//! * [`Snapshot`] ([`FtArray::snapshot`]): an immutable view of one instant that shares the
//!   storage (the next writer to store into it copies it first, once) and derefs to `&[T]`.
//! * [`Export`] and [`ReadOnlyExport`]: a raw pointer to the storage, pinned so that it neither
//!   moves nor is freed while the guard lives (what Python's buffer protocol and C hosts need).
//! * [`DynArray`] (and [`DynSnapshot`]): the runtime-typed layer behind the C ABI and the Python
//!   module: Python's type codes, values, and index and slice arithmetic resolved at each
//!   operation's linearization point.
//! * [`arrow`]: a [`DynSnapshot`] handed to Arrow consumers through the C Data Interface
//!   without a copy, and Arrow primitive arrays copied in.
//! * [`npy`]: atomic `.npy` save (write a temporary file, then rename it) and a strict loader.
//! * Memory: [`retired_bytes`], [`flush`], [`drain`], [`release_kept_blocks`],
//!   [`mapped_block_bytes`] (large blocks are mappings of their own), and
//!   [`after_fork_child`] for a child process after `fork()`.
//! * [`Error`]: every failure of an array operation ([`NpyError`] for files); a failed call
//!   changes nothing.
//! * [`docs::internals`] (ARCHITECTURE.md) explains why it is sound; [`docs::choices`] lists the
//!   decisions the design left open.
//!
//! ```
//! let a = ftarray::FtArray::from_slice(&[1.0f64, 2.0, 3.0]);
//! let mut reader = a.reader();
//! let total: f64 = (0..reader.len()).filter_map(|i| reader.get(i)).sum();
//! reader.repin(); // lets buffers retired meanwhile be freed
//! assert_eq!(total, 6.0);
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
// The sync rule (clippy.toml): locks, spins and yields come from `sync`, the loom shim.
#![deny(clippy::disallowed_types, clippy::disallowed_methods)]

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

// One concept a file. The layers (which file may use which) are ARCHITECTURE.md's "Files"
// table, checked by tests/layering.rs; rustfmt keeps these declarations in name order.
mod array; // FtArray: the public typed face
#[cfg(not(loom))]
pub mod arrow; // the Arrow C Data Interface: export snapshots, import primitive arrays
pub mod docs;
pub mod dynamic; // DynArray: the runtime-typed layer with Python's semantics
mod element; // Element, Word, Arith
mod error; // Error
mod export; // Export, ReadOnlyExport (and FtArray::export*)
pub mod npy; // .npy persistence
mod raw; // the concurrent core, keyed by word size
mod reader; // Reader, Iter, ReaderIter (and FtArray::iter, FtArray::reader)
mod reclaim; // retired-bytes accounting and back-pressure
mod session; // Session: one pin held across many reads
mod snapshot; // Snapshot: an immutable view of one instant (and FtArray::snapshot)
mod sync; // the loom shim
#[cfg(all(test, not(loom)))]
mod testing; // helpers for unit tests that re-run themselves in a child process
mod traits; // the std traits of FtArray
mod typecode; // TypeCode, Kind: the one table of type codes
mod view; // View: the typed read view (crate-internal interface)
mod writer; // Writer: the typed writer lock (crate-internal interface)

pub use array::FtArray;
pub use dynamic::{
    CompareOp, DynArray, DynHold, DynSnapshot, HeldStamp, NewArray, RawExport, Slice, Value,
};
pub use element::{Arith, Element, Word};
pub use error::Error;
pub use export::{Export, ReadOnlyExport};
pub use npy::{NpyElement, NpyError};
pub use raw::{kept_block_bytes, mapped_block_bytes, release_kept_blocks};
pub use reader::{Iter, Reader, ReaderIter};
pub use reclaim::{after_fork_child, drain, flush, pin, retired_bytes, stranded_bytes};
pub use session::Session;
pub use snapshot::Snapshot;
pub use typecode::{Kind, TypeCode};

#[cfg(all(test, not(loom)))]
mod send_sync {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn arrays_and_exports_are_send_and_sync() {
        assert_send_sync::<FtArray<u8>>();
        assert_send_sync::<FtArray<f64>>();
        assert_send_sync::<Export<'static, i32>>();
        assert_send_sync::<ReadOnlyExport<'static, i32>>();
        assert_send_sync::<Error>();
    }
}
