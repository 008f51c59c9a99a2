//! Pickling, as the standard module does it: `__reduce_ex__` and `_array_reconstructor` with
//! CPython's machine format codes, so the bytes of a pickle are portable across machines and
//! interchangeable with the standard module's (its `_array_reconstructor` accepts ours and ours
//! accepts its).
//!
//! Protocols 0–2 pickle `(type(a), (typecode, a.tolist()), state)`; protocol 3 and later pickle
//! `(_array_reconstructor, (type(a), typecode, mformat_code, a.tobytes()), state)`, where the
//! machine format code says how the bytes are laid out (size, signedness, byte order, IEEE
//! float or UTF-16/32). A machine that differs decodes them element by element.
//!
//! Protocol 5 hands the bytes as a `pickle.PickleBuffer` over a snapshot (read-only, see
//! [`crate::snapshot`]) instead of a `bytes` copy: `pickle.dumps(a, protocol=5,
//! buffer_callback=...)` copies nothing (the buffers go out of band), and without a callback
//! the pickler writes them in band as `bytes`, the same pickle bytes as before. Loading accepts
//! any buffer object for the bytes (`pickle.loads(data, buffers=...)` passes what it is given:
//! a `PickleBuffer`, a `memoryview` of shared memory, a `bytearray`). Protocols 0-4 are as they
//! were.

use crate::class::{PyArray, tp_name};
use crate::compat;
use crate::cpython::{self, Utf};
use ftarray::TypeCode;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyInt, PyList, PyString, PyTuple, PyType};
use std::ffi::c_int;
use std::sync::OnceLock;

/// `enum machine_format_code` of `Modules/arraymodule.c`.
mod code {
    pub const UNSIGNED_INT8: i32 = 0;
    pub const SIGNED_INT8: i32 = 1;
    pub const UNSIGNED_INT16_LE: i32 = 2;
    pub const UNSIGNED_INT32_LE: i32 = 6;
    pub const UNSIGNED_INT64_LE: i32 = 10;
    pub const IEEE_754_FLOAT_LE: i32 = 14;
    pub const IEEE_754_FLOAT_BE: i32 = 15;
    pub const IEEE_754_DOUBLE_LE: i32 = 16;
    pub const IEEE_754_DOUBLE_BE: i32 = 17;
    pub const UTF16_LE: i32 = 18;
    pub const UTF16_BE: i32 = 19;
    pub const UTF32_LE: i32 = 20;
    pub const UTF32_BE: i32 = 21;
    pub const MAX: i32 = 21;
}

/// `mformat_descriptors`: (size, signed, big-endian) for each machine format code, as the
/// standard module's table has them (including its sizes for the UTF codes, which decide the
/// length check).
const MFORMAT: [(usize, bool, bool); 22] = [
    (1, false, false),
    (1, true, false),
    (2, false, false),
    (2, false, true),
    (2, true, false),
    (2, true, true),
    (4, false, false),
    (4, false, true),
    (4, true, false),
    (4, true, true),
    (8, false, false),
    (8, false, true),
    (8, true, false),
    (8, true, true),
    (4, false, false),
    (4, false, true),
    (8, false, false),
    (8, false, true),
    (4, false, false),
    (4, false, true),
    (8, false, false),
    (8, false, true),
];

const BIG_ENDIAN: i32 = cfg!(target_endian = "big") as i32;

/// `typecode_to_mformat_code`: the machine format of `code` on this machine.
pub(crate) fn mformat_code(code: TypeCode) -> i32 {
    match code {
        TypeCode::I8 => code::SIGNED_INT8,
        TypeCode::U8 => code::UNSIGNED_INT8,
        TypeCode::WChar if code.itemsize() == 2 => code::UTF16_LE + BIG_ENDIAN,
        TypeCode::WChar | TypeCode::Ucs4 => code::UTF32_LE + BIG_ENDIAN,
        TypeCode::F32 => code::IEEE_754_FLOAT_LE + BIG_ENDIAN,
        TypeCode::F64 => code::IEEE_754_DOUBLE_LE + BIG_ENDIAN,
        _ => {
            let signed = matches!(code.kind(), ftarray::Kind::Signed) as i32;
            let base = match code.itemsize() {
                2 => code::UNSIGNED_INT16_LE,
                4 => code::UNSIGNED_INT32_LE,
                _ => code::UNSIGNED_INT64_LE,
            };
            base + BIG_ENDIAN + 2 * signed
        }
    }
}

