//! The Python methods of `ftarray.array` (the class is in [`crate::class`]), a drop-in
//! `array.array` on [`DynArray`].
//!
//! The Python object is a frozen pyclass holding one [`DynArray`]; the core does all the
//! synchronisation (no lock around it here, no runtime borrow flags). Every method follows the
//! same shape:
//!
//! 1. convert every Python argument (`__index__`, `__float__`, iterables, buffers) into plain
//!    Rust values — this is where Python code may run, and nothing is locked or pinned yet;
//! 2. make one core call, which takes effect at one instant (its linearization point) and
//!    resolves indices against the length at that instant;
//! 3. turn the result into Python objects.
//!
//! So a callback that empties or shrinks the very array being written (`__index__` calling
//! `a.clear()`) runs entirely before step 2: it cannot deadlock, cannot leave a dangling
//! pointer behind, and the write then sees the shortened array (and reports `IndexError` if the
//! index no longer exists), as any other concurrent `clear` would.
//!
//! Where the standard module's behaviour is defined by `Modules/arraymodule.c`, the comments
//! name the C function mirrored. Deliberate differences (all documented in the README):
//! `extend(iterable)` and the iterable constructor are all-or-nothing (the standard type keeps
//! the items appended before a bad one), and `__sizeof__` reports this object's own layout.

use crate::arrow;
use crate::buffer;
use crate::class::{DETACH_BYTES, PyArray, bulk, tp_name};
use crate::compat;
use crate::convert::{
    self, ASSIGNMENT_OUT_OF_RANGE_C, EXPORTED, Scalar, error, index_error, is_index,
    slice_index_arg, ssize_arg, to_object, to_slice, to_value,
};
use crate::cpython::slots::SlotError;
use crate::cpython::{self, Utf};
use crate::dlpack;
use crate::interop;
use crate::iter::ArrayIter;
use crate::operators;
use crate::pickle;
use crate::snapshot::Snapshot;
use ftarray::{CompareOp, DynArray, Error, Kind, Slice, TypeCode, Value};
use pyo3::exceptions::{
    PyBufferError, PyDeprecationWarning, PyEOFError, PyIndexError, PyMemoryError, PyRuntimeError,
    PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp as PyCompareOp;
use pyo3::types::{
    PyBytes, PyCapsule, PyDict, PyGenericAlias, PyList, PySlice, PyString, PyTuple, PyType,
};

/// What a search (`count`, `index`, `remove`, `in`) compares elements with.
enum Probe {
    /// A value the core can compare exactly, as Python's `==` between the element and it would.
    Exact(Value),
    /// Equal to no element (a `None`, a `str` in a numeric array, a fraction in an int array).
    Never,
    /// Anything else: compared element by element with Python's `==` on a snapshot.
    Python,
}

/// Argument Clinic's `_PyArg_CheckPositional`: `min..=max` positional arguments, with its
/// messages ("pop expected at most 1 argument, got 2").
fn check_positional(name: &str, args: &Bound<'_, PyTuple>, min: usize, max: usize) -> PyResult<()> {
    let n = args.len();
    let (bound, limit) = match n {
        n if n < min => (if min == max { "" } else { "at least " }, min),
        n if n > max => (if min == max { "" } else { "at most " }, max),
        _ => return Ok(()),
    };
    let s = if limit == 1 { "" } else { "s" };
    Err(PyTypeError::new_err(format!(
        "{name} expected {bound}{limit} argument{s}, got {n}"
    )))
}

/// Whether `value` converts to a Python object without error: anything but a character that is
/// no code point (`u`/`w` arrays get those only through `frombytes` or `byteswap`). CPython
/// converts a `wchar_t`/`Py_UCS4` through a C `int`, so anything above `0x10FFFF`, including
/// what reads as negative, is invalid.
fn is_valid(value: Value) -> bool {
    match value {
        Value::Char(c) => c <= Value::MAX_CHAR,
        _ => true,
    }
}

/// `array_richcompare` on two snapshots, at least one of a character array holding a value
/// that is no code point.
fn compare_chars<'py>(
    py: Python<'py>,
    (code_a, a): (TypeCode, &[Value]),
    (code_b, b): (TypeCode, &[Value]),
    op: PyCompareOp,
) -> PyResult<Bound<'py, PyAny>> {
    let as_bool = |x: bool| Ok(pyo3::types::PyBool::new(py, x).to_owned().into_any());
    if a.len() != b.len() && matches!(op, PyCompareOp::Eq | PyCompareOp::Ne) {
        return as_bool(matches!(op, PyCompareOp::Ne));
    }
    let sizes = |x: usize, y: usize| op.matches(x.cmp(&y));
    if code_a == code_b {
        // `compareitems`: the raw elements, `wchar_t` (signed) for `u`, `Py_UCS4` for `w`.
        let raw = |v: &Value| match (code_a, v) {
            (TypeCode::WChar, Value::Char(c)) => i64::from(*c as i32),
            (_, Value::Char(c)) => i64::from(*c),
            _ => 0,
        };
        return match a.iter().zip(b).find(|(x, y)| raw(x) != raw(y)) {
            None => as_bool(sizes(a.len(), b.len())),
            Some((x, y)) => as_bool(op.matches(raw(x).cmp(&raw(y)))),
        };
    }
    for (x, y) in a.iter().zip(b) {
        let vx = to_object(py, *x)?;
        let vy = to_object(py, *y)?;
        if !vx.eq(&vy)? {
            return match op {
                PyCompareOp::Eq => as_bool(false),
                PyCompareOp::Ne => as_bool(true),
                _ => vx.rich_compare(vy, op),
            };
        }
    }
    as_bool(sizes(a.len(), b.len()))
}

