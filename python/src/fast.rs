//! Direct C slots for the hottest operations: `a[i]`, `a[i] = v`, `len(a)`, `a.append(v)`
//! and the iterator's `next`.
//!
//! PyO3's generated slots do real work on every call (a thread-local attach count, a check of
//! its deferred reference pool, argument extraction through its generic machinery). For `a[i]`
//! that is a sizeable share of the whole call, so the array type's `mp_subscript`,
//! `mp_ass_subscript`, `sq_item` and `sq_length` slots, and the iterator's `tp_iternext`, are
//! replaced at import by the functions below. Each handles the common case (an exact `int`
//! index; for stores, an exact `int` or `float` value that fits the type) and hands everything
//! else to the PyO3 slot it replaced, so there is one implementation of the semantics: these
//! are only shortcuts into it. Explicit dunder calls (`a.__getitem__(i)`) keep using the PyO3
//! methods; both give the same results. `append` is a `METH_O` method of its own that
//! converts with the same function as every other method ([`convert::to_value`]).
//!
//! Every function here is `extern "C"` and called by CPython with an attached thread state; no
//! panic may leave one, so each body runs under `catch_unwind` and a panic becomes a
//! `SystemError`.

use crate::convert;
use crate::iter::ArrayIter;
use crate::object::PyArray;
use ftarray::{Kind, Value};
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::OnceLock;

/// The PyO3 slots the fast ones replaced (their fallbacks).
struct Originals {
    subscript: ffi::binaryfunc,
    ass_subscript: ffi::objobjargproc,
}

static ORIGINALS: OnceLock<Originals> = OnceLock::new();

/// Runs `f`, turning a panic into a `SystemError` and the error return value `err`.
#[inline(always)]
pub(crate) fn guarded<R>(err: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            // SAFETY: CPython called us with an attached thread state.
            unsafe {
                ffi::PyErr_SetString(
                    ffi::PyExc_SystemError,
                    c"ftarray: internal error (a Rust panic) in a fast slot".as_ptr(),
                )
            };
            err
        }
    }
}

/// The array behind `slf`.
///
/// # Safety
///
/// `slf` is a live instance of `ftarray.array` (or a subclass), borrowed for `'a`.
#[inline(always)]
unsafe fn array<'a>(slf: *mut ffi::PyObject) -> &'a PyArray {
    // SAFETY: the caller's contract; CPython calls a type's slots with an attached thread
    // state, and the array's slots only with instances of it.
    unsafe {
        let py = Python::assume_attached();
        let bound = pyo3::Borrowed::from_ptr(py, slf).cast_unchecked::<PyArray>();
        &*(bound.get() as *const PyArray)
    }
}

/// A new reference to the Python object for `value` (NULL with an exception set on failure).
///
/// # Safety
///
/// Called with an attached thread state.
#[inline(always)]
unsafe fn new_object(value: Value) -> *mut ffi::PyObject {
    // SAFETY: the caller's contract; each constructor returns a new reference or NULL.
    unsafe {
        match value {
            Value::Int(i) => ffi::PyLong_FromLongLong(i),
            Value::UInt(u) => ffi::PyLong_FromUnsignedLongLong(u),
            Value::Float(x) => ffi::PyFloat_FromDouble(x),
            Value::Char(c) => ffi::PyUnicode_FromOrdinal(c as c_int),
        }
    }
}

/// An exact `int` that fits `isize`, read without running Python code.
///
/// # Safety
///
/// `item` is a live object; called with an attached thread state.
#[inline(always)]
unsafe fn exact_index(item: *mut ffi::PyObject) -> Option<isize> {
    // SAFETY: the caller's contract; an exact int is read without running Python code.
    unsafe {
        if ffi::PyLong_CheckExact(item) == 0 {
            return None;
        }
        let i = ffi::PyLong_AsSsize_t(item);
        if i == -1 && !ffi::PyErr_Occurred().is_null() {
            // Too big: the slow path reports it with CPython's own message.
            ffi::PyErr_Clear();
            return None;
        }
        Some(i)
    }
}

