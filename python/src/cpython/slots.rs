//! The type slots the binding installs itself, at import, and their trampolines.
//!
//! Two sets, each written into the heap type PyO3 created, before any instance or subclass
//! exists (a heap type's `tp_as_mapping`, `tp_as_sequence` and `tp_as_number` point into the
//! type object itself, so they are writable), followed by `PyType_Modified`:
//!
//! - **Fast slots** ([`FastArray`], [`FastIter`]): `mp_subscript`, `mp_ass_subscript`,
//!   `sq_item`, `sq_length`, the iterator's `tp_iternext`, `append` and `extend` as `METH_O`
//!   methods and `pop` as a `METH_FASTCALL` one.
//!   PyO3's generated slots do real work on every call (a thread-local attach count, a check
//!   of its deferred reference pool, generic argument extraction); for `a[i]` that is a
//!   sizeable share of the call. The trampolines here hand the common case to the safe code
//!   (`crate::fast_paths`) and everything else to the PyO3 slot they replaced, so there is one
//!   implementation of the semantics.
//! - **Sequence operators** ([`SequenceOperators`]): `sq_concat`, `sq_repeat`,
//!   `sq_inplace_concat`, `sq_inplace_repeat` and one `nb_add`, with the `__add__`, `__mul__`,
//!   `__rmul__`, `__iadd__` and `__imul__` descriptors CPython makes for a type that has them
//!   (see `crate::operators` for why).
//!
//! Every trampoline is called by CPython with an attached thread state and live arguments of
//! the slot's kind, and runs its body under [`guarded`]: a panic becomes a `SystemError`.

use pyo3::PyClass;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};
use std::ffi::{CStr, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::OnceLock;

unsafe extern "C" {
    /// `PyDescr_NewWrapper` (not declared by pyo3-ffi): a slot wrapper descriptor for `tp`.
    fn PyDescr_NewWrapper(
        tp: *mut ffi::PyTypeObject,
        base: *mut ffi::wrapperbase,
        wrapped: *mut c_void,
    ) -> *mut ffi::PyObject;
}

/// Runs `f`, turning a panic into a `SystemError` and the error return value `err`.
///
/// Only for code CPython calls with an attached thread state (a slot): the error is set on
/// that thread.
#[inline(always)]
pub(crate) fn guarded<R>(err: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            // SAFETY: called from a slot, with an attached thread state (see above).
            unsafe {
                ffi::PyErr_SetString(
                    ffi::PyExc_SystemError,
                    c"ftarray: internal error (a Rust panic) in a C slot".as_ptr(),
                )
            };
            err
        }
    }
}

/// How a fast path fails: an `IndexError` with a static message (set without building a
/// `PyErr`, as cheaply as CPython's own slots do), or any other exception.
pub(crate) enum SlotError {
    /// `IndexError(message)`.
    Index(&'static CStr),
    /// Any exception.
    Py(PyErr),
}

impl From<PyErr> for SlotError {
    fn from(e: PyErr) -> Self {
        SlotError::Py(e)
    }
}

impl SlotError {
    /// The exception as a `PyErr` (for the methods that share a fast path's body).
    pub(crate) fn into_pyerr(self) -> PyErr {
        match self {
            SlotError::Index(msg) => pyo3::exceptions::PyIndexError::new_err(
                msg.to_str().unwrap_or("index out of range"),
            ),
            SlotError::Py(e) => e,
        }
    }

