//! Whole-array operations: extend, truncate, resize, clear, reserve, reverse, byteswap,
//! repeat, concatenate, slices, snapshot copies and comparison.
//!
//! Slices are given as `start, stop, step` exactly as CPython's `PySlice_Unpack` leaves
//! them: an omitted `start` is `0` (step > 0) or `PTRDIFF_MAX` (step < 0); an omitted `stop`
//! is `PTRDIFF_MAX` (step > 0) or `PTRDIFF_MIN` (step < 0); an omitted step is 1. Negative
//! bounds count from the end and everything is clamped as Python does, against the length at
//! the instant the operation takes effect.

use crate::boundary::{Fail, Status, ffi};
use crate::handle::{self, Handle};
use ftarray::{CompareOp, Slice, Value};
use std::ffi::c_void;

fn slice(start: isize, stop: isize, step: isize) -> Slice {
    Slice::new(Some(start), Some(stop), Some(step))
}

/// Appends the elements encoded in `bytes[0..nbytes]` (native order, as Python's
/// `frombytes`), all or nothing.
///
/// Aliasing: `bytes` may point into memory that other threads write at the same time, such
/// as another array's export (or this array's own). It is first copied with atomic loads,
/// never read as plain memory, so the call has no data race, and an element another thread
/// is writing at that instant is read whole, either before or after that write. Inside a live
/// export (of any handle) every 8-byte unit the input touches is loaded whole, as the arrays'
/// own accesses are; other memory with one 64-bit load per aligned 8 bytes and loads at least
/// as wide as an element at the unaligned ends (byte by byte only if `bytes` is not aligned to
/// the item size). The copy is then appended in one step. `bytes` may be NULL when `nbytes`
/// is 0.
///
/// Errors: `FTARRAY_STATUS_BAD_LENGTH` (not a multiple of the item size),
/// `FTARRAY_STATUS_EXPORTED`, `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: `bytes` stays the caller's.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `bytes` must be valid for reads of `nbytes` bytes, and
/// any concurrent writes to them must be atomic (an ftarray array's own writes are; inside an
/// export, writes to the rest of the 8-byte units the input touches must be atomic too, as
/// the export's contract asks of any access while other threads use the array).
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_extend_bytes(
    a: *mut Handle,
    bytes: *const c_void,
    nbytes: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `bytes` is readable for `nbytes` bytes, written only atomically.
        let data = unsafe { handle::copy_in_bytes("bytes", bytes.cast(), nbytes, a.typecode()) }?;
        Ok(a.extend_bytes(&data)?)
    })
}

/// Appends the elements of `other`, which may be `a` itself (`ftarray_extend(a, a)` doubles
/// `a`). `other` is read while `a`'s lock is held, so the append is one instant of both.
///
/// Errors: `FTARRAY_STATUS_TYPE_MISMATCH`, `FTARRAY_STATUS_EXPORTED`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `a` and `other` must be NULL or live handles.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_extend(a: *mut Handle, other: *const Handle) -> Status {
    ffi!(array a, array other => Ok(a.extend(other)?))
}

/// Shortens the array to `len` elements (nothing if it is not longer).
///
/// Errors: `FTARRAY_STATUS_EXPORTED` (strict rule only: truncation never moves storage).
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_truncate(a: *mut Handle, len: usize) -> Status {
    ffi!(array a => Ok(a.truncate(len)?))
}