impl PyArray {
    /// Converts every item of an iterable (all before touching any array).
    fn collect(iterable: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Vec<Value>> {
        let mut out = Vec::new();
        for item in iterable.try_iter()? {
            out.push(to_value(&item?, code)?);
        }
        Ok(out)
    }

    /// Converts the items of a list or tuple, from a snapshot of it (a list may change while
    /// its items' `__index__` run).
    fn collect_sequence(seq: &Bound<'_, PyAny>, code: TypeCode) -> PyResult<Vec<Value>> {
        // The tuple itself, or a copy of the list taken under its own lock.
        let items = cpython::sequence_tuple(seq)?;
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            out.push(to_value(&item, code)?);
        }
        Ok(out)
    }

    /// The elements of a `str`, as code points (`u` and `w` store one per element).
    fn code_points(s: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
        let s = s.cast::<PyString>()?;
        Ok(cpython::code_points(s)?
            .into_iter()
            .map(Value::Char)
            .collect())
    }

    /// What a search for `v` compares with.
    fn probe(&self, v: &Bound<'_, PyAny>) -> Probe {
        let code = self.code();
        let scalar = convert::classify(v);
        if code.kind() == Kind::Char {
            return match scalar {
                Scalar::Str(Some(c)) => Probe::Exact(Value::Char(c)),
                // A str of another length, a number or None equals no character.
                Scalar::Str(None)
                | Scalar::Int(_)
                | Scalar::UInt(_)
                | Scalar::BigInt
                | Scalar::Float(_)
                | Scalar::None => Probe::Never,
                Scalar::Other => Probe::Python,
            };
        }
        match scalar {
            Scalar::Int(i) => Probe::Exact(Value::Int(i)),
            Scalar::UInt(u) => Probe::Exact(Value::UInt(u)),
            // Beyond 64 bits: equal to no integer element, perhaps to a float element.
            Scalar::BigInt if code.is_integer() => Probe::Never,
            Scalar::BigInt => Probe::Python,
            Scalar::Float(x) if !code.is_integer() => Probe::Exact(Value::Float(x)),
            // An int element equals a float only if the float is that integer.
            Scalar::Float(x) if x.fract() != 0.0 || !x.is_finite() => Probe::Never,
            Scalar::Float(x) if (-(2f64.powi(63))..2f64.powi(63)).contains(&x) => {
                Probe::Exact(Value::Int(x as i64))
            }
            Scalar::Float(x) if (0.0..2f64.powi(64)).contains(&x) => {
                Probe::Exact(Value::UInt(x as u64))
            }
            Scalar::Float(_) | Scalar::Str(_) | Scalar::None => Probe::Never,
            Scalar::Other => Probe::Python,
        }
    }

    /// Whether a search must go element by element over a snapshot: to call Python's `==`, or
    /// in a character array, where (as in the standard module's searches) an element that is
    /// no valid code point raises `ValueError` when the search reaches it.
    fn slow_search(&self, probe: &Probe) -> bool {
        matches!(probe, Probe::Python) || self.code().kind() == Kind::Char
    }

