//! One allocation: a header followed by the cells (64-bit atomic units), and the growth policy.
//!
//! This is the `RawVec` layer: it allocates, fills and frees blocks and chooses their
//! capacities, and never decides what their contents mean, who may touch them, or when they may
//! be freed. It knows words (`W: Word`), not element types, so it is compiled once per word
//! size. Locks, versions and epochs are the business of the files beside it.
//!
//! ```text
//!           +---------+-----+------------+-------------+---------+--------+-----+----------+
//!  (lead)   | version | len | cap: usize | lead: usize | padding | unit 0 | ... | unit n-1 |
//!           +---------+-----+------------+-------------+---------+--------+-----+----------+
//!  0-48 B    Header (repr C, align 64: one cache line)            [AtomicU64; n], n = ⌈cap / PER_UNIT⌉
//! ```
//!
//! The allocation is 16-byte aligned and starts `lead` bytes before the header, which sits on
//! the first 64-byte boundary inside it (see `ALLOC_ALIGN`).
//!
//! The units hold the `cap` words packed in memory order (see `cells.rs`); the slots of the last
//! unit past `cap` are padding. Every byte of a published block's units is initialised (words
//! past `len` hold zero or a stale value), so `&[AtomicU64]` over all of them is always valid to
//! form and to load from.

use super::cells::Cells;
#[cfg(loom)]
use super::cells::Sharing;
use super::pool;
use super::unit::{UNIT_BYTES, Unit, units_for};
use crate::element::Word;
use crate::error::Error;
use crate::sync::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{AtomicUsize, InitCell, fence};
use crossbeam_epoch::Pointable;
use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::ptr::{self, NonNull};

/// Copies `n` bytes from `src` to `dst` (which do not overlap): `memcpy`, except when `dst`
/// lies just above `src` modulo 4 KiB.
///
/// Then every load of a forward copy falls on the page offsets of the stores just made, and
/// the CPU's memory disambiguation (which compares only the low 12 address bits) stalls each
/// load behind those stores: "4K aliasing". Measured on this project's machine, copying 4 KiB
/// took ~1,400 ns instead of ~50 ns when `dst - src` was 8 to 24 modulo 4096, with glibc's
/// `memcpy` and with a plain loop alike; it hit `update` of a 1,024-element `u32` array on
/// most runs, since a block's cells start 24 bytes into their allocation and the snapshot's
/// `Vec` at 0. Copying backwards in that case reads ahead of no recent store (~90 ns).
#[cfg(not(loom))]
#[inline]
unsafe fn copy_bytes(src: *const u8, dst: *mut u8, n: usize) {
    const CHUNK: usize = 32;
    let gap = (dst as usize).wrapping_sub(src as usize) % 4096;
    if n < 256 || !(1..2 * CHUNK).contains(&gap) {
        // SAFETY: the caller guarantees both ranges are valid and do not overlap.
        unsafe { ptr::copy_nonoverlapping(src, dst, n) };
        return;
    }
    let mut end = n;
    while end >= CHUNK {
        end -= CHUNK;
        // SAFETY: `end..end + CHUNK` is inside both ranges; unaligned reads and writes of a
        // byte array are always allowed.
        unsafe {
            let chunk = src.add(end).cast::<[u8; CHUNK]>().read_unaligned();
            dst.add(end).cast::<[u8; CHUNK]>().write_unaligned(chunk);
        }
    }
    // SAFETY: the first `end` (< CHUNK) bytes, inside both ranges.
    unsafe { ptr::copy_nonoverlapping(src, dst, end) };
}

/// The fixed-size front of a block, alone on its cache line.
///
/// Every read loads `version` twice and `len` once; every step stores them. Aligning the header
/// to 64 bytes (its size then rounds up to 64) keeps the first units off that line, so a
/// writer storing the first elements does not take the line from readers that only need the
/// header, and readers validating do not take it back from the writer mid-append.
#[repr(C, align(64))]
pub(crate) struct Header {
    /// The block's seqlock word. Only a writer holding the array's lock changes it.
    ///
    /// | value            | meaning                                                        |
    /// |------------------|----------------------------------------------------------------|
    /// | even `2k`        | quiescent: `len` and the cells are a state that existed        |
    /// | odd `2k + 1`     | a writer is inside an in-place step on this block              |
    /// | changed at all   | a reader that saw `2k` before and something else after retries |
    ///
    /// It starts at 0 when the block is built and only ever grows by one per store (wrapping).
    pub(crate) version: AtomicUsize,
    /// The published length: the cells `0..len` are the array's elements. Always `<= cap`:
    /// readers index the cells below a length they loaded without checking it against `cap`
    /// ([`Block::cells_to`]), so this is a safety invariant, asserted where it is stored.
    pub(crate) len: AtomicUsize,
    /// The number of words. Fixed when the block is allocated; always `<= isize::MAX / size`.
    cap: InitCell<usize>,
    /// How many bytes the allocation starts before the header (0 to [`SPARE`]; see [`layout`]).
    lead: InitCell<usize>,
    /// Whether the allocation is a mapping of its own (`pool::alloc_zeroed`).
    mapped: InitCell<bool>,
    /// Owners of the block, in the low half of the word: 1 for the array it belongs to (from
    /// its building until the epoch collector lets go of it after its retirement, or the
    /// array's drop), plus 1 per [`Snapshot`](crate::Snapshot) sharing it. Owner increments
    /// happen only under the array's writer lock while the array still owns it (so the count is
    /// never 0 then). In the high half ([`KEEP`] each): holds ([`acquire_keep`]), which keep the
    /// block allocated for a reader without making it shared: writers still write it in place.
    /// The block is freed when the whole word drops to 0 ([`release`], [`release_keep`]);
    /// decrements happen anywhere.
    refs: AtomicUsize,
}