/// Resizes the array to `len` elements; new slots hold the element encoded in
/// `fill[0..fill_len]` (`fill_len` the item size), or zero when `fill` is NULL and
/// `fill_len` is 0.
///
/// Errors: `FTARRAY_STATUS_BAD_LENGTH`, `FTARRAY_STATUS_OVERFLOW` (a fill code point out of
/// range), `FTARRAY_STATUS_EXPORTED`, `FTARRAY_STATUS_CAPACITY_OVERFLOW`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `fill` must be NULL or valid for reads of `fill_len`
/// bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_resize(
    a: *mut Handle,
    len: usize,
    fill: *const c_void,
    fill_len: usize,
) -> Status {
    ffi!(array a => {
        let code = a.typecode();
        let value = if fill.is_null() && fill_len == 0 {
            handle::zero(code)
        } else {
            // SAFETY: the contract: `fill` is readable for `fill_len` bytes.
            let x = unsafe { handle::copy_in_element("fill", fill.cast(), fill_len, code) }?;
            handle::value_from_bytes(code, &x)
        };
        Ok(a.resize(len, value)?)
    })
}

/// Removes every element, keeping the capacity.
///
/// Errors: `FTARRAY_STATUS_EXPORTED` under the strict rule.
///
/// Threads: readers on other threads see the old contents or none, never freed memory.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_clear(a: *mut Handle) -> Status {
    ffi!(array a => Ok(a.clear()?))
}

/// Makes room for at least `additional` more elements.
///
/// Errors: `FTARRAY_STATUS_CAPACITY_OVERFLOW`, `FTARRAY_STATUS_OUT_OF_MEMORY`,
/// `FTARRAY_STATUS_EXPORTED` (growing would move exported storage).
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_reserve(a: *mut Handle, additional: usize) -> Status {
    ffi!(array a => Ok(a.reserve(additional)?))
}

/// Reverses the elements, in one step (readers see the old order or the new one).
///
/// Errors: `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_reverse(a: *mut Handle) -> Status {
    ffi!(array a => Ok(a.reverse()?))
}

/// Reverses the bytes of every element (Python's `byteswap`), in one step.
///
/// Errors: `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_byteswap(a: *mut Handle) -> Status {
    ffi!(array a => Ok(a.byteswap()?))
}

/// Python's `a *= n`: the contents repeated `n` times; `n <= 0` empties the array.
///
/// Errors: `FTARRAY_STATUS_EXPORTED`, `FTARRAY_STATUS_CAPACITY_OVERFLOW`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_repeat_in_place(a: *mut Handle, n: isize) -> Status {
    ffi!(array a => Ok(a.repeat_in_place(n)?))
}

/// Python's `a * n`: a new array with the contents of `a` repeated `n` times (empty for
/// `n <= 0`).
///
/// Errors: `FTARRAY_STATUS_CAPACITY_OVERFLOW`, `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// Ownership: the caller owns `*out` (free it with `ftarray_free`).
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_repeat(
    a: *const Handle,
    n: isize,
    out: *mut *mut Handle,
) -> Status {
    ffi!(array a, out out => {
        *out = Handle::into_raw(a.repeat(n)?);
        Ok(())
    })
}

/// Python's `a + b`: a new array holding `a`'s elements then `b`'s, both read at one instant
/// (`b` may be `a`).
///
/// Errors: `FTARRAY_STATUS_TYPE_MISMATCH`, `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// Ownership: the caller owns `*out` (free it with `ftarray_free`).
///
/// # Safety
///
/// `a` and `b` must be NULL or live handles; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_concat(
    a: *const Handle,
    b: *const Handle,
    out: *mut *mut Handle,
) -> Status {
    ffi!(array a, array b, out out => {
        *out = Handle::into_raw(a.concat(b)?);
        Ok(())
    })
}

/// Python's `a[start:stop:step]`: a new array holding the selected elements, read at one
/// instant. See the slice convention at the top of this header.
///
/// Errors: `FTARRAY_STATUS_ZERO_STEP`, `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// Ownership: the caller owns `*out` (free it with `ftarray_free`).
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_slice(
    a: *const Handle,
    start: isize,
    stop: isize,
    step: isize,
    out: *mut *mut Handle,
) -> Status {
    ffi!(array a, out out => {
        *out = Handle::into_raw(a.get_slice(slice(start, stop, step))?);
        Ok(())
    })
}

