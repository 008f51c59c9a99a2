//! [`FtArray`]: the public, typed face of the array.
//!
//! Every method here is a short call into the crate-internal interface below it: reads go
//! through [`FtArray::read`] (a validated [`View`] of the elements), writes through
//! [`FtArray::write`] (the [`Writer`], which holds the lock). This file converts, resolves
//! ranges and documents; how reads are validated and writes published lives in `raw/`.

use crate::element::{Arith, Element, ElementLayout, Word, from_bits, to_bits};
use crate::error::Error;
use crate::raw::RawArray;
use crate::view::View;
use crate::writer::{CopyFrom, Writer};
use crossbeam_epoch::Guard;
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::ops::{Bound, Range, RangeBounds};

/// A growable array of plain numbers that any number of threads can read and write at once.
///
/// Share it by reference (`&FtArray<T>`, `Arc<FtArray<T>>`): every method takes `&self`.
///
/// * **Reads** ([`get`](Self::get), [`len`](Self::len), [`to_vec`](Self::to_vec),
///   [`contains`](Self::contains), …) take no lock. Each sees one state of the array that really
///   existed between the call and its return, and retries if a writer changed the array under it.
/// * **Writes** ([`push`](Self::push), [`set`](Self::set), [`insert`](Self::insert), …) take a
///   per-array lock, so they happen one at a time. Each takes effect at one instant: small edits
///   (set, push, pop, truncate, and any edit that stores at most 8 KiB + 64 bytes within the
///   capacity, such as an `insert` into an array of up to 8 KiB or an `update` of one) in place
///   inside one short step, and larger edits that rewrite visible elements (insert, remove,
///   reverse, sort, …) by building a new buffer and publishing it with one pointer swap, so
///   readers never wait for work that grows with the array. The exception is an array with a
///   live [`export`](Self::export): its storage cannot move, so a length-preserving rewrite
///   (`update`, `reverse`, `sort_by`, `byteswap`), an equal-length `replace_range` and a
///   `replace_strided` are written in place as one step of O(n) stores, and readers wait for
///   that step.
/// * **Memory** a reader may still be using is never freed under it: replaced buffers go to
///   the epoch collector (`crossbeam-epoch`) and are freed once no reader can hold them.
///
/// ```
/// use ftarray::FtArray;
/// use std::sync::Arc;
///
/// let a = Arc::new(FtArray::from_slice(&[1u32, 2, 3]));
/// let writer = {
///     let a = Arc::clone(&a);
///     std::thread::spawn(move || {
///         for i in 0..100 {
///             a.push(i);
///         }
///         a.clear();
///     })
/// };
/// // Readers never crash and never see an element that was not stored at that index.
/// for _ in 0..100 {
///     if let Some(v) = a.get(0) {
///         assert!(v == 1 || v == 0);
///     }
/// }
/// writer.join().unwrap();
/// assert!(a.is_empty());
/// ```
///
/// # Deadlocks
///
/// The closures given to [`update`](Self::update), [`retain`](Self::retain),
/// [`sort_by`](Self::sort_by) and [`fetch_update`](Self::fetch_update) (and their `try_` forms)
/// run while this array's writer lock is held. Inside them, any call on the *same array* that
/// takes that lock waits for itself forever. The calls that take it are:
///
/// * every write: `set`, `fetch_update`, `fetch_add`, `fetch_sub`, `swap`, `push`, `pop`,
///   `insert`, `remove`, `remove_item`, `swap_remove`, `extend_from_slice`,
///   `extend_from_array` (as the destination), `extend_from_bytes`, `truncate`, `clear`,
///   `resize`, `reserve`, `reserve_exact`, `shrink_to_fit`, `replace_range`, `replace_strided`,
///   `remove_range`, `retain`, `update`, `reverse`, `sort`, `sort_by`, `byteswap`, their `try_`
///   forms, and `Extend::extend`;
/// * the exports: `export`, `export_readonly`, `export_raw`.
///
/// Reads never take it (nor wait for it) and are fine inside a closure: `get`, `len`,
/// `to_vec`, `iter`, `reader`, `==`, `clone`, `a.extend_from_array(&this)` with this array as
/// the *source*, and so on; they see the array as it was before the closure's edit. Other
/// arrays may be read freely.
///
/// Writing *another* array from inside a closure takes that array's lock while this one is
/// held, which is the one way to hold two ftarray locks at once (no method of the crate does
/// so by itself). As with any two mutexes, two threads that do it in opposite orders deadlock:
/// `a.update(|_| b.push(1))` on one thread and `b.update(|_| a.push(1))` on another can each
/// wait for the other forever. Compute inside the closure and write the other array after it
/// returns, or always nest the arrays in one order.
pub struct FtArray<T: Element> {
    /// The concurrent core, over the element's word type.
    raw: RawArray<T::Bits>,
    _elem: PhantomData<T>,
}

/// A range resolved against a length; `Err` if reversed or past the end.
pub(crate) fn resolve(
    (start, end): (Bound<usize>, Bound<usize>),
    len: usize,
) -> Result<Range<usize>, Error> {
    let err = |start: usize, end: usize| Error::RangeOutOfBounds { start, end, len };
    let s = match start {
        Bound::Included(s) => s,
        Bound::Excluded(s) => s.checked_add(1).ok_or(err(usize::MAX, usize::MAX))?,
        Bound::Unbounded => 0,
    };
    let e = match end {
        Bound::Included(e) => e.checked_add(1).ok_or(err(s, usize::MAX))?,
        Bound::Excluded(e) => e,
        // `max`: a start past the end (`4..` on length 3) is out of bounds, not reversed.
        Bound::Unbounded => len.max(s),
    };
    if s > e || e > len {
        return Err(err(s, e));
    }
    Ok(s..e)
}

/// The bounds of `range`, by value.
pub(crate) fn bounds(range: impl RangeBounds<usize>) -> (Bound<usize>, Bound<usize>) {
    (range.start_bound().cloned(), range.end_bound().cloned())
}

// ---------------------------------------------------------------------------------------------
// The crate-internal interface (also what the runtime-typed layer builds on)
// ---------------------------------------------------------------------------------------------

/// Lets a [`Writer`] of any array copy this one inside a cross-array edit
/// (`Writer::with_copy_of`).
impl<T: Element> CopyFrom<T> for FtArray<T> {
    fn core(&self) -> &RawArray<T::Bits> {
        &self.raw
    }
}

impl<T: Element> FtArray<T> {
    /// Every constructor ends here, so every `FtArray<T>` that exists has passed the
    /// compile-time check of [`Element`]'s contract (the size of `T` is the size of its word).
    #[inline(always)]
    fn wrap(raw: RawArray<T::Bits>) -> Self {
        let () = ElementLayout::<T>::CHECKED;
        FtArray {
            raw,
            _elem: PhantomData,
        }
    }

