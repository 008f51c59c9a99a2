//! Capsules that hand C structs to a consumer: the Arrow PyCapsule interface ("arrow_schema",
//! "arrow_array") and DLPack ("dltensor_versioned", "dltensor").
//!
//! Each capsule owns one heap-allocated struct. Its destructor (run when the capsule object is
//! freed, attached) frees what the consumer did not take:
//! - Arrow: a consumer *moves* the struct out (it copies it and marks ours released); the
//!   destructor drops the box, and the struct's `Drop` calls `release` only if it is still
//!   live, then the box is freed.
//! - DLPack: a consumer that takes the tensor renames the capsule ("used_dltensor_versioned")
//!   and calls the deleter itself when done; the destructor calls the deleter only if the
//!   capsule still has its first name.
//!
//! Destructors and deleters never unwind ([`no_unwind`](super::unwind::no_unwind)) and never raise: the name is checked
//! with `PyCapsule_IsValid`, which sets no exception, so an exception already set when a
//! capsule is freed stays as it was.

use super::dlpack::{self, DLManagedTensor, DLManagedTensorVersioned};
use super::unwind::no_unwind;
use ftarray::DynSnapshot;
use ftarray::arrow::{ArrowArray, ArrowSchema};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::ffi::{CStr, c_void};

/// `PyCapsule_New(ptr, name, destructor)`.
///
/// # Safety
///
/// `destructor` frees `ptr` given a capsule named `name`.
unsafe fn new_capsule<'py>(
    py: Python<'py>,
    ptr: *mut c_void,
    name: &'static CStr,
    destructor: unsafe extern "C" fn(*mut ffi::PyObject),
) -> PyResult<Bound<'py, PyCapsule>> {
    // SAFETY: `name` is static (it must outlive the capsule); a new reference or NULL with an
    // exception set (then the caller still owns `ptr`).
    unsafe {
        Ok(Bound::from_owned_ptr_or_err(
            py,
            ffi::PyCapsule_New(ptr, name.as_ptr(), Some(destructor)),
        )?
        .cast_into_unchecked())
    }
}

/// The pointer of a capsule still named `name`, or NULL (renamed, or not one of ours), without
/// setting an exception.
///
/// # Safety
///
/// `capsule` is a live capsule (its destructor is running).
unsafe fn pointer_if_named(capsule: *mut ffi::PyObject, name: &CStr) -> *mut c_void {
    // SAFETY: the caller's contract; `PyCapsule_IsValid` sets no exception, and a valid
    // capsule's pointer is read without one.
    unsafe {
        if ffi::PyCapsule_IsValid(capsule, name.as_ptr()) == 0 {
            return std::ptr::null_mut();
        }
        ffi::PyCapsule_GetPointer(capsule, name.as_ptr())
    }
}

const ARROW_SCHEMA: &CStr = c"arrow_schema";
const ARROW_ARRAY: &CStr = c"arrow_array";
const DLTENSOR_VERSIONED: &CStr = c"dltensor_versioned";
const DLTENSOR: &CStr = c"dltensor";

unsafe extern "C" fn drop_arrow_schema(capsule: *mut ffi::PyObject) {
    no_unwind(|| {
        // SAFETY: CPython calls a capsule's destructor with the capsule, once.
        let p = unsafe { pointer_if_named(capsule, ARROW_SCHEMA) };
        if !p.is_null() {
            // SAFETY: the box `arrow_schema` leaked; its `Drop` releases the schema if the
            // consumer left it live.
            drop(unsafe { Box::from_raw(p.cast::<ArrowSchema>()) });
        }
    })
}

unsafe extern "C" fn drop_arrow_array(capsule: *mut ffi::PyObject) {
    no_unwind(|| {
        // SAFETY: as in `drop_arrow_schema`.
        let p = unsafe { pointer_if_named(capsule, ARROW_ARRAY) };
        if !p.is_null() {
            // SAFETY: as in `drop_arrow_schema`, for the box `arrow_array` leaked.
            drop(unsafe { Box::from_raw(p.cast::<ArrowArray>()) });
        }
    })
}