    /// Sets the exception on this thread.
    fn restore(self, py: Python<'_>) {
        match self {
            // SAFETY: the token proves the thread is attached; the message is NUL-terminated.
            SlotError::Index(msg) => unsafe {
                ffi::PyErr_SetString(ffi::PyExc_IndexError, msg.as_ptr())
            },
            SlotError::Py(e) => e.restore(py),
        }
    }
}

/// A fast path's result.
pub(crate) type SlotResult<T> = Result<T, SlotError>;

/// The shortcuts of the array type's hottest slots. Each `Option`-returning method returns
/// `None` to hand the call to the PyO3 slot it replaced.
pub(crate) trait FastArray:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync
{
    /// `a[key]` (`mp_subscript`).
    fn subscript<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> Option<SlotResult<Bound<'py, PyAny>>>;
    /// `a[i]` through the sequence protocol (`sq_item`: `i` already had the length added if
    /// it was negative).
    fn sq_item<'py>(&self, py: Python<'py>, i: isize) -> SlotResult<Bound<'py, PyAny>>;
    /// `len(a)`.
    fn length(&self, py: Python<'_>) -> usize;
    /// `a[key] = value` (`mp_ass_subscript`; deletions always go to the PyO3 slot).
    fn store(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> Option<SlotResult<()>>;
    /// `a.append(value)`.
    fn append(&self, value: &Bound<'_, PyAny>) -> PyResult<()>;
    /// `a.extend(values)`.
    fn extend(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()>;
    /// `a.pop(*args)` (the arguments as CPython passed them, not yet checked).
    fn pop_args<'py>(
        &self,
        py: Python<'py>,
        args: &[Bound<'py, PyAny>],
    ) -> PyResult<Bound<'py, PyAny>>;
    /// `a.__copy__()` (what `copy.copy(a)` calls).
    fn copy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

/// The iterator's `next`.
pub(crate) trait FastIter:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync
{
    /// The next item, `None` once exhausted.
    fn next_item<'py>(&self, py: Python<'py>) -> Option<PyResult<Bound<'py, PyAny>>>;
}

/// The PyO3 slots the fast ones replaced (their fallbacks).
struct Originals {
    subscript: ffi::binaryfunc,
    ass_subscript: ffi::objobjargproc,
}

static ORIGINALS: OnceLock<Originals> = OnceLock::new();

fn originals() -> &'static Originals {
    ORIGINALS.get().expect("installed with the fast slots")
}

/// `slf` as a `T`.
///
/// # Safety
///
/// `slf` is a live instance of `T` (or of a subclass), borrowed for `'a`, and the thread is
/// attached.
#[inline(always)]
unsafe fn instance<'a, 'py, T: PyClass>(
    py: Python<'py>,
    slf: *mut ffi::PyObject,
) -> pyo3::Borrowed<'a, 'py, T> {
    // SAFETY: the caller's contract.
    unsafe { pyo3::Borrowed::from_ptr(py, slf).cast_unchecked::<T>() }
}

/// A borrowed argument.
///
/// # Safety
///
/// `p` is a live object borrowed for `'a`, and the thread is attached.
#[inline(always)]
unsafe fn arg<'a, 'py>(py: Python<'py>, p: *mut ffi::PyObject) -> pyo3::Borrowed<'a, 'py, PyAny> {
    // SAFETY: the caller's contract.
    unsafe { pyo3::Borrowed::from_ptr(py, p) }
}

/// A slot's object result: a new reference, or NULL with the exception set.
#[inline(always)]
fn object_result(py: Python<'_>, r: SlotResult<Bound<'_, PyAny>>) -> *mut ffi::PyObject {
    match r {
        Ok(b) => b.into_ptr(),
        Err(e) => {
            e.restore(py);
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn subscript<A: FastArray>(
    slf: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls this slot with a live array, a live key and an attached thread.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let (a, k) = unsafe { (instance::<A>(py, slf), arg(py, key)) };
        match a.get().subscript(py, &k) {
            Some(r) => object_result(py, r),
            // SAFETY: the PyO3 slot this one replaced, called with the same arguments.
            None => unsafe { (originals().subscript)(slf, key) },
        }
    })
}

unsafe extern "C" fn sq_item<A: FastArray>(
    slf: *mut ffi::PyObject,
    i: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: as in `subscript`.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as in `subscript`.
        let a = unsafe { instance::<A>(py, slf) };
        object_result(py, a.get().sq_item(py, i))
    })
}

unsafe extern "C" fn length<A: FastArray>(slf: *mut ffi::PyObject) -> ffi::Py_ssize_t {
    guarded(-1, || {
        // SAFETY: as in `subscript`.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as in `subscript`.
        let a = unsafe { instance::<A>(py, slf) };
        a.get().length(py) as ffi::Py_ssize_t
    })
}

unsafe extern "C" fn ass_subscript<A: FastArray>(
    slf: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
) -> c_int {
    guarded(-1, || {
        // SAFETY: as in `subscript`; `value` is NULL for a deletion (the PyO3 slot's).
        let py = unsafe { Python::assume_attached() };
        if !value.is_null() {
            // SAFETY: as above; `value` is live.
            let (a, k, v) = unsafe { (instance::<A>(py, slf), arg(py, key), arg(py, value)) };
            match a.get().store(&k, &v) {
                Some(Ok(())) => return 0,
                Some(Err(e)) => {
                    e.restore(py);
                    return -1;
                }
                None => {}
            }
        }
        // SAFETY: the PyO3 slot this one replaced, called with the same arguments.
        unsafe { (originals().ass_subscript)(slf, key, value) }
    })
}

unsafe extern "C" fn iternext<I: FastIter>(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls `tp_iternext` with a live iterator of this type, attached.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let it = unsafe { instance::<I>(py, slf) };
        match it.get().next_item(py) {
            // NULL without an exception set: exhausted.
            None => ptr::null_mut(),
            Some(r) => object_result(py, r.map_err(SlotError::Py)),
        }
    })
}

