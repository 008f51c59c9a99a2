//! The `ftarray.array` object itself: the pyclass holding one [`DynArray`], how one is made,
//! and the small helpers every other module of the binding needs. The methods live in
//! [`crate::array`]; the buffer protocol, the iterator and pickling in their own modules, all
//! of which import from here (so no module imports a module that imports it back).

use ftarray::{DynArray, TypeCode};
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::CStr;

/// Bulk work above this many bytes runs detached from the interpreter (`Python::detach`), so
/// a stop-the-world event (GC, `fork`) or, on GIL builds, other threads are not held up.
pub(crate) const DETACH_BYTES: usize = 256 * 1024;

pub(crate) use crate::lifecycle::bulk;

/// `ftarray.array(typecode[, initializer])`: an array of numbers or characters of one C type,
/// safe to share between threads on a free-threaded interpreter.
///
/// The same API, results, exceptions and messages as the standard `array.array` of the
/// interpreter it runs on; every operation takes effect at one instant, and none can crash
/// another thread or read freed memory.
#[pyclass(
    name = "array",
    module = "ftarray",
    frozen,
    weakref,
    subclass,
    sequence,
    immutable_type
)]
pub struct PyArray {
    pub(crate) inner: DynArray,
}

/// The type name CPython messages use (`tp_name`: `list`, `ftarray.array`, a class's name).
pub(crate) fn tp_name(obj: &Bound<'_, PyAny>) -> String {
    // SAFETY: every type has a NUL-terminated `tp_name` that lives as long as the type, which
    // `obj` keeps alive.
    unsafe {
        CStr::from_ptr((*ffi::Py_TYPE(obj.as_ptr())).tp_name)
            .to_string_lossy()
            .into_owned()
    }
}

impl PyArray {
    /// Wraps a core array, with CPython's export rule (no length change while exported).
    pub(crate) fn from_dyn(inner: DynArray) -> PyArray {
        inner.set_strict_exports(true);
        PyArray { inner }
    }

    /// A new array of the base type (slices, copies and arithmetic return the base type).
    pub(crate) fn new_base(py: Python<'_>, inner: DynArray) -> PyResult<Bound<'_, PyArray>> {
        Bound::new(py, PyArray::from_dyn(inner))
    }

    pub(crate) fn code(&self) -> TypeCode {
        self.inner.typecode()
    }
}