    /// The indices (of one snapshot) whose element equals `v`, up to `limit` matches,
    /// searching `start..stop` (clamped as `index` does). Runs `v.__eq__` for a Python probe,
    /// so nothing is held while it does.
    fn matches(
        &self,
        py: Python<'_>,
        v: &Bound<'_, PyAny>,
        probe: &Probe,
        start: isize,
        stop: isize,
        limit: usize,
    ) -> PyResult<Vec<usize>> {
        let values = self.snapshot_values(py);
        let range = ftarray::dynamic::search_range(start, stop, values.len());
        let mut found = Vec::new();
        for (i, value) in values.iter().enumerate().take(range.end).skip(range.start) {
            let hit = match probe {
                Probe::Python => to_object(py, *value)?.eq(v)?,
                Probe::Exact(x) if is_valid(*value) => x == value,
                Probe::Never if is_valid(*value) => false,
                // An invalid code point: its conversion raises, as the standard module's does.
                Probe::Exact(_) | Probe::Never => {
                    to_object(py, *value)?;
                    false
                }
            };
            if hit {
                found.push(i);
                if found.len() == limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// CPython's `array_resize` refuses before anything else when exported: used where the
    /// standard module checks the export before converting (`fromlist`).
    fn check_not_exported(&self) -> PyResult<()> {
        if self.inner.export_count() > 0 {
            return Err(PyBufferError::new_err(EXPORTED));
        }
        Ok(())
    }

    /// `values` appended (all converted already), detached when many.
    fn extend_values(&self, py: Python<'_>, values: &[Value]) -> PyResult<()> {
        let bytes = values.len() * self.inner.itemsize();
        bulk(py, bytes, || self.inner.extend_values(values)).map_err(error)
    }

    /// `self[slice]`, a new array of the base type (detached when the slice is large).
    pub(crate) fn slice<'py>(
        &self,
        py: Python<'py>,
        slice: Slice,
    ) -> PyResult<Bound<'py, PyArray>> {
        // Whether to detach: bounds from the front with a positive step give an upper bound on
        // the selection without reading the length (which costs a read of the array).
        let selected = match (slice.start, slice.stop, slice.step) {
            (Some(start), Some(stop), step) if start >= 0 && stop >= 0 => {
                let span = stop.saturating_sub(start).max(0) as usize;
                match step {
                    // No division for the common step (a `div` is 20-40 cycles).
                    None | Some(1) => span,
                    Some(step) if step > 1 => span.div_ceil(step as usize),
                    Some(_) => usize::MAX,
                }
            }
            _ => usize::MAX,
        };
        let selected = if selected.saturating_mul(self.inner.itemsize()) >= DETACH_BYTES {
            slice.indices(self.inner.len()).map_or(0, |r| r.len)
        } else {
            selected
        };
        let bytes = selected * self.inner.itemsize();
        let part = if bytes < DETACH_BYTES {
            self.small_read(
                py,
                |inner, hold| inner.get_slice_new_held(hold, &slice),
                |inner| inner.get_slice_new(&slice),
            )
        } else {
            bulk(py, bytes, || self.inner.get_slice_new(&slice))
        }
        .map_err(error)?;
        PyArray::new_base_from(py, part)
    }

    /// The elements as one Python `str` (`u` and `w` arrays), from a snapshot of values.
    fn unicode_of<'py>(
        py: Python<'py>,
        code: TypeCode,
        values: &[Value],
    ) -> PyResult<Bound<'py, PyAny>> {
        let units: Vec<u32> = values
            .iter()
            .map(|v| match v {
                Value::Char(c) => *c,
                _ => 0,
            })
            .collect();
        if code == TypeCode::WChar {
            // `u`: `PyUnicode_FromWideChar`, as `array_array_tounicode_impl` (a 4-byte
            // wchar_t: one element per code point).
            cpython::str_from_wchar(py, &units)
        } else {
            // `w` (native-order UTF-32 decoding, as the standard module does).
            let bytes: &[u8] = bytemuck::cast_slice(&units);
            cpython::decode_utf(py, Utf::Utf32, bytes, None, 0)
        }
    }

    /// `frombytes` after the argument checks: `bytes` is whole-element data.
    fn extend_from_bytes(&self, py: Python<'_>, bytes: &[u8]) -> PyResult<()> {
        if bytes.len() % self.inner.itemsize() != 0 {
            return Err(PyValueError::new_err(
                "bytes length not a multiple of item size",
            ));
        }
        bulk(py, bytes.len(), || self.inner.extend_bytes(bytes)).map_err(error)
    }

    /// `array_new`: the constructor proper, after the keyword check.
    pub(crate) fn construct(args: &Bound<'_, PyTuple>) -> PyResult<ftarray::NewArray> {
        let py = args.py();
        let (c, initial) = cpython::parse_array_new_args(args)?;
        let audit_arg = initial.clone().unwrap_or_else(|| py.None().into_bound(py));
        cpython::audit_char_object(py, c"array.__new__", c, &audit_arg)?;
        let ch = char::from_u32(c as u32).unwrap_or('\0');
        if ch == 'u' && compat::u_is_deprecated() {
            PyErr::warn(
                py,
                &py.get_type::<PyDeprecationWarning>(),
                c"The 'u' type code is deprecated and will be removed in Python 3.16",
                1,
            )?;
        }
        let is_unicode = ch == 'u' || (ch == 'w' && compat::has_w());
        let mut initial = initial;
        if let Some(init) = &initial {
            if !is_unicode {
                if init.is_instance_of::<PyString>() {
                    return Err(PyTypeError::new_err(format!(
                        "cannot use a str to initialize an array with typecode '{ch}'"
                    )));
                }
                if let Some(other) = interop::array_arg(init)? {
                    if compat::is_unicode(other.get().code()) {
                        return Err(PyTypeError::new_err(format!(
                            "cannot use a unicode array to initialize an array with typecode \
                             '{ch}'"
                        )));
                    }
                }
            }
        }
        let mut iterator = None;
        // An array (ours or a standard one) of this type code: its elements, copied.
        let mut same_kind = None;
        if let Some(init) = &initial {
            same_kind = interop::array_arg(init)?.filter(|a| a.get().code().as_char() == ch);
            let direct = init.is_instance_of::<PyList>()
                || init.is_instance_of::<pyo3::types::PyByteArray>()
                || init.is_instance_of::<PyBytes>()
                || init.is_instance_of::<PyTuple>()
                || (is_unicode && init.is_instance_of::<PyString>())
                || same_kind.is_some();
            if !direct {
                iterator = Some(init.try_iter()?);
                initial = None;
            }
        }
        let code = compat::typecode(ch)
            .ok_or_else(|| PyValueError::new_err(compat::bad_typecode_message()))?;
        let inner = match &initial {
            // `array(code)`: nothing to build before the object exists.
            None if iterator.is_none() => return Ok(ftarray::NewArray::empty(code)),
            None => DynArray::new(code),
            Some(_) if same_kind.is_some() => {
                let other = same_kind.as_ref().map(|a| a.get()).expect("checked");
                return other.inner.try_clone_new().map_err(error);
            }
            Some(init) if init.is_instance_of::<PyList>() || init.is_instance_of::<PyTuple>() => {
                DynArray::from_values(code, &Self::collect_sequence(init, code)?).map_err(error)?
            }
            Some(init) if init.is_instance_of::<PyString>() => {
                DynArray::from_values(code, &Self::code_points(init)?).map_err(error)?
            }
            Some(init) => {
                // bytes or bytearray: `frombytes`, straight into the new array's block (a
                // `bytes` is read in place; a `bytearray`, which another thread may write, is
                // copied safely first), detached when large.
                let itemsize = code.itemsize();
                buffer::with_simple_buffer(init, itemsize, |bytes| {
                    if bytes.len() % itemsize != 0 {
                        return Err(PyValueError::new_err(
                            "bytes length not a multiple of item size",
                        ));
                    }
                    bulk(py, bytes.len(), || DynArray::from_bytes(code, bytes)).map_err(error)
                })?
            }
        };
        if let Some(it) = iterator {
            let mut values = Vec::new();
            for item in it {
                values.push(to_value(&item?, code)?);
            }
            inner.extend_values(&values).map_err(error)?;
        }
        // Just made, so its storage moves with it (no copy).
        inner.into_new().map_err(error)
    }
}

