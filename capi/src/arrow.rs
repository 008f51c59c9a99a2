//! The Arrow C Data Interface: hand one instant of an array to an Arrow consumer without a
//! copy, and make an array from an Arrow primitive array.

use crate::boundary::{Status, ffi};
use crate::handle::Handle;
use ftarray::DynArray;
use ftarray::arrow::{ArrowArray, ArrowSchema};

/// Exports a snapshot of `a` through the Arrow C Data Interface: fills `*out_array` and
/// `*out_schema` (the interface's `struct ArrowArray` and `struct ArrowSchema`) with a primitive
/// array without nulls whose data buffer is the snapshot's own memory, no copy. The consumer
/// reads one instant of `a` that never changes under it, while `a`'s writers go on (the first
/// write after the snapshot copies the array's storage instead of touching the snapshot's), and
/// calls each struct's `release` when it is done; the snapshot is freed then, even after `a`
/// itself.
///
/// Formats: `c C s S i I l L f g` for the signed and unsigned integers of 8 to 64 bits, float
/// and double; the character type codes `'u'` and `'w'` are exported as unsigned integers of
/// their size.
///
/// Errors: `FTARRAY_STATUS_OUT_OF_MEMORY` if the snapshot must copy and cannot,
/// `FTARRAY_STATUS_ERROR` for an array longer than `INT64_MAX`.
///
/// Ownership: the caller owns the two structs' contents and must call their `release`.
/// Threads: any thread; never waits for a writer's O(n) work.
///
/// # Safety
///
/// `a` must be NULL or a live handle; `out_array` and `out_schema` must be NULL or valid for
/// writes of their struct (their old contents are overwritten, not released).
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_export_arrow(
    a: *const Handle,
    out_array: *mut ArrowArray,
    out_schema: *mut ArrowSchema,
) -> Status {
    ffi!(array a, out out_array, out out_schema => {
        let (array, schema) = a.export_arrow()?;
        // Written, not assigned: the caller's structs hold no live Arrow data (assigning would
        // run the old value's drop, which releases it).
        // SAFETY: `out_array` and `out_schema` are valid for writes (checked by `ffi!`).
        unsafe {
            std::ptr::write(out_array, array);
            std::ptr::write(out_schema, schema);
        }
        Ok(())
    })
}

/// Makes a new array holding a copy of an Arrow primitive array's elements (formats `c C s S i
/// I l L f g`, with the matching type code `b B h H i I q Q f d`), honouring its offset. The
/// Arrow structs are left as they were: release them as usual.
///
/// Errors: `FTARRAY_STATUS_ERROR` for a released array or schema, another format, nulls or
/// children (the message says which); `FTARRAY_STATUS_OUT_OF_MEMORY`;
/// `FTARRAY_STATUS_NULL_ARGUMENT`.
///
/// Ownership: the caller owns the new handle.
///
/// # Safety
///
/// `array` and `schema` must be NULL or valid Arrow C Data Interface structs (live or
/// released) whose buffers hold the elements they describe and are not written during the
/// call; `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_import_arrow(
    array: *const ArrowArray,
    schema: *const ArrowSchema,
    out: *mut *mut Handle,
) -> Status {
    ffi!(input array, input schema, out out => {
        // SAFETY: the caller's contract, as `import_arrow` states it.
        let imported = unsafe { DynArray::import_arrow(array, schema) }?;
        *out = Handle::into_raw(imported);
        Ok(())
    })
}