/// The body of a `METH_O` method of the array type that returns `None`: `f` on the instance
/// and the argument.
///
/// # Safety
///
/// Called by CPython as a `METH_O` method of the array type `A`: `slf` a live instance, `arg`
/// a live argument, the thread attached.
#[inline(always)]
unsafe fn none_method_o<A: FastArray>(
    slf: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    f: impl FnOnce(&A, Python<'_>, &Bound<'_, PyAny>) -> PyResult<()>,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let (a, v) = unsafe { (instance::<A>(py, slf), arg(py, value)) };
        let r = f(a.get(), py, &v);
        object_result(
            py,
            r.map(|()| py.None().into_bound(py)).map_err(SlotError::Py),
        )
    })
}

unsafe extern "C" fn append<A: FastArray>(
    slf: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_O method of the array type with a live instance, a live
    // argument and an attached thread state.
    unsafe { none_method_o::<A>(slf, value, |a, _, v| a.append(v)) }
}

unsafe extern "C" fn extend<A: FastArray>(
    slf: *mut ffi::PyObject,
    values: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: as for `append`.
    unsafe { none_method_o::<A>(slf, values, |a, py, v| a.extend(py, v)) }
}

unsafe extern "C" fn copy<A: FastArray>(
    slf: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls a METH_NOARGS method of the array type with a live instance
        // (and NULL) and an attached thread state.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let a = unsafe { instance::<A>(py, slf) };
        object_result(py, a.get().copy(py).map_err(SlotError::Py))
    })
}

unsafe extern "C" fn pop<A: FastArray>(
    slf: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: CPython calls a METH_FASTCALL method of the array type with a live instance,
        // `nargs` live arguments at `args` and an attached thread state.
        let py = unsafe { Python::assume_attached() };
        // SAFETY: as above.
        let a = unsafe { instance::<A>(py, slf) };
        if nargs <= 0 {
            // `a.pop()`, the common call: no argument vector to build.
            return object_result(py, a.get().pop_args(py, &[]).map_err(SlotError::Py));
        }
        let args: Vec<Bound<'_, PyAny>> = (0..nargs as usize)
            // SAFETY: `k < nargs`, so `args[k]` is one of the live arguments.
            .map(|k| unsafe { arg(py, *args.add(k)) }.to_owned())
            .collect();
        object_result(py, a.get().pop_args(py, &args).map_err(SlotError::Py))
    })
}

