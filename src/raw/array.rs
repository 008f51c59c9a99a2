//! [`RawArray<W>`]: what every array has, whatever its element type: the current block, the
//! export count, the strict-exports flag and the writer lock; construction, the export count's
//! rules, and drop. Reads (`seqlock.rs`) and writes (`writer.rs`) add their methods.

use super::block::{self, RawBlock, build};
use crate::element::Word;
use crate::error::Error;
use crate::sync::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{AtomicBool, AtomicUsize, Mutex};
use crossbeam_epoch::{self as epoch, Atomic, Guard, Pointer, Shared};

/// An array of words: the block pointer, the export count, the export rule and the writer
/// lock.
///
/// `#[repr(C)]`, with `writer` at least 64 bytes after `buf`, so that the two never share a
/// cache line wherever the array lies: every read loads `buf`, and every write stores into the
/// mutex twice, and when they shared a line readers took a cache miss on `buf` after each write
/// (about a fifth of `get`'s time with one writer running, by `perf`). The separation is by
/// distance, not by alignment: an alignment above 16 would make `FtArray` over-aligned for the
/// allocators hosts embed it with (a Python object's memory is 16-aligned, so the object's
/// fields would sit at misaligned addresses), and costs up to 256 bytes per array. The export
/// count and the export rule share `buf`'s line: writers only load them, and they change only
/// when an export is made or released.
#[repr(C)]
pub(crate) struct RawArray<W: Word> {
    /// The current block, or null for an array that never allocated (or shrank to nothing).
    /// Stored only by a writer holding `writer`; loaded by anyone.
    pub(super) buf: Atomic<block::Block<W>>,
    /// Live exports. Incremented only under `writer`; decremented by an export's release,
    /// anywhere. At most `isize::MAX` (an increment past that aborts).
    pub(super) exports: AtomicUsize,
    /// Whether any length change fails while exported (CPython's `BufferError` rule), rather
    /// than only moves. Stored and loaded only under `writer` (Relaxed: the lock orders them);
    /// loaded outside it only by the `strict_exports` getter, as a plain statistic.
    pub(super) strict: AtomicBool,
    /// Keeps `writer` [`WRITER_OFFSET`] bytes after `buf`.
    _gap: [u8; GAP],
    /// The per-array critical section every writer enters.
    pub(super) writer: Mutex<()>,
}

/// How far `writer` lies from `buf`: a cache line's size, so they never share a line.
const WRITER_OFFSET: usize = 64;

/// The padding that puts `writer` at [`WRITER_OFFSET`] (outside loom, whose atomics are
/// larger: there the fields are simply laid out in order).
const GAP: usize = if cfg!(loom) {
    0
} else {
    // `buf` and `exports` (a word each), then `strict` (a byte); the gap is bytes, so nothing
    // aligns it, and `writer` (std's mutex: a 4-byte futex word and a poison flag) follows at
    // the next multiple of 4, which the const assert below checks is 64.
    WRITER_OFFSET - 2 * size_of::<usize>() - size_of::<bool>()
};

#[cfg(not(loom))]
const _: () = assert!(std::mem::offset_of!(RawArray<u8>, writer) == WRITER_OFFSET);

impl<W: Word> RawArray<W> {
    /// An array whose storage is `raw` (none: empty, no block).
    #[inline]
    pub(crate) fn with_block(raw: Option<RawBlock<W>>) -> Self {
        RawArray {
            buf: match raw {
                Some(raw) => Atomic::init(raw),
                None => Atomic::null(),
            },
            exports: AtomicUsize::new(0),
            strict: AtomicBool::new(false),
            _gap: [0; GAP],
            writer: Mutex::new(()),
        }
    }

