//! [`FtArray`]: the array itself, its read path and its write path.
//!
//! See [`crate::docs::internals`] for the argument that the code below is sound and linearizable;
//! the comments here point at the part of that argument each line relies on.

use crate::element::{Arith, Element, ElementLayout, Word, from_bits, to_bits};
use crate::error::Error;
use crate::raw::{Block, BlockBuilder, RawBlock, max_capacity};
use crate::reader::{Iter, Reader};
use crate::reclaim;
use crate::sync::Ordering::{Acquire, Relaxed, Release, SeqCst};
use crate::sync::{AtomicUsize, Mutex, MutexGuard, count_unflushed, fence, spin_loop, yield_now};
use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Pointer, Shared};
use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::ops::{Bound, Range, RangeBounds};

/// Retired bytes after which a writer pushes its thread's garbage to the global queue and lets
/// the collector run (`Guard::flush`). Blocks at least this large are flushed as soon as they
/// are retired, so large buffers never wait in a thread-local bag.
///
/// Under loom the threshold is tiny so that small models exercise the flush path.
pub(crate) const FLUSH_BYTES: usize = if cfg!(loom) { 64 } else { 64 * 1024 };

/// Failed optimistic read attempts after which a reader also tries the writer lock (without
/// waiting for it) before each further attempt. Under loom it is 1, so that small models reach
/// the fallback.
const OPTIMISTIC_ATTEMPTS: u32 = if cfg!(loom) { 1 } else { 8 };

/// Failed attempts after which a reader yields its CPU between attempts instead of spinning
/// (a writer preempted in the middle of a step needs a CPU to finish it).
const SPIN_ATTEMPTS: u32 = 16;

/// Longest equal-length `replace_range` done in place (inside one version step) rather than by
/// building a new block; bounds how long a reader can be held up by such a step.
pub(crate) const IN_PLACE_MAX: usize = 64;

type Bits<T> = <T as Element>::Bits;
type Cell<T> = <Bits<T> as Word>::Atomic;

/// A growable array of plain numbers that any number of threads can read and write at once.
///
/// Share it by reference (`&FtArray<T>`, `Arc<FtArray<T>>`): every method takes `&self`.
///
/// * **Reads** ([`get`](Self::get), [`len`](Self::len), [`to_vec`](Self::to_vec),
///   [`contains`](Self::contains), …) take no lock. Each sees one state of the array that really
///   existed between the call and its return, and retries if a writer changed the array under it.
/// * **Writes** ([`push`](Self::push), [`set`](Self::set), [`insert`](Self::insert), …) take a
///   per-array lock, so they happen one at a time. Each takes effect at one instant: small edits
///   (set, push, pop, truncate) in place, and edits that rewrite visible elements (insert, remove,
///   reverse, sort, …) by building a new buffer and publishing it with one pointer swap.
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
/// arrays may be read and written freely.
pub struct FtArray<T: Element> {
    /// The current block, or null for an array that never allocated (or shrank to nothing).
    /// Stored only by a writer holding `writer`; loaded by anyone.
    buf: Atomic<Block<Bits<T>>>,
    /// Live exports. Incremented only under `writer`; decremented by an export's drop, anywhere.
    exports: AtomicUsize,
    /// The per-array critical section every writer enters.
    writer: Mutex<()>,
    _elem: PhantomData<T>,
}

// ---------------------------------------------------------------------------------------------
// The read side
// ---------------------------------------------------------------------------------------------

/// What one read attempt sees: the first `len` cells of one block.
pub(crate) struct View<'g, T: Element> {
    cells: &'g [Cell<T>],
    _elem: PhantomData<T>,
}

impl<T: Element> Clone for View<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Element> Copy for View<'_, T> {}

impl<'g, T: Element> View<'g, T> {
    fn new(cells: &'g [Cell<T>]) -> Self {
        View {
            cells,
            _elem: PhantomData,
        }
    }

    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.cells.len()
    }

    /// Relaxed: the attempt is validated as a whole by the version re-check in `read`.
    #[inline(always)]
    pub(crate) fn get(self, index: usize) -> Option<T> {
        self.cells
            .get(index)
            .map(|c| from_bits(Bits::<T>::load(c, Relaxed)))
    }

    #[inline(always)]
    pub(crate) fn iter(self) -> impl Iterator<Item = T> + 'g {
        self.cells
            .iter()
            .map(|c| from_bits(Bits::<T>::load(c, Relaxed)))
    }

    pub(crate) fn slice(self, range: Range<usize>) -> View<'g, T> {
        View::new(&self.cells[range])
    }

    /// Replaces the contents of `out` with this view's elements.
    pub(crate) fn copy_into(self, out: &mut Vec<T>) {
        out.clear();
        out.reserve(self.len());
        // A plain indexed loop into the spare capacity: no per-element length update, so the
        // loads and stores pipeline (atomic loads are never vectorised).
        for (dst, cell) in out.spare_capacity_mut().iter_mut().zip(self.cells) {
            dst.write(from_bits(Bits::<T>::load(cell, Relaxed)));
        }
        // SAFETY: the reserve made room for `self.len()` elements, and the loop above
        // initialised exactly the first `self.len()` of them (the zip stops at the shorter).
        unsafe { out.set_len(self.len()) };
    }
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

pub(crate) fn bounds(range: impl RangeBounds<usize>) -> (Bound<usize>, Bound<usize>) {
    (range.start_bound().cloned(), range.end_bound().cloned())
}

/// An array seen from outside its type: lets a [`Stamp`] re-check which block is current.
pub(crate) trait BlockSource {
    /// The address of the current block (0 for none), loaded under `guard`.
    fn current_block(&self, guard: &Guard) -> usize;
}

impl<T: Element> BlockSource for FtArray<T> {
    fn current_block(&self, guard: &Guard) -> usize {
        // Relaxed: the pointer is only compared, never dereferenced; the caller's SeqCst fence
        // orders this load (see `Stamp::unchanged`).
        self.buf.load(Relaxed, guard).into_usize()
    }
}

/// What one validated read of an array saw: its block and that block's (even) version.
///
/// While the stamp's guard stays pinned the block cannot be freed, so its address cannot be
/// reused by another block: an unchanged address and version mean the array is in exactly the
/// state the read saw.
pub(crate) struct Stamp<'g> {
    source: &'g dyn BlockSource,
    guard: &'g Guard,
    /// Address of the block read, 0 for an array without one.
    block: usize,
    /// That block's version word and the even value the read validated against.
    version: Option<(&'g AtomicUsize, usize)>,
}