/// A block as readers and writers see it: the header plus all its units.
///
/// It is a dynamically sized type whose slice metadata is the number of units; `&Block`
/// therefore covers the whole allocation, so no pointer arithmetic past a reference is ever
/// needed.
#[repr(C)]
pub(crate) struct Block<W: Word> {
    header: Header,
    _words: PhantomData<W>,
    units: [Unit],
}

/// The alignment blocks are allocated with. The allocator is asked for this much and the block
/// is placed at the first 64-byte boundary inside the allocation, rather than asking for 64.
///
/// With std's system allocator an alignment above 16 goes through `posix_memalign`, which in
/// glibc costs about four times `malloc` (callgrind: ~460 instructions against ~120, measured
/// on a push into an empty array, which allocates at every doubling). 48 spare bytes per block
/// buy the fast path.
const ALLOC_ALIGN: usize = 16;

/// Bytes allocated beyond the block itself, to reach a 64-byte boundary from any
/// `ALLOC_ALIGN`-aligned address.
const SPARE: usize = align_of::<Header>() - ALLOC_ALIGN;

/// What to allocate for a block of `cap` words (the block's own size plus [`SPARE`], aligned
/// to [`ALLOC_ALIGN`]), and the offset of its first unit from the header.
fn layout<W: Word>(cap: usize) -> Result<(Layout, usize), Error> {
    const { assert!(align_of::<Header>() > ALLOC_ALIGN && align_of::<Unit>() <= ALLOC_ALIGN) };
    let units = units_for::<W>(cap).ok_or(Error::CapacityOverflow)?;
    let cells = Layout::array::<Unit>(units).map_err(|_| Error::CapacityOverflow)?;
    let (block, offset) = Layout::new::<Header>()
        .extend(cells)
        .map_err(|_| Error::CapacityOverflow)?;
    let size = block
        .pad_to_align()
        .size()
        .checked_add(SPARE)
        .ok_or(Error::CapacityOverflow)?;
    let whole = Layout::from_size_align(size, ALLOC_ALIGN).map_err(|_| Error::CapacityOverflow)?;
    Ok((whole, offset))
}

/// The largest capacity whose block layout is valid, for clamping growth.
pub(crate) fn max_capacity<W: Word>() -> usize {
    (isize::MAX as usize - size_of::<Header>() - 2 * <Block<W> as Pointable>::ALIGN - UNIT_BYTES)
        / size_of::<W>()
}

impl<W: Word> Block<W> {
    /// The seqlock word.
    #[inline(always)]
    pub(crate) fn version(&self) -> &AtomicUsize {
        &self.header.version
    }

    /// The published length.
    #[inline(always)]
    pub(crate) fn len(&self) -> &AtomicUsize {
        &self.header.len
    }

    /// The block at `addr`.
    ///
    /// # Safety
    ///
    /// `addr` came from [`Pointable::init`] (or [`RawBlock::into_addr`]) for this type, and the
    /// block stays live for `'a` (the caller owns a reference to it, or is pinned while the
    /// array still links it).
    #[inline]
    pub(crate) unsafe fn at<'a>(addr: usize) -> &'a Block<W> {
        // SAFETY: as the caller guarantees.
        unsafe { &*Self::from_addr(addr) }
    }

    /// The block's address, as [`Pointable::init`] gave it (what [`at`](Self::at) and
    /// [`release`] take).
    #[inline]
    pub(crate) fn addr(&self) -> usize {
        ptr::from_ref(self).cast::<u8>().expose_provenance()
    }

    /// The owners and holds (see [`Header::refs`]; [`owners`] takes the owners out of a value
    /// loaded from it): more than 1 owner while a snapshot shares the block, which then must
    /// not be written.
    #[inline(always)]
    pub(crate) fn refs(&self) -> &AtomicUsize {
        &self.header.refs
    }

    /// The number of words.
    #[inline(always)]
    pub(crate) fn cap(&self) -> usize {
        self.header.cap.get()
    }

