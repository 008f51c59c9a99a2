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
//! Layout: [`class`] (the pyclass and its constructors), [`methods`] (its Python methods),
//! [`fast_paths`] (the shortcuts behind its hottest C slots), [`operators`] (`+`, `*`, `+=`,
//! `*=` as the standard type's sequence slots), [`convert`] (Python values, indices, slices,
//! errors), [`iter`] (the iterator), [`buffer`] (the buffer protocol both ways), [`pickle`]
//! (`__reduce_ex__`, `_array_reconstructor`), [`compat`] (what differs between versions),
//! [`persist`] (`save`/`load`: atomic `.npy` files, beyond the standard module),
//! [`lifecycle`] (detached bulk work, interpreter exit and `fork()`), [`interop`] (standard
//! arrays as arguments), and [`cpython`], the one module with `unsafe` code: every raw call
//! into CPython's C API, behind safe functions. Every other module is safe code; the crate
//! denies `unsafe_code` outside [`cpython`].
//!
//! maturin packages a pure-Rust module as a package: `ftarray/__init__.py` runs
//! `from .ftarray import *` over this extension (`ftarray/ftarray.<abi>.so`) and copies its
//! `__all__`. So every name the package must re-export, including underscored ones such as
//! `_array_reconstructor`, belongs in the `__all__` this initialiser sets.

#![deny(unsafe_code)]

pub mod arrow;
pub mod buffer;
pub mod class;
pub mod compat;
pub mod convert;
#[allow(unsafe_code)]
pub mod cpython;
pub mod dlpack;
pub mod fast_paths;
pub mod interop;
pub mod iter;
pub mod lifecycle;
pub mod methods;
pub mod operators;
pub mod persist;
pub mod pickle;
pub mod snapshot;

use cpython::slots;
use pyo3::prelude::*;

/// The module's initialiser: what `import ftarray` runs (once per interpreter).
#[pymodule(name = "ftarray", gil_used = false)]
fn ftarray_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    compat::init(py);

    m.add_class::<class::PyArray>()?;
    let array_type = py.get_type::<class::PyArray>();
    // Pattern matching treats arrays as sequences, as the standard type; iterators cannot be
    // created from Python ("cannot create 'ftarray.arrayiterator' instances").
    slots::mark_as_sequence::<class::PyArray>(py);
    slots::disallow_instantiation::<iter::ArrayIter>(py);
    slots::install_fast_slots::<class::PyArray, iter::ArrayIter>(py)?;
    cpython::instances::install::<class::PyArray>(py)?;
    cpython::buffer::install_array_buffer::<class::PyArray>(py)?;
    m.add_class::<snapshot::Snapshot>()?;
    cpython::buffer::install_snapshot_buffer::<snapshot::Snapshot>(py)?;
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
            "Snapshot",
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
