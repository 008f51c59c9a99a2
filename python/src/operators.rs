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
//! The slots and descriptors are installed by [`crate::cpython::slots`]; the bodies are here.

use crate::class::PyArray;
use crate::cpython::slots::{self, SequenceOperators};
use crate::interop;
use pyo3::prelude::*;
use pyo3::types::PyType;

impl SequenceOperators for PyArray {
    /// `sq_concat`: `a + b`, `a` an ftarray.
    fn concat<'py>(a: &Bound<'py, Self>, b: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        Ok(a.get().concat(a.py(), b)?.into_any())
    }

    /// `sq_repeat`: `a * n` (CPython converted `n` with `__index__`).
    fn repeat<'py>(a: &Bound<'py, Self>, n: isize) -> PyResult<Bound<'py, PyAny>> {
        a.get().repeat(a.py(), n)
    }

    /// `sq_inplace_concat`: `a += b`.
    fn inplace_concat<'py>(a: &Bound<'py, Self>, b: &Bound<'py, PyAny>) -> PyResult<()> {
        a.get().inplace_concat(a.py(), b)
    }

    /// `sq_inplace_repeat`: `a *= n`.
    fn inplace_repeat(a: &Bound<'_, Self>, n: isize) -> PyResult<()> {
        a.get().inplace_repeat(a.py(), n)
    }

    /// `nb_add`: only `standard array + ftarray` (the reflected case the standard type's own
    /// `+` cannot take): a new *standard* array, as `std + std` gives. Everything else is
    /// `NotImplemented`, so the other operand's `nb_add` gets its turn and `sq_concat` comes
    /// last, as for the standard type.
    fn add<'py>(v: &Bound<'py, PyAny>, w: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = v.py();
        let not_implemented = || Ok(py.NotImplemented().into_bound(py));
        let Ok(ours) = w.cast::<PyArray>() else {
            return not_implemented();
        };
        if v.cast::<PyArray>().is_ok() || !interop::is_std_array(v) {
            return not_implemented();
        }
        let std = interop::std_array_type(py).expect("v is a standard array");
        let left = interop::array_arg(v)?.expect("v is a standard array");
        let ours = ours.get();
        if left.get().code() != ours.code() {
            // `array_concat` on two standard arrays of different type codes.
            return Err(crate::convert::error(ftarray::Error::TypeMismatch {
                expected: left.get().code(),
                actual: ours.code(),
            }));
        }
        // A copy of the left operand (`__copy__`: no constructor, so no `u` warning), extended
        // with a snapshot of ours.
        let result = std.getattr(pyo3::intern!(py, "__copy__"))?.call1((v,))?;
        let bytes = ours.tobytes(py)?;
        std.getattr(pyo3::intern!(py, "frombytes"))?
            .call1((&result, bytes))?;
        Ok(result)
    }
}

/// Installs the sequence slots, `nb_add`, and the slot wrapper descriptors on the array type
/// (at import, before any instance or subclass exists).
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    slots::install_sequence_operators::<PyArray>(py)
}

/// Gives a Python subclass the base type's `nb_add` back when it inherits `+` unchanged (its
/// `__add__` is the base type's and it has no `__radd__`). CPython's `fixup_slot_dispatchers`
/// set it to `slot_nb_add` because the type has both `nb_add` and `sq_concat` under the one
/// name `__add__`; `slot_nb_add` calls `__add__`, which raises where ours returns
/// `NotImplemented`. A subclass that defines `__add__` or `__radd__` keeps CPython's choice,
/// as a subclass of the standard type does.
pub(crate) fn fix_subclass(cls: &Bound<'_, PyType>) -> PyResult<()> {
    if slots::inherits_add(cls)? {
        slots::restore_nb_add::<PyArray>(cls)?;
    }
    Ok(())
}
