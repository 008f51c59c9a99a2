//! [`Export`]: a guard that pins an array's storage so a raw pointer to it stays valid.

use crate::array::FtArray;
use crate::element::Element;
use std::fmt;

/// Pins an [`FtArray`]'s storage and exposes it as a raw pointer and a length: what Python's
/// buffer protocol (`memoryview`) and C hosts need.
///
/// While any export is alive, the storage neither moves nor is freed. Operations that would
/// need to move it (growing past the capacity, `insert`, `remove`, `shrink_to_fit`, …) fail
/// with [`Error::Exported`](crate::Error::Exported) and change nothing. Operations that keep the
/// storage in place still work: `set`, `push`/`extend` within the capacity, `pop`, `truncate`,
/// `clear`, `swap_remove`, and length-preserving rewrites (`reverse`, `byteswap`, `sort_by`, an
/// equal-length `replace_range` or `update`), which are then written in place; readers still see
/// each as one step, though they wait for it.
///
/// The length is the array's length when the export was made. Reading and writing through
/// the pointer is the holder's business: it must not race with writes to the array from other
/// threads (the elements are atomic words; a host that needs concurrent access can treat them as
/// atomics of the element's size).
///
/// ```
/// use ftarray::{Error, FtArray};
///
/// let a = FtArray::from_slice(&[1u32, 2, 3]);
/// {
///     let e = a.export();
///     // SAFETY: no other thread touches `a` while we read through the export.
///     let view = unsafe { std::slice::from_raw_parts(e.as_ptr(), e.len()) };
///     assert_eq!(view, [1, 2, 3]);
///     assert!(matches!(a.insert(0, 0), Err(Error::Exported { exports: 1 })));
///     a.reverse(); // same length: done in place
///     assert_eq!(view, [3, 2, 1]);
/// }
/// a.insert(0, 0).unwrap(); // the export is gone
/// ```
pub struct Export<'a, T: Element> {
    array: &'a FtArray<T>,
    ptr: *mut T,
    len: usize,
}

impl<'a, T: Element> Export<'a, T> {
    pub(crate) fn new(array: &'a FtArray<T>, ptr: *mut T, len: usize) -> Self {
        Export { array, ptr, len }
    }

    /// The first element (dangling but aligned when the length is 0).
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// The first element, for writing (see the type's docs for who must synchronise writes).
    pub fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The number of elements the pointer is valid for: the length when the export was made.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether that length is zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size of the exported region in bytes.
    pub fn byte_len(&self) -> usize {
        self.len * size_of::<T>()
    }

    /// The exported array.
    pub fn array(&self) -> &'a FtArray<T> {
        self.array
    }
}

impl<T: Element> Drop for Export<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard was made by `FtArray::export`, which counted one export; we release
        // exactly that one, and the pointer is not reachable through `self` any more.
        unsafe { self.array.release_export() };
    }
}

impl<T: Element> fmt::Debug for Export<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Export")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

// SAFETY: an `Export` is a shared borrow of a `Sync` array plus a raw pointer that it never
// dereferences itself; every access through the pointer is `unsafe` and synchronised by the
// caller. Sending or sharing the guard moves no data.
unsafe impl<T: Element> Send for Export<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Element> Sync for Export<'_, T> {}
