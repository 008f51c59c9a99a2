//! [`RawHold`]: a reader's hold on the block it last read, so that its next reads need no
//! epoch pin.
//!
//! A read pins the thread (crossbeam-epoch: a thread-local lookup and a `lock cmpxchg`) so
//! that the block it loads from the array cannot be freed while it looks. A reader that reads
//! one array many times in a row (an iterator's `next`) can keep the block alive itself
//! instead: a hold ([`block::acquire_keep`]) stops the block from being freed but, unlike a
//! snapshot's reference, not from being written, so writers keep working in place and pay
//! nothing for it.
//!
//! A held read loads the array's block pointer (Acquire) and compares it with the held
//! block's address; if they are equal it makes one validated attempt on the held block
//! ([`attempt_on`], the attempt every read makes). Otherwise (the array moved to another
//! block, has none, or the attempt met a writer's step) it pins, moves the hold to the current
//! block, and reads as a pinned read does.
//!
//! Why that read is a state of the array at an instant within the call: the pointer load saw
//! the held block current at some instant `t0` of the call. Writers write only the current
//! block, so after it stops being current the block no longer changes (a tentative publication
//! that is taken back leaves it unchanged too). The attempt validated a state that held while
//! it looked; that state is the one the last write before the attempt left, made while the
//! block was current, at or after `t0` (or the state at `t0` if there was no such write). This
//! is the argument of a pinned read, which also loads the pointer first and reads the block
//! after: the pin, like the hold here, only keeps the memory alive. The address comparison
//! cannot be fooled by a new block at the same address: the held block is not freed while held,
//! so no other block can occupy its address.
//!
//! One difference from a read under a *fresh* pin: pinning runs a `SeqCst` fence, and a held
//! read does not, so held reads of two arrays do not forbid the store-buffering outcome
//! (thread 1 sets `a` then reads `b` through a hold, thread 2 sets `b` then reads `a`, and
//! both read the old values) on hardware that allows it (POWER, RISC-V; x86 and ARMv8 do
//! not). Reads through a long-lived [`Session`](crate::Session) pin share this; each read of
//! one array is still linearizable on its own.
//!
//! The cost is memory: a block retired by its array stays allocated while a hold on it lives
//! (one block per hold, freed by the hold's next read or its drop). Only 64-bit targets take
//! holds (see `block::KEEP`).

use super::array::RawArray;
use super::block::{self, Block, RawBlock};
use super::seqlock::{RawView, attempt_on, copy_range};
use crate::element::Word;
use crate::error::Error;
use crate::sync::Ordering::Acquire;
use crossbeam_epoch::{self as epoch, Guard, Pointer};
use std::marker::PhantomData;
use std::ops::Range;

/// A hold on one block of one array (or on none). Reads through it with
/// [`RawArray::read_held`] need no pin while the array keeps that block.
///
/// A hold must only be used with arrays of one word type `W` (the type checks that); using it
/// with several arrays is sound but makes every read a pinned one, since the held block is the
/// current block of at most one of them.
pub(crate) struct RawHold<W: Word> {
    /// The held block's address (as `Pointable::init` gave it), or 0 for none. The hold owns
    /// one of the block's holds ([`block::acquire_keep`]).
    addr: usize,
    _words: PhantomData<W>,
}

// SAFETY: the hold is an address and a count in the block's header that is changed atomically;
// the block is only read through validated atomic loads, so any thread may own the hold.
unsafe impl<W: Word> Send for RawHold<W> {}
// SAFETY: `&RawHold` allows nothing (every use takes `&mut`).
unsafe impl<W: Word> Sync for RawHold<W> {}

impl<W: Word> RawHold<W> {
    /// A hold on nothing: the first read through it pins and takes the hold.
    pub(crate) const fn new() -> Self {
        RawHold {
            addr: 0,
            _words: PhantomData,
        }
    }

    /// Whether a block is held (for tests).
    #[allow(dead_code, reason = "used by the tests")]
    pub(crate) fn holds(&self) -> bool {
        self.addr != 0
    }

