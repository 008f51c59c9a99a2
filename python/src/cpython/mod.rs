//! The one room for raw CPython: every call into the C API (`pyo3::ffi`, and the two functions
//! pyo3-ffi does not declare), every write to a type object's slots, every `Py_buffer` filled
//! or read, every capsule, and every C struct handed to a consumer (Arrow, DLPack) lives here,
//! behind safe functions, as rust-numpy keeps its raw calls in `npyffi`. The rest of the binding is safe code: `lib.rs` denies `unsafe_code` in every
//! module but this one, so the compiler keeps it that way.
//!
//! The rules of the room:
//! - Every function exported from here is safe to call from safe code with any arguments: what
//!   an `unsafe` block relies on is checked here (a type, a subtype relation, a slot, a capsule's
//!   name), or
//!   follows from the types (`Bound` proves the thread is attached and the object alive).
//! - Every `extern "C"` function that CPython or a consumer calls (type slots, capsule
//!   destructors, DLPack deleters) runs its body under [`slots::guarded`] or
//!   [`unwind::no_unwind`]: no panic crosses into C.
//! - None of them runs Python code while an array is locked: the safe code they call follows
//!   the binding's rule (convert first, then one core call), and nothing here takes a lock.
//!
//! Files: this one (objects, numbers, strings, arguments, types, the iterator's
//! [`ExhaustibleRef`]), [`slots`] (the type slots the binding installs and their
//! trampolines), [`instances`] (making and freeing array objects), [`buffer`] (the buffer
//! protocol both ways), [`capsule`] (Arrow and DLPack capsules), [`dlpack`] (the DLPack
//! structs and tensors).

pub(crate) mod buffer;
pub(crate) mod capsule;
pub(crate) mod dlpack;
pub(crate) mod instances;
pub(crate) mod slots;
mod unwind;

use ftarray::Value;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PySlice, PyString, PyTuple, PyType};
use std::ffi::{CStr, c_char, c_int, c_long, c_longlong, c_short, c_uchar, c_ulong};
use std::ptr;

unsafe extern "C" {
    /// `PySys_Audit`, not declared by pyo3-ffi.
    fn PySys_Audit(event: *const c_char, format: *const c_char, ...) -> c_int;
}

/// `Err` with the exception Python has set (a `SystemError` if, wrongly, none is).
fn fetched<T>(py: Python<'_>) -> PyResult<T> {
    Err(PyErr::fetch(py))
}

/// Whether an exception is set (after a C API call's ambiguous error return).
#[inline(always)]
fn error_set(_py: Python<'_>) -> bool {
    // SAFETY: the token proves the thread is attached; this reads its error indicator.
    unsafe { !ffi::PyErr_Occurred().is_null() }
}

// ---------------------------------------------------------------------------------------------
// Types

/// The type name CPython messages use (`tp_name`: `list`, `ftarray.array`, a class's name).
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    type_name_of(&obj.get_type())
}

/// `tp_name` of a type.
pub(crate) fn type_name_of(tp: &Bound<'_, PyType>) -> String {
    // SAFETY: every type has a NUL-terminated `tp_name` that lives as long as the type, which
    // `tp` keeps alive.
    unsafe { CStr::from_ptr((*tp.as_type_ptr()).tp_name) }
        .to_string_lossy()
        .into_owned()
}

/// `tp_basicsize` of `obj`'s type.
pub(crate) fn basic_size(obj: &Bound<'_, PyAny>) -> usize {
    // SAFETY: reads a field of a live type object.
    unsafe { (*obj.get_type().as_type_ptr()).tp_basicsize as usize }
}

/// Whether two types have the same `tp_init` slot (a subclass that defines no `__init__`).
pub(crate) fn same_init(a: &Bound<'_, PyType>, b: &Bound<'_, PyType>) -> bool {
    // SAFETY: reads a field of two live type objects.
    unsafe {
        (*a.as_type_ptr()).tp_init.map(|f| f as usize)
            == (*b.as_type_ptr()).tp_init.map(|f| f as usize)
    }
}

