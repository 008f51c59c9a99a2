//! The buffer protocol, both ways.
//!
//! **Exporting** (`memoryview(a)`, `numpy.frombuffer(a)`): the view points at the array's own
//! storage, no copy. Each view holds one core export ([`DynArray::export_raw`], with CPython's
//! strict rule switched on for every `ftarray.array`): while any view is alive, every operation
//! that would change the length fails with `BufferError` and changes nothing, and the storage
//! neither moves nor is freed. Same-length rewrites (`reverse`, `byteswap`, slice assignment of
//! equal size) are written in place, so views see them. The export's token, and the `shape` and
//! `strides` arrays the view points to, live in a box stored in the view's `internal` field
//! until the view is released.
//!
//! Writes made through a view are plain stores by the consumer (numpy, a C extension): they do
//! not synchronise with the array's own lock-free readers. That is the buffer protocol's own
//! contract (CPython's arrays are no different); a program that writes through a view while
//! other threads use the array must order the two itself.
//!
//! **Importing** (`frombytes`, the constructor from a `bytearray`): a `bytes` object is
//! immutable and read in place. Any other buffer may be written by another thread while we read
//! it (a `bytearray`, a `memoryview` of another `ftarray.array` that threads write through the
//! core's atomic stores), so it is first copied with atomic loads, never viewed as a Rust
//! `&[u8]` that someone else may write. A view of an `ftarray.array` (the array itself, or a
//! `memoryview` of it, cast or sliced) is copied with whole 64-bit unit loads, the arrays' own
//! access size; any other buffer with loads at least as wide as the destination's elements.
//! Either way no element is assembled from two stores.
//!
//! [`DynArray::export_raw`]: ftarray::DynArray::export_raw

use crate::object::PyArray;
use ftarray::dynamic::Source;
use pyo3::exceptions::{PyBufferError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView};
use std::ffi::c_int;
use std::mem::MaybeUninit;

/// What a view of an array keeps until it is released.
struct ViewInfo {
    /// The core export this view holds.
    token: u64,
    shape: [ffi::Py_ssize_t; 1],
    strides: [ffi::Py_ssize_t; 1],
}

