//! The Arrow C Data Interface: hand a [`DynSnapshot`] to Arrow (pyarrow, polars, DuckDB, arrow-rs,
//! any consumer of the C structs) without copying, and import an Arrow primitive array.
//!
//! [`ArrowSchema`] and [`ArrowArray`] are the interface's two structs, laid out as its
//! specification says (a stable ABI: no Arrow library is needed). An export is a primitive
//! array without nulls over a snapshot's bytes: the consumer reads memory that never changes,
//! while the array's writers go on, and calls `release` when it is done, which drops the
//! snapshot. Character type codes (`u`, `w`) are exported as unsigned integers of their size.
//!
//! ```
//! use ftarray::{DynArray, TypeCode, Value};
//! use ftarray::arrow::{ArrowArray, ArrowSchema};
//!
//! let a = DynArray::from_values(TypeCode::F64, &[1.5, 2.5].map(Value::from)).unwrap();
//! let (mut array, mut schema) = a.export_arrow().unwrap();
//! a.push(Value::from(3.5)).unwrap(); // the export does not see it
//! assert_eq!(schema.format(), Some("g"));
//! assert_eq!(array.length, 2);
//! // A consumer reads `array.buffers[1]` as `length` doubles, then releases both structs.
//! // SAFETY: the structs came from `export_arrow` and were not released yet.
//! let b = unsafe { DynArray::import_arrow(&mut array, &schema) }.unwrap();
//! assert_eq!(b.to_values(), [1.5, 2.5].map(Value::from));
//! ```

use crate::dynamic::{DynArray, DynSnapshot};
use crate::error::Error;
use crate::typecode::{Kind, TypeCode};
use std::ffi::{CStr, c_char, c_void};
use std::ptr;

/// The Arrow C Data Interface's `struct ArrowSchema`: the type of an exported array.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowSchema {
    /// The format string (`"i"` for int32, `"g"` for float64, …), NUL-terminated.
    pub format: *const c_char,
    /// The field name, NUL-terminated, or NULL.
    pub name: *const c_char,
    /// Key-value metadata in Arrow's binary encoding, or NULL.
    pub metadata: *const c_char,
    /// `ARROW_FLAG_NULLABLE` (2) and others.
    pub flags: i64,
    /// The number of children (0 for a primitive type).
    pub n_children: i64,
    /// The children, or NULL.
    pub children: *mut *mut ArrowSchema,
    /// The dictionary's schema, or NULL.
    pub dictionary: *mut ArrowSchema,
    /// Releases the schema's resources; NULL once released.
    pub release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    /// The producer's own data.
    pub private_data: *mut c_void,
}

/// The Arrow C Data Interface's `struct ArrowArray`: the data of an exported array.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArray {
    /// The number of elements.
    pub length: i64,
    /// The number of nulls (0 for ftarray's exports).
    pub null_count: i64,
    /// The index of the first element in the buffers.
    pub offset: i64,
    /// The number of buffers (2 for a primitive array: validity, data).
    pub n_buffers: i64,
    /// The number of children (0 for a primitive array).
    pub n_children: i64,
    /// The buffers: a validity bitmap (NULL when there are no nulls), then the data.
    pub buffers: *mut *const c_void,
    /// The children, or NULL.
    pub children: *mut *mut ArrowArray,
    /// The dictionary, or NULL.
    pub dictionary: *mut ArrowArray,
    /// Releases the array's resources; NULL once released.
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    /// The producer's own data.
    pub private_data: *mut c_void,
}

// SAFETY: the structs are plain data plus pointers that their producer owns; the interface
// allows moving them to another thread and releasing them there. ftarray's release callbacks
// only drop `Send` data (a snapshot and a boxed buffer list).
unsafe impl Send for ArrowSchema {}
// SAFETY: as above.
unsafe impl Send for ArrowArray {}