/// `base.tp_new(subtype, args, NULL)`: the base type's constructor proper for `subtype`,
/// bypassing any `__new__`/`__init__` the subtype defines (as `make_array` does).
///
/// # Errors
///
/// `TypeError` if `subtype` is not a subtype of `base` or `base` has no constructor; what the
/// constructor raises.
pub(crate) fn new_with_base_constructor<'py>(
    base: &Bound<'py, PyType>,
    subtype: &Bound<'py, PyType>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = base.py();
    if !subtype.is_subclass(base)? {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "not a subtype of the constructor's type",
        ));
    }
    // SAFETY: reads a slot of a live type object.
    let Some(new) = (unsafe { (*base.as_type_ptr()).tp_new }) else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "the type has no constructor",
        ));
    };
    // SAFETY: `tp_new` of `base`, called with a subtype of it (checked), an argument tuple and
    // no keywords; it returns a new reference or NULL with an exception set.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            new(subtype.as_type_ptr(), args.as_ptr(), ptr::null_mut()),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// An exact `int` that fits `i64`, read without running Python code.
#[inline(always)]
pub(crate) fn exact_i64(obj: &Bound<'_, PyAny>) -> Option<i64> {
    let p = obj.as_ptr();
    // SAFETY: `p` is live; the check reads its type only, and an exact int's value is read
    // without running Python code, an overflow reported through `overflowed`, not an exception.
    unsafe {
        if ffi::PyLong_CheckExact(p) == 0 {
            return None;
        }
        let mut overflowed: c_int = 0;
        let v = ffi::PyLong_AsLongLongAndOverflow(p, &mut overflowed);
        (overflowed == 0).then_some(v)
    }
}

/// The exact-int index path: an exact `int` that fits `isize`, read without running Python
/// code (anything else, a too-big int included, takes the general path and its messages).
#[inline(always)]
pub(crate) fn exact_index(obj: &Bound<'_, PyAny>) -> Option<isize> {
    exact_i64(obj).and_then(|v| isize::try_from(v).ok())
}

/// An exact `float`'s value.
#[inline(always)]
pub(crate) fn exact_f64(obj: &Bound<'_, PyAny>) -> Option<f64> {
    let p = obj.as_ptr();
    // SAFETY: `p` is live; an exact float's value is read directly.
    unsafe { (ffi::PyFloat_CheckExact(p) != 0).then(|| ffi::PyFloat_AS_DOUBLE(p)) }
}

/// `PyFloat_AsDouble`: `__float__` (or `__index__`) of any object, with CPython's errors.
pub(crate) fn as_f64(obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    // SAFETY: `obj` is live; the call may run Python code, and reports errors as -1.0 with an
    // exception set.
    let x = unsafe { ffi::PyFloat_AsDouble(obj.as_ptr()) };
    if x == -1.0 && error_set(obj.py()) {
        return fetched(obj.py());
    }
    Ok(x)
}

/// An `int`'s value as 64-bit parts.
pub(crate) enum IntParts {
    /// In `i64`'s range.
    I64(i64),
    /// Above `i64::MAX`, within `u64`.
    U64(u64),
    /// Beyond 64 bits.
    Big,
}

/// The value of an `int` (or `bool`), read without running Python code.
pub(crate) fn int_parts(int: &Bound<'_, PyInt>) -> IntParts {
    let p = int.as_ptr();
    // SAFETY: `p` is an int; neither call runs Python code. The unsigned read's overflow error
    // is cleared at once.
    unsafe {
        let mut overflowed: c_int = 0;
        let i = ffi::PyLong_AsLongLongAndOverflow(p, &mut overflowed);
        if overflowed == 0 {
            return IntParts::I64(i);
        }
        let u = ffi::PyLong_AsUnsignedLongLong(p);
        if u == u64::MAX && error_set(int.py()) {
            ffi::PyErr_Clear();
            return IntParts::Big;
        }
        IntParts::U64(u)
    }
}

/// `PyLong_AsUnsignedLongLong`: an `int` as `u64`, with CPython's messages.
pub(crate) fn as_u64(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    // SAFETY: `obj` is live; errors are reported as `u64::MAX` with an exception set.
    let x = unsafe { ffi::PyLong_AsUnsignedLongLong(obj.as_ptr()) };
    if x == u64::MAX && error_set(obj.py()) {
        return fetched(obj.py());
    }
    Ok(x)
}