impl Stamp<'_> {
    /// Whether the observed array is still in the state the read saw.
    ///
    /// Called by a writer of *another* array inside its publishing step, after storing its own
    /// odd version (or swapping in its new block) and a `SeqCst` fence. Two such writers, each
    /// extending its array from the other, form the store-buffering pattern: each stores to its
    /// own array, fences, then loads the other's. The SeqCst fences forbid both loads from
    /// missing the other's store, so at most one of two overlapping cross operations can pass
    /// this check; the other sees a change and retries. Relaxed loads suffice after the fence.
    fn unchanged(&self) -> bool {
        self.source.current_block(self.guard) == self.block
            && self
                .version
                .is_none_or(|(word, seen)| word.load(Relaxed) == seen)
    }
}

/// Pause between two attempts of an operation that retries: spin, then yield.
fn backoff(failed: u32) {
    if failed < SPIN_ATTEMPTS {
        for _ in 0..(1u32 << failed.min(6)) {
            spin_loop();
        }
    } else {
        yield_now();
    }
}

impl<T: Element> FtArray<T> {
    /// Runs `f` on a consistent view of the array and returns its result.
    ///
    /// This is the seqlock read side: load the block (Acquire), its version (Acquire; odd means
    /// a writer is mid-step), the length and cells (Relaxed), an Acquire fence, the version again.
    /// An unchanged version proves no in-place step touched the block while `f` looked, so `f`
    /// saw a state that existed. `f` may run several times and sees torn data on the attempts
    /// that are thrown away, so it must not have effects other than on its own scratch state.
    ///
    /// The first attempt is inlined into every read; the retries live out of line in
    /// `read_contended`, which never waits for the writer lock.
    #[inline(always)]
    pub(crate) fn read<'g, R>(&self, guard: &'g Guard, mut f: impl FnMut(View<'g, T>) -> R) -> R {
        match self.attempt(guard, &mut f) {
            Some(result) => result,
            None => self.read_contended(guard, f),
        }
    }

    /// One optimistic attempt: `None` if a writer step overlapped it.
    #[inline(always)]
    fn attempt<'g, R>(&self, guard: &'g Guard, f: &mut impl FnMut(View<'g, T>) -> R) -> Option<R> {
        // Acquire: pairs with the Release swap in `publish`, so the block's header and cells,
        // written before it was published, are visible to the loads below.
        let shared = self.buf.load(Acquire, guard);
        // SAFETY: `shared` was loaded under `guard`. A block is handed to the collector only
        // after it is unlinked from `buf`, and the collector frees it only once every guard
        // pinned before that has been dropped; `'g` ties the reference to `guard`.
        let Some(block) = (unsafe { shared.as_ref() }) else {
            return Some(f(View::new(&[])));
        };
        // Acquire: pairs with the Release store that ended the last writer step, so the
        // length and cells that step wrote are visible below.
        let v1 = block.version().load(Acquire);
        if v1 & 1 != 0 {
            return None;
        }
        // `min`: `len <= cap` always holds, this just keeps a broken invariant from becoming
        // an out-of-bounds slice.
        let len = block.len().load(Relaxed).min(block.cap());
        let result = f(View::new(&block.cells()[..len]));
        // Acquire fence: keeps the relaxed loads above before the re-check below. If any of
        // them saw a store from a step that began after `v1`, the writer's Release fence (in
        // `step`) makes that step's odd version visible to the re-check.
        fence(Acquire);
        (block.version().load(Relaxed) == v1).then_some(result)
    }

    /// Retries until an attempt succeeds, never waiting for the writer lock.
    ///
    /// An attempt fails only while a writer is inside an O(1) in-place step on the block being
    /// read (or has just finished one); O(n) rewrites build a new block and do not disturb
    /// readers of the current one. So a reader keeps attempting, spinning and then yielding
    /// between attempts, and after [`OPTIMISTIC_ATTEMPTS`] failures it also tries the writer
    /// lock before each attempt, but only with `try_lock`: if a writer holds the lock (perhaps
    /// for an O(n) rewrite or a long `sort_by` closure) the reader does not wait for it, since
    /// an optimistic attempt succeeds while such a writer works. The lock, when it is free,
    /// bounds the reader's work under a stream of small writes.
    #[cold]
    #[inline(never)]
    fn read_contended<'g, R>(&self, guard: &'g Guard, mut f: impl FnMut(View<'g, T>) -> R) -> R {
        let mut failed = 1u32;
        loop {
            backoff(failed);
            if failed >= OPTIMISTIC_ATTEMPTS {
                if let Some(lock) = self.writer.try_lock() {
                    return self.read_locked(guard, &lock, f);
                }
            }
            if let Some(result) = self.attempt(guard, &mut f) {
                return result;
            }
            failed = failed.saturating_add(1);
        }
    }

    /// A read while holding the writer lock: no writer can be mid-step.
    #[cold]
    fn read_locked<'g, R>(
        &self,
        guard: &'g Guard,
        _lock: &MutexGuard<'_, ()>,
        mut f: impl FnMut(View<'g, T>) -> R,
    ) -> R {
        let shared = self.buf.load(Acquire, guard);
        // SAFETY: as in `attempt`; additionally no block can be retired while we hold the lock.
        match unsafe { shared.as_ref() } {
            None => f(View::new(&[])),
            Some(block) => {
                let len = block.len().load(Relaxed).min(block.cap());
                f(View::new(&block.cells()[..len]))
            }
        }
    }

    /// Like [`read`](Self::read), and also returns a [`Stamp`] of the state `f` saw, for a
    /// later check that the array is still in that state.
    ///
    /// Purely optimistic: it never takes this array's lock, not even with `try_lock`, so a
    /// writer of another array may call it while holding its own lock (one lock at a time).
    pub(crate) fn read_stamped<'g, R>(
        &'g self,
        guard: &'g Guard,
        mut f: impl FnMut(View<'g, T>) -> R,
    ) -> (R, Stamp<'g>) {
        let mut failed = 0u32;
        loop {
            // Acquire: see `attempt`.
            let shared = self.buf.load(Acquire, guard);
            let block_addr = shared.into_usize();
            // SAFETY: see `attempt`.
            let Some(block) = (unsafe { shared.as_ref() }) else {
                let stamp = Stamp {
                    source: self,
                    guard,
                    block: 0,
                    version: None,
                };
                return (f(View::new(&[])), stamp);
            };
            // The seqlock read of `attempt`, keeping the version it validated.
            let v1 = block.version().load(Acquire);
            if v1 & 1 == 0 {
                let len = block.len().load(Relaxed).min(block.cap());
                let result = f(View::new(&block.cells()[..len]));
                fence(Acquire);
                if block.version().load(Relaxed) == v1 {
                    let stamp = Stamp {
                        source: self,
                        guard,
                        block: block_addr,
                        version: Some((block.version(), v1)),
                    };
                    return (result, stamp);
                }
            }
            failed = failed.saturating_add(1);
            backoff(failed);
        }
    }