impl ArrowSchema {
    /// A released (empty) schema, to be filled by a producer.
    pub const fn empty() -> Self {
        ArrowSchema {
            format: ptr::null(),
            name: ptr::null(),
            metadata: ptr::null(),
            flags: 0,
            n_children: 0,
            children: ptr::null_mut(),
            dictionary: ptr::null_mut(),
            release: None,
            private_data: ptr::null_mut(),
        }
    }

    /// The format string, if the schema is live and has a UTF-8 one.
    pub fn format(&self) -> Option<&str> {
        if self.release.is_none() || self.format.is_null() {
            return None;
        }
        // SAFETY: a live schema's format is a NUL-terminated string its producer keeps alive
        // until release.
        unsafe { CStr::from_ptr(self.format) }.to_str().ok()
    }
}

impl ArrowArray {
    /// A released (empty) array, to be filled by a producer.
    pub const fn empty() -> Self {
        ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: ptr::null_mut(),
            children: ptr::null_mut(),
            dictionary: ptr::null_mut(),
            release: None,
            private_data: ptr::null_mut(),
        }
    }
}

impl Drop for ArrowSchema {
    /// Releases the schema if it is still live (a consumer that moved it out leaves it
    /// released, and the interface says a released struct is left alone).
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: a live schema's release callback may be called once, with the schema.
            unsafe { release(self) };
        }
    }
}

impl Drop for ArrowArray {
    /// Releases the array if it is still live.
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: a live array's release callback may be called once, with the array.
            unsafe { release(self) };
        }
    }
}

/// The Arrow format of a type code's elements.
fn format_of(code: TypeCode) -> &'static CStr {
    match (code.kind(), code.itemsize()) {
        (Kind::Signed, 1) => c"c",
        (Kind::Unsigned | Kind::Char, 1) => c"C",
        (Kind::Signed, 2) => c"s",
        (Kind::Unsigned | Kind::Char, 2) => c"S",
        (Kind::Signed, 4) => c"i",
        (Kind::Unsigned | Kind::Char, 4) => c"I",
        (Kind::Signed, _) => c"l",
        (Kind::Unsigned | Kind::Char, _) => c"L",
        (Kind::Float, 4) => c"f",
        (Kind::Float, _) => c"g",
    }
}

/// The type code an Arrow primitive format imports as.
fn code_of(format: &str) -> Option<TypeCode> {
    Some(match format {
        "c" => TypeCode::I8,
        "C" => TypeCode::U8,
        "s" => TypeCode::I16,
        "S" => TypeCode::U16,
        "i" => TypeCode::Int,
        "I" => TypeCode::UInt,
        "l" => TypeCode::I64,
        "L" => TypeCode::U64,
        "f" => TypeCode::F32,
        "g" => TypeCode::F64,
        _ => return None,
    })
}

/// What an exported `ArrowArray` owns: the snapshot whose bytes it points to, and its buffer
/// list.
struct ArrayPrivate {
    _snapshot: DynSnapshot,
    buffers: [*const c_void; 2],
}

unsafe extern "C" fn release_array(array: *mut ArrowArray) {
    // SAFETY: the interface calls release with a live array ftarray produced (its
    // `private_data` is a boxed `ArrayPrivate`), once; moving a struct leaves the moved-from
    // copy released.
    unsafe {
        let array = &mut *array;
        drop(Box::from_raw(array.private_data.cast::<ArrayPrivate>()));
        array.private_data = ptr::null_mut();
        array.buffers = ptr::null_mut();
        array.release = None;
    }
}

unsafe extern "C" fn release_schema(schema: *mut ArrowSchema) {
    // SAFETY: as `release_array`; an ftarray schema owns nothing (its strings are static).
    unsafe {
        (*schema).release = None;
    }
}

