//! Making and freeing instances of the array type without PyO3's generic paths.
//!
//! Every slice, copy, `a + b`, `a * n` and constructor call makes an array object, and every
//! one of them is freed again; for small arrays that is most of the work. PyO3's generic paths
//! cost more than the standard type's: `__new__` gathers `*args` and `**kwargs` into a tuple
//! and a dict, creating an object goes through its initializer chain, and freeing one through
//! a trampoline that counts attachments and checks a reference pool. The freeing path of PyO3
//! 0.28 also never releases the reference every instance of a heap type holds to its type
//! (PyO3 issue 6223, fixed upstream after 0.28): the type's reference count grows by one per
//! array ever made.
//!
//! [`install`] checks, once, that an instance is laid out as this module expects (the PyO3
//! object header, the value, then the weak-reference list, nothing else), and only then
//! installs `tp_new` and `tp_dealloc` of its own; if the check fails (another PyO3 version
//! with another layout) everything keeps PyO3's paths, which stay correct.
//!
//! - [`new_base_instance`] allocates as `PyObject_New` does (the base type is not a GC type
//!   and frees with `PyObject_Free`, checked), sets the weak-reference list empty and moves the
//!   value in; subtypes' instances come from their own `tp_alloc` (zeroed memory);
//! - `tp_dealloc` clears weak references, drops the value, frees the memory with the type's
//!   `tp_free` and releases the type, as CPython's documentation asks of a heap type's
//!   deallocator (a Python subclass's `subtype_dealloc` calls it and leaves releasing its
//!   type to it, because the base is a heap type too);
//! - `tp_new` builds the value from positional arguments ([`DirectInstances::construct`]) and
//!   hands any call with keyword arguments to PyO3's `__new__`, which has the rules for those.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{PyClass, PyClassInitializer};
use std::mem::{align_of, offset_of, size_of};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::OnceLock;

use super::slots::guarded;

/// Where a value sits in an instance of a type whose layout [`install`] checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Bytes from the object's start to the value.
    value: usize,
    /// Bytes from the object's start to the weak-reference list.
    weaklist: usize,
    /// PyO3's `tp_new`, for calls with keyword arguments.
    pyo3_new: ffi::newfunc,
    /// `T`'s type (PyO3 keeps it for the life of the process).
    base: usize,
    /// The instance size when `T`'s own type allocates as `PyType_GenericAlloc` does and frees
    /// with `PyObject_Free` (not a GC type): its instances are then made as `PyObject_New`
    /// makes them, without zeroing the whole object first.
    direct_size: Option<usize>,
}

