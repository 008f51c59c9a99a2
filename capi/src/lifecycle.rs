//! Creating and freeing handles; the array's shape and settings.

use crate::boundary::{Status, ffi};
use crate::handle::{self, Handle};
use ftarray::DynArray;
use std::ffi::{c_char, c_void};

/// Creates an empty array of the element type named by `typecode`.
///
/// Type codes, as Python's `array` module: `'b'` signed char, `'B'` unsigned char, `'h'`
/// short, `'H'` unsigned short, `'i'` int, `'I'` unsigned int, `'l'` long, `'L'` unsigned
/// long (both the platform's C `long`), `'q'` long long, `'Q'` unsigned long long, `'f'`
/// float, `'d'` double; and the character codes `'u'` (wchar_t) and `'w'` (a UCS-4 code
/// point), whose elements are code points.
///
/// On success `*out` receives a new handle. Errors: `FTARRAY_STATUS_BAD_TYPECODE`,
/// `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: the caller owns the handle and frees it with `ftarray_free`.
/// Threads: the handle may be used from any number of threads at once.
///
/// # Safety
///
/// `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_new(typecode: c_char, out: *mut *mut Handle) -> Status {
    ffi!(out out => {
        let code = handle::typecode(typecode)?;
        *out = Handle::into_raw(DynArray::new(code));
        Ok(())
    })
}

/// Creates an empty array with room for at least `capacity` elements before its storage
/// has to move.
///
/// Errors: `FTARRAY_STATUS_BAD_TYPECODE`, `FTARRAY_STATUS_CAPACITY_OVERFLOW`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: as `ftarray_new`.
///
/// # Safety
///
/// `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_with_capacity(
    typecode: c_char,
    capacity: usize,
    out: *mut *mut Handle,
) -> Status {
    ffi!(out out => {
        let code = handle::typecode(typecode)?;
        *out = Handle::into_raw(DynArray::with_capacity(code, capacity)?);
        Ok(())
    })
}

/// Creates an array holding the elements encoded in `bytes[0..nbytes]` (native byte order,
/// as Python's `frombytes`).
///
/// `bytes` is copied with atomic loads (see `ftarray_extend_bytes`), so it may be another
/// array's export that other threads are writing. `bytes` may be NULL when `nbytes` is 0.
///
/// Errors: `FTARRAY_STATUS_BAD_TYPECODE`, `FTARRAY_STATUS_BAD_LENGTH` (`nbytes` is not a
/// multiple of the item size), `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: as `ftarray_new`; `bytes` stays the caller's.
///
/// # Safety
///
/// `bytes` must be valid for reads of `nbytes` bytes (and concurrently written only
/// atomically); `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_from_bytes(
    typecode: c_char,
    bytes: *const c_void,
    nbytes: usize,
    out: *mut *mut Handle,
) -> Status {
    ffi!(out out => {
        let code = handle::typecode(typecode)?;
        // SAFETY: the contract: `bytes` is readable for `nbytes` bytes.
        let data = unsafe { handle::copy_in_bytes("bytes", bytes.cast(), nbytes, code) }?;
        *out = Handle::into_raw(DynArray::from_bytes(code, &data)?);
        Ok(())
    })
}

/// Creates a new array holding a snapshot of `a` (same type code; the export rule starts
/// non-strict, and no exports).
///
/// Errors: `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: the caller owns the new handle; `a` is only borrowed.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_clone(a: *const Handle, out: *mut *mut Handle) -> Status {
    ffi!(array a, out out => {
        *out = Handle::into_raw(a.try_clone()?);
        Ok(())
    })
}

/// Frees the array `a`. `ftarray_free(NULL)` does nothing and returns `FTARRAY_STATUS_OK`.
///
/// While `a` has live exports, freeing it would leave their pointers dangling: the call
/// returns `FTARRAY_STATUS_EXPORTED` and frees nothing (release the exports first).
///
/// Misuse is reported, not fatal, where the library can tell: freeing a handle twice, or
/// passing a freed handle or a pointer this library did not make to any function, returns
/// `FTARRAY_STATUS_MISUSE` (best effort: a magic word in the handle is checked, as SQLite
/// does; once the memory has been reclaimed and reused it may hold anything).
///
/// Ownership: after `FTARRAY_STATUS_OK`, `a` is gone; do not use it again.
/// Threads: the host's object lifetime rules (reference counting) should make sure that no
/// other thread uses `a` during or after this call. If one does anyway, it is not a
/// use-after-free: the handle's memory is retired to the same epoch collector as replaced
/// storage, so a call already running on `a` finishes on the array as it was, and a call that
/// starts after the free returns `FTARRAY_STATUS_MISUSE`. The memory is reclaimed once every
/// thread has passed a quiescent point (see sessions, `ftarray_flush`, `ftarray_drain`).
///
/// # Safety
///
/// `a` must be NULL or a handle made by this library (freed ones are detected while their
/// memory has not been reused).
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_free(a: *mut Handle) -> Status {
    if a.is_null() {
        return Status::Ok;
    }
    fn here() {}
    crate::boundary::guard(here, move || {
        // SAFETY: `a` is a handle of this library, perhaps freed (the contract).
        unsafe { Handle::free(a) }
    })
}

/// Writes the number of elements to `*out`.
///
/// Threads: any thread; the length is the one at the instant of the read.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_len(a: *const Handle, out: *mut usize) -> Status {
    ffi!(array a, out out, storage_guard g => {
        *out = a.len_in(g);
        Ok(())
    })
}

/// Writes to `*out` how many elements fit before the storage has to move.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_capacity(a: *const Handle, out: *mut usize) -> Status {
    ffi!(array a, out out => {
        *out = a.capacity();
        Ok(())
    })
}

/// Writes the size of one element in bytes to `*out`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_itemsize(a: *const Handle, out: *mut usize) -> Status {
    ffi!(array a, out out => {
        *out = a.itemsize();
        Ok(())
    })
}

/// Writes the array's type code (`'i'`, `'d'`, …) to `*out`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_typecode(a: *const Handle, out: *mut c_char) -> Status {
    ffi!(array a, out out => {
        *out = handle::typecode_char(a.typecode());
        Ok(())
    })
}

/// Writes to `*out` the element's buffer-protocol format string (`struct` module syntax,
/// native size and order), as Python's `array` exports it: the type code itself, except that
/// `'u'` exports `"w"` where `wchar_t` is 4 bytes (CPython's `Py_UNICODE_WIDE` case).
///
/// Ownership: the string is static; do not free it.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_format(a: *const Handle, out: *mut *const c_char) -> Status {
    ffi!(array a, out out => {
        *out = a.typecode().format_cstr().as_ptr();
        Ok(())
    })
}

/// Chooses the export rule of `a`.
///
/// Off (the default): while an export is alive, only operations that would move or free the
/// storage fail (growing past the capacity, insert, remove, …); appends within the capacity,
/// pops, truncation and same-length rewrites still work, in place. On: every change of
/// length fails with `FTARRAY_STATUS_EXPORTED` while an export is alive (CPython's
/// `BufferError` rule). Each operation reads the setting once, under the array's lock.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_strict_exports(a: *mut Handle, strict: bool) -> Status {
    ffi!(array a => {
        a.set_strict_exports(strict);
        Ok(())
    })
}

/// Writes whether the strict export rule is on to `*out`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_strict_exports(a: *const Handle, out: *mut bool) -> Status {
    ffi!(array a, out out => {
        *out = a.strict_exports();
        Ok(())
    })
}