/// `PyLong_AsUnsignedLong`: an `int` as `unsigned long`, with CPython's messages (which differ
/// from the `long long` ones).
pub(crate) fn as_ulong(obj: &Bound<'_, PyAny>) -> PyResult<c_ulong> {
    // SAFETY: as in `as_u64`.
    let x = unsafe { ffi::PyLong_AsUnsignedLong(obj.as_ptr()) };
    if x == c_ulong::MAX && error_set(obj.py()) {
        return fetched(obj.py());
    }
    Ok(x)
}

/// `PyNumber_Index`: `__index__`, as an `int`.
pub(crate) fn number_index<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a new reference or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(obj.py(), ffi::PyNumber_Index(obj.as_ptr())) }
}

/// Whether `obj` has `__index__` (`PyIndex_Check`).
pub(crate) fn has_index(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: reads the type's slots only.
    unsafe { ffi::PyIndex_Check(obj.as_ptr()) != 0 }
}

/// What `PyNumber_AsSsize_t` does with an index that does not fit `isize`.
#[derive(Clone, Copy)]
pub(crate) enum OnOverflow {
    /// Clamp it to `isize::MIN`/`isize::MAX`.
    Clamp,
    /// Raise `IndexError` ("cannot fit 'int' into an index-sized integer").
    IndexError,
}

/// `PyNumber_AsSsize_t(obj, exc)`: `__index__`, then the overflow rule.
pub(crate) fn index_as_isize(obj: &Bound<'_, PyAny>, on_overflow: OnOverflow) -> PyResult<isize> {
    let exc = match on_overflow {
        OnOverflow::Clamp => ptr::null_mut(),
        // SAFETY: reads a static exception type.
        OnOverflow::IndexError => unsafe { ffi::PyExc_IndexError },
    };
    // SAFETY: `obj` is live; `exc` is null or an exception type.
    let i = unsafe { ffi::PyNumber_AsSsize_t(obj.as_ptr(), exc) };
    if i == -1 && error_set(obj.py()) {
        return fetched(obj.py());
    }
    Ok(i)
}

/// `PyLong_AsSsize_t`: an `int` as `isize`; for anything else, the interpreter's own error.
pub(crate) fn as_isize(obj: &Bound<'_, PyAny>) -> PyResult<isize> {
    // SAFETY: `obj` is live; errors are reported as -1 with an exception set.
    let i = unsafe { ffi::PyLong_AsSsize_t(obj.as_ptr()) };
    if i == -1 && error_set(obj.py()) {
        return fetched(obj.py());
    }
    Ok(i)
}

/// `PySlice_Unpack`: start, stop and step (may run the bounds' `__index__`).
pub(crate) fn unpack_slice(slice: &Bound<'_, PySlice>) -> PyResult<(isize, isize, isize)> {
    let (mut start, mut stop, mut step) = (0, 0, 0);
    // SAFETY: `slice` is a slice; the out-pointers are valid.
    if unsafe { ffi::PySlice_Unpack(slice.as_ptr(), &mut start, &mut stop, &mut step) } < 0 {
        return fetched(slice.py());
    }
    Ok((start, stop, step))
}

/// The C integer types `PyArg_Parse` converts an array item to, as the standard module's
/// setters do (`b_setitem`, `h_setitem`, ...).
#[derive(Clone, Copy)]
pub(crate) enum CInt {
    /// `h`: `short`.
    Short,
    /// `b`: `unsigned char` (checked to be 0..=255).
    UChar,
    /// `i`: `int`.
    Int,
    /// `l`: `long`.
    Long,
    /// `L`: `long long`.
    LongLong,
}

