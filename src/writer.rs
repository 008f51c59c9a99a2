//! [`Writer`]: an [`FtArray`]'s writer lock, held, with typed operations.
//!
//! The crate-internal interface that `FtArray`'s public writes, and the runtime-typed layer
//! built on it, use to resolve indices and slices *at the linearization point*: everything done
//! through one `Writer` happens under one lock, so a length read from it is still the length
//! when the change it decides is made. A typed face over [`RawWriter`](crate::raw::RawWriter):
//! it converts elements to words and bytes, and nothing here knows about orderings.
//!
//! Each method makes at most one visible change, which takes effect at one instant; a
//! sequence of calls on one `Writer` is *not* one step for readers (they may see the array
//! between two calls), only for other writers.

use crate::array::FtArray;
use crate::element::{Element, ElementLayout, from_bits, to_bits};
use crate::error::Error;
use crate::raw::{RawWriter, backoff};
use crate::view::View;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;

/// The writer lock of an [`FtArray`], held until drop; made by `FtArray::write`.
pub(crate) struct Writer<'a, T: Element> {
    raw: RawWriter<'a, T::Bits>,
}

/// The bytes of `values` (native order), as the core takes them.
#[inline(always)]
fn bytes<T: Element>(values: &[T]) -> &[u8] {
    bytemuck::cast_slice(values)
}

/// `range` checked against `len`.
fn within(range: Range<usize>, len: usize) -> Result<Range<usize>, Error> {
    if range.start > range.end || range.end > len {
        return Err(Error::RangeOutOfBounds {
            start: range.start,
            end: range.end,
            len,
        });
    }
    Ok(range)
}

impl<'a, T: Element> Writer<'a, T> {
    pub(crate) fn new(raw: RawWriter<'a, T::Bits>) -> Self {
        let () = ElementLayout::<T>::CHECKED;
        Writer { raw }
    }