/// Installs the fast slots on the array type `A` and the iterator type `I`, `append` and
/// `extend` as `METH_O` methods of `A`, `pop` as a `METH_FASTCALL` one and `__copy__` as a `METH_NOARGS`
/// one (at import, before any instance or subclass exists).
///
/// # Errors
///
/// If the types lack the slots PyO3 should have made (`__getitem__`, `__setitem__`), or the
/// `append` descriptor cannot be made or stored.
pub(crate) fn install_fast_slots<A: FastArray, I: FastIter>(py: Python<'_>) -> PyResult<()> {
    let array_type = A::type_object(py);
    let iter_type = I::type_object(py);
    let tp = array_type.as_type_ptr();
    // SAFETY: `tp` is a heap type this module just created (PyType_FromSpec): its
    // `tp_as_mapping` and `tp_as_sequence` point into the type object itself and are writable,
    // and nothing else uses the type yet. The replaced PyO3 slots, checked to exist, are kept
    // as the fallbacks; `PyType_Modified` drops any cached lookups.
    unsafe {
        let mapping = (*tp).tp_as_mapping;
        let sequence = (*tp).tp_as_sequence;
        if mapping.is_null() || sequence.is_null() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "ftarray: the array type has no mapping or sequence slots",
            ));
        }
        let (Some(subscript_fn), Some(ass_fn)) =
            ((*mapping).mp_subscript, (*mapping).mp_ass_subscript)
        else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "ftarray: the array type has no __getitem__ or __setitem__ slot",
            ));
        };
        let _ = ORIGINALS.set(Originals {
            subscript: subscript_fn,
            ass_subscript: ass_fn,
        });
        (*mapping).mp_subscript = Some(subscript::<A>);
        (*mapping).mp_ass_subscript = Some(ass_subscript::<A>);
        (*sequence).sq_item = Some(sq_item::<A>);
        (*sequence).sq_length = Some(length::<A>);
        ffi::PyType_Modified(tp);
        (*iter_type.as_type_ptr()).tp_iternext = Some(iternext::<I>);
        ffi::PyType_Modified(iter_type.as_type_ptr());
    }
    // `append` as a plain METH_O method.
    add_method(
        &array_type,
        c"append",
        ffi::PyMethodDefPointer {
            PyCFunction: append::<A>,
        },
        ffi::METH_O,
        c"append($self, v, /)\n--\n\nAppend new value v to the end of the array.",
    )?;
    // `extend` as a plain METH_O method too.
    add_method(
        &array_type,
        c"extend",
        ffi::PyMethodDefPointer {
            PyCFunction: extend::<A>,
        },
        ffi::METH_O,
        c"extend($self, bb, /)\n--\n\nAppend items to the end of the array.",
    )?;
    // `pop` as a METH_FASTCALL method: no argument tuple for the common `a.pop()`. The first
    // lines of each doc are the text signature (`__text_signature__`), as Argument Clinic writes
    // them for the standard type's methods.
    add_method(
        &array_type,
        c"pop",
        ffi::PyMethodDefPointer {
            PyCFunctionFast: pop::<A>,
        },
        ffi::METH_FASTCALL,
        c"pop($self, i=-1, /)\n--\n\nReturn the i-th element and delete it from the array.\n\ni defaults to -1.",
    )?;
    // `__copy__` as a METH_NOARGS method, as the standard type's (what `copy.copy` calls).
    add_method(
        &array_type,
        c"__copy__",
        ffi::PyMethodDefPointer {
            PyCFunction: copy::<A>,
        },
        ffi::METH_NOARGS,
        c"__copy__($self, /)\n--\n\nReturn a copy of the array.",
    )
}

/// Installs a plain C method on `tp` (a fresh heap type of this module), replacing PyO3's.
fn add_method(
    tp: &Bound<'_, PyType>,
    name: &'static CStr,
    meth: ffi::PyMethodDefPointer,
    flags: std::os::raw::c_int,
    doc: &'static CStr,
) -> PyResult<()> {
    // The def must outlive the type: leaked, once per method.
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: meth,
        ml_flags: flags,
        ml_doc: doc.as_ptr(),
    }));
    // SAFETY: `def` lives forever and its function matches `flags` (the callers pair them);
    // the descriptor is a new reference or NULL with an exception set.
    let descr = unsafe {
        Bound::from_owned_ptr_or_err(tp.py(), ffi::PyDescr_NewMethod(tp.as_type_ptr(), def))?
    };
    set_type_attr(tp, name, &descr)
}

