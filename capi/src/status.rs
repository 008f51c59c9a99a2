//! [`Status`], the code every entry point returns, and [`Fail`], a failure on its way to
//! becoming one (with its message).

/// What a call did: `FTARRAY_STATUS_OK`, or why it failed.
///
/// Every function that can fail returns one. A failed call changes nothing (the array, its
/// exports and the out-parameters are as before, unless the function says otherwise) and sets
/// this thread's last-error message (see `ftarray_last_error`). The numbers are stable: new
/// codes are only ever added at the end. The suggested Python exception is what CPython's
/// `array` module raises for the same failure.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// An index or range was outside the array at the instant the call took effect
    /// (`IndexError`).
    IndexError = 1,
    /// A value does not fit the element type, or an element does not fit the C type asked
    /// for (`OverflowError`).
    Overflow = 2,
    /// A type code that names no element type (`ValueError`).
    BadTypecode = 3,
    /// A byte length that is not what the call needs: not a whole number of elements, or not
    /// exactly one element (`ValueError`).
    BadLength = 4,
    /// The call would have moved, freed or (under the strict rule) resized storage that a
    /// live export pins (`BufferError`).
    Exported = 5,
    /// The allocator refused a request (`MemoryError`).
    OutOfMemory = 6,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 7,
    /// A bug inside the library panicked. The panic was caught at the boundary (it never
    /// unwinds into C), but the operation may have stopped halfway: stop using the arrays it
    /// touched, and report the message (`SystemError`).
    Panic = 8,
    /// `pop` on an empty array (`IndexError`).
    Empty = 9,
    /// A value of the wrong kind for the array (a double for an integer array, a number for
    /// a character array), or an operation the element type does not support, such as an
    /// atomic add on a character array (`TypeError`).
    WrongKind = 10,
    /// Two arrays needed the same type code and did not have it (`TypeError`).
    TypeMismatch = 11,
    /// A slice step of zero (`ValueError`).
    ZeroStep = 12,
    /// The value searched for is not in the array (`ValueError`).
    NotFound = 13,
    /// An ordering comparison met a character and a number (`TypeError`).
    Unordered = 14,
    /// An export token that names no live export of this array (`BufferError`).
    UnknownExport = 15,
    /// A caller's buffer is too small; the size needed was written where the function says.
    BufferTooSmall = 16,
    /// A requested size does not fit in the address space (`OverflowError`/`MemoryError`).
    CapacityOverflow = 17,
    /// An argument outside its documented set of values (an unknown comparison operator).
    InvalidArgument = 18,
    /// A session call on a thread that has not entered a session.
    NotInSession = 19,
    /// A failure this version of the C ABI has no specific code for; the message says what.
    Error = 20,
    /// The operating system refused a file operation: no such file, permission denied, disk
    /// full (`OSError`). The message names the file and the reason.
    Io = 21,
    /// A file is not a `.npy` array ftarray reads (bad magic, malformed header, unsupported
    /// type, 2-D shape, truncated data, …), or an array of characters was saved (`ValueError`).
    /// The message says what is wrong.
    BadFile = 22,
    /// A handle that is not a live array: freed already (a double free, or a call racing with
    /// the free on another thread), or a pointer this library did not make. Best effort, as
    /// SQLite's `SQLITE_MISUSE`: the library checks a magic word in the handle, which memory
    /// reused since the free may happen to hold (`SystemError`).
    Misuse = 23,
    /// The array was being written by a thread that this process does not have: it forked
    /// without running the library's `pthread_atfork` handlers (a raw `fork` or `clone` system
    /// call) and `ftarray_after_fork_child` found the array locked. Only `ftarray_free` works
    /// on it now (`SystemError`).
    Forked = 24,
}

