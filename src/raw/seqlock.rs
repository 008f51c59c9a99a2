//! The seqlock: both halves of every memory-ordering pairing between readers and writers.
//!
//! Readers ([`RawArray::read`]) load the current block, its version, the length and cells, and
//! re-check the version; writers change a block in place only inside a [`step`] (version odd,
//! stores, version even), append cells outside the step behind the append fence
//! ([`append_in_place`]), and replace the block by one pointer swap ([`RawArray::swap_block`]).
//! Keeping the two sides in one file keeps each Acquire next to the Release it pairs with. The
//! argument is written out in ARCHITECTURE.md ("Reads", "Writes").
//!
//! | version of a block | meaning |
//! |---|---|
//! | even `2k` | quiescent: `len` and the cells are a state the array really had |
//! | odd `2k + 1` | a writer is inside a step on this block (or published it tentatively) |
//! | changed since a reader's first load | that reader's attempt is discarded |

use super::array::RawArray;
use super::block::{Block, RawBlock, build};
use super::cells::{Cells, Sharing};
use crate::element::Word;
use crate::error::Error;
use crate::sync::Ordering::{Acquire, Relaxed, Release, SeqCst};
use crate::sync::{AtomicUsize, MutexGuard, fence, spin_loop, yield_now};
use crossbeam_epoch::{self as epoch, Guard, Owned, Pointer, Shared};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Failed optimistic read attempts after which a reader also tries the writer lock (without
/// waiting for it) before each further attempt. Under loom it is 1, so that small models reach
/// the fallback.
const OPTIMISTIC_ATTEMPTS: u32 = if cfg!(loom) { 1 } else { 8 };

/// Failed attempts after which a reader yields its CPU between attempts instead of spinning
/// (a writer preempted in the middle of a step needs a CPU to finish it).
const SPIN_ATTEMPTS: u32 = 16;

/// Pause between two attempts of an operation that retries: spin, then yield.
pub(crate) fn backoff(failed: u32) {
    if failed < SPIN_ATTEMPTS {
        for _ in 0..(1u32 << failed.min(6)) {
            spin_loop();
        }
    } else {
        yield_now();
    }
}

// ---------------------------------------------------------------------------------------------
// What a read sees
// ---------------------------------------------------------------------------------------------

/// What one read attempt sees: the first `len` cells of one block, as words.
///
/// Every load is Relaxed: the attempt is validated as a whole by the version re-check.
pub(crate) struct RawView<'g, W: Word> {
    cells: Cells<'g, W>,
}

impl<W: Word> Clone for RawView<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W: Word> Copy for RawView<'_, W> {}

impl<'g, W: Word> RawView<'g, W> {
    fn new(cells: Cells<'g, W>) -> Self {
        RawView { cells }
    }

    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.cells.len()
    }

    #[inline(always)]
    pub(crate) fn get(self, index: usize) -> Option<W> {
        self.cells.get(index)
    }

    #[inline(always)]
    pub(crate) fn iter(self) -> impl ExactSizeIterator<Item = W> + 'g {
        self.cells.iter()
    }

    /// Loads the words into `out` as native-order bytes, a unit at a time.
    ///
    /// # Panics
    ///
    /// If `out` is not exactly `len` words long.
    #[inline]
    pub(crate) fn load_bytes(self, out: &mut [MaybeUninit<u8>]) {
        self.cells.load_bytes(out);
    }

    /// Stores the words into `dst` (as many; the writer's own cells), as
    /// [`Cells::store_from`].
    ///
    /// # Panics
    ///
    /// If the lengths differ.
    #[inline]
    pub(crate) fn store_into(self, dst: Cells<'_, W>, sharing: Sharing) {
        dst.store_from(self.cells, sharing);
    }

    /// # Panics
    ///
    /// If `range` is not within `0..len`.
    pub(crate) fn slice(self, range: Range<usize>) -> RawView<'g, W> {
        RawView::new(self.cells.slice(range))
    }
}

// ---------------------------------------------------------------------------------------------
// Stamps: what a read saw, for a later check
// ---------------------------------------------------------------------------------------------

/// An array seen from outside its word type: lets a [`Stamp`] re-check which block is current.
pub(crate) trait BlockSource {
    /// The address of the current block (0 for none).
    fn current_block(&self) -> usize;
}

