//! The Arrow PyCapsule interface (`__arrow_c_schema__`, `__arrow_c_array__`), so that
//! `pyarrow.array(a)`, `polars.Series(a)`, DuckDB and any other consumer of the interface read
//! an `ftarray.array` (or a `Snapshot`) without a copy.
//!
//! `__arrow_c_array__` takes a snapshot ([`DynArray::snapshot`](ftarray::DynArray::snapshot):
//! it shares the array's block, so no element is copied) and exports it as an Arrow primitive
//! array without nulls ([`DynSnapshot::into_arrow`]): the consumer reads memory that never
//! changes, while the array's writers go on (a writer that would change the shared block writes
//! a fresh one, once), and the array stays resizable. The snapshot is released when the
//! consumer releases the Arrow array. Type codes map to Arrow's primitive types by kind and
//! size (`b` int8 ... `Q` uint64, `f` float32, `d` float64; `u`/`w` as unsigned integers of
//! their size, as the core's export has them). A `requested_schema` is not honoured (the
//! interface allows a producer to ignore it): the array's own type is what is exported.

use ftarray::{DynArray, DynSnapshot, TypeCode};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use crate::convert::error;
use crate::cpython::capsule;

/// An "arrow_schema" capsule for elements of `code`.
pub(crate) fn schema_capsule(py: Python<'_>, code: TypeCode) -> PyResult<Bound<'_, PyCapsule>> {
    // The schema of an (empty) export of that type: the schema does not depend on the data.
    let (_, schema) = DynArray::new(code)
        .snapshot()
        .and_then(DynSnapshot::into_arrow)
        .map_err(error)?;
    capsule::arrow_schema(py, schema)
}

/// `(schema capsule, array capsule)` over `snapshot`, no element copied.
pub(crate) fn array_capsules(
    py: Python<'_>,
    snapshot: DynSnapshot,
) -> PyResult<Bound<'_, PyTuple>> {
    let (array, schema) = snapshot.into_arrow().map_err(error)?;
    let schema = capsule::arrow_schema(py, schema)?;
    let array = capsule::arrow_array(py, array)?;
    PyTuple::new(py, [schema, array])
}