/// Stores `value` in a type's own dict under `name` (a fresh heap type of this module, not yet
/// shared) and resets the type's lookup caches: how CPython's own slot descriptors get there.
fn set_type_attr(tp: &Bound<'_, PyType>, name: &CStr, value: &Bound<'_, PyAny>) -> PyResult<()> {
    let t = tp.as_type_ptr();
    // SAFETY: `t` is a live type whose dict exists after PyType_Ready; the call returns -1 with
    // an exception set on failure. `PyType_Modified` drops cached lookups.
    unsafe {
        let dict = (*t).tp_dict;
        if dict.is_null() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "ftarray: a type without a dict",
            ));
        }
        if ffi::PyDict_SetItemString(dict, name.as_ptr(), value.as_ptr()) < 0 {
            return fetched(tp.py());
        }
        ffi::PyType_Modified(t);
    }
    Ok(())
}

fn fetched<T>(py: Python<'_>) -> PyResult<T> {
    Err(PyErr::fetch(py))
}

/// A new slot wrapper descriptor for `tp`, calling `wrapped` the way `model` (a slot wrapper
/// of a builtin type for the same slot, such as `list.__add__`) calls its own function.
///
/// # Safety
///
/// `wrapped` is a function of the C type the model's slot has.
pub(crate) unsafe fn wrapper_like<'py>(
    tp: &Bound<'py, PyType>,
    model: &Bound<'py, PyAny>,
    wrapped: *mut c_void,
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a type check of a live object.
    if unsafe { ffi::Py_TYPE(model.as_ptr()) } != &raw mut ffi::PyWrapperDescr_Type {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "ftarray: a builtin operator is not a slot wrapper",
        ));
    }
    // SAFETY: `model` is a slot wrapper (checked), whose `d_base` is a static `wrapperbase` of
    // CPython's slot table; `PyDescr_NewWrapper` returns a new reference or NULL with an
    // exception set; `wrapped` has the slot's type (the caller's contract).
    unsafe {
        let base = (*model.as_ptr().cast::<ffi::PyWrapperDescrObject>()).d_base;
        Bound::from_owned_ptr_or_err(tp.py(), PyDescr_NewWrapper(tp.as_type_ptr(), base, wrapped))
    }
}

/// The array type's `+` and `*` as the standard type has them (see `crate::operators`).
pub(crate) trait SequenceOperators:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync
{
    /// `sq_concat`: `a + b`.
    fn concat<'py>(a: &Bound<'py, Self>, b: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>;
    /// `sq_repeat`: `a * n`.
    fn repeat<'py>(a: &Bound<'py, Self>, n: isize) -> PyResult<Bound<'py, PyAny>>;
    /// `sq_inplace_concat`: `a += b` (the slot returns `a`).
    fn inplace_concat<'py>(a: &Bound<'py, Self>, b: &Bound<'py, PyAny>) -> PyResult<()>;
    /// `sq_inplace_repeat`: `a *= n` (the slot returns `a`).
    fn inplace_repeat(a: &Bound<'_, Self>, n: isize) -> PyResult<()>;
    /// `nb_add`: `v + w`, either of them an instance (`NotImplemented` to pass).
    fn add<'py>(v: &Bound<'py, PyAny>, w: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>;
}