    /// The current block, loaded under `guard`.
    #[inline]
    fn block_in<'g>(&self, guard: &'g Guard) -> Option<&'g Block<Bits<T>>> {
        // Acquire: see `read`.
        let shared = self.buf.load(Acquire, guard);
        // SAFETY: see `read`.
        unsafe { shared.as_ref() }
    }

    pub(crate) fn len_in(&self, guard: &Guard) -> usize {
        // Validated like any read, although it is one load: a block published by
        // `publish_checked` carries an odd version until its check passes, and may be swapped
        // out again, so its length alone is not yet a state of the array.
        self.read(guard, |v| v.len())
    }

    pub(crate) fn capacity_in(&self, guard: &Guard) -> usize {
        self.block_in(guard).map_or(0, |b| b.cap())
    }

    pub(crate) fn get_in(&self, index: usize, guard: &Guard) -> Option<T> {
        self.read(guard, |v| v.get(index))
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
        self.read(guard, |v| {
            out.clear();
            out.reserve(v.len() * size_of::<T>());
            for x in v.iter() {
                out.extend_from_slice(bytemuck::bytes_of(&x));
            }
        });
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
                    for (d, s) in dst.iter_mut().zip(v.slice(start..end).iter()) {
                        *d = s;
                    }
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

// ---------------------------------------------------------------------------------------------
// The write side
// ---------------------------------------------------------------------------------------------

/// The writer lock, held; the only way to change the array.
struct Locked<'a, T: Element> {
    array: &'a FtArray<T>,
    /// Always `Some` until `drop`, which releases the lock before helping reclaim.
    state: Option<MutexGuard<'a, ()>>,
    /// Bytes this critical section retired: after unlocking, the writer helps reclaim in
    /// proportion to them if the process-wide retired bytes are above the soft limit (see
    /// `crate::reclaim`).
    retired_now: usize,
    /// The export count, loaded once (on first need) and then reused: every decision of one
    /// critical section is made from one value, so an export dropped between two checks cannot
    /// split a decision. A cached 0 stays true (exports are only made under the lock we hold);
    /// a cached non-zero may go stale, and then the operation fails as of the instant it was
    /// loaded, which is a state that existed.
    exports: Option<usize>,
}

impl<T: Element> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        drop(self.state.take());
        if self.retired_now > 0 {
            reclaim::help(self.retired_now);
        }
    }
}

/// The next capacity for a block that must hold `needed` elements and now holds `cap`.
fn grown_capacity<W: Word>(cap: usize, needed: usize) -> Result<usize, Error> {
    if needed <= cap {
        return Ok(cap);
    }
    let max = max_capacity::<W>();
    if needed > max {
        return Err(Error::CapacityOverflow);
    }
    // As std's RawVec: tiny arrays skip the 1, 2, 4 steps.
    let min_non_zero = if size_of::<W>() == 1 { 8 } else { 4 };
    Ok(needed.max(cap.saturating_mul(2)).max(min_non_zero).min(max))
}

/// Allocates a block of `cap` cells and fills it with `fill`; nobody else can see it yet.
fn build<W: Word>(
    cap: usize,
    fill: impl FnOnce(&mut BlockBuilder<W>),
) -> Result<RawBlock<W>, Error> {
    let mut builder = BlockBuilder::new(cap)?;
    fill(&mut builder);
    Ok(builder.finish())
}

impl<'a, T: Element> Locked<'a, T> {
    /// The current block.
    ///
    /// The reference borrows `self`, and only [`publish`](Self::publish) (which takes
    /// `&mut self`) retires blocks, so the borrow checker proves no writer uses a block after it
    /// has been handed to the collector.
    #[inline]
    fn block(&self) -> Option<&Block<Bits<T>>> {
        // Relaxed is enough: the last store to `buf` was made under this lock, and acquiring
        // the lock synchronizes with the unlock that followed it. No epoch pin is needed:
        // only a lock holder retires blocks, and the returned borrow of `self` keeps the lock.
        // SAFETY: the block cannot be freed while we hold the lock (see above).
        unsafe { self.array.buf.load(Relaxed, epoch::unprotected()).as_ref() }
    }

    /// Length and capacity. Relaxed: only lock holders store `len`, and the lock orders them.
    #[inline]
    fn len_cap(&self) -> (usize, usize) {
        self.block()
            .map_or((0, 0), |b| (b.len().load(Relaxed), b.cap()))
    }

    /// The number of live exports, as loaded once by this critical section (see `exports`).
    #[inline]
    fn exports(&mut self) -> usize {
        // Acquire: pairs with the Release decrement in an export's drop, so everything the
        // export's holder did through its pointer happens before we move or free the storage.
        // New exports are only created under the lock we hold, so the count cannot rise.
        *self
            .exports
            .get_or_insert_with(|| self.array.exports.load(Acquire))
    }

    /// `Err(Exported)` while any export pins the storage.
    #[inline]
    fn check_movable(&mut self) -> Result<(), Error> {
        match self.exports() {
            0 => Ok(()),
            exports => Err(Error::Exported { exports }),
        }
    }

    /// Runs `f` as one in-place step on `block`: readers see all of it or none of it.
    ///
    /// `f` must only do O(1) work (or O(k) with a small constant k), must not allocate, block
    /// or panic: readers that arrive during the step wait for it.
    #[inline]
    fn step<R>(block: &Block<Bits<T>>, f: impl FnOnce() -> R) -> R {
        // Relaxed: only lock holders store the version, and we hold the lock.
        let v = block.version().load(Relaxed);
        block.version().store(v.wrapping_add(1), Relaxed);
        // Release fence: any reader whose relaxed loads see a store made by `f` will, after its
        // Acquire fence, also see this odd version (or a later one) on its re-check.
        fence(Release);
        let result = f();
        // Release: a reader that loads this even version with Acquire sees all of `f`'s stores.
        block.version().store(v.wrapping_add(2), Release);
        result
    }

