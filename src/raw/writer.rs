//! [`RawWriter`]: the writer lock, held. Every change to an array goes through it.
//!
//! A write is one of two shapes (ARCHITECTURE.md, "Writes"): a step in place (set, push within
//! capacity, pop, truncate, and any splice, insert, remove or whole-contents commit that stores
//! at most `IN_PLACE_BYTES` within the capacity), or a rewrite by publication (growth, and the
//! longer ones): a new block built off to the side, swapped in with one pointer store, the old
//! one handed to the epoch collector. This file
//! decides which shape each operation takes and applies the export rules; the orderings of both
//! shapes live in `seqlock.rs`.
//!
//! The operations that copy or build blocks are `#[inline(never)]`: they are generic over the
//! word type only, so each is compiled once per word size and shared by every element type of
//! that size, instead of being inlined into every typed caller.

use super::array::RawArray;
use super::block::{self, Block, RawBlock, build, build_grown, grown_capacity, max_capacity};
use super::cells::{Cells, Sharing};
use super::seqlock::{self, RawView, Stamp, append_in_place, len_locked, step_checked, store_len};
use super::unit::UNIT_BYTES;
use crate::element::Word;
use crate::error::Error;
use crate::reclaim::{self, FLUSH_BYTES};
use crate::sync::Ordering::Acquire;
use crate::sync::{MutexGuard, count_unflushed};
use crossbeam_epoch::{Guard, Pointer, Shared};
use std::cell::Cell;
use std::ops::Range;
use std::ptr::NonNull;

/// The most bytes one in-place step may store: a splice, insert or remove whose stores (the new
/// words plus the tail it shifts) fit, and a whole-contents rewrite of at most this many bytes
/// within the capacity, is done inside one version step instead of by building a new block.
/// This bounds how long a reader can be held up by a step whatever the array's length, and
/// spares small rewrites an allocation, a copy into cold memory and a retirement.
///
/// 8 KiB of tail plus one cache line of new words: an `insert` of up to 64 bytes in front of an
/// 8 KiB array is still a step (a bound of exactly 8 KiB would make every insert into a
/// power-of-two-sized array of 8 KiB publish). With the 16-byte stores of `wide.rs` such a
/// step stores for about 90 ns on this project's machine, what a 4 KiB step took with one
/// store per unit; where those stores are not available it takes about twice that.
pub(crate) const IN_PLACE_BYTES: usize = 8192 + 64;

/// The most words a strided store changes in place: 512, one per unit of 4 KiB. Each may be a
/// read-modify-write of its unit and none can use the wide stores, so this step costs about
/// what a step of [`IN_PLACE_BYTES`] does.
pub(crate) const IN_PLACE_STRIDED: usize = 4096 / UNIT_BYTES;

impl<W: Word> RawArray<W> {
    /// Takes the writer lock.
    #[inline]
    pub(crate) fn lock(&self) -> RawWriter<'_, W> {
        RawWriter::new(self, self.writer.lock())
    }

    /// Takes the writer lock if it is free right now; never waits.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<RawWriter<'_, W>> {
        self.writer
            .try_lock()
            .map(|lock| RawWriter::new(self, lock))
    }
}

/// The writer lock of one array, held until drop.
pub(crate) struct RawWriter<'a, W: Word> {
    array: &'a RawArray<W>,
    /// Always `Some` until `drop`, which releases the lock before helping reclaim.
    lock: Option<MutexGuard<'a, ()>>,
    /// Bytes this critical section retired: after unlocking, the writer helps reclaim in
    /// proportion to them if the process-wide retired bytes are above the soft limit.
    retired_now: usize,
    /// The export count, loaded once (on first need) and then reused: every decision of one
    /// critical section is made from one value, so an export dropped between two checks cannot
    /// split a decision. A cached 0 stays true (exports are only made under the lock we hold);
    /// a cached non-zero may go stale, and then the operation fails as of the instant it was
    /// loaded, which is a state that existed.
    exports: Option<usize>,
    /// Whether changes are plain, checked, or skipped (see [`Mode`]). Tested first by every
    /// change, so plain writers never touch `check`.
    mode: Cell<Mode>,
    /// Set by a cross-array edit (see `set_check`): the next visible change is published only
    /// if the other array is still in the state the edit copied.
    check: Cell<Option<Stamp<'static>>>,
}

/// How a [`RawWriter`] makes its next visible change.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As usual.
    Plain,
    /// Only if `check` still holds (a cross-array edit); then `Plain`.
    Checked,
    /// Not at all: a check failed, and the edit will run again.
    Conflict,
}

impl<W: Word> Drop for RawWriter<'_, W> {
    fn drop(&mut self) {
        drop(self.lock.take());
        if self.retired_now > 0 {
            reclaim::help(self.retired_now);
        }
    }
}

/// The word whose native-order bytes are `chunk`.
#[inline(always)]
fn word<W: Word>(chunk: &[u8]) -> W {
    bytemuck::pod_read_unaligned(chunk)
}

/// The words whose native-order bytes are `bytes`.
#[inline(always)]
fn words<W: Word>(bytes: &[u8]) -> impl Iterator<Item = W> + '_ {
    bytes.chunks_exact(size_of::<W>()).map(word::<W>)
}

