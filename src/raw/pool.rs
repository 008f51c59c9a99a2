//! A small process-wide cache of freed large block allocations.
//!
//! An array that grows replaces its block (readers may still be in the old one, so it cannot be
//! `realloc`ed in place), and the collector frees the old block later. With the system
//! allocator, a program that builds large arrays over and over (fill, use, drop, repeat) then
//! gets fresh pages from the kernel for every block of every round: the allocator returns the
//! top of its heap to the kernel once enough is free there, and every page of the next block
//! is faulted in and zeroed again. Measured on a 2-core machine: 970 page faults per round that
//! grows an array of doubles to 200,000 elements by 1,000 at a time, most of the time spent in
//! the kernel, 12 us per `extend` against 0.3 us for CPython's `array`, whose `realloc` grows
//! one buffer in place.
//!
//! So a freed allocation of [`MIN_BYTES`] to [`MAX_BYTES`] is kept here instead of being
//! freed, up to [`SLOTS`] of them and [`MAX_TOTAL`] bytes in all, and the next block that needs
//! exactly that layout takes it back, its pages already in memory. Growth is geometric, so a
//! program that repeats a pattern of growth asks for the same sizes again. When the cache is
//! full the oldest entry is freed. [`release_kept_blocks`] frees everything kept.
//!
//! The cache never waits: it is guarded by a flag taken with one compare-exchange, and a thread
//! that finds it taken allocates or frees as if there were no cache. So a `fork()` while
//! another thread holds the flag leaves the child's cache closed (it only allocates and frees
//! directly) instead of a lock nobody will release.
//!
//! Off under Miri, loom and `--cfg ftarray_no_pool` (the sanitizer builds): a recycled block
//! would hide a use after free from the tools that look for one.

use std::alloc::{self, Layout};
use std::cell::UnsafeCell;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicUsize};

/// The smallest allocation kept: below this the system allocator's own free lists do well.
pub(crate) const MIN_BYTES: usize = 64 << 10;
/// The largest allocation kept.
pub(crate) const MAX_BYTES: usize = 8 << 20;
/// The most bytes kept in all.
pub(crate) const MAX_TOTAL: usize = 16 << 20;
/// The most allocations kept.
pub(crate) const SLOTS: usize = 8;

/// Whether this build keeps freed blocks at all.
pub(crate) const ENABLED: bool = !cfg!(any(loom, miri, ftarray_no_pool));

/// The smallest allocation made as a mapping of its own (see [`alloc_zeroed`]).
pub(crate) const MAP_MIN_BYTES: usize = 128 << 10;

/// The most mappings of their own blocks take at once; past this, large blocks come from the
/// global allocator again. Linux allows 65,530 mappings per process by default
/// (`vm.max_map_count`), and a `munmap` that splits one (two blocks the kernel had merged)
/// needs a free one: this leaves most of them to the rest of the program.
const MAX_MAPPINGS: usize = 16 << 10;

/// Whether this build makes large allocations as mappings of their own: on 64-bit Linux, and
/// not where the cache is off (the tools that look for a use after free watch the allocator).
pub(crate) const MAPS: bool = cfg!(all(
    target_os = "linux",
    target_pointer_width = "64",
    not(any(loom, miri, ftarray_no_pool))
));

/// The bytes of address space block mappings span now (a counter only: Relaxed).
static MAPPED: AtomicUsize = AtomicUsize::new(0);
/// The number of block mappings now (bounded by [`MAX_MAPPINGS`]).
static MAPPINGS: AtomicUsize = AtomicUsize::new(0);

