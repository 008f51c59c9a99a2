//! The opaque handle, and the conversions between C arguments and the runtime-typed layer:
//! type codes, element bytes, values, and host buffers copied in with atomic loads.

use crate::boundary::Fail;
use crate::exports;
use ftarray::dynamic::Source;
use ftarray::{DynArray, Kind, TypeCode, Value};
use std::ffi::c_char;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An array of numbers of one element type, shared by any number of threads.
///
/// Made by `ftarray_new` (and the other functions returning `ftarray **`), freed by
/// `ftarray_free`. Opaque: C code only holds pointers to it.
pub struct Handle {
    array: DynArray,
}

// Handles are shared by C threads through raw pointers, which the compiler cannot check: the
// array inside must be shareable and sendable.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Handle>();
};

/// Handles created and not yet freed. A statistic: Relaxed.
static LIVE_HANDLES: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn live_handles() -> usize {
    LIVE_HANDLES.load(Ordering::Relaxed)
}

impl Handle {
    /// Moves `array` to the heap and returns the pointer the host owns from now on.
    pub(crate) fn into_raw(array: DynArray) -> *mut Handle {
        LIVE_HANDLES.fetch_add(1, Ordering::Relaxed);
        Box::into_raw(Box::new(Handle { array }))
    }

    /// The array behind `p`, or `None` if `p` is NULL.
    ///
    /// # Safety
    ///
    /// `p` is NULL or was returned by [`Handle::into_raw`] and has not been passed to
    /// [`Handle::free`]; it stays so for `'a`.
    pub(crate) unsafe fn array<'a>(p: *const Handle) -> Option<&'a DynArray> {
        // SAFETY: by the contract, a non-null `p` points to a live `Handle`.
        unsafe { p.as_ref() }.map(|h| &h.array)
    }

    /// Frees the handle `p`.
    ///
    /// # Safety
    ///
    /// `p` is non-null, was returned by [`Handle::into_raw`], has not been freed, and no
    /// other thread uses it now or later.
    pub(crate) unsafe fn free(p: *mut Handle) {
        // SAFETY: by the contract, `p` came from `Box::into_raw` and is freed only here, once.
        drop(unsafe { Box::from_raw(p) });
        LIVE_HANDLES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The type code named by the C character `code`.
pub(crate) fn typecode(code: c_char) -> Result<TypeCode, Fail> {
    // `c_char` may be signed: go through `u8` so that bytes 0x80..=0xFF become U+0080..U+00FF,
    // which name no type code, rather than sign-extended garbage.
    Ok(TypeCode::try_from(char::from(code as u8))?)
}

/// The type code's letter as a C character.
pub(crate) fn typecode_char(code: TypeCode) -> c_char {
    code.as_char() as u8 as c_char
}

// ---------------------------------------------------------------------------------------------
// Host buffers
// ---------------------------------------------------------------------------------------------

/// Copies `len` bytes of host memory at `src`, read as elements of `itemsize` bytes, into a
/// new `Vec`, with relaxed atomic loads.
///
/// Host input may alias memory that other threads write at the same time: typically an
/// export of another array (extending `b` from `a`'s exported buffer while `a` is being
/// written). Turning it into a `&[u8]` would claim that nobody writes it, which is then
/// false: a data race, undefined behaviour in Rust's memory model. So every byte is read with
/// an atomic load before the layer sees it (`ftarray::dynamic::copy_shared`), and no element is
/// ever assembled from two stores:
///
/// - input inside a live export of any handle (the registry, [`exports::in_live_export`]): every
///   8-byte unit it touches is loaded whole, the access size the arrays' own readers and
///   writers use, so the accesses never mix sizes (`Source::Export`). The bytes of those units
///   outside the input are loaded too: a host that writes them with plain stores at that
///   moment races, as the export's contract already says of plain access while other threads
///   use the array;
/// - any other input: each aligned 8 bytes inside it with one 64-bit load, and the partial
///   runs at its ends with naturally aligned loads at least `itemsize` wide
///   (`Source::Elements`); byte by byte only where `src` is not aligned to `itemsize`, which
///   no export of such elements is.
///
/// `Relaxed`: the copy orders nothing else; whatever the host wrote before this call
/// happened-before it by the host's own synchronisation.
///
/// # Safety
///
/// If `len > 0`, `src` is valid for reads of `len` bytes for the duration of the call, and
/// every concurrent write to those bytes is atomic (an ftarray writer, or the host's own
/// atomics); input from an export is read while that export is alive (an export released
/// during the call would make `src` invalid anyway). `src` may be NULL (or dangling) when `len`
/// is 0.
pub(crate) unsafe fn copy_in(src: *const u8, len: usize, itemsize: usize) -> Result<Vec<u8>, Fail> {
    let mut out: Vec<u8> = Vec::new();
    if len == 0 {
        return Ok(out);
    }
    out.try_reserve_exact(len).map_err(|_| Fail::oom(len))?;
    out.resize(len, 0);
    let source = if exports::in_live_export(src, len) {
        Source::Export
    } else {
        Source::Elements { itemsize }
    };
    // SAFETY: forwarded from our caller (`src` readable for `len` bytes, written only
    // atomically, and for `Source::Export` inside the storage of a live export, which stays
    // pinned while `src` is valid); `out` is our own buffer.
    unsafe { ftarray::dynamic::copy_shared(src, &mut out, source) };
    Ok(out)
}

/// The element bytes at `(src, len)`, which must be exactly one element of `code`.
///
/// # Safety
///
/// As [`copy_in`].
pub(crate) unsafe fn copy_in_element(
    name: &str,
    src: *const u8,
    len: usize,
    code: TypeCode,
) -> Result<Vec<u8>, Fail> {
    if len != code.itemsize() {
        return Err(ftarray::Error::LengthMismatch {
            expected: code.itemsize(),
            actual: len,
        }
        .into());
    }
    if src.is_null() {
        return Err(Fail::null(name));
    }
    // SAFETY: forwarded from our caller; `src` is non-null and `len` is one element.
    unsafe { copy_in(src, len, code.itemsize()) }
}

/// `(ptr, len)` as host input bytes holding elements of `code`: NULL is accepted only for
/// `len == 0`.
///
/// # Safety
///
/// As [`copy_in`].
pub(crate) unsafe fn copy_in_bytes(
    name: &str,
    src: *const u8,
    len: usize,
    code: TypeCode,
) -> Result<Vec<u8>, Fail> {
    if src.is_null() && len > 0 {
        return Err(Fail::null(name));
    }
    // SAFETY: forwarded from our caller; `src` is non-null whenever `len > 0`.
    unsafe { copy_in(src, len, code.itemsize()) }
}

/// A host output buffer `(dst, cap)` as a slice. NULL is accepted only for `cap == 0`.
///
/// Output buffers are the host's own memory, written by this call alone (as `memcpy`'s
/// destination), so a `&mut [u8]` is what they are.
///
/// # Safety
///
/// If `cap > 0`, `dst` is valid for writes of `cap` bytes and nothing else reads or writes
/// them during the call.
pub(crate) unsafe fn out_bytes<'a>(
    name: &str,
    dst: *mut u8,
    cap: usize,
) -> Result<&'a mut [u8], Fail> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if dst.is_null() {
        return Err(Fail::null(name));
    }
    // SAFETY: `dst` is non-null and valid for exclusive writes of `cap` bytes by the contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(dst, cap) })
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// An element value as an `int64_t`.
pub(crate) fn to_i64(v: Value, code: TypeCode) -> Result<i64, Fail> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Char(c) => Ok(i64::from(c)),
        Value::UInt(u) => Err(Fail::new(
            crate::Status::Overflow,
            format!("element value {u} does not fit in an int64_t"),
        )),
        Value::Float(_) => Err(wrong_accessor(code, "int64_t")),
    }
}