    /// This array's block (`None`: it has none), if the array is its only owner: no export of
    /// it is live and no snapshot shares it. Otherwise the array, unchanged.
    pub(crate) fn into_block(self) -> Result<Option<RawBlock<W>>, Self> {
        // SAFETY: `self` by value: no reader, writer or guard-holding handle can reach this
        // array, so its block pointer is ours to read and clear.
        let shared = self.buf.load(Relaxed, unsafe { epoch::unprotected() });
        if shared.is_null() {
            return Ok(None);
        }
        // Acquire: pairs with the Release in `release_export` (the holders are done).
        if self.exports.load(Acquire) != 0 {
            return Err(self);
        }
        // SAFETY: the array's block is live while the array holds its reference.
        let block = unsafe { shared.deref() };
        // Acquire: pairs with the Release decrement of a snapshot that shared the block, so
        // its reads happen before we own the block. Nothing can add a reference: that takes
        // the array, which is ours.
        if block.refs().load(Acquire) != 1 {
            return Err(self);
        }
        self.buf.store(Shared::null(), Relaxed);
        // SAFETY: the address is the live block this array held its only reference to; the
        // array lets it go (its pointer is null now), so the block is owned by the caller.
        Ok(Some(unsafe { RawBlock::from_addr(shared.into_usize()) }))
    }

    /// An empty array without a block.
    pub(crate) fn new() -> Self {
        Self::with_block(None)
    }

    /// An empty array with room for `capacity` words.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`] or [`Error::AllocFailed`].
    pub(crate) fn try_with_capacity(capacity: usize) -> Result<Self, Error> {
        if capacity == 0 {
            return Ok(Self::new());
        }
        Ok(Self::with_block(Some(build(capacity, &mut |_| {})?)))
    }