impl PyArray {
    /// A copy of the array, of the base type (`__copy__`, `__deepcopy__`, and the fast
    /// `__copy__` method that replaces PyO3's).
    pub(crate) fn copy_base<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray>> {
        let bytes = self.length(py) * self.inner.itemsize();
        let copy = if bytes < DETACH_BYTES {
            self.small_read(
                py,
                |inner, hold| inner.try_clone_new_held(hold),
                DynArray::try_clone_new,
            )
        } else {
            bulk(py, bytes, || self.inner.try_clone_new())
        }
        .map_err(error)?;
        PyArray::new_base_from(py, copy)
    }

    /// `a.pop(i)` once the argument is an index: the element at `i` (negative from the end),
    /// removed. The fast `pop` slot calls it for `a.pop()`.
    pub(crate) fn pop_at<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        if self.code().kind() == Kind::Char {
            // The standard module converts the element before removing it, so an element that
            // is no valid code point raises and stays. (A concurrent writer may still swap one
            // in between this look and the removal; then it is removed and the error raised.)
            if let Ok(v) = self.inner.get(i) {
                if !is_valid(v) {
                    to_object(py, v)?;
                }
            }
        }
        match self.inner.pop(i) {
            Ok(v) => to_object(py, v),
            Err(Error::Empty) => Err(PyIndexError::new_err("pop from empty array")),
            Err(Error::SignedIndexOutOfRange { .. }) => {
                Err(PyIndexError::new_err("pop index out of range"))
            }
            Err(e) => Err(error(e)),
        }
    }
}

#[pymethods]
impl PyArray {
    #[new]
    #[classmethod]
    #[pyo3(signature = (*args, **kwargs))]
    fn py_new(
        cls: &Bound<'_, PyType>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyArray> {
        if kwargs.is_some_and(|k| !k.is_empty()) {
            let base = cls.py().get_type::<PyArray>();
            let same_init = cls.is(&base) || cpython::same_init(cls, &base);
            if same_init {
                return Err(PyTypeError::new_err(
                    "ftarray.array() takes no keyword arguments",
                ));
            }
        }
        PyArray::construct(args).map(PyArray::from_new)
    }

    /// The typecode character used to create the array.
    #[getter]
    fn typecode(&self) -> char {
        self.code().as_char()
    }

    /// The size, in bytes, of one array item.
    #[getter]
    fn itemsize(&self) -> usize {
        self.inner.itemsize()
    }

    /// Append new value v to the end of the array.
    #[pyo3(signature = (v, /))]
    fn append(&self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let x = to_value(v, self.code())?;
        self.inner.push(x).map_err(error)
    }

    /// Return a tuple (address, length) giving the current memory address and the length in
    /// items of the buffer used to hold array's contents.
    fn buffer_info(&self) -> PyResult<(usize, usize)> {
        // The address and the length at one instant: a momentary export pins the storage
        // while both are read. (A resize racing this call may see the export and fail with
        // BufferError; see py-needs.md for the core call that would avoid it.)
        let export = self.inner.export_raw().map_err(error)?;
        self.inner.release_export(export.token).map_err(error)?;
        let address = if export.len == 0 && self.inner.capacity() == 0 {
            0
        } else {
            export.ptr as usize
        };
        Ok((address, export.len))
    }

    /// Byteswap all items of the array.
    fn byteswap(&self, py: Python<'_>) -> PyResult<()> {
        bulk(py, self.nbytes(), || self.inner.byteswap()).map_err(error)
    }

