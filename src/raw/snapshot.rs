//! [`RawSnapshot`]: an immutable view of one instant of an array that shares its block.
//!
//! Taking one adds an owner to the current block (`Header::refs`) under the writer lock, with
//! no copy; from then on every write that would store into that block's cells finds the block
//! shared and copies it first (`RawWriter::unshare`: copy on write, once, since the copy is the
//! array's alone). So the block a snapshot holds is never written again, and the snapshot can
//! read it with plain loads, as a `&[W]`. The block is freed when its last owner lets go: the
//! array's reference goes when the epoch collector is done with the block after its
//! retirement, a snapshot's when it is dropped.
//!
//! A snapshot never makes a reader or a writer wait for O(n) work: it takes the lock only with
//! `try_lock` (a few times), and when the lock stays busy (a writer may hold it for a long
//! rewrite) it copies a validated read instead. An exported array's block is never shared (its
//! holder may write it): a snapshot of it is a copy, made by a validated read after letting go
//! of the lock, and `export` copies a shared block first.

use super::array::RawArray;
use super::block::{self, Block, RawBlock, build};
use super::cells::Cells;
use super::seqlock::len_locked;
use super::writer::RawWriter;
use crate::element::Word;
use crate::error::Error;
use crate::sync::spin_loop;
use std::marker::PhantomData;

/// How many times a snapshot tries the writer lock before copying instead (about a
/// microsecond of spinning: longer than a writer's O(1) step, far shorter than a rewrite).
/// Under loom, where each try is a scheduling point, two tries show both outcomes.
const LOCK_TRIES: u32 = if cfg!(loom) { 2 } else { 64 };

/// An immutable view of an array at one instant, sharing (or, failing that, owning) a block.
pub(crate) struct RawSnapshot<W: Word> {
    /// The block's address (as `Pointable::init` gave it), or 0 for an empty snapshot with no
    /// block. The snapshot owns one of the block's references.
    addr: usize,
    /// The number of words: the array's length at the snapshot's instant.
    len: usize,
    _words: PhantomData<W>,
}

// SAFETY: a snapshot only reads a block nobody writes any more (see the module docs), and its
// reference count is atomic, so it may move to and be shared by any thread.
unsafe impl<W: Word> Send for RawSnapshot<W> {}
// SAFETY: as above.
unsafe impl<W: Word> Sync for RawSnapshot<W> {}

impl<W: Word> RawSnapshot<W> {
    /// A snapshot of nothing.
    fn empty() -> Self {
        RawSnapshot {
            addr: 0,
            len: 0,
            _words: PhantomData,
        }
    }

    /// A snapshot owning the new block `raw` (a copy), of its whole length.
    fn owning(raw: RawBlock<W>) -> Self {
        let addr = raw.into_addr();
        // SAFETY: `addr` is the live block we just made; nobody else references it.
        let len = len_locked(unsafe { Block::<W>::at(addr) });
        RawSnapshot {
            addr,
            len,
            _words: PhantomData,
        }
    }

    /// The number of words.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The block, if there is one.
    fn block(&self) -> Option<&Block<W>> {
        // SAFETY: the snapshot owns a reference to the block, so it is live for `&self`.
        (self.addr != 0).then(|| unsafe { Block::<W>::at(self.addr) })
    }

    /// The words, as cells (atomic loads; loom models use this).
    pub(crate) fn cells(&self) -> Cells<'_, W> {
        match self.block() {
            // SAFETY: `len` was the block's length when the snapshot was taken, so it is at most
            // the block's capacity.
            Some(block) => unsafe { block.cells_to(self.len) },
            None => Cells::empty(),
        }
    }

    /// The words as a plain slice.
    #[cfg(not(loom))]
    pub(crate) fn as_words(&self) -> &[W] {
        let cells = self.cells();
        // Nobody writes these cells while the snapshot lives: writers copy a shared block before
        // writing (`RawWriter::unshare`), exported blocks are never shared, and a snapshot's own
        // copy is written by nobody; every earlier write happens before the snapshot was made
        // (under the writer lock, or by the validated read that built the copy). Concurrent
        // atomic loads by readers do not conflict with plain reads.
        // SAFETY: initialised units holding `len` words from `as_ptr()` on, aligned for `W`
        // (units are 8-aligned, `W` at most 8 bytes), unwritten while we read (above).
        unsafe { std::slice::from_raw_parts(cells.as_ptr().cast::<W>(), self.len) }
    }

    /// Whether this snapshot shares its block with the array (rather than owning a copy, or
    /// holding nothing): for tests and statistics.
    #[allow(
        dead_code,
        reason = "used by the tests and by FtArray's docs-level checks"
    )]
    pub(crate) fn owners(&self) -> usize {
        self.block().map_or(0, |b| {
            block::owners(b.refs().load(crate::sync::Ordering::Relaxed))
        })
    }
}

