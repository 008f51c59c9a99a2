//! The shortcuts behind the hottest operations' C slots: `a[i]`, `a[i] = v`, `len(a)`,
//! `a.append(v)`, `a.extend(b)`, `a.pop()` and the iterator's `next`.
//!
//! [`crate::cpython::slots`] installs C slots for these at import (PyO3's generated ones do
//! real work on every call: a thread-local attach count, a check of its deferred reference
//! pool, generic argument extraction). They call the functions here, which handle the common
//! case (an exact `int` index; for stores, an exact `int` or `float` value that fits the type)
//! and hand everything else back to the PyO3 slot they replaced (`None`), so there is one
//! implementation of the semantics: these are only shortcuts into it. Explicit dunder calls
//! (`a.__getitem__(i)`) go through the PyO3 methods; both give the same results. `append`
//! converts with the same function as every other method ([`convert::to_value`]).
//!
//! Also here: what [`crate::cpython::instances`] needs to make and free arrays itself (every
//! slice, copy and constructor call makes one).

use crate::class::PyArray;
use crate::convert::{self, ASSIGNMENT_OUT_OF_RANGE_C, OUT_OF_RANGE_C};
use crate::cpython::{
    self, instances::DirectInstances, instances::Layout, slots::FastArray, slots::FastIter,
    slots::SlotError, slots::SlotResult,
};
use crate::iter::ArrayIter;
use ftarray::{DynArray, Kind, TypeCode, Value};
use pyo3::prelude::*;
use pyo3::types::{PySlice, PyTuple};
use std::sync::OnceLock;

impl DirectInstances for PyArray {
    fn layout() -> &'static OnceLock<Option<Layout>> {
        static LAYOUT: OnceLock<Option<Layout>> = OnceLock::new();
        &LAYOUT
    }

    type Made = ftarray::NewArray;

    fn construct(args: &Bound<'_, PyTuple>) -> PyResult<ftarray::NewArray> {
        PyArray::construct(args)
    }

    #[inline(always)]
    fn place(made: ftarray::NewArray) -> Self {
        PyArray::from_new(made)
    }

    fn probe() -> Self {
        PyArray::from_dyn(DynArray::new(TypeCode::U8))
    }
}

impl PyArray {
    /// The value a store of `value` takes without any conversion code: an exact int in range
    /// for integer arrays, an exact float for float arrays.
    #[inline(always)]
    pub(crate) fn exact_value(&self, value: &Bound<'_, PyAny>) -> Option<Value> {
        let code = self.code();
        match code.kind() {
            Kind::Signed | Kind::Unsigned => {
                let v = cpython::exact_i64(value)?;
                let (lo, hi) = code.int_range()?;
                (lo..=hi).contains(&i128::from(v)).then_some(Value::Int(v))
            }
            Kind::Float => cpython::exact_f64(value).map(Value::Float),
            Kind::Char => None,
        }
    }
}

impl FastArray for PyArray {
    #[inline(always)]
    fn subscript<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> Option<SlotResult<Bound<'py, PyAny>>> {
        if let Some(i) = cpython::exact_index(key) {
            return Some(self.item(py, i));
        }
        let slice = key.cast::<PySlice>().ok()?;
        let result = convert::to_slice(slice).and_then(|s| self.slice(py, s));
        Some(result.map(Bound::into_any).map_err(SlotError::Py))
    }

    #[inline(always)]
    fn sq_item<'py>(&self, py: Python<'py>, i: isize) -> SlotResult<Bound<'py, PyAny>> {
        // `array_item`: no wrap-around here (PySequence_GetItem already added the length to a
        // negative index); out of range is an IndexError.
        if i < 0 {
            return Err(SlotError::Index(OUT_OF_RANGE_C));
        }
        self.item(py, i)
    }

    #[inline(always)]
    fn length(&self, py: Python<'_>) -> usize {
        PyArray::length(self, py)
    }

    #[inline(always)]
    fn store(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> Option<SlotResult<()>> {
        let i = cpython::exact_index(key)?;
        let v = self.exact_value(value)?;
        Some(
            self.inner
                .set(i, v)
                .map_err(|_| SlotError::Index(ASSIGNMENT_OUT_OF_RANGE_C)),
        )
    }

    #[inline(always)]
    fn append(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = match self.exact_value(value) {
            Some(v) => v,
            None => convert::to_value(value, self.code())?,
        };
        self.inner.push(v).map_err(convert::error)
    }

    #[inline(always)]
    fn extend(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        PyArray::extend(self, py, values)
    }

    #[inline(always)]
    fn pop_args<'py>(
        &self,
        py: Python<'py>,
        args: &[Bound<'py, PyAny>],
    ) -> PyResult<Bound<'py, PyAny>> {
        if args.is_empty() {
            return self.pop_at(py, -1);
        }
        // With arguments: the method's own checks and conversions, from a tuple as it takes them.
        self.pop(py, &PyTuple::new(py, args)?)
    }

    #[inline(always)]
    fn copy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.copy_base(py).map(Bound::into_any)
    }
}

impl FastIter for ArrayIter {
    #[inline(always)]
    fn next_item<'py>(&self, py: Python<'py>) -> Option<PyResult<Bound<'py, PyAny>>> {
        self.next_value(py).map(|v| convert::to_object(py, v))
    }
}