    /// Remove all items from the array.
    fn clear(&self) -> PyResult<()> {
        self.inner.clear().map_err(error)
    }

    /// Return a copy of the array.
    fn __copy__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray>> {
        self.copy_base(py)
    }

    /// Return a copy of the array.
    #[pyo3(signature = (unused, /))]
    fn __deepcopy__<'py>(
        &self,
        py: Python<'py>,
        unused: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray>> {
        let _ = unused;
        self.__copy__(py)
    }

    /// Return number of occurrences of v in the array.
    #[pyo3(signature = (v, /))]
    fn count(&self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<usize> {
        match self.probe(v) {
            p if self.slow_search(&p) => {
                Ok(self.matches(py, v, &p, 0, isize::MAX, usize::MAX)?.len())
            }
            Probe::Exact(x) => Ok(bulk(py, self.nbytes(), || self.inner.count(x))),
            Probe::Never | Probe::Python => Ok(0),
        }
    }

    /// Append items to the end of the array.
    #[pyo3(signature = (bb, /))]
    pub(crate) fn extend(&self, py: Python<'_>, bb: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Some(other) = interop::array_arg(bb)? {
            let other = other.get();
            if other.code() != self.code() {
                return Err(PyTypeError::new_err(
                    "can only extend with array of same kind",
                ));
            }
            return bulk(py, other.nbytes(), || self.inner.extend(&other.inner)).map_err(error);
        }
        let values = if bb.is_exact_instance_of::<PyList>() || bb.is_exact_instance_of::<PyTuple>()
        {
            Self::collect_sequence(bb, self.code())?
        } else {
            Self::collect(bb, self.code())?
        };
        self.extend_values(py, &values)
    }

    /// Read n objects from the file object f and append them to the end of the array.
    #[pyo3(signature = (f, n, /))]
    fn fromfile(&self, py: Python<'_>, f: &Bound<'_, PyAny>, n: &Bound<'_, PyAny>) -> PyResult<()> {
        let n = ssize_arg(n)?;
        if n < 0 {
            return Err(PyValueError::new_err("negative count"));
        }
        let itemsize = self.inner.itemsize() as isize;
        if n > isize::MAX / itemsize {
            return Err(PyMemoryError::new_err(()));
        }
        let nbytes = n * itemsize;
        let b = f.call_method1("read", (nbytes,))?;
        let Ok(b) = b.cast_into::<PyBytes>() else {
            return Err(PyTypeError::new_err("read() didn't return bytes"));
        };
        let not_enough = b.as_bytes().len() as isize != nbytes;
        self.frombytes(py, &b)?;
        if not_enough {
            return Err(PyEOFError::new_err("read() didn't return enough bytes"));
        }
        Ok(())
    }

    /// Append items to array from list.
    #[pyo3(signature = (list, /))]
    fn fromlist(&self, py: Python<'_>, list: &Bound<'_, PyAny>) -> PyResult<()> {
        let Ok(list) = list.cast::<PyList>() else {
            return Err(PyTypeError::new_err("arg must be list"));
        };
        let n = list.len();
        if n == 0 {
            return Ok(());
        }
        self.check_not_exported()?;
        // A snapshot of the items; converting one may run code that changes the list, which
        // the standard module reports (and so do we) instead of reading past its end.
        let items: Vec<Bound<'_, PyAny>> = list.iter().take(n).collect();
        let mut values = Vec::with_capacity(n);
        for item in &items {
            values.push(to_value(item, self.code())?);
            if list.len() != n {
                return Err(PyRuntimeError::new_err(
                    "list changed size during iteration",
                ));
            }
        }
        if items.len() != n {
            return Err(PyRuntimeError::new_err(
                "list changed size during iteration",
            ));
        }
        self.extend_values(py, &values)
    }

    /// Appends items from the string, interpreting it as an array of machine values, as if it
    /// had been read from a file using the fromfile() method.
    #[pyo3(signature = (buffer, /))]
    fn frombytes(&self, py: Python<'_>, buffer: &Bound<'_, PyAny>) -> PyResult<()> {
        let itemsize = self.inner.itemsize();
        buffer::with_simple_buffer(buffer, itemsize, |bytes| self.extend_from_bytes(py, bytes))
    }