    /// Like [`step`](Self::step), for the step that publishes a cross-array operation: inside
    /// the step, after a `SeqCst` fence, it re-checks `check` (the other array is still in the
    /// state the operation copied) and runs `f` only if so. Returns whether `f` ran.
    ///
    /// Readers cannot validate a read that overlaps the step, so the state before the step, and
    /// the state after it, are the only ones they see; the check and `f` happen at one instant
    /// between the two (see `Stamp::unchanged` for why two such steps cannot both pass).
    #[inline]
    fn step_checked(block: &Block<Bits<T>>, check: Option<&Stamp<'_>>, f: impl FnOnce()) -> bool {
        let Some(stamp) = check else {
            Self::step(block, f);
            return true;
        };
        let v = block.version().load(Relaxed);
        block.version().store(v.wrapping_add(1), Relaxed);
        // SeqCst fence: a Release fence as in `step`, and the store-buffering fence that orders
        // the odd version before the loads of the other array in `unchanged`.
        fence(SeqCst);
        let ok = stamp.unchanged();
        if ok {
            f();
        }
        block.version().store(v.wrapping_add(2), Release);
        ok
    }

    /// Like [`publish`](Self::publish), for a cross-array operation: the new block goes in with
    /// an odd version (readers that find it retry), then, after a `SeqCst` fence, `check` is
    /// re-checked. If the other array is unchanged the block's version becomes even and the old
    /// block is retired; otherwise the old block goes back (readers never saw the new one in a
    /// state they could validate) and the new one is retired. Returns whether it was published.
    fn publish_checked(&mut self, new: RawBlock<Bits<T>>, check: Option<&Stamp<'_>>) -> bool {
        let Some(stamp) = check else {
            self.publish(Some(new));
            return true;
        };
        let guard = epoch::pin();
        let new = Owned::<Block<Bits<T>>>::init(new).into_shared(&guard);
        // SAFETY: `new` is not shared yet.
        let new_block = unsafe { new.deref() };
        // Relaxed: not yet shared; the Release swap below publishes it.
        new_block.version().store(1, Relaxed);
        // Release: as in `publish`.
        let old = self.array.buf.swap(new, Release, &guard);
        // SeqCst fence: the store-buffering fence (see `Stamp::unchanged`): the swap above is
        // ordered before the loads of the other array.
        fence(SeqCst);
        let (keep, retire) = if stamp.unchanged() {
            // Release: a reader that loads the even version with Acquire sees the cells.
            new_block.version().store(2, Release);
            (new, old)
        } else {
            // Release: as in `publish`; the old block was never changed, so readers that still
            // hold it, and readers that load it again now, see the state before this call.
            self.array.buf.store(old, Release);
            (old, new)
        };
        let published = keep == new;
        self.retire(retire, &guard);
        published
    }

    /// Makes `new` the array's block (null for `None`) and retires the old one.
    fn publish(&mut self, new: Option<RawBlock<Bits<T>>>) {
        let guard = epoch::pin();
        let new = match new {
            Some(raw) => Owned::<Block<Bits<T>>>::init(raw).into_shared(&guard),
            None => Shared::null(),
        };
        // Release: a reader that loads the new pointer with Acquire sees the block's header and
        // cells, written before this point. No Acquire needed: the old value was stored under
        // the lock we hold.
        let old = self.array.buf.swap(new, Release, &guard);
        self.retire(old, &guard);
    }

    /// Hands `old`, which the caller has just unlinked from `buf`, to the epoch collector.
    fn retire(&mut self, old: Shared<'_, Block<Bits<T>>>, guard: &Guard) {
        // SAFETY: reading `old` is fine: we hold the lock, so it has not been retired yet.
        if let Some(old_block) = unsafe { old.as_ref() } {
            let bytes = old_block.alloc_size();
            // Why deferring the free is sound: `old` is unlinked, so no reader can load it from
            // now on; readers that loaded it earlier are pinned, and the collector frees it only
            // after they all unpin. Writers reach blocks only through `Locked::block`, whose
            // borrows ended before this `&mut self` call; exports pin the storage, and
            // `check_movable` ruled them out before any caller got here (a block swapped back
            // out by `publish_checked` was never exported). The closure may run on any thread:
            // it only frees the block (whose atomics are `Send`) and counts bytes.
            // SAFETY: `old` is unlinked and referenced only by pinned readers (see above).
            unsafe {
                guard.defer_unchecked(move || {
                    drop(old.into_owned());
                    reclaim::freed(bytes);
                })
            };
            reclaim::retired(bytes);
            self.retired_now += bytes;
            if count_unflushed(bytes, FLUSH_BYTES) {
                // Moves this thread's garbage to the global queue and tries to advance the epoch
                // and free what has expired, so retired bytes cannot pile up in a local bag.
                guard.flush();
            }
        }
    }