    /// All `cap` words.
    #[inline(always)]
    pub(crate) fn cells(&self) -> Cells<'_, W> {
        // Unchecked: the check would compare `cap` with the unit count derived from it (by
        // `from_addr`), a comparison the compiler cannot fold, on every read.
        // SAFETY: `from_addr` gave `units` the length `units_for(cap)`, which did not overflow
        // (the block was allocated for it, and `cap` never changes), so it holds `cap` words.
        unsafe { Cells::new_unchecked(&self.units, self.cap()) }
    }

    /// The first `len` words, for a reader that loaded `len` from this block's header.
    ///
    /// # Safety
    ///
    /// `len <= self.cap()`. Every length a block's header ever holds is (the builder fills at
    /// most `cap` words, and [`store_len`](super::seqlock::store_len) asserts it), so a length
    /// loaded from the block itself needs no check, whatever state it was read in.
    #[inline(always)]
    pub(crate) unsafe fn cells_to(&self, len: usize) -> Cells<'_, W> {
        debug_assert!(len <= self.cap(), "a block's length past its capacity");
        // SAFETY: `units` holds `cap` words (see `cells`), and `len <= cap` (the caller).
        unsafe { Cells::new_unchecked(&self.units, len) }
    }

    /// The size of the allocation in bytes (what retiring this block will eventually give
    /// back). For a reserved block ([`build_grown`]) that is address space more than memory:
    /// counting it whole keeps the back-pressure on writers (`crate::reclaim`) bounding both.
    #[inline]
    pub(crate) fn alloc_size(&self) -> usize {
        size_of_val(self) + SPARE
    }

    /// Copies the values of `cells[range]` to `dst` with plain (non-atomic) reads, as bytes in
    /// native order.
    ///
    /// # Safety
    ///
    /// `dst` is valid for writes of `range.len() * size_of::<W>()` bytes and does not overlap
    /// the block. No thread may write any cell in `range` while this runs (the caller holds the
    /// array's writer lock, and writes through an export must be atomic or exclusive).
    /// Concurrent atomic *loads* are fine: reads never race with reads.
    pub(crate) unsafe fn copy_out(&self, range: Range<usize>, dst: *mut u8) {
        let src = self.cells().slice(range);
        #[cfg(not(loom))]
        // SAFETY: the words are bytes of initialised units, at `src.as_ptr()` onwards, in
        // memory order; the caller guarantees `dst` is valid for that many bytes and that
        // nobody writes `src` concurrently, so plain reads of the units' bytes do not race.
        unsafe {
            copy_bytes(src.as_ptr(), dst, src.len() * size_of::<W>());
        }
        #[cfg(loom)]
        for (k, v) in src.iter().enumerate() {
            // SAFETY: as above; `dst` has room for element `k`, written unaligned.
            unsafe { dst.cast::<W>().add(k).write_unaligned(v) };
        }
    }

    /// A pointer to the block addressed by `addr` (as stored in `crossbeam_epoch::Atomic`).
    ///
    /// # Safety
    ///
    /// `addr` came from [`Pointable::init`] for this type and has not been dropped.
    unsafe fn from_addr(addr: usize) -> *mut Block<W> {
        let header: *mut Header = ptr::with_exposed_provenance_mut(addr);
        // SAFETY: the caller guarantees a live block; `cap` is written once before the block is
        // published and never changes, so this plain read cannot race.
        let cap = unsafe { (*header).cap.get() };
        // The block was allocated for `cap` words, so the unit count did not overflow then.
        let units = units_for::<W>(cap).unwrap_or(0);
        ptr::slice_from_raw_parts_mut(header.cast::<Unit>(), units) as *mut Block<W>
    }
}

impl<W: Word> Pointable for Block<W> {
    const ALIGN: usize = {
        let (h, c) = (align_of::<Header>(), align_of::<Unit>());
        if h > c { h } else { c }
    };

    /// A block is built (fallibly) by [`BlockBuilder`] before it is handed to the epoch
    /// machinery, so allocation failure can be reported instead of aborting.
    type Init = RawBlock<W>;

    unsafe fn init(raw: RawBlock<W>) -> usize {
        let raw = std::mem::ManuallyDrop::new(raw);
        raw.ptr.as_ptr().expose_provenance()
    }

    unsafe fn deref<'a>(addr: usize) -> &'a Self {
        // SAFETY: the caller (crossbeam-epoch) guarantees `addr` is a live block, and blocks are
        // only mutated through their atomics, so a shared reference is sound.
        unsafe { &*Self::from_addr(addr) }
    }

    unsafe fn deref_mut<'a>(addr: usize) -> &'a mut Self {
        // SAFETY: the caller guarantees a live block that nobody else references.
        unsafe { &mut *Self::from_addr(addr) }
    }

    unsafe fn drop(addr: usize) {
        // SAFETY: the caller guarantees a live block that nobody references any more; it was
        // produced by `init` from a `RawBlock`, whose ownership we take back here.
        drop(unsafe { RawBlock::<W>::from_addr(addr) });
    }
}

/// One hold in [`Header::refs`]. On 64-bit targets holds count in the top 16 bits of the word
/// and owners in the other 48 (a snapshot count is never near 2^47, where `acquire` aborts).
/// On narrower targets holds would leave owners too few bits (a program can keep millions of
/// snapshots of one block alive), so there the hold field is the top bit alone and
/// [`MAX_KEEPS`] is 0: [`acquire_keep`] refuses every hold and reads stay pinned ones.
pub(crate) const KEEP: usize = if usize::BITS >= 64 {
    1 << 48
} else {
    1 << (usize::BITS - 1)
};

/// [`acquire_keep`] refuses a hold when the block already has this many (half the field, so
/// the count never reaches the field's top: holds are an optimisation, a refusal costs a pin).
const MAX_KEEPS: usize = if usize::BITS >= 64 {
    (usize::MAX / KEEP) / 2
} else {
    0
};

/// The owners in a value of [`Header::refs`] (the holds masked off).
#[inline(always)]
pub(crate) const fn owners(refs: usize) -> usize {
    refs & (KEEP - 1)
}

/// Lets go of one owner of the block at `addr` (see [`Header::refs`]), and frees it if that
/// was the last reference of any kind. Returns whether it freed.
///
/// # Safety
///
/// `addr` came from [`Pointable::init`] for this type and the caller owns one of the block's
/// references, which it gives up: the array's own, only once no reader can reach the block any
/// more (the epoch collector decided so, or the array is being dropped), or a snapshot's.
pub(crate) unsafe fn release<W: Word>(addr: usize) -> bool {
    // SAFETY: the caller owns a reference, so the block is live.
    let block = unsafe { &*Block::<W>::from_addr(addr) };
    // Release: whatever this owner did with the block (a snapshot's plain reads of the cells)
    // happens before the free below, or before a writer that sees the count drop to 1 (with
    // Acquire) writes the cells in place again.
    if block.refs().fetch_sub(1, Release) != 1 {
        return false;
    }
    // Acquire: pairs with the other owners' Release decrements, so their reads happen before
    // the free (as `Arc`'s drop does).
    fence(Acquire);
    // SAFETY: the last reference is gone: nobody else references the block, and it came from
    // `init`, so we may take it back and drop it.
    drop(unsafe { RawBlock::<W>::from_addr(addr) });
    true
}