/// `array.__reduce_ex__(protocol)`.
pub(crate) fn reduce_ex<'py>(
    slf: &Bound<'py, PyArray>,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = slf.py();
    if !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(
            "__reduce_ex__ argument should be an integer",
        ));
    }
    let protocol: i64 = value.extract()?;
    // The base type has no `__dict__`: skip the lookup, whose AttributeError costs about as
    // much as the rest of pickling 1k elements (only subclasses' instances have one).
    let dict = if slf.is_exact_instance_of::<PyArray>() {
        py.None().into_bound(py)
    } else {
        match slf.getattr(pyo3::intern!(py, "__dict__")) {
            Ok(d) => d,
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyAttributeError>(py) => {
                py.None().into_bound(py)
            }
            Err(e) => return Err(e),
        }
    };
    let a = slf.get();
    let code = a.code();
    let cls = slf.get_type().into_any();
    let typecode = PyString::new(py, code.as_char().encode_utf8(&mut [0; 4])).into_any();
    if protocol < 3 {
        let list = a.tolist(py)?.into_any();
        let args = PyTuple::new(py, [typecode, list])?.into_any();
        return PyTuple::new(py, [cls, args, dict]);
    }
    let bytes = if protocol >= 5 {
        let snapshot = Bound::new(py, a.take_snapshot(py)?)?;
        pickle_buffer_type(py)?.call1((snapshot,))?
    } else {
        a.tobytes(py)?.into_any()
    };
    let args = PyTuple::new(
        py,
        [
            cls,
            typecode,
            mformat_code(code).into_pyobject(py)?.into_any(),
            bytes,
        ],
    )?
    .into_any();
    PyTuple::new(py, [reconstructor(py)?, args, dict])
}

/// `ftarray.reduce_as_standard(a)`: a reduce value that pickles `a` as a *standard*
/// `array.array` (`array._array_reconstructor` with CPython's machine format code), so the
/// pickle loads where ftarray is not installed. Meant for a pickler's dispatch table:
/// `copyreg.pickle(ftarray.array, ftarray.reduce_as_standard)` for every pickle of the
/// process, or `pickler.dispatch_table[ftarray.array] = ftarray.reduce_as_standard` for one.
/// An instance of a subclass pickles as a plain standard array; one with attributes (a
/// non-empty `__dict__`, which a standard array cannot hold) raises `TypeError`.
#[pyfunction]
#[pyo3(signature = (a, /))]
pub(crate) fn reduce_as_standard<'py>(a: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let py = a.py();
    let Ok(arr) = a.cast::<PyArray>() else {
        return Err(PyTypeError::new_err(format!(
            "reduce_as_standard() argument must be ftarray.array, not {}",
            tp_name(a)
        )));
    };
    if let Ok(dict) = a.getattr(pyo3::intern!(py, "__dict__")) {
        if dict.is_truthy()? {
            return Err(PyTypeError::new_err(format!(
                "cannot pickle a {} with attributes as a standard array",
                tp_name(a)
            )));
        }
    }
    let std = py.import("array")?;
    let a = arr.get();
    let code = a.code();
    let args = PyTuple::new(
        py,
        [
            std.getattr("array")?,
            PyString::new(py, code.as_char().encode_utf8(&mut [0; 4])).into_any(),
            mformat_code(code).into_pyobject(py)?.into_any(),
            a.tobytes(py)?.into_any(),
        ],
    )?;
    PyTuple::new(py, [std.getattr("_array_reconstructor")?, args.into_any()])
}

static PICKLE_BUFFER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `pickle.PickleBuffer`.
fn pickle_buffer_type(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    PICKLE_BUFFER
        .get_or_try_init(py, || {
            Ok(py.import("pickle")?.getattr("PickleBuffer")?.unbind())
        })
        .map(|t| t.bind(py))
}

static RECONSTRUCTOR: OnceLock<Py<PyAny>> = OnceLock::new();

/// The module's `_array_reconstructor` (recorded by the module initialiser).
pub(crate) fn set_reconstructor(f: Py<PyAny>) {
    let _ = RECONSTRUCTOR.set(f);
}

fn reconstructor(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    match RECONSTRUCTOR.get() {
        Some(f) => Ok(f.bind(py).clone()),
        None => py.import("ftarray")?.getattr("_array_reconstructor"),
    }
}

/// `make_array`: the constructor proper (`array.__new__` of the base type), for `arraytype`,
/// bypassing any `__new__`/`__init__` a subclass defines, as the standard module does.
fn make_array<'py>(
    arraytype: &Bound<'py, PyType>,
    typecode: char,
    items: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = arraytype.py();
    let args = PyTuple::new(
        py,
        [
            PyString::new(py, typecode.encode_utf8(&mut [0; 4])).into_any(),
            items,
        ],
    )?;
    cpython::new_with_base_constructor(&py.get_type::<PyArray>(), arraytype, &args)
}