/// `bf_getbuffer`: fills `view` with a writable, one-dimensional view of the array.
///
/// # Safety
///
/// `view` is null or points to a `Py_buffer` the caller owns (CPython's contract).
pub(crate) unsafe fn fill_view(
    slf: Bound<'_, PyArray>,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> PyResult<()> {
    if view.is_null() {
        return Err(PyBufferError::new_err(
            "array_buffer_getbuf: view==NULL argument is obsolete",
        ));
    }
    let a = &slf.get().inner;
    let export = a.export_raw().map_err(crate::convert::error)?;
    let itemsize = export.itemsize as ffi::Py_ssize_t;
    let info = Box::new(ViewInfo {
        token: export.token,
        shape: [export.len as ffi::Py_ssize_t],
        strides: [itemsize],
    });
    let info = Box::into_raw(info);
    // SAFETY: `view` is valid (checked non-null, caller's contract); `info` is a live box whose
    // arrays stay put until `release_view` frees it; the export keeps `export.ptr` valid (the
    // storage cannot move or be freed) for as long as the view lives.
    unsafe {
        let v = &mut *view;
        v.buf = export.ptr.cast();
        v.obj = slf.into_any().into_ptr();
        v.len = export.len as ffi::Py_ssize_t * itemsize;
        v.readonly = 0;
        v.itemsize = itemsize;
        v.ndim = 1;
        v.format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT {
            export.code.format_cstr().as_ptr().cast_mut()
        } else {
            std::ptr::null_mut()
        };
        v.shape = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND {
            (*info).shape.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        v.strides = if flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES {
            (*info).strides.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        v.suboffsets = std::ptr::null_mut();
        v.internal = info.cast();
    }
    Ok(())
}

/// `bf_releasebuffer`: ends the export `view` holds.
///
/// # Safety
///
/// `view` was filled by [`fill_view`] for `array` and is released once.
pub(crate) unsafe fn release_view(array: &PyArray, view: *mut ffi::Py_buffer) {
    // SAFETY: `view` is valid (the caller's contract).
    let internal = unsafe { (*view).internal };
    if internal.is_null() {
        // Not one of ours, or released already: nothing to end.
        return;
    }
    // SAFETY: `internal` is the box `fill_view` leaked for this view; we take it back once
    // (the field is cleared below).
    let info = unsafe { Box::from_raw(internal.cast::<ViewInfo>()) };
    // SAFETY: as above; the view no longer refers to the box.
    unsafe { (*view).internal = std::ptr::null_mut() };
    // The token came from this array's `export_raw`; releasing it cannot fail.
    let _ = array.inner.release_export(info.token);
}

/// Copies `len` bytes from `src` with atomic loads (`ftarray::dynamic::copy_shared`), so
/// bytes that another thread writes concurrently are read without a data race and no element
/// is torn: whole 64-bit units for [`Source::Export`], loads at least as wide as an element
/// for [`Source::Elements`] (see [`source_of`]).
///
/// # Safety
///
/// `src..src + len` is readable memory that stays allocated during the call, and every other
/// access to it is atomic or a read (a buffer exporter's contract: the memory cannot be freed
/// while we hold its buffer); with `Source::Export`, the range lies in an ftarray export that
/// stays alive for the call.
pub(crate) unsafe fn atomic_copy(src: *const u8, len: usize, source: Source) -> Vec<u8> {
    let mut out = vec![0u8; len];
    // SAFETY: forwarded from our caller; `out` is our own buffer.
    unsafe { ftarray::dynamic::copy_shared(src, &mut out, source) };
    out
}

/// How to copy the buffer `(buf, len)` obtained from `obj`: [`Source::Export`] when `obj` is an
/// `ftarray.array`, or a `memoryview` whose underlying object is one, and the bytes lie inside
/// one of that array's live exports (checked, not assumed: a buffer's `obj` is only the
/// exporter's word); otherwise element-wide loads for elements of `itemsize` bytes.
fn source_of(obj: &Bound<'_, PyAny>, buf: *const u8, len: usize, itemsize: usize) -> Source {
    let owner = match obj.cast::<PyMemoryView>() {
        Ok(view) => view.getattr("obj").ok(),
        Err(_) => Some(obj.clone()),
    };
    let covered = owner
        .as_ref()
        .and_then(|o| o.cast::<PyArray>().ok())
        .is_some_and(|a| a.get().inner.exports_cover(buf, len));
    if covered {
        Source::Export
    } else {
        Source::Elements { itemsize }
    }
}

/// Runs `f` on the bytes of `obj`'s simple (one byte per item) buffer, as `frombytes` reads its
/// argument, holding the buffer until `f` returns. A `bytes` object is read in place; any other
/// exporter's memory is copied with atomic loads first, as elements of `itemsize` bytes (the
/// destination's), or as whole units when it is a view of an `ftarray.array`.
pub(crate) fn with_simple_buffer<R>(
    obj: &Bound<'_, PyAny>,
    itemsize: usize,
    f: impl FnOnce(&[u8]) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return f(b.as_bytes());
    }
    let py = obj.py();
    let mut view = MaybeUninit::<ffi::Py_buffer>::uninit();
    // SAFETY: `view` is writable storage for one Py_buffer; on failure it is left unfilled and
    // an exception is set.
    if unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), ffi::PyBUF_SIMPLE) } != 0 {
        return Err(PyErr::fetch(py));
    }
    /// Releases the buffer on every path out.
    struct Held(ffi::Py_buffer);
    impl Drop for Held {
        fn drop(&mut self) {
            // SAFETY: the buffer was obtained above and is released exactly once.
            unsafe { ffi::PyBuffer_Release(&mut self.0) };
        }
    }
    // SAFETY: `PyObject_GetBuffer` succeeded, so the view is initialised.
    let held = Held(unsafe { view.assume_init() });
    if held.0.itemsize != 1 {
        return Err(PyTypeError::new_err("a bytes-like object is required"));
    }
    let len = held.0.len as usize;
    let bytes = if len == 0 {
        Vec::new()
    } else {
        let buf = held.0.buf.cast::<u8>().cast_const();
        let source = source_of(obj, buf, len, itemsize);
        // SAFETY: the exporter keeps `buf..buf + len` allocated while we hold the view, and
        // may write it concurrently only through its own (atomic or synchronised) stores. For
        // `Source::Export`: the bytes lie in a live export of the array that `obj` views, and
        // the view we hold keeps one of that array's exports alive until the copy is done, so
        // the storage stays pinned (all live exports of an array share its one storage).
        unsafe { atomic_copy(buf, len, source) }
    };
    f(&bytes)
}

/// The bytes of a `bytes` or `bytearray` (the constructor's initializer, for elements of
/// `itemsize` bytes), copied safely.
pub(crate) fn copy_bytes(obj: &Bound<'_, PyAny>, itemsize: usize) -> PyResult<Vec<u8>> {
    with_simple_buffer(obj, itemsize, |b| Ok(b.to_vec()))
}