    // -----------------------------------------------------------------------------------------
    // Reads under the lock (no writer can change anything meanwhile)
    // -----------------------------------------------------------------------------------------

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.raw.len()
    }

    /// How many elements fit before the storage has to move.
    #[allow(
        dead_code,
        reason = "interface for the runtime-typed layer (issue 8, part 2)"
    )]
    pub(crate) fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// The element at `index`, if it is below the length.
    pub(crate) fn get(&self, index: usize) -> Option<T> {
        self.raw.get(index).map(from_bits)
    }

    /// The current elements, for reading under the lock.
    pub(crate) fn view(&self) -> View<'_, T> {
        View::new(self.raw.view())
    }

    /// A copy of the elements in `range`.
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`]; [`Error::AllocFailed`] if the copy cannot be allocated.
    pub(crate) fn snapshot_range(&self, range: Range<usize>) -> Result<Vec<T>, Error> {
        let range = within(range, self.len())?;
        let n = range.len();
        let mut out: Vec<T> = Vec::new();
        out.try_reserve_exact(n).map_err(|_| Error::AllocFailed {
            bytes: n.saturating_mul(size_of::<T>()),
        })?;
        // SAFETY: `out` has room for `n` elements, that is `n * size_of::<T>()` bytes, which is
        // `n` words (`Element`'s contract, checked by `ElementLayout`); the core copies exactly
        // those bytes, and every byte pattern is a valid `T` (`Pod`), so the first `n` elements
        // are initialised afterwards.
        unsafe {
            self.raw.copy_out(range, out.as_mut_ptr().cast::<u8>());
            out.set_len(n);
        }
        Ok(out)
    }

    /// A copy of all elements.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`].
    pub(crate) fn snapshot(&self) -> Result<Vec<T>, Error> {
        self.snapshot_range(0..self.len())
    }

    /// Whether the strict export rule is on (it cannot change while the lock is held).
    #[allow(
        dead_code,
        reason = "interface for the runtime-typed layer (issue 8, part 2)"
    )]
    pub(crate) fn strict_exports(&self) -> bool {
        self.raw.strict()
    }

    // -----------------------------------------------------------------------------------------
    // Changes
    // -----------------------------------------------------------------------------------------

    /// Stores `value` at `index` and returns the old element.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`].
    pub(crate) fn set(&mut self, index: usize, value: T) -> Result<T, Error> {
        self.raw.set(index, to_bits(value)).map(from_bits)
    }

    /// Swaps the elements at `a` and `b`.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] for the first bad index.
    pub(crate) fn swap(&mut self, a: usize, b: usize) -> Result<(), Error> {
        self.raw.swap(a, b)
    }

    /// Appends `value`.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append).
    #[inline]
    pub(crate) fn push(&mut self, value: T) -> Result<(), Error> {
        self.raw.push(to_bits(value))
    }

    /// Appends `values`.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if the storage must move while exported (or anything is appended
    /// while exported under the strict rule); [`Error::CapacityOverflow`];
    /// [`Error::AllocFailed`].
    pub(crate) fn append(&mut self, values: &[T]) -> Result<(), Error> {
        self.raw.append(bytes(values), None)
    }

    /// Appends the elements whose native-order bytes are `bytes` (Python's `frombytes`).
    ///
    /// # Errors
    ///
    /// [`Error::BadByteLength`] if `bytes` is not a whole number of elements; otherwise as
    /// [`append`](Self::append).
    pub(crate) fn append_bytes(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let item_size = size_of::<T>();
        if bytes.len() % item_size != 0 {
            return Err(Error::BadByteLength {
                len: bytes.len(),
                item_size,
            });
        }
        self.raw.append(bytes, None)
    }

    /// Appends `n` copies of `value`.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append).
    pub(crate) fn append_repeat(&mut self, value: T, n: usize) -> Result<(), Error> {
        self.raw.append(&[], Some((to_bits(value), n)))
    }

    /// Shortens the array to `len` elements; nothing if it is not longer.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under the strict rule while exported.
    pub(crate) fn truncate(&mut self, len: usize) -> Result<(), Error> {
        self.raw.truncate(len)
    }

    /// Removes and returns the last element.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under the strict rule while exported.
    pub(crate) fn pop(&mut self) -> Result<Option<T>, Error> {
        self.raw.pop().map(|x| x.map(from_bits))
    }

    /// Removes the element at `index`, putting the last one in its place.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`]; [`Error::Exported`] under the strict rule while exported.
    pub(crate) fn swap_remove(&mut self, index: usize) -> Result<T, Error> {
        self.raw.swap_remove(index).map(from_bits)
    }

    /// Replaces the elements in `range` with `values` (any lengths).
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`]; [`Error::Exported`] if the storage would move while
    /// exported (or the length would change, under the strict rule);
    /// [`Error::CapacityOverflow`]; [`Error::AllocFailed`].
    pub(crate) fn splice(&mut self, range: Range<usize>, values: &[T]) -> Result<(), Error> {
        let range = within(range, self.len())?;
        self.raw.splice(range, bytes(values))
    }

    /// Stores `values[k]` at `start + k * step` for every `k`, in one step (extended slice
    /// assignment; for a negative Python step, pass the lowest index and the values reversed).
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] for the last index if it is past the length (nothing is
    /// stored); [`Error::AllocFailed`].
    pub(crate) fn set_strided(
        &mut self,
        start: usize,
        step: usize,
        values: &[T],
    ) -> Result<(), Error> {
        let Some(last_k) = values.len().checked_sub(1) else {
            return Ok(());
        };
        let len = self.len();
        let last = last_k
            .checked_mul(step)
            .and_then(|d| d.checked_add(start))
            .unwrap_or(usize::MAX);
        if last >= len || (step == 0 && last_k > 0) {
            return Err(Error::IndexOutOfRange { index: last, len });
        }
        self.raw.set_strided(start, step, bytes(values))
    }

    /// Publishes `values` as the whole contents in one step: a new block, or written in place
    /// (same length only) while exported.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if the length would change while exported;
    /// [`Error::CapacityOverflow`]; [`Error::AllocFailed`].
    pub(crate) fn commit(&mut self, values: &[T]) -> Result<(), Error> {
        self.raw.commit(bytes(values))
    }

    /// Makes room for `additional` more elements, exactly or growing geometrically.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`], [`Error::AllocFailed`], [`Error::Exported`].
    pub(crate) fn reserve(&mut self, additional: usize, exact: bool) -> Result<(), Error> {
        self.raw.reserve(additional, exact)
    }

    /// Moves the elements to storage of exactly their length.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`]; [`Error::AllocFailed`].
    pub(crate) fn shrink_to_fit(&mut self) -> Result<(), Error> {
        self.raw.shrink_to_fit()
    }

    /// Turns the strict export rule on or off: while on, any change of the length fails with
    /// [`Error::Exported`] while an export is alive (CPython's `BufferError` rule); while off,
    /// only changes that would move or free the storage do.
    pub(crate) fn set_strict_exports(&mut self, strict: bool) {
        self.raw.set_strict(strict);
    }

    /// Counts one more export and returns the first element (dangling but aligned when there
    /// are none) and the length. The caller releases it with `FtArray::release_export`.
    pub(crate) fn export(&mut self) -> (NonNull<T>, usize) {
        let (ptr, len) = self.raw.export();
        (ptr.cast::<T>(), len)
    }

    // -----------------------------------------------------------------------------------------
    // Two arrays
    // -----------------------------------------------------------------------------------------

    /// Copies `other` (any element type; it may be this very array) and runs `edit` with the
    /// copy, so that the edit's change takes effect at an instant at which `other` held exactly
    /// the copy. Only this array's lock is ever held.
    ///
    /// `other` is read without its lock, and the copy is checked again inside the step that
    /// makes the edit's (first) change visible; if `other` changed in between, nothing becomes
    /// visible, the rest of the edit changes nothing, and the copy is taken and `edit` run
    /// again. So `edit` should make one change (as `a[i:j] = b`, `a += b` do), and compute it
    /// only from its arguments. When `other` is this array, the copy is simply the contents
    /// under the lock.
    ///
    /// # Errors
    ///
    /// What `edit` returns.
    pub(crate) fn with_copy_of<U: Element, R>(
        &mut self,
        other: &FtArray<U>,
        mut edit: impl FnMut(&mut Self, &[U]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let guard = crossbeam_epoch::pin();
        let mut copy = Vec::new();
        if other.is_at(self.raw.array_addr()) {
            // We hold this array's lock: no writer can change it while we read it.
            other.read(&guard, |v| v.copy_into(&mut copy));
            return edit(self, &copy);
        }
        let mut failed = 0u32;
        loop {
            let stamp = other.read_stamped(&guard, |v| v.copy_into(&mut copy));
            // SAFETY: `other` is borrowed and `guard` pinned for this whole call, and the
            // check is removed below before either can end (on a panic too).
            unsafe { self.raw.set_check(Some(stamp.erase())) };
            let result = catch_unwind(AssertUnwindSafe(|| edit(self, &copy)));
            let conflicted = self.raw.conflicted();
            // SAFETY: removes the condition.
            unsafe { self.raw.set_check(None) };
            match result {
                Err(panic) => resume_unwind(panic),
                Ok(result) if !conflicted => return result,
                Ok(_) => {}
            }
            failed = failed.saturating_add(1);
            backoff(failed);
        }
    }
}