/// `PyArg_Parse(obj, "<unit>;array item must be integer", &x)` for the C type `unit`: the
/// standard module's conversion of an array item, with its exceptions and messages.
pub(crate) fn parse_int_item(obj: &Bound<'_, PyAny>, unit: CInt) -> PyResult<i64> {
    let p = obj.as_ptr();
    macro_rules! parse {
        ($fmt:expr, $t:ty) => {{
            let mut x: $t = 0;
            // SAFETY: the format unit matches the pointer's type (`h` short, `b` unsigned
            // char, `i` int, `l` long, `L` long long), and `p` is a live object.
            if unsafe { ffi::PyArg_Parse(p, $fmt.as_ptr(), &mut x as *mut $t) } == 0 {
                return fetched(obj.py());
            }
            x as i64
        }};
    }
    Ok(match unit {
        CInt::Short => parse!(c"h;array item must be integer", c_short),
        CInt::UChar => parse!(c"b;array item must be integer", c_uchar),
        CInt::Int => parse!(c"i;array item must be integer", c_int),
        CInt::Long => parse!(c"l;array item must be integer", c_long),
        CInt::LongLong => parse!(c"L;array item must be integer", c_longlong),
    })
}

// ---------------------------------------------------------------------------------------------
// Strings

/// `PyArg_Parse(obj, "U;array item must be unicode character", &u)`: `obj` as a `str`, with
/// the standard module's exception for anything else.
pub(crate) fn parse_str_item<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    let mut u: *mut ffi::PyObject = ptr::null_mut();
    // SAFETY: `U` stores a borrowed str pointer into `u`; `obj` is live.
    if unsafe {
        ffi::PyArg_Parse(
            obj.as_ptr(),
            c"U;array item must be unicode character".as_ptr(),
            &mut u,
        )
    } == 0
    {
        return fetched(obj.py());
    }
    // SAFETY: `u` is the str `PyArg_Parse` checked (`obj` itself), borrowed from `obj`.
    Ok(unsafe { Bound::from_borrowed_ptr(obj.py(), u).cast_into_unchecked() })
}

/// The only character of a `str` of length one.
#[inline]
pub(crate) fn single_char(s: &Bound<'_, PyString>) -> Option<u32> {
    let p = s.as_ptr();
    // SAFETY: `p` is a str; reading its length and first character runs no Python code.
    unsafe { (ffi::PyUnicode_GetLength(p) == 1).then(|| ffi::PyUnicode_ReadChar(p, 0)) }
}

/// The code points of a `str`.
pub(crate) fn code_points(s: &Bound<'_, PyString>) -> PyResult<Vec<u32>> {
    let py = s.py();
    // SAFETY: `s` is a str; `PyUnicode_AsUCS4Copy` returns a `PyMem_Malloc`ed buffer of
    // `len + 1` code points or NULL with an exception set; it is freed below.
    unsafe {
        let len = ffi::PyUnicode_GetLength(s.as_ptr());
        if len < 0 {
            return fetched(py);
        }
        let buf = ffi::PyUnicode_AsUCS4Copy(s.as_ptr());
        if buf.is_null() {
            return fetched(py);
        }
        let out = std::slice::from_raw_parts(buf, len as usize).to_vec();
        ffi::PyMem_Free(buf.cast());
        Ok(out)
    }
}

/// The size of the elements a C function's first argument points to.
const fn pointee_size<T>(
    _: unsafe extern "C" fn(*const T, ffi::Py_ssize_t) -> *mut ffi::PyObject,
) -> usize {
    std::mem::size_of::<T>()
}

// `PyUnicode_FromWideChar` below reads `u32`s as `wchar_t`s.
const _: () = assert!(pointee_size(ffi::PyUnicode_FromWideChar) == 4);

/// `PyUnicode_FromWideChar`: a `str` of `wchar_t` code units (4 bytes here, one code point
/// each), as `array_array_tounicode_impl` makes one for `u`.
pub(crate) fn str_from_wchar<'py>(py: Python<'py>, units: &[u32]) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: `units` holds `len` 4-byte code units (wchar_t is 4 bytes: asserted above); the
    // call copies them and returns a new reference or NULL with an exception set.
    unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyUnicode_FromWideChar(units.as_ptr().cast(), units.len() as ffi::Py_ssize_t),
        )
    }
}

