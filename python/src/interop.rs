//! The standard `array.array` as an argument: where the standard type accepts one of its own
//! arrays (comparisons, `+`, `+=`, `extend`, slice assignment, the constructor), ftarray
//! accepts a standard array as well, with the same type-code rules.
//!
//! A standard array is read through its own type's C methods (`typecode`, `tobytes`, looked up
//! on `array.array` itself so a subclass cannot override them): no Python code runs, and the
//! bytes are a copy, so nothing of the standard array is held while ftarray's core works (no
//! buffer export that would make the standard array refuse to resize meanwhile). The standard
//! array has no lock: on a free-threaded interpreter that copy is as consistent as the
//! standard type's own `tobytes()`.

use crate::class::PyArray;
use crate::compat;
use ftarray::DynArray;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};

/// The standard module's `array` type (None if that module cannot be imported).
static STD_ARRAY: PyOnceLock<Option<Py<PyType>>> = PyOnceLock::new();

/// `array.array`, if the standard module is there.
pub(crate) fn std_array_type(py: Python<'_>) -> Option<&Bound<'_, PyType>> {
    STD_ARRAY
        .get_or_init(py, || {
            py.import("array")
                .and_then(|m| m.getattr("array"))
                .and_then(|t| Ok(t.cast_into::<PyType>()?.unbind()))
                .ok()
        })
        .as_ref()
        .map(|t| t.bind(py))
}

/// Whether `obj` is a standard array (an instance of `array.array` or of a subclass).
pub(crate) fn is_std_array(obj: &Bound<'_, PyAny>) -> bool {
    std_array_type(obj.py()).is_some_and(|t| obj.is_instance(t).unwrap_or(false))
}

/// An array argument: one of ours, or a copy of a standard one.
pub(crate) enum ArrayArg<'py> {
    /// An `ftarray.array` (or subclass instance).
    Ours(Bound<'py, PyArray>),
    /// The elements of a standard array, copied into a core array of the same type code.
    Std(Box<PyArray>),
}

impl ArrayArg<'_> {
    /// The array to read.
    pub(crate) fn get(&self) -> &PyArray {
        match self {
            ArrayArg::Ours(a) => a.get(),
            ArrayArg::Std(a) => a,
        }
    }
}

/// `obj` as an array argument, or `None` if it is neither an ftarray nor a standard array.
pub(crate) fn array_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<ArrayArg<'py>>> {
    if let Ok(a) = obj.cast::<PyArray>() {
        return Ok(Some(ArrayArg::Ours(a.clone())));
    }
    if !is_std_array(obj) {
        return Ok(None);
    }
    let py = obj.py();
    let std = std_array_type(py).expect("checked by is_std_array");
    // The base type's descriptor and method: a subclass's overrides are not consulted, as the
    // standard module's C code reads the object's fields directly.
    let typecode: String = std
        .getattr(pyo3::intern!(py, "typecode"))?
        .call_method1(pyo3::intern!(py, "__get__"), (obj,))?
        .extract()?;
    let code = typecode
        .chars()
        .next()
        .and_then(compat::typecode)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("unknown type code"))?;
    let bytes = std
        .getattr(pyo3::intern!(py, "tobytes"))?
        .call1((obj,))?
        .cast_into::<PyBytes>()?;
    let inner = DynArray::from_bytes(code, bytes.as_bytes()).map_err(crate::convert::error)?;
    Ok(Some(ArrayArg::Std(Box::new(PyArray::from_dyn(inner)))))
}