/// A capsule owning `value`, boxed.
fn boxed<'py, T>(
    py: Python<'py>,
    value: T,
    name: &'static CStr,
    destructor: unsafe extern "C" fn(*mut ffi::PyObject),
) -> PyResult<Bound<'py, PyCapsule>> {
    let p = Box::into_raw(Box::new(value));
    // SAFETY: `destructor` frees a box of `T` from a capsule named `name` (the callers pair
    // them).
    unsafe { new_capsule(py, p.cast(), name, destructor) }.inspect_err(|_| {
        // SAFETY: no capsule took the box.
        drop(unsafe { Box::from_raw(p) });
    })
}

/// An "arrow_schema" capsule owning `schema`.
pub(crate) fn arrow_schema<'py>(
    py: Python<'py>,
    schema: ArrowSchema,
) -> PyResult<Bound<'py, PyCapsule>> {
    boxed(py, schema, ARROW_SCHEMA, drop_arrow_schema)
}

/// An "arrow_array" capsule owning `array`.
pub(crate) fn arrow_array<'py>(
    py: Python<'py>,
    array: ArrowArray,
) -> PyResult<Bound<'py, PyCapsule>> {
    boxed(py, array, ARROW_ARRAY, drop_arrow_array)
}

unsafe extern "C" fn drop_dltensor_versioned(capsule: *mut ffi::PyObject) {
    no_unwind(|| {
        // SAFETY: as in `drop_arrow_schema`; a consumed capsule has another name.
        let p = unsafe { pointer_if_named(capsule, DLTENSOR_VERSIONED) };
        let t = p.cast::<DLManagedTensorVersioned>();
        if !t.is_null() {
            // SAFETY: an unconsumed tensor of ours: its deleter frees it, once.
            unsafe {
                if let Some(deleter) = (*t).deleter {
                    deleter(t);
                }
            }
        }
    })
}

unsafe extern "C" fn drop_dltensor(capsule: *mut ffi::PyObject) {
    no_unwind(|| {
        // SAFETY: as in `drop_dltensor_versioned`.
        let p = unsafe { pointer_if_named(capsule, DLTENSOR) };
        let t = p.cast::<DLManagedTensor>();
        if !t.is_null() {
            // SAFETY: as in `drop_dltensor_versioned`.
            unsafe {
                if let Some(deleter) = (*t).deleter {
                    deleter(t);
                }
            }
        }
    })
}

/// A "dltensor_versioned" capsule: a DLPack 1.0 tensor over `snapshot`, flagged read-only, or
/// over a copy of it (flagged as copied) when `copy`.
pub(crate) fn dltensor_versioned(
    py: Python<'_>,
    snapshot: DynSnapshot,
    copy: bool,
) -> PyResult<Bound<'_, PyCapsule>> {
    let t = dlpack::versioned(snapshot, copy);
    // SAFETY: `drop_dltensor_versioned` frees a versioned tensor from a capsule of this name.
    unsafe { new_capsule(py, t.cast(), DLTENSOR_VERSIONED, drop_dltensor_versioned) }.inspect_err(
        |_| {
            // SAFETY: no capsule took the tensor.
            unsafe { dlpack::free_versioned(t) }
        },
    )
}

/// A "dltensor" capsule (DLPack before 1.0, which has no read-only flag): a tensor over a copy
/// of `snapshot`, the consumer's to write.
pub(crate) fn dltensor_legacy<'py>(
    py: Python<'py>,
    snapshot: &DynSnapshot,
) -> PyResult<Bound<'py, PyCapsule>> {
    let t = dlpack::legacy(snapshot);
    // SAFETY: `drop_dltensor` frees a legacy tensor from a capsule of this name.
    unsafe { new_capsule(py, t.cast(), DLTENSOR, drop_dltensor) }.inspect_err(|_| {
        // SAFETY: no capsule took the tensor.
        unsafe { dlpack::free_legacy(t) }
    })
}