/// The UTF decoders `_array_reconstructor` and `tounicode` use.
#[derive(Clone, Copy)]
pub(crate) enum Utf {
    /// `PyUnicode_DecodeUTF16`.
    Utf16,
    /// `PyUnicode_DecodeUTF32`.
    Utf32,
}

/// `PyUnicode_DecodeUTF16`/`32(data, len, errors, &byteorder)`: `byteorder` -1 little-endian,
/// 1 big-endian, 0 native (with a byte order mark honoured); `errors` `None` for strict.
pub(crate) fn decode_utf<'py>(
    py: Python<'py>,
    utf: Utf,
    data: &[u8],
    errors: Option<&CStr>,
    byteorder: c_int,
) -> PyResult<Bound<'py, PyAny>> {
    let mut byteorder = byteorder;
    let errors = errors.map_or(ptr::null(), CStr::as_ptr);
    let (p, n) = (
        data.as_ptr().cast::<c_char>(),
        data.len() as ffi::Py_ssize_t,
    );
    // SAFETY: `data` is valid for its length; the decoders copy it and return a new reference
    // or NULL with an exception set.
    unsafe {
        let s = match utf {
            Utf::Utf16 => ffi::PyUnicode_DecodeUTF16(p, n, errors, &mut byteorder),
            Utf::Utf32 => ffi::PyUnicode_DecodeUTF32(p, n, errors, &mut byteorder),
        };
        Bound::from_owned_ptr_or_err(py, s)
    }
}

// ---------------------------------------------------------------------------------------------
// Objects, sequences, bytes, arguments

/// The Python object for an element value (for `u`/`w`, an invalid code point raises
/// `ValueError` here, with the interpreter's own message, as `u_getitem` does).
#[inline]
pub(crate) fn value_object(py: Python<'_>, value: Value) -> PyResult<Bound<'_, PyAny>> {
    // SAFETY: each constructor returns a new reference or NULL with an exception set.
    unsafe {
        let p = match value {
            Value::Int(i) => ffi::PyLong_FromLongLong(i),
            Value::UInt(u) => ffi::PyLong_FromUnsignedLongLong(u),
            Value::Float(x) => ffi::PyFloat_FromDouble(x),
            Value::Char(c) => ffi::PyUnicode_FromOrdinal(c as c_int),
        };
        Bound::from_owned_ptr_or_err(py, p)
    }
}

/// `PySequence_Tuple`: a tuple itself, or a copy of a list taken under its own lock.
pub(crate) fn sequence_tuple<'py>(seq: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    // SAFETY: a new reference to a tuple, or NULL with an exception set.
    unsafe {
        Ok(
            Bound::from_owned_ptr_or_err(seq.py(), ffi::PySequence_Tuple(seq.as_ptr()))?
                .cast_into_unchecked(),
        )
    }
}

/// A new `bytes` of `n` bytes filled by `fill`, which gets the uninitialised buffer and returns
/// how many bytes it wrote (or its error): those bytes, in a `bytes` object of that length.
/// (`PyBytes::new_with` would zero the buffer first: a quarter of the time of a large
/// `tobytes`.)
pub(crate) fn bytes_filled_by<'py, E>(
    py: Python<'py>,
    n: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<usize, E>,
) -> PyResult<Result<Bound<'py, PyBytes>, E>> {
    // SAFETY: a new reference or NULL with an exception set.
    let bytes = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyBytes_FromStringAndSize(ptr::null(), n as ffi::Py_ssize_t),
        )?
    };
    // SAFETY: the new bytes object is ours alone (not shared yet) and `n` bytes long; `fill`
    // only writes it.
    let buf = unsafe {
        std::slice::from_raw_parts_mut(ffi::PyBytes_AsString(bytes.as_ptr()).cast::<u8>(), n)
    };
    Ok(match fill(buf) {
        // SAFETY: a bytes object, holding exactly `n` bytes written by `fill`.
        Ok(k) if k == n => Ok(unsafe { bytes.cast_into_unchecked() }),
        Ok(k) => Ok(PyBytes::new(py, &buf[..k.min(n)])),
        Err(e) => Err(e),
    })
}