/// Adds an owner to a block the caller already owns a reference to.
///
/// Aborts the process past `isize::MAX` owners, as `Arc` does: only reachable by leaking
/// snapshots (`mem::forget`) billions of times, and a wrapped count would free the block under
/// its owners.
pub(crate) fn acquire<W: Word>(block: &Block<W>) {
    // Relaxed: the new owner is made from an existing one (a snapshot from the array's lock or
    // from another snapshot), which keeps the block alive meanwhile; as `Arc::clone`.
    if owners(block.refs().fetch_add(1, Relaxed)) >= KEEP / 2 {
        std::process::abort();
    }
}

/// Adds a hold to a block that is alive for the whole call: loaded from its array's pointer
/// under an epoch pin (the array's own reference is released only after that pin ends), or
/// already held by the caller. The block stays allocated until the hold is given back with
/// [`release_keep`]; unlike an owner, a hold does not stop writers writing the block in place.
///
/// Returns false, adding nothing, when the block already has [`MAX_KEEPS`] holds (always on
/// targets narrower than 64 bits; see [`KEEP`]).
#[must_use]
pub(crate) fn acquire_keep<W: Word>(block: &Block<W>) -> bool {
    // A compare-exchange, not an add checked afterwards: with an add, threads that all went
    // over the limit at once could carry the field past its top and wrap it.
    // Relaxed: as in `acquire`; whoever frees the block synchronizes with the Release
    // decrements, and the holder reads the cells only through validated (atomic) reads.
    let refs = block.refs();
    let mut current = refs.load(Relaxed);
    loop {
        if current / KEEP >= MAX_KEEPS {
            return false;
        }
        match refs.compare_exchange_weak(current, current + KEEP, Relaxed, Relaxed) {
            Ok(_) => return true,
            Err(now) => current = now,
        }
    }
}

/// Gives back one hold of the block at `addr`, and frees it if that was the last reference of
/// any kind. Returns whether it freed.
///
/// # Safety
///
/// `addr` came from [`Pointable::init`] for this type and the caller owns one of the block's
/// holds ([`acquire_keep`]), which it gives up.
pub(crate) unsafe fn release_keep<W: Word>(addr: usize) -> bool {
    // SAFETY: the caller owns a hold, so the block is live.
    let block = unsafe { &*Block::<W>::from_addr(addr) };
    // Release, and the Acquire fence below: as in `release`.
    if block.refs().fetch_sub(KEEP, Release) != KEEP {
        return false;
    }
    fence(Acquire);
    // SAFETY: the last reference is gone (no owner, no other hold): nobody else references the
    // block, and it came from `init`, so we may take it back and drop it.
    drop(unsafe { RawBlock::<W>::from_addr(addr) });
    true
}

/// An owned, fully initialised block that is not (or no longer) shared with anyone.
pub(crate) struct RawBlock<W: Word> {
    ptr: NonNull<Header>,
    _cells: PhantomData<W>,
}

impl<W: Word> RawBlock<W> {
    /// Gives up the ownership as an address (as [`Pointable::init`] does), which [`release`]
    /// takes back.
    #[inline]
    pub(crate) fn into_addr(self) -> usize {
        let this = std::mem::ManuallyDrop::new(self);
        this.ptr.as_ptr().expose_provenance()
    }

    /// # Safety
    ///
    /// `addr` came from `Pointable::init` or [`into_addr`](Self::into_addr) for a block of
    /// this word size, is live, and the caller takes over its ownership.
    #[inline]
    pub(crate) unsafe fn from_addr(addr: usize) -> Self {
        let ptr: *mut Header = ptr::with_exposed_provenance_mut(addr);
        RawBlock {
            // SAFETY: addresses handed out by `init` are non-null allocations.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            _cells: PhantomData,
        }
    }
}

impl<W: Word> Drop for RawBlock<W> {
    fn drop(&mut self) {
        let addr = self.ptr.as_ptr().expose_provenance();
        // SAFETY: we own a live, fully initialised block.
        let block = unsafe { Block::<W>::from_addr(addr) };
        #[cfg(loom)]
        {
            // Under loom, a freed block is poisoned and leaked instead of deallocated: loom does
            // not track plain memory, but it does track these atomic stores, so a model in which
            // a reader still uses a block after the collector freed it sees the poison (a value
            // nobody stored, a length past every real one) and fails its assertions.
            // SAFETY: as above.
            let block = unsafe { &*block };
            block
                .len()
                .store(usize::MAX / 2, crate::sync::Ordering::Relaxed);
            for unit in &block.units {
                unit.store(
                    u64::from_ne_bytes([0xA5; UNIT_BYTES]),
                    crate::sync::Ordering::Relaxed,
                );
            }
        }
        // `pool::free`'s contract holds too: a layout the pool keeps was allocated zeroed (or
        // taken from the pool, initialised), and stores since then only wrote initialised bytes.
        #[cfg(not(loom))]
        // SAFETY: same; `cap` is the capacity the block was allocated with, so its layout is
        // the one `layout` returned then (it succeeded then, so it succeeds now), and the
        // allocation starts `lead` bytes before the header (`BlockBuilder::allocate`).
        unsafe {
            let (layout, _) = layout::<W>((*block).cap()).unwrap_unchecked();
            let lead = (*block).header.lead.get();
            let mapped = (*block).header.mapped.get();
            // std's atomics need no drop; this keeps the code honest if that ever changes.
            ptr::drop_in_place(block);
            pool::free(self.ptr.cast::<u8>().sub(lead), layout, mapped);
        }
    }
}