    /// A copy of the elements, read under the lock.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy cannot be allocated.
    fn snapshot(&self) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        if let Some(block) = self.block() {
            let len = block.len().load(Relaxed);
            // SAFETY: we hold the writer lock, so no thread writes the cells (writes through an
            // export must be atomic or exclusive, see `Export`).
            unsafe { block.read_unsync_into(0..len, &mut out) }?;
        }
        Ok(out)
    }

    /// Publishes `values` as the array's contents: as a new block when the storage may move,
    /// or written back in place (same length only) while it is exported.
    fn commit(&mut self, values: &[T]) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        let exports = self.exports();
        if exports != 0 {
            if values.len() != len {
                return Err(Error::Exported { exports });
            }
            if let Some(block) = self.block() {
                let cells = block.cells();
                // This step is O(n): only exported storage is rewritten in place (readers wait
                // for it); otherwise the new contents go to a new block below.
                Self::step(block, || {
                    for (c, v) in cells.iter().zip(values) {
                        Bits::<T>::store(c, to_bits(*v), Relaxed);
                    }
                });
            }
            return Ok(());
        }
        if values.is_empty() && cap == 0 {
            return Ok(());
        }
        let raw = build(grown_capacity::<Bits<T>>(cap, values.len())?, |b| {
            b.push_slice(values)
        })?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Shortens the published length in one step (appends go through `append_in_place`).
    fn set_len(&self, new_len: usize) {
        if let Some(block) = self.block() {
            Self::step(block, || block.len().store(new_len, Relaxed));
        }
    }

    /// Writes the cells `len..new_len` with `write` (relaxed stores), then publishes
    /// `new_len` in one O(1) step.
    ///
    /// The cells past the published length are invisible to validated readers: any reader that
    /// could look at them read a longer length before a step shrank it, and that step changed
    /// the version. So they are written outside the step; only the length is published inside
    /// it, keeping the step O(1) however many elements are appended.
    ///
    /// Release fence: the step that shrank the length may have run on another thread (a
    /// `clear` there, an `extend` here; the lock orders them). A reader whose relaxed loads see
    /// one of the new cells must also see that step's odd version on its re-check, so the
    /// stores need a release fence before them, exactly as the stores inside `step` have.
    /// Without it a reader could pair the old length with the new cells (found by
    /// tests/threads.rs under Miri, reproduced by a loom model).
    #[inline]
    fn append_in_place(
        block: &Block<Bits<T>>,
        len: usize,
        new_len: usize,
        check: Option<&Stamp<'_>>,
        write: impl FnOnce(&[Cell<T>]),
    ) -> bool {
        fence(Release);
        write(&block.cells()[len..new_len]);
        Self::step_checked(block, check, || block.len().store(new_len, Relaxed))
    }

    /// Appends `src` (and then `n` copies of `fill`), in place if it fits, otherwise by moving
    /// to a larger block.
    fn append(&mut self, src: &[T], fill: Option<(T, usize)>) -> Result<(), Error> {
        self.append_checked(src, fill, None).map(|_| ())
    }

    /// [`append`](Self::append), published only if `check` still holds at the publishing step
    /// (see [`step_checked`](Self::step_checked)). `Ok(false)`: it did not, and nothing changed.
    fn append_checked(
        &mut self,
        src: &[T],
        fill: Option<(T, usize)>,
        check: Option<&Stamp<'_>>,
    ) -> Result<bool, Error> {
        let (len, cap) = self.len_cap();
        let extra = fill.map_or(0, |(_, n)| n);
        let new_len = len
            .checked_add(src.len())
            .and_then(|n| n.checked_add(extra))
            .ok_or(Error::CapacityOverflow)?;
        if new_len == len {
            return Ok(check.is_none_or(Stamp::unchanged));
        }
        if new_len <= cap {
            let block = self.block().expect("cap > 0 implies a block");
            return Ok(Self::append_in_place(block, len, new_len, check, |cells| {
                let (copied, filled) = cells.split_at(src.len());
                for (c, v) in copied.iter().zip(src) {
                    Bits::<T>::store(c, to_bits(*v), Relaxed);
                }
                if let Some((v, _)) = fill {
                    let bits = to_bits(v);
                    for c in filled {
                        Bits::<T>::store(c, bits, Relaxed);
                    }
                }
            }));
        }
        self.check_movable()?;
        let new_cap = grown_capacity::<Bits<T>>(cap, new_len)?;
        let old = self.block();
        let raw = build(new_cap, |b| {
            if let Some(old) = old {
                // SAFETY: we hold the writer lock and the storage is not exported.
                unsafe { b.push_block(old, 0..len) };
            }
            b.push_slice(src);
            if let Some((v, n)) = fill {
                b.push_repeat(to_bits(v), n);
            }
        })?;
        Ok(self.publish_checked(raw, check))
    }

    /// Replaces `range` (already resolved against the current length) with `src`.
    fn splice(&mut self, range: Range<usize>, src: &[T]) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        if range.start == len {
            return self.append(src, None);
        }
        let new_len = (len - range.len())
            .checked_add(src.len())
            .ok_or(Error::CapacityOverflow)?;
        let exported = self.exports() != 0;
        if range.len() == src.len() && (src.len() <= IN_PLACE_MAX || exported) {
            if let Some(block) = self.block() {
                let cells = &block.cells()[range];
                Self::step(block, || {
                    for (c, v) in cells.iter().zip(src) {
                        Bits::<T>::store(c, to_bits(*v), Relaxed);
                    }
                });
            }
            return Ok(());
        }
        if range.end == len && src.is_empty() {
            self.set_len(range.start);
            return Ok(());
        }
        self.check_movable()?;
        let new_cap = grown_capacity::<Bits<T>>(cap, new_len)?;
        let old = self.block().expect("a non-empty range implies a block");
        let raw = build(new_cap, |b| {
            // SAFETY: we hold the writer lock and the storage is not exported.
            unsafe { b.push_block(old, 0..range.start) };
            b.push_slice(src);
            // SAFETY: as above.
            unsafe { b.push_block(old, range.end..len) };
        })?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Stores `values[k]` at index `start + k * step` for every `k`, as one step. All those
    /// indices are below the length (the caller resolved them).
    ///
    /// In place (inside one version step) for at most [`IN_PLACE_MAX`] values, or any number
    /// while exported; otherwise by publishing a patched copy, so readers never wait for an
    /// O(n) step.
    fn set_strided(&mut self, start: usize, step: usize, values: &[T]) -> Result<(), Error> {
        if values.is_empty() {
            return Ok(());
        }
        let exported = self.exports() != 0;
        if values.len() <= IN_PLACE_MAX || exported {
            let block = self.block().expect("a non-empty index set implies a block");
            let cells = block.cells();
            Self::step(block, || {
                for (k, v) in values.iter().enumerate() {
                    Bits::<T>::store(&cells[start + k * step], to_bits(*v), Relaxed);
                }
            });
            return Ok(());
        }
        let mut copy = self.snapshot()?;
        for (k, v) in values.iter().enumerate() {
            copy[start + k * step] = *v;
        }
        self.commit(&copy)
    }

    /// Checks `index < len`.
    fn check_index(&self, index: usize) -> Result<&Block<Bits<T>>, Error> {
        let len = self.len_cap().0;
        match self.block() {
            Some(block) if index < len => Ok(block),
            _ => Err(Error::IndexOutOfRange { index, len }),
        }
    }
}

