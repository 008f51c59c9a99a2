use crate::boundary::{Fail, Status, ffi};
use crate::handle::Handle;
use ftarray::DynArray;
use std::ffi::{CStr, c_char};
use std::path::PathBuf;

/// The path named by the NUL-terminated string `path` (bytes taken as they are on Unix).
///
/// # Safety
///
/// `path` is a valid NUL-terminated string.
unsafe fn path_of(path: *const c_char) -> Result<PathBuf, Fail> {
    if path.is_null() {
        return Err(Fail::null("path"));
    }
    // SAFETY: the caller's contract: a valid NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| Fail::new(Status::InvalidArgument, "path is not valid UTF-8"))
    }
}

/// Saves a snapshot of `a` to the file `path` in NumPy's `.npy` format, atomically: the data
/// goes to a temporary file beside `path`, which is flushed, synced and renamed over `path`,
/// and then the directory is synced. Readers (and a crash at any moment) see the old file or
/// the new one, never a half-written one. The file holds the array as it was at one instant,
/// even while other threads write to it.
///
/// Errors: `FTARRAY_STATUS_IO` (the target is unchanged and no temporary file is left),
/// `FTARRAY_STATUS_BAD_FILE` for an array of characters (`u`, `w`), which has no `.npy`
/// element type, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: `a` and `path` stay the caller's. A save killed mid-way (a crash, `SIGKILL`) can
/// leave a file named `.NAME.XXXXXX.ftarray-tmp` beside the target: remove such files with
/// `ftarray_remove_stale_npy_temp_files(path, ...)` at start-up (docs/embedding.md, ".npy").
///
/// Threads: safe to call while other threads use `a`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `path` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_save_npy(a: *const Handle, path: *const c_char) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `path` is NULL (refused inside) or NUL-terminated.
        let path = unsafe { path_of(path) }?;
        a.save_npy(path)?;
        Ok(())
    })
}

/// Loads the `.npy` file `path` into a new array whose type code is picked from the file's
/// header: `b B h H i I q Q f d` for int8 … uint64, float32, float64 (either byte order; the
/// data is converted to native order). The file is validated before anything is allocated.
///
/// Errors: `FTARRAY_STATUS_IO` (cannot open or read), `FTARRAY_STATUS_BAD_FILE` (not a
/// 1-D C-order array of a supported type, or truncated: the message says what),
/// `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`. `*out` is untouched on
/// failure.
///
/// Ownership: on success the caller owns `*out` and frees it with `ftarray_free`.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_load_npy(path: *const c_char, out: *mut *mut Handle) -> Status {
    ffi!(out out => {
        // SAFETY: the contract: `path` is NULL (refused inside) or NUL-terminated.
        let path = unsafe { path_of(path) }?;
        *out = Handle::into_raw(DynArray::load_npy(path)?);
        Ok(())
    })
}

/// Removes the temporary files that saves to `path` killed before their rename left beside it
/// (`.NAME.XXXXXX.ftarray-tmp` in the same directory), and writes how many it removed to
/// `*removed` (if not NULL). The target itself is never touched.
///
/// Call it when no other thread or process may be saving to `path` at that moment (at
/// start-up, or under the application's own lock): the temporary file of a save in progress
/// looks the same, and removing it makes that save fail with `FTARRAY_STATUS_IO` (never a
/// damaged target).
///
/// Errors: `FTARRAY_STATUS_IO` (the directory cannot be listed or a file cannot be removed; one
/// already gone is fine), `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `path` must be NULL or a NUL-terminated string; `removed` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_remove_stale_npy_temp_files(
    path: *const c_char,
    removed: *mut usize,
) -> Status {
    ffi!(=> {
        // SAFETY: the contract: `path` is NULL (refused inside) or NUL-terminated.
        let path = unsafe { path_of(path) }?;
        let gone = ftarray::npy::remove_stale_temp_files(&path).map_err(|e| {
            Fail::new(
                Status::Io,
                format!("cannot remove the stale temporary files of {}: {e}", path.display()),
            )
        })?;
        // SAFETY: the contract: `removed` is NULL or valid for writes.
        if let Some(out) = unsafe { removed.as_mut() } {
            *out = gone.len();
        }
        Ok(())
    })
}
