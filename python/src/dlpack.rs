//! DLPack (`__dlpack__`, `__dlpack_device__`), so that `numpy.from_dlpack(a)` (and torch, JAX,
//! CuPy's host path, ...) reads an `ftarray.array` or a `Snapshot` without a copy.
//!
//! A consumer that speaks DLPack 1.x (it passes `max_version=(1, x)`) gets a
//! `DLManagedTensorVersioned` in a "dltensor_versioned" capsule over a snapshot of the array,
//! flagged `DLPACK_FLAG_BITMASK_READ_ONLY`: numpy makes a read-only ndarray of it, which never
//! changes, while the array stays writable and resizable (`append`, `clear` work while the
//! ndarray lives). `copy=True` gives a copy instead, flagged `IS_COPIED` and writable.
//!
//! An older consumer (no `max_version`) can only take a `DLManagedTensor`, which has no
//! read-only flag: it could write the snapshot's memory, which other snapshots and the array's
//! readers share. So it gets a copy, its own to write; with `copy=False` the call raises
//! `BufferError` instead.
//!
//! The structs and capsules are in [`crate::cpython::dlpack`] and [`crate::cpython::capsule`].

use crate::cpython::capsule;
use crate::cpython::dlpack::KDL_CPU;
use ftarray::DynSnapshot;
use pyo3::exceptions::PyBufferError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// `__dlpack_device__()`: host memory.
pub(crate) fn device() -> (i32, i32) {
    (KDL_CPU, 0)
}

/// What a `__dlpack__` call asked for, checked.
pub(crate) struct Request {
    /// The consumer speaks DLPack 1.x.
    versioned: bool,
    copy: Option<bool>,
}

impl Request {
    /// Checks the arguments of `__dlpack__(*, stream, max_version, dl_device, copy)`.
    ///
    /// # Errors
    ///
    /// `BufferError` for a stream (host memory has none) or a device other than the host, and
    /// for `copy=False` from a consumer older than DLPack 1.0 (see the module docs).
    pub(crate) fn new(
        stream: Option<&Bound<'_, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Request> {
        if stream.is_some_and(|s| !s.is_none()) {
            return Err(PyBufferError::new_err(
                "ftarray: stream must be None for host (kDLCPU) memory",
            ));
        }
        if dl_device.is_some_and(|d| d != device()) {
            return Err(PyBufferError::new_err(format!(
                "ftarray: cannot export to DLPack device {:?}: the data is in host memory \
                 (kDLCPU, 0)",
                dl_device.unwrap_or_default()
            )));
        }
        let versioned = max_version.is_some_and(|(major, _)| major >= 1);
        if !versioned && copy == Some(false) {
            return Err(PyBufferError::new_err(
                "ftarray: a DLPack consumer older than 1.0 (no max_version) can only be given a \
                 copy, since its tensor has no read-only flag; pass copy=None or copy=True, or \
                 max_version=(1, 0)",
            ));
        }
        Ok(Request { versioned, copy })
    }

    /// The capsule for `snapshot`.
    pub(crate) fn capsule(
        self,
        py: Python<'_>,
        snapshot: DynSnapshot,
    ) -> PyResult<Bound<'_, PyCapsule>> {
        if self.versioned {
            capsule::dltensor_versioned(py, snapshot, self.copy == Some(true))
        } else {
            capsule::dltensor_legacy(py, &snapshot)
        }
    }
}