/// An element value as a `uint64_t`.
pub(crate) fn to_u64(v: Value, code: TypeCode) -> Result<u64, Fail> {
    match v {
        Value::Int(i) => u64::try_from(i).map_err(|_| {
            Fail::new(
                crate::Status::Overflow,
                format!("element value {i} does not fit in a uint64_t"),
            )
        }),
        Value::UInt(u) => Ok(u),
        Value::Char(c) => Ok(u64::from(c)),
        Value::Float(_) => Err(wrong_accessor(code, "uint64_t")),
    }
}

/// An element value as a `double` (integers rounded to the nearest double).
pub(crate) fn to_f64(v: Value, code: TypeCode) -> Result<f64, Fail> {
    match v {
        Value::Char(_) => Err(wrong_accessor(code, "double")),
        v => Ok(v.as_f64().unwrap_or(f64::NAN)),
    }
}

fn wrong_accessor(code: TypeCode, ctype: &str) -> Fail {
    Fail::new(
        crate::Status::WrongKind,
        format!(
            "elements of type code '{code}' ({}) cannot be read as {ctype}",
            code.c_name()
        ),
    )
}

/// The value of the element whose native bytes are `bytes` (exactly `itemsize` of them).
pub(crate) fn value_from_bytes(code: TypeCode, bytes: &[u8]) -> Value {
    fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
        b.try_into().expect("the caller checked the element size")
    }
    match (code.kind(), code.itemsize()) {
        (Kind::Signed, 1) => Value::from(i8::from_ne_bytes(arr(bytes))),
        (Kind::Signed, 2) => Value::from(i16::from_ne_bytes(arr(bytes))),
        (Kind::Signed, 4) => Value::from(i32::from_ne_bytes(arr(bytes))),
        (Kind::Signed, _) => Value::from(i64::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, 1) => Value::from(u8::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, 2) => Value::from(u16::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, 4) => Value::from(u32::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, _) => Value::from(u64::from_ne_bytes(arr(bytes))),
        (Kind::Float, 4) => Value::from(f32::from_ne_bytes(arr(bytes))),
        (Kind::Float, _) => Value::from(f64::from_ne_bytes(arr(bytes))),
        (Kind::Char, 2) => Value::Char(u16::from_ne_bytes(arr(bytes)).into()),
        (Kind::Char, _) => Value::Char(u32::from_ne_bytes(arr(bytes))),
    }
}