/// The bytes of address space that blocks allocated as mappings of their own span right now,
/// kept blocks included; 0 in builds that make none.
///
/// On 64-bit Linux a block of 128 KiB or more is a private anonymous mapping rather than an
/// allocation from the global allocator, and an array growing step by step past that size
/// takes a block several times larger than it needs (its room costs address space, not
/// memory: a page takes memory once the array grows into it). So this is an upper bound on the
/// memory those blocks take, and what a program measuring its heap through the global
/// allocator has to add to see them.
///
/// ```
/// let a: ftarray::FtArray<u8> = ftarray::FtArray::with_capacity(1 << 20);
/// // On 64-bit Linux (outside the sanitizer builds) `a`'s block is one of them.
/// println!("{} bytes mapped for {} of capacity", ftarray::mapped_block_bytes(), a.capacity());
/// ```
pub fn mapped_block_bytes() -> usize {
    MAPPED.load(Relaxed)
}

/// Whether an allocation of `layout` may be a mapping of its own (it is one if
/// [`alloc_zeroed`] says so).
#[inline]
pub(crate) fn maps(layout: Layout) -> bool {
    MAPS && layout.size() >= MAP_MIN_BYTES
}

/// Whether a block may reserve room beyond what it needs (`block::build_grown`): in builds
/// that make mappings, unless the kernel charges untouched pages to the commit limit
/// (`vm.overcommit_memory = 2` ignores `MAP_NORESERVE`), where room would take memory that
/// other allocations of the program then cannot get. Read once.
pub(crate) fn reserves() -> bool {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    if MAPS {
        static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        return !*STRICT.get_or_init(|| {
            std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
                .is_ok_and(|mode| mode.trim() == "2")
        });
    }
    false
}

/// The page size (a power of two; 4 KiB if the system does not say).
fn page_size() -> usize {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        static PAGE: AtomicUsize = AtomicUsize::new(0);
        let page = PAGE.load(Relaxed);
        if page != 0 {
            return page;
        }
        // SAFETY: `sysconf` only reads a system setting.
        let got = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(got)
            .ok()
            .filter(|p| p.is_power_of_two())
            .unwrap_or(4096);
        PAGE.store(page, Relaxed);
        page
    }
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    4096
}

/// Allocates `layout` zeroed: the allocation and whether it is a mapping of its own, or `None`
/// if the system refuses (or, with `map_only`, if it cannot be a mapping).
///
/// From [`MAP_MIN_BYTES`] up (where [`MAPS`], and while there are fewer than
/// [`MAX_MAPPINGS`]) the allocation is a private anonymous mapping of its own, made with
/// `MAP_NORESERVE`: the kernel hands out a zeroed page the first time each is touched, and a
/// page never touched costs no memory and, with the kernel's default overcommit policy, no
/// commit charge. That is what lets a growing array take a block far larger than it needs
/// (`block::build_grown`, which asks with `map_only`): the room costs address space, not
/// memory, and the array then grows into it without moving. `calloc` would not do: once glibc
/// has freed a mapped chunk it raises its mapping threshold, and later large `calloc`s come
/// from the heap, zeroed by `memset`, every page touched. Anything else goes to the global
/// allocator.
#[inline]
pub(crate) fn alloc_zeroed(layout: Layout, map_only: bool) -> Option<(NonNull<u8>, bool)> {
    if maps(layout) {
        if let Some(p) = map(layout.size()) {
            return Some((p, true));
        }
    }
    if map_only || layout.size() == 0 {
        return None;
    }
    // SAFETY: the layout is not zero-sized (checked).
    NonNull::new(unsafe { alloc::alloc_zeroed(layout) }).map(|p| (p, false))
}

/// A fresh private anonymous mapping of `size` bytes (page-aligned, so aligned for any block),
/// unless there are [`MAX_MAPPINGS`] already or the kernel refuses.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[inline(never)]
fn map(size: usize) -> Option<NonNull<u8>> {
    if MAPPINGS.fetch_add(1, Relaxed) >= MAX_MAPPINGS {
        MAPPINGS.fetch_sub(1, Relaxed);
        return None;
    }
    // SAFETY: a new anonymous mapping at an address of the kernel's choosing touches no
    // existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        MAPPINGS.fetch_sub(1, Relaxed);
        return None;
    }
    MAPPED.fetch_add(size, Relaxed);
    NonNull::new(p.cast())
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn map(_size: usize) -> Option<NonNull<u8>> {
    None
}

