#![doc = include_str!("../README.md")]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod array;
pub mod docs;
mod element;
mod error;
mod export;
mod raw;
mod reader;
mod reclaim;
mod sync;

pub use array::FtArray;
pub use element::{Arith, Element, Word};
pub use error::Error;
pub use export::{Export, ReadOnlyExport};
pub use reader::{Iter, Reader, ReaderIter};
pub use reclaim::retired_bytes;

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