unsafe extern "C" fn subscript(
    slf: *mut ffi::PyObject,
    item: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls this slot with a live array, a live key and an attached thread.
        unsafe {
            if let Some(i) = exact_index(item) {
                return match array(slf).inner.get(i) {
                    Ok(v) => new_object(v),
                    Err(_) => {
                        ffi::PyErr_SetString(
                            ffi::PyExc_IndexError,
                            c"array index out of range".as_ptr(),
                        );
                        ptr::null_mut()
                    }
                };
            }
            if ffi::PySlice_Check(item) != 0 {
                let py = Python::assume_attached();
                let item = pyo3::Borrowed::from_ptr(py, item);
                let result = convert::to_slice(&item).and_then(|slice| array(slf).slice(py, slice));
                return match result {
                    Ok(b) => b.into_ptr(),
                    Err(e) => {
                        e.restore(py);
                        ptr::null_mut()
                    }
                };
            }
            (originals().subscript)(slf, item)
        }
    })
}

unsafe extern "C" fn sq_item(slf: *mut ffi::PyObject, i: ffi::Py_ssize_t) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: as in `subscript`. `array_item`: no wrap-around here (PySequence_GetItem
        // already added the length to a negative index); out of range is an IndexError.
        unsafe {
            let got = if i < 0 {
                None
            } else {
                array(slf).inner.get(i).ok()
            };
            match got {
                Some(v) => new_object(v),
                None => {
                    ffi::PyErr_SetString(
                        ffi::PyExc_IndexError,
                        c"array index out of range".as_ptr(),
                    );
                    ptr::null_mut()
                }
            }
        }
    })
}

unsafe extern "C" fn length(slf: *mut ffi::PyObject) -> ffi::Py_ssize_t {
    // SAFETY: as in `subscript`.
    guarded(-1, || unsafe { array(slf).inner.len() as ffi::Py_ssize_t })
}

/// The value a store of `value` into an array of `kind` takes without any conversion code:
/// an exact int in range for integer arrays, an exact float for float arrays.
///
/// # Safety
///
/// `value` is a live object; called with an attached thread state.
#[inline(always)]
unsafe fn exact_value(a: &PyArray, value: *mut ffi::PyObject) -> Option<Value> {
    let code = a.code();
    // SAFETY: the caller's contract; exact ints and floats are read without Python code.
    unsafe {
        match code.kind() {
            Kind::Signed | Kind::Unsigned if ffi::PyLong_CheckExact(value) != 0 => {
                let mut overflowed: c_int = 0;
                let v = ffi::PyLong_AsLongLongAndOverflow(value, &mut overflowed);
                let (lo, hi) = code.int_range()?;
                (overflowed == 0 && (lo..=hi).contains(&i128::from(v))).then_some(Value::Int(v))
            }
            Kind::Float if ffi::PyFloat_CheckExact(value) != 0 => {
                Some(Value::Float(ffi::PyFloat_AS_DOUBLE(value)))
            }
            _ => None,
        }
    }
}

unsafe extern "C" fn ass_subscript(
    slf: *mut ffi::PyObject,
    item: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
) -> c_int {
    guarded(-1, || {
        // SAFETY: as in `subscript`; `value` is NULL for a deletion (the slow path's).
        unsafe {
            if !value.is_null() {
                if let Some(i) = exact_index(item) {
                    let a = array(slf);
                    if let Some(v) = exact_value(a, value) {
                        return match a.inner.set(i, v) {
                            Ok(()) => 0,
                            Err(_) => {
                                ffi::PyErr_SetString(
                                    ffi::PyExc_IndexError,
                                    c"array assignment index out of range".as_ptr(),
                                );
                                -1
                            }
                        };
                    }
                }
            }
            (originals().ass_subscript)(slf, item, value)
        }
    })
}

