//! Conversions between Python objects and the core's [`Value`]s, indices and slices, and the
//! mapping of core errors to the standard module's exceptions.
//!
//! Every conversion here may run Python code (`__index__`, `__float__`, a `str` subclass's
//! methods), so the array methods call them *before* touching the array: no Python code ever
//! runs while an array's lock is held or an epoch guard is pinned.
//!
//! Element conversions follow `Modules/arraymodule.c` setter by setter (`b_setitem`,
//! `HH_setitem`, `II_setitem`, ...): they call the same C API functions in the same order
//! (`PyArg_Parse` with the same format strings, `PyNumber_Index`, `PyLong_AsUnsignedLong`, ...),
//! so the exceptions and their messages are this interpreter's own. Plain `int`s and `float`s
//! that fit take a fast path that cannot fail.

use ftarray::{Error, Kind, Slice, TypeCode, Value};
use pyo3::exceptions::{
    PyBufferError, PyIndexError, PyMemoryError, PyOverflowError, PyTypeError, PyValueError,
};
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_int, c_long, c_longlong, c_short, c_uchar, c_ulong, c_ulonglong};
use std::ptr;

/// The message CPython gives every resize refused because of a live buffer export.
pub(crate) const EXPORTED: &str = "cannot resize an array that is exporting buffers";

/// `Err` with the exception Python has set (or a `SystemError` if, wrongly, none is set).
fn fetch<T>(py: Python<'_>) -> PyResult<T> {
    Err(PyErr::fetch(py))
}

fn overflow<T>(msg: &'static str) -> PyResult<T> {
    Err(PyOverflowError::new_err(msg))
}

/// Whether `v` fits `code`'s integer range (for the fast path).
#[inline]
fn fits(v: i64, code: TypeCode) -> bool {
    match code.int_range() {
        Some((lo, hi)) => (lo..=hi).contains(&i128::from(v)),
        None => false,
    }
}

/// Converts `obj` into a value for an array of type `code`, exactly as the standard module's
/// setter for `code` would (same accepted inputs, same exceptions and messages).
pub(crate) fn to_value(obj: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Value> {
    let p = obj.as_ptr();
    match code.kind() {
        Kind::Signed | Kind::Unsigned => {
            // SAFETY: `p` is a live object (borrowed from `obj`); the checks read its type only.
            if unsafe { ffi::PyLong_CheckExact(p) } != 0 {
                let mut overflowed: c_int = 0;
                // SAFETY: `p` is an exact int; this call never runs Python code for one and
                // reports an out-of-range value through `overflowed`, not an exception.
                let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(p, &mut overflowed) };
                if overflowed == 0 && fits(v, code) {
                    return Ok(Value::Int(v));
                }
            }
            int_value(obj, code)
        }
        Kind::Float => {
            // SAFETY: as above; an exact float's value is read directly.
            if unsafe { ffi::PyFloat_CheckExact(p) } != 0 {
                // SAFETY: `p` is an exact float.
                return Ok(Value::Float(unsafe { ffi::PyFloat_AS_DOUBLE(p) }));
            }
            // SAFETY: `p` is a live object; `PyFloat_AsDouble` may run `__float__`/`__index__`,
            // which is why values are converted before the array is touched.
            let x = unsafe { ffi::PyFloat_AsDouble(p) };
            // SAFETY: reading the error indicator of this attached thread.
            if x == -1.0 && unsafe { !ffi::PyErr_Occurred().is_null() } {
                return fetch(obj.py());
            }
            Ok(Value::Float(x))
        }
        Kind::Char => char_value(obj),
    }
}

