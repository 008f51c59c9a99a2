//! The `ftarray` Python extension module: `ftarray.array`, a drop-in `array.array` that stays
//! correct under free-threaded CPython.
//!
//! Built by maturin (`pip install ./python`) into a module importable as `ftarray`, meant to be
//! used as `import ftarray as array`. It exports what the standard `array` module exports —
//! `array`, `ArrayType` (the same type), `typecodes` and `_array_reconstructor` — with the same
//! behaviour, exceptions and messages as the standard module *of the running interpreter*
//! (3.11, 3.13, free-threaded 3.13), and registers `array` as a
//! `collections.abc.MutableSequence`.
//!
//! The module is declared safe to run without the GIL (`gil_used = false`): the type is a frozen
//! pyclass over [`ftarray::DynArray`], which synchronises every operation itself, and no Python
//! code ever runs while an array is locked (see [`array`] for the rule every method follows).
//!
//! Layout: [`object`] (the pyclass and its constructors), [`array`] (its methods), [`convert`] (Python values, indices, slices, errors),
//! [`iter`] (the iterator), [`buffer`] (the buffer protocol both ways), [`pickle`]
//! (`__reduce_ex__`, `_array_reconstructor`), [`compat`] (what differs between versions),
//! [`persist`] (`save`/`load`: atomic `.npy` files, beyond the standard module),
//! [`lifecycle`] (detached bulk work, interpreter exit and `fork()`), [`operators`] (`+`, `*`,
//! `+=`, `*=` as the standard type's sequence slots), [`interop`] (standard arrays as arguments).
//!
//! maturin packages a pure-Rust module as a package: `ftarray/__init__.py` runs
//! `from .ftarray import *` over this extension (`ftarray/ftarray.<abi>.so`) and copies its
//! `__all__`. So every name the package must re-export, including underscored ones such as
//! `_array_reconstructor`, belongs in the `__all__` this initialiser sets.

pub mod array;
pub mod buffer;
pub mod compat;
pub mod convert;
pub mod fast;
pub mod interop;
pub mod iter;
pub mod lifecycle;
pub mod object;
pub mod operators;
pub mod persist;
pub mod pickle;

use pyo3::ffi;
use pyo3::prelude::*;

/// Sets `flags` on a type this module created, before any instance or subclass exists.
///
/// # Safety
///
/// `tp` is a live heap type created by this module, not yet shared with other threads.
unsafe fn add_type_flags(tp: *mut ffi::PyTypeObject, flags: std::ffi::c_ulong) {
    // SAFETY: the caller's contract; the flags word is read and written by this thread only.
    unsafe {
        #[cfg(not(Py_GIL_DISABLED))]
        {
            (*tp).tp_flags |= flags;
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            (*tp)
                .tp_flags
                .fetch_or(flags, std::sync::atomic::Ordering::Relaxed);
        }
        ffi::PyType_Modified(tp);
    }
}

/// The module's initialiser: what `import ftarray` runs (once per interpreter).
#[pymodule(name = "ftarray", gil_used = false)]
fn ftarray_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    compat::init(py);

    m.add_class::<object::PyArray>()?;
    let array_type = py.get_type::<object::PyArray>();
    let iter_type = py.get_type::<iter::ArrayIter>();
    // `Py_TPFLAGS_SEQUENCE`: pattern matching treats arrays as sequences, as the standard type
    // (PyO3 has no option for it). `tp_new = NULL`: iterators cannot be created from Python
    // ("cannot create 'ftarray.arrayiterator' instances", CPython's
    // Py_TPFLAGS_DISALLOW_INSTANTIATION).
    // SAFETY: both types were just created by this module and nothing uses them yet.
    unsafe {
        add_type_flags(array_type.as_type_ptr(), ffi::Py_TPFLAGS_SEQUENCE);
        (*iter_type.as_type_ptr()).tp_new = None;
        ffi::PyType_Modified(iter_type.as_type_ptr());
    }
    fast::install(py)?;
    operators::install(py)?;
    lifecycle::install(py)?;
    m.add("ArrayType", &array_type)?;
    m.add("typecodes", compat::typecodes())?;
    let reconstructor = wrap_pyfunction!(pickle::array_reconstructor, m)?;
    // Pickles name it by its public home, `ftarray._array_reconstructor` (the extension module
    // itself is `ftarray.ftarray`, an implementation detail of the package layout).
    reconstructor.setattr("__module__", "ftarray")?;
    m.add_function(reconstructor.clone())?;
    pickle::set_reconstructor(reconstructor.into_any().unbind());
    let reduce_std = wrap_pyfunction!(pickle::reduce_as_standard, m)?;
    reduce_std.setattr("__module__", "ftarray")?;
    m.add_function(reduce_std)?;
    m.add_function(wrap_pyfunction!(persist::save, m)?)?;
    m.add_function(wrap_pyfunction!(persist::load, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "__all__",
        [
            "array",
            "ArrayType",
            "typecodes",
            "_array_reconstructor",
            "reduce_as_standard",
            "save",
            "load",
            "__version__",
        ],
    )?;

    py.import("collections.abc")?
        .getattr("MutableSequence")?
        .call_method1("register", (&array_type,))?;
    Ok(())
}
