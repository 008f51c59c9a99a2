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
    /// or free it (grow past the capacity, shrink, insert, remove, …) or, under the strict rule
    /// (`set_strict_exports(true)`), change the length.
    Exported {
        /// How many exports were alive.
        exports: usize,
    },
    /// A signed (Python-style) index was out of range at the instant the operation took effect.
    SignedIndexOutOfRange {
        /// The index asked for (negative counts from the end).
        index: isize,
        /// The array's length at that instant.
        len: usize,
    },
    /// `pop` on an empty array.
    Empty,
    /// A character is not the name of a type code (`b B u w h H i I l L q Q f d`).
    BadTypeCode {
        /// The character given.
        code: char,
    },
    /// A value is outside the range of the element type.
    Overflow {
        /// The element type.
        code: crate::TypeCode,
        /// `true` if the value was above the maximum, `false` if below the minimum.
        above: bool,
    },
    /// A value of the wrong kind for the element type (a float for an integer array, a number
    /// for a character array, …).
    WrongKind {
        /// The element type.
        code: crate::TypeCode,
        /// The kind of value given (every integer reports as `Kind::Signed`).
        given: crate::Kind,
    },
    /// Two arrays needed the same element type and did not have it.
    TypeMismatch {
        /// The element type of the array operated on.
        expected: crate::TypeCode,
        /// The element type of the other array.
        actual: crate::TypeCode,
    },
    /// A slice's step was zero.
    ZeroStep,
    /// A value searched for (`remove`, `index`) is not in the array.
    NotFound,
    /// An operation needs integer elements.
    NotInteger {
        /// The element type.
        code: crate::TypeCode,
    },
    /// Character elements cannot be ordered against numbers.
    Unordered,
    /// An export token that does not name a live export of this array.
    UnknownExport {
        /// The token given.
        token: u64,
    },
    /// An Arrow array that cannot be imported (or a request that cannot be exported): an
    /// unsupported format, nulls, a released or malformed array.
    Arrow {
        /// What is wrong, for the message.
        reason: String,
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
                write!(f, "wrong length: {actual} given where {expected} is needed")
            }
            Error::CapacityOverflow => f.write_str("capacity overflow"),
            Error::AllocFailed { bytes } => write!(f, "memory allocation of {bytes} bytes failed"),
            Error::Exported { exports } => write!(
                f,
                "the storage is pinned by {exports} export(s) and this operation would move or \
                 free it"
            ),
            Error::SignedIndexOutOfRange { index, len } => {
                write!(f, "index {index} out of range for array of length {len}")
            }
            Error::Empty => f.write_str("the array is empty"),
            Error::BadTypeCode { code } => write!(
                f,
                "bad typecode {code:?} (must be b, B, u, w, h, H, i, I, l, L, q, Q, f or d)"
            ),
            Error::Overflow { code, above: true } => write!(
                f,
                "value is greater than the maximum of {} (type code '{code}')",
                code.c_name()
            ),
            Error::Overflow { code, above: false } => write!(
                f,
                "value is less than the minimum of {} (type code '{code}')",
                code.c_name()
            ),
            Error::WrongKind { code, given } => {
                let want = match code.kind() {
                    crate::Kind::Signed | crate::Kind::Unsigned => "an integer",
                    crate::Kind::Float => "a number",
                    crate::Kind::Char => "a character",
                };
                let got = match given {
                    crate::Kind::Signed | crate::Kind::Unsigned => "an integer",
                    crate::Kind::Float => "a float",
                    crate::Kind::Char => "a character",
                };
                write!(f, "array of type code '{code}' needs {want}, not {got}")
            }
            Error::TypeMismatch { expected, actual } => write!(
                f,
                "arrays of different type codes ('{expected}' and '{actual}')"
            ),
            Error::ZeroStep => f.write_str("slice step cannot be zero"),
            Error::NotFound => f.write_str("value not in array"),
            Error::NotInteger { code } => write!(
                f,
                "operation needs integer elements, not type code '{code}'"
            ),
            Error::Unordered => f.write_str("characters and numbers cannot be ordered"),
            Error::UnknownExport { token } => {
                write!(f, "export token {token} does not name a live export")
            }
            Error::Arrow { reason } => write!(f, "Arrow C data interface: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

impl TryFrom<char> for crate::TypeCode {
    type Error = Error;

    /// The type code named by `code`.
    ///
    /// # Errors
    ///
    /// [`Error::BadTypeCode`] for any other character.
    fn try_from(code: char) -> Result<Self, Error> {
        crate::TypeCode::from_char(code).ok_or(Error::BadTypeCode { code })
    }
}
