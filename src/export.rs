//! [`Export`]: a guard that pins an array's storage so a raw pointer to it stays valid.

use crate::array::FtArray;
use crate::element::{Element, Word, from_bits, to_bits};
use crate::sync::AtomicU64;
use crate::sync::Ordering::{Acquire, Relaxed, Release};
use std::fmt;

impl<T: Element> FtArray<T> {
    /// Pins the storage and returns a raw view of it (what Python's buffer protocol and C hosts
    /// need). See [`Export`](crate::Export).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// let e = a.export();
    /// assert_eq!(e.len(), 2);
    /// assert!(a.try_push(3).is_err()); // full, and the storage may not move
    /// ```
    ///
    /// # Panics
    ///
    /// If a snapshot shares the storage and the copy the export needs cannot be allocated;
    /// see [`try_export`](Self::try_export).
    pub fn export(&self) -> crate::Export<'_, T> {
        self.try_export().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`export`](Self::export), returning an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`](crate::Error::AllocFailed) if a [`Snapshot`](crate::Snapshot) shares the storage and the
    /// copy the export needs (an export's holder may write, a snapshot never changes) cannot
    /// be allocated; nothing is exported then.
    pub fn try_export(&self) -> Result<crate::Export<'_, T>, crate::Error> {
        let (ptr, len) = self.try_export_raw()?;
        Ok(Export {
            array: self,
            ptr,
            len,
        })
    }

    /// Pins the storage and returns a read-only raw view of it: the same pin as
    /// [`export`](Self::export), with no way to write. See
    /// [`ReadOnlyExport`](crate::ReadOnlyExport).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// let e = a.export_readonly();
    /// assert_eq!(e.len(), 2);
    /// assert!(a.try_push(3).is_err()); // full, and the storage may not move
    /// ```
    pub fn export_readonly(&self) -> crate::ReadOnlyExport<'_, T> {
        ReadOnlyExport(self.export())
    }
}

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
/// The length is the array's length when the export was made.
///
/// # Accessing the elements through the pointer
///
/// The elements lie at the pointer as in a plain `[T]`, but the array stores them in aligned
/// 64-bit atomic units (a unit holds 8 `u8`, 4 `u16`, 2 `u32` or one 8-byte element; the
/// pointer is 8-aligned and the storage is padded to a whole unit), and its own readers and
/// writers load and store whole units atomically, without any lock that the export's holder
/// could take. Rust's memory model forbids racing atomic accesses of different sizes, so:
///
/// * **Reading** through the pointer is sound only while no other thread can write to the
///   array, or with [`load`](Export::load), which loads the element's whole unit atomically. A
///   plain read, `slice::from_raw_parts`, a `memcpy`, or an atomic load of the element's own
///   size (`AtomicU32::from_ptr`) that overlaps a write by another thread is undefined
///   behaviour in Rust's memory model, and a byte-wise copy can tear an element in practice.
/// * **Writing** through the pointer races with every lock-free reader of the array as well,
///   and those reads are not validated against writes made through the pointer (they bypass
///   the array's version counter), so a reader may see some of a multi-element write and not
///   the rest. Write only with [`store`](Export::store) (a compare-and-swap on the element's
///   unit, which keeps its neighbours), or while no other thread uses the array at all.
///
/// # Writes that meet the array's own read-modify-writes
///
/// While exported, the array's operations that read elements and write results back in place
/// (`update`, `retain`, `reverse`, `sort_by`, `byteswap`, `fetch_update`, `fetch_add`, `swap`,
/// `swap_remove`, `set`) read the storage with atomic unit loads and write each unit back with
/// a compare-and-swap against what they read. An element that a [`store`](Export::store)
/// changed in between keeps that store's value: the store counts as made just after the
/// operation. So a holder's write is never overwritten with a stale copy, and the array's own
/// edits of the other elements all land. (Lock-free readers of the array see such a store
/// as soon as it is made, without the version check that makes the array's own edits atomic.)
///
/// ```
/// let a = ftarray::FtArray::from_slice(&[1u16, 2, 3]);
/// let e = a.export();
/// // The closure runs between the update's snapshot and its write-back, as a holder's write
/// // on another thread could.
/// a.update(|v| {
///     e.store(1, 99);
///     v[0] = 10;
///     v[1] = 20;
/// })
/// .unwrap();
/// assert_eq!(a.to_vec(), [10, 99, 3]);
/// ```
///
/// A holder that only reads should use [`FtArray::export_readonly`], whose guard has no
/// writable pointer.
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
///
/// An export borrows its array, so it cannot outlive it:
///
/// ```compile_fail,E0597
/// let e;
/// {
///     let a = ftarray::FtArray::from_slice(&[1u8]);
///     e = a.export();
/// }
/// let _ = e.len();
/// ```
pub struct Export<'a, T: Element> {
    array: &'a FtArray<T>,
    ptr: *mut T,
    len: usize,
}