/// Runs an operator slot's body: its result as a new reference, or NULL with the error set.
fn operator_slot(f: impl FnOnce(Python<'_>) -> PyResult<*mut ffi::PyObject>) -> *mut ffi::PyObject {
    guarded(ptr::null_mut(), || {
        // SAFETY: only called from slots, which CPython calls attached.
        let py = unsafe { Python::assume_attached() };
        match f(py) {
            Ok(p) => p,
            Err(e) => {
                e.restore(py);
                ptr::null_mut()
            }
        }
    })
}

/// `a` as an owned `Bound` of `T`.
///
/// # Safety
///
/// `a` is a live instance of `T` (or a subclass), the thread attached.
unsafe fn owned<'py, T: PyClass>(py: Python<'py>, a: *mut ffi::PyObject) -> Bound<'py, T> {
    // SAFETY: the caller's contract; a new strong reference is taken.
    unsafe { Bound::from_borrowed_ptr(py, a).cast_into_unchecked::<T>() }
}

// For each `sq_*` slot, CPython passes the sequence whose slot it is as the first argument
// (`PySequence_Concat`, `sequence_repeat` with the operands swapped for `n * a`), so `a` is
// an instance of the type.

unsafe extern "C" fn concat<T: SequenceOperators>(
    a: *mut ffi::PyObject,
    b: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    operator_slot(|py| {
        // SAFETY: `a` is an instance (see above), `b` a live object.
        let (a, b) = unsafe { (owned::<T>(py, a), Bound::from_borrowed_ptr(py, b)) };
        Ok(T::concat(&a, &b)?.into_ptr())
    })
}

unsafe extern "C" fn repeat<T: SequenceOperators>(
    a: *mut ffi::PyObject,
    n: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: as in `concat`.
    operator_slot(|py| Ok(T::repeat(&unsafe { owned::<T>(py, a) }, n)?.into_ptr()))
}

unsafe extern "C" fn inplace_concat<T: SequenceOperators>(
    a: *mut ffi::PyObject,
    b: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    operator_slot(|py| {
        // SAFETY: as in `concat`.
        let (a, b) = unsafe { (owned::<T>(py, a), Bound::from_borrowed_ptr(py, b)) };
        T::inplace_concat(&a, &b)?;
        Ok(a.into_ptr())
    })
}

unsafe extern "C" fn inplace_repeat<T: SequenceOperators>(
    a: *mut ffi::PyObject,
    n: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    operator_slot(|py| {
        // SAFETY: as in `concat`.
        let a = unsafe { owned::<T>(py, a) };
        T::inplace_repeat(&a, n)?;
        Ok(a.into_ptr())
    })
}

unsafe extern "C" fn add<T: SequenceOperators>(
    v: *mut ffi::PyObject,
    w: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    operator_slot(|py| {
        // SAFETY: CPython calls `nb_add` with two live operands.
        let (v, w) = unsafe {
            (
                Bound::from_borrowed_ptr(py, v),
                Bound::from_borrowed_ptr(py, w),
            )
        };
        Ok(T::add(&v, &w)?.into_ptr())
    })
}

/// The `__add__` descriptor installed on the array type (to recognise it in subclasses).
static ADD_DESCR: OnceLock<usize> = OnceLock::new();