impl<'a, W: Word> RawWriter<'a, W> {
    pub(super) fn new(array: &'a RawArray<W>, lock: MutexGuard<'a, ()>) -> Self {
        RawWriter {
            array,
            lock: Some(lock),
            retired_now: 0,
            exports: None,
            mode: Cell::new(Mode::Plain),
            check: Cell::new(None),
        }
    }

    // -----------------------------------------------------------------------------------------
    // State
    // -----------------------------------------------------------------------------------------

    /// The current block.
    ///
    /// The reference borrows `self`, and only [`publish`](Self::publish) (which takes
    /// `&mut self`) retires blocks, so the borrow checker proves no writer uses a block after it
    /// has been handed to the collector.
    #[inline]
    pub(super) fn block(&self) -> Option<&Block<W>> {
        // SAFETY: we hold the lock for as long as `self` lives.
        unsafe { self.array.block_locked() }
    }

    /// Length and capacity.
    #[inline]
    fn len_cap(&self) -> (usize, usize) {
        self.block().map_or((0, 0), |b| (len_locked(b), b.cap()))
    }

    /// The number of elements.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len_cap().0
    }

    /// How many elements fit before the storage has to move.
    #[allow(
        dead_code,
        reason = "used by `Writer::capacity`, the runtime-typed layer's interface"
    )]
    pub(crate) fn capacity(&self) -> usize {
        self.len_cap().1
    }

    /// The element at `index`, if it is below the length.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<W> {
        let block = self.block()?;
        (index < len_locked(block)).then(|| block.cells().load(index))
    }

    /// The element at `index`, if it is below the length, read as the first half of a
    /// read-modify-write that [`replace`](Self::replace) completes.
    ///
    /// The export count is loaded (once, for the critical section) *before* the element, so
    /// that `replace` decides with it: a count of 0 loaded first means no export existed at any
    /// time since, so nothing but this writer can have changed the element. Loaded after the
    /// read, a count of 0 could belong to an export dropped just after its holder wrote the
    /// element, and a plain store would then overwrite that write.
    #[inline]
    pub(crate) fn get_for_update(&mut self, index: usize) -> Option<W> {
        self.exports();
        self.get(index)
    }

    /// The current contents, for reading under the lock (no validation needed).
    pub(crate) fn view(&self) -> RawView<'_, W> {
        seqlock::view_locked(self.block())
    }

    /// Copies the words `range` (within the length) to `dst` as native-order bytes.
    ///
    /// # Safety
    ///
    /// `dst` is valid for `range.len() * size_of::<W>()` bytes and does not overlap the array.
    pub(crate) unsafe fn copy_out(&mut self, range: Range<usize>, dst: *mut u8) {
        assert!(range.end <= self.len(), "copy_out past the length");
        // Loaded before the cells are read, and kept for the critical section: a rewrite that
        // commits this copy decides how to write back from this same value (see
        // `get_for_update` for why it must come first).
        let exported = self.exports() != 0;
        let Some(block) = self.block() else {
            return;
        };
        if exported {
            // An export's holder may be storing into these cells right now (atomically, as
            // `Export::store` and the C ABI's protocol do): read them with atomic unit loads, as
            // a reader would. A plain copy racing those stores would be a data race.
            let cells = block.cells().slice(range);
            let n = cells.len() * size_of::<W>();
            // SAFETY: the caller guarantees `dst` is valid for `n` bytes and does not overlap
            // the array; `MaybeUninit<u8>` has the layout of `u8`, and `load_bytes` only writes.
            let out = unsafe { std::slice::from_raw_parts_mut(dst.cast(), n) };
            cells.load_bytes(out);
        } else {
            // SAFETY: we hold the writer lock and nothing is exported (a count of 0 loaded
            // under the lock stays 0, since exports are only made under it), so no thread
            // writes the cells; the caller vouches for `dst`.
            unsafe { block.copy_out(range, dst) };
        }
    }

    /// The number of live exports, as loaded once by this critical section (see `exports`).
    #[inline]
    pub(crate) fn exports(&mut self) -> usize {
        let array = self.array;
        *self.exports.get_or_insert_with(|| array.exports_locked())
    }

    /// How a partial-unit store must treat the other words of its unit: exclusive unless the
    /// storage is exported (from the count this critical section loaded once; a cached 0 stays
    /// true, since exports are only made under the lock). Words of 8 bytes fill their unit, so
    /// they never need to know.
    #[inline(always)]
    fn sharing(&mut self) -> Sharing {
        if W::PER_UNIT == 1 || self.exports() == 0 {
            Sharing::Exclusive
        } else {
            Sharing::Exported
        }
    }

    /// Whether a read-modify-write must expect writes through an export between its load and
    /// its store, whatever the word size (unlike [`sharing`](Self::sharing), which only tells
    /// partial-unit stores whether to keep their neighbours).
    #[inline(always)]
    fn rmw_sharing(&mut self) -> Sharing {
        if self.exports() == 0 {
            Sharing::Exclusive
        } else {
            Sharing::Exported
        }
    }

    /// Whether a snapshot shares the current block, which must then not be written.
    #[inline(always)]
    fn shared(&self) -> bool {
        // Acquire: pairs with the Release decrement of a snapshot's drop, so that the
        // snapshot's plain reads of the cells happen before any store we make after seeing the
        // count fall back to 1. Increments are made under the lock we hold, so none is missed;
        // a decrement not yet seen only makes us copy once more than needed.
        self.block()
            .is_some_and(|block| block::owners(block.refs().load(Acquire)) != 1)
    }

    /// Makes sure no snapshot shares the current block before a write into its cells: if one
    /// does, the block is copied (same capacity) and the copy published, so the write goes to
    /// the copy and the snapshot keeps the old block as it was. Copy on write, once: the copy
    /// is the array's alone, so later writes run in place again.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if the copy cannot be allocated (nothing changes).
    #[inline(always)]
    fn unshare(&mut self) -> Result<(), Error> {
        if self.shared() {
            return self.copy_on_write();
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn copy_on_write(&mut self) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        // Exported storage is never shared: `export` copies a shared block first, and a
        // snapshot of an exported array is a copy. So the storage may move.
        assert_eq!(self.exports(), 0, "a shared block is exported");
        let old = self.block().expect("a shared block exists");
        // SAFETY: we hold the writer lock and the storage is not exported, so nobody writes the
        // cells while we copy them.
        let raw = build(cap, &mut |b| unsafe { b.push_block(old, 0..len) })?;
        // A plain publication whatever the mode: the contents do not change, so a pending
        // cross-array check stays for the edit's own change.
        let guard = crate::reclaim::pin();
        let old = self.array.swap_block(Some(raw), &guard);
        self.retire(old, &guard);
        Ok(())
    }

    /// The address of the array this writer locks (to recognise the same array behind
    /// another reference).
    pub(crate) fn array_addr(&self) -> usize {
        std::ptr::from_ref(self.array).cast::<()>() as usize
    }

    /// Whether the strict export rule is on.
    #[inline]
    pub(crate) fn strict(&self) -> bool {
        self.array.strict_locked()
    }

    /// Turns the strict export rule on or off (see `RawArray::strict`).
    pub(crate) fn set_strict(&mut self, strict: bool) {
        self.array.set_strict_locked(strict);
    }

    /// `Err(Exported)` while any export pins the storage.
    #[inline]
    fn check_movable(&mut self) -> Result<(), Error> {
        match self.exports() {
            0 => Ok(()),
            exports => Err(Error::Exported { exports }),
        }
    }

    /// `Err(Exported)` if the length would change from `len` to `new_len` while exported under
    /// the strict rule.
    #[inline]
    fn check_len_change(&mut self, len: usize, new_len: usize) -> Result<(), Error> {
        if len != new_len && self.strict() {
            self.check_movable()
        } else {
            Ok(())
        }
    }

    // -----------------------------------------------------------------------------------------
    // Cross-array edits
    // -----------------------------------------------------------------------------------------

    /// Makes the next visible change conditional on `check` (see `seqlock::step_checked`);
    /// `None` removes the condition and clears a recorded conflict.
    ///
    /// # Safety
    ///
    /// The stamp's array and guard stay alive until the condition is removed again.
    pub(crate) unsafe fn set_check(&self, check: Option<Stamp<'static>>) {
        debug_assert!(
            check.is_none() || self.mode.get() == Mode::Plain,
            "cross-array edits do not nest"
        );
        self.mode.set(if check.is_some() {
            Mode::Checked
        } else {
            Mode::Plain
        });
        self.check.set(check);
    }

    /// Whether a conditional change found the other array changed (and was skipped, with every
    /// change after it).
    pub(crate) fn conflicted(&self) -> bool {
        self.mode.get() == Mode::Conflict
    }

    /// For a change that is not plain: takes the pending check (`Some(None)`: there is none, it
    /// was used already), or `None` if changes are being skipped.
    #[cold]
    fn take_check(&self) -> Option<Option<Stamp<'static>>> {
        match self.mode.get() {
            Mode::Conflict => None,
            _ => {
                self.mode.set(Mode::Plain);
                Some(self.check.take())
            }
        }
    }

    /// Records the outcome of a checked change.
    fn checked(&self, published: bool) {
        if !published {
            self.mode.set(Mode::Conflict);
        }
    }

    // -----------------------------------------------------------------------------------------
    // The two shapes of a visible change
    // -----------------------------------------------------------------------------------------

    /// Runs `f` as one in-place step on `block` (honouring a pending check).
    #[inline]
    fn step(&self, block: &Block<W>, f: impl FnOnce()) {
        if self.mode.get() == Mode::Plain {
            return seqlock::step(block, f);
        }
        if let Some(check) = self.take_check() {
            self.checked(step_checked(block, check.as_ref(), f));
        }
    }

    /// Writes the cells `len..new_len` and publishes the new length (honouring a pending check).
    #[inline]
    fn append_cells(
        &self,
        block: &Block<W>,
        len: usize,
        new_len: usize,
        write: impl FnOnce(Cells<'_, W>),
    ) {
        if self.mode.get() == Mode::Plain {
            append_in_place(block, len, new_len, None, write);
            return;
        }
        if let Some(check) = self.take_check() {
            self.checked(append_in_place(block, len, new_len, check.as_ref(), write));
        }
    }

    /// Makes `new` the array's block (null for `None`) and retires the old one (honouring a
    /// pending check: on a conflict the new block is retired instead).
    #[inline(never)]
    fn publish(&mut self, new: Option<RawBlock<W>>) {
        let check = match self.mode.get() {
            Mode::Plain => None,
            _ => match self.take_check() {
                Some(check) => check,
                None => return,
            },
        };
        let guard = crate::reclaim::pin();
        let retire = match (check, new) {
            (Some(check), Some(new)) => {
                let (retire, published) = self.array.swap_block_tentatively(new, &check, &guard);
                self.checked(published);
                retire
            }
            (check, new) => {
                // An empty publication (shrinking to nothing) is checked before the swap: the
                // array has no block whose version could carry the tentative state, so nothing
                // is swapped on a conflict.
                if check.is_some_and(|c| !c.unchanged()) {
                    self.checked(false);
                    return;
                }
                self.array.swap_block(new, &guard)
            }
        };
        self.retire(retire, &guard);
    }

    /// Hands `old`, which was just unlinked from the array, to the epoch collector.
    #[inline(never)]
    fn retire(&mut self, old: Shared<'_, Block<W>>, guard: &Guard) {
        // SAFETY: reading `old` is fine: we hold the lock, so it has not been retired yet.
        let Some(old_block) = (unsafe { old.as_ref() }) else {
            return;
        };
        let bytes = old_block.alloc_size();
        // Why deferring the free is sound: `old` is unlinked, so no reader can load it from now
        // on; readers that loaded it earlier are pinned, and the collector frees it only after
        // they all unpin. Writers reach blocks only through `RawWriter::block`, whose borrows
        // ended before this `&mut self` call; exports pin the storage, and `check_movable`
        // ruled them out before any caller got here (a block swapped back out by a failed
        // tentative publication was never exported). The closure may run on any thread: it
        // only lets go of the array's reference to the block (freeing it unless a snapshot
        // still holds it; its atomics are `Send`) and counts bytes. A block kept by a snapshot
        // is no longer the collector's garbage but the snapshot's memory, so it counts as freed
        // here either way.
        let addr = old.into_usize();
        // SAFETY: `old` is unlinked and referenced only by pinned readers (see above), and
        // the closure gives up the array's own reference, once.
        unsafe {
            guard.defer_unchecked(move || {
                block::release::<W>(addr);
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

    // -----------------------------------------------------------------------------------------
    // Operations
    // -----------------------------------------------------------------------------------------

    /// Stores `value` at `index` in one step and returns the old value.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`].
    #[inline]
    pub(crate) fn set(&mut self, index: usize, value: W) -> Result<W, Error> {
        let len = self.len();
        if index >= len {
            return Err(Error::IndexOutOfRange { index, len });
        }
        self.unshare()?;
        let sharing = self.rmw_sharing();
        let block = self.block().expect("len > 0 implies a block");
        let cells = block.cells();
        if sharing == Sharing::Exclusive {
            let old = cells.load(index);
            let cell = cells.at(index);
            self.step(block, || cell.store(value, sharing));
            return Ok(old);
        }
        // Exported: a write through the export may land at any moment, so the old value is the
        // one the store replaces, read in the same atomic step.
        let mut old = cells.load(index);
        self.step(block, || old = cells.exchange(index, value, sharing));
        Ok(old)
    }

    /// Stores `value` at `index` in one step if the element still holds `base`, which the
    /// caller read with [`get_for_update`](Self::get_for_update) earlier in this critical
    /// section (a read-modify-write such as `fetch_update`), and returns the element found
    /// (`base` unless it changed). Only a write through an export can have changed it
    /// meanwhile; that write is then kept, as if made just after this operation (see
    /// [`Cells::store_if_unchanged`]), instead of being lost.
    ///
    /// # Panics
    ///
    /// If `index` is past the length, or the export count was not loaded before `base` was
    /// read (the caller did not use `get_for_update`).
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a snapshot shares the block and it cannot be copied.
    #[inline]
    pub(crate) fn replace(&mut self, index: usize, base: W, value: W) -> Result<W, Error> {
        assert!(index < self.len(), "replace past the length");
        assert!(
            self.exports.is_some(),
            "replace without get_for_update: the export count must be loaded before the read"
        );
        self.unshare()?;
        let sharing = self.rmw_sharing();
        let block = self.block().expect("len > 0 implies a block");
        let cells = block.cells();
        let mut seen = base;
        self.step(block, || {
            seen = cells.store_if_unchanged(index, base, value, sharing)
        });
        Ok(seen)
    }

    /// Swaps the elements at `a` and `b` in one step.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] for the first bad index.
    #[inline]
    pub(crate) fn swap(&mut self, a: usize, b: usize) -> Result<(), Error> {
        let len = self.len();
        if a >= len || b >= len {
            let index = if a >= len { a } else { b };
            return Err(Error::IndexOutOfRange { index, len });
        }
        if a == b {
            // Nothing to do. (Done as two conditional stores, the second would compare the
            // element with the value loaded second and store the one loaded first, which a
            // write through an export between the two loads makes stale.)
            return Ok(());
        }
        self.unshare()?;
        let sharing = self.rmw_sharing();
        let block = self.block().expect("len > 0 implies a block");
        let cells = block.cells();
        let (va, vb) = (cells.load(a), cells.load(b));
        self.step(block, || {
            // While exported, an element written through the export since it was loaded keeps
            // that write (made just after the swap) rather than being overwritten by it.
            cells.store_if_unchanged(a, va, vb, sharing);
            cells.store_if_unchanged(b, vb, va, sharing);
        });
        Ok(())
    }

    /// Appends `value`: the common case (room in the current block) is one step.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append).
    #[inline]
    pub(crate) fn push(&mut self, value: W) -> Result<(), Error> {
        // `sharing` first: it may load the export count (`&mut self`), and then the block is
        // loaded once for the length, the capacity and the store. Loading it twice cost a
        // second atomic load and a bounds check the compiler could no longer drop.
        let sharing = self.sharing();
        if let Some(block) = self.block() {
            let len = len_locked(block);
            // Acquire on `refs`: as in `unshare` (a shared block goes the slow way, which copies
            // it first).
            if len < block.cap() && !self.strict() && block::owners(block.refs().load(Acquire)) == 1
            {
                self.append_cells(block, len, len + 1, |cells| cells.store(0, value, sharing));
                return Ok(());
            }
        }
        self.append(bytemuck::bytes_of(&value), None)
    }

    /// Appends the words of `bytes` (and then `n` copies of `fill`), in place if they fit,
    /// otherwise by moving to a larger block.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if the storage must move while exported (or under the strict rule,
    /// if anything is appended while exported); [`Error::CapacityOverflow`];
    /// [`Error::AllocFailed`]. Nothing changes on error.
    #[inline(never)]
    pub(crate) fn append(&mut self, bytes: &[u8], fill: Option<(W, usize)>) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        let extra = fill.map_or(0, |(_, n)| n);
        let new_len = len
            .checked_add(bytes.len() / size_of::<W>())
            .and_then(|n| n.checked_add(extra))
            .ok_or(Error::CapacityOverflow)?;
        if new_len == len {
            return Ok(());
        }
        self.check_len_change(len, new_len)?;
        if new_len <= cap {
            self.unshare()?;
            let sharing = self.sharing();
            let block = self.block().expect("cap > 0 implies a block");
            self.append_cells(block, len, new_len, |cells| {
                let copied = bytes.len() / size_of::<W>();
                cells.slice(0..copied).store_bytes(bytes, sharing);
                if let Some((v, _)) = fill {
                    cells.slice(copied..cells.len()).fill(v, sharing);
                }
            });
            return Ok(());
        }
        self.check_movable()?;
        let old = self.block();
        let raw = build_grown(cap, new_len, &mut |b| {
            if let Some(old) = old {
                // SAFETY: we hold the writer lock and the storage is not exported.
                unsafe { b.push_block(old, 0..len) };
            }
            b.push_bytes(bytes);
            if let Some((v, n)) = fill {
                b.push_repeat(v, n);
            }
        })?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Appends a copy of `other`'s elements (another array, never this one) as they were at one
    /// instant, copied straight from `other`'s cells into this array's: into the spare
    /// capacity when they fit, else into the new block being built (`a.extend(b)`).
    ///
    /// The copy is made inside a validated read of `other`, and the change it makes visible
    /// (the new length, or the new block) is published only if `other` is still in the state
    /// that read saw ([`step_checked`], [`RawArray::swap_block_tentatively`]); otherwise the
    /// whole append runs again. Cells written by an attempt that does not publish lie past the
    /// length, where no validated reader looks. With a buffer in between (as `with_copy_of`
    /// does for edits in general) the elements were copied twice, through an allocation.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append), as of the state of `other` that was copied. Nothing
    /// changes on error.
    ///
    /// # Panics
    ///
    /// If `other` is this array (its copy must be made under the lock held here, which no
    /// validated read of it can be) or a cross-array check is pending.
    #[inline(never)]
    pub(crate) fn append_array(&mut self, other: &RawArray<W>) -> Result<(), Error> {
        assert!(
            !std::ptr::eq(self.array, other),
            "append_array: other is this array"
        );
        assert!(
            self.mode.get() == Mode::Plain,
            "append_array inside a cross-array edit"
        );
        // Everything decided from this writer's own state is loaded once, before the read:
        // the lock keeps it, and the closure below can only borrow `self` shared.
        let sharing = self.sharing();
        let exports = self.exports();
        let strict = self.strict();
        let shared = self.shared();
        let mut failed = 0u32;
        loop {
            // Pinned for one attempt: as in `Writer::with_copy_of`.
            let guard = crate::reclaim::pin();
            let (len, cap) = self.len_cap();
            let old = self.block();
            let mut plan: Result<Appended<W>, Error> = Ok(Appended::Nothing);
            let stamp = other.read_stamped(&guard, &mut |v| {
                // The previous attempt's block, if any, is dropped here.
                plan = plan_append(v, old, len, cap, sharing, exports, strict, shared);
            });
            let published = match plan? {
                Appended::Nothing => return Ok(()),
                Appended::InPlace(new_len) => {
                    let block = old.expect("an in-place append has a block");
                    step_checked(block, Some(&stamp), || store_len(block, new_len))
                }
                Appended::Moved(raw) => {
                    let (retire, published) =
                        self.array.swap_block_tentatively(raw, &stamp, &guard);
                    self.retire(retire, &guard);
                    published
                }
            };
            if published {
                return Ok(());
            }
            drop(guard);
            failed = failed.saturating_add(1);
            seqlock::backoff(failed);
        }
    }

    /// Shortens the array to `new_len` in one step; nothing if it is not shorter.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under the strict rule while exported.
    #[inline]
    pub(crate) fn truncate(&mut self, new_len: usize) -> Result<(), Error> {
        let len = self.len();
        if new_len >= len {
            return Ok(());
        }
        self.check_len_change(len, new_len)?;
        let block = self.block().expect("len > 0 implies a block");
        self.step(block, || store_len(block, new_len));
        Ok(())
    }

    /// Removes and returns the last element.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under the strict rule while exported.
    #[inline]
    pub(crate) fn pop(&mut self) -> Result<Option<W>, Error> {
        let len = self.len();
        let Some(last) = len.checked_sub(1) else {
            return Ok(None);
        };
        let value = self.get(last);
        self.truncate(last)?;
        Ok(value)
    }

    /// Removes the element at `index` and moves the last one into its place, in one step.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`]; [`Error::Exported`] under the strict rule while exported.
    #[inline(never)]
    pub(crate) fn swap_remove(&mut self, index: usize) -> Result<W, Error> {
        let len = self.len();
        if index >= len {
            return Err(Error::IndexOutOfRange { index, len });
        }
        self.check_len_change(len, len - 1)?;
        self.unshare()?;
        let sharing = self.rmw_sharing();
        let block = self.block().expect("len > 0 implies a block");
        let cells = block.cells();
        let mut removed = cells.load(index);
        self.step(block, || {
            // Loaded inside the step, and the removed element exchanged out: while exported, a
            // write through the export may land on either element until the step reads it.
            let moved = cells.load(len - 1);
            removed = cells.exchange(index, moved, sharing);
            store_len(block, len - 1);
        });
        Ok(removed)
    }

    /// Replaces `range` (within the length) with the words of `bytes`.
    ///
    /// In place (one step) for an equal-length replacement of at most [`IN_PLACE_BYTES`], or
    /// any length while exported; for an append at the end (as [`append`](Self::append)); for
    /// removing a tail (a truncate); and, when not exported, for a change of length within the
    /// capacity whose new words plus shifted tail are at most [`IN_PLACE_BYTES`] (a short
    /// insert or remove). Otherwise by publishing a new block.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if the storage would move while exported (or, under the strict
    /// rule, if the length would change); [`Error::CapacityOverflow`]; [`Error::AllocFailed`].
    ///
    /// # Panics
    ///
    /// If `range` is reversed or past the length (a bug in the caller's resolution).
    #[inline(never)]
    pub(crate) fn splice(&mut self, range: Range<usize>, bytes: &[u8]) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        assert!(
            range.start <= range.end && range.end <= len,
            "splice range not resolved"
        );
        if range.start == len {
            return self.append(bytes, None);
        }
        let n = bytes.len() / size_of::<W>();
        let new_len = (len - range.len())
            .checked_add(n)
            .ok_or(Error::CapacityOverflow)?;
        self.check_len_change(len, new_len)?;
        let exported = self.exports() != 0;
        if range.len() == n && (bytes.len() <= IN_PLACE_BYTES || exported) {
            self.unshare()?;
            let sharing = self.sharing();
            let block = self.block().expect("a non-empty range implies a block");
            let cells = block.cells().slice(range);
            self.step(block, || cells.store_bytes(bytes, sharing));
            return Ok(());
        }
        if range.end == len && n == 0 {
            return self.truncate(range.start);
        }
        let shifted = (len - range.end) * size_of::<W>();
        if !exported && new_len <= cap && bytes.len() + shifted <= IN_PLACE_BYTES {
            self.unshare()?;
            self.shift_in_place(range, bytes, new_len);
            return Ok(());
        }
        self.check_movable()?;
        let old = self.block().expect("a non-empty range implies a block");
        let raw = build_grown(cap, new_len, &mut |b| {
            // SAFETY: we hold the writer lock and the storage is not exported.
            unsafe { b.push_block(old, 0..range.start) };
            b.push_bytes(bytes);
            // SAFETY: as above.
            unsafe { b.push_block(old, range.end..len) };
        })?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Replaces `range` by `bytes` and shifts the tail after it, in one step: the tail is moved
    /// within the cells to just after where the new words go (nobody else writes the cells: we
    /// hold the lock and there is no export), then the new words are stored from `range.start`
    /// on, and the length becomes `new_len`. Words past the new length keep stale values,
    /// invisible to readers.
    ///
    /// The caller checked that `new_len` fits the capacity, that the storage is not exported,
    /// and that the new words and the tail are at most [`IN_PLACE_BYTES`].
    #[inline(never)]
    fn shift_in_place(&self, range: Range<usize>, bytes: &[u8], new_len: usize) {
        let block = self
            .block()
            .expect("a splice within the capacity has a block");
        let len = len_locked(block);
        let n = bytes.len() / size_of::<W>();
        // Everything the step relies on, checked before it: nothing inside a step may panic
        // (`seqlock::step` aborts the process if it unwinds).
        assert!(
            range.start <= range.end
                && range.end <= len
                && bytes.len() == n * size_of::<W>()
                && new_len == range.start + n + (len - range.end)
                && new_len <= block.cap(),
            "shift_in_place: inconsistent splice"
        );
        assert!(
            bytes.len() + (len - range.end) * size_of::<W>() <= IN_PLACE_BYTES,
            "shift_in_place: over the step bound"
        );
        self.step(block, || {
            // Made here, not captured: a `Cells` built on the stack by the caller and copied
            // in by the closure cost a stalled store-to-load forward (it was 7% of an
            // `insert(0)` + `remove(0)` pair, by `perf`), and so did a sub-slice of it.
            let cells = block.cells();
            // The tail first: when it moves up, the new words go where it was.
            // SAFETY: we hold the writer lock and the storage is not exported (the caller
            // checked), so no other thread writes these cells.
            unsafe { cells.move_words(range.start + n, range.end, len - range.end) };
            if n == 1 {
                cells.store(range.start, word(bytes), Sharing::Exclusive);
            } else if n > 1 {
                cells
                    .slice(range.start..range.start + n)
                    .store_bytes(bytes, Sharing::Exclusive);
            }
            store_len(block, new_len);
        });
    }

    /// Stores word `k` of `bytes` at index `start + k * step` for every `k`, as one step. All
    /// those indices are below the length (the caller resolved them).
    ///
    /// In place for at most [`IN_PLACE_STRIDED`] words, or any number while exported; otherwise
    /// by publishing a patched copy, so readers never wait for an O(n) step.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`].
    ///
    /// # Panics
    ///
    /// If an index is past the length, or `step` is 0 with more than one word.
    #[inline(never)]
    pub(crate) fn set_strided(
        &mut self,
        start: usize,
        step: usize,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        let n = bytes.len() / size_of::<W>();
        if n == 0 {
            return Ok(());
        }
        assert!(
            step > 0 || n == 1,
            "set_strided: a zero step for several values"
        );
        let last = (n - 1).checked_mul(step).and_then(|d| d.checked_add(start));
        assert!(
            last.is_some_and(|last| last < len),
            "set_strided: an index past the length"
        );
        let exported = self.exports() != 0;
        let shared = self.shared();
        let sharing = self.sharing();
        let block = self.block().expect("a non-empty index set implies a block");
        // A block a snapshot shares is not written: the patched copy below goes in instead
        // (exported blocks are never shared).
        if (n <= IN_PLACE_STRIDED && !shared) || exported {
            let cells = block.cells();
            self.step(block, || {
                for (k, v) in words::<W>(bytes).enumerate() {
                    cells.store(start + k * step, v, sharing);
                }
            });
            return Ok(());
        }
        let raw = build(cap, &mut |b| {
            // SAFETY: we hold the writer lock and the storage is not exported.
            unsafe { b.push_block(block, 0..len) };
            for (k, v) in words::<W>(bytes).enumerate() {
                b.overwrite(start + k * step, v);
            }
        })?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Publishes the words of `bytes` as the whole contents: written in place in one step when
    /// they fit the capacity and are at most [`IN_PLACE_BYTES`]; otherwise as a new block when
    /// the storage may move, or written back in place (same length only, one O(n) step) while
    /// exported.
    ///
    /// `base` is the contents `bytes` was computed from, read earlier in this critical section
    /// (`None` if the caller did not read them). It is needed only while exported: then every
    /// unit is written back with a compare-and-swap against it, so that an element written
    /// through the export since `base` was read keeps that write ([`Cells::store_bytes_over`]).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] if the length would change while exported; [`Error::CapacityOverflow`];
    /// [`Error::AllocFailed`].
    ///
    /// # Panics
    ///
    /// While exported, if `base` is `None` or not the current length (a bug in the caller).
    #[inline(never)]
    pub(crate) fn commit(&mut self, bytes: &[u8], base: Option<&[u8]>) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        let n = bytes.len() / size_of::<W>();
        self.check_len_change(len, n)?;
        let exports = self.exports();
        if exports != 0 {
            if n != len {
                return Err(Error::Exported { exports });
            }
            let base = base.expect("an exported commit needs the contents it was computed from");
            assert_eq!(base.len(), bytes.len(), "commit: base of another length");
            if let Some(block) = self.block() {
                let cells = block.cells().slice(0..n);
                // This step is O(n): only exported storage is rewritten in place (readers wait
                // for it); otherwise the new contents go to a new block below.
                self.step(block, || cells.store_bytes_over(bytes, base));
            }
            return Ok(());
        }
        if n == 0 && cap == 0 {
            return Ok(());
        }
        // A block a snapshot shares is not written: the new contents go to a new block.
        if n <= cap && bytes.len() <= IN_PLACE_BYTES && !self.shared() {
            let block = self.block().expect("cap > 0 implies a block");
            let cells = block.cells().slice(0..n);
            // Not exported (checked above): nobody else writes these units.
            self.step(block, || {
                cells.store_bytes(bytes, Sharing::Exclusive);
                store_len(block, n);
            });
            return Ok(());
        }
        let raw = build(grown_capacity::<W>(cap, n)?, &mut |b| b.push_bytes(bytes))?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Makes room for `additional` more elements: exactly, or growing geometrically.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`], [`Error::AllocFailed`], or [`Error::Exported`] if the
    /// storage must move while exported.
    #[inline(never)]
    pub(crate) fn reserve(&mut self, additional: usize, exact: bool) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        let needed = len.checked_add(additional).ok_or(Error::CapacityOverflow)?;
        if needed <= cap {
            return Ok(());
        }
        if needed > max_capacity::<W>() {
            return Err(Error::CapacityOverflow);
        }
        self.check_movable()?;
        let old = self.block();
        let mut fill = |b: &mut block::BlockBuilder<W>| {
            if let Some(old) = old {
                // SAFETY: we hold the writer lock and the storage is not exported.
                unsafe { b.push_block(old, 0..len) };
            }
        };
        let raw = if exact {
            build(needed, &mut fill)?
        } else {
            build_grown(cap, needed, &mut fill)?
        };
        self.publish(Some(raw));
        Ok(())
    }

    /// Moves the elements to storage of exactly their length (none at all when empty).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] while exported (if there is anything to shrink); allocation errors.
    #[inline(never)]
    pub(crate) fn shrink_to_fit(&mut self) -> Result<(), Error> {
        let (len, cap) = self.len_cap();
        if len == cap && (cap > 0 || self.block().is_none()) {
            return Ok(());
        }
        self.check_movable()?;
        if len == 0 {
            self.publish(None);
            return Ok(());
        }
        let old = self.block().expect("len > 0 implies a block");
        // SAFETY: we hold the writer lock and the storage is not exported.
        let raw = build(len, &mut |b| unsafe { b.push_block(old, 0..len) })?;
        self.publish(Some(raw));
        Ok(())
    }

    /// Counts one more export and returns the first cell (dangling but aligned when there is
    /// no block) and the length.
    ///
    /// A block a snapshot shares is copied first: the export's holder may write the storage,
    /// and a snapshot's block must never change.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if that copy cannot be allocated (nothing is exported).
    #[inline(never)]
    pub(crate) fn export(&mut self) -> Result<(NonNull<u8>, usize), Error> {
        self.unshare()?;
        self.array.add_export();
        // The cached count (if any) is stale now; nothing in this critical section moves the
        // storage after exporting it, but keep the cache honest.
        self.exports = None;
        Ok(match self.block() {
            Some(block) => (
                NonNull::new(block.cells().as_ptr().cast_mut()).expect("a block is never null"),
                len_locked(block),
            ),
            None => (NonNull::<u64>::dangling().cast::<u8>(), 0),
        })
    }
}

/// What one attempt of [`RawWriter::append_array`] prepared.
enum Appended<W: Word> {
    /// `other` was empty.
    Nothing,
    /// The words were written past the length of the current block; publishing this length
    /// makes them part of the array.
    InPlace(usize),
    /// A new block holding the old words and `other`'s.
    Moved(RawBlock<W>),
}

/// One attempt of [`RawWriter::append_array`], inside a validated read of the other array
/// (`v`): the same decisions and errors as [`RawWriter::append`] for its `v.len()` words,
/// made from the writer's state loaded before the read (`old`, `len`, `cap`, the sharing, the
/// export count, the strict rule, whether a snapshot shares `old`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn plan_append<W: Word>(
    v: RawView<'_, W>,
    old: Option<&Block<W>>,
    len: usize,
    cap: usize,
    sharing: Sharing,
    exports: usize,
    strict: bool,
    shared: bool,
) -> Result<Appended<W>, Error> {
    let n = v.len();
    if n == 0 {
        return Ok(Appended::Nothing);
    }
    let new_len = len.checked_add(n).ok_or(Error::CapacityOverflow)?;
    if strict && exports != 0 {
        return Err(Error::Exported { exports });
    }
    if new_len <= cap && !shared {
        let block = old.expect("cap > 0 implies a block");
        let cells = block.cells().slice(len..new_len);
        seqlock::append_fence();
        v.store_into(cells, sharing);
        return Ok(Appended::InPlace(new_len));
    }
    if exports != 0 {
        return Err(Error::Exported { exports });
    }
    // Growing, or (a snapshot shares the block) moving to an unshared copy of the same
    // capacity with the new words in it: one copy instead of `unshare`'s and then the append.
    build_grown(cap, new_len, &mut |b| {
        if let Some(old) = old {
            // SAFETY: we hold the writer lock and the storage is not exported.
            unsafe { b.push_block(old, 0..len) };
        }
        b.push_loaded(n, |out| v.load_bytes(out));
    })
    .map(Appended::Moved)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Ordering::Relaxed;

    /// A shift whose arguments do not add up panics before its step begins: the version stays
    /// even and the contents unchanged (inside the step, a panic would abort the process).
    #[test]
    fn an_inconsistent_shift_panics_before_its_step() {
        let a = RawArray::<u32>::try_from_bytes(&[1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
        let w = a.lock();
        let version = |w: &RawWriter<'_, u32>| w.block().unwrap().version().load(Relaxed);
        let before = version(&w);
        for (range, bytes, new_len) in [
            // One word inserted at 0 into a full block: the new length is past the capacity.
            (0..0, &[9u8, 0, 0, 0][..], 3),
            // A new length that does not match the splice (replacing one word keeps 2).
            (0..1, &[9, 0, 0, 0], 1),
            // A byte count that is not whole words.
            (0..1, &[9, 0, 0], 2),
        ] {
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                w.shift_in_place(range.clone(), bytes, new_len)
            }));
            assert!(
                caught.is_err(),
                "{range:?} {bytes:?} -> {new_len} did not panic"
            );
            assert_eq!(
                version(&w),
                before,
                "a step began for {range:?} -> {new_len}"
            );
            assert_eq!(w.len(), 2);
            assert_eq!((w.get(0), w.get(1)), (Some(1), Some(2)));
        }
    }
}