impl Status {
    /// The enumerator's name, as a NUL-terminated C string with static lifetime.
    pub(crate) fn name(self) -> &'static std::ffi::CStr {
        match self {
            Status::Ok => c"FTARRAY_STATUS_OK",
            Status::IndexError => c"FTARRAY_STATUS_INDEX_ERROR",
            Status::Overflow => c"FTARRAY_STATUS_OVERFLOW",
            Status::BadTypecode => c"FTARRAY_STATUS_BAD_TYPECODE",
            Status::BadLength => c"FTARRAY_STATUS_BAD_LENGTH",
            Status::Exported => c"FTARRAY_STATUS_EXPORTED",
            Status::OutOfMemory => c"FTARRAY_STATUS_OUT_OF_MEMORY",
            Status::NullArgument => c"FTARRAY_STATUS_NULL_ARGUMENT",
            Status::Panic => c"FTARRAY_STATUS_PANIC",
            Status::Empty => c"FTARRAY_STATUS_EMPTY",
            Status::WrongKind => c"FTARRAY_STATUS_WRONG_KIND",
            Status::TypeMismatch => c"FTARRAY_STATUS_TYPE_MISMATCH",
            Status::ZeroStep => c"FTARRAY_STATUS_ZERO_STEP",
            Status::NotFound => c"FTARRAY_STATUS_NOT_FOUND",
            Status::Unordered => c"FTARRAY_STATUS_UNORDERED",
            Status::UnknownExport => c"FTARRAY_STATUS_UNKNOWN_EXPORT",
            Status::BufferTooSmall => c"FTARRAY_STATUS_BUFFER_TOO_SMALL",
            Status::CapacityOverflow => c"FTARRAY_STATUS_CAPACITY_OVERFLOW",
            Status::InvalidArgument => c"FTARRAY_STATUS_INVALID_ARGUMENT",
            Status::NotInSession => c"FTARRAY_STATUS_NOT_IN_SESSION",
            Status::Error => c"FTARRAY_STATUS_ERROR",
            Status::Io => c"FTARRAY_STATUS_IO",
            Status::BadFile => c"FTARRAY_STATUS_BAD_FILE",
            Status::Misuse => c"FTARRAY_STATUS_MISUSE",
            Status::Forked => c"FTARRAY_STATUS_FORKED",
        }
    }

    /// Every status, in numeric order (index `k` holds the status numbered `k`).
    pub(crate) const ALL: [Status; 25] = [
        Status::Ok,
        Status::IndexError,
        Status::Overflow,
        Status::BadTypecode,
        Status::BadLength,
        Status::Exported,
        Status::OutOfMemory,
        Status::NullArgument,
        Status::Panic,
        Status::Empty,
        Status::WrongKind,
        Status::TypeMismatch,
        Status::ZeroStep,
        Status::NotFound,
        Status::Unordered,
        Status::UnknownExport,
        Status::BufferTooSmall,
        Status::CapacityOverflow,
        Status::InvalidArgument,
        Status::NotInSession,
        Status::Error,
        Status::Io,
        Status::BadFile,
        Status::Misuse,
        Status::Forked,
    ];
}

/// A failed call: the status to return and the message for `ftarray_last_error`.
#[derive(Debug)]
pub struct Fail {
    pub(crate) status: Status,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Fail {
        Fail {
            status,
            message: message.into(),
        }
    }

    /// A NULL pointer argument.
    pub(crate) fn null(name: &str) -> Fail {
        Fail::new(
            Status::NullArgument,
            format!("argument `{name}` must not be NULL"),
        )
    }

    /// An allocation of `bytes` bytes that failed.
    pub(crate) fn oom(bytes: usize) -> Fail {
        Fail::from(ftarray::Error::AllocFailed { bytes })
    }
}

impl From<ftarray::Error> for Fail {
    fn from(e: ftarray::Error) -> Fail {
        use ftarray::Error as E;
        let status = match &e {
            E::IndexOutOfRange { .. }
            | E::SignedIndexOutOfRange { .. }
            | E::RangeOutOfBounds { .. } => Status::IndexError,
            E::BadByteLength { .. } | E::LengthMismatch { .. } => Status::BadLength,
            E::CapacityOverflow => Status::CapacityOverflow,
            E::AllocFailed { .. } => Status::OutOfMemory,
            E::Exported { .. } => Status::Exported,
            E::Empty => Status::Empty,
            E::BadTypeCode { .. } => Status::BadTypecode,
            E::Overflow { .. } => Status::Overflow,
            E::WrongKind { .. } | E::NotInteger { .. } => Status::WrongKind,
            E::TypeMismatch { .. } => Status::TypeMismatch,
            E::ZeroStep => Status::ZeroStep,
            E::NotFound => Status::NotFound,
            E::Unordered => Status::Unordered,
            E::UnknownExport { .. } => Status::UnknownExport,
            // `Error` is non-exhaustive: a variant added later reports as a generic error
            // with its own message until the C ABI names it.
            _ => Status::Error,
        };
        Fail::new(status, e.to_string())
    }
}

impl From<ftarray::npy::NpyError> for Fail {
    fn from(e: ftarray::npy::NpyError) -> Fail {
        use ftarray::npy::NpyError as E;
        let status = match &e {
            E::Io { .. } => Status::Io,
            E::Alloc(ftarray::Error::CapacityOverflow) => Status::CapacityOverflow,
            E::Alloc(_) => Status::OutOfMemory,
            _ => Status::BadFile,
        };
        Fail::new(status, e.to_string())
    }
}
