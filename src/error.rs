//! The crate's error type.

use std::fmt;

/// Why an operation on an [`FtArray`](crate::FtArray) failed.
///
/// Every failing call leaves the array exactly as it was: the error is decided before anything
/// becomes visible to other threads.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An index was not below the array's length at the instant the operation took effect.
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The array's length at that instant.
        len: usize,
    },
    /// A range was reversed (`start > end`) or ran past the array's length.
    RangeOutOfBounds {
        /// First index of the range.
        start: usize,
        /// One past the last index of the range.
        end: usize,
        /// The array's length at the instant the operation took effect.
        len: usize,
    },
    /// A byte buffer's length was not a whole number of elements.
    BadByteLength {
        /// The byte length given.
        len: usize,
        /// The element size in bytes.
        item_size: usize,
    },
    /// A caller's buffer had the wrong length (for example, values for an extended slice
    /// assignment that selects a different number of elements).
    LengthMismatch {
        /// The length the operation needed.
        expected: usize,
        /// The length it was given.
        actual: usize,
    },
    /// The requested capacity does not fit in memory's address space (`isize::MAX` bytes).
    CapacityOverflow,
    /// The allocator refused a request.
    AllocFailed {
        /// The size of the refused allocation, in bytes.
        bytes: usize,
    },
    /// The storage is pinned by a raw-pointer export, and the operation would have had to move
    /// or free it (grow past the capacity, shrink, insert, remove, …).
    Exported {
        /// How many exports were alive.
        exports: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::IndexOutOfRange { index, len } => {
                write!(f, "index {index} out of range for array of length {len}")
            }
            Error::RangeOutOfBounds { start, end, len } if start > end => {
                write!(f, "range {start}..{end} is reversed (array length {len})")
            }
            Error::RangeOutOfBounds { start, end, len } => {
                write!(
                    f,
                    "range {start}..{end} out of bounds for array of length {len}"
                )
            }
            Error::BadByteLength { len, item_size } => write!(
                f,
                "byte length {len} is not a multiple of the item size {item_size}"
            ),
            Error::LengthMismatch { expected, actual } => {
                write!(f, "{actual} value(s) given where {expected} are needed")
            }
            Error::CapacityOverflow => f.write_str("capacity overflow"),
            Error::AllocFailed { bytes } => write!(f, "memory allocation of {bytes} bytes failed"),
            Error::Exported { exports } => write!(
                f,
                "the storage is pinned by {exports} export(s) and this operation would move or \
                 free it"
            ),
        }
    }
}

impl std::error::Error for Error {}