    /// Runs `f` on a consistent view of the array (one validated read) and returns its result.
    ///
    /// `f` sees a `(len, elements)` state that the array really had at one instant between the
    /// call and the return, so an index or slice resolved inside `f` against `View::len` is
    /// resolved at the read's linearization point. `f` may run several times (and sees torn
    /// data on the attempts that are thrown away), so it must only compute its result. Get a
    /// guard with `crate::reclaim::pin()`; never call back into a host while it is pinned.
    /// The read never waits for the writer lock.
    #[inline(always)]
    pub(crate) fn read<'g, R>(&self, guard: &'g Guard, mut f: impl FnMut(View<'g, T>) -> R) -> R {
        // `move`: the wrapper owns `f`, so what `f` captured stays in registers.
        self.raw.read(guard, move |v| f(View::new(v)))
    }

    /// [`read`](Self::read) through `hold`: no pin while the array's current block is the one
    /// `hold` holds (see `RawArray::read_held`).
    #[inline(always)]
    pub(crate) fn read_held<R>(
        &self,
        hold: &mut crate::raw::RawHold<T::Bits>,
        mut f: impl FnMut(View<'_, T>) -> R,
    ) -> R {
        self.raw.read_held(hold, move |v| f(View::new(v)))
    }

    /// [`read_held`](Self::read_held), also returning the version a read of the held block
    /// validated (see `RawArray::read_held_versioned`).
    #[inline(always)]
    pub(crate) fn read_held_versioned<R>(
        &self,
        hold: &mut crate::raw::RawHold<T::Bits>,
        mut f: impl FnMut(View<'_, T>) -> R,
    ) -> (R, Option<usize>) {
        self.raw.read_held_versioned(hold, move |v| f(View::new(v)))
    }

    /// `RawArray::len_at`.
    ///
    /// # Safety
    ///
    /// `addr` is a block some hold keeps allocated.
    #[inline(always)]
    pub(crate) unsafe fn len_at(&self, addr: usize) -> Option<usize> {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.raw.len_at(addr) }
    }

    /// `RawArray::unchanged_at`.
    ///
    /// # Safety
    ///
    /// `addr` is a block some hold keeps allocated.
    #[inline(always)]
    pub(crate) unsafe fn unchanged_at(&self, addr: usize, version: usize) -> bool {
        // SAFETY: the caller's contract, passed on.
        unsafe { self.raw.unchanged_at(addr, version) }
    }

    /// A new array holding the elements `pick` selects (a range within the length it is given)
    /// from one validated read, `times` times over, copied straight into the new block (see
    /// `RawArray::try_copy_range`).
    pub(crate) fn try_copy_range(
        &self,
        times: usize,
        pick: impl FnMut(usize) -> Result<Range<usize>, Error>,
    ) -> Result<Option<crate::raw::RawBlock<T::Bits>>, Error> {
        self.raw.try_copy_range_block(times, pick)
    }

    /// [`try_copy_range`](Self::try_copy_range) through a hold (no pin while the array keeps
    /// the held block).
    pub(crate) fn try_copy_range_held(
        &self,
        hold: &mut crate::raw::RawHold<T::Bits>,
        times: usize,
        pick: impl FnMut(usize) -> Result<Range<usize>, Error>,
    ) -> Result<Option<crate::raw::RawBlock<T::Bits>>, Error> {
        self.raw.try_copy_range_block_held(hold, times, pick)
    }

    /// `self` followed by `other`, both as they were at one instant, copied straight into a new
    /// block (see `RawArray::try_concat`).
    pub(crate) fn try_concat(
        &self,
        other: &FtArray<T>,
    ) -> Result<Option<crate::raw::RawBlock<T::Bits>>, Error> {
        self.raw.try_concat_block(&other.raw)
    }

    /// A block holding a copy of `values` (`None`: no values), for [`from_block`](Self::from_block).
    pub(crate) fn block_from_slice(
        values: &[T],
    ) -> Result<Option<crate::raw::RawBlock<T::Bits>>, Error> {
        RawArray::block_from_bytes(bytemuck::cast_slice(values))
    }

    /// This array's block, if the array is its only owner (see `RawArray::into_block`);
    /// otherwise the array back.
    pub(crate) fn into_block(self) -> Result<Option<crate::raw::RawBlock<T::Bits>>, Self> {
        self.raw.into_block().map_err(Self::wrap)
    }

    /// The array whose storage is `block` (none: empty), as the methods above make it.
    #[inline]
    pub(crate) fn from_block(block: Option<crate::raw::RawBlock<T::Bits>>) -> Self {
        Self::wrap(RawArray::with_block(block))
    }

    /// A snapshot of the core (see `Snapshot`, which wraps it).
    pub(crate) fn raw_snapshot(&self) -> Result<crate::raw::RawSnapshot<T::Bits>, Error> {
        self.raw.snapshot()
    }

    /// Takes the writer lock (held until the [`Writer`] is dropped).
    ///
    /// Everything done through the `Writer` happens under the lock, so a length read from it
    /// still holds when a change decided from it is made: resolve indices and slices against
    /// `Writer::len`, never against a length read earlier. Never call back into a host (Python
    /// `__index__`, an iterator) while holding it: convert foreign values first.
    #[inline]
    pub(crate) fn write(&self) -> Writer<'_, T> {
        Writer::new(self.raw.lock())
    }

