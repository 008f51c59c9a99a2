//! `+`, `*`, `+=` and `*=` with the standard type's slot structure.
//!
//! The standard `array.array` defines these as *sequence* slots only (`sq_concat`,
//! `sq_repeat`, `sq_inplace_concat`, `sq_inplace_repeat`) and no number slot. That decides who
//! gets a turn in `x + a` and `a * x`: CPython tries both operands' number slots first
//! (`np.ndarray.__add__`, a user class's `__radd__`, numpy scalars' `__mul__`, which defer to a
//! sequence that has `sq_repeat` and no `nb_multiply`) and falls back to the sequence slots
//! last. PyO3 implements `__add__`/`__mul__`/`__iadd__`/`__imul__` as number slots (and its
//! `__inplace_concat__`/`__inplace_repeat__` fill the wrong slots in 0.28), so the array type
//! gets its sequence slots here, at import, together with the same `__add__`, `__mul__`,
//! `__rmul__`, `__iadd__` and `__imul__` descriptors CPython creates for a type that has
//! them (made from the wrapper bases of `list`'s, which has exactly these four slots).
//!
//! One number slot is added: `nb_add`, which does something only for `std + ft` (a standard
//! array on the left, whose own `+` refuses ours), and returns `NotImplemented` for every other
//! pair, so all other additions run as they do for the standard type. It has no `__radd__`
//! descriptor; a Python subclass gets it back from [`fix_subclass`] (CPython's slot fix-up
//! would otherwise give the subclass a `nb_add` that calls `__add__`, our `sq_concat`, which
//! raises for operands it does not take instead of letting the other operand try).
//!
//! Every function here is `extern "C"`, called by CPython with an attached thread state, and
//! runs its body under [`guarded`]: no panic leaves it.

use crate::fast::guarded;
use crate::interop;
use crate::object::PyArray;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};
use std::ffi::{CStr, c_void};
use std::ptr;
use std::sync::OnceLock;

unsafe extern "C" {
    /// `PyDescr_NewWrapper` (not declared by pyo3-ffi): a slot wrapper descriptor for `tp`.
    fn PyDescr_NewWrapper(
        tp: *mut ffi::PyTypeObject,
        base: *mut ffi::wrapperbase,
        wrapped: *mut c_void,
    ) -> *mut ffi::PyObject;
}

/// Runs `f` for a slot: its result as a new reference, or NULL with the error set.
///
/// # Safety
///
/// Called by CPython with an attached thread state.
unsafe fn slot(f: impl FnOnce(Python<'_>) -> PyResult<*mut ffi::PyObject>) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        let py = unsafe { Python::assume_attached() };
        match f(py) {
            Ok(p) => p,
            Err(e) => {
                e.restore(py);
                ptr::null_mut()
            }
        }
    })
}

/// The array behind `slf`, a live instance of `ftarray.array` or of a subclass.
///
/// # Safety
///
/// `slf` is such an instance and outlives `'py`.
unsafe fn array<'py>(py: Python<'py>, slf: *mut ffi::PyObject) -> Bound<'py, PyArray> {
    // SAFETY: the caller's contract; a new strong reference is taken.
    unsafe { Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<PyArray>() }
}

/// `sq_concat`: `a + b`, `a` an ftarray.
unsafe extern "C" fn concat(a: *mut ffi::PyObject, b: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls `sq_concat` with an instance of the type as `a` and a live `b`,
    // attached.
    unsafe {
        slot(|py| {
            let b = Bound::from_borrowed_ptr(py, b);
            Ok(array(py, a).get().concat(py, &b)?.into_ptr())
        })
    }
}

/// `sq_repeat`: `a * n` (CPython converted `n` with `__index__`).
unsafe extern "C" fn repeat(a: *mut ffi::PyObject, n: ffi::Py_ssize_t) -> *mut ffi::PyObject {
    // SAFETY: as in `concat`.
    unsafe { slot(|py| Ok(array(py, a).get().repeat(py, n)?.into_ptr())) }
}

/// `sq_inplace_concat`: `a += b`; returns `a`.
unsafe extern "C" fn inplace_concat(
    a: *mut ffi::PyObject,
    b: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: as in `concat`.
    unsafe {
        slot(|py| {
            let slf = array(py, a);
            slf.get()
                .inplace_concat(py, &Bound::from_borrowed_ptr(py, b))?;
            Ok(slf.into_ptr())
        })
    }
}

/// `sq_inplace_repeat`: `a *= n`; returns `a`.
unsafe extern "C" fn inplace_repeat(
    a: *mut ffi::PyObject,
    n: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: as in `concat`.
    unsafe {
        slot(|py| {
            let slf = array(py, a);
            slf.get().inplace_repeat(py, n)?;
            Ok(slf.into_ptr())
        })
    }
}

