//! Searching by value: contains, index, count, remove.
//!
//! An element matches when it equals the value exactly, by mathematical value, as Python
//! compares numbers: an integer value is found in a float array holding the same number, a
//! `double` such as `1.0` in an integer array holding `1` (but `1.5` never); a value the
//! element type cannot hold (`-1` in a `'B'` array, `300` in a `'b'` array) is simply not
//! found. Each search reads the
//! array at one instant and never waits for a writer's O(n) work.

use crate::boundary::{Status, ffi};
use crate::handle::Handle;
use ftarray::Value;

/// Writes to `*out` whether some element equals `value`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_contains_i64(
    a: *const Handle,
    value: i64,
    out: *mut bool,
) -> Status {
    ffi!(array a, out out => {
        *out = a.contains(Value::from(value));
        Ok(())
    })
}

/// Writes to `*out` whether some element equals `value`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_contains_u64(
    a: *const Handle,
    value: u64,
    out: *mut bool,
) -> Status {
    ffi!(array a, out out => {
        *out = a.contains(Value::from(value));
        Ok(())
    })
}

/// Writes to `*out` whether some element equals `value` (a NaN equals nothing).
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_contains_f64(
    a: *const Handle,
    value: f64,
    out: *mut bool,
) -> Status {
    ffi!(array a, out out => {
        *out = a.contains(Value::from(value));
        Ok(())
    })
}

/// Writes to `*out` the index of the first element equal to `value` within `start..stop`
/// (clamped as Python's `index(x, start, stop)`: negative bounds count from the end; pass
/// `0, PTRDIFF_MAX` for the whole array).
///
/// Errors: `FTARRAY_STATUS_NOT_FOUND`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_index_i64(
    a: *const Handle,
    value: i64,
    start: isize,
    stop: isize,
    out: *mut usize,
) -> Status {
    ffi!(array a, out out => {
        *out = a.index(Value::from(value), start, stop)?;
        Ok(())
    })
}

/// As `ftarray_index_i64`, for a `uint64_t` value.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_index_u64(
    a: *const Handle,
    value: u64,
    start: isize,
    stop: isize,
    out: *mut usize,
) -> Status {
    ffi!(array a, out out => {
        *out = a.index(Value::from(value), start, stop)?;
        Ok(())
    })
}

/// As `ftarray_index_i64`, for a `double` value.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_index_f64(
    a: *const Handle,
    value: f64,
    start: isize,
    stop: isize,
    out: *mut usize,
) -> Status {
    ffi!(array a, out out => {
        *out = a.index(Value::from(value), start, stop)?;
        Ok(())
    })
}

/// Writes to `*out` how many elements equal `value`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_count_i64(
    a: *const Handle,
    value: i64,
    out: *mut usize,
) -> Status {
    ffi!(array a, out out => {
        *out = a.count(Value::from(value));
        Ok(())
    })
}

/// Writes to `*out` how many elements equal `value`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_count_u64(
    a: *const Handle,
    value: u64,
    out: *mut usize,
) -> Status {
    ffi!(array a, out out => {
        *out = a.count(Value::from(value));
        Ok(())
    })
}

/// Writes to `*out` how many elements equal `value`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_count_f64(
    a: *const Handle,
    value: f64,
    out: *mut usize,
) -> Status {
    ffi!(array a, out out => {
        *out = a.count(Value::from(value));
        Ok(())
    })
}

/// Removes the first element equal to `value` (Python's `remove`) and writes its index to
/// `*index_out`.
///
/// Errors: `FTARRAY_STATUS_NOT_FOUND`, `FTARRAY_STATUS_EXPORTED`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `index_out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_remove_i64(
    a: *mut Handle,
    value: i64,
    index_out: *mut usize,
) -> Status {
    ffi!(array a, out index_out => {
        *index_out = a.remove_value(Value::from(value))?;
        Ok(())
    })
}

/// As `ftarray_remove_i64`, for a `uint64_t` value.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `index_out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_remove_u64(
    a: *mut Handle,
    value: u64,
    index_out: *mut usize,
) -> Status {
    ffi!(array a, out index_out => {
        *index_out = a.remove_value(Value::from(value))?;
        Ok(())
    })
}

/// As `ftarray_remove_i64`, for a `double` value.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `index_out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_remove_f64(
    a: *mut Handle,
    value: f64,
    index_out: *mut usize,
) -> Status {
    ffi!(array a, out index_out => {
        *index_out = a.remove_value(Value::from(value))?;
        Ok(())
    })
}