impl<W: Word> BlockSource for RawArray<W> {
    fn current_block(&self) -> usize {
        // Relaxed: the pointer is only compared, never dereferenced, so no guard is needed
        // for it; the caller's SeqCst fence orders this load (see `Stamp::unchanged`).
        // SAFETY: `unprotected` is fine for a load whose result is never dereferenced.
        self.buf
            .load(Relaxed, unsafe { epoch::unprotected() })
            .into_usize()
    }
}

/// What one validated read of an array saw: its block and that block's (even) version.
///
/// The reader's guard must stay pinned while the stamp is used (`'g` is its borrow): the block
/// then cannot be freed, so its address cannot be reused by another block, and an unchanged
/// address and version mean the array is in exactly the state the read saw.
#[derive(Clone, Copy)]
pub(crate) struct Stamp<'g> {
    source: *const (dyn BlockSource + 'g),
    /// Address of the block read, 0 for an array without one.
    block: usize,
    /// That block's version word and the even value the read validated against.
    version: Option<(*const AtomicUsize, usize)>,
    _guard: PhantomData<&'g Guard>,
}

impl Stamp<'_> {
    /// Whether the observed array is still in the state the read saw.
    ///
    /// Called by a writer of *another* array inside its publishing step, after storing its own
    /// odd version (or swapping in its new block) and a `SeqCst` fence ([`step_checked`],
    /// [`RawArray::swap_block_tentatively`]). Two such writers, each copying the other's array,
    /// form the store-buffering pattern: each stores to its own array, fences, then loads the
    /// other's. The SeqCst fences forbid both loads from missing the other's store, so at most
    /// one of two overlapping cross operations passes this check; the other sees a change and
    /// retries. Relaxed loads suffice after the fence.
    pub(crate) fn unchanged(&self) -> bool {
        // SAFETY: `source` was a live `&dyn BlockSource` when the stamp was made and outlives
        // `'g` (see `RawArray::read_stamped`); the version word belongs to a block that the
        // pinned guard keeps alive.
        unsafe {
            (*self.source).current_block() == self.block
                && self
                    .version
                    .is_none_or(|(word, seen)| (*word).load(Relaxed) == seen)
        }
    }

    /// The same stamp with its lifetime erased, for a writer to hold while it runs an edit.
    ///
    /// # Safety
    ///
    /// The stamp must only be used while the original `'g` borrows (the observed array and
    /// the pinned guard) are still alive.
    pub(crate) unsafe fn erase(self) -> Stamp<'static> {
        Stamp {
            // SAFETY: the caller keeps the referent alive for every use (a pointer to a trait
            // object with a longer lifetime bound has the same layout).
            source: unsafe {
                std::mem::transmute::<
                    *const (dyn BlockSource + '_),
                    *const (dyn BlockSource + 'static),
                >(self.source)
            },
            block: self.block,
            version: self.version,
            _guard: PhantomData,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The read side
// ---------------------------------------------------------------------------------------------

/// The block a validated attempt read (none for an array without one) and the version it
/// validated against.
type Seen<'g, W> = Option<(&'g Block<W>, usize)>;

impl<W: Word> RawArray<W> {
    /// The number of elements (a validated read).
    pub(crate) fn len_in(&self, guard: &Guard) -> usize {
        // Validated like any read, although it is one load: a block published tentatively by
        // a cross-array operation carries an odd version until its check passes, and may be
        // swapped out again, so its length alone is not yet a state of the array.
        self.read(guard, |v| v.len())
    }

    /// Runs `f` on a consistent view of the array and returns its result.
    ///
    /// Load the block (Acquire), its version (Acquire; odd means a writer is mid-step), the
    /// length and cells (Relaxed), an Acquire fence, the version again. An unchanged version
    /// proves no step touched the block while `f` looked, so `f` saw a state that existed. `f`
    /// may run several times and sees torn data on the attempts that are thrown away, so it
    /// must not have effects other than on its own scratch state.
    ///
    /// The first attempt is inlined into every read; the retries live out of line in
    /// [`read_contended`](Self::read_contended), which never waits for the writer lock and is
    /// compiled once per word size (it calls `f` through a `dyn` reference, and `f` leaves its
    /// result here; the call that returns is the validated one).
    #[inline(always)]
    pub(crate) fn read<'g, R>(
        &self,
        guard: &'g Guard,
        mut f: impl FnMut(RawView<'g, W>) -> R,
    ) -> R {
        match self.attempt(guard, &mut f) {
            Some(result) => result,
            None => self.read_slow(guard, f),
        }
    }

    /// The way into [`read_contended`](Self::read_contended), kept out of the inlined path.
    #[cold]
    #[inline(never)]
    fn read_slow<'g, R>(&self, guard: &'g Guard, mut f: impl FnMut(RawView<'g, W>) -> R) -> R {
        let mut result = None;
        self.read_contended(guard, &mut |v| result = Some(f(v)));
        result.expect("a contended read ends with a validated attempt")
    }

    /// One optimistic attempt: `None` if a writer step overlapped it.
    #[inline(always)]
    fn attempt<'g, R, F>(&self, guard: &'g Guard, f: &mut F) -> Option<R>
    where
        F: FnMut(RawView<'g, W>) -> R + ?Sized,
    {
        self.attempt_with_block(guard, f).map(|(r, _)| r)
    }

    /// One optimistic attempt, also returning the block it read and the version it validated.
    #[inline(always)]
    fn attempt_with_block<'g, R, F>(&self, guard: &'g Guard, f: &mut F) -> Option<(R, Seen<'g, W>)>
    where
        F: FnMut(RawView<'g, W>) -> R + ?Sized,
    {
        // Acquire: pairs with the Release swap in `swap_block`, so the block's header and
        // cells, written before it was published, are visible to the loads below.
        let shared = self.buf.load(Acquire, guard);
        // SAFETY: `shared` was loaded under `guard`. A block is handed to the collector only
        // after it is unlinked from `buf`, and the collector frees it only once every guard
        // pinned before that has been dropped; `'g` ties the reference to `guard`.
        let Some(block) = (unsafe { shared.as_ref() }) else {
            return Some((f(RawView::new(Cells::empty())), None));
        };
        attempt_on(block, f).map(|(result, v1)| (result, Some((block, v1))))
    }

    /// Retries until an attempt succeeds, never waiting for the writer lock.
    ///
    /// An attempt fails only while a writer is inside an O(1) step on the block being read (or
    /// has just finished one); O(n) rewrites build a new block and do not disturb readers of
    /// the current one. So a reader keeps attempting, spinning and then yielding between
    /// attempts, and after [`OPTIMISTIC_ATTEMPTS`] failures it also tries the writer lock
    /// before each attempt, but only with `try_lock`: if a writer holds the lock (perhaps for an
    /// O(n) rewrite or a long `sort_by` closure) the reader does not wait for it, since an
    /// optimistic attempt succeeds while such a writer works. The lock, when it is free, bounds
    /// the reader's work under a stream of small writes.
    #[cold]
    #[inline(never)]
    fn read_contended<'g>(&self, guard: &'g Guard, f: &mut dyn FnMut(RawView<'g, W>)) {
        let mut failed = 1u32;
        loop {
            backoff(failed);
            if failed >= OPTIMISTIC_ATTEMPTS {
                if let Some(lock) = self.writer.try_lock() {
                    return self.read_locked(guard, &lock, f);
                }
            }
            if self.attempt(guard, f).is_some() {
                return;
            }
            failed = failed.saturating_add(1);
        }
    }

    /// A read while holding the writer lock: no writer can be mid-step, and no block is
    /// published tentatively.
    #[cold]
    fn read_locked<'g>(
        &self,
        guard: &'g Guard,
        _lock: &MutexGuard<'_, ()>,
        f: &mut dyn FnMut(RawView<'g, W>),
    ) {
        // Acquire: as in `attempt_with_block`.
        let shared = self.buf.load(Acquire, guard);
        // SAFETY: as in `attempt_with_block`; also, no block is retired while we hold the lock.
        match unsafe { shared.as_ref() } {
            None => f(RawView::new(Cells::empty())),
            Some(block) => {
                let len = block.len().load(Relaxed).min(block.cap());
                f(RawView::new(block.cells().slice(0..len)))
            }
        }
    }

    /// Like [`read`](Self::read), and also returns a [`Stamp`] of the state `f` saw, for a
    /// later check that the array is still in that state.
    ///
    /// Purely optimistic: it never takes this array's lock, not even with `try_lock`, so a
    /// writer of another array may call it while holding its own lock (one lock at a time).
    /// `f` leaves its result with the caller; the last call is the validated one.
    pub(crate) fn read_stamped<'g>(
        &'g self,
        guard: &'g Guard,
        f: &mut dyn FnMut(RawView<'g, W>),
    ) -> Stamp<'g> {
        let mut failed = 0u32;
        loop {
            if let Some(((), block)) = self.attempt_with_block(guard, f) {
                return Stamp {
                    source: self as &(dyn BlockSource + 'g),
                    block: block.map_or(0, |(b, _)| std::ptr::from_ref(b).cast::<()>() as usize),
                    // The version the attempt validated (even, and re-read unchanged).
                    version: block.map(|(b, v1)| (std::ptr::from_ref(b.version()), v1)),
                    _guard: PhantomData,
                };
            }
            failed = failed.saturating_add(1);
            backoff(failed);
        }
    }
}

/// One optimistic attempt on `block`, which the caller keeps alive (a pin under which it was
/// loaded from the array, or a hold) and loaded from the array with Acquire: `f`'s result and
/// the (even) version it validated, or `None` if a writer step overlapped it.
#[inline(always)]
pub(crate) fn attempt_on<'b, W: Word, R, F>(block: &'b Block<W>, f: &mut F) -> Option<(R, usize)>
where
    F: FnMut(RawView<'b, W>) -> R + ?Sized,
{
    // Acquire: pairs with the Release store that ended the last writer step, so the
    // length and cells that step wrote are visible below.
    let v1 = block.version().load(Acquire);
    if v1 & 1 != 0 {
        return None;
    }
    let len = block.len().load(Relaxed);
    // Under loom a freed block is poisoned with a length past its capacity, to be seen
    // (not read past) by a model whose reader used a block after it was freed.
    #[cfg(loom)]
    let len = len.min(block.cap());
    // SAFETY: `len` was loaded from `block`, and no length a block ever holds is past its
    // capacity (`Block::cells_to`; the builder and `store_len` keep it so). No clamp to
    // `cap` here: it was a load, a compare and a move on every read, 10-13% of a pinned
    // `Reader::get`.
    let result = f(RawView::new(unsafe { block.cells_to(len) }));
    // Acquire fence: keeps the relaxed loads above before the re-check below. If any of
    // them saw a store from a step that began after `v1`, the writer's fence after its odd
    // store (in `step`, `append_in_place`) makes that odd version visible to the re-check.
    fence(Acquire);
    (block.version().load(Relaxed) == v1).then_some((result, v1))
}

/// The block of one attempt of [`RawArray::try_copy_range_block`]: the words `pick` selects
/// from `v`, `times` times over (`None`: no words).
#[inline(always)]
pub(super) fn copy_range<W: Word>(
    v: RawView<'_, W>,
    times: usize,
    pick: &mut impl FnMut(usize) -> Result<Range<usize>, Error>,
) -> Result<Option<RawBlock<W>>, Error> {
    let range = pick(v.len())?;
    let cap = range
        .len()
        .checked_mul(times)
        .ok_or(Error::CapacityOverflow)?;
    if cap == 0 {
        return Ok(None);
    }
    build(cap, &mut |b| {
        let part = v.slice(range.clone());
        b.push_loaded(part.len(), |out| part.load_bytes(out));
        b.repeat_filled(times);
    })
    .map(Some)
}

impl<W: Word> RawArray<W> {
    /// A new block holding the words `pick` selects from one validated read of this one,
    /// `times` times over (`a[i:j]`, `copy(a)`, `a * n`), or `None` for no words: `pick` gets
    /// the length the read saw and returns a range within it (or an error, returned as it is).
    /// The words go straight from this array's block into the new one, each unit loaded once;
    /// no lock is taken. The caller makes the new array (`RawArray::with_block`) where it is to
    /// stay: a block is one word, an array several cache lines' worth of moves.
    ///
    /// # Errors
    ///
    /// `pick`'s; [`Error::CapacityOverflow`] or [`Error::AllocFailed`] for the new block.
    pub(crate) fn try_copy_range_block(
        &self,
        times: usize,
        mut pick: impl FnMut(usize) -> Result<Range<usize>, Error>,
    ) -> Result<Option<RawBlock<W>>, Error> {
        let guard = crate::reclaim::pin();
        // An attempt that is thrown away drops the block it built.
        self.read(&guard, |v| copy_range(v, times, &mut pick))
    }

    /// A new block holding this one's words followed by `other`'s, both as they were at one
    /// instant (`a + b`; see [`read_pair`](Self::read_pair)), copied straight into it, or
    /// `None` for no words. No lock is taken.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`] or [`Error::AllocFailed`] for the new block.
    pub(crate) fn try_concat_block(
        &self,
        other: &RawArray<W>,
    ) -> Result<Option<RawBlock<W>>, Error> {
        if std::ptr::eq(self, other) {
            return self.try_copy_range_block(2, |n| Ok(0..n));
        }
        let guard = crate::reclaim::pin();
        // `f` keeps the view of `self` its attempt saw; `g` copies it and `other`'s. Loads of
        // `self`'s cells made in `g` lie between the stamp's validated version and its
        // re-check, so the re-check covers them as it covers `f`'s.
        let mine = std::cell::Cell::new(None);
        let mut out = None;
        self.read_pair(other, &guard, &mut |v| mine.set(Some(v)), &mut |w| {
            let v = mine.get().expect("read_pair reads self first");
            // The previous attempt's block, if any, is dropped here.
            out = Some(match v.len().checked_add(w.len()) {
                None => Err(Error::CapacityOverflow),
                Some(0) => Ok(None),
                Some(cap) => build(cap, &mut |b| {
                    b.push_loaded(v.len(), |out| v.load_bytes(out));
                    b.push_loaded(w.len(), |out| w.load_bytes(out));
                })
                .map(Some),
            });
        });
        out.expect("read_pair ran g")
    }

    /// Reads `self` with `f` and `other` with `g` so that both reads saw the arrays' states at
    /// one instant (the double collect behind `a == b` and `a.cmp(&b)`).
    ///
    /// `self` is read with a stamp, then `other`, then the stamp is re-checked: if `self` did
    /// not change meanwhile, what `f` saw was still `self`'s state when `other` was read. No lock
    /// is taken on `self`; `other` is read like any array. Retries (with backoff) if `self`
    /// changed.
    pub(crate) fn read_pair<'g, W2: Word>(
        &'g self,
        other: &RawArray<W2>,
        guard: &'g Guard,
        f: &mut dyn FnMut(RawView<'g, W>),
        g: &mut dyn FnMut(RawView<'_, W2>),
    ) {
        let mut failed = 0u32;
        loop {
            let stamp = self.read_stamped(guard, f);
            other.read(guard, &mut *g);
            // Acquire fence: orders every load of `other` before the re-check's loads (an
            // optimistic read ends with one anyway; a read under `other`'s lock does not).
            fence(Acquire);
            if stamp.unchanged() {
                return;
            }
            failed = failed.saturating_add(1);
            backoff(failed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The write side: steps, the append fence, publication
// ---------------------------------------------------------------------------------------------

/// Armed around the body of a step: aborts the process if the body unwinds.
///
/// A step that stopped half way would leave its block's version odd, and unwinding releases
/// the lock, so the next writer's step would go from even to odd and back to even *around*
/// its stores: readers would validate reads that overlap it and could return torn or invented
/// values. No step body can panic today (callers check everything first); this makes a
/// future mistake a crash instead of silent corruption.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    #[cold]
    fn drop(&mut self) {
        std::process::abort();
    }
}

/// Runs `f` as one in-place step on `block`: readers see all of it or none of it.
///
/// Only a writer holding the array's lock may call it. `f` must only do O(1) work (or O(k) with
/// a small constant k), must not allocate, block or panic: readers that arrive during the step
/// wait for it. If `f` panics anyway, the process aborts (see [`AbortOnUnwind`]).
#[inline]
pub(crate) fn step<W: Word>(block: &Block<W>, f: impl FnOnce()) {
    // Relaxed: only lock holders store the version, and we hold the lock.
    let v = block.version().load(Relaxed);
    block.version().store(v.wrapping_add(1), Relaxed);
    // Release fence: any reader whose relaxed loads see a store made by `f` will, after its
    // Acquire fence, also see this odd version (or a later one) on its re-check.
    fence(Release);
    let armed = AbortOnUnwind;
    f();
    std::mem::forget(armed);
    // Release: a reader that loads this even version with Acquire sees all of `f`'s stores.
    block.version().store(v.wrapping_add(2), Release);
}

/// Like [`step`], for the step that publishes a cross-array operation: inside the step, after
/// a `SeqCst` fence, it re-checks `check` (the other array is still in the state the operation
/// copied) and runs `f` only if so. Returns whether `f` ran.
///
/// Readers cannot validate a read that overlaps the step, so the state before the step and
/// the state after it are the only ones they see; the check and `f` happen at one instant
/// between the two (see [`Stamp::unchanged`] for why two such steps cannot both pass).
#[inline]
pub(crate) fn step_checked<W: Word>(
    block: &Block<W>,
    check: Option<&Stamp<'_>>,
    f: impl FnOnce(),
) -> bool {
    let Some(stamp) = check else {
        step(block, f);
        return true;
    };
    // Relaxed: as in `step`.
    let v = block.version().load(Relaxed);
    block.version().store(v.wrapping_add(1), Relaxed);
    // SeqCst fence: a Release fence as in `step`, and the store-buffering fence that orders
    // the odd version before the loads of the other array in `unchanged`.
    fence(SeqCst);
    let armed = AbortOnUnwind;
    let ok = stamp.unchanged();
    if ok {
        f();
    }
    std::mem::forget(armed);
    // Release: as in `step`.
    block.version().store(v.wrapping_add(2), Release);
    ok
}

/// Writes the cells `len..new_len` with `write` (relaxed stores), then publishes `new_len` in
/// one O(1) step (checked against `check`, as [`step_checked`]). Returns whether it was
/// published; if not, the cells written are past the length and invisible.
///
/// The cells past the published length are invisible to validated readers: any reader that
/// could look at them read a longer length before a step shrank it, and that step changed the
/// version. So they are written outside the step; only the length is published inside it,
/// keeping the step O(1) however many elements are appended.
///
/// The append fence: the step that shrank the length may have run on another thread (a `clear`
/// there, an `extend` here; the lock orders them). A reader whose relaxed loads see one of the
/// new cells must also see that step's odd version on its re-check, so the stores need a
/// Release fence before them, exactly as the stores inside `step` have. Without it a reader
/// could pair the old length with the new cells (found by tests/threads/ under Miri,
/// reproduced by the loom model `clear_and_extend_on_two_threads_vs_to_vec`).
#[inline(always)]
pub(crate) fn append_in_place<W: Word>(
    block: &Block<W>,
    len: usize,
    new_len: usize,
    check: Option<&Stamp<'_>>,
    write: impl FnOnce(Cells<'_, W>),
) -> bool {
    // Sliced before the fence, which is also a compiler barrier: after it the capacity would
    // be loaded (and the range checked against it) again.
    let cells = block.cells().slice(len..new_len);
    fence(Release);
    write(cells);
    step_checked(block, check, || store_len(block, new_len))
}

/// The append fence of [`append_in_place`], for an append that writes its cells before it
/// knows whether it will publish them: `RawWriter::append_array` writes them inside a read of
/// the other array, and then publishes the length with [`step_checked`]. Called after the
/// last step on the block and before the first cell store.
#[inline(always)]
pub(crate) fn append_fence() {
    fence(Release);
}

/// Stores the published length of `block` inside a step.
///
/// # Panics
///
/// If `len` is past the block's capacity (inside a step, that aborts the process): readers
/// index the cells below any length they load without checking it against the capacity
/// ([`Block::cells_to`]), so a length past it must never be stored.
#[inline(always)]
pub(crate) fn store_len<W: Word>(block: &Block<W>, len: usize) {
    assert!(len <= block.cap(), "a length past the block's capacity");
    // Relaxed: inside a step (the step's Release store of the even version publishes it).
    block.len().store(len, Relaxed);
}

/// The current contents of `block` (none for `None`), for a reader holding the writer lock:
/// no writer can be mid-step, so no validation is needed.
pub(crate) fn view_locked<W: Word>(block: Option<&Block<W>>) -> RawView<'_, W> {
    match block {
        None => RawView::new(Cells::empty()),
        Some(block) => RawView::new(block.cells().slice(0..len_locked(block).min(block.cap()))),
    }
}

/// The published length of `block`, loaded under the writer lock.
#[inline(always)]
pub(crate) fn len_locked<W: Word>(block: &Block<W>) -> usize {
    // Relaxed: only lock holders store the length, and the lock orders them.
    block.len().load(Relaxed)
}

impl<W: Word> RawArray<W> {
    /// The current block, for the lock holder.
    ///
    /// # Safety
    ///
    /// The caller holds the writer lock for as long as the returned reference lives: only a
    /// lock holder retires blocks, so the block cannot be freed meanwhile.
    #[inline]
    pub(crate) unsafe fn block_locked(&self) -> Option<&Block<W>> {
        // Relaxed: the last store to `buf` was made under this lock, and acquiring the lock
        // synchronizes with the unlock that followed it. No pin is needed (see above).
        // SAFETY: the caller holds the lock, so the block is not freed while it is used.
        unsafe { self.buf.load(Relaxed, epoch::unprotected()).as_ref() }
    }

    /// Makes `new` the current block (null for `None`) and returns the old one, which the
    /// caller (holding the lock) retires.
    pub(crate) fn swap_block<'g>(
        &self,
        new: Option<RawBlock<W>>,
        guard: &'g Guard,
    ) -> Shared<'g, Block<W>> {
        let new = match new {
            Some(raw) => Owned::<Block<W>>::init(raw).into_shared(guard),
            None => Shared::null(),
        };
        // Release: a reader that loads the new pointer with Acquire sees the block's header and
        // cells, written before this point. No Acquire needed: the old value was stored under
        // the lock the caller holds.
        self.buf.swap(new, Release, guard)
    }

    /// Publishes `new` for a cross-array operation: it goes in with an odd version (readers
    /// that find it retry), then, after a `SeqCst` fence, `check` is re-checked. If the other
    /// array is unchanged, the new block's version becomes even; otherwise the old block goes
    /// back (readers never saw the new one in a state they could validate). Returns the block
    /// to retire (the old one on success, the new one otherwise) and whether it published.
    pub(crate) fn swap_block_tentatively<'g>(
        &self,
        new: RawBlock<W>,
        check: &Stamp<'_>,
        guard: &'g Guard,
    ) -> (Shared<'g, Block<W>>, bool) {
        let new = Owned::<Block<W>>::init(new).into_shared(guard);
        // SAFETY: `new` is not shared yet.
        let new_block = unsafe { new.deref() };
        // Relaxed: not yet shared; the Release swap below publishes it.
        new_block.version().store(1, Relaxed);
        // Release: as in `swap_block`.
        let old = self.buf.swap(new, Release, guard);
        // SeqCst fence: the store-buffering fence (see `Stamp::unchanged`): the swap above is
        // ordered before the loads of the other array.
        fence(SeqCst);
        if check.unchanged() {
            // Release: a reader that loads the even version with Acquire sees the cells.
            new_block.version().store(2, Release);
            (old, true)
        } else {
            // Release: as in `swap_block`. The old block was never changed, so readers that
            // still hold it, and readers that load it again now, see the state before this call.
            self.buf.store(old, Release);
            (new, false)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::testing::{assert_child_aborts, test_path};

    /// A panic inside a version step, plain or checked (a cross-array edit's publication),
    /// aborts the process: unwinding would release the lock with the version odd, and every
    /// later step would then run under an even one.
    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_panic_inside_a_step_aborts_the_process() {
        const CHILD: &str = "FTARRAY_STEP_PANIC_CHILD";
        let name = test_path!("a_panic_inside_a_step_aborts_the_process");
        if let Some(kind) = std::env::var_os(CHILD) {
            let a = RawArray::<u32>::try_from_bytes(&[0; 16]).unwrap();
            let _writer = a.lock();
            // SAFETY: the lock is held for as long as `block` is used.
            let block = unsafe { a.block_locked() }.unwrap();
            // A check that passes: another array, unchanged since it was read.
            let other = RawArray::<u8>::new();
            let guard = crate::reclaim::pin();
            let stamp = other.read_stamped(&guard, &mut |_| {});
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if kind == "checked" {
                    step_checked(block, Some(&stamp), || panic!("inside a step"));
                } else {
                    step(block, || panic!("inside a step"));
                }
            }));
            // Not reached when the panic aborts.
            std::process::exit(0);
        }
        assert_child_aborts(&name, CHILD, "plain");
        assert_child_aborts(&name, CHILD, "checked");
    }
}