impl<'a, T: Element> Export<'a, T> {
    /// The first element (dangling but aligned when the length is 0).
    pub fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// The first element, for writing. See the type's docs: writes that may overlap any other
    /// thread's use of the array must be atomic stores.
    pub fn as_mut_ptr(&self) -> *mut T {
        self.ptr
    }

    /// The number of elements the pointer is valid for: the length when the export was made.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The 64-bit unit holding element `index` and the element's slot in it, or `None` past
    /// the export's length.
    fn unit(&self, index: usize) -> Option<(&AtomicU64, usize)> {
        if index >= self.len {
            return None;
        }
        let per_unit = <T::Bits as Word>::PER_UNIT;
        // The pointer is the first cell of the block, the start of its array of units (exports
        // always start at element 0): unit `index / per_unit` holds the element. Computed in
        // units rather than bytes so that it also holds under loom, whose atomics are larger.
        let unit = self.ptr.cast::<AtomicU64>().wrapping_add(index / per_unit);
        // The storage is an array of initialised 64-bit atomic units starting at `ptr`, and
        // element `index` is below the export's length, so `unit` is a live unit of it; the
        // units are only ever accessed atomically (or by a holder breaking the rules above).
        // SAFETY: the export keeps that unit alive and in place for `'a` (see above).
        let unit = unsafe { &*unit };
        Some((unit, index % per_unit))
    }

    /// Element `index`, read with one atomic load of the unit that holds it: the sound way to
    /// read through an export while other threads may write the array. `None` past the
    /// export's length (the length when the export was made; the array may be shorter now,
    /// and then this reads a stale or zeroed slot that is still inside the storage).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[10u16, 20, 30]);
    /// let e = a.export();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| a.set(1, 21));
    ///     let v = e.load(1).unwrap();
    ///     assert!(v == 20 || v == 21);
    /// });
    /// assert_eq!(e.load(3), None);
    /// ```
    pub fn load(&self, index: usize) -> Option<T> {
        let (unit, slot) = self.unit(index)?;
        // Acquire: pairs with nothing in the array (its stores are ordered by its own version
        // protocol), but makes writes the holder's other threads published with Release
        // through `store` visible, as a reader of shared memory would expect.
        let bits = <T::Bits as Word>::from_unit(unit.load(Acquire), slot);
        Some(from_bits(bits))
    }

    /// Stores `value` as element `index` through the export: a compare-and-swap loop on the
    /// element's unit, so writes to its neighbours (by the array or by other holders) are
    /// kept, and the array's own read-modify-writes never write a stale copy over it (see the
    /// type's docs). Returns `false`, storing nothing, past the export's length. The array's
    /// lock-free readers do not validate such writes.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2, 3]);
    /// let e = a.export();
    /// assert!(e.store(2, 9));
    /// assert!(!e.store(3, 9));
    /// drop(e);
    /// assert_eq!(a.to_vec(), [1, 2, 9]);
    /// ```
    pub fn store(&self, index: usize, value: T) -> bool {
        let Some((unit, slot)) = self.unit(index) else {
            return false;
        };
        let bits = to_bits(value);
        // Release: what this thread wrote before is visible to a holder that `load`s this value.
        let _ = unit.fetch_update(Release, Relaxed, |old| Some(bits.into_unit(old, slot)));
        true
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

/// A read-only [`Export`]: the same pin on the storage, and a pointer for reading only.
///
/// Made by [`FtArray::export_readonly`]. Reads through the pointer follow the rules of
/// [`Export`] (atomic loads, unless no other thread can write to the array meanwhile); the
/// holder never writes, so the array's own readers never race with it.
///
/// ```
/// let a = ftarray::FtArray::from_slice(&[7u16, 8]);
/// let e = a.export_readonly();
/// // SAFETY: no other thread uses `a` meanwhile.
/// let view = unsafe { std::slice::from_raw_parts(e.as_ptr(), e.len()) };
/// assert_eq!(view, [7, 8]);
/// assert_eq!(a.export_count(), 1);
/// ```
#[derive(Debug)]
pub struct ReadOnlyExport<'a, T: Element>(Export<'a, T>);

impl<'a, T: Element> ReadOnlyExport<'a, T> {
    /// The first element (dangling but aligned when the length is 0).
    pub fn as_ptr(&self) -> *const T {
        self.0.as_ptr()
    }

    /// The number of elements the pointer is valid for: the length when the export was made.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Element `index`, read with one atomic load of its unit (see [`Export::load`]).
    pub fn load(&self, index: usize) -> Option<T> {
        self.0.load(index)
    }

    /// Whether that length is zero.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The size of the exported region in bytes.
    pub fn byte_len(&self) -> usize {
        self.0.byte_len()
    }

    /// The exported array.
    pub fn array(&self) -> &'a FtArray<T> {
        self.0.array()
    }
}