/// Gives the allocation `ptr` of `layout` back: unmaps it if it is a mapping (`mapped`), else
/// frees it to the global allocator.
///
/// An `munmap` can fail (the process at its mapping limit, and the block in the middle of a
/// mapping the kernel merged with its neighbours, which the unmapping would split): then the
/// pages are given back with `MADV_DONTNEED` and the address space stays reserved for good,
/// still counted by [`mapped_block_bytes`]. Never a panic: this runs in destructors.
///
/// # Safety
///
/// `ptr` came from [`alloc_zeroed`] with `layout`, which said `mapped`, and nothing uses it
/// any more.
#[inline]
unsafe fn release(ptr: NonNull<u8>, layout: Layout, mapped: bool) {
    if mapped {
        // SAFETY: the caller's contract.
        unsafe { unmap(ptr, layout.size()) };
        return;
    }
    // SAFETY: the caller's contract.
    unsafe { alloc::dealloc(ptr.as_ptr(), layout) };
}

/// The mapping half of [`release`]: out of line.
///
/// # Safety
///
/// `ptr` is a mapping of `size` bytes [`alloc_zeroed`] made, which nothing uses any more.
#[inline(never)]
unsafe fn unmap(ptr: NonNull<u8>, size: usize) {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        // SAFETY: the caller's contract: the whole mapping is ours and unused.
        if unsafe { libc::munmap(ptr.as_ptr().cast(), size) } == 0 {
            MAPPED.fetch_sub(size, Relaxed);
            MAPPINGS.fetch_sub(1, Relaxed);
        } else {
            // SAFETY: as above; dropping the pages of our own unused mapping.
            unsafe { libc::madvise(ptr.as_ptr().cast(), size, libc::MADV_DONTNEED) };
        }
    }
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    {
        let _ = (ptr, size);
        unreachable!("no mappings on this target");
    }
}

/// Calls `f(first, n, resident)` for each run of pages alike among the `pages` pages from
/// `ptr` (page-aligned): the run's first page (counted from `ptr`), its length, and whether they
/// are in memory (`mincore`), `None` where the kernel would not say.
///
/// `ptr` lies in a mapping [`alloc_zeroed`] made, which stays mapped while this runs and holds
/// the `pages` pages. Nothing is read or written through `ptr`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn page_runs(ptr: *const u8, pages: usize, mut f: impl FnMut(usize, usize, Option<bool>)) {
    let page = page_size();
    // One byte per page, for up to 4,096 pages per call.
    let mut flags = [0u8; 4096];
    let mut done = 0;
    while done < pages {
        let n = (pages - done).min(flags.len());
        // SAFETY: `ptr + done * page` is page-aligned and its `n` pages lie inside the
        // caller's mapping; the kernel writes `n` bytes into `flags`, which has room.
        let r = unsafe {
            libc::mincore(
                ptr.wrapping_add(done * page).cast_mut().cast(),
                n * page,
                flags.as_mut_ptr(),
            )
        };
        if r != 0 {
            f(done, n, None);
        } else {
            let mut k = 0;
            while k < n {
                let resident = flags[k] & 1 != 0;
                let run = flags[k..n]
                    .iter()
                    .take_while(|&&b| (b & 1 != 0) == resident)
                    .count();
                f(done + k, run, Some(resident));
                k += run;
            }
        }
        done += n;
    }
}

/// How many bytes of the mapping of `len` bytes at `ptr` are in memory now, in whole pages;
/// `None` if the kernel does not say.
///
/// `ptr` is the start of a mapping [`alloc_zeroed`] made, which stays mapped while this runs.
fn resident_bytes(ptr: NonNull<u8>, len: usize) -> Option<usize> {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        let page = page_size();
        let mut resident = Some(0);
        page_runs(ptr.as_ptr(), len.div_ceil(page), |_, n, r| {
            resident = resident.zip(r).map(|(sum, r)| sum + if r { n } else { 0 });
        });
        resident.map(|pages| (pages * page).min(len))
    }
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    {
        let _ = (ptr, len);
        None
    }
}