/// Python's `a[start:stop:step] = src` (`src` may be `a`): any length for step 1; for other
/// steps `src` must have as many elements as the selection, or none (which deletes the
/// selection, as CPython's `array` does). Takes effect at one instant.
///
/// Errors: `FTARRAY_STATUS_TYPE_MISMATCH`, `FTARRAY_STATUS_ZERO_STEP`,
/// `FTARRAY_STATUS_BAD_LENGTH`, `FTARRAY_STATUS_EXPORTED`, `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` and `src` must be NULL or live handles.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_slice(
    a: *mut Handle,
    start: isize,
    stop: isize,
    step: isize,
    src: *const Handle,
) -> Status {
    ffi!(array a, array src => Ok(a.set_slice(slice(start, stop, step), src)?))
}

/// Python's `a[start:stop:step] = array(typecode, bytes)`: as `ftarray_set_slice` with the
/// elements encoded in `bytes[0..nbytes]`, copied with atomic loads (see
/// `ftarray_extend_bytes`). `bytes` may be NULL when `nbytes` is 0.
///
/// Errors: as `ftarray_set_slice`, and `FTARRAY_STATUS_BAD_LENGTH` for a byte length that is
/// not a multiple of the item size.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `bytes` must be valid for reads of `nbytes` bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_slice_bytes(
    a: *mut Handle,
    start: isize,
    stop: isize,
    step: isize,
    bytes: *const c_void,
    nbytes: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `bytes` is readable for `nbytes` bytes, written only atomically.
        let data = unsafe { handle::copy_in_bytes("bytes", bytes.cast(), nbytes, a.typecode()) }?;
        Ok(a.set_slice_bytes(slice(start, stop, step), &data)?)
    })
}

/// Python's `del a[start:stop:step]`.
///
/// Errors: `FTARRAY_STATUS_ZERO_STEP`, `FTARRAY_STATUS_EXPORTED`,
/// `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_del_slice(
    a: *mut Handle,
    start: isize,
    stop: isize,
    step: isize,
) -> Status {
    ffi!(array a => Ok(a.del_slice(slice(start, stop, step))?))
}