/// Writes the native bytes of `v`, an element value of `code`, into `out` (`itemsize` long).
pub(crate) fn value_to_bytes(code: TypeCode, v: Value, out: &mut [u8]) {
    let bits: u64 = match v {
        Value::Int(i) => i as u64,
        Value::UInt(u) => u,
        Value::Char(c) => u64::from(c),
        Value::Float(x) => {
            if code.itemsize() == 4 {
                out.copy_from_slice(&(x as f32).to_ne_bytes());
            } else {
                out.copy_from_slice(&x.to_ne_bytes());
            }
            return;
        }
    };
    // Truncating to the element's width keeps the two's-complement bits of signed values.
    match out.len() {
        1 => out.copy_from_slice(&(bits as u8).to_ne_bytes()),
        2 => out.copy_from_slice(&(bits as u16).to_ne_bytes()),
        4 => out.copy_from_slice(&(bits as u32).to_ne_bytes()),
        _ => out.copy_from_slice(&bits.to_ne_bytes()),
    }
}

/// The value zero of `code`'s kind (the default fill of `ftarray_resize`).
pub(crate) fn zero(code: TypeCode) -> Value {
    match code.kind() {
        Kind::Float => Value::Float(0.0),
        Kind::Char => Value::Char(0),
        Kind::Signed | Kind::Unsigned => Value::Int(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_bytes_round_trip_through_values() {
        for code in TypeCode::ALL {
            let n = code.itemsize();
            for seed in [0u8, 1, 0x7f, 0x80, 0xfe, 0xff] {
                let mut bytes = vec![seed; n];
                bytes[0] = seed.wrapping_add(3);
                if code.kind() == Kind::Float {
                    // Not a NaN: NaN payloads need not survive a float conversion.
                    bytes[n - 1] = 0x3f;
                }
                if code.kind() == Kind::Char && n == 4 {
                    bytes = 0x10_0000u32
                        .wrapping_add(u32::from(seed))
                        .to_ne_bytes()
                        .to_vec();
                }
                let v = value_from_bytes(code, &bytes);
                let mut back = vec![0u8; n];
                value_to_bytes(code, v, &mut back);
                assert_eq!(back, bytes, "{code}: {v:?}");
            }
        }
    }

    #[test]
    fn copy_in_reads_every_byte_aligned_or_not() {
        let data: Vec<u64> = (0..9u64).map(|k| k * 0x0101_0101_0101_0101).collect();
        let bytes: &[u8] = bytemuck_bytes(&data);
        for start in 0..10 {
            for len in [0, 1, 7, 8, 9, bytes.len() - start - 5] {
                for itemsize in [1, 2, 4, 8] {
                    // SAFETY: the range is inside `bytes`, which nobody writes.
                    let got = unsafe { copy_in(bytes.as_ptr().add(start), len, itemsize) };
                    assert_eq!(got.unwrap(), &bytes[start..start + len]);
                }
            }
        }
        // SAFETY: zero bytes are read, so NULL is allowed.
        let empty = unsafe { copy_in(std::ptr::null(), 0, 4) };
        assert!(empty.unwrap().is_empty());
    }

    fn bytemuck_bytes(v: &[u64]) -> &[u8] {
        // SAFETY: any `u64` is 8 initialised bytes; the slice covers exactly `v`.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 8) }
    }

    #[test]
    fn conversions_to_c_types_check_ranges() {
        assert_eq!(to_i64(Value::Int(-5), TypeCode::I8).unwrap(), -5);
        assert!(to_i64(Value::UInt(u64::MAX), TypeCode::U64).is_err());
        assert!(to_u64(Value::Int(-1), TypeCode::I8).is_err());
        assert_eq!(
            to_u64(Value::UInt(u64::MAX), TypeCode::U64).unwrap(),
            u64::MAX
        );
        assert!(to_i64(Value::Float(1.0), TypeCode::F64).is_err());
        assert!(to_f64(Value::Char(65), TypeCode::Ucs4).is_err());
        assert_eq!(to_f64(Value::Int(3), TypeCode::Int).unwrap(), 3.0);
        assert!(TypeCode::UInt.fits_i64());
        assert!(!TypeCode::U64.fits_i64());
        assert!(!TypeCode::F64.fits_i64());
    }
}