/// Zeroes the `len` bytes at `ptr`, inside an allocation that is a mapping if `mapped`.
///
/// In a mapping the pages in memory (`mincore` says which) are written, and every run of pages
/// that is not is given back to the kernel with `MADV_DONTNEED`, after which it reads as zero:
/// a page never touched costs nothing either way, and one that was swapped out (it still holds
/// the earlier owner's bytes, in swap) is dropped rather than read back in. So zeroing the room
/// of a large reused block costs what its earlier owner has in memory, and brings nothing else
/// into memory. Writing every page instead would fault in the whole room; dropping every page
/// would make the next owner fault in again the pages it is about to use (a `u32` array grown
/// over and over ran six times slower that way).
///
/// # Safety
///
/// The range is inside the allocation, which the caller alone uses.
#[cfg_attr(loom, allow(dead_code))] // loom builds zero through the cells
pub(crate) unsafe fn zero(mapped: bool, ptr: *mut u8, len: usize) {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    if mapped {
        let page = page_size();
        let start = ptr.addr().next_multiple_of(page);
        let end = (ptr.addr() + len) & !(page - 1);
        if start < end {
            let head = start - ptr.addr();
            // SAFETY: both partial pages at the ends are inside the range (the caller's
            // contract).
            unsafe {
                ptr::write_bytes(ptr, 0, head);
                ptr::write_bytes(ptr.add(end - ptr.addr()), 0, ptr.addr() + len - end);
            }
            let base = ptr.wrapping_add(head);
            page_runs(base, (end - start) / page, |first, n, resident| {
                // SAFETY: the run's pages are inside the range; the mapping is ours alone (the
                // caller's contract), private and anonymous, so a page dropped with
                // `MADV_DONTNEED` reads as zero afterwards. Pages in memory, or of unknown
                // residency, are written.
                unsafe {
                    let p = base.add(first * page);
                    if resident != Some(false)
                        || libc::madvise(p.cast(), n * page, libc::MADV_DONTNEED) != 0
                    {
                        ptr::write_bytes(p, 0, n * page);
                    }
                }
            });
            return;
        }
    }
    let _ = mapped;
    // SAFETY: the caller's contract.
    unsafe { ptr::write_bytes(ptr, 0, len) };
}

/// One kept allocation: its address and the layout it was allocated with.
#[derive(Clone, Copy)]
struct Kept {
    ptr: NonNull<u8>,
    layout: Layout,
    /// Whether it is a mapping of its own ([`alloc_zeroed`]).
    mapped: bool,
    /// The memory it holds: its size, or for a mapping the bytes of its pages in memory when
    /// it was kept (a kept mapping's untouched room costs nothing).
    cost: usize,
    /// When it was kept (a counter), to find the oldest.
    age: u64,
}

struct Slots {
    kept: [Option<Kept>; SLOTS],
    total: usize,
    clock: u64,
}

struct Pool {
    /// Set while one thread uses `slots`; taken with a compare-exchange, never waited for.
    busy: AtomicBool,
    slots: UnsafeCell<Slots>,
}

// SAFETY: `slots` is only touched by the thread that set `busy` (see `Pool::with`), and the
// allocations it names are owned by the cache, not by any thread.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool {
    busy: AtomicBool::new(false),
    slots: UnsafeCell::new(Slots::EMPTY),
};

impl Pool {
    /// Runs `f` on the slots if no other thread is using them; `None` if one is.
    fn with<R>(&self, f: impl FnOnce(&mut Slots) -> R) -> Option<R> {
        // Acquire pairs with the Release below: the previous user's changes to the slots (and
        // its writes to the memory it kept) happen before ours.
        if self
            .busy
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_err()
        {
            return None;
        }
        /// Clears the flag on every way out.
        struct Open<'a>(&'a AtomicBool);
        impl Drop for Open<'_> {
            fn drop(&mut self) {
                self.0.store(false, Release);
            }
        }
        let _open = Open(&self.busy);
        // SAFETY: we set `busy`, so no other thread touches the slots until we clear it.
        Some(f(unsafe { &mut *self.slots.get() }))
    }
}