impl<T: Element> FtArray<T> {
    #[inline]
    fn lock(&self) -> Locked<'_, T> {
        Locked {
            array: self,
            state: Some(self.writer.lock()),
            retired_now: 0,
            exports: None,
        }
    }

    /// Every constructor ends here, so every `FtArray<T>` that exists has passed the
    /// compile-time check of [`Element`]'s contract (the size of `T` is the size of its word).
    fn from_block(raw: Option<RawBlock<Bits<T>>>) -> Self {
        let () = ElementLayout::<T>::CHECKED;
        FtArray {
            buf: match raw {
                Some(raw) => Atomic::init(raw),
                None => Atomic::null(),
            },
            exports: AtomicUsize::new(0),
            writer: Mutex::new(()),
            _elem: PhantomData,
        }
    }

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
        Self::from_block(None)
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
        if capacity == 0 {
            return Ok(Self::new());
        }
        Ok(Self::from_block(Some(build(capacity, |_| {})?)))
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
        if values.is_empty() {
            return Ok(Self::new());
        }
        let raw = build(values.len(), |b| b.push_slice(values))?;
        Ok(Self::from_block(Some(raw)))
    }

    /// Consumes the array and returns its elements.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2]);
    /// assert_eq!(a.into_vec(), vec![1, 2]);
    /// ```
    pub fn into_vec(self) -> Vec<T> {
        self.lock().snapshot().unwrap_or_else(|e| panic!("{e}"))
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
        self.len_in(&epoch::pin())
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
    /// ```
    /// let a = ftarray::FtArray::<u32>::with_capacity(10);
    /// a.push(1);
    /// assert!(a.capacity() >= 10);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity_in(&epoch::pin())
    }

    /// The element at `index`, or `None` if `index` is out of range at that instant.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[10u64, 20]);
    /// assert_eq!(a.get(1), Some(20));
    /// assert_eq!(a.get(2), None);
    /// ```
    pub fn get(&self, index: usize) -> Option<T> {
        self.get_in(index, &epoch::pin())
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
        self.last_in(&epoch::pin())
    }

    /// A copy of all elements, taken at one instant: never a mix of two states.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1.5f32, 2.5]);
    /// assert_eq!(a.to_vec(), vec![1.5, 2.5]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.to_vec_in(&epoch::pin())
    }

    /// The elements' bytes in native byte order, taken at one instant (Python's `tobytes`).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[0x0102u16]);
    /// assert_eq!(a.to_bytes(), 0x0102u16.to_ne_bytes());
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_in(&epoch::pin())
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
        self.get_range_in(bounds(range), &epoch::pin())
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
        self.copy_to_slice_in(start, dst, &epoch::pin())
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
        self.position_in(value, &epoch::pin())
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
        self.count_in(value, &epoch::pin())
    }

    /// A live iterator with its own position; see [`Iter`] for what it promises.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// assert_eq!(a.iter().sum::<u32>(), 6);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(self)
    }

    /// A handle that pins the epoch once for many reads; see [`Reader`].
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// let mut r = a.reader();
    /// let mut sum = 0;
    /// for i in 0..r.len() {
    ///     sum += r.get(i).unwrap();
    ///     r.repin(); // a quiescent point: lets retired buffers be freed
    /// }
    /// assert_eq!(sum, 6);
    /// ```
    pub fn reader(&self) -> Reader<'_, T> {
        Reader::new(self, epoch::pin())
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
        self.fetch_update(index, |_| value)
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
        let w = self.lock();
        let block = w.check_index(index)?;
        let cell = &block.cells()[index];
        // Relaxed: only lock holders store cells, and the lock orders them.
        let old = from_bits(Bits::<T>::load(cell, Relaxed));
        let new = to_bits(f(old));
        Locked::<T>::step(block, || Bits::<T>::store(cell, new, Relaxed));
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
        let w = self.lock();
        w.check_index(a)?;
        let block = w.check_index(b)?;
        let (ca, cb) = (&block.cells()[a], &block.cells()[b]);
        Locked::<T>::step(block, || {
            let (va, vb) = (Bits::<T>::load(ca, Relaxed), Bits::<T>::load(cb, Relaxed));
            Bits::<T>::store(ca, vb, Relaxed);
            Bits::<T>::store(cb, va, Relaxed);
        });
        Ok(())
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
        let mut w = self.lock();
        if let Some(block) = w.block() {
            // Fast path, the common case: room in the current block (see `append`).
            let len = block.len().load(Relaxed);
            if len < block.cap() {
                Locked::<T>::append_in_place(block, len, len + 1, None, |cells| {
                    Bits::<T>::store(&cells[0], to_bits(value), Relaxed)
                });
                return Ok(());
            }
        }
        w.append(std::slice::from_ref(&value), None)
    }

    /// Removes and returns the last element, or `None` if the array is empty.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// assert_eq!(a.pop(), Some(2));
    /// assert_eq!(a.pop(), Some(1));
    /// assert_eq!(a.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        let w = self.lock();
        let (len, _) = w.len_cap();
        let last = len.checked_sub(1)?;
        let value = from_bits(Bits::<T>::load(&w.block()?.cells()[last], Relaxed));
        w.set_len(last);
        Some(value)
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
        let mut w = self.lock();
        let len = w.len_cap().0;
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
        let mut w = self.lock();
        let block = w.check_index(index)?;
        let value = from_bits(Bits::<T>::load(&block.cells()[index], Relaxed));
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
        let mut w = self.lock();
        let Some(block) = w.block() else {
            return Ok(None);
        };
        let len = w.len_cap().0;
        let found = block.cells()[..len]
            .iter()
            .position(|c| from_bits::<T>(Bits::<T>::load(c, Relaxed)) == *value);
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
        let w = self.lock();
        let block = w.check_index(index)?;
        let last = w.len_cap().0 - 1;
        let cells = block.cells();
        Ok(from_bits(Locked::<T>::step(block, || {
            let removed = Bits::<T>::load(&cells[index], Relaxed);
            let moved = Bits::<T>::load(&cells[last], Relaxed);
            Bits::<T>::store(&cells[index], moved, Relaxed);
            block.len().store(last, Relaxed);
            removed
        })))
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
        self.lock().append(values, None)
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
        let mut w = self.lock();
        if std::ptr::eq(self, other) {
            // We hold the lock: the snapshot is the array at the instant of the append.
            let values = w.snapshot()?;
            return w.append(&values, None);
        }
        let guard = epoch::pin();
        let mut values = Vec::new();
        let mut failed = 0u32;
        loop {
            let ((), stamp) = other.read_stamped(&guard, |v| v.copy_into(&mut values));
            if w.append_checked(&values, None, Some(&stamp))? {
                return Ok(());
            }
            failed = failed.saturating_add(1);
            backoff(failed);
        }
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
        let item_size = size_of::<T>();
        if bytes.len() % item_size != 0 {
            return Err(Error::BadByteLength {
                len: bytes.len(),
                item_size,
            });
        }
        let values: Vec<T> = bytes
            .chunks_exact(item_size)
            .map(bytemuck::pod_read_unaligned)
            .collect();
        self.try_extend_from_slice(&values)
    }

    /// Shortens the array to `len` elements; does nothing if it is not longer. Keeps the
    /// capacity, works in place, and is allowed while exported.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// a.truncate(1);
    /// assert_eq!(a.to_vec(), [1]);
    /// ```
    pub fn truncate(&self, len: usize) {
        let w = self.lock();
        if len < w.len_cap().0 {
            w.set_len(len);
        }
    }

    /// Removes every element, keeping the capacity (call
    /// [`shrink_to_fit`](Self::shrink_to_fit) to release it).
    ///
    /// A reader that runs at the same time sees the whole old array or the empty one; the
    /// storage it reads from stays valid until it is done with it.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// a.clear();
    /// assert!(a.is_empty());
    /// assert_eq!(a.get(0), None);
    /// ```
    pub fn clear(&self) {
        self.truncate(0);
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
        let mut w = self.lock();
        let len = w.len_cap().0;
        if new_len <= len {
            if new_len < len {
                w.set_len(new_len);
            }
            return Ok(());
        }
        w.append(&[], Some((value, new_len - len)))
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
        self.reserve_impl(additional, false)
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
        self.reserve_impl(additional, true)
    }

    fn reserve_impl(&self, additional: usize, exact: bool) -> Result<(), Error> {
        let mut w = self.lock();
        let (len, cap) = w.len_cap();
        let needed = len.checked_add(additional).ok_or(Error::CapacityOverflow)?;
        if needed <= cap {
            return Ok(());
        }
        if needed > max_capacity::<Bits<T>>() {
            return Err(Error::CapacityOverflow);
        }
        w.check_movable()?;
        let new_cap = if exact {
            needed
        } else {
            grown_capacity::<Bits<T>>(cap, needed)?
        };
        let old = w.block();
        let raw = build(new_cap, |b| {
            if let Some(old) = old {
                // SAFETY: we hold the writer lock and the storage is not exported.
                unsafe { b.push_block(old, 0..len) };
            }
        })?;
        w.publish(Some(raw));
        Ok(())
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
        let mut w = self.lock();
        let (len, cap) = w.len_cap();
        if len == cap && (cap > 0 || w.block().is_none()) {
            return Ok(());
        }
        w.check_movable()?;
        if len == 0 {
            w.publish(None);
            return Ok(());
        }
        let old = w.block().expect("len > 0 implies a block");
        // SAFETY: we hold the writer lock and the storage is not exported.
        let raw = build(len, |b| unsafe { b.push_block(old, 0..len) })?;
        w.publish(Some(raw));
        Ok(())
    }

    /// Replaces the elements in `range` with `values` (Python's slice assignment `a[i:j] = …`,
    /// any lengths). Readers see the old or the new contents, never a mix.
    ///
    /// Done in place (and so allowed while exported): an equal-length replacement of at most 64
    /// elements (of any length while exported), removing a tail (`a[i:] = []`, a truncate), and
    /// appending within the capacity (`a[len:] = …`, an extend). Everything else builds a new
    /// buffer.
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
        let mut w = self.lock();
        let range = resolve(bounds(range), w.len_cap().0)?;
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
        let mut w = self.lock();
        let range = resolve(bounds(range), w.len_cap().0)?;
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
        let mut w = self.lock();
        let range = resolve(bounds(range), w.len_cap().0)?;
        let mut removed = Vec::new();
        if let Some(block) = w.block() {
            // SAFETY: we hold the writer lock; see `Locked::snapshot`.
            unsafe { block.read_unsync_into(range.clone(), &mut removed) }?;
        }
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
        let mut w = self.lock();
        let mut values = w.snapshot()?;
        let len = values.len();
        values.retain(|x| keep(x));
        if values.len() == len {
            return Ok(());
        }
        w.commit(&values)
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
        let mut w = self.lock();
        let mut values = w.snapshot()?;
        let result = f(&mut values);
        w.commit(&values)?;
        Ok(result)
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

    /// A length-preserving edit: a new block normally, in place while exported.
    fn rewrite(&self, edit: impl FnOnce(&mut Vec<T>)) -> Result<(), Error> {
        let mut w = self.lock();
        let mut values = w.snapshot()?;
        edit(&mut values);
        w.commit(&values)
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
        let guard = epoch::pin();
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

    // -----------------------------------------------------------------------------------------
    // Exports
    // -----------------------------------------------------------------------------------------

    /// Pins the storage and returns a raw view of it (what Python's buffer protocol and C hosts
    /// need). See [`Export`](crate::Export).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2]);
    /// let e = a.export();
    /// assert_eq!(e.len(), 2);
    /// assert!(a.try_push(3).is_err()); // full, and the storage may not move
    /// ```
    pub fn export(&self) -> crate::Export<'_, T> {
        let (ptr, len) = self.export_raw();
        crate::Export::new(self, ptr, len)
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
        crate::ReadOnlyExport::new(self.export())
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
    /// # Aborts
    ///
    /// If more than `isize::MAX` exports are alive at once (as `Arc` does for its count):
    /// wrapping the count would let the storage move under live exports.
    pub fn export_raw(&self) -> (*mut T, usize) {
        let w = self.lock();
        // Relaxed: increments happen only under the lock we hold, which orders them against
        // every moving operation's check.
        let previous = self.exports.fetch_add(1, Relaxed);
        if previous > isize::MAX as usize {
            // Only reachable by leaking exports (`mem::forget` or unreleased raw exports)
            // billions of times; continuing would risk a wrapped count.
            std::process::abort();
        }
        match w.block() {
            Some(block) => (
                block.cells().as_ptr().cast::<T>().cast_mut(),
                block.len().load(Relaxed),
            ),
            None => (
                std::ptr::NonNull::<Cell<T>>::dangling()
                    .as_ptr()
                    .cast::<T>(),
                0,
            ),
        }
    }

    /// Ends one export made by [`export_raw`](Self::export_raw).
    ///
    /// # Safety
    ///
    /// Each call must match one earlier `export_raw` on this array that has not been released,
    /// and the pointer that call returned must not be used afterwards. (Releasing an export
    /// someone else still uses would let the storage move under them.)
    pub unsafe fn release_export(&self) {
        // Release: pairs with the Acquire load in `check_movable`; the holder's accesses through
        // the pointer happen before the storage can move or be freed.
        let previous = self.exports.fetch_sub(1, Release);
        debug_assert!(previous > 0, "release_export without a matching export_raw");
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
        self.exports.load(Acquire)
    }
}