/// `nb_add`: only `standard array + ftarray` (the reflected case the standard type's own `+`
/// cannot take): a new *standard* array, as `std + std` gives. Everything else is
/// `NotImplemented`, so the other operand's `nb_add` gets its turn and `sq_concat` comes last,
/// as for the standard type.
unsafe extern "C" fn add(v: *mut ffi::PyObject, w: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls `nb_add` with two live operands, attached.
    unsafe {
        slot(|py| {
            let v = Bound::from_borrowed_ptr(py, v);
            let w = Bound::from_borrowed_ptr(py, w);
            let not_implemented = || Ok(py.NotImplemented().into_ptr());
            let Ok(ours) = w.cast::<PyArray>() else {
                return not_implemented();
            };
            if v.cast::<PyArray>().is_ok() || !interop::is_std_array(&v) {
                return not_implemented();
            }
            let std = interop::std_array_type(py).expect("v is a standard array");
            let left = interop::array_arg(&v)?.expect("v is a standard array");
            let ours = ours.get();
            if left.get().code() != ours.code() {
                // `array_concat` on two standard arrays of different type codes.
                return Err(crate::convert::error(ftarray::Error::TypeMismatch {
                    expected: left.get().code(),
                    actual: ours.code(),
                }));
            }
            // A copy of the left operand (`__copy__`: no constructor, so no `u` warning),
            // extended with a snapshot of ours.
            let result = std.getattr(pyo3::intern!(py, "__copy__"))?.call1((&v,))?;
            let bytes = pyo3::types::PyBytes::new(py, &ours.snapshot_bytes(py));
            std.getattr(pyo3::intern!(py, "frombytes"))?
                .call1((&result, bytes))?;
            Ok(result.into_ptr())
        })
    }
}

/// The `__add__` descriptor installed on the type (to recognise it in subclasses).
static ADD_DESCR: OnceLock<usize> = OnceLock::new();

/// Installs the sequence slots, `nb_add`, and the slot wrapper descriptors on the array type
/// (at import, before any instance or subclass exists).
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let tp = py.get_type::<PyArray>();
    let list = py.get_type::<PyList>();
    let wrappers: [(&CStr, *mut c_void); 5] = [
        (c"__add__", concat as *mut c_void),
        (c"__mul__", repeat as *mut c_void),
        (c"__rmul__", repeat as *mut c_void),
        (c"__iadd__", inplace_concat as *mut c_void),
        (c"__imul__", inplace_repeat as *mut c_void),
    ];
    let t = tp.as_type_ptr();
    // SAFETY: `t` is the array type, a heap type this module just created and nothing uses
    // yet: its `tp_as_sequence`/`tp_as_number` point into the heap type object (writable) and
    // its dict is its own. `list`'s descriptors are checked to be slot wrappers before their
    // `d_base` (a static `wrapperbase` of CPython's slot table) is read; `PyDescr_NewWrapper`
    // returns a new reference or NULL with an exception set.
    unsafe {
        let seq = (*t).tp_as_sequence;
        (*seq).sq_concat = Some(concat);
        (*seq).sq_repeat = Some(repeat);
        (*seq).sq_inplace_concat = Some(inplace_concat);
        (*seq).sq_inplace_repeat = Some(inplace_repeat);
        let num = (*t).tp_as_number;
        (*num).nb_add = Some(add);
        (*num).nb_multiply = None;
        (*num).nb_inplace_add = None;
        (*num).nb_inplace_multiply = None;
        for (name, wrapped) in wrappers {
            let model = list.getattr(name.to_str().expect("ASCII"))?;
            if ffi::Py_TYPE(model.as_ptr()) != &raw mut ffi::PyWrapperDescr_Type {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "ftarray: list's operator is not a slot wrapper",
                ));
            }
            let base = (*model.as_ptr().cast::<ffi::PyWrapperDescrObject>()).d_base;
            let descr = Bound::from_owned_ptr_or_err(py, PyDescr_NewWrapper(t, base, wrapped))?;
            if ffi::PyDict_SetItemString((*t).tp_dict, name.as_ptr(), descr.as_ptr()) < 0 {
                return Err(PyErr::fetch(py));
            }
            if name == c"__add__" {
                let _ = ADD_DESCR.set(descr.as_ptr() as usize);
            }
        }
        ffi::PyType_Modified(t);
    }
    Ok(())
}

/// Gives a Python subclass the base type's `nb_add` back when it inherits `+` unchanged (its
/// `__add__` is the base type's and it has no `__radd__`). CPython's `fixup_slot_dispatchers`
/// set it to `slot_nb_add` because the type has both `nb_add` and `sq_concat` under the one
/// name `__add__`; `slot_nb_add` calls `__add__`, which raises where ours returns
/// `NotImplemented`. A subclass that defines `__add__` or `__radd__` keeps CPython's choice,
/// as a subclass of the standard type does.
pub(crate) fn fix_subclass(cls: &Bound<'_, PyType>) -> PyResult<()> {
    let py = cls.py();
    let inherits = match ADD_DESCR.get() {
        Some(&ours) => {
            cls.getattr(pyo3::intern!(py, "__add__"))?.as_ptr() as usize == ours
                && !cls.hasattr(pyo3::intern!(py, "__radd__"))?
        }
        None => false,
    };
    if inherits {
        let t = cls.as_type_ptr();
        // SAFETY: `cls` is a heap type (a Python subclass being created: its number methods
        // live in its own heap type object); `PyType_Modified` drops cached lookups.
        unsafe {
            let num = (*t).tp_as_number;
            if !num.is_null() {
                (*num).nb_add = Some(add);
                ffi::PyType_Modified(t);
            }
        }
    }
    Ok(())
}