/// The largest mapping kept (by its address space; what counts against [`MAX_BYTES`] and
/// [`MAX_TOTAL`] is the memory its touched pages take).
const MAX_MAPPED_BYTES: usize = 128 << 20;

/// Whether an allocation of `layout` may be one the cache keeps: from [`MIN_BYTES`] up to
/// [`MAX_BYTES`], or [`MAX_MAPPED_BYTES`] for a mapping, whose pages in memory must then come
/// to at most [`MAX_BYTES`] (see [`free`]).
#[inline]
pub(crate) fn keeps(layout: Layout) -> bool {
    let max = if MAPS { MAX_MAPPED_BYTES } else { MAX_BYTES };
    ENABLED && (MIN_BYTES..=max).contains(&layout.size())
}

impl Slots {
    const EMPTY: Slots = Slots {
        kept: [None; SLOTS],
        total: 0,
        clock: 0,
    };

    /// Takes the newest kept allocation of exactly `layout` out (and whether it is a mapping).
    fn take(&mut self, layout: Layout) -> Option<(NonNull<u8>, bool)> {
        let (k, kept) = self
            .kept
            .iter()
            .enumerate()
            .filter_map(|(k, e)| e.filter(|e| e.layout == layout).map(|e| (k, e)))
            .max_by_key(|(_, e)| e.age)?;
        self.kept[k] = None;
        self.total -= kept.cost;
        Some((kept.ptr, kept.mapped))
    }

    /// Keeps `ptr` (a mapping if `mapped`, holding `cost` bytes of memory), moving the oldest
    /// entries to `evicted` until there is a free slot and the total fits [`MAX_TOTAL`].
    fn keep(
        &mut self,
        ptr: NonNull<u8>,
        layout: Layout,
        (mapped, cost): (bool, usize),
        evicted: &mut [Option<Kept>; SLOTS],
    ) {
        let mut n = 0;
        while self.kept.iter().all(Option::is_some) || self.total + cost > MAX_TOTAL {
            let Some(k) = (0..SLOTS)
                .filter(|&k| self.kept[k].is_some())
                .min_by_key(|&k| self.kept[k].map_or(0, |e| e.age))
            else {
                break;
            };
            let e = self.kept[k].take();
            self.total -= e.map_or(0, |e| e.cost);
            evicted[n] = e;
            n += 1;
        }
        let slot = self
            .kept
            .iter_mut()
            .find(|e| e.is_none())
            .expect("a slot was freed above");
        self.clock += 1;
        *slot = Some(Kept {
            ptr,
            layout,
            mapped,
            cost,
            age: self.clock,
        });
        self.total += cost;
    }
}

/// A kept allocation of exactly `layout` and whether it is a mapping, if there is one (the
/// newest, whose pages are the likeliest to be in cache). Its bytes are whatever the block
/// freed there held; all of them outside the header's padding are initialised (the contract
/// of [`free`]), and a block built there has its header at the same place (the same address
/// gives the same `lead`).
#[inline]
pub(crate) fn take(layout: Layout) -> Option<(NonNull<u8>, bool)> {
    if !keeps(layout) {
        return None;
    }
    take_kept(layout)
}

/// [`take`] for a layout the cache keeps: out of line, so small blocks pay one comparison.
#[inline(never)]
fn take_kept(layout: Layout) -> Option<(NonNull<u8>, bool)> {
    POOL.with(|s| s.take(layout)).flatten()
}

