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

use crate::cpython::{self, CInt, IntParts, OnOverflow};
use ftarray::{Error, Kind, Slice, TypeCode, Value};
use pyo3::exceptions::{
    PyBufferError, PyIndexError, PyMemoryError, PyOverflowError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PySlice, PyString};
use std::ffi::{CStr, c_ulong};

/// The message CPython gives every resize refused because of a live buffer export.
pub(crate) const EXPORTED: &str = "cannot resize an array that is exporting buffers";

/// The message of a read at an index out of range (`a[i]`, `array_item`).
pub(crate) const OUT_OF_RANGE_C: &CStr = c"array index out of range";

/// The message of a store or deletion at an index out of range (`a[i] = v`, `del a[i]`).
pub(crate) const ASSIGNMENT_OUT_OF_RANGE_C: &CStr = c"array assignment index out of range";

/// `IndexError(message)`.
pub(crate) fn index_error(message: &'static CStr) -> PyErr {
    PyIndexError::new_err(message.to_str().unwrap_or("index out of range"))
}

fn overflow<T>(msg: &'static str) -> PyResult<T> {
    Err(PyOverflowError::new_err(msg))
}

/// The value `obj` stores as in an array of type `code` without any conversion code, if it has
/// one: an exact `int` in range for integer arrays, an exact `float` for float arrays. Never
/// runs Python code and never fails; `None` means "convert the general way".
#[inline(always)]
pub(crate) fn exact_value(obj: &Bound<'_, PyAny>, code: TypeCode) -> Option<Value> {
    match code.kind() {
        Kind::Signed | Kind::Unsigned => {
            let v = cpython::exact_i64(obj)?;
            let (lo, hi) = code.int_range()?;
            (lo..=hi).contains(&i128::from(v)).then_some(Value::Int(v))
        }
        Kind::Float => cpython::exact_f64(obj).map(Value::Float),
        Kind::Char => None,
    }
}

/// Converts `obj` into a value for an array of type `code`, exactly as the standard module's
/// setter for `code` would (same accepted inputs, same exceptions and messages).
#[inline]
pub(crate) fn to_value(obj: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Value> {
    if let Some(v) = exact_value(obj, code) {
        return Ok(v);
    }
    match code.kind() {
        Kind::Signed | Kind::Unsigned => int_value(obj, code),
        // `PyFloat_AsDouble` may run `__float__`/`__index__`, which is why values are
        // converted before the array is touched.
        Kind::Float => cpython::as_f64(obj).map(Value::Float),
        Kind::Char => char_value(obj),
    }
}

/// The slow path of an integer conversion: `Modules/arraymodule.c`'s setter for `code`.
fn int_value(obj: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Value> {
    let v: i64 = match code {
        TypeCode::I8 => {
            let x = cpython::parse_int_item(obj, CInt::Short)?;
            if x < -128 {
                return overflow("signed char is less than minimum");
            }
            if x > 127 {
                return overflow("signed char is greater than maximum");
            }
            x
        }
        TypeCode::U8 => cpython::parse_int_item(obj, CInt::UChar)?,
        TypeCode::I16 => cpython::parse_int_item(obj, CInt::Short)?,
        TypeCode::U16 => {
            let x = cpython::parse_int_item(obj, CInt::Int)?;
            if x < 0 {
                return overflow("unsigned short is less than minimum");
            }
            if x > 0xffff {
                return overflow("unsigned short is greater than maximum");
            }
            x
        }
        TypeCode::Int => cpython::parse_int_item(obj, CInt::Int)?,
        TypeCode::Long => cpython::parse_int_item(obj, CInt::Long)?,
        TypeCode::I64 => cpython::parse_int_item(obj, CInt::LongLong)?,
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
    let index = if obj.is_instance_of::<PyInt>() {
        obj.clone()
    } else {
        cpython::number_index(obj)?
    };
    let v: u64 = if code == TypeCode::U64 {
        cpython::as_u64(&index)?
    } else {
        let x = cpython::as_ulong(&index)?;
        if code == TypeCode::UInt && x > c_ulong::from(u32::MAX) {
            return overflow("unsigned int is greater than maximum");
        }
        x as u64
    };
    Ok(Value::from(v))
}

/// `u_setitem` and `w_setitem`: a `str` of exactly one character.
fn char_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let s = if obj.is_exact_instance_of::<PyString>() {
        obj.cast::<PyString>()?.clone()
    } else {
        cpython::parse_str_item(obj)?
    };
    // With a 4-byte wchar_t (every platform but Windows) one character is one wchar_t, so the
    // `u` check (`PyUnicode_AsWideChar` length 1) and the `w` check (length 1) agree.
    match cpython::single_char(&s) {
        Some(c) => Ok(Value::Char(c)),
        None => Err(PyTypeError::new_err("array item must be unicode character")),
    }
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

/// Classifies `obj` (see [`Scalar`]), reading exact types only, so no Python code runs.
pub(crate) fn classify(obj: &Bound<'_, PyAny>) -> Scalar {
    if obj.is_exact_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
        if let Ok(int) = obj.cast::<PyInt>() {
            return match cpython::int_parts(int) {
                IntParts::I64(i) => Scalar::Int(i),
                IntParts::U64(u) => Scalar::UInt(u),
                IntParts::Big => Scalar::BigInt,
            };
        }
    }
    if let Some(x) = cpython::exact_f64(obj) {
        return Scalar::Float(x);
    }
    if obj.is_exact_instance_of::<PyString>() {
        if let Ok(s) = obj.cast::<PyString>() {
            return Scalar::Str(cpython::single_char(s));
        }
    }
    if obj.is_none() {
        return Scalar::None;
    }
    Scalar::Other
}

/// The Python object for an element value.
#[inline]
pub(crate) fn to_object(py: Python<'_>, value: Value) -> PyResult<Bound<'_, PyAny>> {
    cpython::value_object(py, value)
}

/// `PyNumber_AsSsize_t(obj, IndexError)` for an object known to have `__index__`: the index,
/// or `IndexError` if it does not fit.
pub(crate) fn as_index(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    cpython::index_as_isize(obj, OnOverflow::IndexError)
}

/// Whether `obj` has `__index__` (`PyIndex_Check`).
pub(crate) fn is_index(obj: &Bound<'_, PyAny>) -> bool {
    cpython::has_index(obj)
}

/// An argument converted as Argument Clinic's `Py_ssize_t` converter does: `__index__`, then
/// `OverflowError` if it does not fit.
pub(crate) fn ssize_arg(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    cpython::as_isize(&cpython::number_index(obj)?)
}

/// A `slice_index` argument (`index(x, start, stop)`): an int or `__index__`, clamped to
/// `isize`; anything else is a `TypeError`.
pub(crate) fn slice_index_arg(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    if is_index(obj) {
        cpython::index_as_isize(obj, OnOverflow::Clamp)
    } else {
        Err(PyTypeError::new_err(
            "slice indices must be integers or have an __index__ method",
        ))
    }
}

/// The start, stop and step of a Python `slice` object, as `PySlice_Unpack` gives them.
pub(crate) fn to_slice(slice: &Bound<'_, PySlice>) -> PyResult<Slice> {
    let (start, stop, step) = cpython::unpack_slice(slice)?;
    Ok(Slice::new(Some(start), Some(stop), Some(step)))
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
            index_error(OUT_OF_RANGE_C)
        }
        Error::Empty => PyIndexError::new_err("pop from empty array"),
        Error::Overflow { .. } => PyOverflowError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}