/// Builds a block front to back: the words `0..filled` hold values, the rest are initialised
/// by [`finish`](BlockBuilder::finish) (zeroed, unless the allocation was initialised
/// already). Nothing else can see it until it is published.
///
/// Outside loom the builder writes the units' memory as plain bytes (it is not shared yet, so
/// this is a memcpy); under loom every unit must be an object loom tracks, so `new` constructs
/// them all (zeroed) and the builder stores through them.
pub(crate) struct BlockBuilder<W: Word> {
    /// Where the header goes: the first 64-byte boundary in the allocation, which starts
    /// `lead` bytes before it.
    header: NonNull<Header>,
    lead: usize,
    /// Whether the allocation is a mapping of its own ([`Header::mapped`]).
    mapped: bool,
    units: *mut Unit,
    cap: usize,
    filled: usize,
    /// Whether the units past `filled` are initialised already (a zeroed allocation, or one
    /// the pool kept; written only front to back), so `finish` need not zero them. (Under loom
    /// every unit is constructed by `new` and `finish` stores through them all.)
    #[cfg_attr(loom, allow(dead_code))]
    spare_ready: bool,
    _words: PhantomData<W>,
}

impl<W: Word> BlockBuilder<W> {
    /// Allocates an empty block with room for `cap` words.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`] if the block would exceed `isize::MAX` bytes,
    /// [`Error::AllocFailed`] if the allocator refuses.
    pub(crate) fn new(cap: usize) -> Result<Self, Error> {
        Self::allocate(cap, false)
    }

    /// [`new`](Self::new), for a block with room reserved ([`build_grown`]): only a mapping of
    /// its own will do (whose untouched room costs no memory); [`Error::AllocFailed`] if it
    /// cannot be one.
    fn new_reserved(cap: usize) -> Result<Self, Error> {
        Self::allocate(cap, true)
    }

    #[inline(always)]
    fn allocate(cap: usize, map_only: bool) -> Result<Self, Error> {
        let (whole, offset) = layout::<W>(cap)?;
        let refused = Error::AllocFailed {
            bytes: whole.size(),
        };
        // A large allocation comes zeroed from the allocator, which for fresh pages costs
        // nothing until they are touched: then `finish` need not write the spare capacity, and
        // its pages stay out of memory until the array grows into them. One the pool kept was
        // such an allocation (it keeps only sizes this allocates zeroed), so every byte of its
        // units is initialised, and its spare units hold stale words of the block freed there.
        // No element is ever read from spare capacity (a truncation leaves words there too),
        // but for words narrower than a unit, the unit holding the last element is exported
        // whole (`RawExport::storage`), and its spare words would show another array's bytes
        // to a host reading the whole unit: those blocks are zeroed as new ones are. Blocks of
        // 8-byte words have no such unit.
        let large = whole.size() >= pool::MIN_BYTES;
        let (base, mapped, spare_ready) = match pool::take(whole) {
            Some((base, false)) if map_only => {
                // A heap allocation (made while mappings were refused) is no room: back.
                // SAFETY: taken out of the cache, which owned it; initialised, unused.
                unsafe { pool::free(base, whole, false) };
                return Err(refused);
            }
            Some((base, mapped)) => (base, mapped, size_of::<W>() == UNIT_BYTES),
            None if large => {
                let (base, mapped) = pool::alloc_zeroed(whole, map_only).ok_or(refused)?;
                (base, mapped, true)
            }
            None => {
                // SAFETY: the layout is never zero-sized: it always holds a header.
                let base = NonNull::new(unsafe { alloc::alloc(whole) }).ok_or(refused)?;
                (base, false, false)
            }
        };
        // The distance to the next 64-byte boundary: at most `align_of::<Header>() -
        // ALLOC_ALIGN`, since the allocator honours `ALLOC_ALIGN`. Checked for real, because
        // the header is written there: an allocator breaking its contract must not make us
        // write past the allocation.
        let lead = base.as_ptr().addr().wrapping_neg() & (align_of::<Header>() - 1);
        assert!(
            lead <= SPARE,
            "the allocator returned a block aligned to less than {ALLOC_ALIGN} bytes"
        );
        // SAFETY: `lead` plus the block's own size fits in `whole` (see `layout`).
        let header = unsafe { base.add(lead) }.cast::<Header>();
        // SAFETY: `offset` is inside the block (or its end, when `cap == 0`).
        let units = unsafe { header.as_ptr().cast::<u8>().add(offset) }.cast::<Unit>();
        #[cfg(loom)]
        for k in 0..units_for::<W>(cap).unwrap_or(0) {
            // SAFETY: unit `k` is inside the allocation and not yet initialised.
            unsafe { ptr::write(units.add(k), Unit::new(0)) };
        }
        Ok(BlockBuilder {
            header,
            lead,
            mapped,
            units,
            cap,
            filled: 0,
            spare_ready,
            _words: PhantomData,
        })
    }

    /// The number of words still free.
    #[inline]
    pub(crate) fn room(&self) -> usize {
        self.cap - self.filled
    }