/// Frees the allocation `ptr` of `layout`, or keeps it for a later [`take`].
///
/// # Safety
///
/// `ptr` was allocated with `layout` (directly or through [`take`]) by [`alloc_zeroed`], which
/// said `mapped`, or by the global allocator (`mapped` false; only below [`MIN_BYTES`], which
/// the cache does not keep), nothing uses it any more, and if the cache keeps that layout ([`keeps`])
/// every byte of it is initialised but the padding of the block header written there: what
/// [`take`] returns is handed out as such (`BlockBuilder::new` allocates every size from
/// [`MIN_BYTES`] up zeroed, and writes only initialised bytes after that, the header's padding
/// aside).
#[inline]
pub(crate) unsafe fn free(ptr: NonNull<u8>, layout: Layout, mapped: bool) {
    if keeps(layout) {
        // SAFETY: the caller's contract.
        unsafe { keep_or_free(ptr, layout, mapped) };
    } else {
        // SAFETY: the caller's contract.
        unsafe { release(ptr, layout, mapped) };
    }
}

/// [`free`] for a layout the cache keeps.
///
/// # Safety
///
/// As [`free`].
#[inline(never)]
unsafe fn keep_or_free(ptr: NonNull<u8>, layout: Layout, mapped: bool) {
    // A mapping costs the memory of its touched pages (asked before taking the cache's flag:
    // a system call), a heap allocation its size.
    // Up to `MAX_BYTES` the size will do (the cache takes it either way), and saves the call.
    let cost = if mapped && layout.size() > MAX_BYTES {
        resident_bytes(ptr, layout.size()).unwrap_or(layout.size())
    } else {
        layout.size()
    };
    let mut evicted = [None; SLOTS];
    let kept = cost <= MAX_BYTES
        && POOL
            .with(|s| s.keep(ptr, layout, (mapped, cost), &mut evicted))
            .is_some();
    for e in evicted.into_iter().flatten() {
        // SAFETY: kept allocations are owned by the cache (the contract of `free`), and this
        // one has just left it.
        unsafe { release(e.ptr, e.layout, e.mapped) };
    }
    if !kept {
        // SAFETY: the caller's contract.
        unsafe { release(ptr, layout, mapped) };
    }
}

/// Frees every block allocation ftarray keeps for reuse, and returns how many bytes that was.
///
/// When an array's block is freed (the array dropped, or its buffer replaced and no reader
/// left in the old one), an allocation of 64 KiB to 8 MiB (or a mapping of up to 128 MiB whose
/// pages in memory come to at most 8 MiB) is kept, up to 8 of them and 16 MiB
/// in all, for the next block of exactly that size: a program that builds large arrays over
/// and over then reuses memory that is already mapped instead of faulting in fresh pages for
/// every block. Call this to give that memory back, for example after the last large array of
/// a phase is gone. Other threads use the cache for a few loads and stores at a time; this
/// call waits for them (yielding) up to a thousand tries, and returns 0 if it never got the
/// cache, and in builds without it (Miri, `--cfg ftarray_no_pool`).
///
/// # Examples
///
/// ```
/// use ftarray::FtArray;
///
/// let a: FtArray<f64> = FtArray::from_slice(&vec![1.0; 100_000]); // 800 KB
/// drop(a);
/// ftarray::drain(100); // the collector frees the block: into the cache
/// let freed = ftarray::release_kept_blocks();
/// println!("gave {freed} bytes back");
/// // Other threads may keep blocks again at any time, never more than the bound.
/// assert!(ftarray::kept_block_bytes() <= 16 << 20);
/// ```
pub fn release_kept_blocks() -> usize {
    // The flag is held only for a few loads and stores at a time, so a short wait finds it
    // free unless a `fork()` left it held in this child (see `after_fork_child`).
    let mut all = None;
    for _ in 0..1000 {
        all = POOL.with(|s| std::mem::replace(s, Slots::EMPTY).kept);
        if all.is_some() {
            break;
        }
        crate::sync::yield_now();
    }
    let mut bytes = 0;
    for e in all.unwrap_or([None; SLOTS]).into_iter().flatten() {
        bytes += e.cost;
        // SAFETY: kept allocations are owned by the cache, and these have left it.
        unsafe { release(e.ptr, e.layout, e.mapped) };
    }
    bytes
}