/// `PyArg_ParseTuple(args, "C|O:array", &c, &initial)`: the standard constructor's arguments.
pub(crate) fn parse_array_new_args<'py>(
    args: &Bound<'py, PyTuple>,
) -> PyResult<(c_int, Option<Bound<'py, PyAny>>)> {
    let py = args.py();
    let mut c: c_int = 0;
    let mut initial: *mut ffi::PyObject = ptr::null_mut();
    // SAFETY: `C` stores an int, `O` a borrowed object pointer; `args` is a tuple.
    if unsafe {
        ffi::PyArg_ParseTuple(
            args.as_ptr(),
            c"C|O:array".as_ptr(),
            &mut c as *mut c_int,
            &mut initial as *mut *mut ffi::PyObject,
        )
    } == 0
    {
        return fetched(py);
    }
    // SAFETY: a borrowed pointer out of `args`, which outlives the returned reference's use.
    let initial = (!initial.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(py, initial) });
    Ok((c, initial))
}

/// `PySys_Audit(event, "CO", c, obj)`: the audit event the standard constructor raises.
pub(crate) fn audit_char_object(
    py: Python<'_>,
    event: &CStr,
    c: c_int,
    obj: &Bound<'_, PyAny>,
) -> PyResult<()> {
    // SAFETY: "CO" takes an int and an object; both are valid; `event` is NUL-terminated.
    if unsafe { PySys_Audit(event.as_ptr(), c"CO".as_ptr(), c, obj.as_ptr()) } < 0 {
        return fetched(py);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The iterator's reference to its array

/// A strong reference that an iterator drops once it is exhausted, on GIL builds, as CPython's
/// iterators do there (its test suite checks that an array is freed right after the end of
/// iterating). On free-threaded builds it is kept until the iterator itself goes, as CPython's
/// own list iterator does there: another thread may be reading through the same iterator at
/// that moment, and nothing but a lock could tell.
pub(crate) struct ExhaustibleRef<T>(std::cell::UnsafeCell<Option<Py<T>>>);

// SAFETY: on free-threaded builds the cell is never written after construction (`release` does
// nothing there), so shared access is a plain read of an immutable `Option<Py<_>>`, which is
// Sync. On GIL builds every access happens on a thread holding the GIL (`release` takes the
// token, and `get` is only called from methods and slots Python calls), and no access lets the
// GIL go while a reference into the cell is alive; `release` makes its only `&mut` borrow with
// no allocation or Python call inside it.
unsafe impl<T> Sync for ExhaustibleRef<T> {}

impl<T> ExhaustibleRef<T> {
    /// Holds `obj`.
    pub(crate) fn new(obj: Py<T>) -> Self {
        ExhaustibleRef(std::cell::UnsafeCell::new(Some(obj)))
    }

    /// The object, unless it was released.
    pub(crate) fn get(&self) -> Option<&Py<T>> {
        // SAFETY: see the `Sync` impl: no `&mut` into the cell is alive while this one is.
        unsafe { (*self.0.get()).as_ref() }
    }

    /// Drops the reference now (GIL builds; nothing on free-threaded ones). The object may be
    /// freed by the drop and run arbitrary code (a subclass's `__del__`, which may call `next`
    /// on this very iterator): the cell is already empty by then. Callers hold no reference
    /// from [`get`](Self::get) across this call.
    #[cfg(not(Py_GIL_DISABLED))]
    pub(crate) fn release(&self, py: Python<'_>) {
        // SAFETY: the GIL is held (the token), and no other borrow of the cell is alive (see
        // above).
        let taken = unsafe { (*self.0.get()).take() };
        if let Some(obj) = taken {
            // Released now, explicitly: a fast slot runs outside PyO3's bookkeeping of
            // attached threads, which would otherwise defer a plain drop.
            obj.drop_ref(py);
        }
    }

    /// Drops nothing on free-threaded builds (see the type's docs).
    #[cfg(Py_GIL_DISABLED)]
    pub(crate) fn release(&self, _py: Python<'_>) {}
}

// ---------------------------------------------------------------------------------------------
// State only a GIL holder touches

/// A value that, on GIL builds, only a thread holding the GIL may use, through
/// [`with`](Self::with): mutable state of a frozen (shared) object without the atomic
/// read-modify-write per access a mutex would cost. There is none of it on free-threaded
/// builds, where nothing serialises the callers.
///
/// `with` takes the value out for the duration of the call and puts it back after: a use that
/// overlaps (the same thread coming back in through Python code that `f` ran, or another thread
/// while `f` let the GIL go) finds the default value instead, and whichever use ends last
/// keeps its value (the other one is dropped). For a cache such as a [`ftarray::DynHold`]
/// that is always right.
#[cfg(not(Py_GIL_DISABLED))]
pub(crate) struct GilCell<T>(std::cell::Cell<T>);

// SAFETY: every access goes through `with`, which takes the token of an attached thread: on GIL
// builds that thread holds the GIL, so accesses from different threads are ordered by the GIL's
// hand-over (no data race), and `Cell` never hands out a reference into the value. `T: Send`:
// the value may be used and dropped by whichever thread holds the GIL.
#[cfg(not(Py_GIL_DISABLED))]
unsafe impl<T: Send> Sync for GilCell<T> {}

/// Mutable state of a frozen (shared) object that one caller at a time may use, through
/// [`try_with`](Self::try_with): a caller that finds it in use gets `None` at once and takes
/// another way (it never waits). The flag is a plain `Cell` on GIL builds, where the GIL
/// orders the callers, and an atomic on free-threaded builds (one swap and one store per use).
/// `f` gets a `&mut T` and no `Python` token: it is meant for plain Rust work that does not
/// come back into the same object; if it did, it would find the state in use.
pub(crate) struct Exclusive<T> {
    #[cfg(not(Py_GIL_DISABLED))]
    busy: std::cell::Cell<bool>,
    #[cfg(Py_GIL_DISABLED)]
    busy: std::sync::atomic::AtomicBool,
    value: std::cell::UnsafeCell<T>,
}

// SAFETY: the value is only reached through `try_with`, which lends it to one caller at a time:
// on GIL builds the callers hold the GIL (the `Python` token), which orders the flag's loads and
// stores between threads; on free-threaded builds the flag is taken with an Acquire swap and
// given back with a Release store, so one use happens before the next. `T: Send`: whichever
// thread uses or drops it.
unsafe impl<T: Send> Sync for Exclusive<T> {}

impl<T> Exclusive<T> {
    pub(crate) fn new(value: T) -> Self {
        Exclusive {
            busy: Default::default(),
            value: std::cell::UnsafeCell::new(value),
        }
    }

    /// Runs `f` with the value unless another use is under way (`None`).
    #[inline(always)]
    pub(crate) fn try_with<R>(&self, _py: Python<'_>, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        #[cfg(not(Py_GIL_DISABLED))]
        if self.busy.replace(true) {
            return None;
        }
        #[cfg(Py_GIL_DISABLED)]
        if self.busy.swap(true, std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let _unflag = Unflag(self);
        // SAFETY: the flag is ours (set above) until `_unflag` clears it, after `f` returned or
        // unwound, so this is the only reference to the value meanwhile (see the `Sync` impl).
        let value = unsafe { &mut *self.value.get() };
        Some(f(value))
    }
}

/// Clears an [`Exclusive`]'s flag when dropped (also if `f` unwinds).
struct Unflag<'a, T>(&'a Exclusive<T>);

impl<T> Drop for Unflag<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        #[cfg(not(Py_GIL_DISABLED))]
        self.0.busy.set(false);
        // Release: this use's writes to the value happen before the next user's Acquire swap.
        #[cfg(Py_GIL_DISABLED)]
        self.0
            .busy
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

#[cfg(not(Py_GIL_DISABLED))]
impl<T: Default> GilCell<T> {
    pub(crate) fn new(value: T) -> Self {
        GilCell(std::cell::Cell::new(value))
    }

    /// Runs `f` with the value (taken out meanwhile; see the type's docs).
    #[inline(always)]
    pub(crate) fn with<R>(&self, _py: Python<'_>, f: impl FnOnce(&mut T) -> R) -> R {
        let mut value = self.0.take();
        let result = f(&mut value);
        drop(self.0.replace(value));
        result
    }
}