    /// Takes the writer lock if it is free right now; never waits.
    pub(crate) fn try_write(&self) -> Option<Writer<'_, T>> {
        Some(Writer::new(self.raw.try_lock()?))
    }

    /// Copies of `self` and `other` that were both the arrays' contents at one instant (see
    /// `RawArray::read_pair`). No lock is taken. For `self` and `other` the same array, callers
    /// use one snapshot instead.
    pub(crate) fn snapshot_pair<U: Element>(&self, other: &FtArray<U>) -> (Vec<T>, Vec<U>) {
        let guard = crate::reclaim::pin();
        let (mut mine, mut theirs) = (Vec::new(), Vec::new());
        self.raw.read_pair(
            &other.raw,
            &guard,
            &mut |v| View::<T>::new(v).copy_into(&mut mine),
            &mut |v| View::<U>::new(v).copy_into(&mut theirs),
        );
        (mine, theirs)
    }

    // Reads under a given guard (for `Reader`, which pins once for many reads).

    pub(crate) fn len_in(&self, guard: &Guard) -> usize {
        self.raw.len_in(guard)
    }

    pub(crate) fn capacity_in(&self, guard: &Guard) -> usize {
        self.raw.capacity_in(guard)
    }

    pub(crate) fn get_in(&self, index: usize, guard: &Guard) -> Option<T> {
        self.read(guard, move |v| v.get(index))
    }

    pub(crate) fn last_in(&self, guard: &Guard) -> Option<T> {
        self.read(guard, |v| v.len().checked_sub(1).and_then(|i| v.get(i)))
    }

    pub(crate) fn to_vec_in(&self, guard: &Guard) -> Vec<T> {
        let mut out = Vec::new();
        self.read(guard, |v| v.copy_into(&mut out));
        out
    }

    pub(crate) fn to_bytes_in(&self, guard: &Guard) -> Vec<u8> {
        let mut out = Vec::new();
        self.read(guard, |v| v.copy_bytes_into(&mut out));
        out
    }

    pub(crate) fn get_range_in(
        &self,
        range: (Bound<usize>, Bound<usize>),
        guard: &Guard,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.read(guard, |v| {
            let r = resolve(range, v.len())?;
            v.slice(r).copy_into(&mut out);
            Ok(())
        })?;
        Ok(out)
    }

    pub(crate) fn copy_to_slice_in(
        &self,
        start: usize,
        dst: &mut [T],
        guard: &Guard,
    ) -> Result<(), Error> {
        self.read(guard, |v| {
            let end = start.checked_add(dst.len());
            match end {
                Some(end) if end <= v.len() => {
                    v.slice(start..end).copy_to_slice(dst);
                    Ok(())
                }
                _ => Err(Error::RangeOutOfBounds {
                    start,
                    end: end.unwrap_or(usize::MAX),
                    len: v.len(),
                }),
            }
        })
    }

    pub(crate) fn position_in(&self, value: &T, guard: &Guard) -> Option<usize>
    where
        T: PartialEq,
    {
        self.read(guard, |v| v.iter().position(|x| x == *value))
    }

    pub(crate) fn count_in(&self, value: &T, guard: &Guard) -> usize
    where
        T: PartialEq,
    {
        self.read(guard, |v| v.iter().filter(|x| x == value).count())
    }
}

impl<T: Element> FtArray<T> {
    // -----------------------------------------------------------------------------------------
    // Construction
    // -----------------------------------------------------------------------------------------

    /// An empty array. Does not allocate.
    ///
    /// ```
    /// let a = ftarray::FtArray::<f64>::new();
    /// assert!(a.is_empty());
    /// assert_eq!(a.capacity(), 0);
    /// ```
    pub fn new() -> Self {
        Self::wrap(RawArray::new())
    }

