//! Single elements: get, set, push, pop, insert; as raw element bytes or as `int64_t`,
//! `uint64_t` and `double`.
//!
//! Indices are `ptrdiff_t` and may be negative (counting from the end, as Python's): each is
//! resolved against the length at the instant the operation takes effect, never against a
//! length read earlier.

use crate::boundary::{Status, ffi};
use crate::handle::{self, Handle};
use ftarray::{Slice, Value};
use std::ffi::c_void;

/// Copies the bytes of the element at `index` (native order) into `out[0..out_len]`;
/// `out_len` must be the item size.
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`, `FTARRAY_STATUS_BAD_LENGTH`,
/// `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Threads: any thread; never waits for a writer's O(n) work.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes of `out_len`
/// bytes that no other thread accesses during the call.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_bytes(
    a: *const Handle,
    index: isize,
    out: *mut c_void,
    out_len: usize,
) -> Status {
    ffi!(array a, storage_guard g => {
        // SAFETY: the contract: `out` is writable for `out_len` bytes, by this call alone.
        let dst = unsafe { handle::out_bytes("out", out.cast(), out_len) }?;
        Ok(a.get_bytes_in(index, dst, g)?)
    })
}

/// Writes the element at `index` to `*out` as an `int64_t`.
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`; `FTARRAY_STATUS_OVERFLOW` if the element does not
/// fit (a `'Q'` element above `INT64_MAX`); `FTARRAY_STATUS_WRONG_KIND` for a float array
/// (use `ftarray_get_f64`). Character arrays give the code point.
///
/// Threads: any thread; never waits for a writer's O(n) work.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_i64(a: *const Handle, index: isize, out: *mut i64) -> Status {
    ffi!(array a, out out, storage_guard g => {
        *out = handle::to_i64(a.get_in(index, g)?, a.typecode())?;
        Ok(())
    })
}

/// Writes the element at `index` to `*out` as a `uint64_t`.
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`; `FTARRAY_STATUS_OVERFLOW` for a negative element;
/// `FTARRAY_STATUS_WRONG_KIND` for a float array.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_u64(a: *const Handle, index: isize, out: *mut u64) -> Status {
    ffi!(array a, out out, storage_guard g => {
        *out = handle::to_u64(a.get_in(index, g)?, a.typecode())?;
        Ok(())
    })
}

/// Writes the element at `index` to `*out` as a `double` (integers above 2^53 are rounded
/// to the nearest double).
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`; `FTARRAY_STATUS_WRONG_KIND` for a character array.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_f64(a: *const Handle, index: isize, out: *mut f64) -> Status {
    ffi!(array a, out out, storage_guard g => {
        *out = handle::to_f64(a.get_in(index, g)?, a.typecode())?;
        Ok(())
    })
}

/// Replaces the element at `index` with the element encoded in `bytes[0..nbytes]` (native
/// order; `nbytes` must be the item size). `bytes` is copied with atomic loads (see
/// `ftarray_extend_bytes`).
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`, `FTARRAY_STATUS_BAD_LENGTH`,
/// `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `bytes` must be NULL or valid for reads of `nbytes`
/// bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_bytes(
    a: *mut Handle,
    index: isize,
    bytes: *const c_void,
    nbytes: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `bytes` is readable for `nbytes` bytes.
        let x = unsafe { handle::copy_in_element("bytes", bytes.cast(), nbytes, a.typecode()) }?;
        match handle::char_value(a.typecode(), &x) {
            Some(v) => Ok(a.set(index, v)?),
            None => Ok(a.set_bytes(index, &x)?),
        }
    })
}

/// Replaces the element at `index` with `value`.
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`; `FTARRAY_STATUS_OVERFLOW` if `value` is outside the
/// element type's range (nothing changes); for float arrays the nearest float is stored.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_i64(a: *mut Handle, index: isize, value: i64) -> Status {
    ffi!(array a => Ok(a.set(index, Value::from(value))?))
}

/// Replaces the element at `index` with `value`. Errors as `ftarray_set_i64`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_u64(a: *mut Handle, index: isize, value: u64) -> Status {
    ffi!(array a => Ok(a.set(index, Value::from(value))?))
}

/// Replaces the element at `index` with `value` (float arrays only; a `'f'` array stores the
/// nearest float).
///
/// Errors: `FTARRAY_STATUS_INDEX_ERROR`; `FTARRAY_STATUS_WRONG_KIND` for integer and
/// character arrays.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_f64(a: *mut Handle, index: isize, value: f64) -> Status {
    ffi!(array a => Ok(a.set(index, Value::from(value))?))
}

/// Appends the element encoded in `bytes[0..nbytes]` (`nbytes` must be the item size).
///
/// Errors: `FTARRAY_STATUS_BAD_LENGTH`; `FTARRAY_STATUS_EXPORTED` (growth past the capacity
/// while exported, or any append under the strict rule); `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `bytes` must be NULL or valid for reads of `nbytes`
/// bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_push_bytes(
    a: *mut Handle,
    bytes: *const c_void,
    nbytes: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `bytes` is readable for `nbytes` bytes.
        let x = unsafe { handle::copy_in_element("bytes", bytes.cast(), nbytes, a.typecode()) }?;
        match handle::char_value(a.typecode(), &x) {
            Some(v) => Ok(a.push(v)?),
            None => Ok(a.extend_bytes(&x)?),
        }
    })
}