/// A `#[pyclass]` whose instances this module makes and frees itself.
pub(crate) trait DirectInstances:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync + Send + Into<PyClassInitializer<Self>>
{
    /// The checked layout, set by [`install`] (`None` inside: the check failed).
    fn layout() -> &'static OnceLock<Option<Layout>>;
    /// What [`construct`](Self::construct) makes, which [`place`](Self::place) turns into the
    /// value inside the new object (a value made whole before the object exists is moved into
    /// it through the stack).
    type Made;
    /// What `T(*args)` makes (no keyword arguments).
    fn construct(args: &Bound<'_, PyTuple>) -> PyResult<Self::Made>;
    /// The value, built where it is written (inlined into the allocation).
    fn place(made: Self::Made) -> Self;
    /// A value to make the probe instance [`install`] measures.
    fn probe() -> Self;
}

/// The contents PyO3 0.28 lays out after the object header for a frozen, `Send + Sync`,
/// `weakref` class without `dict`: the value, then the weak-reference list (the borrow
/// checker, thread checker and dict slots are zero-sized).
#[repr(C)]
struct Expected<T> {
    value: T,
    weaklist: *mut ffi::PyObject,
}

/// Checks the layout of `T`'s instances and, if it is the expected one, installs this
/// module's `tp_new` and `tp_dealloc` on `T`'s type (at import, before any subclass exists).
/// Returns whether it did.
///
/// # Errors
///
/// If the probe instance cannot be made.
pub(crate) fn install<T: DirectInstances>(py: Python<'_>) -> PyResult<bool> {
    let tp_bound = T::type_object(py);
    let tp = tp_bound.as_type_ptr();
    let probe = Bound::new(py, T::probe())?;
    let start = probe.as_ptr() as usize;
    let value = ptr::from_ref(probe.get()) as usize - start;
    // SAFETY: reads fields of a live, ready type object.
    let (basic, item, weak, flags, alloc, free, new) = unsafe {
        (
            (*tp).tp_basicsize,
            (*tp).tp_itemsize,
            (*tp).tp_weaklistoffset,
            ffi::PyType_GetFlags(tp),
            (*tp).tp_alloc,
            (*tp).tp_free,
            (*tp).tp_new,
        )
    };
    let expected_weak = value + offset_of!(Expected<T>, weaklist);
    // SAFETY: `expected_weak` is checked to be the type's weak-list offset, inside the object,
    // before it is read; the probe is alive.
    let weak_empty = || unsafe {
        (probe.as_ptr() as *const u8)
            .add(expected_weak)
            .cast::<*mut ffi::PyObject>()
            .read()
            .is_null()
    };
    let fits = usize::try_from(basic).is_ok_and(|b| b == value + size_of::<Expected<T>>())
        && item == 0
        && usize::try_from(weak).is_ok_and(|w| w == expected_weak)
        && value % align_of::<T>() == 0
        && flags & ffi::Py_TPFLAGS_HAVE_GC == 0
        && flags & ffi::Py_TPFLAGS_HEAPTYPE != 0
        && alloc.is_some()
        && free.is_some()
        && weak_empty();
    drop(probe);
    let layout = match (fits, new) {
        (true, Some(pyo3_new)) => Some(Layout {
            value,
            weaklist: expected_weak,
            pyo3_new,
            base: tp as usize,
            direct_size: (alloc.map(|f| f as *const () as usize)
                == Some(ffi::PyType_GenericAlloc as *const () as usize)
                && free.map(|f| f as *const () as usize)
                    == Some(ffi::PyObject_Free as *const () as usize))
            .then_some(value + size_of::<Expected<T>>()),
        }),
        _ => None,
    };
    let _ = T::layout().set(layout);
    let Some(Some(_)) = T::layout().get() else {
        return Ok(false);
    };
    // SAFETY: `tp` is this module's heap type, not yet subclassed or shared; its instances are
    // laid out as checked above, which is what the two functions rely on. `PyType_Modified`
    // drops cached lookups.
    unsafe {
        (*tp).tp_dealloc = Some(dealloc::<T>);
        (*tp).tp_new = Some(new_object::<T>);
        ffi::PyType_Modified(tp);
    }
    Ok(true)
}

/// A new instance of `T`'s own type holding `value`.
///
/// # Errors
///
/// If allocation fails.
#[inline]
pub(crate) fn new_base_instance<T: DirectInstances>(
    py: Python<'_>,
    value: T,
) -> PyResult<Bound<'_, T>> {
    new_base_instance_with(py, move || value)
}

/// A new instance of `T`'s own type holding what `make` returns, which runs once the object's
/// memory is there: inlined, it builds the value in its place (a value made first, then moved
/// in, is copied through the stack on the way).
///
/// `make` must not panic: it runs after the object exists and before it is whole, so a panic
/// there (which the slot wrappers turn into an exception) would leak the object. Every `make`
/// in the module only rearranges values already made (`PyArray::from_new`, moves).
///
/// # Errors
///
/// If allocation fails (then `make` does not run: what it captured is dropped).
#[inline(always)]
pub(crate) fn new_base_instance_with<T: DirectInstances>(
    py: Python<'_>,
    make: impl FnOnce() -> T,
) -> PyResult<Bound<'_, T>> {
    match T::layout().get() {
        // SAFETY: `layout.base` is `T`'s type, whose layout is the checked one.
        Some(Some(layout)) => unsafe {
            allocate(py, layout.base as *mut ffi::PyTypeObject, layout, make)
        },
        _ => Bound::new(py, make()),
    }
}