    /// The units under loom, where they are all constructed from the start.
    #[cfg(loom)]
    fn cells(&self) -> Cells<'_, W> {
        let units = units_for::<W>(self.cap).unwrap_or(0);
        // SAFETY: every unit was constructed by `new`, and nobody else can see the block yet,
        // so a shared slice over them is sound.
        Cells::new(
            unsafe { std::slice::from_raw_parts(self.units, units) },
            self.cap,
        )
    }

    /// Writes the words whose native-order bytes are `src` at word `at` onwards.
    fn write_at(&mut self, at: usize, src: &[u8]) {
        debug_assert!(at * size_of::<W>() + src.len() <= self.cap * size_of::<W>());
        #[cfg(not(loom))]
        // SAFETY: the destination bytes are inside the allocation's units (the callers check
        // the room); any byte pattern is valid in an atomic integer, and nobody else can see
        // the block yet, so plain writes do not race.
        unsafe {
            copy_bytes(
                src.as_ptr(),
                self.units.cast::<u8>().add(at * size_of::<W>()),
                src.len(),
            );
        }
        #[cfg(loom)]
        self.cells()
            .slice(at..at + src.len() / size_of::<W>())
            .store_bytes(src, Sharing::Exclusive);
    }

    /// Appends the elements whose native-order bytes are `src`.
    ///
    /// # Panics
    ///
    /// If `src` is not a whole number of words or does not fit (bugs in the caller).
    pub(crate) fn push_bytes(&mut self, src: &[u8]) {
        assert!(
            src.len() % size_of::<W>() == 0,
            "BlockBuilder: a partial element"
        );
        let n = src.len() / size_of::<W>();
        assert!(n <= self.room(), "BlockBuilder overflow");
        self.write_at(self.filled, src);
        self.filled += n;
    }

    /// Appends `n` copies of `value`.
    pub(crate) fn push_repeat(&mut self, value: W, n: usize) {
        assert!(n <= self.room(), "BlockBuilder overflow");
        for k in 0..n {
            self.write_at(self.filled + k, bytemuck::bytes_of(&value));
        }
        self.filled += n;
    }

    /// Appends `n` words whose native-order bytes `load` writes, all of them, into the slice
    /// it is given: the words one attempt of a validated read of another array sees, loaded
    /// unit by unit straight into this block (the one copy a slice, a copy, a repetition or a
    /// concatenation needs; through a `Vec` it was two, and an allocation).
    ///
    /// # Panics
    ///
    /// If the words do not fit (a bug in the caller).
    pub(crate) fn push_loaded(&mut self, n: usize, load: impl FnOnce(&mut [MaybeUninit<u8>])) {
        assert!(n <= self.room(), "BlockBuilder overflow");
        let nbytes = n * size_of::<W>();
        #[cfg(not(loom))]
        {
            // SAFETY: the destination words `filled..filled + n` are inside our allocation and
            // nobody else sees them; any byte may be written through `MaybeUninit`, and `load`
            // writes every byte of them (its contract).
            let out = unsafe {
                std::slice::from_raw_parts_mut(
                    self.units
                        .cast::<u8>()
                        .add(self.filled * size_of::<W>())
                        .cast::<MaybeUninit<u8>>(),
                    nbytes,
                )
            };
            load(out);
        }
        #[cfg(loom)]
        {
            // Loom's units are atomics from the start: load into a buffer, then store.
            let mut buf = vec![MaybeUninit::<u8>::uninit(); nbytes];
            load(&mut buf);
            // SAFETY: `load` initialised every byte (its contract).
            let bytes: Vec<u8> = buf
                .into_iter()
                .map(|b| unsafe { b.assume_init() })
                .collect();
            self.write_at(self.filled, &bytes);
        }
        self.filled += n;
    }

    /// Appends the words filled so far `times - 1` more times (`a * n`), by doubling copies
    /// within this block, which nobody else sees yet.
    ///
    /// # Panics
    ///
    /// If they do not fit (a bug in the caller).
    pub(crate) fn repeat_filled(&mut self, times: usize) {
        let n = self.filled;
        let total = n.checked_mul(times).expect("BlockBuilder overflow");
        assert!(total <= self.cap, "BlockBuilder overflow");
        if n == 0 || times <= 1 {
            return;
        }
        #[cfg(not(loom))]
        {
            let base = self.units.cast::<u8>();
            let size = size_of::<W>();
            while self.filled < total {
                let k = self.filled.min(total - self.filled);
                // SAFETY: both ranges are inside our allocation (`total <= cap`), they do not
                // overlap (`0..k` and `filled..filled + k` with `k <= filled`), the source is
                // filled, and nobody else sees the block.
                unsafe { ptr::copy_nonoverlapping(base, base.add(self.filled * size), k * size) };
                self.filled += k;
            }
        }
        #[cfg(loom)]
        {
            let cells = self.cells();
            for k in n..total {
                let v = cells.get(k % n).expect("filled");
                cells.slice(k..k + 1).store(0, v, Sharing::Exclusive);
            }
            self.filled = total;
        }
    }

    /// Replaces the value of word `index`, which is already filled.
    ///
    /// # Panics
    ///
    /// If the word is not filled yet.
    pub(crate) fn overwrite(&mut self, index: usize, value: W) {
        assert!(
            index < self.filled,
            "BlockBuilder: overwrite past the filled cells"
        );
        self.write_at(index, bytemuck::bytes_of(&value));
    }

    /// Appends the values of `src.cells()[range]`.
    ///
    /// # Safety
    ///
    /// No thread writes those cells while this runs (see [`Block::copy_out`]).
    pub(crate) unsafe fn push_block(&mut self, src: &Block<W>, range: Range<usize>) {
        let n = range.len();
        assert!(n <= self.room(), "BlockBuilder overflow");
        #[cfg(not(loom))]
        // SAFETY: the destination words `filled..filled + n` are inside our allocation and
        // nobody else sees them; the source is a distinct live block whose bytes nobody writes
        // concurrently (the caller's guarantee), so this plain copy does not race.
        unsafe {
            src.copy_out(
                range,
                self.units.cast::<u8>().add(self.filled * size_of::<W>()),
            );
        }
        #[cfg(loom)]
        {
            let dst = self.cells().slice(self.filled..self.filled + n);
            for (k, v) in src.cells().slice(range).iter().enumerate() {
                dst.store(k, v, Sharing::Exclusive);
            }
        }
        self.filled += n;
    }

    /// Zeroes the unused words (and the padding after them) and writes the header: a block of
    /// length `filled`.
    pub(crate) fn finish(self) -> RawBlock<W> {
        let this = std::mem::ManuallyDrop::new(self);
        #[cfg(not(loom))]
        if !this.spare_ready {
            let end = units_for::<W>(this.cap).unwrap_or(0) * UNIT_BYTES;
            let from = this.filled * size_of::<W>();
            // SAFETY: the bytes `from..end` of the units are inside the allocation of that
            // layout (`allocate`), which nobody else sees yet; all-zero bytes are a valid atomic
            // integer.
            unsafe {
                let spare = this.units.cast::<u8>().add(from);
                if this.mapped {
                    pool::zero(true, spare, end - from);
                } else {
                    ptr::write_bytes(spare, 0, end - from);
                }
            }
        }
        #[cfg(loom)]
        this.cells()
            .slice(this.filled..this.cap)
            .fill(<W as bytemuck::Zeroable>::zeroed(), Sharing::Exclusive);
        let header = this.header;
        // SAFETY: `header` is inside the allocation and aligned for a header (`allocate`).
        unsafe {
            ptr::write(
                header.as_ptr(),
                Header {
                    version: AtomicUsize::new(0),
                    len: AtomicUsize::new(this.filled),
                    cap: InitCell::new(this.cap),
                    lead: InitCell::new(this.lead),
                    mapped: InitCell::new(this.mapped),
                    refs: AtomicUsize::new(1),
                },
            )
        };
        RawBlock {
            ptr: header,
            _cells: PhantomData,
        }
    }
}