/// Internal. Used for pickling support.
#[pyfunction]
#[pyo3(name = "_array_reconstructor", signature = (arraytype, typecode, mformat_obj, items, /))]
pub(crate) fn array_reconstructor<'py>(
    arraytype: &Bound<'py, PyAny>,
    typecode: &Bound<'py, PyAny>,
    mformat_obj: &Bound<'py, PyAny>,
    items: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = arraytype.py();
    // Argument Clinic's conversions first: a one-character str, then an int.
    let one_char = typecode
        .cast::<PyString>()
        .ok()
        .and_then(|s| s.to_cow().ok().map(|c| c.into_owned()))
        .filter(|s| s.chars().count() == 1);
    let Some(typecode) = one_char.and_then(|s| s.chars().next()) else {
        return Err(PyTypeError::new_err(format!(
            "_array_reconstructor() argument 2 must be a unicode character, not {}",
            tp_name(typecode)
        )));
    };
    let mformat: c_int = { cpython::number_index(mformat_obj)?.extract::<c_int>()? };
    let Ok(arraytype) = arraytype.cast::<PyType>() else {
        return Err(PyTypeError::new_err(format!(
            "first argument must be a type object, not {}",
            tp_name(arraytype)
        )));
    };
    let base = py.get_type::<PyArray>();
    if !arraytype.is_subclass(&base)? {
        let (sub, sup) = (
            cpython::type_name_of(arraytype),
            cpython::type_name_of(&base),
        );
        return Err(PyTypeError::new_err(format!(
            "{sub} is not a subtype of {sup}"
        )));
    }
    let Some(code) = compat::typecode(typecode) else {
        return Err(PyValueError::new_err(
            "second argument must be a valid type code",
        ));
    };
    if !(0..=code::MAX).contains(&mformat) {
        return Err(PyValueError::new_err(
            "third argument must be a valid machine format code.",
        ));
    }
    // `bytes`, or (beyond the standard module, for out-of-band pickles) any other buffer,
    // copied safely.
    let bytes = match items.cast::<PyBytes>() {
        Ok(b) => b.clone(),
        Err(_) => match crate::buffer::copy_any(items, code.itemsize()) {
            Ok(b) => PyBytes::new(py, &b),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "fourth argument should be bytes, not {}",
                    tp_name(items)
                )));
            }
        },
    };
    // Fast path: the bytes are in this machine's layout for the type code.
    if mformat == mformat_code(code) {
        return make_array(arraytype, typecode, bytes.clone().into_any());
    }
    let data = bytes.as_bytes();
    let (size, signed, big) = MFORMAT[mformat as usize];
    if data.len() % size != 0 {
        return Err(PyValueError::new_err(
            "string length not a multiple of item size",
        ));
    }
    let (typecode, converted): (char, Bound<'py, PyAny>) = match mformat {
        code::IEEE_754_FLOAT_LE | code::IEEE_754_FLOAT_BE => {
            let values: Vec<f64> = data
                .chunks_exact(4)
                .map(|c| {
                    let b: [u8; 4] = c.try_into().expect("4 bytes");
                    f64::from(if big {
                        f32::from_be_bytes(b)
                    } else {
                        f32::from_le_bytes(b)
                    })
                })
                .collect();
            (typecode, PyList::new(py, values)?.into_any())
        }
        code::IEEE_754_DOUBLE_LE | code::IEEE_754_DOUBLE_BE => {
            let values: Vec<f64> = data
                .chunks_exact(8)
                .map(|c| {
                    let b: [u8; 8] = c.try_into().expect("8 bytes");
                    if big {
                        f64::from_be_bytes(b)
                    } else {
                        f64::from_le_bytes(b)
                    }
                })
                .collect();
            (typecode, PyList::new(py, values)?.into_any())
        }
        code::UTF16_LE | code::UTF16_BE | code::UTF32_LE | code::UTF32_BE => {
            let byteorder: c_int = if mformat == code::UTF16_LE || mformat == code::UTF32_LE {
                -1
            } else {
                1
            };
            let utf = if mformat <= code::UTF16_BE {
                Utf::Utf16
            } else {
                Utf::Utf32
            };
            let s = cpython::decode_utf(py, utf, data, Some(c"strict"), byteorder)?;
            (typecode, s)
        }
        _ => {
            // Integers: the widest-fitting native type code of that size and signedness (the
            // last one in the standard module's table), then the values one by one.
            let native = compat::typecodes()
                .chars()
                .filter_map(compat::typecode)
                .filter(|c| c.is_integer() && c.itemsize() == size)
                .rfind(|c| matches!(c.kind(), ftarray::Kind::Signed) == signed)
                .map(|c| c.as_char())
                .unwrap_or(typecode);
            let mut values = Vec::with_capacity(data.len() / size);
            for chunk in data.chunks_exact(size) {
                let mut raw = [0u8; 16];
                let negative = if big {
                    raw[16 - size..].copy_from_slice(chunk);
                    raw.reverse();
                    signed && chunk[0] & 0x80 != 0
                } else {
                    raw[..size].copy_from_slice(chunk);
                    signed && chunk[size - 1] & 0x80 != 0
                };
                if negative {
                    for b in &mut raw[size..] {
                        *b = 0xff;
                    }
                }
                values.push(i128::from_le_bytes(raw));
            }
            (native, PyList::new(py, values)?.into_any())
        }
    };
    make_array(arraytype, typecode, converted)
}