impl<W: Word> Clone for RawSnapshot<W> {
    fn clone(&self) -> Self {
        if let Some(block) = self.block() {
            block::acquire(block);
        }
        RawSnapshot {
            addr: self.addr,
            len: self.len,
            _words: PhantomData,
        }
    }
}

impl<W: Word> Drop for RawSnapshot<W> {
    fn drop(&mut self) {
        if self.addr != 0 {
            // SAFETY: the snapshot owns one reference to the block and gives it up, once.
            unsafe { block::release::<W>(self.addr) };
        }
    }
}

impl<W: Word> RawArray<W> {
    /// A snapshot of the array at one instant: sharing its block when the writer lock can be
    /// had at once and the storage is not exported, a copy otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a copy is needed and cannot be allocated.
    pub(crate) fn snapshot(&self) -> Result<RawSnapshot<W>, Error> {
        for _ in 0..LOCK_TRIES {
            if let Some(mut writer) = self.try_lock() {
                if let Some(shared) = writer.share() {
                    return Ok(shared);
                }
                // Exported: the snapshot must be a copy. It is made without the lock (a
                // validated read, with atomic loads), so writers never wait for it.
                break;
            }
            spin_loop();
        }
        // The lock stays busy (a writer may be doing O(n) work under it), or the storage is
        // exported: copy the array as a validated read sees it.
        self.snapshot_by_copy()
    }

    /// A snapshot that owns a copy of a validated read.
    fn snapshot_by_copy(&self) -> Result<RawSnapshot<W>, Error> {
        let guard = crate::reclaim::pin();
        let mut bytes: Vec<u8> = Vec::new();
        let mut failed = None;
        self.read(&guard, |v| {
            bytes.clear();
            let n = v.len() * size_of::<W>();
            if bytes.try_reserve_exact(n).is_err() {
                failed = Some(Error::AllocFailed { bytes: n });
                return;
            }
            failed = None;
            v.load_bytes(&mut bytes.spare_capacity_mut()[..n]);
            // SAFETY: `load_bytes` initialised the first `n` bytes.
            unsafe { bytes.set_len(n) };
        });
        drop(guard);
        if let Some(e) = failed {
            return Err(e);
        }
        RawSnapshot::copy_of(&bytes)
    }
}

impl<W: Word> RawSnapshot<W> {
    /// A snapshot owning a new block holding the words whose native-order bytes are `bytes`.
    fn copy_of(bytes: &[u8]) -> Result<Self, Error> {
        let n = bytes.len() / size_of::<W>();
        if n == 0 {
            return Ok(RawSnapshot::empty());
        }
        Ok(RawSnapshot::owning(build(n, &mut |b| b.push_bytes(bytes))?))
    }
}

impl<W: Word> RawWriter<'_, W> {
    /// A snapshot sharing the current block (the lock is held), or `None` while the storage
    /// is exported: an export's holder may write the block, so a snapshot of it must be a copy
    /// (which the caller makes without the lock).
    pub(crate) fn share(&mut self) -> Option<RawSnapshot<W>> {
        if self.exports() != 0 {
            return None;
        }
        let Some(block) = self.block() else {
            return Some(RawSnapshot::empty());
        };
        block::acquire(block);
        Some(RawSnapshot {
            addr: block.addr(),
            len: len_locked(block),
            _words: PhantomData,
        })
    }
}
