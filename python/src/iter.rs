//! `arrayiterator`: the iterator `iter(a)` returns.
//!
//! Each iterator has its own position (no cursor shared with the array or other iterators) and
//! holds a strong reference to its array. `next` reads the element at the position with one
//! core read, resolved against the length at that read: while other threads append, extend,
//! shrink or clear, every value it yields is the one that was at that index at that instant,
//! and it stops at the first position past the end.
//!
//! One read serves up to 16 steps: `next` reads a run of elements through the iterator's hold
//! on the array's storage (no epoch pin while the array keeps it), and each later step inside
//! the run first checks that the array is still in the state that read saw (same storage, same
//! version: two loads); if so, the run's element is the array's element at that instant, and
//! if not, it reads a new run. A write between two steps therefore shows at the next one, as it
//! does with the standard type's iterator. The hold and the run are used by one `next` at a
//! time (a flag; an atomic swap on free-threaded builds): a thread that finds them in use, only
//! possible when threads share one iterator, reads its element with a pinned read instead.
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
    /// The hold and the run `next` reads through (see [`Reading`]), used by one `next` at a
    /// time; a `next` that finds them in use (another thread inside this iterator's `next` on a
    /// free-threaded build) reads the element with a pinned read instead.
    reading: cpython::Exclusive<Reading>,
}

/// How many elements one read of a run takes.
const RUN: usize = 16;

/// What the iterator's `next` reads through.
///
/// `hold` keeps the storage the last read saw ([`ftarray::DynHold`]), so the next read needs
/// no epoch pin while the array keeps it; it keeps at most that one block of the array
/// allocated, until a read after the array moved to another one, the end, or the iterator's
/// drop. `values[..len]` are the elements at `start..start + len` as one read through the hold
/// saw them ([`ftarray::DynArray::read_run_held`]), and `stamp` that read's state. A `next`
/// inside the run checks that the array is still in that state (two loads,
/// [`ftarray::DynArray::unchanged_held`]: same storage, no write since) and returns the run's
/// element, which is then the array's element at that instant; anything else reads a new run.
/// A `None` stamp (the read had to pin) serves nothing.
struct Reading {
    hold: ftarray::DynHold,
    start: usize,
    len: usize,
    stamp: Option<ftarray::HeldStamp>,
    values: [Value; RUN],
}

impl ArrayIter {
    pub(crate) fn new(array: Py<PyArray>) -> ArrayIter {
        ArrayIter {
            array: ExhaustibleRef::new(array),
            index: AtomicUsize::new(0),
            reading: cpython::Exclusive::new(Reading {
                hold: ftarray::DynHold::new(),
                start: 0,
                len: 0,
                stamp: None,
                values: [Value::Int(0); RUN],
            }),
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

/// What one step found.
enum Step {
    Value(Value),
    /// Past the end at this read.
    End,
    /// Another thread took the position first; try the next one.
    Lost,
}

impl Reading {
    /// The element at position `i` of `array`: from the run if the array is still as the run's
    /// read saw it, else from a new run read at `i`. Takes the position (`i` to `i + 1`).
    #[inline(always)]
    fn step(&mut self, array: &ftarray::DynArray, index: &AtomicUsize, i: usize) -> Step {
        let k = i.wrapping_sub(self.start);
        let value = match self.stamp {
            Some(stamp) if k < self.len && array.unchanged_held(&self.hold, stamp) => {
                self.values[k]
            }
            _ => match self.read_run(array, i) {
                Some(value) => value,
                None => return Step::End,
            },
        };
        match advance(index, i, i + 1) {
            Ok(()) => Step::Value(value),
            Err(_) => Step::Lost,
        }
    }

    /// Reads the run at `i`; its first element, or `None` past the end.
    #[inline(never)]
    fn read_run(&mut self, array: &ftarray::DynArray, i: usize) -> Option<Value> {
        let (n, stamp) = array.read_run_held(&mut self.hold, i, &mut self.values);
        (self.start, self.len, self.stamp) = (i, n, stamp);
        (n > 0).then(|| self.values[0])
    }

    /// At the end: the block is not read again through this iterator.
    fn finish(&mut self) {
        self.hold = ftarray::DynHold::new();
        (self.len, self.stamp) = (0, None);
    }
}

impl ArrayIter {
    /// The next element's value, or `None` once exhausted (for good).
    #[inline(always)]
    pub(crate) fn next_value(&self, py: Python<'_>) -> Option<Value> {
        loop {
            let i = self.index.load(Ordering::Relaxed);
            if i == EXHAUSTED {
                return None;
            }
            let array = self.array.get()?;
            let inner = &array.get().inner;
            let step = self
                .reading
                .try_with(py, |r| r.step(inner, &self.index, i))
                .unwrap_or_else(|| match inner.get(i as isize) {
                    // The reading state is in use: a pinned read of the element.
                    Ok(value) => match advance(&self.index, i, i + 1) {
                        Ok(()) => Step::Value(value),
                        Err(_) => Step::Lost,
                    },
                    Err(_) => Step::End,
                });
            match step {
                Step::Value(value) => return Some(value),
                Step::Lost => continue,
                Step::End => {
                    if advance(&self.index, i, EXHAUSTED).is_ok() {
                        self.reading.try_with(py, Reading::finish);
                        self.array.release(py);
                        return None;
                    }
                }
            }
        }
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
