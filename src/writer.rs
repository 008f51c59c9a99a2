//! [`Writer`]: an `FtArray`'s writer lock, held, with typed operations.
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

use crate::element::{Element, ElementLayout, from_bits, to_bits};
use crate::error::Error;
use crate::raw::{RawArray, RawWriter, backoff};
use crate::view::View;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;

/// An array a [`Writer`] can copy from inside a cross-array edit: `FtArray<U>` (which
/// implements it in `array.rs`, so this file does not depend on that one).
pub(crate) trait CopyFrom<U: Element> {
    /// The array's core.
    fn core(&self) -> &RawArray<U::Bits>;
}

/// The writer lock of an `FtArray`, held until drop; made by `FtArray::write`.
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

    /// The element at `index`, if it is below the length, read as the first half of a
    /// read-modify-write that [`replace`](Self::replace) completes.
    pub(crate) fn get_for_update(&mut self, index: usize) -> Option<T> {
        self.raw.get_for_update(index).map(from_bits)
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
    pub(crate) fn snapshot_range(&mut self, range: Range<usize>) -> Result<Vec<T>, Error> {
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
    pub(crate) fn snapshot(&mut self) -> Result<Vec<T>, Error> {
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

    /// Stores `value` at `index` if the element still holds `base`, read with
    /// [`get_for_update`](Self::get_for_update) under this lock; returns the element found there (`base`, unless a write
    /// through an export changed it meanwhile: that write is then kept rather than lost).
    ///
    /// # Panics
    ///
    /// If `index` is past the length, or `base` was not read with `get_for_update`.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a snapshot shares the storage and it cannot be copied.
    pub(crate) fn replace(&mut self, index: usize, base: T, value: T) -> Result<T, Error> {
        self.raw
            .replace(index, to_bits(base), to_bits(value))
            .map(from_bits)
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
    /// `base` is the snapshot `values` was computed from, taken under this same lock. While
    /// exported, each element that a write through the export changed since that snapshot
    /// keeps the write instead of getting its stale rewrite (see [`rewrite`](Self::rewrite)).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if the length would change while exported;
    /// [`Error::CapacityOverflow`]; [`Error::AllocFailed`].
    pub(crate) fn commit(&mut self, values: &[T], base: &[T]) -> Result<(), Error> {
        self.raw.commit(bytes(values), Some(bytes(base)))
    }

    /// Runs `edit` on a copy of the contents and publishes the result as the whole contents in
    /// one step (see [`commit`](Self::commit)); returns what `edit` returned.
    ///
    /// While exported, the copy is kept beside the edited one, so that the write-back can tell
    /// which elements a write through the export changed meanwhile: those keep that write,
    /// which counts as made just after the rewrite; no such write is ever overwritten with a
    /// stale copy. If `edit` panics, nothing changes.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if `edit` changed the length while exported (nothing changes);
    /// [`Error::CapacityOverflow`]; [`Error::AllocFailed`].
    pub(crate) fn rewrite<R>(&mut self, edit: impl FnOnce(&mut Vec<T>) -> R) -> Result<R, Error> {
        let mut values = self.snapshot()?;
        if self.raw.exports() == 0 {
            let result = edit(&mut values);
            self.raw.commit(bytes(&values), None)?;
            return Ok(result);
        }
        let mut base = Vec::new();
        base.try_reserve_exact(values.len())
            .map_err(|_| Error::AllocFailed {
                bytes: values.len().saturating_mul(size_of::<T>()),
            })?;
        base.extend_from_slice(&values);
        let result = edit(&mut values);
        self.commit(&values, &base)?;
        Ok(result)
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
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a snapshot shares the storage and it cannot be copied first.
    pub(crate) fn export(&mut self) -> Result<(NonNull<T>, usize), Error> {
        let (ptr, len) = self.raw.export()?;
        Ok((ptr.cast::<T>(), len))
    }

    // -----------------------------------------------------------------------------------------
    // Two arrays
    // -----------------------------------------------------------------------------------------

    /// Appends `other`'s elements as they were at one instant (`other` may be this array: its
    /// contents under the lock, through [`with_copy_of`](Self::with_copy_of)). From another
    /// array the elements go straight into this one's cells or new block
    /// (`RawWriter::append_array`), checked as `with_copy_of` checks its copy.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append). Nothing changes on error.
    pub(crate) fn append_array(&mut self, other: &impl CopyFrom<T>) -> Result<(), Error> {
        let core = other.core();
        if std::ptr::from_ref(core).cast::<()>() as usize == self.raw.array_addr() {
            return self.with_copy_of(other, |w, values| w.append(values));
        }
        self.raw.append_array(core)
    }

    /// Copies `other` (any element type; it may be this very array) and runs `edit` with the
    /// copy, so that the edit's change takes effect at an instant at which `other` held exactly
    /// the copy. Only this array's lock is ever held.
    ///
    /// `other` is read without its lock, and the copy is checked again inside the step that
    /// makes the edit's (first) change visible; if `other` changed in between, nothing becomes
    /// visible, the rest of the edit changes nothing, and the copy is taken and `edit` run
    /// again. So `edit` should make one change (as `a[i:j] = b`, `a += b` do), compute it
    /// only from its arguments, and not call `with_copy_of` itself. When `other` is this
    /// array, the copy is simply the contents under the lock.
    ///
    /// # Errors
    ///
    /// What `edit` returns.
    pub(crate) fn with_copy_of<U: Element, R>(
        &mut self,
        other: &impl CopyFrom<U>,
        mut edit: impl FnMut(&mut Self, &[U]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let other = other.core();
        let mut copy = Vec::new();
        if std::ptr::from_ref(other).cast::<()>() as usize == self.raw.array_addr() {
            // We hold this array's lock: no writer can change it while we read it.
            let guard = crate::reclaim::pin();
            other.read(&guard, |v| View::<U>::new(v).copy_into(&mut copy));
            drop(guard);
            return edit(self, &copy);
        }
        let mut failed = 0u32;
        loop {
            // Pinned for one attempt, not across them: an attempt that conflicts may retire a
            // whole new block (published tentatively, then swapped out), and one guard held
            // over every retry would keep all of those, and every other array's garbage in the
            // process, from being freed for as long as `other` keeps changing.
            let guard = crate::reclaim::pin();
            let stamp = other.read_stamped(&guard, &mut |v| View::<U>::new(v).copy_into(&mut copy));
            // SAFETY: `other` is borrowed for this whole call and `guard` pinned for this whole
            // attempt, and the check is removed below before either can end (on a panic too).
            unsafe { self.raw.set_check(Some(stamp.erase())) };
            let result = catch_unwind(AssertUnwindSafe(|| edit(self, &copy)));
            let conflicted = self.raw.conflicted();
            // SAFETY: removes the condition.
            unsafe { self.raw.set_check(None) };
            drop(guard);
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    use crate::FtArray;

    #[test]
    fn reads_under_the_lock_see_the_contents() {
        let a = FtArray::from_slice(&[1u16, 2, 3]);
        let mut w = a.write();
        assert_eq!((w.len(), w.capacity()), (3, 3));
        assert_eq!((w.get(2), w.get(3)), (Some(3), None));
        assert_eq!(w.view().iter().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(w.snapshot(), Ok(vec![1, 2, 3]));
        assert_eq!(w.snapshot_range(1..3), Ok(vec![2, 3]));
        assert_eq!(
            w.snapshot_range(2..4),
            Err(Error::RangeOutOfBounds {
                start: 2,
                end: 4,
                len: 3
            })
        );
        assert!(!w.strict_exports());
    }

    #[test]
    fn changes_resolve_against_the_length_under_the_lock() {
        let a = FtArray::from_slice(&[0i32, 1, 2, 3, 4]);
        let mut w = a.write();
        assert_eq!(w.set(0, 10), Ok(0));
        w.splice(1..3, &[7]).unwrap();
        assert_eq!(w.snapshot().unwrap(), [10, 7, 3, 4]);
        assert_eq!(
            w.splice(3..9, &[]),
            Err(Error::RangeOutOfBounds {
                start: 3,
                end: 9,
                len: 4
            })
        );
        w.set_strided(0, 2, &[-1, -2]).unwrap();
        assert_eq!(w.snapshot().unwrap(), [-1, 7, -2, 4]);
        assert_eq!(
            w.set_strided(2, 2, &[5, 5]),
            Err(Error::IndexOutOfRange { index: 4, len: 4 })
        );
        assert_eq!(
            w.set_strided(0, 0, &[5, 5]),
            Err(Error::IndexOutOfRange { index: 0, len: 4 })
        );
        w.append_repeat(9, 2).unwrap();
        w.append_bytes(&8i32.to_ne_bytes()).unwrap();
        assert_eq!(
            w.append_bytes(&[1, 2, 3]),
            Err(Error::BadByteLength {
                len: 3,
                item_size: 4
            })
        );
        assert_eq!(w.pop(), Ok(Some(8)));
        w.truncate(3).unwrap();
        assert_eq!(w.swap_remove(0), Ok(-1));
        let base = w.snapshot().unwrap();
        w.commit(&[1, 2, 3, 4, 5], &base).unwrap();
        drop(w);
        assert_eq!(a.to_vec(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn commit_while_exported_is_in_place_and_keeps_the_length() {
        let a = FtArray::from_slice(&[1u8, 2, 3]);
        let mut w = a.write();
        let (ptr, len) = w.export().unwrap();
        let base = w.snapshot().unwrap();
        assert_eq!(w.commit(&[1], &base), Err(Error::Exported { exports: 1 }));
        w.commit(&[7, 8, 9], &base).unwrap();
        assert_eq!(w.capacity(), 3);
        drop(w);
        // SAFETY: the export pins 3 elements; no other thread uses `a`.
        let seen = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) };
        assert_eq!(seen, [7, 8, 9]);
        // SAFETY: releases the export made above; `ptr` is not used again.
        unsafe { a.release_export() };
    }

    #[test]
    fn with_copy_of_another_array_of_another_type() {
        let a = FtArray::from_slice(&[1.5f64]);
        let b = FtArray::from_slice(&[2u8, 3]);
        let n = a
            .write()
            .with_copy_of(&b, |w, values| {
                let converted: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
                w.append(&converted)?;
                Ok(values.len())
            })
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(a.to_vec(), [1.5, 2.0, 3.0]);
    }

    #[test]
    fn with_copy_of_the_same_array_copies_it_under_the_lock() {
        let a = FtArray::from_slice(&[1u32, 2, 3]);
        a.write()
            .with_copy_of(&a, |w, values| w.splice(1..2, values))
            .unwrap();
        assert_eq!(a.to_vec(), [1, 1, 2, 3, 3]);
    }

    /// The other array changes between the copy and the edit's publishing step: nothing
    /// becomes visible, and the edit runs again with a fresh copy.
    #[test]
    fn with_copy_of_retries_when_the_other_array_changed() {
        for grow in [false, true] {
            let a = FtArray::<u32>::with_capacity(if grow { 1 } else { 16 });
            a.push(0);
            let b = FtArray::from_slice(&[1u32]);
            let mut runs = 0;
            a.write()
                .with_copy_of(&b, |w, values| {
                    runs += 1;
                    if runs == 1 {
                        b.push(2); // `b` is not locked by us: this lands before our step
                    }
                    w.append(values)
                })
                .unwrap();
            assert_eq!(runs, 2, "grow = {grow}");
            assert_eq!(
                a.to_vec(),
                [0, 1, 2],
                "grow = {grow}: the second copy went in"
            );
        }
    }

    /// After a conflict, further changes of the same edit are skipped too (the edit runs
    /// again), so an edit is never half published.
    #[test]
    fn with_copy_of_skips_every_change_after_a_conflict() {
        let a = FtArray::<u32>::with_capacity(16);
        let b = FtArray::from_slice(&[1u32]);
        let mut runs = 0;
        a.write()
            .with_copy_of(&b, |w, values| {
                runs += 1;
                if runs == 1 {
                    b.push(2);
                }
                w.append(values)?;
                w.append(&[100])
            })
            .unwrap();
        assert_eq!(runs, 2);
        assert_eq!(a.to_vec(), [1, 2, 100]);
    }

    #[test]
    fn with_copy_of_lets_a_panic_through_and_leaves_the_writer_usable() {
        let a = FtArray::from_slice(&[1u8]);
        let b = FtArray::from_slice(&[2u8]);
        let mut w = a.write();
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
            w.with_copy_of(&b, |_, _| -> Result<(), Error> { panic!("edit failed") })
        }));
        assert!(r.is_err());
        w.push(3).unwrap(); // no stale check left behind
        drop(w);
        assert_eq!(a.to_vec(), [1, 3]);
    }

    /// An edit whose other array keeps changing retries, and each conflicting attempt that
    /// grows this array retires a whole new block. Those must be freed as the retries go on,
    /// not held until the last one: the guard is pinned per attempt.
    ///
    /// Run alone in a child process (this test binary again, with an environment variable
    /// set): the retired-bytes count is process-wide, and other tests' guards would hold the
    /// epoch back.
    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn with_copy_of_frees_the_blocks_of_conflicting_attempts_as_it_retries() {
        const CHILD: &str = "FTARRAY_RETRY_GARBAGE_CHILD";
        const MIB: usize = 1 << 20;
        if std::env::var_os(CHILD).is_none() {
            let status = crate::testing::run_child(
                &crate::testing::test_path!(
                    "with_copy_of_frees_the_blocks_of_conflicting_attempts_as_it_retries"
                ),
                &[(CHILD, "1")],
                false,
            );
            assert!(
                status.success(),
                "the child failed (its panic is above): {status:?}"
            );
            return;
        }
        // Full, so every attempt's append builds a block of about 2 MiB.
        let a = FtArray::from_slice(&vec![0u8; MIB]);
        let b = FtArray::from_slice(&[1u8]);
        let base = crate::reclaim::retired_bytes();
        let (mut runs, mut peak) = (0, 0);
        a.write()
            .with_copy_of(&b, |w, values| {
                runs += 1;
                peak = peak.max(crate::reclaim::retired_bytes().saturating_sub(base));
                if runs <= 40 {
                    b.push(2); // this attempt conflicts
                }
                w.append(values)
            })
            .unwrap();
        assert_eq!(runs, 41);
        assert_eq!(a.len(), MIB + 41);
        // Every attempt built a block of the capacity `a` has now (2 MiB, or the room a large
        // growing array reserves: `block::build_grown`). Held across the retries, the 40
        // retired ones would add up to 40 of them.
        let block = a.capacity();
        assert!(
            peak < 8 * block,
            "{} MiB retired and unfreed during the retries ({} blocks of {} MiB)",
            peak / MIB,
            peak / block,
            block / MIB
        );
    }
}
