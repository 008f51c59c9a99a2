//! `ftarray.Snapshot`: what `a.snapshot()` returns, an immutable view of an array at one
//! instant ([`DynSnapshot`]).
//!
//! It exposes its elements as a *read-only* buffer (`memoryview(s)`, `numpy.asarray(s)`,
//! `bytes(s)`), and through the same hand-offs as the array (Arrow, DLPack), and compares equal
//! to a sequence holding the same values. It pins nothing: the array stays writable and
//! resizable while snapshots of it live (a writer that would change the block a snapshot
//! shares writes a fresh block instead, once), so unlike a buffer export of the array it never
//! makes a resize fail. Taking one is cheap: it shares the array's block rather than copying
//! it, unless the array is exported (its holder may write it) or its writer lock stays busy.
//!
//! No `__array__`: numpy reads it through the buffer protocol or DLPack, both zero-copy and
//! read-only.

use crate::arrow;
use crate::class::PyArray;
use crate::convert::{OUT_OF_RANGE_C, index_error, to_object};
use crate::cpython::buffer::ExportsSnapshot;
use crate::dlpack;
use ftarray::{DynSnapshot, Kind, TypeCode, Value};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyBytes, PyCapsule, PyList, PyTuple};

/// An immutable view of an `ftarray.array` at one instant: `len`, `typecode`, `itemsize`,
/// `tolist()`, `tobytes()`, indexing, `==` with sequences, a read-only buffer, and the Arrow and
/// DLPack hand-offs. It pins nothing: the array stays writable and resizable.
#[pyclass(
    name = "Snapshot",
    module = "ftarray",
    frozen,
    immutable_type,
    sequence
)]
pub struct Snapshot {
    pub(crate) inner: DynSnapshot,
}

impl ExportsSnapshot for Snapshot {
    fn exported(&self) -> &DynSnapshot {
        &self.inner
    }
}

impl Snapshot {
    /// The values as a Python list.
    fn list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .inner
            .to_values()
            .into_iter()
            .map(|v| to_object(py, v))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }
}

/// The value of one element from its native-order bytes.
fn decode(code: TypeCode, b: &[u8]) -> Value {
    macro_rules! ne {
        ($t:ty) => {
            <$t>::from_ne_bytes(b.try_into().expect("one element"))
        };
    }
    match (code.kind(), b.len()) {
        (Kind::Signed, 1) => Value::Int(ne!(i8).into()),
        (Kind::Signed, 2) => Value::Int(ne!(i16).into()),
        (Kind::Signed, 4) => Value::Int(ne!(i32).into()),
        (Kind::Signed, _) => Value::Int(ne!(i64)),
        (Kind::Unsigned, 1) => Value::from(u64::from(ne!(u8))),
        (Kind::Unsigned, 2) => Value::from(u64::from(ne!(u16))),
        (Kind::Unsigned, 4) => Value::from(u64::from(ne!(u32))),
        (Kind::Unsigned, _) => Value::from(ne!(u64)),
        (Kind::Float, 4) => Value::Float(ne!(f32).into()),
        (Kind::Float, _) => Value::Float(ne!(f64)),
        (Kind::Char, 2) => Value::Char(ne!(u16).into()),
        (Kind::Char, _) => Value::Char(ne!(u32)),
    }
}

#[pymethods]
impl Snapshot {
    /// The typecode character of the array the snapshot was taken of.
    #[getter]
    fn typecode(&self) -> char {
        self.inner.typecode().as_char()
    }

    /// The size, in bytes, of one item.
    #[getter]
    fn itemsize(&self) -> usize {
        self.inner.itemsize()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        let n = self.inner.len() as isize;
        let at = if i < 0 { i + n } else { i };
        if !(0..n).contains(&at) {
            return Err(index_error(OUT_OF_RANGE_C));
        }
        let size = self.inner.itemsize();
        let start = at as usize * size;
        let item = decode(
            self.inner.typecode(),
            &self.inner.as_bytes()[start..start + size],
        );
        to_object(py, item)
    }

    /// The items as a list.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.list(py)
    }

    /// The items as machine values (a copy: `bytes` owns its memory).
    fn tobytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.as_bytes())
    }

    /// `(address, length)` of the snapshot's memory, as `array.buffer_info()` gives them: the
    /// address Arrow and DLPack consumers read (for a shared snapshot, the array's block at the
    /// instant it was taken).
    fn buffer_info(&self) -> (usize, usize) {
        (self.inner.as_bytes().as_ptr() as usize, self.inner.len())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ftarray.Snapshot('{}', {})",
            self.inner.typecode().as_char(),
            self.list(py)?.repr()?
        ))
    }

    /// Equal to a snapshot, an array (`ftarray` or standard), a list or a tuple holding equal
    /// values in the same order.
    fn __richcmp__<'py>(
        &self,
        other: &Bound<'py, PyAny>,
        op: CompareOp,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = other.py();
        if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
            return Ok(py.NotImplemented().into_bound(py));
        }
        let theirs = if let Ok(s) = other.cast::<Snapshot>() {
            s.get().list(py)?.into_any()
        } else if let Ok(a) = other.cast::<PyArray>() {
            a.get().tolist(py)?.into_any()
        } else if other.is_instance_of::<PyList>()
            || other.is_instance_of::<PyTuple>()
            || crate::interop::is_std_array(other)
        {
            py.get_type::<PyList>().call1((other,))?
        } else {
            return Ok(py.NotImplemented().into_bound(py));
        };
        let equal = self.list(py)?.as_any().eq(theirs)?;
        Ok(
            pyo3::types::PyBool::new(py, equal == matches!(op, CompareOp::Eq))
                .to_owned()
                .into_any(),
        )
    }

    /// The Arrow schema of the items (Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        arrow::schema_capsule(py, self.inner.typecode())
    }

    /// The items as an Arrow array (Arrow PyCapsule interface), without a copy.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        arrow::array_capsules(py, self.inner.clone())
    }

    /// The items as a DLPack capsule (see `ftarray.array.__dlpack__`).
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<&Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let request = dlpack::Request::new(stream, max_version, dl_device, copy)?;
        request.capsule(py, self.inner.clone())
    }

    /// `(kDLCPU, 0)`: the items are in host memory.
    fn __dlpack_device__(&self) -> (i32, i32) {
        dlpack::device()
    }
}
