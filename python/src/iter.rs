//! `arrayiterator`: the iterator `iter(a)` returns.
//!
//! Each iterator has its own position (no cursor shared with the array or other iterators) and
//! holds a strong reference to its array. `next` reads the element at the position with one
//! core read, resolved against the length at that read: while other threads append, extend,
//! shrink or clear, every value it yields is the one that was at that index at that instant,
//! and it stops at the first position past the end.
//!
//! On GIL builds one read serves up to 16 steps: `next` reads a run of elements through the
//! iterator's hold on the array's storage, and each later step inside the run first checks that
//! the array is still in the state that read saw (same storage, same version: two loads); if
//! so, the run's element is the array's element at that instant, and if not, it reads a new
//! run. A write between two steps therefore shows at the next one, as it does with the standard
//! type's iterator.
//!
//! The position is an atomic, so two threads sharing one iterator (unusual, but allowed) never
//! get the same position twice and never tear it. Once exhausted, an iterator stays exhausted
//! (CPython gh-128961), whatever its array does afterwards.
//!
//! On GIL builds an exhausted iterator drops its reference to the array at once, as CPython's
//! iterators do there (its test suite checks that the array is freed right after the end of
//! iterating). On free-threaded builds it keeps the reference until the iterator itself goes,
//! as CPython's own list iterator does there: another thread may be reading the array through
//! the same iterator at that moment, and nothing but a lock could tell.

use crate::class::PyArray;
use crate::convert::to_object;
use crate::cpython::{self, ExhaustibleRef};
use ftarray::Value;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{PyTraverseError, PyVisit};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The position of an exhausted iterator (no real position reaches it: indices fit `isize`).
const EXHAUSTED: usize = usize::MAX;

/// Iterator over an `ftarray.array`'s elements (what `iter(a)` returns).
#[pyclass(name = "arrayiterator", module = "ftarray", frozen, immutable_type)]
pub struct ArrayIter {
    /// Dropped at exhaustion on GIL builds, kept on free-threaded builds (see the module docs).
    array: ExhaustibleRef<PyArray>,
    /// The next index to read, or [`EXHAUSTED`].
    ///
    /// Relaxed: the position orders nothing else (each read of the array is synchronised by
    /// the array itself); the compare-exchange only makes each position taken once.
    index: AtomicUsize,
    /// GIL builds: a hold on the storage the last `next` read ([`ftarray::DynHold`]), so the
    /// next one needs no epoch pin while the array keeps it (the pin was about a third of
    /// `next`). It keeps at most that one block of the array allocated, until the next `next`
    /// after the array moved to another one, the end, or the iterator's drop. Free-threaded
    /// builds have no hold: sharing one between threads would cost the atomic
    /// read-modify-write per `next` that it saves.
    #[cfg(not(Py_GIL_DISABLED))]
    hold: cpython::GilCell<ftarray::DynHold>,
    /// GIL builds: the elements at `run_start..run_start + run_len` as one read through the
    /// hold saw them ([`ftarray::DynArray::read_run_held`]), and that read's stamp. A `next`
    /// inside the run checks that the array is still in that state (two loads,
    /// [`ftarray::DynArray::unchanged_held`]: same storage, no write since) and returns the
    /// run's element, which is then the array's element at that instant; anything else reads
    /// the next run. A `None` stamp (the read had to pin) serves nothing.
    #[cfg(not(Py_GIL_DISABLED))]
    run: Run,
}

/// How many elements one read of a run takes.
#[cfg(not(Py_GIL_DISABLED))]
const RUN: usize = 16;

/// The iterator's run (GIL builds; see `ArrayIter::run`).
#[cfg(not(Py_GIL_DISABLED))]
struct Run {
    start: cpython::GilCopy<usize>,
    len: cpython::GilCopy<usize>,
    stamp: cpython::GilCopy<Option<ftarray::HeldStamp>>,
    values: [cpython::GilCopy<Value>; RUN],
}

#[cfg(not(Py_GIL_DISABLED))]
impl Run {
    fn new() -> Run {
        Run {
            start: cpython::GilCopy::new(0),
            len: cpython::GilCopy::new(0),
            stamp: cpython::GilCopy::new(None),
            values: std::array::from_fn(|_| cpython::GilCopy::new(Value::Int(0))),
        }
    }
}

impl ArrayIter {
    pub(crate) fn new(array: Py<PyArray>) -> ArrayIter {
        ArrayIter {
            array: ExhaustibleRef::new(array),
            index: AtomicUsize::new(0),
            #[cfg(not(Py_GIL_DISABLED))]
            hold: cpython::GilCell::new(ftarray::DynHold::new()),
            #[cfg(not(Py_GIL_DISABLED))]
            run: Run::new(),
        }
    }
}