    /// Extends this array with data from the unicode string ustr.
    #[pyo3(signature = (ustr, /))]
    fn fromunicode(&self, py: Python<'_>, ustr: &Bound<'_, PyAny>) -> PyResult<()> {
        if !ustr.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!(
                "fromunicode() argument must be str, not {}",
                ustr.get_type().name()?
            )));
        }
        if !compat::is_unicode(self.code()) {
            return Err(PyValueError::new_err(compat::fromunicode_message()));
        }
        let values = Self::code_points(ustr)?;
        self.extend_values(py, &values)
    }

    /// Return index of first occurrence of v in the array.
    #[pyo3(signature = (*args))]
    fn index(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<usize> {
        check_positional("index", args, 1, 3)?;
        let v = args.get_item(0)?;
        let v = &v;
        let start = match args.len() {
            n if n > 1 => slice_index_arg(&args.get_item(1)?)?,
            _ => 0,
        };
        let stop = match args.len() {
            3 => slice_index_arg(&args.get_item(2)?)?,
            _ => isize::MAX,
        };
        let not_found = || PyValueError::new_err("array.index(x): x not in array");
        match self.probe(v) {
            p if self.slow_search(&p) => self
                .matches(py, v, &p, start, stop, 1)?
                .first()
                .copied()
                .ok_or_else(not_found),
            Probe::Exact(x) => bulk(py, self.nbytes(), || self.inner.index(x, start, stop))
                .map_err(|_| not_found()),
            Probe::Never | Probe::Python => Err(not_found()),
        }
    }

    /// Insert a new item v into the array before position i.
    #[pyo3(signature = (i, v, /))]
    fn insert(&self, i: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let i = ssize_arg(i)?;
        let x = to_value(v, self.code())?;
        self.inner.insert(i, x).map_err(error)
    }

    /// Return the i-th element and delete it from the array.
    #[pyo3(signature = (*args))]
    pub(crate) fn pop<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_positional("pop", args, 0, 1)?;
        let i = match args.len() {
            1 => ssize_arg(&args.get_item(0)?)?,
            _ => -1,
        };
        self.pop_at(py, i)
    }

    /// Remove the first occurrence of v in the array.
    #[pyo3(signature = (v, /))]
    fn remove(&self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let not_found = || PyValueError::new_err("array.remove(x): x not in array");
        let probe = self.probe(v);
        if self.slow_search(&probe) {
            let i = *self
                .matches(py, v, &probe, 0, isize::MAX, 1)?
                .first()
                .ok_or_else(not_found)? as isize;
            // As `array_del_slice(self, i, i+1)`: the position found, clamped.
            return self.inner.del_slice(Slice::range(i, i + 1)).map_err(error);
        }
        let Probe::Exact(x) = probe else {
            return Err(not_found());
        };
        match bulk(py, self.nbytes(), || self.inner.remove_value(x)) {
            Ok(_) => Ok(()),
            Err(Error::NotFound) => Err(not_found()),
            Err(e) => Err(error(e)),
        }
    }

    /// Reverse the order of the items in the array.
    fn reverse(&self, py: Python<'_>) -> PyResult<()> {
        bulk(py, self.nbytes(), || self.inner.reverse()).map_err(error)
    }

    /// Write all items (as machine values) to the file object f.
    #[pyo3(signature = (f, /))]
    fn tofile(&self, py: Python<'_>, f: &Bound<'_, PyAny>) -> PyResult<()> {
        // One snapshot, then the writes (Python calls) with nothing held: a `clear` racing
        // this call cannot cut the output short or make it read freed memory.
        let bytes = self.snapshot_bytes(py);
        const BLOCKSIZE: usize = 64 * 1024;
        for block in bytes.chunks(BLOCKSIZE) {
            f.call_method1("write", (PyBytes::new(py, block),))?;
        }
        Ok(())
    }

    /// Convert array to an ordinary list with the same items.
    pub(crate) fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let values = self.snapshot_values(py);
        let items = values
            .iter()
            .map(|v| to_object(py, *v))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Convert the array to an array of machine values and return the bytes representation.
    pub(crate) fn tobytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        loop {
            let n = self.inner.len() * self.inner.itemsize();
            let filled = cpython::bytes_filled_by(py, n, |buf| {
                bulk(py, n, || self.inner.copy_bytes_to(buf))
            })?;
            match filled {
                // All of it, or the array shrank between reading its length and copying it.
                Ok(bytes) => return Ok(bytes),
                // It grew: ask again with its new size.
                Err(Error::LengthMismatch { .. }) => continue,
                Err(e) => return Err(error(e)),
            }
        }
    }

    /// An immutable view of the array at this instant (`ftarray.Snapshot`): a read-only buffer
    /// that never changes, and pins nothing: the array stays writable and resizable.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, Snapshot>> {
        Bound::new(py, self.take_snapshot(py)?)
    }

    /// The Arrow schema of the items (Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        arrow::schema_capsule(py, self.code())
    }

    /// A snapshot of the items as an Arrow array (Arrow PyCapsule interface), without a copy:
    /// the consumer's data never changes, while the array stays writable and resizable.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        arrow::array_capsules(py, self.take_snapshot(py)?.inner)
    }

    /// A snapshot of the items as a DLPack capsule: DLPack 1.x (`max_version=(1, x)`) gets a
    /// read-only tensor over the snapshot, no copy; an older consumer gets a copy (its tensor
    /// has no read-only flag), or `BufferError` with `copy=False`.
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
        request.capsule(py, self.take_snapshot(py)?.inner)
    }

    /// `(kDLCPU, 0)`: the items are in host memory.
    fn __dlpack_device__(&self) -> (i32, i32) {
        dlpack::device()
    }

    /// Convert the array to a unicode string.
    fn tounicode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if !compat::is_unicode(self.code()) {
            return Err(PyValueError::new_err(compat::tounicode_message()));
        }
        Self::unicode_of(py, self.code(), &self.snapshot_values(py))
    }

    /// Size of the array in memory, in bytes.
    fn __sizeof__(slf: &Bound<'_, Self>) -> usize {
        let basic = cpython::basic_size(slf.as_any());
        let a = &slf.get().inner;
        basic + a.capacity() * a.itemsize()
    }

    /// Return state information for pickling.
    #[pyo3(signature = (value, /))]
    fn __reduce_ex__<'py>(
        slf: &Bound<'py, Self>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        pickle::reduce_ex(slf, value)
    }

    /// See PEP 585.
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyGenericAlias>> {
        PyGenericAlias::new(cls.py(), cls.as_any(), item)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(i) = cpython::exact_index(item) {
            return self.item(py, i).map_err(SlotError::into_pyerr);
        }
        if is_index(item) {
            let i = convert::as_index(item)?;
            return self.item(py, i).map_err(SlotError::into_pyerr);
        }
        if let Ok(slice) = item.cast::<PySlice>() {
            return Ok(self.slice(py, to_slice(slice)?)?.into_any());
        }
        Err(PyTypeError::new_err("array indices must be integers"))
    }

    fn __setitem__(&self, item: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if is_index(item) {
            let i = convert::as_index(item)?;
            let out_of_range = || index_error(ASSIGNMENT_OUT_OF_RANGE_C);
            let x = match to_value(value, self.code()) {
                Ok(x) => x,
                // As CPython, a bad index is reported before a bad value.
                Err(e) => {
                    let len = self.inner.len();
                    return Err(if ftarray::dynamic::resolve_index(i, len).is_none() {
                        out_of_range()
                    } else {
                        e
                    });
                }
            };
            return match self.inner.set(i, x) {
                Ok(()) => Ok(()),
                Err(Error::SignedIndexOutOfRange { .. }) => Err(out_of_range()),
                Err(e) => Err(error(e)),
            };
        }
        let Ok(slice) = item.cast::<PySlice>() else {
            return Err(PyTypeError::new_err("array indices must be integers"));
        };
        let slice = to_slice(slice)?;
        let Some(other) = interop::array_arg(value)? else {
            return Err(PyTypeError::new_err(format!(
                "can only assign array (not \"{}\") to array slice",
                tp_name(value)
            )));
        };
        let other = other.get();
        bulk(value.py(), other.nbytes().max(self.nbytes()), || {
            self.inner.set_slice(slice, &other.inner)
        })
        .map_err(error)
    }

    fn __delitem__(&self, item: &Bound<'_, PyAny>) -> PyResult<()> {
        if is_index(item) {
            let i = convert::as_index(item)?;
            return match self.inner.pop(i) {
                Ok(_) => Ok(()),
                Err(Error::Empty | Error::SignedIndexOutOfRange { .. }) => {
                    Err(index_error(ASSIGNMENT_OUT_OF_RANGE_C))
                }
                Err(e) => Err(error(e)),
            };
        }
        let Ok(slice) = item.cast::<PySlice>() else {
            return Err(PyTypeError::new_err("array indices must be integers"));
        };
        self.inner.del_slice(to_slice(slice)?).map_err(error)
    }

    fn __contains__(&self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<bool> {
        match self.probe(v) {
            p if self.slow_search(&p) => Ok(!self.matches(py, v, &p, 0, isize::MAX, 1)?.is_empty()),
            Probe::Exact(x) => Ok(bulk(py, self.nbytes(), || self.inner.contains(x))),
            Probe::Never | Probe::Python => Ok(false),
        }
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, ArrayIter>> {
        Bound::new(slf.py(), ArrayIter::new(slf.clone().unbind()))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let name = slf.get_type().name()?;
        let a = slf.get();
        let code = a.code();
        let values = a.snapshot_values(py);
        if values.is_empty() {
            return Ok(format!("{name}('{}')", code.as_char()));
        }
        let items = if compat::is_unicode(code) {
            Self::unicode_of(py, code, &values)?
        } else {
            let objects = values
                .iter()
                .map(|v| to_object(py, *v))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, objects)?.into_any()
        };
        Ok(format!("{name}('{}', {})", code.as_char(), items.repr()?))
    }

    fn __richcmp__<'py>(
        &self,
        py: Python<'py>,
        other: &Bound<'py, PyAny>,
        op: PyCompareOp,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Some(other) = interop::array_arg(other)? else {
            return Ok(py.NotImplemented().into_bound(py));
        };
        let other = other.get();
        let core_op = match op {
            PyCompareOp::Lt => CompareOp::Lt,
            PyCompareOp::Le => CompareOp::Le,
            PyCompareOp::Eq => CompareOp::Eq,
            PyCompareOp::Ne => CompareOp::Ne,
            PyCompareOp::Gt => CompareOp::Gt,
            PyCompareOp::Ge => CompareOp::Ge,
        };
        let result = bulk(py, self.nbytes() + other.nbytes(), || {
            self.inner.compare(&other.inner, core_op)
        });
        if self.code().kind() == Kind::Char || other.code().kind() == Kind::Char {
            // Characters that are no code points (only `frombytes`/`byteswap` make them) are
            // compared as the standard module does: raw (and, for `u`, as a signed wchar_t)
            // between two arrays of one type code, otherwise converted one by one, which
            // raises when it reaches one. Checked on snapshots of both, taken one after the
            // other; the common case keeps the core's result, read at one instant.
            let a = self.snapshot_values(py);
            let b = other.snapshot_values(py);
            if a.iter().chain(&b).any(|v| !is_valid(*v)) {
                return compare_chars(py, (self.code(), &a), (other.code(), &b), op);
            }
        }
        match result {
            Ok(b) => Ok(pyo3::types::PyBool::new(py, b).to_owned().into_any()),
            // A character met a number under an ordering operator: the standard module's
            // comparison is Python's list comparison of the items, whose TypeError we raise.
            Err(Error::Unordered) => {
                let a = self.tolist(py)?;
                let b = other.tolist(py)?;
                a.rich_compare(b, op)
            }
            Err(e) => Err(error(e)),
        }
    }

    /// Chains `object.__init_subclass__`, after giving the subclass this type's `+` (see
    /// [`operators::fix_subclass`]).
    #[classmethod]
    #[pyo3(signature = (**kwargs))]
    fn __init_subclass__(
        cls: &Bound<'_, PyType>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        operators::fix_subclass(cls)?;
        let base = cls.py().get_type::<PyArray>();
        pyo3::types::PySuper::new(&base, cls)?.call_method(
            pyo3::intern!(cls.py(), "__init_subclass__"),
            (),
            kwargs,
        )?;
        Ok(())
    }
}

