//! Atomic read-modify-write on one element: fetch-add and compare-exchange.
//!
//! Each takes effect in one step under the array's lock, so concurrent calls on the same
//! element never lose an update. The `_i64` variants need every element value to fit an
//! `int64_t` (signed types, and the unsigned types narrower than 64 bits) and the `_u64`
//! variants an unsigned element type, checked before anything changes: the old value is
//! handed back after the write, when it is too late to fail.

use crate::boundary::{Fail, Status, ffi};
use crate::handle::{self, Handle};
use ftarray::{DynArray, Kind, Value};

fn need_i64(a: &DynArray) -> Result<(), Fail> {
    if a.typecode().fits_i64() {
        Ok(())
    } else {
        Err(wrong(
            a,
            "every element value fits an int64_t (use the _u64 or _f64 variant)",
        ))
    }
}

fn need_u64(a: &DynArray) -> Result<(), Fail> {
    if a.typecode().kind() == Kind::Unsigned {
        Ok(())
    } else {
        Err(wrong(
            a,
            "unsigned integer elements (use the _i64 or _f64 variant)",
        ))
    }
}

fn need_f64(a: &DynArray) -> Result<(), Fail> {
    if a.typecode().kind() == Kind::Float {
        Ok(())
    } else {
        Err(wrong(a, "float elements (use the _i64 or _u64 variant)"))
    }
}

fn wrong(a: &DynArray, needs: &str) -> Fail {
    let code = a.typecode();
    Fail::new(
        Status::WrongKind,
        format!(
            "this operation needs {needs}, not type code '{code}' ({})",
            code.c_name()
        ),
    )
}

/// Adds `delta` to the element at `index` in one step, wrapping around on overflow as C's
/// unsigned arithmetic does, and writes the old value to `*old`.
///
/// For arrays whose every value fits an `int64_t`: `'b' 'B' 'h' 'H' 'i' 'I' 'q'`, and
/// `'l'`/`'L'` where they do (`'L'` only where `long` is 32 bits).
///
/// Errors: `FTARRAY_STATUS_WRONG_KIND` for other type codes; `FTARRAY_STATUS_INDEX_ERROR`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `old` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fetch_add_i64(
    a: *mut Handle,
    index: isize,
    delta: i64,
    old: *mut i64,
) -> Status {
    ffi!(array a, out old => {
        need_i64(a)?;
        *old = handle::to_i64(a.fetch_add(index, Value::from(delta))?, a.typecode())?;
        Ok(())
    })
}

/// Adds `delta` to the element at `index` in one step, modulo 2^(8 * item size) (so
/// `UINT64_MAX` subtracts 1), and writes the old value to `*old`. Unsigned integer arrays
/// only: `'B' 'H' 'I' 'L' 'Q'`.
///
/// Errors: `FTARRAY_STATUS_WRONG_KIND` for other type codes; `FTARRAY_STATUS_INDEX_ERROR`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `old` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fetch_add_u64(
    a: *mut Handle,
    index: isize,
    delta: u64,
    old: *mut u64,
) -> Status {
    ffi!(array a, out old => {
        need_u64(a)?;
        *old = handle::to_u64(a.fetch_add(index, Value::from(delta))?, a.typecode())?;
        Ok(())
    })
}

/// Adds `delta` to the element at `index` in one step (IEEE 754 arithmetic in the element's
/// precision) and writes the old value to `*old`. Float arrays only: `'f' 'd'`.
///
/// Errors: `FTARRAY_STATUS_WRONG_KIND` for other type codes; `FTARRAY_STATUS_INDEX_ERROR`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `old` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fetch_add_f64(
    a: *mut Handle,
    index: isize,
    delta: f64,
    old: *mut f64,
) -> Status {
    ffi!(array a, out old => {
        need_f64(a)?;
        *old = handle::to_f64(a.fetch_add(index, Value::from(delta))?, a.typecode())?;
        Ok(())
    })
}

/// If the element at `index` equals `*expected`, replaces it with `desired` and sets
/// `*exchanged` to true; otherwise writes the element's actual value to `*expected` and sets
/// `*exchanged` to false (as C11's `atomic_compare_exchange_strong`). One step either way.
///
/// For the type codes of `ftarray_fetch_add_i64`.
///
/// Errors: `FTARRAY_STATUS_WRONG_KIND`; `FTARRAY_STATUS_OVERFLOW` if `*expected` or
/// `desired` is outside the element type's range; `FTARRAY_STATUS_INDEX_ERROR`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `expected` must be NULL or valid for reads and writes;
/// `exchanged` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_compare_exchange_i64(
    a: *mut Handle,
    index: isize,
    expected: *mut i64,
    desired: i64,
    exchanged: *mut bool,
) -> Status {
    ffi!(array a, out expected, out exchanged => {
        need_i64(a)?;
        match a.compare_exchange(index, Value::from(*expected), Value::from(desired))? {
            Ok(_) => *exchanged = true,
            Err(actual) => {
                *expected = handle::to_i64(actual, a.typecode())?;
                *exchanged = false;
            }
        }
        Ok(())
    })
}

/// As `ftarray_compare_exchange_i64`, for unsigned integer arrays (`'B' 'H' 'I' 'L' 'Q'`)
/// and `uint64_t` values.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `expected` must be NULL or valid for reads and writes;
/// `exchanged` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_compare_exchange_u64(
    a: *mut Handle,
    index: isize,
    expected: *mut u64,
    desired: u64,
    exchanged: *mut bool,
) -> Status {
    ffi!(array a, out expected, out exchanged => {
        need_u64(a)?;
        match a.compare_exchange(index, Value::from(*expected), Value::from(desired))? {
            Ok(_) => *exchanged = true,
            Err(actual) => {
                *expected = handle::to_u64(actual, a.typecode())?;
                *exchanged = false;
            }
        }
        Ok(())
    })
}