/// The slow path of an integer conversion: `Modules/arraymodule.c`'s setter for `code`.
fn int_value(obj: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Value> {
    let py = obj.py();
    let p = obj.as_ptr();
    macro_rules! parse {
        ($fmt:expr, $t:ty) => {{
            let mut x: $t = 0;
            // SAFETY: the format unit matches the pointer's type (`h` short, `b` unsigned char,
            // `i` int, `l` long, `L` long long), and `p` is a live object.
            if unsafe { ffi::PyArg_Parse(p, $fmt.as_ptr(), &mut x as *mut $t) } == 0 {
                return fetch(py);
            }
            x
        }};
    }
    let v: i64 = match code {
        TypeCode::I8 => {
            let x = parse!(c"h;array item must be integer", c_short);
            if x < -128 {
                return overflow("signed char is less than minimum");
            }
            if x > 127 {
                return overflow("signed char is greater than maximum");
            }
            x.into()
        }
        TypeCode::U8 => parse!(c"b;array item must be integer", c_uchar).into(),
        TypeCode::I16 => parse!(c"h;array item must be integer", c_short).into(),
        TypeCode::U16 => {
            let x = parse!(c"i;array item must be integer", c_int);
            if x < 0 {
                return overflow("unsigned short is less than minimum");
            }
            if x > 0xffff {
                return overflow("unsigned short is greater than maximum");
            }
            x.into()
        }
        TypeCode::Int => parse!(c"i;array item must be integer", c_int).into(),
        TypeCode::Long => parse!(c"l;array item must be integer", c_long) as i64,
        TypeCode::I64 => parse!(c"L;array item must be integer", c_longlong),
        TypeCode::UInt | TypeCode::ULong | TypeCode::U64 => return unsigned_value(obj, code),
        TypeCode::F32 | TypeCode::F64 | TypeCode::WChar | TypeCode::Ucs4 => {
            unreachable!("integer codes only")
        }
    };
    Ok(Value::Int(v))
}

/// `II_setitem`, `LL_setitem`, `QQ_setitem`: `__index__` for non-ints, then the C API's
/// unsigned conversion (whose messages differ between `unsigned long` and `long long`).
fn unsigned_value(obj: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Value> {
    let py = obj.py();
    // SAFETY: `obj` is live; a type check reads its type only.
    let index = if unsafe { ffi::PyLong_Check(obj.as_ptr()) } != 0 {
        obj.clone()
    } else {
        // SAFETY: `PyNumber_Index` returns a new reference or NULL with an exception set.
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyNumber_Index(obj.as_ptr()))? }
    };
    let p = index.as_ptr();
    let v: u64 = if code == TypeCode::U64 {
        // SAFETY: `p` is an int (or int subclass); no Python code runs.
        let x: c_ulonglong = unsafe { ffi::PyLong_AsUnsignedLongLong(p) };
        // SAFETY: reading this thread's error indicator.
        if x == c_ulonglong::MAX && unsafe { !ffi::PyErr_Occurred().is_null() } {
            return fetch(py);
        }
        x
    } else {
        // SAFETY: as above.
        let x: c_ulong = unsafe { ffi::PyLong_AsUnsignedLong(p) };
        // SAFETY: as above.
        if x == c_ulong::MAX && unsafe { !ffi::PyErr_Occurred().is_null() } {
            return fetch(py);
        }
        if code == TypeCode::UInt && x > c_ulong::from(u32::MAX) {
            return overflow("unsigned int is greater than maximum");
        }
        x as u64
    };
    Ok(Value::from(v))
}

/// `u_setitem` and `w_setitem`: a `str` of exactly one character.
fn char_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = obj.py();
    let p = obj.as_ptr();
    // SAFETY: `p` is live; an exact-type check reads its type only.
    if unsafe { ffi::PyUnicode_CheckExact(p) } != 0 {
        // SAFETY: `p` is an exact str; reading its length and first character runs no Python code.
        unsafe {
            if ffi::PyUnicode_GetLength(p) == 1 {
                return Ok(Value::Char(ffi::PyUnicode_ReadChar(p, 0)));
            }
        }
        return Err(PyTypeError::new_err("array item must be unicode character"));
    }
    let mut u: *mut ffi::PyObject = ptr::null_mut();
    // SAFETY: `U` stores a borrowed str pointer into `u`; `p` is live.
    if unsafe {
        ffi::PyArg_Parse(
            p,
            c"U;array item must be unicode character".as_ptr(),
            &mut u,
        )
    } == 0
    {
        return fetch(py);
    }
    // SAFETY: `u` is the str `PyArg_Parse` checked (`p` itself, borrowed).
    let (len, c) = unsafe {
        let len = ffi::PyUnicode_GetLength(u);
        (
            len,
            if len == 1 {
                ffi::PyUnicode_ReadChar(u, 0)
            } else {
                0
            },
        )
    };
    // With a 4-byte wchar_t (every platform but Windows) one character is one wchar_t, so the
    // `u` check (`PyUnicode_AsWideChar` length 1) and the `w` check (length 1) agree.
    if len != 1 {
        return Err(PyTypeError::new_err("array item must be unicode character"));
    }
    Ok(Value::Char(c))
}

/// What an object is, when it is one of the builtin scalars a search can compare without
/// calling Python: read from the exact type, so no Python code runs.
pub(crate) enum Scalar {
    /// An exact `int` (or a `bool`) in `i64`'s range.
    Int(i64),
    /// An exact `int` above `i64::MAX` that fits `u64`.
    UInt(u64),
    /// An exact `int` beyond 64 bits.
    BigInt,
    /// An exact `float`.
    Float(f64),
    /// An exact `str`: its only character, if it has exactly one.
    Str(Option<u32>),
    /// `None`.
    None,
    /// Anything else (subclasses included: they may define `__eq__`).
    Other,
}

/// Classifies `obj` (see [`Scalar`]).
pub(crate) fn classify(obj: &Bound<'_, PyAny>) -> Scalar {
    let p = obj.as_ptr();
    // SAFETY: `p` is a live object; the checks read its type, and the values of exact ints,
    // floats and strs are read without running Python code. An overflow error the unsigned
    // read sets is cleared at once.
    unsafe {
        if ffi::PyLong_CheckExact(p) != 0 || ffi::PyBool_Check(p) != 0 {
            let mut overflowed: c_int = 0;
            let i = ffi::PyLong_AsLongLongAndOverflow(p, &mut overflowed);
            if overflowed == 0 {
                return Scalar::Int(i);
            }
            let u = ffi::PyLong_AsUnsignedLongLong(p);
            if u == u64::MAX && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
                return Scalar::BigInt;
            }
            return Scalar::UInt(u);
        }
        if ffi::PyFloat_CheckExact(p) != 0 {
            return Scalar::Float(ffi::PyFloat_AS_DOUBLE(p));
        }
        if ffi::PyUnicode_CheckExact(p) != 0 {
            return Scalar::Str(
                (ffi::PyUnicode_GetLength(p) == 1).then(|| ffi::PyUnicode_ReadChar(p, 0)),
            );
        }
        if p == ffi::Py_None() {
            return Scalar::None;
        }
    }
    Scalar::Other
}