/// Installs the sequence slots, `nb_add`, and the slot wrapper descriptors on `T` (at import,
/// before any instance or subclass exists). The descriptors are made from the wrapper bases
/// of `list`'s, which has exactly these four slots.
pub(crate) fn install_sequence_operators<T: SequenceOperators>(py: Python<'_>) -> PyResult<()> {
    let tp = T::type_object(py);
    let list = py.get_type::<PyList>();
    let t = tp.as_type_ptr();
    // SAFETY: `t` is a heap type this module just created and nothing uses yet: its
    // `tp_as_sequence`/`tp_as_number` point into the heap type object (writable).
    unsafe {
        let seq = (*t).tp_as_sequence;
        let num = (*t).tp_as_number;
        if seq.is_null() || num.is_null() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "ftarray: the array type has no sequence or number slots",
            ));
        }
        (*seq).sq_concat = Some(concat::<T>);
        (*seq).sq_repeat = Some(repeat::<T>);
        (*seq).sq_inplace_concat = Some(inplace_concat::<T>);
        (*seq).sq_inplace_repeat = Some(inplace_repeat::<T>);
        (*num).nb_add = Some(add::<T>);
        (*num).nb_multiply = None;
        (*num).nb_inplace_add = None;
        (*num).nb_inplace_multiply = None;
        ffi::PyType_Modified(t);
    }
    let wrappers: [(&CStr, *mut c_void); 5] = [
        (c"__add__", concat::<T> as *mut c_void),
        (c"__mul__", repeat::<T> as *mut c_void),
        (c"__rmul__", repeat::<T> as *mut c_void),
        (c"__iadd__", inplace_concat::<T> as *mut c_void),
        (c"__imul__", inplace_repeat::<T> as *mut c_void),
    ];
    for (name, wrapped) in wrappers {
        let model = list.getattr(name.to_str().expect("ASCII"))?;
        // SAFETY: each function has the type of `list`'s slot of the same name (binaryfunc for
        // `__add__`/`__iadd__`, ssizeargfunc for the repeats).
        let descr = unsafe { wrapper_like(&tp, &model, wrapped)? };
        set_type_attr(&tp, name, &descr)?;
        if name == c"__add__" {
            let _ = ADD_DESCR.set(descr.as_ptr() as usize);
        }
    }
    Ok(())
}

/// Whether `cls` inherits the array type's `__add__` descriptor unchanged and has no
/// `__radd__`.
pub(crate) fn inherits_add(cls: &Bound<'_, PyType>) -> PyResult<bool> {
    let py = cls.py();
    Ok(match ADD_DESCR.get() {
        Some(&ours) => {
            cls.getattr(pyo3::intern!(py, "__add__"))?.as_ptr() as usize == ours
                && !cls.hasattr(pyo3::intern!(py, "__radd__"))?
        }
        None => false,
    })
}

/// Gives `cls`, a subclass of `T` being created, `T`'s `nb_add` back.
pub(crate) fn restore_nb_add<T: SequenceOperators>(cls: &Bound<'_, PyType>) -> PyResult<()> {
    if !cls.is_subclass_of::<T>()? {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "not a subclass of the array type",
        ));
    }
    let t = cls.as_type_ptr();
    // SAFETY: `cls` is a subclass of `T`; a heap type (checked) has its number methods in its
    // own type object; `PyType_Modified` drops cached lookups.
    unsafe {
        if ffi::PyType_HasFeature(t, ffi::Py_TPFLAGS_HEAPTYPE) == 0 {
            return Ok(());
        }
        let num = (*t).tp_as_number;
        if !num.is_null() {
            (*num).nb_add = Some(add::<T>);
            ffi::PyType_Modified(t);
        }
    }
    Ok(())
}

/// Sets `Py_TPFLAGS_SEQUENCE` on `T` (pattern matching treats it as a sequence; PyO3 has no
/// option for it), before any instance or subclass exists.
pub(crate) fn mark_as_sequence<T: PyClass>(py: Python<'_>) {
    let tp = T::type_object(py).as_type_ptr();
    // SAFETY: `tp` is a heap type this module just created, not yet shared with other threads;
    // the flags word is written by this thread only.
    unsafe {
        #[cfg(not(Py_GIL_DISABLED))]
        {
            (*tp).tp_flags |= ffi::Py_TPFLAGS_SEQUENCE;
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            (*tp).tp_flags.fetch_or(
                ffi::Py_TPFLAGS_SEQUENCE,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        ffi::PyType_Modified(tp);
    }
}

/// `tp_new = NULL` on `T`: instances cannot be created from Python ("cannot create
/// 'ftarray.arrayiterator' instances", as CPython's Py_TPFLAGS_DISALLOW_INSTANTIATION).
pub(crate) fn disallow_instantiation<T: PyClass>(py: Python<'_>) {
    let tp = T::type_object(py).as_type_ptr();
    // SAFETY: as in `mark_as_sequence`.
    unsafe {
        (*tp).tp_new = None;
        ffi::PyType_Modified(tp);
    }
}