    /// An empty array with room for at least `capacity` elements.
    ///
    /// # Panics
    ///
    /// If the allocation fails or `capacity` elements would exceed `isize::MAX` bytes; see
    /// [`try_with_capacity`](Self::try_with_capacity) for the fallible version.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u8>::with_capacity(100);
    /// assert_eq!(a.len(), 0);
    /// assert!(a.capacity() >= 100);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::try_with_capacity(capacity).unwrap_or_else(|e| panic!("{e}"))
    }

    /// An empty array with room for at least `capacity` elements.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`] or [`Error::AllocFailed`].
    ///
    /// ```
    /// use ftarray::{Error, FtArray};
    /// assert_eq!(
    ///     FtArray::<u64>::try_with_capacity(usize::MAX).unwrap_err(),
    ///     Error::CapacityOverflow
    /// );
    /// ```
    pub fn try_with_capacity(capacity: usize) -> Result<Self, Error> {
        RawArray::try_with_capacity(capacity).map(Self::wrap)
    }

    /// An array holding a copy of `values`.
    ///
    /// # Panics
    ///
    /// If the allocation fails; see [`try_from_slice`](Self::try_from_slice).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1i16, -2, 3]);
    /// assert_eq!(a.to_vec(), [1, -2, 3]);
    /// ```
    pub fn from_slice(values: &[T]) -> Self {
        Self::try_from_slice(values).unwrap_or_else(|e| panic!("{e}"))
    }

    /// An array holding a copy of `values`, with exactly their length as capacity.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the allocation fails.
    ///
    /// ```
    /// let a = ftarray::FtArray::try_from_slice(&[1i16, -2, 3]).unwrap();
    /// assert_eq!(a.capacity(), 3);
    /// ```
    pub fn try_from_slice(values: &[T]) -> Result<Self, Error> {
        RawArray::try_from_bytes(bytemuck::cast_slice(values)).map(Self::wrap)
    }

    /// An array holding the elements whose native-order bytes are `bytes` (a whole number of
    /// elements, which the caller checked), with exactly that capacity: one copy.
    pub(crate) fn try_from_ne_bytes(bytes: &[u8]) -> Result<Self, Error> {
        debug_assert_eq!(bytes.len() % size_of::<T>(), 0, "not whole elements");
        RawArray::try_from_bytes(bytes).map(Self::wrap)
    }

    /// Consumes the array and returns its elements.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2]);
    /// assert_eq!(a.into_vec(), vec![1, 2]);
    /// ```
    pub fn into_vec(self) -> Vec<T> {
        self.write().snapshot().unwrap_or_else(|e| panic!("{e}"))
    }

    // -----------------------------------------------------------------------------------------
    // Lock-free reads (each pins the epoch once; use `reader()` to pin once for many reads)
    // -----------------------------------------------------------------------------------------

    /// The number of elements.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// assert_eq!(a.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len_in(&crate::reclaim::pin())
    }

    /// Whether the array has no elements.
    ///
    /// ```
    /// assert!(ftarray::FtArray::<i8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many elements fit before the storage has to move.
    ///
    /// Growth doubles it, except that on 64-bit Linux an array growing step by step past
    /// 128 KiB gets 8 times the doubled capacity: room in a mapping whose pages take memory
    /// only once the array grows into them (see [`mapped_block_bytes`](crate::mapped_block_bytes)),
    /// so that it moves and copies itself far less often.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u32>::with_capacity(10);
    /// a.push(1);
    /// assert!(a.capacity() >= 10);
    /// ```
    pub fn capacity(&self) -> usize {
        self.raw.capacity_in(&crate::reclaim::pin())
    }

    /// The element at `index`, or `None` if `index` is out of range at that instant.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[10u64, 20]);
    /// assert_eq!(a.get(1), Some(20));
    /// assert_eq!(a.get(2), None);
    /// ```
    #[inline]
    pub fn get(&self, index: usize) -> Option<T> {
        self.get_in(index, &crate::reclaim::pin())
    }

    /// The first element, or `None` if the array is empty.
    ///
    /// ```
    /// assert_eq!(ftarray::FtArray::from_slice(&[7u8, 8]).first(), Some(7));
    /// ```
    pub fn first(&self) -> Option<T> {
        self.get(0)
    }

    /// The last element, or `None` if the array is empty (read in one step with the length).
    ///
    /// ```
    /// assert_eq!(ftarray::FtArray::from_slice(&[7u8, 8]).last(), Some(8));
    /// ```
    pub fn last(&self) -> Option<T> {
        self.last_in(&crate::reclaim::pin())
    }

    /// A copy of all elements, taken at one instant: never a mix of two states.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1.5f32, 2.5]);
    /// assert_eq!(a.to_vec(), vec![1.5, 2.5]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.to_vec_in(&crate::reclaim::pin())
    }

    /// The elements' bytes in native byte order, taken at one instant (Python's `tobytes`).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[0x0102u16]);
    /// assert_eq!(a.to_bytes(), 0x0102u16.to_ne_bytes());
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_in(&crate::reclaim::pin())
    }

    /// A copy of the elements in `range`, taken at one instant (Python's `a[i:j]`).
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`] if the range is reversed or ends past the length.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3, 4]);
    /// assert_eq!(a.get_range(1..3).unwrap(), [2, 3]);
    /// assert!(a.get_range(3..9).is_err());
    /// ```
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>, Error> {
        self.get_range_in(bounds(range), &crate::reclaim::pin())
    }

    /// Copies `dst.len()` elements starting at `start` into `dst`, all from one instant.
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`] if `start + dst.len()` exceeds the length; `dst` may then
    /// hold partial data.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1i64, 2, 3]);
    /// let mut buf = [0; 2];
    /// a.copy_to_slice(1, &mut buf).unwrap();
    /// assert_eq!(buf, [2, 3]);
    /// ```
    pub fn copy_to_slice(&self, start: usize, dst: &mut [T]) -> Result<(), Error> {
        self.copy_to_slice_in(start, dst, &crate::reclaim::pin())
    }

    /// Whether some element equals `value` (by `PartialEq`: a NaN is never found).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u16, 2]);
    /// assert!(a.contains(&2));
    /// assert!(!a.contains(&3));
    /// ```
    pub fn contains(&self, value: &T) -> bool
    where
        T: PartialEq,
    {
        self.position(value).is_some()
    }

    /// The index of the first element equal to `value` (Python's `index`).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[5u8, 6, 5]);
    /// assert_eq!(a.position(&5), Some(0));
    /// assert_eq!(a.position(&9), None);
    /// ```
    pub fn position(&self, value: &T) -> Option<usize>
    where
        T: PartialEq,
    {
        self.position_in(value, &crate::reclaim::pin())
    }

    /// How many elements equal `value`.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[5u8, 6, 5]);
    /// assert_eq!(a.count(&5), 2);
    /// ```
    pub fn count(&self, value: &T) -> usize
    where
        T: PartialEq,
    {
        self.count_in(value, &crate::reclaim::pin())
    }

    // -----------------------------------------------------------------------------------------
    // Writes
    // -----------------------------------------------------------------------------------------

    /// Replaces the element at `index` with `value` and returns the old one.
    ///
    /// Works in place, so it is allowed while the storage is exported.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`]; the array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// assert_eq!(a.set(1, 5), Ok(2));
    /// assert_eq!(a.to_vec(), [1, 5]);
    /// assert!(a.set(2, 0).is_err());
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<T, Error> {
        self.write().set(index, value)
    }

    /// Replaces the element at `index` with `f(old)` in one atomic step and returns `old`.
    ///
    /// `f` runs while the writer lock is held (other writers wait; readers do not). It must not
    /// call this array's locking methods, which would deadlock (see
    /// [Deadlocks](Self#deadlocks)). If it panics, nothing changes.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`]; `f` is not called.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[3u32]);
    /// assert_eq!(a.fetch_update(0, |x| x * 10), Ok(3));
    /// assert_eq!(a.get(0), Some(30));
    /// ```
    pub fn fetch_update(&self, index: usize, f: impl FnOnce(T) -> T) -> Result<T, Error> {
        let mut w = self.write();
        let len = w.len();
        let old = w
            .get_for_update(index)
            .ok_or(Error::IndexOutOfRange { index, len })?;
        // While exported, a write through the export that lands after `get` is kept, and
        // then counts as made just after this update (which read `old`).
        w.replace(index, old, f(old))?;
        Ok(old)
    }

    /// Adds `delta` to the element at `index` (wrapping for integers) and returns the old value.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`].
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[u8::MAX]);
    /// assert_eq!(a.fetch_add(0, 2), Ok(255));
    /// assert_eq!(a.get(0), Some(1));
    /// ```
    pub fn fetch_add(&self, index: usize, delta: T) -> Result<T, Error>
    where
        T: Arith,
    {
        self.fetch_update(index, |x| x.add(delta))
    }

    /// Subtracts `delta` from the element at `index` (wrapping for integers) and returns the old
    /// value.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`].
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1.5f64]);
    /// assert_eq!(a.fetch_sub(0, 0.5), Ok(1.5));
    /// assert_eq!(a.get(0), Some(1.0));
    /// ```
    pub fn fetch_sub(&self, index: usize, delta: T) -> Result<T, Error>
    where
        T: Arith,
    {
        self.fetch_update(index, |x| x.sub(delta))
    }

    /// Swaps the elements at `a` and `b` in one step.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] for the first bad index.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2, 3]);
    /// a.swap(0, 2).unwrap();
    /// assert_eq!(a.to_vec(), [3, 2, 1]);
    /// ```
    pub fn swap(&self, a: usize, b: usize) -> Result<(), Error> {
        self.write().swap(a, b)
    }

    /// Appends `value`.
    ///
    /// # Panics
    ///
    /// If the array must grow and the storage is exported or the allocation fails; see
    /// [`try_push`](Self::try_push).
    ///
    /// ```
    /// let a = ftarray::FtArray::new();
    /// a.push(1u32);
    /// a.push(2);
    /// assert_eq!(a.to_vec(), [1, 2]);
    /// ```
    pub fn push(&self, value: T) {
        self.try_push(value).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Appends `value`.
    ///
    /// # Errors
    ///
    /// If the array is full: [`Error::Exported`] while exported, [`Error::CapacityOverflow`]
    /// or [`Error::AllocFailed`]. The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u8>::new();
    /// let export = a.export();
    /// assert!(a.try_push(1).is_err()); // would have to allocate while exported
    /// drop(export);
    /// assert!(a.try_push(1).is_ok());
    /// ```
    pub fn try_push(&self, value: T) -> Result<(), Error> {
        self.write().push(value)
    }

    /// Removes and returns the last element, or `None` if the array is empty.
    ///
    /// # Panics
    ///
    /// Under [strict exports](Self::set_strict_exports) while an export is alive; see
    /// [`try_pop`](Self::try_pop).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// assert_eq!(a.pop(), Some(2));
    /// assert_eq!(a.pop(), Some(1));
    /// assert_eq!(a.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        self.try_pop().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Removes and returns the last element, or `Ok(None)` if the array is empty.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under [strict exports](Self::set_strict_exports) while an export
    /// is alive; the array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32]);
    /// a.set_strict_exports(true);
    /// let e = a.export();
    /// assert!(a.try_pop().is_err());
    /// drop(e);
    /// assert_eq!(a.try_pop(), Ok(Some(1)));
    /// ```
    pub fn try_pop(&self) -> Result<Option<T>, Error> {
        self.write().pop()
    }

    /// Inserts `value` at `index`, shifting the later elements up.
    ///
    /// Readers see the array before or after the shift, never during it.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `index > len`; [`Error::Exported`] while exported (unless
    /// `index == len` and there is room); allocation errors. The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 3]);
    /// a.insert(1, 2).unwrap();
    /// assert_eq!(a.to_vec(), [1, 2, 3]);
    /// assert!(a.insert(9, 0).is_err());
    /// ```
    pub fn insert(&self, index: usize, value: T) -> Result<(), Error> {
        let mut w = self.write();
        let len = w.len();
        if index > len {
            return Err(Error::IndexOutOfRange { index, len });
        }
        w.splice(index..index, std::slice::from_ref(&value))
    }

    /// Removes and returns the element at `index`, shifting the later elements down.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`]; [`Error::Exported`] while exported (unless it is the last
    /// element); allocation errors. The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// assert_eq!(a.remove(0), Ok(1));
    /// assert_eq!(a.to_vec(), [2, 3]);
    /// ```
    pub fn remove(&self, index: usize) -> Result<T, Error> {
        let mut w = self.write();
        let len = w.len();
        let value = w.get(index).ok_or(Error::IndexOutOfRange { index, len })?;
        w.splice(index..index + 1, &[])?;
        Ok(value)
    }

    /// Removes the first element equal to `value` and returns its index (Python's `remove`).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] or allocation errors as for [`remove`](Self::remove).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[4u8, 5, 4]);
    /// assert_eq!(a.remove_item(&4), Ok(Some(0)));
    /// assert_eq!(a.remove_item(&9), Ok(None));
    /// assert_eq!(a.to_vec(), [5, 4]);
    /// ```
    pub fn remove_item(&self, value: &T) -> Result<Option<usize>, Error>
    where
        T: PartialEq,
    {
        let mut w = self.write();
        let found = w.view().iter().position(|x| x == *value);
        match found {
            Some(index) => w.splice(index..index + 1, &[]).map(|()| Some(index)),
            None => Ok(None),
        }
    }

    /// Removes the element at `index` and puts the last element in its place: O(1), and allowed
    /// while exported.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`].
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3, 4]);
    /// assert_eq!(a.swap_remove(0), Ok(1));
    /// assert_eq!(a.to_vec(), [4, 2, 3]);
    /// ```
    pub fn swap_remove(&self, index: usize) -> Result<T, Error> {
        self.write().swap_remove(index)
    }

    /// Appends all of `values`; readers see none or all of them.
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push); see [`try_extend_from_slice`](Self::try_extend_from_slice).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32]);
    /// a.extend_from_slice(&[2, 3]);
    /// assert_eq!(a.to_vec(), [1, 2, 3]);
    /// ```
    pub fn extend_from_slice(&self, values: &[T]) {
        self.try_extend_from_slice(values)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Appends all of `values`; readers see none or all of them.
    ///
    /// # Errors
    ///
    /// As [`try_push`](Self::try_push). The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u16>::new();
    /// a.try_extend_from_slice(&[1, 2]).unwrap();
    /// assert_eq!(a.len(), 2);
    /// ```
    pub fn try_extend_from_slice(&self, values: &[T]) -> Result<(), Error> {
        self.write().append(values)
    }

    /// Appends a copy of `other`'s elements, in one step: at the instant the elements appear,
    /// `other` holds exactly the appended copy. `other` may be `self`: `a.extend_from_array(&a)`
    /// doubles `a`.
    ///
    /// Only one lock is ever held: `self`'s. `other` is read without its lock and re-checked
    /// (its block and version) inside the step that publishes the append; if `other` changed in
    /// between, the copy is taken again. So two threads extending two arrays from each other
    /// cannot deadlock, and cannot both append the other's old contents. A writer that changes
    /// `other` without pause can make the append retry for as long as it keeps doing so.
    ///
    /// The elements go straight from `other`'s storage into this array's spare capacity (or
    /// into the larger storage it moves to): no temporary copy of `other` is made, so
    /// appending a large array needs no memory beyond this array's own.
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push); see [`try_extend_from_array`](Self::try_extend_from_array).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2]);
    /// a.extend_from_array(&a);
    /// assert_eq!(a.to_vec(), [1, 2, 1, 2]);
    /// ```
    pub fn extend_from_array(&self, other: &FtArray<T>) {
        self.try_extend_from_array(other)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Appends a copy of `other`'s elements in one step (see
    /// [`extend_from_array`](Self::extend_from_array)).
    ///
    /// # Errors
    ///
    /// As [`try_push`](Self::try_push). The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8]);
    /// let b = ftarray::FtArray::from_slice(&[2u8, 3]);
    /// a.try_extend_from_array(&b).unwrap();
    /// assert_eq!(a.to_vec(), [1, 2, 3]);
    /// ```
    pub fn try_extend_from_array(&self, other: &FtArray<T>) -> Result<(), Error> {
        self.write().append_array(other)
    }

    /// Appends the elements encoded in `bytes` (native byte order; Python's `frombytes`).
    ///
    /// # Errors
    ///
    /// [`Error::BadByteLength`] if `bytes.len()` is not a multiple of the element size;
    /// otherwise as [`try_push`](Self::try_push). The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u16>::new();
    /// a.extend_from_bytes(&7u16.to_ne_bytes()).unwrap();
    /// assert_eq!(a.to_vec(), [7]);
    /// assert!(a.extend_from_bytes(&[1, 2, 3]).is_err());
    /// ```
    pub fn extend_from_bytes(&self, bytes: &[u8]) -> Result<(), Error> {
        self.write().append_bytes(bytes)
    }

    /// Shortens the array to `len` elements; does nothing if it is not longer. Keeps the
    /// capacity, works in place, and is allowed while exported (unless exports are
    /// [strict](Self::set_strict_exports)).
    ///
    /// # Panics
    ///
    /// Under strict exports while an export is alive; see [`try_truncate`](Self::try_truncate).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// a.truncate(1);
    /// assert_eq!(a.to_vec(), [1]);
    /// ```
    pub fn truncate(&self, len: usize) {
        self.try_truncate(len).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Shortens the array to `len` elements; does nothing if it is not longer.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under [strict exports](Self::set_strict_exports) while an export
    /// is alive (and the array is longer); the array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// a.try_truncate(1).unwrap();
    /// assert_eq!(a.to_vec(), [1]);
    /// ```
    pub fn try_truncate(&self, len: usize) -> Result<(), Error> {
        self.write().truncate(len)
    }

    /// Removes every element, keeping the capacity (call
    /// [`shrink_to_fit`](Self::shrink_to_fit) to release it).
    ///
    /// A reader that runs at the same time sees the whole old array or the empty one; the
    /// storage it reads from stays valid until it is done with it.
    ///
    /// # Panics
    ///
    /// Under [strict exports](Self::set_strict_exports) while an export is alive; see
    /// [`try_clear`](Self::try_clear).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// a.clear();
    /// assert!(a.is_empty());
    /// assert_eq!(a.get(0), None);
    /// ```
    pub fn clear(&self) {
        self.try_clear().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Removes every element, keeping the capacity.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under [strict exports](Self::set_strict_exports) while an export
    /// is alive (and the array is not empty); the array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// a.try_clear().unwrap();
    /// assert!(a.is_empty());
    /// ```
    pub fn try_clear(&self) -> Result<(), Error> {
        self.write().truncate(0)
    }

    /// Resizes to `new_len`, filling new slots with `value`.
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push); see [`try_resize`](Self::try_resize).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8]);
    /// a.resize(3, 9);
    /// assert_eq!(a.to_vec(), [1, 9, 9]);
    /// a.resize(1, 0);
    /// assert_eq!(a.to_vec(), [1]);
    /// ```
    pub fn resize(&self, new_len: usize, value: T) {
        self.try_resize(new_len, value)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Resizes to `new_len`, filling new slots with `value`.
    ///
    /// # Errors
    ///
    /// As [`try_push`](Self::try_push) when growing past the capacity. The array is unchanged.
    pub fn try_resize(&self, new_len: usize, value: T) -> Result<(), Error> {
        let mut w = self.write();
        let len = w.len();
        if new_len <= len {
            return w.truncate(new_len);
        }
        w.append_repeat(value, new_len - len)
    }

    /// Makes room for at least `additional` more elements (growing geometrically).
    ///
    /// # Panics
    ///
    /// See [`try_reserve`](Self::try_reserve).
    ///
    /// ```
    /// let a = ftarray::FtArray::<u32>::new();
    /// a.reserve(10);
    /// assert!(a.capacity() >= 10);
    /// ```
    pub fn reserve(&self, additional: usize) {
        self.try_reserve(additional)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Makes room for at least `additional` more elements (growing geometrically).
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`], [`Error::AllocFailed`], or [`Error::Exported`] if the
    /// storage must move while exported. The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u32>::new();
    /// assert!(a.try_reserve(usize::MAX).is_err());
    /// assert!(a.try_reserve(3).is_ok());
    /// ```
    pub fn try_reserve(&self, additional: usize) -> Result<(), Error> {
        self.write().reserve(additional, false)
    }

    /// Makes room for exactly `additional` more elements (no geometric growth).
    ///
    /// # Errors
    ///
    /// As [`try_reserve`](Self::try_reserve).
    ///
    /// ```
    /// let a = ftarray::FtArray::<u32>::new();
    /// a.try_reserve_exact(5).unwrap();
    /// assert_eq!(a.capacity(), 5);
    /// ```
    pub fn try_reserve_exact(&self, additional: usize) -> Result<(), Error> {
        self.write().reserve(additional, true)
    }

    /// Moves the elements to storage of exactly their length (none at all when empty), retiring
    /// the old buffer.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] while exported (if there is anything to shrink); allocation errors.
    /// The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u32>::with_capacity(100);
    /// a.push(1);
    /// a.shrink_to_fit().unwrap();
    /// assert_eq!(a.capacity(), 1);
    /// ```
    pub fn shrink_to_fit(&self) -> Result<(), Error> {
        self.write().shrink_to_fit()
    }

    /// Replaces the elements in `range` with `values` (Python's slice assignment `a[i:j] = …`,
    /// any lengths). Readers see the old or the new contents, never a mix.
    ///
    /// Done in place (and so allowed while exported): an equal-length replacement of at most
    /// 8 KiB + 64 bytes (of any length while exported), removing a tail (`a[i:] = []`, a truncate), and
    /// appending within the capacity (`a[len:] = …`, an extend). Also in place, when the storage
    /// is not exported: a change of length within the capacity whose new elements plus the tail
    /// it shifts are at most 8 KiB + 64 bytes. Everything else builds a new buffer.
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`]; [`Error::Exported`] if the storage would have to move while
    /// exported; allocation errors. The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3, 4]);
    /// a.replace_range(1..3, &[9, 9, 9]).unwrap();
    /// assert_eq!(a.to_vec(), [1, 9, 9, 9, 4]);
    /// a.replace_range(.., &[]).unwrap();
    /// assert!(a.is_empty());
    /// ```
    pub fn replace_range(&self, range: impl RangeBounds<usize>, values: &[T]) -> Result<(), Error> {
        let mut w = self.write();
        let range = resolve(bounds(range), w.len())?;
        w.splice(range, values)
    }

    /// Replaces every `step`-th element of `range`, starting with its first, by `values` in
    /// order, in one step (Python's extended slice assignment `a[i:j:k] = …` for `k > 0`).
    ///
    /// The length does not change, so it is allowed while exported (and then done in place).
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`]; [`Error::LengthMismatch`] if `values` does not have one
    /// value per selected index; allocation errors. The array is unchanged.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use ftarray::{Error, FtArray};
    ///
    /// let a = FtArray::from_slice(&[0u8, 1, 2, 3, 4]);
    /// let two = NonZeroUsize::new(2).unwrap();
    /// a.replace_strided(.., two, &[9, 9, 9]).unwrap();
    /// assert_eq!(a.to_vec(), [9, 1, 9, 3, 9]);
    /// assert_eq!(
    ///     a.replace_strided(1.., two, &[7]),
    ///     Err(Error::LengthMismatch { expected: 2, actual: 1 })
    /// );
    /// ```
    pub fn replace_strided(
        &self,
        range: impl RangeBounds<usize>,
        step: NonZeroUsize,
        values: &[T],
    ) -> Result<(), Error> {
        let mut w = self.write();
        let range = resolve(bounds(range), w.len())?;
        let expected = range.len().div_ceil(step.get());
        if values.len() != expected {
            return Err(Error::LengthMismatch {
                expected,
                actual: values.len(),
            });
        }
        w.set_strided(range.start, step.get(), values)
    }

    /// Removes the elements in `range` and returns them (Python's `del a[i:j]`).
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`]; [`Error::Exported`] while exported unless the range is a
    /// tail; allocation errors. The array is unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3, 4]);
    /// assert_eq!(a.remove_range(1..3).unwrap(), [2, 3]);
    /// assert_eq!(a.to_vec(), [1, 4]);
    /// ```
    pub fn remove_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>, Error> {
        let mut w = self.write();
        let range = resolve(bounds(range), w.len())?;
        let removed = w.snapshot_range(range.clone())?;
        w.splice(range, &[])?;
        Ok(removed)
    }

    /// Keeps only the elements for which `keep` returns `true`; readers see the array before or
    /// after, never in between.
    ///
    /// `keep` runs on a private copy while the writer lock is held (other writers wait; readers
    /// do not). It must not call this array's locking methods (see
    /// [Deadlocks](Self#deadlocks)). If it panics, nothing changes.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if anything would be removed while exported; allocation errors.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3, 4]);
    /// a.retain(|x| x % 2 == 0).unwrap();
    /// assert_eq!(a.to_vec(), [2, 4]);
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&T) -> bool) -> Result<(), Error> {
        let mut w = self.write();
        let base = w.snapshot()?;
        let mut kept = Vec::new();
        kept.try_reserve_exact(base.len())
            .map_err(|_| Error::AllocFailed {
                bytes: base.len().saturating_mul(size_of::<T>()),
            })?;
        kept.extend(base.iter().filter(|x| keep(x)));
        if kept.len() == base.len() {
            return Ok(());
        }
        w.commit(&kept, &base)
    }

    /// Runs an arbitrary edit on a copy of the elements and publishes the result as one step:
    /// readers see the array before the edit or after it, never part of it.
    ///
    /// `f` runs while the writer lock is held (other writers wait; readers do not). It must not
    /// call this array's locking methods (see [Deadlocks](Self#deadlocks)). If it panics,
    /// nothing changes. Its return value is passed back.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if `f` changed the length while exported (the edit is then
    /// discarded); allocation errors. The array is unchanged on error.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[3u32, 1, 2]);
    /// let removed = a
    ///     .update(|v| {
    ///         v.sort();
    ///         v.pop()
    ///     })
    ///     .unwrap();
    /// assert_eq!(removed, Some(3));
    /// assert_eq!(a.to_vec(), [1, 2]);
    /// ```
    pub fn update<R>(&self, f: impl FnOnce(&mut Vec<T>) -> R) -> Result<R, Error> {
        self.write().rewrite(f)
    }

    /// Reverses the order of the elements in one step.
    ///
    /// # Panics
    ///
    /// If the new buffer cannot be allocated; see [`try_reverse`](Self::try_reverse).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// a.reverse();
    /// assert_eq!(a.to_vec(), [3, 2, 1]);
    /// ```
    pub fn reverse(&self) {
        self.try_reverse().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reverses the order of the elements in one step.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy or the new buffer cannot be allocated; the array is
    /// unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// a.try_reverse().unwrap();
    /// assert_eq!(a.to_vec(), [3, 2, 1]);
    /// ```
    pub fn try_reverse(&self) -> Result<(), Error> {
        self.rewrite(|v| v.reverse())
    }

    /// Sorts the elements (stable) with `compare`, in one step.
    ///
    /// `compare` runs on a private copy while the writer lock is held; it must not call this
    /// array's locking methods (see [Deadlocks](Self#deadlocks)). If it panics, nothing
    /// changes.
    ///
    /// # Panics
    ///
    /// If `compare` panics, or the new buffer cannot be allocated; see
    /// [`try_sort_by`](Self::try_sort_by).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[2.5f64, -1.0, 0.0]);
    /// a.sort_by(f64::total_cmp);
    /// assert_eq!(a.to_vec(), [-1.0, 0.0, 2.5]);
    /// ```
    pub fn sort_by(&self, compare: impl FnMut(&T, &T) -> Ordering) {
        self.try_sort_by(compare).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sorts the elements (stable) with `compare`, in one step; see [`sort_by`](Self::sort_by).
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy or the new buffer cannot be allocated; the array is
    /// unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[2u8, 1]);
    /// a.try_sort_by(|x, y| y.cmp(x)).unwrap();
    /// assert_eq!(a.to_vec(), [2, 1]);
    /// ```
    pub fn try_sort_by(&self, compare: impl FnMut(&T, &T) -> Ordering) -> Result<(), Error> {
        self.rewrite(|v| v.sort_by(compare))
    }

    /// Sorts the elements (stable) in one step.
    ///
    /// # Panics
    ///
    /// If the new buffer cannot be allocated; see [`try_sort`](Self::try_sort).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[3i8, -1, 2]);
    /// a.sort();
    /// assert_eq!(a.to_vec(), [-1, 2, 3]);
    /// ```
    pub fn sort(&self)
    where
        T: Ord,
    {
        self.try_sort().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sorts the elements (stable) in one step.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy or the new buffer cannot be allocated; the array is
    /// unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[3i8, -1, 2]);
    /// a.try_sort().unwrap();
    /// assert_eq!(a.to_vec(), [-1, 2, 3]);
    /// ```
    pub fn try_sort(&self) -> Result<(), Error>
    where
        T: Ord,
    {
        self.rewrite(|v| v.sort())
    }

    /// Reverses the bytes of every element (Python's `byteswap`), in one step.
    ///
    /// # Panics
    ///
    /// If the new buffer cannot be allocated; see [`try_byteswap`](Self::try_byteswap).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[0x1122u16]);
    /// a.byteswap();
    /// assert_eq!(a.to_vec(), [0x2211]);
    /// ```
    pub fn byteswap(&self) {
        self.try_byteswap().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reverses the bytes of every element, in one step.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy or the new buffer cannot be allocated; the array is
    /// unchanged.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[0x1122u16]);
    /// a.try_byteswap().unwrap();
    /// assert_eq!(a.to_vec(), [0x2211]);
    /// ```
    pub fn try_byteswap(&self) -> Result<(), Error> {
        self.rewrite(|v| {
            for x in v.iter_mut() {
                *x = from_bits(to_bits(*x).swap_bytes());
            }
        })
    }

    /// A length-preserving edit: in place when at most 8 KiB + 64 bytes or while exported,
    /// otherwise a new block.
    fn rewrite(&self, edit: impl FnOnce(&mut Vec<T>)) -> Result<(), Error> {
        self.write().rewrite(edit)
    }

    /// A copy of the array: a new array holding the elements of one instant.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy cannot be allocated.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2]);
    /// let b = a.try_clone().unwrap();
    /// a.push(3);
    /// assert_eq!(b.to_vec(), [1, 2]);
    /// ```
    pub fn try_clone(&self) -> Result<Self, Error> {
        let guard = crate::reclaim::pin();
        let mut values = Vec::new();
        self.read(&guard, |v| {
            values.clear();
            values
                .try_reserve(v.len())
                .map_err(|_| Error::AllocFailed {
                    bytes: v.len().saturating_mul(size_of::<T>()),
                })?;
            v.copy_into(&mut values);
            Ok(())
        })?;
        drop(guard);
        Self::try_from_slice(&values)
    }

    /// Like [`export`](Self::export), without a guard: returns the element pointer and the
    /// length, and leaves the export counted until
    /// [`release_export`](Self::release_export) is called. For hosts (C, Python) whose buffer
    /// lifetimes Rust cannot see. Forgetting to release keeps the storage pinned (safe, but every
    /// moving operation then fails).
    ///
    /// The pointer is valid for `len` elements, never null (dangling but aligned when `len` is
    /// 0), and stays valid until the matching release. The cells are atomic words of the
    /// element's size, and the array's own readers and writers access them atomically, so any
    /// access through the pointer that may overlap another thread's use of the array must be
    /// atomic too (see [`Export`](crate::Export) for the details).
    ///
    /// A [`Snapshot`](crate::Snapshot) never sees writes through an export: if one shares the
    /// storage, the storage is copied first (once), and the export pins the copy.
    ///
    /// # Panics
    ///
    /// If that copy cannot be allocated; see [`try_export_raw`](Self::try_export_raw).
    ///
    /// # Aborts
    ///
    /// If more than `isize::MAX` exports are alive at once (as `Arc` does for its count):
    /// wrapping the count would let the storage move under live exports.
    pub fn export_raw(&self) -> (*mut T, usize) {
        self.try_export_raw().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`export_raw`](Self::export_raw), returning an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a snapshot shares the storage and the copy the export needs
    /// cannot be allocated; nothing is exported then.
    pub fn try_export_raw(&self) -> Result<(*mut T, usize), Error> {
        let (ptr, len) = self.write().export()?;
        Ok((ptr.as_ptr(), len))
    }

    /// Ends one export made by [`export_raw`](Self::export_raw).
    ///
    /// # Safety
    ///
    /// Each call must match one earlier `export_raw` on this array that has not been released,
    /// and the pointer that call returned must not be used afterwards. (Releasing an export
    /// someone else still uses would let the storage move under them.)
    pub unsafe fn release_export(&self) {
        // SAFETY: the caller matches this call with one unreleased `export_raw` of this array
        // and stops using its pointer, which is the core's contract too.
        unsafe { self.raw.release_export() }
    }

    /// The number of live exports.
    ///
    /// ```
    /// let a = ftarray::FtArray::<u8>::new();
    /// let e = a.export();
    /// assert_eq!(a.export_count(), 1);
    /// drop(e);
    /// assert_eq!(a.export_count(), 0);
    /// ```
    pub fn export_count(&self) -> usize {
        self.raw.export_count()
    }

    /// Chooses the export rule. Off (the default): while an export is alive, operations that
    /// would move or free the storage fail with [`Error::Exported`], and everything else
    /// (including length changes within the capacity) works. On: *any* change of the length
    /// fails while an export is alive, as CPython's `array` raises `BufferError`; elements can
    /// still be set, and length-preserving rewrites are done in place.
    ///
    /// Every decision is made under the array's lock, from one load of the export count.
    ///
    /// ```
    /// use ftarray::{Error, FtArray};
    ///
    /// let a = FtArray::<u8>::with_capacity(8);
    /// a.set_strict_exports(true);
    /// let e = a.export();
    /// assert_eq!(a.try_push(1), Err(Error::Exported { exports: 1 })); // room, but strict
    /// drop(e);
    /// a.try_push(1).unwrap();
    /// ```
    pub fn set_strict_exports(&self, strict: bool) {
        self.write().set_strict_exports(strict);
    }

    /// This array with the export rule chosen (see
    /// [`set_strict_exports`](Self::set_strict_exports)), for a new array that no other thread
    /// can reach yet: it takes no lock.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2]).with_strict_exports(true);
    /// assert!(a.strict_exports());
    /// ```
    #[must_use]
    pub fn with_strict_exports(mut self, strict: bool) -> Self {
        self.set_strict_owned(strict);
        self
    }

    /// [`with_strict_exports`](Self::with_strict_exports) in place (for `DynArray`'s).
    pub(crate) fn set_strict_owned(&mut self, strict: bool) {
        self.raw.set_strict_owned(strict);
    }

    /// Whether the strict export rule is on (see
    /// [`set_strict_exports`](Self::set_strict_exports)).
    ///
    /// ```
    /// let a = ftarray::FtArray::<u8>::new();
    /// assert!(!a.strict_exports());
    /// a.set_strict_exports(true);
    /// assert!(a.strict_exports());
    /// ```
    pub fn strict_exports(&self) -> bool {
        self.raw.strict_exports()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_slices() {
        assert_eq!(resolve(bounds(..), 3), Ok(0..3));
        assert_eq!(resolve(bounds(1..=2), 3), Ok(1..3));
        assert_eq!(resolve(bounds(3..), 3), Ok(3..3));
        assert!(resolve((Bound::Included(2), Bound::Excluded(1)), 3).is_err());
        assert!(resolve(bounds(0..4), 3).is_err());
        assert!(resolve(bounds(..=usize::MAX), 3).is_err());
        assert!(resolve((Bound::Excluded(usize::MAX), Bound::Unbounded), 3).is_err());
    }

    #[test]
    fn retired_bytes_are_counted_per_thread_and_large_blocks_flush_at_once() {
        use crate::reclaim::FLUSH_BYTES;
        use crate::sync::unflushed;
        let a = FtArray::<u64>::new();
        a.extend_from_slice(&vec![1; FLUSH_BYTES / 8 + 1]);
        a.reserve(FLUSH_BYTES); // retires a block larger than the threshold
        assert_eq!(unflushed(), 0);
        a.insert(0, 0).unwrap(); // retires a block larger than the threshold again
        assert_eq!(unflushed(), 0);
        // Small blocks of two arrays add up in one count, the thread's.
        let b = FtArray::<u8>::from_slice(&[1, 2]);
        let c = FtArray::<u8>::from_slice(&[1, 2]);
        b.insert(0, 0).unwrap();
        let after_b = unflushed();
        assert!(after_b > 0);
        c.insert(0, 0).unwrap();
        assert!(unflushed() > after_b, "c's block is added to b's");
        // Another thread has its own count.
        std::thread::spawn(|| assert_eq!(unflushed(), 0))
            .join()
            .unwrap();
    }
}