/// Copies every element's bytes (native order), taken at one instant, into `dst[0..cap]`.
///
/// On `FTARRAY_STATUS_OK`, `*nbytes` is the number of bytes written. If `cap` is too small
/// at that instant, nothing is written to `dst`, `*nbytes` receives the size needed then,
/// and the call returns `FTARRAY_STATUS_BUFFER_TOO_SMALL` (ask again with at least that
/// much: the array may have grown meanwhile). `dst` may be NULL when `cap` is 0: the
/// "needed size" query.
///
/// Threads: any thread; never waits for a writer's O(n) work.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `dst` must be valid for writes of `cap` bytes that no
/// other thread accesses during the call; `nbytes` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_copy_bytes(
    a: *const Handle,
    dst: *mut c_void,
    cap: usize,
    nbytes: *mut usize,
) -> Status {
    ffi!(array a, out nbytes => {
        // SAFETY: the contract: `dst` is writable for `cap` bytes, by this call alone.
        let dst = unsafe { handle::out_bytes("dst", dst.cast(), cap) }?;
        match a.copy_bytes_to(dst) {
            Ok(n) => {
                *nbytes = n;
                Ok(())
            }
            Err(ftarray::Error::LengthMismatch { expected, actual }) => {
                *nbytes = expected;
                Err(Fail::new(
                    Status::BufferTooSmall,
                    format!("the array needs {expected} bytes; the buffer has {actual}"),
                ))
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// Copies the elements `a[start:stop]` (a step-1 slice: negative bounds count from the end,
/// and both are clamped as Python clamps them), taken at one instant, into `dst[0..cap]` as
/// native-order bytes: an interpreter's `tolist`, chunked iteration, `sum` or slicing without a
/// call per element.
///
/// On `FTARRAY_STATUS_OK`, `*nbytes` is the number of bytes written (the range's length times
/// the item size; 0 for an empty range). If `cap` is too small at that instant, nothing is
/// written to `dst`, `*nbytes` receives the size needed then, and the call returns
/// `FTARRAY_STATUS_BUFFER_TOO_SMALL`. `dst` may be NULL when `cap` is 0.
///
/// Threads: any thread; never waits for a writer's O(n) work.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `dst` must be valid for writes of `cap` bytes that no
/// other thread accesses during the call; `nbytes` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_range(
    a: *const Handle,
    start: isize,
    stop: isize,
    dst: *mut c_void,
    cap: usize,
    nbytes: *mut usize,
) -> Status {
    ffi!(array a, out nbytes => {
        // SAFETY: the contract: `dst` is writable for `cap` bytes, by this call alone.
        let dst = unsafe { handle::out_bytes("dst", dst.cast(), cap) }?;
        match a.copy_range_to(start, stop, dst) {
            Ok(n) => {
                *nbytes = n;
                Ok(())
            }
            Err(ftarray::Error::LengthMismatch { expected, actual }) => {
                *nbytes = expected;
                Err(Fail::new(
                    Status::BufferTooSmall,
                    format!("the range needs {expected} bytes; the buffer has {actual}"),
                ))
            }
            Err(e) => Err(e.into()),
        }
    })
}

/// Overwrites the elements `a[start:stop]` (clamped as `ftarray_get_range` clamps) with the
/// elements encoded in `src[0..nbytes]`, at one instant; the length never changes, so the
/// range must hold exactly `nbytes / itemsize` elements at that instant. `src` is copied with
/// atomic loads first (see `ftarray_extend_bytes`) and may be NULL when `nbytes` is 0.
///
/// Errors: `FTARRAY_STATUS_BAD_LENGTH` (not whole elements, or not as many as the range has:
/// nothing changes), `FTARRAY_STATUS_EXPORTED` (a range too large to rewrite in place while
/// exported), `FTARRAY_STATUS_OUT_OF_MEMORY`, `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `src` must be valid for reads of `nbytes` bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_set_range(
    a: *mut Handle,
    start: isize,
    stop: isize,
    src: *const c_void,
    nbytes: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `src` is readable for `nbytes` bytes, written only atomically.
        let data = unsafe { handle::copy_in_bytes("src", src.cast(), nbytes, a.typecode()) }?;
        Ok(a.set_range_bytes(start, stop, &data)?)
    })
}

/// Sets every element of `a[start:stop]` (clamped as `ftarray_get_range` clamps) to `value`,
/// at one instant (`ftarray_fill_i64(a, 0, PTRDIFF_MAX, 0)` zeroes the array).
///
/// Errors: `FTARRAY_STATUS_OVERFLOW` (a value the elements cannot hold: nothing changes),
/// `FTARRAY_STATUS_WRONG_KIND`, `FTARRAY_STATUS_EXPORTED` (a range too large to rewrite in
/// place while exported), `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fill_i64(
    a: *mut Handle,
    start: isize,
    stop: isize,
    value: i64,
) -> Status {
    ffi!(array a => Ok(a.fill(start, stop, Value::from(value))?))
}

/// As `ftarray_fill_i64`, with a `uint64_t` value.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fill_u64(
    a: *mut Handle,
    start: isize,
    stop: isize,
    value: u64,
) -> Status {
    ffi!(array a => Ok(a.fill(start, stop, Value::from(value))?))
}

/// As `ftarray_fill_i64`, with a `double` (float arrays only; a `'f'` array stores the nearest
/// float).
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fill_f64(
    a: *mut Handle,
    start: isize,
    stop: isize,
    value: f64,
) -> Status {
    ffi!(array a => Ok(a.fill(start, stop, Value::from(value))?))
}

