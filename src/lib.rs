#![doc = include_str!("../README.md")]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// One concept a file; each uses only the ones listed after it.
mod array; // FtArray: the public typed face
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
mod sync; // the loom shim
mod traits; // the std traits of FtArray
mod view; // View: the typed read view (crate-internal interface)
mod writer; // Writer: the typed writer lock (crate-internal interface)

pub use array::FtArray;
pub use dynamic::{CompareOp, DynArray, Kind, RawExport, Slice, TypeCode, Value};
pub use element::{Arith, Element, Word};
pub use error::Error;
pub use export::{Export, ReadOnlyExport};
pub use npy::{NpyElement, NpyError};
pub use reader::{Iter, Reader, ReaderIter};
pub use reclaim::retired_bytes;
pub use session::Session;

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