/// Appends `value`. Errors: `FTARRAY_STATUS_OVERFLOW`, and as `ftarray_push_bytes`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_push_i64(a: *mut Handle, value: i64) -> Status {
    ffi!(array a => Ok(a.push(Value::from(value))?))
}

/// Appends `value`. Errors: `FTARRAY_STATUS_OVERFLOW`, and as `ftarray_push_bytes`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_push_u64(a: *mut Handle, value: u64) -> Status {
    ffi!(array a => Ok(a.push(Value::from(value))?))
}

/// Appends `value` (float arrays only). Errors: `FTARRAY_STATUS_WRONG_KIND`, and as
/// `ftarray_push_bytes`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_push_f64(a: *mut Handle, value: f64) -> Status {
    ffi!(array a => Ok(a.push(Value::from(value))?))
}

/// Removes the element at `index` (`-1`: the last, as Python's `pop()`) and writes its bytes
/// to `out[0..out_len]`, exactly as stored (a float's NaN payload included); `out_len` must be
/// the item size (checked before anything changes).
///
/// Errors: `FTARRAY_STATUS_EMPTY`, `FTARRAY_STATUS_INDEX_ERROR`, `FTARRAY_STATUS_BAD_LENGTH`,
/// `FTARRAY_STATUS_EXPORTED` (removing before the end moves elements; any pop under the
/// strict rule), `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes of `out_len`
/// bytes that no other thread accesses during the call.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_pop(
    a: *mut Handle,
    index: isize,
    out: *mut c_void,
    out_len: usize,
) -> Status {
    ffi!(array a => {
        let code = a.typecode();
        if out_len != code.itemsize() {
            return Err(ftarray::Error::LengthMismatch { expected: code.itemsize(), actual: out_len }.into());
        }
        // SAFETY: the contract: `out` is writable for `out_len` bytes, by this call alone.
        let dst = unsafe { handle::out_bytes("out", out.cast(), out_len) }?;
        // The stored bits, unconverted: a float's NaN payload (a signalling NaN) survives.
        Ok(a.pop_bytes(index, dst)?)
    })
}

/// Inserts the element encoded in `bytes[0..nbytes]` before `index`, clamped into
/// `0..=len` as Python's `insert` does (`-1`: before the last; past the end: append).
///
/// Errors: `FTARRAY_STATUS_BAD_LENGTH`, `FTARRAY_STATUS_EXPORTED`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `bytes` must be NULL or valid for reads of `nbytes`
/// bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_insert_bytes(
    a: *mut Handle,
    index: isize,
    bytes: *const c_void,
    nbytes: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `bytes` is readable for `nbytes` bytes.
        let x = unsafe { handle::copy_in_element("bytes", bytes.cast(), nbytes, a.typecode()) }?;
        if let Some(v) = handle::char_value(a.typecode(), &x) {
            return Ok(a.insert(index, v)?);
        }
        // `a[i:i] = [x]` is `insert(i, x)`, with the same clamping, and keeps the exact bits.
        Ok(a.set_slice_bytes(Slice::range(index, index), &x)?)
    })
}

/// Inserts `value` before `index` (clamped as `ftarray_insert_bytes`). Errors:
/// `FTARRAY_STATUS_OVERFLOW`, and as `ftarray_insert_bytes`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_insert_i64(a: *mut Handle, index: isize, value: i64) -> Status {
    ffi!(array a => Ok(a.insert(index, Value::from(value))?))
}

/// Inserts `value` before `index` (clamped as `ftarray_insert_bytes`). Errors:
/// `FTARRAY_STATUS_OVERFLOW`, and as `ftarray_insert_bytes`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_insert_u64(a: *mut Handle, index: isize, value: u64) -> Status {
    ffi!(array a => Ok(a.insert(index, Value::from(value))?))
}

/// Inserts `value` before `index` (float arrays only; clamped as `ftarray_insert_bytes`).
/// Errors: `FTARRAY_STATUS_WRONG_KIND`, and as `ftarray_insert_bytes`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_insert_f64(a: *mut Handle, index: isize, value: f64) -> Status {
    ffi!(array a => Ok(a.insert(index, Value::from(value))?))
}