impl<T: Element> Drop for FtArray<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader, writer or guard-holding handle can reach this array
        // any more, so the current block is ours alone.
        let shared = self.buf.load(Relaxed, unsafe { epoch::unprotected() });
        if shared.is_null() {
            return;
        }
        if self.exports.load(Acquire) != 0 {
            // A raw export was never released: its holder may still use the storage, so leak
            // it rather than hand them a dangling pointer.
            return;
        }
        // SAFETY: as above; the block is not exported and not shared, so we may free it now.
        drop(unsafe { shared.into_owned() });
    }
}

// ---------------------------------------------------------------------------------------------
// Standard traits
// ---------------------------------------------------------------------------------------------

impl<T: Element> Default for FtArray<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A snapshot copy.
impl<T: Element> Clone for FtArray<T> {
    fn clone(&self) -> Self {
        Self::from_slice(&self.to_vec())
    }
}

/// Formats a snapshot like a list: `[1, 2, 3]`.
impl<T: Element + fmt::Debug> fmt::Debug for FtArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl<T: Element> FtArray<T> {
    /// Copies of `self` and `other` that were both the arrays' contents at one instant.
    ///
    /// `self` is read with a stamp, then `other`, then the stamp is re-checked: if `self` did
    /// not change meanwhile, its copy was still its contents when `other` was read. No lock is
    /// taken on `self`; `other` is read like any array. For `self` and `other` the same array,
    /// the caller uses one snapshot instead.
    fn snapshot_pair<U: Element>(&self, other: &FtArray<U>) -> (Vec<T>, Vec<U>) {
        let guard = epoch::pin();
        let (mut mine, mut theirs) = (Vec::new(), Vec::new());
        let mut failed = 0u32;
        loop {
            let ((), stamp) = self.read_stamped(&guard, |v| v.copy_into(&mut mine));
            other.read(&guard, |v| v.copy_into(&mut theirs));
            // `other`'s read ends with an Acquire fence and a load, so the re-check below is
            // ordered after every load of `other`.
            if stamp.unchanged() {
                return (mine, theirs);
            }
            failed = failed.saturating_add(1);
            backoff(failed);
        }
    }
}