/// In a child process after `fork()`, which has only the thread that forked: a thread of the
/// parent that held the cache's flag at the fork left it held, and the slots perhaps half
/// changed. Then the child starts with an empty cache (what the slots named stays allocated,
/// unused) and the flag clear; otherwise the cache is as the parent's was, and usable.
#[cfg(not(loom))] // called only by `reclaim::after_fork_child`, which loom builds leave out
pub(crate) fn after_fork_child() {
    if POOL.busy.load(Relaxed) {
        // SAFETY: the child has one thread, this one, and it is not inside `Pool::with` (it is
        // here), so nothing else touches the slots.
        unsafe { POOL.slots.get().write(Slots::EMPTY) };
        POOL.busy.store(false, Release);
    }
}

/// The bytes of freed block allocations ftarray keeps for reuse right now (see
/// [`release_kept_blocks`]); 0 if another thread is using the cache at that instant.
pub fn kept_block_bytes() -> usize {
    POOL.with(|s| s.total).unwrap_or(0)
}

#[cfg(all(test, not(loom), not(miri)))]
mod tests {
    use super::*;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 16).unwrap()
    }

    /// A distinct fake address per `k` (never dereferenced: `Slots` only stores addresses).
    fn addr(k: usize) -> NonNull<u8> {
        NonNull::new(std::ptr::without_provenance_mut(4096 * (k + 1))).unwrap()
    }

    #[test]
    fn takes_back_exact_layouts_only_newest_first() {
        let mut s = Slots::EMPTY;
        let mut evicted = [None; SLOTS];
        s.keep(addr(0), layout(MIN_BYTES), (false, MIN_BYTES), &mut evicted);
        s.keep(addr(1), layout(MIN_BYTES), (false, MIN_BYTES), &mut evicted);
        s.keep(
            addr(2),
            layout(2 * MIN_BYTES),
            (false, 2 * MIN_BYTES),
            &mut evicted,
        );
        assert!(evicted.iter().all(Option::is_none));
        assert_eq!(s.total, 4 * MIN_BYTES);
        assert_eq!(
            s.take(layout(MIN_BYTES + 16)),
            None,
            "only the exact layout"
        );
        assert_eq!(
            s.take(Layout::from_size_align(MIN_BYTES, 32).unwrap()),
            None,
            "alignment too"
        );
        assert_eq!(
            s.take(layout(MIN_BYTES)),
            Some((addr(1), false)),
            "newest first"
        );
        assert_eq!(s.take(layout(MIN_BYTES)), Some((addr(0), false)));
        assert_eq!(s.take(layout(MIN_BYTES)), None, "each only once");
        assert_eq!(s.total, 2 * MIN_BYTES);
    }

    #[test]
    fn a_full_cache_frees_its_oldest_by_count_and_by_bytes() {
        let mut s = Slots::EMPTY;
        let mut evicted = [None; SLOTS];
        for k in 0..SLOTS {
            s.keep(addr(k), layout(MIN_BYTES), (false, MIN_BYTES), &mut evicted);
        }
        assert!(evicted.iter().all(Option::is_none));
        s.keep(
            addr(SLOTS),
            layout(MIN_BYTES),
            (false, MIN_BYTES),
            &mut evicted,
        );
        let out: Vec<_> = evicted.iter().flatten().map(|e| e.ptr).collect();
        assert_eq!(out, [addr(0)], "one slot needed: the oldest leaves");
        // Bytes: the oldest leave until the total fits, however many slots are free.
        let mut s = Slots::EMPTY;
        let mut out = Vec::new();
        for (k, size) in [
            (10, MAX_BYTES),
            (11, MAX_BYTES),
            (12, MAX_BYTES),
            (13, MIN_BYTES),
        ] {
            let mut evicted = [None; SLOTS];
            s.keep(addr(k), layout(size), (false, size), &mut evicted);
            out.push(evicted.iter().flatten().map(|e| e.ptr).collect::<Vec<_>>());
            assert!(s.total <= MAX_TOTAL);
        }
        assert_eq!(MAX_TOTAL, 2 * MAX_BYTES, "the figures below assume it");
        assert_eq!(out, [vec![], vec![], vec![addr(10)], vec![addr(11)]]);
        assert_eq!(s.total, MAX_BYTES + MIN_BYTES);
    }

    /// A parent thread that held the flag at a `fork()` left it held in the child: the
    /// child's `after_fork_child` clears it (and empties the slots), so the cache works there.
    #[test]
    fn after_a_fork_a_flag_left_held_is_cleared() {
        if !ENABLED {
            return;
        }
        // Held as that parent thread held it (another test may be using it: wait our turn).
        while POOL
            .busy
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_err()
        {
            crate::sync::spin_loop();
        }
        after_fork_child();
        assert!(!POOL.busy.load(Relaxed), "the flag stayed held");
        // Usable again: a freed allocation can be kept and taken back (unless another test
        // holds the flag at that instant, which the cache allows).
        let l = layout(MIN_BYTES + 16 * 7907);
        let (p, mapped) = alloc_zeroed(l, false).unwrap();
        // SAFETY: allocated just above with this layout (zeroed, so initialised), unused from
        // here.
        unsafe { free(p, l, mapped) };
        if let Some(back) = take(l) {
            assert_eq!(back, (p, mapped));
            // SAFETY: taken out of the cache, which owned it.
            unsafe { release(back.0, l, back.1) };
        }
    }

    /// A kept mapping costs the memory of its touched pages, not its address space: one of
    /// 16 MiB (past [`MAX_BYTES`]) with 1 MiB touched is kept, and costs 1 MiB; one with
    /// 9 MiB touched is not kept.
    #[test]
    fn a_kept_mapping_costs_its_touched_pages() {
        if !MAPS {
            return;
        }
        let l = layout((16 << 20) + 16 * 7901); // a size no block of another test has
        for (touched, keep) in [(1 << 20, true), (9 << 20, false)] {
            // The cache may be busy (another test) at either instant: then it keeps nothing,
            // which is allowed, so a few tries; one must keep it if it may be kept.
            let mut kept = 0;
            for _ in 0..20 {
                let (p, mapped) = alloc_zeroed(l, true).unwrap();
                assert!(mapped);
                // SAFETY: the first `touched` bytes are inside our fresh mapping.
                unsafe { std::ptr::write_bytes(p.as_ptr(), 1, touched) };
                let cost = resident_bytes(p, l.size()).unwrap();
                // Transparent huge pages (`always`) bring in 2 MiB at a time.
                assert!((touched..touched + (4 << 20)).contains(&cost), "{cost}");
                // SAFETY: allocated above with this layout; its bytes are initialised (zero
                // pages or written); unused from here.
                unsafe { free(p, l, true) };
                let back = take(l);
                assert!(back.is_none() || back == Some((p, true)), "{back:?}");
                if let Some((p, mapped)) = back {
                    kept += 1;
                    // SAFETY: taken out of the cache, which owned it.
                    unsafe { release(p, l, mapped) };
                }
            }
            assert_eq!(
                kept > 0,
                keep,
                "{touched} B touched: kept {kept} times of 20"
            );
        }
    }

    #[test]
    fn the_global_cache_returns_a_freed_allocation() {
        if !ENABLED {
            return;
        }
        // A size no block of a concurrently running test has.
        let l = layout(MIN_BYTES + 16 * 7919);
        let (p, mapped) = alloc_zeroed(l, false).unwrap();
        // SAFETY: allocated just above with this layout (zeroed, so initialised), unused from
        // here.
        unsafe { free(p, l, mapped) };
        // Another test may have held the flag at either instant, or evicted it: then the
        // cache did nothing, which is allowed; what it must never do is hand back another
        // allocation or this one twice.
        let back = take(l);
        assert!(back.is_none() || back == Some((p, mapped)));
        assert_eq!(take(l), None);
        if let Some((p, mapped)) = back {
            // SAFETY: taken out of the cache, which owned it.
            unsafe { free(p, l, mapped) };
        }
    }
}
