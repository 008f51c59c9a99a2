//! The buffer protocol, both ways, at the C level.
//!
//! **Exporting.** [`install_array_buffer`] gives the array type `bf_getbuffer` and
//! `bf_releasebuffer`: a writable, one-dimensional view of the array's own storage, holding a
//! core export ([`DynArray::export_raw`]) until the view is released: while it lives the storage
//! neither moves nor is freed, and (with CPython's strict rule, which every `ftarray.array`
//! switches on) every length change fails with `BufferError`. [`install_snapshot_buffer`] gives
//! the snapshot type a *read-only* view of a [`DynSnapshot`]'s bytes, which never change while
//! the snapshot (the view's `obj`) lives; it pins nothing. The `shape` and `strides` a view
//! points to, and the export's token, live in a box in the view's `internal` field until the
//! view is released. On 3.12 and later the types also get the `__buffer__` and
//! `__release_buffer__` descriptors `PyType_Ready` makes for a type with these slots.
//!
//! **Importing.** [`HeldBuffer`] holds another object's simple buffer and copies it with atomic
//! loads (`ftarray::dynamic::copy_shared`): its exporter may be written by another thread while
//! we read (a `bytearray`, a view of an `ftarray.array`), so it is never viewed as a Rust
//! `&[u8]`. A range that lies inside a live export of an `ftarray.array` (checked, not assumed)
//! is copied with whole 64-bit unit loads, the array's own access size; anything else with
//! loads at least as wide as the destination's elements. Either way no element is assembled
//! from two stores.

use super::slots::{guarded, wrapper_like};
use ftarray::dynamic::Source;
use ftarray::{DynArray, DynSnapshot, TypeCode};
use pyo3::PyClass;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyByteArray;
use std::ffi::{CStr, c_int, c_void};
use std::mem::MaybeUninit;
use std::ptr;

/// A class whose instances export a [`DynArray`]'s storage.
pub(crate) trait ExportsArray:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync
{
    /// The array exported.
    fn exported(&self) -> &DynArray;
    /// The exception for a refused export.
    fn export_error(e: ftarray::Error) -> PyErr;
}

/// A class whose instances export a [`DynSnapshot`]'s bytes, read-only.
pub(crate) trait ExportsSnapshot:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync
{
    /// The snapshot exported.
    fn exported(&self) -> &DynSnapshot;
}

/// What a view keeps until it is released.
struct ViewInfo {
    /// The core export an array's view holds (`None` for a snapshot's).
    token: Option<u64>,
    shape: [ffi::Py_ssize_t; 1],
    strides: [ffi::Py_ssize_t; 1],
}

/// Where a view's bytes are.
struct ViewOf {
    buf: *mut c_void,
    len: usize,
    code: TypeCode,
    readonly: bool,
    token: Option<u64>,
}

/// Fills `view` for `obj` (a new reference is stored in `view.obj`).
///
/// # Safety
///
/// `view` points to a `Py_buffer` the caller owns; `of.buf..of.buf + of.len * itemsize` stays
/// valid while `obj` lives and `of.token` is held (read-only when `of.readonly`).
unsafe fn fill(view: *mut ffi::Py_buffer, obj: Bound<'_, PyAny>, of: ViewOf, flags: c_int) {
    let itemsize = of.code.itemsize() as ffi::Py_ssize_t;
    let info = Box::into_raw(Box::new(ViewInfo {
        token: of.token,
        shape: [of.len as ffi::Py_ssize_t],
        strides: [itemsize],
    }));
    // SAFETY: `view` is valid (the caller's contract); `info` is a live box whose arrays stay
    // put until `release` frees it.
    unsafe {
        let v = &mut *view;
        v.buf = of.buf;
        v.obj = obj.into_ptr();
        v.len = of.len as ffi::Py_ssize_t * itemsize;
        v.readonly = c_int::from(of.readonly);
        v.itemsize = itemsize;
        v.ndim = 1;
        v.format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT {
            of.code.format_cstr().as_ptr().cast_mut()
        } else {
            ptr::null_mut()
        };
        v.shape = if flags & ffi::PyBUF_ND == ffi::PyBUF_ND {
            (*info).shape.as_mut_ptr()
        } else {
            ptr::null_mut()
        };
        v.strides = if flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES {
            (*info).strides.as_mut_ptr()
        } else {
            ptr::null_mut()
        };
        v.suboffsets = ptr::null_mut();
        v.internal = info.cast();
    }
}