/// Compares the two arrays' contents at one instant; an array compared with itself is one
/// snapshot compared with itself.
impl<T: Element + PartialEq> PartialEq for FtArray<T> {
    // `v == v` on purpose: it is false when an element is NaN, as it is for slices.
    #[allow(clippy::eq_op)]
    fn eq(&self, other: &Self) -> bool {
        if std::ptr::eq(self, other) {
            let v = self.to_vec();
            return v == v;
        }
        let (a, b) = self.snapshot_pair(other);
        a == b
    }
}

impl<T: Element + Eq> Eq for FtArray<T> {}

/// Compares the contents lexicographically (as slices do), at one instant, like `==`.
impl<T: Element + PartialOrd> PartialOrd for FtArray<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if std::ptr::eq(self, other) {
            let v = self.to_vec();
            return v.partial_cmp(&v);
        }
        let (a, b) = self.snapshot_pair(other);
        a.partial_cmp(&b)
    }
}

/// Compares the contents lexicographically (as slices do), at one instant, like `==`.
impl<T: Element + Ord> Ord for FtArray<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        if std::ptr::eq(self, other) {
            return Ordering::Equal;
        }
        let (a, b) = self.snapshot_pair(other);
        a.cmp(&b)
    }
}

/// Hashes a snapshot of the contents as the slice of those elements hashes, so equal arrays
/// hash equally.
impl<T: Element + std::hash::Hash> std::hash::Hash for FtArray<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_vec().as_slice().hash(state);
    }
}

impl<T: Element + PartialEq> PartialEq<[T]> for FtArray<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.to_vec() == other
    }
}

impl<T: Element + PartialEq> PartialEq<Vec<T>> for FtArray<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.to_vec() == *other
    }
}

impl<T: Element + PartialEq, const N: usize> PartialEq<[T; N]> for FtArray<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.to_vec() == other
    }
}

impl<T: Element> From<Vec<T>> for FtArray<T> {
    fn from(values: Vec<T>) -> Self {
        Self::from_slice(&values)
    }
}

impl<T: Element> From<&[T]> for FtArray<T> {
    fn from(values: &[T]) -> Self {
        Self::from_slice(values)
    }
}

impl<T: Element, const N: usize> From<[T; N]> for FtArray<T> {
    fn from(values: [T; N]) -> Self {
        Self::from_slice(&values)
    }
}

impl<T: Element> From<FtArray<T>> for Vec<T> {
    fn from(array: FtArray<T>) -> Self {
        array.into_vec()
    }
}

impl<T: Element> FromIterator<T> for FtArray<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<T>>())
    }
}

/// Collects the items first, then appends them in one step.
///
/// # Panics
///
/// As [`FtArray::push`].
impl<T: Element> Extend<T> for FtArray<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let values: Vec<T> = iter.into_iter().collect();
        self.extend_from_slice(&values);
    }
}

impl<'a, T: Element> Extend<&'a T> for FtArray<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

/// Collects the items first, then appends them in one step, through a shared reference (so
/// an array shared between threads can be extended from an iterator).
///
/// # Panics
///
/// As [`FtArray::push`].
///
/// ```
/// let a = ftarray::FtArray::from_slice(&[1u32]);
/// let mut shared = &a;
/// shared.extend([2, 3]);
/// shared.extend(&[4]);
/// assert_eq!(a.to_vec(), [1, 2, 3, 4]);
/// ```
impl<T: Element> Extend<T> for &FtArray<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let values: Vec<T> = iter.into_iter().collect();
        self.extend_from_slice(&values);
    }
}

impl<'a, T: Element> Extend<&'a T> for &FtArray<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<'a, T: Element> IntoIterator for &'a FtArray<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Past `isize::MAX` live exports, `export_raw` aborts the process instead of letting the
    /// count wrap. Checked in a child process (this same test binary, re-run on this test with
    /// an environment variable set), since an abort ends the process.
    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn export_count_overflow_aborts_the_process() {
        const CHILD: &str = "FTARRAY_EXPORT_OVERFLOW_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let a = FtArray::<u8>::new();
            a.exports.store(isize::MAX as usize + 1, Relaxed);
            let _ = a.export_raw();
            // Not reached when the overflow aborts.
            std::process::exit(0);
        }
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "array::tests::export_count_overflow_aborts_the_process",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the child exited normally: no abort");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(6), "SIGABRT, got {status:?}");
        }
    }

    #[test]
    fn growth_is_geometric_with_a_floor() {
        assert_eq!(grown_capacity::<u32>(0, 1), Ok(4));
        assert_eq!(grown_capacity::<u8>(0, 1), Ok(8));
        assert_eq!(grown_capacity::<u32>(4, 5), Ok(8));
        assert_eq!(grown_capacity::<u32>(4, 100), Ok(100));
        assert_eq!(grown_capacity::<u32>(8, 3), Ok(8));
        assert_eq!(
            grown_capacity::<u64>(0, usize::MAX),
            Err(Error::CapacityOverflow)
        );
    }

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