/// As `ftarray_fill_i64`, with the element encoded in `fill[0..fill_len]` (`fill_len` the item
/// size; the bits as they are, a character array's code point checked as
/// `ftarray_push_bytes` checks it).
///
/// # Safety
///
/// `a` must be NULL or a live handle; `fill` must be NULL or valid for reads of `fill_len`
/// bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_fill_bytes(
    a: *mut Handle,
    start: isize,
    stop: isize,
    fill: *const c_void,
    fill_len: usize,
) -> Status {
    ffi!(array a => {
        // SAFETY: the contract: `fill` is readable for `fill_len` bytes.
        let x = unsafe { handle::copy_in_element("fill", fill.cast(), fill_len, a.typecode()) }?;
        match handle::char_value(a.typecode(), &x) {
            Some(v) => Ok(a.fill(start, stop, v)?),
            None => Ok(a.fill_bytes(start, stop, &x)?),
        }
    })
}

/// Writes to `*out` the bytes of memory `a` holds: its storage (capacity times item size) and
/// the handle itself, as Python's `__sizeof__` counts them; what a host's garbage collector
/// accounts an array for. Storage retired by earlier writes and not yet freed is not counted
/// (`ftarray_get_stats` has the process-wide figure). An upper bound for a large array grown
/// step by step on 64-bit Linux: its capacity includes room reserved as address space, whose
/// pages take memory only once the array grows into them (up to 16 times its length).
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_nbytes(a: *const Handle, out: *mut usize) -> Status {
    ffi!(array a, out out => {
        *out = size_of::<Handle>().saturating_add(a.capacity().saturating_mul(a.itemsize()));
        Ok(())
    })
}

/// Gives back the capacity beyond the length: a block of exactly the length is published (in
/// one step) and the old one retired.
///
/// Errors: `FTARRAY_STATUS_EXPORTED` (the storage would move), `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_shrink_to_fit(a: *mut Handle) -> Status {
    ffi!(array a => Ok(a.shrink_to_fit()?))
}

/// Sorts the elements in ascending order, in one step (readers see the old order or the new
/// one): integers and characters by value, floats by IEEE 754's total order (`-NaN < -inf <
/// ... < -0.0 < +0.0 < ... < +inf < +NaN`). Stable.
///
/// Errors: `FTARRAY_STATUS_OUT_OF_MEMORY`.
///
/// # Safety
///
/// `a` must be NULL or a live handle.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_sort(a: *mut Handle) -> Status {
    ffi!(array a => Ok(a.sort()?))
}

/// The six comparison operators of `ftarray_compare`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Lt = 0,
    /// `<=`
    Le = 1,
    /// `==`
    Eq = 2,
    /// `!=`
    Ne = 3,
    /// `>`
    Gt = 4,
    /// `>=`
    Ge = 5,
}

/// Python's rich comparison `a OP b` of two arrays, by value across type codes (an `'i'`
/// array equals a `'d'` array holding the same numbers): the first differing elements decide,
/// else the lengths. Both arrays are read at one instant; `b` may be `a`. `op` is an
/// `ftarray_compare_op` value.
///
/// Errors: `FTARRAY_STATUS_INVALID_ARGUMENT` for an unknown `op`;
/// `FTARRAY_STATUS_UNORDERED` when an ordering meets a character and a number.
///
/// # Safety
///
/// `a` and `b` must be NULL or live handles; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_compare(
    a: *const Handle,
    b: *const Handle,
    op: std::ffi::c_int,
    out: *mut bool,
) -> Status {
    ffi!(array a, array b, out out => {
        let op = match op {
            0 => CompareOp::Lt,
            1 => CompareOp::Le,
            2 => CompareOp::Eq,
            3 => CompareOp::Ne,
            4 => CompareOp::Gt,
            5 => CompareOp::Ge,
            _ => {
                return Err(Fail::new(
                    Status::InvalidArgument,
                    format!("unknown comparison operator {op} (expected 0..=5)"),
                ));
            }
        };
        *out = a.compare(b, op)?;
        Ok(())
    })
}
