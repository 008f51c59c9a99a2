//! Why a `.npy` save or load failed.

use super::Dtype;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why saving or loading a `.npy` file failed.
///
/// Two families: [`Io`](NpyError::Io) is the operating system's refusal (no such file,
/// permission denied, disk full; a host maps it to `OSError`), every other variant says what is
/// wrong with the file's bytes (a host maps those to `ValueError`; see
/// [`is_io`](NpyError::is_io)). A failed load allocates nothing the size of the header's claim
/// and returns no array; a failed save leaves the target file as it was.
///
/// ```
/// use ftarray::{FtArray, npy::NpyError};
///
/// let err = FtArray::<f64>::read_npy(&b"PK\x03\x04 a zip file"[..]).unwrap_err();
/// assert!(matches!(err, NpyError::BadMagic { .. }));
/// assert!(!err.is_io());
/// assert_eq!(
///     err.to_string(),
///     "not a .npy file: it starts with b\"PK\\x03\\x04 a z\", not the magic string b\"\\x93NUMPY\""
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum NpyError {
    /// Opening, reading, writing, syncing or renaming failed.
    Io {
        /// The file or directory the operation was on, when there was one.
        path: Option<PathBuf>,
        /// What was being done: `"open"`, `"create a temporary file beside"`, ….
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file does not start with `\x93NUMPY`.
    BadMagic {
        /// The file's first bytes (at most 8).
        found: Vec<u8>,
    },
    /// The format version is not 1.0, 2.0 or 3.0.
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header length field exceeds the limit (numpy's default `max_header_size`, 10,000).
    HeaderTooLarge {
        /// The length the file gives.
        len: u64,
        /// The limit, [`MAX_HEADER_LEN`](super::MAX_HEADER_LEN).
        max: u64,
    },
    /// The file ends inside the header.
    TruncatedHeader {
        /// Bytes the header needs (magic, version, length field and the dictionary).
        expected: u64,
        /// Bytes the file has.
        actual: u64,
    },
    /// The header's dictionary is not the literal numpy writes.
    BadHeader {
        /// Offset of the problem from the start of the file.
        offset: u64,
        /// What was expected and what was found.
        reason: String,
    },
    /// `descr` names a type ftarray does not store (`'<c16'`, `'|b1'`, strings, records, …).
    UnsupportedDtype {
        /// The `descr` string as written in the file.
        descr: String,
    },
    /// The file's element type is not the one asked for.
    DtypeMismatch {
        /// The type in the file.
        found: Dtype,
        /// The type of the array being loaded.
        expected: Dtype,
    },
    /// `fortran_order` is `True`; only C order is read.
    FortranOrder,
    /// The shape has two or more dimensions.
    NotOneDimensional {
        /// The shape in the file.
        shape: Vec<u64>,
    },
    /// The element count times the element size exceeds what memory can address
    /// (`isize::MAX` bytes).
    TooLarge {
        /// Element count the header claims.
        len: u64,
        /// The element type.
        dtype: Dtype,
    },
    /// The data is shorter than the header claims.
    TruncatedData {
        /// Data bytes the header claims (element count × element size).
        expected: u64,
        /// Data bytes the file has after the header.
        actual: u64,
    },
    /// A file holds more bytes after the header than the header claims.
    TrailingData {
        /// Data bytes the header claims.
        expected: u64,
        /// Data bytes the file has after the header.
        actual: u64,
    },
    /// A [`DynArray`](crate::DynArray) of characters (type codes `u`, `w`) has no `.npy`
    /// element type that ftarray writes or reads.
    UnsupportedTypeCode {
        /// The array's type code.
        code: crate::TypeCode,
    },
    /// The array could not be allocated ([`Error::AllocFailed`](crate::Error::AllocFailed) or
    /// [`Error::CapacityOverflow`](crate::Error::CapacityOverflow)).
    Alloc(crate::Error),
}

impl NpyError {
    /// Whether this is an operating-system error ([`Io`](NpyError::Io)) rather than a problem
    /// with the file's contents.
    pub fn is_io(&self) -> bool {
        matches!(self, NpyError::Io { .. })
    }

    pub(crate) fn io(action: &'static str, path: Option<PathBuf>, source: io::Error) -> Self {
        NpyError::Io {
            path,
            action,
            source,
        }
    }
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::Io {
                path: Some(path),
                action,
                source,
            } => write!(f, "could not {action} {}: {source}", path.display()),
            NpyError::Io {
                path: None,
                action,
                source,
            } => write!(f, "could not {action}: {source}"),
            NpyError::BadMagic { found } if found.is_empty() => {
                f.write_str("not a .npy file: the file is empty")
            }
            NpyError::BadMagic { found } => write!(
                f,
                "not a .npy file: it starts with b\"{}\", not the magic string b\"\\x93NUMPY\"",
                found.escape_ascii()
            ),
            NpyError::UnsupportedVersion { major, minor } => write!(
                f,
                "unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"
            ),
            NpyError::HeaderTooLarge { len, max } => write!(
                f,
                "header length {len} exceeds the limit of {max} bytes (numpy's max_header_size)"
            ),
            NpyError::TruncatedHeader { expected, actual } => write!(
                f,
                "truncated header: the header needs {expected} bytes but the file has only {actual}"
            ),
            NpyError::BadHeader { offset, reason } => {
                write!(f, "malformed .npy header at byte {offset}: {reason}")
            }
            NpyError::UnsupportedDtype { descr } => write!(
                f,
                "unsupported dtype {descr}: ftarray loads '|i1' '|u1' and '<'/'>' i2 u2 i4 u4 i8 \
                 u8 f4 f8"
            ),
            NpyError::DtypeMismatch { found, expected } => write!(
                f,
                "dtype mismatch: the file holds {found} but the array's element type is {}",
                expected.name()
            ),
            NpyError::FortranOrder => f.write_str(
                "Fortran-ordered data (fortran_order: True) is not supported; save in C order",
            ),
            NpyError::NotOneDimensional { shape } => {
                write!(
                    f,
                    "expected a 1-D array, but the shape is {}",
                    ShapeFmt(shape)
                )
            }
            NpyError::TooLarge { len, dtype } => write!(
                f,
                "the header claims {len} elements of {}: more than memory can hold",
                dtype.name()
            ),
            NpyError::TruncatedData { expected, actual } => write!(
                f,
                "truncated data: the header claims {expected} bytes of data but the file has \
                 {actual}"
            ),
            NpyError::TrailingData { expected, actual } => write!(
                f,
                "trailing bytes: the header claims {expected} bytes of data but the file has \
                 {actual}"
            ),
            NpyError::UnsupportedTypeCode { code } => write!(
                f,
                "arrays of type code '{code}' (characters) cannot be saved as .npy: ftarray \
                 writes integer and float arrays only"
            ),
            NpyError::Alloc(e) => write!(f, "could not allocate the array: {e}"),
        }
    }
}

impl std::error::Error for NpyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NpyError::Io { source, .. } => Some(source),
            NpyError::Alloc(e) => Some(e),
            _ => None,
        }
    }
}

/// A shape as Python prints a tuple: `()`, `(3,)`, `(2, 3)`.
pub(crate) struct ShapeFmt<'a>(pub(crate) &'a [u64]);

impl fmt::Display for ShapeFmt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("()"),
            [n] => write!(f, "({n},)"),
            [first, rest @ ..] => {
                write!(f, "({first}")?;
                for n in rest {
                    write!(f, ", {n}")?;
                }
                f.write_str(")")
            }
        }
    }
}