/// The Python object for an element value.
#[inline]
pub(crate) fn to_object(py: Python<'_>, value: Value) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: each constructor returns a new reference or NULL with an exception set.
    unsafe {
        let p = match value {
            Value::Int(i) => ffi::PyLong_FromLongLong(i),
            Value::UInt(u) => ffi::PyLong_FromUnsignedLongLong(u),
            Value::Float(x) => ffi::PyFloat_FromDouble(x),
            // As `u_getitem`/`w_getitem`: an invalid code point (only `frombytes` can store
            // one) raises `ValueError` here, with the interpreter's own message.
            Value::Char(c) => ffi::PyUnicode_FromOrdinal(c as c_int),
        };
        Bound::from_owned_ptr_or_err(py, p)
    }
}

/// `PyNumber_AsSsize_t(obj, exc)` for an object known to have `__index__`: the index, clamped
/// to `isize` when `exc` is null, or the error.
pub(crate) fn as_ssize(obj: &Bound<'_, PyAny>, exc: *mut ffi::PyObject) -> PyResult<isize> {
    // SAFETY: `obj` is live; `exc` is null or an exception type.
    let i = unsafe { ffi::PyNumber_AsSsize_t(obj.as_ptr(), exc) };
    // SAFETY: reading this thread's error indicator.
    if i == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
        return fetch(obj.py());
    }
    Ok(i)
}

/// Whether `obj` has `__index__` (`PyIndex_Check`).
pub(crate) fn is_index(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: reads the type's slots only.
    unsafe { ffi::PyIndex_Check(obj.as_ptr()) != 0 }
}

/// An argument converted as Argument Clinic's `Py_ssize_t` converter does: `__index__`, then
/// `OverflowError` if it does not fit.
pub(crate) fn ssize_arg(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    let py = obj.py();
    // SAFETY: new reference or NULL with an exception set.
    let index = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyNumber_Index(obj.as_ptr()))? };
    // SAFETY: `index` is an int.
    let i = unsafe { ffi::PyLong_AsSsize_t(index.as_ptr()) };
    // SAFETY: reading this thread's error indicator.
    if i == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
        return fetch(py);
    }
    Ok(i)
}

/// A `slice_index` argument (`index(x, start, stop)`): an int or `__index__`, clamped to
/// `isize`; anything else is a `TypeError`.
pub(crate) fn slice_index_arg(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    if is_index(obj) {
        as_ssize(obj, ptr::null_mut())
    } else {
        Err(PyTypeError::new_err(
            "slice indices must be integers or have an __index__ method",
        ))
    }
}

/// The start, stop and step of a Python `slice` object, as `PySlice_Unpack` gives them.
pub(crate) fn to_slice(obj: &Bound<'_, PyAny>) -> PyResult<Slice> {
    let (mut start, mut stop, mut step): (ffi::Py_ssize_t, ffi::Py_ssize_t, ffi::Py_ssize_t) =
        (0, 0, 0);
    // SAFETY: `obj` is a slice (checked by the caller); the out-pointers are valid. The call may
    // run `__index__` of the bounds.
    if unsafe { ffi::PySlice_Unpack(obj.as_ptr(), &mut start, &mut stop, &mut step) } < 0 {
        return fetch(obj.py());
    }
    Ok(Slice::new(Some(start), Some(stop), Some(step)))
}

/// Whether `obj` is a `slice`.
pub(crate) fn is_slice(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: reads the object's type only.
    unsafe { ffi::PySlice_Check(obj.as_ptr()) != 0 }
}

/// The exception for a core error in a context with no more specific message.
pub(crate) fn error(e: Error) -> PyErr {
    match e {
        Error::Exported { .. } => PyBufferError::new_err(EXPORTED),
        Error::AllocFailed { .. } | Error::CapacityOverflow => PyMemoryError::new_err(()),
        Error::ZeroStep => PyValueError::new_err("slice step cannot be zero"),
        Error::BadByteLength { .. } => {
            PyValueError::new_err("bytes length not a multiple of item size")
        }
        Error::TypeMismatch { .. } => {
            PyTypeError::new_err("bad argument type for built-in operation")
        }
        Error::LengthMismatch { expected, actual } => PyValueError::new_err(format!(
            "attempt to assign array of size {actual} to extended slice of size {expected}"
        )),
        Error::SignedIndexOutOfRange { .. } | Error::IndexOutOfRange { .. } => {
            PyIndexError::new_err("array index out of range")
        }
        Error::Empty => PyIndexError::new_err("pop from empty array"),
        Error::Overflow { .. } => PyOverflowError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}
