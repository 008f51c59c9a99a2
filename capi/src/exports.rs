//! Raw exports for buffer-protocol hosts: acquire a stable pointer, release it by token.

use crate::boundary::{Status, ffi};
use crate::handle::{self, Handle};
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Exports acquired and not yet released, over all handles. A statistic: Relaxed.
static LIVE_EXPORTS: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn live_exports() -> usize {
    LIVE_EXPORTS.load(Ordering::Relaxed)
}

/// A live export of an array's storage, filled by `ftarray_export_acquire`: what Python's
/// `Py_buffer` needs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Buffer {
    /// The first element (not NULL; dangling but aligned when `len` is 0).
    pub ptr: *mut c_void,
    /// The number of elements: the array's length when the export was acquired.
    pub len: usize,
    /// The size of one element in bytes.
    pub itemsize: usize,
    /// The element's format string (`struct` module syntax, native size and order); static.
    pub format: *const c_char,
    /// The array's type code.
    pub typecode: c_char,
    /// Names this export for `ftarray_export_release`. Unique in the process: never reused,
    /// and never equal to a token of another array, whose release with it therefore fails.
    pub token: u64,
}

/// Exports `a`'s storage: fills `*out` with a pointer to the elements, their number, the item
/// size, the format string and a token, and pins the storage until
/// `ftarray_export_release(a, out->token)`.
///
/// While the export is alive the storage neither moves nor is freed: operations that would
/// move it fail with `FTARRAY_STATUS_EXPORTED` and change nothing (under the strict rule,
/// every change of length does). `ptr` stays valid for `len` elements until the release, even
/// if the array becomes shorter meanwhile (elements past the current length then hold stale
/// values). `ftarray_free` refuses to free an array with live exports.
///
/// Access through `ptr` races with the array's own lock-free readers and writers on other
/// threads unless the host orders them. The elements lie at `ptr` as in a plain C array, but
/// the array reads and writes them as aligned 64-bit units (`ptr` is 8-aligned and the storage
/// is padded to a whole unit), so a host that touches them while other threads use the array
/// should do the same: load element `i` from the `_Atomic uint64_t` at byte offset
/// `(i * itemsize) & ~7` with `atomic_load_explicit` and take its bytes, and store with a
/// compare-exchange loop on that unit; or write only while no other thread uses the array.
/// Plain (non-atomic) writes while other threads read are a data race.
///
/// Ownership: the export belongs to the caller, who must release it exactly once.
/// Threads: any thread may acquire, and any thread may release with the token.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ftarray_export_acquire(a: *mut Handle, out: *mut Buffer) -> Status {
    ffi!(array a, out out => {
        let e = a.export_raw();
        LIVE_EXPORTS.fetch_add(1, Ordering::Relaxed);
        *out = Buffer {
            ptr: e.ptr.cast(),
            len: e.len,
            itemsize: e.itemsize,
            format: handle::format_cstr(e.code).as_ptr(),
            typecode: handle::typecode_char(e.code),
            token: e.token,
        };
        Ok(())
    })
}

/// Ends the export of `a` named by `token`.
///
/// Errors: `FTARRAY_STATUS_UNKNOWN_EXPORT` if `token` names no live export of `a` (never
/// acquired, acquired from another array, or already released): nothing changes, and in
/// particular no export's pin is dropped, `a`'s or another array's. Tokens are unique in the
/// process, so a token of another array never names one of `a`'s exports.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ftarray_export_release(a: *mut Handle, token: u64) -> Status {
    ffi!(array a => {
        a.release_export(token)?;
        LIVE_EXPORTS.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    })
}

/// Writes the number of live exports of `a` to `*out`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ftarray_export_count(a: *const Handle, out: *mut usize) -> Status {
    ffi!(array a, out out => {
        *out = a.export_count();
        Ok(())
    })
}