    /// The held block's address (0 for none), giving up the hold to the caller, who must turn
    /// it back into a hold with [`from_addr`](Self::from_addr) (of this `W`) exactly once.
    /// Block addresses are multiples of 64, so the low 6 bits are free for a tag.
    pub(crate) fn into_addr(self) -> usize {
        let this = std::mem::ManuallyDrop::new(self);
        this.addr
    }

    /// The hold [`into_addr`](Self::into_addr) gave up.
    ///
    /// # Safety
    ///
    /// `addr` is 0, or came from `into_addr` of a `RawHold<W>` of this `W` and is taken back
    /// only once.
    pub(crate) unsafe fn from_addr(addr: usize) -> Self {
        RawHold {
            addr,
            _words: PhantomData,
        }
    }

    /// Moves the hold to `array`'s current block (or to none), as loaded under `guard`.
    fn move_to(&mut self, array: &RawArray<W>, guard: &Guard) {
        // Acquire: as in the read attempt (the block's header is visible).
        let shared = array.buf.load(Acquire, guard);
        // SAFETY: loaded under `guard`: the array's own reference to the block is released
        // only after every pin that could have loaded it ends, so the block is alive here.
        let current = unsafe { shared.as_ref() };
        let addr = current.map_or(0, Block::addr);
        if addr == self.addr {
            return;
        }
        self.release();
        if let Some(block) = current {
            // A block with too many holds is simply not held: reads stay pinned ones.
            if block::acquire_keep(block) {
                self.addr = addr;
            }
        }
    }

    /// Gives back the hold, if any.
    fn release(&mut self) {
        let addr = std::mem::replace(&mut self.addr, 0);
        if addr != 0 {
            // SAFETY: `addr` is a block this hold held (taken by `acquire_keep`), given up once.
            unsafe { block::release_keep::<W>(addr) };
        }
    }
}