/// Takes back the box of a view `fill` filled, once: the export token it held, if any.
///
/// # Safety
///
/// `view` points to a live `Py_buffer`.
unsafe fn take_info(view: *mut ffi::Py_buffer) -> Option<Option<u64>> {
    // SAFETY: `view` is valid (the caller's contract).
    let internal = unsafe { (*view).internal };
    if internal.is_null() {
        // Not one of ours, or released already.
        return None;
    }
    // SAFETY: `internal` is the box `fill` leaked for this view; it is taken back once (the
    // field is cleared).
    let info = unsafe {
        (*view).internal = ptr::null_mut();
        Box::from_raw(internal.cast::<ViewInfo>())
    };
    Some(info.token)
}

/// Turns a `bf_getbuffer` body's result into the slot's return value.
fn getbuffer_result(py: Python<'_>, view: *mut ffi::Py_buffer, r: PyResult<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            if !view.is_null() {
                // SAFETY: a failing exporter leaves `view->obj` NULL (CPython's contract).
                unsafe { (*view).obj = ptr::null_mut() };
            }
            e.restore(py);
            -1
        }
    }
}

fn null_view_error() -> PyErr {
    PyBufferError::new_err("array_buffer_getbuf: view==NULL argument is obsolete")
}

unsafe extern "C" fn array_getbuffer<T: ExportsArray>(
    slf: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> c_int {
    guarded(-1, || {
        // SAFETY: CPython calls `bf_getbuffer` with a live instance of the type and an attached
        // thread, `view` null or a `Py_buffer` to fill.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let slf = unsafe { Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<T>() };
        let r = (|| {
            if view.is_null() {
                return Err(null_view_error());
            }
            let export = slf.get().exported().export_raw().map_err(T::export_error)?;
            let of = ViewOf {
                buf: export.ptr.cast(),
                len: export.len,
                code: export.code,
                readonly: false,
                token: Some(export.token),
            };
            // SAFETY: `view` is non-null (checked) and ours to fill; the export keeps
            // `export.ptr` valid for `len` elements (the storage cannot move or be freed) until
            // `array_releasebuffer` releases its token.
            unsafe { fill(view, slf.into_any(), of, flags) };
            Ok(())
        })();
        getbuffer_result(py, view, r)
    })
}

unsafe extern "C" fn array_releasebuffer<T: ExportsArray>(
    slf: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
) {
    guarded((), || {
        // SAFETY: CPython calls `bf_releasebuffer` with the exporter and a view its
        // `bf_getbuffer` filled, once, attached.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let slf = unsafe { pyo3::Borrowed::from_ptr(py, slf).cast_unchecked::<T>() };
        // SAFETY: as above.
        if let Some(Some(token)) = unsafe { take_info(view) } {
            // The token came from this array's `export_raw`; releasing it cannot fail.
            let _ = slf.get().exported().release_export(token);
        }
    })
}

unsafe extern "C" fn snapshot_getbuffer<T: ExportsSnapshot>(
    slf: *mut ffi::PyObject,
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> c_int {
    guarded(-1, || {
        // SAFETY: as in `array_getbuffer`.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let slf = unsafe { Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<T>() };
        let r = (|| {
            if view.is_null() {
                return Err(null_view_error());
            }
            if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
                // `PyBuffer_FillInfo`'s refusal, word for word.
                return Err(PyBufferError::new_err("Object is not writable."));
            }
            let s = slf.get().exported();
            let of = ViewOf {
                buf: s.as_bytes().as_ptr().cast_mut().cast(),
                len: s.len(),
                code: s.typecode(),
                readonly: true,
                token: None,
            };
            // SAFETY: `view` is non-null and ours to fill; the snapshot's bytes never change
            // and stay allocated while the snapshot object (the view's `obj`) lives; the view
            // is read-only.
            unsafe { fill(view, slf.into_any(), of, flags) };
            Ok(())
        })();
        getbuffer_result(py, view, r)
    })
}

unsafe extern "C" fn snapshot_releasebuffer(_slf: *mut ffi::PyObject, view: *mut ffi::Py_buffer) {
    guarded((), || {
        // SAFETY: as in `array_releasebuffer`.
        let _ = unsafe { take_info(view) };
    })
}

/// Writes the buffer slots into `T`'s type object and, on 3.12 and later, adds the
/// `__buffer__`/`__release_buffer__` descriptors, made like `bytearray`'s.
fn install(
    py: Python<'_>,
    tp: &Bound<'_, pyo3::types::PyType>,
    get: ffi::getbufferproc,
    release: ffi::releasebufferproc,
) -> PyResult<()> {
    let t = tp.as_type_ptr();
    // SAFETY: `t` is a heap type this module just created (its `tp_as_buffer` points into the
    // type object: writable), and nothing uses it yet; PyO3 itself writes these fields this way
    // on interpreters before 3.9.
    unsafe {
        let b = (*t).tp_as_buffer;
        if b.is_null() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "ftarray: a type without buffer slots",
            ));
        }
        (*b).bf_getbuffer = Some(get);
        (*b).bf_releasebuffer = Some(release);
        ffi::PyType_Modified(t);
    }
    let model = py.get_type::<PyByteArray>();
    for (name, wrapped) in [
        (c"__buffer__", get as *mut c_void),
        (c"__release_buffer__", release as *mut c_void),
    ] {
        let Ok(model) = model.getattr(name.to_str().expect("ASCII")) else {
            continue; // before 3.12: no such descriptors
        };
        // SAFETY: `get` is a getbufferproc and `release` a releasebufferproc, the types of
        // `bytearray`'s slots of the same names.
        let descr = unsafe { wrapper_like(tp, &model, wrapped)? };
        set_attr(tp, name, &descr)?;
    }
    Ok(())
}