/// Allocates an instance of `tp` and writes what `make` returns into it.
///
/// # Safety
///
/// `tp` is `T`'s type or a subtype of it, and `layout` is `T`'s checked layout.
#[inline(always)]
unsafe fn allocate<'py, T: DirectInstances>(
    py: Python<'py>,
    tp: *mut ffi::PyTypeObject,
    layout: &Layout,
    make: impl FnOnce() -> T,
) -> PyResult<Bound<'py, T>> {
    // Either path gives a new object of the basic size with its header set and its
    // weak-reference list NULL (written below, or zero-filled by `tp_alloc`, which is checked
    // present on `T`'s type and inherited by subtypes), or NULL with an exception set.
    // SAFETY: `tp` is a live type (caller); the value's place is inside the object and
    // aligned (checked at install), and is written once, without reading what was there.
    unsafe {
        let obj = match layout.direct_size {
            // `T`'s own type, which is not a GC type and frees with `PyObject_Free`: what
            // `PyObject_New` does (CPython's documented way for such types; on free-threaded
            // builds `PyObject_Malloc` then uses the heap for objects without GC, as
            // `PyType_GenericAlloc` would). Only the header is initialised; the weak-reference
            // list and the value are written below.
            Some(size) if tp as usize == layout.base => {
                let mem = ffi::PyObject_Malloc(size).cast::<ffi::PyObject>();
                if mem.is_null() {
                    return Err(pyo3::exceptions::PyMemoryError::new_err(()));
                }
                let obj = ffi::PyObject_Init(mem, tp);
                obj.cast::<u8>()
                    .add(layout.weaklist)
                    .cast::<*mut ffi::PyObject>()
                    .write(ptr::null_mut());
                obj
            }
            _ => {
                let alloc = (*tp).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
                let obj = alloc(tp, 0);
                if obj.is_null() {
                    return Err(PyErr::fetch(py));
                }
                obj
            }
        };
        obj.cast::<u8>().add(layout.value).cast::<T>().write(make());
        Ok(Bound::from_owned_ptr(py, obj).cast_into_unchecked())
    }
}

/// `tp_dealloc`: what PyO3's does, without its trampoline, and releasing the type.
unsafe extern "C" fn dealloc<T: DirectInstances>(obj: *mut ffi::PyObject) {
    let Some(Some(layout)) = T::layout().get() else {
        // Installed only once the layout is set (see `install`).
        std::process::abort();
    };
    // CPython calls `tp_dealloc` once, on an instance of `T`'s type or a subtype (a subclass's
    // `subtype_dealloc` calls it last) whose reference count reached zero, with an attached
    // thread state. The type is read before the memory is freed and released after, as
    // CPython's own deallocators do: an instance of a heap type owns a reference to it.
    // SAFETY: the instance's layout is the checked one, so the weak-reference list and the
    // value are where `layout` says; the value was written at creation and is dropped once.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        let weaklist = obj
            .cast::<u8>()
            .add(layout.weaklist)
            .cast::<*mut ffi::PyObject>();
        if !weaklist.read().is_null() {
            ffi::PyObject_ClearWeakRefs(obj);
        }
        let value = obj.cast::<u8>().add(layout.value).cast::<T>();
        if catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(value))).is_err() {
            // A drop that panicked leaked what it had not dropped; the object is still freed.
            ffi::PyErr_SetString(
                ffi::PyExc_SystemError,
                c"ftarray: internal error (a Rust panic) freeing an array".as_ptr(),
            );
            ffi::PyErr_WriteUnraisable(ptr::null_mut());
        }
        let free = (*tp).tp_free.unwrap_or(ffi::PyObject_Free);
        free(obj.cast());
        if ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HEAPTYPE) != 0 {
            ffi::Py_DECREF(tp.cast());
        }
    }
}

/// `tp_new`: `T(*args)` for `subtype`; calls with keyword arguments go to PyO3's.
unsafe extern "C" fn new_object<T: DirectInstances>(
    subtype: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    kwds: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let Some(Some(layout)) = T::layout().get() else {
        std::process::abort();
    };
    // SAFETY: CPython calls `tp_new` with an attached thread state, a subtype of `T`'s type
    // (`type_call` and `tp_new_wrapper` check that), an argument tuple and a dict or NULL.
    unsafe {
        if !kwds.is_null() && ffi::PyDict_Size(kwds) != 0 {
            return (layout.pyo3_new)(subtype, args, kwds);
        }
        guarded(ptr::null_mut(), || {
            let py = Python::assume_attached();
            let args = Bound::from_borrowed_ptr(py, args).cast_into_unchecked::<PyTuple>();
            let made = T::construct(&args);
            match made.and_then(|m| allocate(py, subtype, layout, move || T::place(m))) {
                Ok(obj) => obj.into_ptr(),
                Err(e) => {
                    e.restore(py);
                    ptr::null_mut()
                }
            }
        })
    }
}