unsafe extern "C" fn iternext(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls `tp_iternext` with a live iterator of this type and an
        // attached thread; the iterator's state is read through its frozen, Sync fields.
        unsafe {
            let py = Python::assume_attached();
            let it = pyo3::Borrowed::from_ptr(py, slf).cast_unchecked::<ArrayIter>();
            match it.get().next_value() {
                // NULL without an exception set: exhausted.
                None => ptr::null_mut(),
                Some(v) => new_object(v),
            }
        }
    })
}

unsafe extern "C" fn append(
    slf: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls a METH_O method of the array type with a live instance, a live
        // argument and an attached thread state.
        unsafe {
            let py = Python::assume_attached();
            let a = array(slf);
            let v = match exact_value(a, arg) {
                Some(v) => v,
                None => {
                    let arg = pyo3::Borrowed::from_ptr(py, arg);
                    match convert::to_value(&arg, a.code()) {
                        Ok(v) => v,
                        Err(e) => {
                            e.restore(py);
                            return ptr::null_mut();
                        }
                    }
                }
            };
            match a.inner.push(v) {
                Ok(()) => {
                    let none = ffi::Py_None();
                    ffi::Py_INCREF(none);
                    none
                }
                Err(e) => {
                    convert::error(e).restore(py);
                    ptr::null_mut()
                }
            }
        }
    })
}

fn originals() -> &'static Originals {
    ORIGINALS.get().expect("installed with the fast slots")
}

/// Installs the fast slots on the array and iterator types (at import, before any instance or
/// subclass exists).
///
/// # Errors
///
/// If the `append` method descriptor cannot be made or stored.
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let array_type = py.get_type::<PyArray>();
    let iter_type = py.get_type::<ArrayIter>();
    // Both are heap types this module just created; their `tp_as_mapping` and
    // `tp_as_sequence` point into the heap type object itself (PyType_FromSpec), so they are
    // writable. The replaced PyO3 slots exist (the class defines `__getitem__`,
    // `__setitem__`/`__delitem__` and `__len__`), and are kept as the fallbacks. Nothing
    // else uses the types yet, and `PyType_Modified` drops any cached lookups.
    // SAFETY: writable slot tables of fresh, unshared heap types (see above).
    unsafe {
        let tp = array_type.as_type_ptr();
        let mapping = (*tp).tp_as_mapping;
        let sequence = (*tp).tp_as_sequence;
        let subscript_fn = (*mapping).mp_subscript.expect("__getitem__ is defined");
        let ass_fn = (*mapping).mp_ass_subscript.expect("__setitem__ is defined");
        let _ = ORIGINALS.set(Originals {
            subscript: subscript_fn,
            ass_subscript: ass_fn,
        });
        (*mapping).mp_subscript = Some(subscript);
        (*mapping).mp_ass_subscript = Some(ass_subscript);
        (*sequence).sq_item = Some(sq_item);
        (*sequence).sq_length = Some(length);
        ffi::PyType_Modified(tp);
        (*iter_type.as_type_ptr()).tp_iternext = Some(iternext);
        ffi::PyType_Modified(iter_type.as_type_ptr());
    }
    // `append` as a plain METH_O method (the def must outlive the type: leaked, once).
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"append".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: append,
        },
        ml_flags: ffi::METH_O,
        ml_doc: c"Append new value v to the end of the array.".as_ptr(),
    }));
    let tp = array_type.as_type_ptr();
    // SAFETY: `def` lives forever; the descriptor is a new reference or NULL with an exception
    // set. It is stored into the type's own dict (a heap type's dict, not shared with other
    // threads yet), then the type's lookup caches are reset.
    unsafe {
        let descr = Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(tp, def))?;
        if ffi::PyDict_SetItemString((*tp).tp_dict, c"append".as_ptr(), descr.as_ptr()) < 0 {
            return Err(PyErr::fetch(py));
        }
        ffi::PyType_Modified(tp);
    }
    Ok(())
}