fn set_attr(
    tp: &Bound<'_, pyo3::types::PyType>,
    name: &CStr,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let t = tp.as_type_ptr();
    // SAFETY: a fresh heap type's own dict (exists after PyType_Ready); -1 with an exception
    // set on failure; `PyType_Modified` drops cached lookups.
    unsafe {
        if ffi::PyDict_SetItemString((*t).tp_dict, name.as_ptr(), value.as_ptr()) < 0 {
            return Err(PyErr::fetch(tp.py()));
        }
        ffi::PyType_Modified(t);
    }
    Ok(())
}

/// Gives `T` the writable buffer protocol over its array (at import).
pub(crate) fn install_array_buffer<T: ExportsArray>(py: Python<'_>) -> PyResult<()> {
    install(
        py,
        &T::type_object(py),
        array_getbuffer::<T>,
        array_releasebuffer::<T>,
    )
}

/// Gives `T` the read-only buffer protocol over its snapshot (at import).
pub(crate) fn install_snapshot_buffer<T: ExportsSnapshot>(py: Python<'_>) -> PyResult<()> {
    install(
        py,
        &T::type_object(py),
        snapshot_getbuffer::<T>,
        snapshot_releasebuffer,
    )
}

/// Another object's simple (`PyBUF_SIMPLE`) buffer, held until dropped.
pub(crate) struct HeldBuffer(ffi::Py_buffer);

impl HeldBuffer {
    /// `PyObject_GetBuffer(obj, PyBUF_SIMPLE)`.
    pub(crate) fn simple(obj: &Bound<'_, PyAny>) -> PyResult<HeldBuffer> {
        let mut view = MaybeUninit::<ffi::Py_buffer>::uninit();
        // SAFETY: `view` is writable storage for one Py_buffer; on failure it is left unfilled
        // and an exception is set.
        if unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), ffi::PyBUF_SIMPLE) }
            != 0
        {
            return Err(PyErr::fetch(obj.py()));
        }
        // SAFETY: `PyObject_GetBuffer` succeeded, so the view is initialised.
        Ok(HeldBuffer(unsafe { view.assume_init() }))
    }

    /// The exporter's item size (1 for bytes-like objects).
    pub(crate) fn itemsize(&self) -> usize {
        self.0.itemsize as usize
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.0.len as usize
    }

    /// A copy of the bytes, made with atomic loads at least as wide as `itemsize` (the
    /// destination's element size: 1, 2, 4 or 8), or with whole 64-bit units when the bytes
    /// lie inside a live export of `owner` (the `ftarray.array` the buffer views, if any).
    pub(crate) fn copy(&self, itemsize: usize, owner: Option<&DynArray>) -> Vec<u8> {
        let len = self.len();
        let mut out = vec![0u8; len];
        if len == 0 {
            return out;
        }
        let buf = self.0.buf.cast::<u8>().cast_const();
        let source = if owner.is_some_and(|a| a.exports_cover(buf, len)) {
            Source::Export
        } else {
            Source::Elements { itemsize }
        };
        // For `Source::Export`: the bytes lie in a live export of `owner`; since we hold a view
        // of those very bytes, and an array's storage is its own, one of that array's exports
        // stays alive until the copy is done, so the storage stays pinned (all live exports of
        // an array share its one storage).
        // SAFETY: the exporter keeps `buf..buf + len` allocated while we hold the view and
        // writes it only through its own atomic or synchronised stores (see above).
        unsafe { ftarray::dynamic::copy_shared(buf, &mut out, source) };
        out
    }
}

impl Drop for HeldBuffer {
    fn drop(&mut self) {
        // SAFETY: the buffer was obtained by `simple` and is released exactly once; a
        // `HeldBuffer` is not `Send`, so this runs on the attached thread that made it.
        unsafe { ffi::PyBuffer_Release(&mut self.0) };
    }
}