impl<W: Word> Drop for BlockBuilder<W> {
    /// Frees a block that was never finished (an error or panic between allocation and publish).
    fn drop(&mut self) {
        // SAFETY: under loom every unit was constructed by `new` (outside loom the units are
        // plain memory with nothing to drop); the layout is the one we allocated with, and the
        // allocation starts `lead` bytes before the header; its bytes are initialised if the
        // pool keeps that layout, as in `RawBlock`'s drop.
        unsafe {
            #[cfg(loom)]
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.units,
                units_for::<W>(self.cap).unwrap_or(0),
            ));
            let (layout, _) = layout::<W>(self.cap).unwrap_unchecked();
            pool::free(self.header.cast::<u8>().sub(self.lead), layout, self.mapped);
        }
    }
}

/// The capacity for a block that must hold `needed` elements and now holds `cap`: `cap` if it
/// is enough, otherwise at least double (as std's `RawVec`), never below a small floor, never
/// above [`max_capacity`].
///
/// # Errors
///
/// [`Error::CapacityOverflow`] if `needed` cells cannot be allocated at all.
pub(crate) fn grown_capacity<W: Word>(cap: usize, needed: usize) -> Result<usize, Error> {
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

/// How many times the room growth asks for a block reaches when that block is a mapping
/// of its own ([`pool::maps`]).
const RESERVE_FACTOR: usize = 8;

/// The most bytes a reservation adds beyond what growth asks for.
const RESERVE_MAX_EXTRA: usize = 4 << 30;

/// The capacity to try first for a block that replaces one of `cap` words, where growth gives
/// `plain`: `plain` times [`RESERVE_FACTOR`] (at most [`RESERVE_MAX_EXTRA`] bytes more) when
/// the array is growing step by step (`plain` doubles `cap`) and such a block would be a
/// mapping of its own, whose untouched pages cost no memory; `None` otherwise.
///
/// Only doubling reserves: an array filled in one go (growth to exactly what it needs) gets
/// what it asked for, and a block rebuilt at the same capacity (an insertion, a copy a
/// snapshot forces) must not multiply the room each time.
fn reserved_capacity<W: Word>(cap: usize, plain: usize) -> Option<usize> {
    let bytes = plain.checked_mul(size_of::<W>())?;
    if bytes < pool::MAP_MIN_BYTES || cap == 0 || Some(plain) != cap.checked_mul(2) {
        return None;
    }
    if !pool::reserves() {
        return None;
    }
    let wide = plain
        .saturating_mul(RESERVE_FACTOR)
        .min(plain.saturating_add(RESERVE_MAX_EXTRA / size_of::<W>()))
        .min(max_capacity::<W>());
    (wide > plain).then_some(wide)
}

/// A block for an array whose block holds `cap` words and that must hold `needed`: allocated
/// with the capacity growth gives ([`grown_capacity`]), or, for a large array growing step by
/// step, a reservation several times that ([`reserved_capacity`]), and filled with `fill`.
///
/// A reserved block is a mapping whose pages take memory only as the array grows into them,
/// so the array keeps its block (and copies nothing) while it grows to several times the
/// size at which it moved: as CPython's `array`, whose `realloc` mostly grows in place. A
/// block cannot be grown in place here, since readers and exports may be in it. If the
/// system refuses the reservation (strict overcommit), the block growth gives is allocated
/// instead.
///
/// # Errors
///
/// As [`grown_capacity`] and [`BlockBuilder::new`].
pub(crate) fn build_grown<W: Word>(
    cap: usize,
    needed: usize,
    fill: &mut dyn FnMut(&mut BlockBuilder<W>),
) -> Result<RawBlock<W>, Error> {
    let plain = grown_capacity::<W>(cap, needed)?;
    let reserved = reserved_capacity::<W>(cap, plain).map(BlockBuilder::new_reserved);
    if let Some(Ok(mut builder)) = reserved {
        fill(&mut builder);
        return Ok(builder.finish());
    }
    build(plain, fill)
}

/// Allocates a block of `cap` cells and fills it with `fill`; nobody else can see it yet.
///
/// `fill` is a `dyn` reference so that this is compiled once per word size.
///
/// # Errors
///
/// As [`BlockBuilder::new`].
pub(crate) fn build<W: Word>(
    cap: usize,
    fill: &mut dyn FnMut(&mut BlockBuilder<W>),
) -> Result<RawBlock<W>, Error> {
    let mut builder = BlockBuilder::new(cap)?;
    fill(&mut builder);
    Ok(builder.finish())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::Ordering::Relaxed;
    use crossbeam_epoch::Owned;

    /// The header (version, length, capacity) fills one cache line of its own and the units
    /// start on the next, for every word size: the first elements a writer stores never
    /// share a line with the words every reader validates against.
    #[test]
    fn the_header_is_one_cache_line_and_the_units_start_after_it() {
        fn check<W: Word>() {
            // Many sizes, so the allocator hands out addresses at every offset from a line.
            for cap in (1..=64).chain([100, 1000, 5000]) {
                let b = Owned::<Block<W>>::init(build::<W>(cap, &mut |_| {}).unwrap());
                let start = std::ptr::from_ref(&*b).cast::<u8>() as usize;
                let first = b.units.as_ptr() as usize;
                assert_eq!(start % 64, 0, "block of {cap} not on a line boundary");
                assert_eq!(first - start, 64, "units of a block of {cap}");
                assert_eq!(b.cap(), cap);
            }
        }
        check::<u8>();
        check::<u16>();
        check::<u32>();
        check::<u64>();
    }

    fn make(parts: &[&[u32]], cap: usize) -> Owned<Block<u32>> {
        let mut b = BlockBuilder::<u32>::new(cap).unwrap();
        for p in parts {
            b.push_bytes(bytemuck::cast_slice(p));
        }
        Owned::init(b.finish())
    }

    #[test]
    fn builder_fills_prefix_and_zeroes_the_rest() {
        let block = make(&[&[1, 2], &[3]], 5);
        assert_eq!(block.cap(), 5);
        assert_eq!(block.len().load(Relaxed), 3);
        assert_eq!(block.version().load(Relaxed), 0);
        let cells: Vec<u32> = block.cells().iter().collect();
        assert_eq!(cells, [1, 2, 3, 0, 0]);
        assert_eq!(block.alloc_size(), layout::<u32>(5).unwrap().0.size());
    }

    #[test]
    fn copies_between_blocks_and_reads_back() {
        let a = make(&[&[10, 20, 30, 40]], 4);
        let mut b = BlockBuilder::<u32>::new(8).unwrap();
        // SAFETY: `a` is not shared with anyone.
        unsafe { b.push_block(&a, 1..3) };
        b.push_repeat(7, 2);
        let b: Owned<Block<u32>> = Owned::init(b.finish());
        let mut out = [99u32; 5];
        // SAFETY: `out[1..]` has room for 4 words; `b` is not shared with anyone.
        unsafe { b.copy_out(0..4, out[1..].as_mut_ptr().cast()) };
        assert_eq!(out, [99, 20, 30, 7, 7]);
    }

    /// The backward path (destination 1-63 bytes above the source modulo 4 KiB) and the
    /// forward one copy the same bytes, for lengths around the chunk size and threshold.
    #[test]
    fn copies_are_exact_at_every_page_offset_gap() {
        let src: Vec<u8> = (0..2048u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut dst = vec![0u8; 4096 + 2048 + 128];
        let sizes: &[usize] = if cfg!(miri) {
            &[0, 33, 256, 300]
        } else {
            &[0, 1, 31, 32, 255, 256, 257, 300, 1000, 2048]
        };
        let gaps: &[usize] = if cfg!(miri) {
            &[0, 8, 63, 64]
        } else {
            &[0, 1, 8, 16, 24, 32, 63, 64, 65, 4000]
        };
        for &n in sizes {
            for &gap in gaps {
                // Pick the destination offset whose address is `gap` above `src` mod 4096.
                let base = dst.as_ptr() as usize;
                let want = (src.as_ptr() as usize + gap) % 4096;
                let off = (want + 4096 - base % 4096) % 4096;
                dst.fill(0xEE);
                // SAFETY: `src[..n]` and `dst[off..off + n]` are valid, separate buffers.
                unsafe { copy_bytes(src.as_ptr(), dst.as_mut_ptr().add(off), n) };
                assert_eq!(&dst[off..off + n], &src[..n], "n {n}, gap {gap}");
                assert!(
                    dst[..off].iter().all(|&b| b == 0xEE),
                    "wrote before the range"
                );
                assert!(
                    dst[off + n..].iter().all(|&b| b == 0xEE),
                    "wrote past the range"
                );
            }
        }
    }

    #[test]
    fn zero_capacity_blocks_are_valid() {
        let block = make(&[], 0);
        assert_eq!(block.cap(), 0);
        assert_eq!(block.cells().len(), 0);
    }

    #[test]
    fn impossible_capacities_are_errors_not_aborts() {
        assert_eq!(
            BlockBuilder::<u64>::new(usize::MAX).err(),
            Some(Error::CapacityOverflow)
        );
        assert_eq!(
            BlockBuilder::<u32>::new(usize::MAX / 4 + 1).err(),
            Some(Error::CapacityOverflow)
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "asks the allocator for ~2^63 bytes")]
    fn refused_allocations_are_errors_not_aborts() {
        // `black_box`: with optimisations, an allocation whose pointer never escapes may be
        // assumed to succeed and removed together with its deallocation (LLVM does so in a
        // release build of this test), which would hide the refusal being tested.
        let built = std::hint::black_box(BlockBuilder::<u8>::new(max_capacity::<u8>()));
        assert!(matches!(built.err(), Some(Error::AllocFailed { .. })));
    }

    #[test]
    fn unfinished_builders_free_their_memory() {
        let mut b = BlockBuilder::<u16>::new(3).unwrap();
        b.push_bytes(&1u16.to_ne_bytes());
        drop(b); // Miri reports a leak or a bad free if this is wrong.
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
}
