//! The buffer protocol, both ways: what the binding exports and how it reads other objects'
//! buffers. The C side (filling and releasing `Py_buffer`s, holding another object's buffer,
//! the atomic copy) is in [`crate::cpython::buffer`]; this file says what is exported and
//! which buffers are read how.
//!
//! **Exporting** (`memoryview(a)`, `numpy.frombuffer(a)`): the view points at the array's own
//! storage, no copy. Each view holds one core export ([`DynArray::export_raw`], with CPython's
//! strict rule switched on for every `ftarray.array`): while any view is alive, every operation
//! that would change the length fails with `BufferError` and changes nothing, and the storage
//! neither moves nor is freed. Same-length rewrites (`reverse`, `byteswap`, slice assignment of
//! equal size) are written in place, so views see them. A `ftarray.Snapshot` exports its bytes
//! read-only, and pins nothing (see [`crate::snapshot`]).
//!
//! Writes made through a view are plain stores by the consumer (numpy, a C extension): they do
//! not synchronise with the array's own lock-free readers. That is the buffer protocol's own
//! contract (CPython's arrays are no different); a program that writes through a view while
//! other threads use the array must order the two itself.
//!
//! **Importing** (`frombytes`, the constructor from a `bytearray`, `_array_reconstructor`): a
//! `bytes` object is immutable and read in place. Any other buffer may be written by another
//! thread while we read it (a `bytearray`, a `memoryview` of another `ftarray.array` that
//! threads write through the core's atomic stores), so it is first copied with atomic loads,
//! never viewed as a Rust `&[u8]` that someone else may write. A view of an `ftarray.array` (the
//! array itself, or a `memoryview` of it, cast or sliced) is copied with whole 64-bit unit
//! loads, the arrays' own access size; any other buffer with loads at least as wide as the
//! destination's elements. Either way no element is assembled from two stores.
//!
//! [`DynArray::export_raw`]: ftarray::DynArray::export_raw

use crate::class::PyArray;
use crate::cpython::buffer::{ExportsArray, HeldBuffer};
use ftarray::DynArray;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView};

impl ExportsArray for PyArray {
    fn exported(&self) -> &DynArray {
        &self.inner
    }

    fn export_error(e: ftarray::Error) -> PyErr {
        crate::convert::error(e)
    }
}

/// The `ftarray.array` whose storage `obj`'s buffer may be: `obj` itself, or the underlying
/// object of a `memoryview`. (Only a candidate: the copy checks that the bytes lie inside one of
/// its live exports.)
fn owner_of<'py>(obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyArray>> {
    let owner = match obj.cast::<PyMemoryView>() {
        Ok(view) => view.getattr("obj").ok()?,
        Err(_) => obj.clone(),
    };
    owner.cast_into::<PyArray>().ok()
}

/// Runs `f` on a copy (made safely, see the module docs, for elements of `itemsize` bytes) of
/// `obj`'s simple buffer, holding the buffer until `f` returns: an export of the very array
/// `f` changes stays alive meanwhile, so a resize is refused as the standard type refuses it.
/// With `bytes_like`, only a buffer of one-byte items is accepted ("a bytes-like object is
/// required"), as `frombytes` reads its argument.
fn with_copy<R>(
    obj: &Bound<'_, PyAny>,
    itemsize: usize,
    bytes_like: bool,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    let held = HeldBuffer::simple(obj)?;
    if bytes_like && held.itemsize() != 1 {
        return Err(PyTypeError::new_err("a bytes-like object is required"));
    }
    let owner = owner_of(obj);
    let bytes = held.copy(itemsize, owner.as_ref().map(|a| &a.get().inner));
    let result = f(&bytes);
    drop(held);
    result
}

/// Runs `f` on the bytes of `obj`'s simple (one byte per item) buffer, as `frombytes` reads its
/// argument. A `bytes` object is read in place; any other exporter's memory is copied with
/// atomic loads first, as elements of `itemsize` bytes (the destination's), or as whole units
/// when it is a view of an `ftarray.array`.
pub(crate) fn with_simple_buffer<R>(
    obj: &Bound<'_, PyAny>,
    itemsize: usize,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return f(b.as_bytes());
    }
    with_copy(obj, itemsize, true, f)
}

/// The bytes of any object with the buffer protocol (one-dimensional, C-contiguous), copied
/// safely for elements of `itemsize` bytes.
pub(crate) fn copy_any(obj: &Bound<'_, PyAny>, itemsize: usize) -> PyResult<Vec<u8>> {
    with_copy(obj, itemsize, false, |b| Ok(b.to_vec()))
}