/// Moves the position from `from` to `to` if it is still `from`; otherwise returns what it is.
///
/// With the GIL, nothing in `next_value` lets another thread run between the load and this
/// store (no Python code, no detaching), so a plain store takes each position once; the
/// compare-exchange it replaces was about a tenth of `next` (perf, 3.13). Without the GIL two
/// threads sharing the iterator may race here, and the compare-exchange decides.
#[inline(always)]
fn advance(index: &AtomicUsize, from: usize, to: usize) -> Result<(), usize> {
    #[cfg(Py_GIL_DISABLED)]
    {
        index
            .compare_exchange_weak(from, to, Ordering::Relaxed, Ordering::Relaxed)
            .map(|_| ())
    }
    #[cfg(not(Py_GIL_DISABLED))]
    {
        debug_assert_eq!(index.load(Ordering::Relaxed), from);
        index.store(to, Ordering::Relaxed);
        Ok(())
    }
}

impl ArrayIter {
    /// The next element's value, or `None` once exhausted (for good).
    #[cfg(Py_GIL_DISABLED)]
    pub(crate) fn next_value(&self, py: Python<'_>) -> Option<Value> {
        let mut i = self.index.load(Ordering::Relaxed);
        loop {
            if i == EXHAUSTED {
                return None;
            }
            let array = self.array.get()?;
            match array.get().inner.get(i as isize) {
                Ok(value) => match advance(&self.index, i, i + 1) {
                    Ok(()) => return Some(value),
                    Err(now) => i = now,
                },
                // Past the end at this read: exhausted for good.
                Err(_) => match advance(&self.index, i, EXHAUSTED) {
                    Ok(()) => {
                        self.array.release(py);
                        return None;
                    }
                    Err(now) => i = now,
                },
            }
        }
    }

    /// The next element's value, or `None` once exhausted (for good): from the run when the
    /// array is still as the run's read saw it, else from a new run.
    #[cfg(not(Py_GIL_DISABLED))]
    #[inline(always)]
    pub(crate) fn next_value(&self, py: Python<'_>) -> Option<Value> {
        let i = self.index.load(Ordering::Relaxed);
        let k = i.wrapping_sub(self.run.start.get(py));
        if i != EXHAUSTED && k < self.run.len.get(py) {
            if let (Some(stamp), Some(array)) = (self.run.stamp.get(py), self.array.get()) {
                let inner = &array.get().inner;
                if self.hold.with(py, |hold| inner.unchanged_held(hold, stamp)) {
                    advance(&self.index, i, i + 1).ok()?;
                    return Some(self.run.values[k].get(py));
                }
            }
        }
        self.next_run(py, i)
    }

    /// Reads the run starting at `i` and returns its first element, or ends the iteration.
    #[cfg(not(Py_GIL_DISABLED))]
    #[inline(never)]
    fn next_run(&self, py: Python<'_>, i: usize) -> Option<Value> {
        if i == EXHAUSTED {
            return None;
        }
        let array = self.array.get()?;
        let mut values = [Value::Int(0); RUN];
        let (n, stamp) = self.hold.with(py, |hold| {
            array.get().inner.read_run_held(hold, i, &mut values)
        });
        if n == 0 {
            // Past the end at this read: exhausted for good, and the block is not read again
            // through this iterator.
            advance(&self.index, i, EXHAUSTED).ok()?;
            self.run.len.set(py, 0);
            self.run.stamp.set(py, None);
            self.hold.with(py, |hold| *hold = ftarray::DynHold::new());
            self.array.release(py);
            return None;
        }
        for (cell, value) in self.run.values.iter().zip(&values[..n]) {
            cell.set(py, *value);
        }
        self.run.start.set(py, i);
        self.run.len.set(py, n);
        self.run.stamp.set(py, stamp);
        advance(&self.index, i, i + 1).ok()?;
        Some(values[0])
    }
}

#[pymethods]
impl ArrayIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.next_value(py).map(|v| to_object(py, v)).transpose()
    }

    /// Return state information for pickling.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let iter = py.import("builtins")?.getattr("iter")?;
        let index = self.index.load(Ordering::Relaxed);
        match self.array.get() {
            Some(array) if index != EXHAUSTED => PyTuple::new(
                py,
                [
                    iter,
                    PyTuple::new(py, [array.bind(py).clone().into_any()])?.into_any(),
                    index.into_pyobject(py)?.into_any(),
                ],
            ),
            _ => PyTuple::new(
                py,
                [iter, PyTuple::new(py, [PyTuple::empty(py)])?.into_any()],
            ),
        }
    }

    /// Set state information for unpickling.
    #[pyo3(signature = (state, /))]
    fn __setstate__(&self, state: &Bound<'_, PyAny>) -> PyResult<()> {
        // `PyLong_AsSsize_t` raises (with this interpreter's message) for anything but an int.
        let index = cpython::as_isize(state)?;
        let Some(array) = self.array.get() else {
            return Ok(());
        };
        let len = array.get().inner.len();
        let index = index.clamp(0, len as isize) as usize;
        // An exhausted iterator stays exhausted.
        let mut current = self.index.load(Ordering::Relaxed);
        while current != EXHAUSTED {
            match self.index.compare_exchange_weak(
                current,
                index,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
        Ok(())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self.array.get() {
            Some(array) => visit.call(array),
            None => Ok(()),
        }
    }
}
