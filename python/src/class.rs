//! The `ftarray.array` class: the pyclass holding one [`DynArray`], how one is made, and the
//! small helpers every other module of the binding needs. Its Python methods live in
//! [`crate::methods`], its fast C slots in [`crate::fast_paths`], its operators in
//! [`crate::operators`]; the buffer protocol, the iterator and pickling in their own modules,
//! all of which import from here (so no module imports a module that imports it back).

use crate::convert::{OUT_OF_RANGE_C, to_object};
use crate::cpython::slots::{SlotError, SlotResult};
use ftarray::{DynArray, TypeCode};
use pyo3::prelude::*;

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
    /// GIL builds: a hold on the storage the last `a[i]` or `len(a)` read
    /// ([`ftarray::DynHold`], one word), so the next one needs no epoch pin while the array
    /// keeps that storage. It keeps at most one block the array has moved away from allocated,
    /// until the next such read or the array's end. Free-threaded builds have none: sharing
    /// one between threads would cost the atomic read-modify-write per read that it saves.
    #[cfg(not(Py_GIL_DISABLED))]
    hold: crate::cpython::GilCell<ftarray::DynHold>,
}

/// The type name CPython messages use (`tp_name`: `list`, `ftarray.array`, a class's name).
pub(crate) use crate::cpython::type_name as tp_name;

impl PyArray {
    /// Wraps a core array, with CPython's export rule (no length change while exported).
    pub(crate) fn from_dyn(inner: DynArray) -> PyArray {
        // The array is ours alone: no lock to take for the rule.
        PyArray {
            inner: inner.with_strict_exports(true),
            #[cfg(not(Py_GIL_DISABLED))]
            hold: crate::cpython::GilCell::new(ftarray::DynHold::new()),
        }
    }

    /// A new array of the base type (slices, copies and arithmetic return the base type).
    pub(crate) fn new_base(py: Python<'_>, inner: DynArray) -> PyResult<Bound<'_, PyArray>> {
        crate::cpython::instances::new_base_instance(py, PyArray::from_dyn(inner))
    }

    /// [`new_base`](Self::new_base) for a core array not placed yet: it is built inside the
    /// new object, not moved there (see [`ftarray::NewArray`]).
    #[inline(always)]
    pub(crate) fn new_base_from(
        py: Python<'_>,
        new: ftarray::NewArray,
    ) -> PyResult<Bound<'_, PyArray>> {
        crate::cpython::instances::new_base_instance_with(py, move || PyArray::from_new(new))
    }

    /// [`from_dyn`](Self::from_dyn) for a core array not placed yet (see
    /// [`ftarray::NewArray`]): inlined, it is built where the caller puts the result.
    #[inline(always)]
    pub(crate) fn from_new(new: ftarray::NewArray) -> PyArray {
        PyArray {
            inner: new.into_array_with_strict_exports(true),
            #[cfg(not(Py_GIL_DISABLED))]
            hold: crate::cpython::GilCell::new(ftarray::DynHold::new()),
        }
    }

    /// A small core read (one that does not detach: under [`DETACH_BYTES`]): `held` through
    /// the hold on GIL builds (no epoch pin while the array keeps the held storage), `pinned`
    /// on free-threaded builds.
    #[inline(always)]
    pub(crate) fn small_read<R>(
        &self,
        _py: Python<'_>,
        held: impl FnOnce(&DynArray, &mut ftarray::DynHold) -> R,
        pinned: impl FnOnce(&DynArray) -> R,
    ) -> R {
        #[cfg(not(Py_GIL_DISABLED))]
        {
            let _ = pinned;
            self.hold.with(_py, |hold| held(&self.inner, hold))
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            let _ = held;
            pinned(&self.inner)
        }
    }

    /// `len(a)`: through the hold on GIL builds (see the field).
    #[inline(always)]
    pub(crate) fn length(&self, _py: Python<'_>) -> usize {
        #[cfg(not(Py_GIL_DISABLED))]
        return self.hold.with(_py, |hold| self.inner.len_held(hold));
        #[cfg(Py_GIL_DISABLED)]
        self.inner.len()
    }

    pub(crate) fn code(&self) -> TypeCode {
        self.inner.typecode()
    }

    /// The element at `i` (`a[i]`, negative `i` from the end), resolved against the length at
    /// the read: the one read path of `__getitem__` and the fast slots.
    #[inline(always)]
    pub(crate) fn item<'py>(&self, py: Python<'py>, i: isize) -> SlotResult<Bound<'py, PyAny>> {
        #[cfg(not(Py_GIL_DISABLED))]
        let read = self.hold.with(py, |hold| self.inner.get_held(hold, i));
        #[cfg(Py_GIL_DISABLED)]
        let read = self.inner.get(i);
        match read {
            Ok(v) => Ok(to_object(py, v)?),
            Err(_) => Err(SlotError::Index(OUT_OF_RANGE_C)),
        }
    }
}