    /// An array holding the words whose native-order bytes are `bytes`, with exactly that
    /// capacity.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`].
    pub(crate) fn try_from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::block_from_bytes(bytes).map(Self::with_block)
    }

    /// [`try_from_bytes`](Self::try_from_bytes)'s block (`None`: no words).
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`].
    pub(crate) fn block_from_bytes(bytes: &[u8]) -> Result<Option<RawBlock<W>>, Error> {
        let n = bytes.len() / size_of::<W>();
        if n == 0 {
            return Ok(None);
        }
        build(n, &mut |b| b.push_bytes(bytes)).map(Some)
    }

    /// The capacity of the current block: a hint, read without validation.
    pub(crate) fn capacity_in(&self, guard: &Guard) -> usize {
        // Acquire: as any load of the block pointer that is dereferenced (see `seqlock.rs`).
        let shared = self.buf.load(Acquire, guard);
        // SAFETY: loaded under `guard`, which keeps the block alive.
        unsafe { shared.as_ref() }.map_or(0, block::Block::cap)
    }

    /// The number of live exports (a statistic: it can change as soon as it is returned).
    pub(crate) fn export_count(&self) -> usize {
        // Acquire: pairs with the Release in `release_export`, like every load of the count.
        self.exports.load(Acquire)
    }

    /// The export count, for a decision made under the lock (see `RawWriter::exports`).
    pub(super) fn exports_locked(&self) -> usize {
        // Acquire: pairs with the Release decrement in `release_export`, so everything the
        // export's holder did through its pointer happens before we move or free the storage.
        // New exports are only created under the lock the caller holds, so the count cannot rise.
        self.exports.load(Acquire)
    }

    /// Counts one more export; the caller holds the lock.
    pub(super) fn add_export(&self) {
        // Relaxed: increments happen only under the lock, which orders them against every
        // moving operation's check.
        let previous = self.exports.fetch_add(1, Relaxed);
        if previous > isize::MAX as usize {
            // Only reachable by leaking exports (`mem::forget` or unreleased raw exports)
            // billions of times; continuing would risk a wrapped count, and with it the
            // storage moving under live exports. As `Arc` does for its count.
            std::process::abort();
        }
    }

    /// Ends one export.
    ///
    /// # Safety
    ///
    /// Each call matches one earlier export of this array that has not been released, and the
    /// pointer that export returned is not used afterwards.
    pub(crate) unsafe fn release_export(&self) {
        // Release: pairs with the Acquire load in `exports_locked`; the holder's accesses
        // through the pointer happen before the storage can move or be freed.
        let previous = self.exports.fetch_sub(1, Release);
        debug_assert!(previous > 0, "release_export without a matching export");
    }

    /// Whether the strict export rule is on, for a decision under the lock.
    pub(super) fn strict_locked(&self) -> bool {
        // Relaxed: stored only under the lock, which the caller holds.
        self.strict.load(Relaxed)
    }

    /// Turns the strict export rule on or off; the caller holds the lock.
    pub(super) fn set_strict_locked(&self, strict: bool) {
        // Relaxed: loaded for decisions only under the lock.
        self.strict.store(strict, Relaxed);
    }

    /// Turns the strict export rule on or off for an array nobody else can reach yet (`&mut`:
    /// no lock needed, and none taken).
    pub(crate) fn set_strict_owned(&mut self, strict: bool) {
        // Relaxed: `&mut self` means no other thread can load it now; whoever gets the array
        // later gets it through a synchronising hand-off.
        self.strict.store(strict, Relaxed);
    }

    /// Whether the strict export rule is on (see `strict`).
    pub(crate) fn strict_exports(&self) -> bool {
        // Relaxed: a plain statistic outside the lock; decisions load it under the lock.
        self.strict.load(Relaxed)
    }
}

impl<W: Word> Drop for RawArray<W> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader, writer or guard-holding handle can reach this array
        // any more, so the current block is ours alone.
        let shared = self.buf.load(Relaxed, unsafe { epoch::unprotected() });
        if shared.is_null() {
            return;
        }
        // Acquire: pairs with the Release in `release_export` (the holders are done).
        if self.exports.load(Acquire) != 0 {
            // A raw export was never released: its holder may still use the storage, so leak
            // it rather than hand them a dangling pointer.
            return;
        }
        // SAFETY: as above; the block is not exported, and no reader can reach it, so the array
        // gives up its reference (freeing the block unless a snapshot still shares it).
        unsafe { block::release::<W>(shared.into_usize()) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::testing::{assert_child_aborts, test_path};

    /// Every read loads `buf`; every write stores into the mutex (lock and unlock) and may
    /// touch the export count. `buf` must not share a cache line with them.
    #[test]
    fn the_block_pointer_has_a_cache_line_to_itself() {
        // On the heap, in a box of the weakest alignment a host could give (16), at every
        // 8-byte offset within a line.
        for shift in (0..64).step_by(8) {
            let mut storage = vec![0u8; size_of::<RawArray<u32>>() + 128];
            let base = storage.as_mut_ptr().addr();
            let at = base.next_multiple_of(64) + shift;
            let p = storage
                .as_mut_ptr()
                .wrapping_add(at - base)
                .cast::<RawArray<u32>>();
            assert!(p.is_aligned());
            // SAFETY: `p` is aligned and inside `storage`, which is large enough; the array is
            // dropped in place below, before `storage`.
            let a = unsafe {
                p.write(RawArray::<u32>::new());
                &*p
            };
            let addr = |r: *const u8| r as usize;
            let buf = addr(std::ptr::from_ref(&a.buf).cast());
            let buf_end = buf + size_of_val(&a.buf) - 1;
            let writer = addr(std::ptr::from_ref(&a.writer).cast());
            let writer_end = writer + size_of_val(&a.writer) - 1;
            for w in [writer, writer_end] {
                assert!(
                    w / 64 != buf / 64 && w / 64 != buf_end / 64,
                    "shift {shift}: the writer lock at {w:#x} shares a line with buf at {buf:#x}"
                );
            }
            // SAFETY: written above, dropped once.
            unsafe { p.drop_in_place() };
        }
        assert!(
            align_of::<RawArray<u32>>() <= 16,
            "a host's 16-aligned memory must be able to hold an array"
        );
    }

    /// Past `isize::MAX` live exports, exporting aborts the process instead of letting the
    /// count wrap.
    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn export_count_overflow_aborts_the_process() {
        const CHILD: &str = "FTARRAY_EXPORT_OVERFLOW_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let a = RawArray::<u8>::new();
            a.exports.store(isize::MAX as usize + 1, Relaxed);
            let _ = a.lock().export().unwrap();
            // Not reached when the overflow aborts.
            std::process::exit(0);
        }
        assert_child_aborts(
            &test_path!("export_count_overflow_aborts_the_process"),
            CHILD,
            "1",
        );
    }
}