impl DynSnapshot {
    /// This snapshot as an Arrow primitive array without nulls, and its schema: the array's
    /// data buffer is the snapshot's own bytes (no copy), kept alive until the consumer calls
    /// the array's `release`.
    ///
    /// # Errors
    ///
    /// [`Error::Arrow`] if the snapshot is longer than `i64::MAX` elements.
    pub fn into_arrow(self) -> Result<(ArrowArray, ArrowSchema), Error> {
        let length = i64::try_from(self.len()).map_err(|_| Error::Arrow {
            reason: "more than i64::MAX elements".to_string(),
        })?;
        let format = format_of(self.typecode());
        let data = self.as_bytes().as_ptr().cast::<c_void>();
        let mut private = Box::new(ArrayPrivate {
            _snapshot: self,
            buffers: [ptr::null(), data],
        });
        let buffers = private.buffers.as_mut_ptr();
        let array = ArrowArray {
            length,
            null_count: 0,
            offset: 0,
            n_buffers: 2,
            n_children: 0,
            buffers,
            children: ptr::null_mut(),
            dictionary: ptr::null_mut(),
            release: Some(release_array),
            private_data: Box::into_raw(private).cast(),
        };
        let schema = ArrowSchema {
            format: format.as_ptr(),
            name: ptr::null(),
            metadata: ptr::null(),
            flags: 0,
            n_children: 0,
            children: ptr::null_mut(),
            dictionary: ptr::null_mut(),
            release: Some(release_schema),
            private_data: ptr::null_mut(),
        };
        Ok((array, schema))
    }
}

impl DynArray {
    /// A snapshot of the array, as an Arrow primitive array and its schema (see
    /// [`DynSnapshot::into_arrow`]): a consumer reads one instant of the array, which never
    /// changes under it, while the array's writers go on.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the snapshot must copy and cannot; [`Error::Arrow`].
    pub fn export_arrow(&self) -> Result<(ArrowArray, ArrowSchema), Error> {
        self.snapshot()?.into_arrow()
    }