impl PyArray {
    /// `a + b` (`sq_concat`, `array_concat`): a new array of the base type.
    pub(crate) fn concat<'py>(
        &self,
        py: Python<'py>,
        other: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray>> {
        let Some(b) = interop::array_arg(other)? else {
            return Err(PyTypeError::new_err(format!(
                "can only append array (not \"{}\") to array",
                tp_name(other)
            )));
        };
        let b = b.get();
        // One pin for both lengths (the second pin nests in the first: no fence).
        let bytes = {
            let _pin = ftarray::pin();
            self.nbytes() + b.nbytes()
        };
        let joined = bulk(py, bytes, || self.inner.concat_new(&b.inner)).map_err(error)?;
        PyArray::new_base_from(py, joined)
    }

    /// `a += b` (`sq_inplace_concat`, `array_inplace_concat`).
    pub(crate) fn inplace_concat(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        if interop::array_arg(other)?.is_none() {
            return Err(PyTypeError::new_err(format!(
                "can only extend array with array (not \"{}\")",
                tp_name(other)
            )));
        }
        self.extend(py, other)
    }

    /// `a *= n` (`sq_inplace_repeat`, `array_inplace_repeat`).
    pub(crate) fn inplace_repeat(&self, py: Python<'_>, count: isize) -> PyResult<()> {
        let len = self.inner.len();
        if len > 0 && count > 1 {
            let bytes = (len * self.inner.itemsize()).checked_mul(count as usize);
            match bytes {
                Some(b) if b <= isize::MAX as usize => {}
                _ => return Err(PyMemoryError::new_err(())),
            }
            return bulk(py, bytes.unwrap_or(0), || self.inner.repeat_in_place(count))
                .map_err(error);
        }
        self.inner.repeat_in_place(count).map_err(error)
    }