impl<W: Word> Default for RawHold<W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<W: Word> Drop for RawHold<W> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<W: Word> RawArray<W> {
    /// Runs `f` on a consistent view of the array, as [`read`](Self::read) does, without
    /// pinning while the array's current block is the one `hold` holds (see the module docs).
    /// `f` may run several times and must only compute its result.
    #[inline(always)]
    pub(crate) fn read_held<R>(
        &self,
        hold: &mut RawHold<W>,
        mut f: impl FnMut(RawView<'_, W>) -> R,
    ) -> R {
        if hold.addr != 0 {
            // Acquire: orders the attempt's loads of the block after this load, as in a
            // pinned read. The pointer is only compared, never dereferenced, so no guard is
            // needed for it.
            // SAFETY: `unprotected` is fine for a load whose result is never dereferenced.
            let current = self.buf.load(Acquire, unsafe { epoch::unprotected() });
            if current.into_usize() == hold.addr {
                // SAFETY: the hold keeps the block allocated (see `block::acquire_keep`).
                let block = unsafe { Block::<W>::at(hold.addr) };
                if let Some((result, _)) = attempt_on(block, &mut f) {
                    return result;
                }
            }
        }
        self.read_held_slow(hold, f)
    }

    /// [`read_held`](Self::read_held), also returning the version the read validated when
    /// it read the held block (`None` when it had to pin: the hold was empty or on another
    /// block, the array has no block, or a writer overlapped the first attempt). With the
    /// hold's address, that version is what [`unchanged_at`](Self::unchanged_at) checks.
    #[inline(always)]
    pub(crate) fn read_held_versioned<R>(
        &self,
        hold: &mut RawHold<W>,
        mut f: impl FnMut(RawView<'_, W>) -> R,
    ) -> (R, Option<usize>) {
        if hold.addr != 0 {
            // Acquire, and no guard for a compared-only pointer: as in `read_held`.
            // SAFETY: `unprotected` is fine for a load whose result is never dereferenced.
            let current = self.buf.load(Acquire, unsafe { epoch::unprotected() });
            if current.into_usize() == hold.addr {
                // SAFETY: the hold keeps the block allocated (see `block::acquire_keep`).
                let block = unsafe { Block::<W>::at(hold.addr) };
                if let Some((result, version)) = attempt_on(block, &mut f) {
                    return (result, Some(version));
                }
            }
        }
        (self.read_held_slow(hold, f), None)
    }

    /// [`try_copy_range_block`](Self::try_copy_range_block) through `hold` (see
    /// [`read_held`](Self::read_held)): no pin while the array keeps the held block.
    pub(crate) fn try_copy_range_block_held(
        &self,
        hold: &mut RawHold<W>,
        times: usize,
        mut pick: impl FnMut(usize) -> Result<Range<usize>, Error>,
    ) -> Result<Option<RawBlock<W>>, Error> {
        self.read_held(hold, |v| copy_range(v, times, &mut pick))
    }

    /// The length, read through a hold on the block at `addr` (of any word size): `None` if
    /// the array has moved off that block or a writer step overlapped the read (then read
    /// with [`read_held`](Self::read_held), which moves the hold or retries).
    ///
    /// # Safety
    ///
    /// `addr` is a block some hold keeps allocated (see `block::acquire_keep`).
    #[inline(always)]
    pub(crate) unsafe fn len_at(&self, addr: usize) -> Option<usize> {
        // Acquire: as any load of the block pointer a read goes on from.
        // SAFETY: `unprotected` is fine for a load whose result is never dereferenced.
        let current = self.buf.load(Acquire, unsafe { epoch::unprotected() });
        if current.into_usize() != addr {
            return None;
        }
        // SAFETY: kept allocated (the caller's contract), and this array's current block, so
        // of this array's word size.
        let block = unsafe { Block::<W>::at(addr) };
        attempt_on(block, &mut |v: RawView<'_, W>| v.len()).map(|(n, _)| n)
    }

    /// Whether the array is still in the state a read through a hold on the block at `addr`
    /// saw, when that read returned `version` ([`read_held_versioned`](Self::read_held_versioned)):
    /// its current block is still that one and no writer step has begun on it since (every
    /// change of the length or of a cell in place is a step, which moves the version on). If
    /// so, what that read saw is the array's state now.
    ///
    /// The held block cannot be freed, so its address cannot come back as another block's,
    /// and its version only ever grows: an equal address and version are the same state. Any
    /// word size may be asked about (the header is the same for all): the same code for every
    /// `W`, so a caller that dispatches on the word size compiles to one path.
    ///
    /// # Safety
    ///
    /// `addr` is a block some hold keeps allocated (see `block::acquire_keep`).
    #[inline(always)]
    pub(crate) unsafe fn unchanged_at(&self, addr: usize, version: usize) -> bool {
        // Acquire, as a read's first load: what follows is ordered after it.
        // SAFETY: `unprotected` is fine for a load whose result is never dereferenced.
        let current = self.buf.load(Acquire, unsafe { epoch::unprotected() });
        // SAFETY: the block is kept allocated (the caller's contract); it is only dereferenced
        // once it is known to be this array's current block, so of this array's word size.
        current.into_usize() == addr
            && unsafe { Block::<W>::at(addr) }.version().load(Acquire) == version
    }

    /// The pinned way of [`read_held`](Self::read_held): moves the hold to the current block,
    /// then reads as any pinned read.
    #[cold]
    #[inline(never)]
    fn read_held_slow<R>(&self, hold: &mut RawHold<W>, f: impl FnMut(RawView<'_, W>) -> R) -> R {
        let guard = crate::reclaim::pin();
        hold.move_to(self, &guard);
        self.read(&guard, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Ordering::Relaxed;

    fn get(a: &RawArray<u32>, hold: &mut RawHold<u32>, i: usize) -> Option<u32> {
        a.read_held(hold, |v| v.get(i))
    }

    fn push(a: &RawArray<u32>, w: u32) {
        a.lock().push(w).unwrap();
    }

    /// Reads through a hold follow the array through appends in place, growth (a new block),
    /// clearing (no block) and refilling, and the hold moves to each new block.
    #[test]
    #[cfg(target_pointer_width = "64")] // narrower targets take no holds
    fn held_reads_follow_the_array_through_every_change() {
        let a = RawArray::<u32>::try_from_bytes(&[1, 0, 0, 0, 2, 0, 0, 0]).unwrap();
        let mut hold = RawHold::new();
        assert!(!hold.holds());
        assert_eq!(get(&a, &mut hold, 1), Some(2));
        assert!(hold.holds());
        for w in 3..100 {
            push(&a, w);
            assert_eq!(get(&a, &mut hold, w as usize - 1), Some(w));
            assert_eq!(get(&a, &mut hold, w as usize), None);
        }
        {
            let mut w = a.lock();
            w.truncate(0).unwrap();
            w.shrink_to_fit().unwrap();
        }
        assert_eq!(get(&a, &mut hold, 0), None);
        assert!(
            !hold.holds(),
            "no block to hold after a clear that freed it"
        );
        push(&a, 7);
        assert_eq!(get(&a, &mut hold, 0), Some(7));
        assert!(hold.holds());
    }

    /// Past the limit a hold is refused, and the count is left as it was: the reader simply
    /// keeps pinning.
    #[test]
    #[cfg(target_pointer_width = "64")]
    #[cfg_attr(miri, ignore = "takes 32,768 holds one by one")]
    fn a_block_with_too_many_holds_refuses_one_more() {
        let a = RawArray::<u32>::try_from_bytes(&[5, 0, 0, 0]).unwrap();
        let guard = crate::reclaim::pin();
        // SAFETY: loaded under `guard`.
        let block = unsafe { a.buf.load(Acquire, &guard).as_ref() }.unwrap();
        let mut taken = 0;
        while block::acquire_keep(block) {
            taken += 1;
            assert!(taken <= 1 << 16, "no limit");
        }
        let full = block.refs().load(Relaxed);
        assert!(!block::acquire_keep(block));
        assert_eq!(
            block.refs().load(Relaxed),
            full,
            "a refusal leaves the count"
        );
        let mut hold = RawHold::new();
        assert_eq!(get(&a, &mut hold, 0), Some(5), "a refused hold still reads");
        assert!(!hold.holds());
        for _ in 0..taken {
            // SAFETY: each of these holds was taken above and is given back once.
            unsafe { block::release_keep::<u32>(block.addr()) };
        }
        assert_eq!(block.refs().load(Relaxed), 1);
    }

    /// A hold keeps a retired block allocated and does not make writers copy it: the owner
    /// count stays 1 (writes in place), the hold is counted apart, and the block is freed when
    /// the hold moves on.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_hold_is_not_an_owner_and_frees_the_block_it_outlived() {
        let a = RawArray::<u32>::try_from_bytes(&[5, 0, 0, 0]).unwrap();
        let mut hold = RawHold::new();
        assert_eq!(get(&a, &mut hold, 0), Some(5));
        let held = hold.addr;
        // SAFETY: the hold keeps the block alive.
        let refs = || unsafe { Block::<u32>::at(held) }.refs().load(Relaxed);
        assert_eq!(block::owners(refs()), 1);
        assert_eq!(refs() / block::KEEP, 1);
        // A write in place keeps the block (no copy on write for a hold).
        a.lock().set(0, 9).unwrap();
        assert_eq!(hold.addr, held);
        assert_eq!(get(&a, &mut hold, 0), Some(9));
        // Growth retires the held block; flushing hands the array's reference back, and the
        // hold still keeps the block: only its hold is left.
        for w in 0..64 {
            push(&a, w);
        }
        // Other tests' threads may be pinned for a moment: drain until the collector got to it.
        for _ in 0..500 {
            crate::reclaim::drain(4);
            if refs() == block::KEEP {
                break;
            }
        }
        assert_eq!(
            refs(),
            block::KEEP,
            "the array let go; only the hold keeps it"
        );
        assert_eq!(get(&a, &mut hold, 0), Some(9));
        assert_ne!(
            hold.addr, held,
            "the hold moved to the new block (freeing the old one)"
        );
    }
}
