//! Raw exports for buffer-protocol hosts: acquire a stable pointer, release it by token.

use crate::boundary::{Status, ffi};
use crate::handle::{self, Handle};
use crate::registry;
use std::ffi::{c_char, c_void};
use std::sync::PoisonError;

/// A live export of an array's storage, filled by `ftarray_export_acquire`: what Python's
/// `Py_buffer` needs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Buffer {
    /// The size of this struct as the caller was compiled with it: set it to
    /// `sizeof(ftarray_buffer)` before the call (`ftarray_buffer_init()` returns one so set).
    /// A later version may add fields at the end; the library writes only the fields that fit
    /// in `size` bytes and refuses a size it does not know (`FTARRAY_STATUS_INVALID_ARGUMENT`).
    pub size: usize,
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

impl Buffer {
    /// A buffer whose `size` is this version's, everything else zero or NULL: what C's
    /// `ftarray_buffer_init()` returns, for Rust callers.
    pub fn init() -> Buffer {
        Buffer {
            size: size_of::<Buffer>(),
            ptr: std::ptr::null_mut(),
            len: 0,
            itemsize: 0,
            format: std::ptr::null(),
            typecode: 0,
            token: 0,
        }
    }
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
/// Versioning: set `out->size` first (`ftarray_buffer view = ftarray_buffer_init();`). Errors:
/// `FTARRAY_STATUS_INVALID_ARGUMENT` for a size this library does not know (nothing exported).
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for reads and writes of
/// `out->size` bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_export_acquire(a: *mut Handle, out: *mut Buffer) -> Status {
    ffi!(array a => {
        // Checked before the export is made: a refused struct leaks no export.
        // SAFETY: the contract: `out` is NULL or valid for reads and writes of its `size`.
        let size = unsafe { handle::versioned_size("out", out, BUFFER_V1) }?;
        let e = a.export_raw()?;
        registry::REGISTRY
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push((e.token, e.storage()));
        registry::counted(1);
        let buffer = Buffer {
            size,
            ptr: e.ptr.cast(),
            len: e.len,
            itemsize: e.itemsize,
            format: e.code.format_cstr().as_ptr(),
            typecode: handle::typecode_char(e.code),
            token: e.token,
        };
        // SAFETY: `out` holds `size` bytes (checked above, by the contract).
        unsafe { handle::write_versioned(out, &buffer, size) };
        Ok(())
    })
}

/// The size of the first version of `ftarray_buffer` (0.1), up to its last field: what
/// `ftarray_export_acquire` accepts at least, whatever later versions add.
const BUFFER_V1: usize = std::mem::offset_of!(Buffer, token) + size_of::<u64>();

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
#[must_use]
pub unsafe extern "C" fn ftarray_export_release(a: *mut Handle, token: u64) -> Status {
    ffi!(array a => {
        // The entry goes in the same critical section as the pin: a lookup never finds
        // storage that is no longer pinned (it could move, and its memory be reused). An
        // unknown token changes neither.
        let mut live = registry::REGISTRY
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        a.release_export(token)?;
        if let Some(at) = live.iter().position(|(t, _)| *t == token) {
            live.swap_remove(at);
        }
        drop(live);
        registry::uncounted(1);
        Ok(())
    })
}

/// Writes the number of live exports of `a` to `*out`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_export_count(a: *const Handle, out: *mut usize) -> Status {
    ffi!(array a, out out => {
        *out = a.export_count();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{ftarray_free, ftarray_from_bytes};
    use crate::registry::in_live_export;

    /// The registry knows an export's storage, padding to the end of its last unit included,
    /// from acquisition to release, and nothing else; a failed release keeps the entry.
    #[test]
    fn the_registry_covers_live_exports_only() {
        let mut a = std::ptr::null_mut();
        let mut e = std::mem::MaybeUninit::new(Buffer::init());
        // SAFETY: 12 readable bytes, local out-pointers; `a` is live until freed below.
        unsafe {
            assert_eq!(
                ftarray_from_bytes(b'I' as c_char, [0u8; 12].as_ptr().cast(), 12, &mut a),
                Status::Ok
            );
            assert_eq!(ftarray_export_acquire(a, e.as_mut_ptr()), Status::Ok);
        }
        // SAFETY: written by the successful call.
        let e = unsafe { e.assume_init() };
        let p = e.ptr.cast::<u8>().cast_const();
        let at = |k: usize| p.wrapping_add(k);
        assert!(in_live_export(p, 12));
        assert!(in_live_export(at(4), 8));
        assert!(in_live_export(at(9), 7)); // up to the end of the last element's unit
        assert!(!in_live_export(at(9), 8));
        assert!(!in_live_export(p.wrapping_sub(1), 2));
        assert!(!in_live_export(p, 0));
        // SAFETY: `a` is live; the token is not one of its exports.
        let bogus = unsafe { ftarray_export_release(a, e.token + 1) };
        assert_eq!(bogus, Status::UnknownExport);
        assert!(in_live_export(p, 12));
        // SAFETY: `a` is live and `e.token` its export; `a` is freed once, after the release.
        unsafe {
            assert_eq!(ftarray_export_release(a, e.token), Status::Ok);
            assert!(!in_live_export(p, 12));
            assert_eq!(ftarray_free(a), Status::Ok);
        }
    }
}