    /// `a * n` (`sq_repeat`, `array_repeat`): a new array of the base type.
    pub(crate) fn repeat<'py>(&self, py: Python<'py>, count: isize) -> PyResult<Bound<'py, PyAny>> {
        let len = self.length(py);
        if count > 0 && len > 0 {
            match (len * self.inner.itemsize()).checked_mul(count as usize) {
                Some(b) if b <= isize::MAX as usize => {}
                _ => return Err(PyMemoryError::new_err(())),
            }
        }
        let bytes = len.saturating_mul(count.max(0) as usize) * self.inner.itemsize();
        let result = if bytes < DETACH_BYTES {
            self.small_read(
                py,
                |inner, hold| inner.repeat_new_held(hold, count),
                |inner| inner.repeat_new(count),
            )
        } else {
            bulk(py, bytes, || self.inner.repeat_new(count))
        }
        .map_err(error)?;
        Ok(PyArray::new_base_from(py, result)?.into_any())
    }

    /// The elements' bytes, at one instant (detached when large).
    pub(crate) fn snapshot_bytes(&self, py: Python<'_>) -> Vec<u8> {
        bulk(py, self.nbytes(), || self.inner.to_bytes())
    }

    /// A snapshot of the array (`DynArray::snapshot`: shares the block, copying it only when
    /// the array is exported or its lock stays busy; detached when large).
    pub(crate) fn take_snapshot(&self, py: Python<'_>) -> PyResult<Snapshot> {
        let inner = bulk(py, self.nbytes(), || self.inner.snapshot()).map_err(error)?;
        Ok(Snapshot { inner })
    }

    /// The elements as values, at one instant (detached when large).
    pub(crate) fn snapshot_values(&self, py: Python<'_>) -> Vec<Value> {
        bulk(py, self.nbytes(), || self.inner.to_values())
    }

    /// The array's size in bytes now (to decide whether work on it runs detached).
    pub(crate) fn nbytes(&self) -> usize {
        self.inner.len() * self.inner.itemsize()
    }
}