    /// A new array holding a copy of an Arrow primitive array's elements (`c C s S i I l L f g`:
    /// the signed and unsigned integers of 8 to 64 bits, float32 and float64), with the
    /// matching type code. Nulls are refused. The Arrow array is left as it was (its producer
    /// still owns it; release it as usual).
    ///
    /// # Errors
    ///
    /// [`Error::Arrow`] for a released array or schema, another format, nulls, children, or
    /// fewer than two buffers; [`Error::AllocFailed`].
    ///
    /// # Safety
    ///
    /// `array` and `schema` follow the Arrow C Data Interface: live (or released) structs whose
    /// buffers hold at least `offset + length` elements of the schema's type, not written
    /// while this runs.
    pub unsafe fn import_arrow(
        array: &ArrowArray,
        schema: &ArrowSchema,
    ) -> Result<DynArray, Error> {
        let bad = |reason: &str| Error::Arrow {
            reason: reason.to_string(),
        };
        if array.release.is_none() || schema.release.is_none() {
            return Err(bad("the array or its schema is released"));
        }
        let format = schema
            .format()
            .ok_or_else(|| bad("the schema has no format"))?;
        let code = code_of(format).ok_or_else(|| Error::Arrow {
            reason: format!("format {format:?} is not a primitive integer or float type"),
        })?;
        if array.n_children != 0 || schema.n_children != 0 {
            return Err(bad("a primitive array has no children"));
        }
        if array.null_count != 0 {
            return Err(Error::Arrow {
                reason: format!("{} nulls: an ftarray holds no nulls", array.null_count),
            });
        }
        if array.n_buffers < 2 || array.buffers.is_null() {
            return Err(bad("a primitive array has a validity and a data buffer"));
        }
        let (Ok(length), Ok(offset)) =
            (usize::try_from(array.length), usize::try_from(array.offset))
        else {
            return Err(bad("a negative length or offset"));
        };
        let size = code.itemsize();
        let start = offset
            .checked_mul(size)
            .ok_or_else(|| bad("offset overflows"))?;
        let nbytes = length
            .checked_mul(size)
            .ok_or_else(|| bad("length overflows"))?;
        start
            .checked_add(nbytes)
            .filter(|end| *end <= isize::MAX as usize)
            .ok_or_else(|| bad("length overflows"))?;
        if nbytes == 0 {
            return Ok(DynArray::new(code));
        }
        // SAFETY: `buffers` holds `n_buffers` (>= 2) pointers (the caller's contract).
        let data = unsafe { *array.buffers.add(1) }.cast::<u8>();
        if data.is_null() {
            return Err(bad("the data buffer is NULL"));
        }
        // SAFETY: the data buffer holds `offset + length` elements (the caller's contract), so
        // `start..start + nbytes` is inside it and not written meanwhile.
        let bytes = unsafe { std::slice::from_raw_parts(data.add(start), nbytes) };
        DynArray::from_bytes(code, bytes)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn every_numeric_type_code_round_trips_and_chars_go_out_as_unsigned() {
        for code in TypeCode::ALL {
            let values: Vec<Value> = match code.kind() {
                Kind::Float => vec![Value::Float(-1.5), Value::Float(2.0)],
                Kind::Char => vec![Value::Char(u32::from('a')), Value::Char(u32::from('z'))],
                _ => vec![Value::Int(1), Value::Int(100)],
            };
            let a = DynArray::from_values(code, &values).unwrap();
            let (array, schema) = a.export_arrow().unwrap();
            assert_eq!((array.length, array.null_count, array.n_buffers), (2, 0, 2));
            // SAFETY: fresh, live structs from `export_arrow`.
            let b = unsafe { DynArray::import_arrow(&array, &schema) }.unwrap();
            assert_eq!(b.to_bytes(), a.to_bytes(), "{code}");
            if code.kind() == Kind::Char {
                assert_eq!(b.typecode().kind(), Kind::Unsigned, "{code}");
            } else {
                assert_eq!(b.typecode().itemsize(), code.itemsize(), "{code}");
            }
        }
    }

    /// The exported buffer is the snapshot's: the array's later writes never reach it, and
    /// it lives until release, even after the array is gone.
    #[test]
    fn an_export_is_one_instant_and_outlives_the_array() {
        let a = DynArray::from_values(TypeCode::Int, &[1, 2, 3].map(Value::from)).unwrap();
        let (array, schema) = a.export_arrow().unwrap();
        a.set(0, Value::from(10)).unwrap();
        a.push(Value::from(4)).unwrap();
        drop(a);
        // SAFETY: the data buffer of a live int32 export holds `length` elements.
        let data = unsafe { std::slice::from_raw_parts((*array.buffers.add(1)).cast::<i32>(), 3) };
        assert_eq!(data, [1, 2, 3]);
        assert_eq!(schema.format(), Some("i"));
        drop(array); // releases the snapshot
        drop(schema);
    }

    #[test]
    fn imports_honour_the_offset_and_refuse_what_they_cannot_hold() {
        let a = DynArray::from_values(TypeCode::I16, &[1, 2, 3, 4].map(Value::from)).unwrap();
        let (mut array, schema) = a.export_arrow().unwrap();
        array.offset = 1;
        array.length = 2;
        // SAFETY: offset 1 + length 2 stays inside the exported buffer.
        let b = unsafe { DynArray::import_arrow(&array, &schema) }.unwrap();
        assert_eq!(b.to_values(), [2, 3].map(Value::from));
        array.null_count = 1;
        // SAFETY: as above.
        let e = unsafe { DynArray::import_arrow(&array, &schema) }.unwrap_err();
        assert!(e.to_string().contains("nulls"), "{e}");
        array.null_count = 0;
        let mut other = ArrowSchema::empty();
        other.format = c"u".as_ptr();
        other.release = Some(release_schema);
        // SAFETY: as above; the schema is ours.
        let e = unsafe { DynArray::import_arrow(&array, &other) }.unwrap_err();
        assert!(e.to_string().contains("\"u\""), "{e}");
        other.release = None;
        // SAFETY: as above.
        let e = unsafe { DynArray::import_arrow(&array, &other) }.unwrap_err();
        assert!(e.to_string().contains("released"), "{e}");
        let empty = ArrowArray::empty();
        // SAFETY: a released array is refused before anything is read.
        assert!(unsafe { DynArray::import_arrow(&empty, &schema) }.is_err());
    }
}
