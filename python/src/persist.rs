//! `ftarray.save(path, arr)` and `ftarray.load(path)`: atomic `.npy` persistence.

use crate::class::{PyArray, bulk};
use ftarray::DynArray;
use ftarray::npy::NpyError;
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;

/// A Python exception for a failed save or load: `OSError` (with the errno and file name, so
/// `FileNotFoundError` and `PermissionError` come out as such) when the operating system
/// refused, `ValueError` with the loader's message when the file is not an array ftarray reads.
fn npy_error(py: Python<'_>, e: NpyError) -> PyErr {
    let message = e.to_string();
    match &e {
        NpyError::Io { source, path, .. } => {
            let filename = path.as_ref().map(|p| p.display().to_string());
            match os_errno(py, source) {
                // OSError(errno, strerror, filename) picks the subclass for the errno.
                Some(errno) => {
                    let args = (errno, message, filename);
                    py.get_type::<PyOSError>()
                        .call1(args)
                        .map(PyErr::from_value)
                        .unwrap_or_else(|err| err)
                }
                None => PyOSError::new_err(message),
            }
        }
        NpyError::Alloc(_) => pyo3::exceptions::PyMemoryError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// The errno behind `e`: its own, one found down its `source()` chain (wrappers such as
/// tempfile's add the path and drop the code), or the one its kind stands for.
fn os_errno(py: Python<'_>, e: &std::io::Error) -> Option<i32> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(errno) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|e| e.raw_os_error())
        {
            return Some(errno);
        }
        cause = c.source();
    }
    use std::io::ErrorKind as K;
    let name = match e.kind() {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::IsADirectory => "EISDIR",
        K::NotADirectory => "ENOTDIR",
        K::StorageFull => "ENOSPC",
        K::ReadOnlyFilesystem => "EROFS",
        _ => return None,
    };
    py.import("errno").ok()?.getattr(name).ok()?.extract().ok()
}

/// `path` as `os.fspath` gives it: a `str`, `bytes` or `os.PathLike`.
fn fspath(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let os = path.py().import("os")?;
    let p = os.call_method1("fspath", (path,))?;
    if let Ok(s) = p.extract::<String>() {
        return Ok(PathBuf::from(s));
    }
    #[cfg(unix)]
    if let Ok(b) = p.extract::<Vec<u8>>() {
        use std::os::unix::ffi::OsStringExt;
        return Ok(PathBuf::from(std::ffi::OsString::from_vec(b)));
    }
    Err(PyTypeError::new_err(format!(
        "expected str, bytes or os.PathLike object, not {}",
        crate::class::tp_name(path)
    )))
}

/// Saves `arr` to `path` as a NumPy `.npy` file, atomically: a temporary file beside `path`
/// is written, flushed and fsynced, renamed over `path`, and the directory fsynced, so a
/// reader (or a crash) sees the old file or the new one, never a half-written one. The file
/// holds one snapshot of the array, even while other threads change it.
///
/// Raises `TypeError` if `arr` is not an `ftarray.array`, `ValueError` for an array of
/// characters (`'u'`, `'w'`: no `.npy` type), `OSError` if the file system refuses (the old
/// file is then untouched).
#[pyfunction]
pub fn save(py: Python<'_>, path: &Bound<'_, PyAny>, arr: &Bound<'_, PyAny>) -> PyResult<()> {
    let path = fspath(path)?;
    let arr = arr.cast::<PyArray>().map_err(|_| {
        PyTypeError::new_err(format!(
            "save() argument 2 must be ftarray.array, not {}",
            crate::class::tp_name(arr)
        ))
    })?;
    let inner = &arr.get().inner;
    // Always detached: the save waits for the disk.
    crate::lifecycle::detached(py, || inner.save_npy(&path)).map_err(|e| npy_error(py, e))
}

/// Loads the `.npy` file at `path` into a new `ftarray.array`, its type code picked from the
/// file (`b B h H i I q Q f d` for int8 … uint64, float32, float64; either byte order).
///
/// Raises `ValueError` with the loader's message for any file that is not a 1-D C-order array
/// of those types (a truncated file names the expected and actual sizes), `OSError` if the
/// file cannot be read.
#[pyfunction]
pub fn load<'py>(py: Python<'py>, path: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray>> {
    let path = fspath(path)?;
    let size = std::fs::metadata(&path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let inner: DynArray =
        bulk(py, size, || DynArray::load_npy(&path)).map_err(|e| npy_error(py, e))?;
    PyArray::new_base(py, inner)
}
