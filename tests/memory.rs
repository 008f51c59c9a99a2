//! Retired buffers come back promptly (contract point 4): a counting global allocator measures
//! the peak of live heap bytes while an array's buffer is replaced over and over under readers
//! that keep pinning the epoch.
//!
//! CPython's delayed frees once peaked at 6.7 GB against 135 MB with the GIL (#132519); here the
//! peak above the starting point must stay within a small multiple of the array's own size.
//!
//! Run with `--nocapture` to see the figures. The tests take a lock so they never measure each
//! other.

use ftarray::FtArray;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Barrier, Mutex, MutexGuard};
use std::thread;

// ---------------------------------------------------------------------------------------------
// The counting allocator
// ---------------------------------------------------------------------------------------------

/// `System`, counting live bytes and their peak.
struct Counting;

/// Bytes currently allocated through the global allocator.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The largest value `LIVE` has had since the last [`reset_peak`].
static PEAK: AtomicUsize = AtomicUsize::new(0);

// Relaxed throughout: each counter is one atomic, whose modification order already respects
// happens-before (an allocation's increment precedes the matching free's decrement), so `LIVE`
// never underflows and every value `PEAK` records is one `LIVE` really had.
//
// Blocks of 128 KiB and more are not allocated through the global allocator on 64-bit Linux:
// they are mappings of their own (`ftarray::mapped_block_bytes`), so every measure here adds
// the address space they span (more than the memory they take: an array growing step by step
// reserves room it has not touched). Their changes are no allocator events, so the peak also
// takes a sample at every allocation and free, and the readers below sample it as they read.
fn grew(bytes: usize) {
    LIVE.fetch_add(bytes, Relaxed);
    sample();
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Relaxed);
    sample();
}

/// Folds the live bytes now into the peak.
fn sample() {
    let now = live_bytes();
    if now > PEAK.load(Relaxed) {
        PEAK.fetch_max(now, Relaxed);
    }
}

fn live_bytes() -> usize {
    LIVE.load(Relaxed) + ftarray::mapped_block_bytes()
}

/// Starts a new peak measurement from the current live bytes.
fn reset_peak() {
    PEAK.store(live_bytes(), Relaxed);
}

fn peak_bytes() -> usize {
    sample();
    PEAK.load(Relaxed)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns
// its result, so `System`'s implementation of the `GlobalAlloc` contract is ours; the counters
// only observe sizes and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; the caller guarantees `ptr` came from this allocator (that
        // is, from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measuring test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: usize = 1 << 20;

/// The contract's bound on the peak above the starting point: a few copies of the array (the
/// live one, the one being built, one or two retired ones waiting for readers) plus a fixed
/// allowance for whatever the collector batches.
fn bound(live: usize) -> usize {
    3 * live + 16 * MIB
}

// ---------------------------------------------------------------------------------------------
// Readers that keep pinning
// ---------------------------------------------------------------------------------------------

/// A tiny xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng((seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}

/// Runs `churn` (the only thread that writes, on the calling thread) while two threads read
/// with `get` (one pin per call) and one reads through a `Reader` that repins every 100 reads.
/// `valid(i, v)` checks each value read. Returns (peak bytes above the baseline, bytes still
/// live above it when `churn` returned, reads done).
fn measure_under_readers(
    a: &FtArray<u32>,
    valid: impl Fn(usize, u32) -> bool + Sync,
    churn: impl FnOnce(),
) -> (usize, usize, u64) {
    let len = a.len();
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let start = Barrier::new(4);
    let (peak, left) = thread::scope(|s| {
        for r in 0..2 {
            let (stop, reads, start, valid) = (&stop, &reads, &start, &valid);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut n = 0;
                start.wait();
                while !stop.load(Acquire) {
                    let i = rng.below(len);
                    if let Some(v) = a.get(i) {
                        assert!(valid(i, v), "get({i}) = {v}");
                    }
                    n += 1;
                    if n % 64 == 0 {
                        sample();
                    }
                }
                reads.fetch_add(n, Relaxed);
            });
        }
        s.spawn(|| {
            let mut rng = Rng::new(2);
            let mut reader = a.reader();
            let mut n = 0;
            start.wait();
            while !stop.load(Acquire) {
                let i = rng.below(len);
                if let Some(v) = reader.get(i) {
                    assert!(valid(i, v), "Reader::get({i}) = {v}");
                }
                n += 1;
                if n % 100 == 0 {
                    reader.repin();
                }
            }
            reads.fetch_add(n, Relaxed);
        });
        // Stops the readers however this closure ends (a panic in `churn` included).
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Release);
            }
        }
        let _stop = StopOnDrop(&stop);
        // Every reader has been spawned (and the `Reader` pinned) before the baseline.
        start.wait();
        let baseline = live_bytes();
        reset_peak();
        churn();
        let peak = peak_bytes().saturating_sub(baseline);
        let left = live_bytes().saturating_sub(baseline);
        (peak, left)
    });
    (peak, left, reads.load(Relaxed))
}

fn report(name: &str, live: usize, peak: usize, left: usize, reads: u64) {
    println!(
        "{name}: live array {live} B; peak above baseline {peak} B ({:.2} MiB, {:.2} x live); \
         still above baseline after the loop {left} B; bound {} B; {reads} reads",
        peak as f64 / MIB as f64,
        peak as f64 / live as f64,
        bound(live),
    );
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore)]
fn peak_memory_stays_bounded_while_refilling_under_pinning_readers() {
    let _serial = serial();
    const N: usize = 1_000_000;
    const ROUNDS: usize = 300;
    let src: Vec<u32> = (0..N as u32).collect();
    let a = FtArray::from_slice(&src);
    let live = a.capacity() * size_of::<u32>();
    assert_eq!(live, 4_000_000);
    let (peak, left, reads) = measure_under_readers(
        &a,
        |i, v| v == i as u32,
        || {
            for _ in 0..ROUNDS {
                a.clear();
                // Empty: publishes no buffer and retires the whole 4 MB one to the collector.
                a.shrink_to_fit().unwrap();
                a.extend_from_slice(&src);
            }
        },
    );
    report("clear + shrink_to_fit + extend", live, peak, left, reads);
    assert_eq!(a.len(), N);
    assert!(
        peak <= bound(live),
        "peak {peak} B above the baseline exceeds {} B (3 x {live} B live + 16 MiB): retired \
         buffers were not given back promptly",
        bound(live)
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn peak_memory_stays_bounded_while_inserting_and_removing_under_pinning_readers() {
    let _serial = serial();
    const N: usize = 100_000;
    const MARK: u32 = u32::MAX;
    const ROUNDS: usize = 300;
    let a = FtArray::from_slice(&(0..N as u32).collect::<Vec<_>>());
    // One warm-up pair: the first insert doubles the capacity; from then on every insert and
    // remove builds a block of that capacity and retires the old one.
    a.insert(0, MARK).unwrap();
    assert_eq!(a.remove(0), Ok(MARK));
    let live = a.capacity() * size_of::<u32>();
    let (peak, left, reads) = measure_under_readers(
        &a,
        // States: 0..N, or MARK followed by 0..N.
        |i, v| v == i as u32 || (i == 0 && v == MARK) || (i > 0 && v == i as u32 - 1),
        || {
            for _ in 0..ROUNDS {
                a.insert(0, MARK).unwrap();
                assert_eq!(a.remove(0), Ok(MARK));
            }
        },
    );
    report("insert(0) + remove(0)", live, peak, left, reads);
    assert_eq!(a.to_vec(), (0..N as u32).collect::<Vec<_>>());
    assert!(
        peak <= bound(live),
        "peak {peak} B above the baseline exceeds {} B (3 x {live} B live + 16 MiB): retired \
         buffers were not given back promptly",
        bound(live)
    );
}

/// Issue 23: snapshots keep the blocks they share after the array has retired them, and give
/// them back when dropped. Every tenth round keeps a snapshot (of a full array, so it shares the
/// block the next round retires), and at most two are alive at once; the peak may grow by
/// those two arrays' worth and no more, and once they are dropped nothing they held is left.
#[test]
#[cfg_attr(miri, ignore)]
fn peak_memory_stays_bounded_with_snapshots_alive() {
    let _serial = serial();
    const N: usize = 1_000_000;
    const ROUNDS: usize = 200;
    const HELD: usize = 2;
    let src: Vec<u32> = (0..N as u32).collect();
    let a = FtArray::from_slice(&src);
    let live = a.capacity() * size_of::<u32>();
    let mut shared = 0;
    let (peak, left, reads) = measure_under_readers(
        &a,
        |i, v| v == i as u32,
        || {
            let mut held = std::collections::VecDeque::new();
            for round in 0..ROUNDS {
                a.clear();
                a.shrink_to_fit().unwrap();
                a.extend_from_slice(&src);
                if round % 10 == 0 {
                    let s = a.snapshot();
                    shared += usize::from(s.is_shared());
                    held.push_back(s);
                    if held.len() > HELD {
                        let old = held.pop_front().unwrap();
                        assert!(old.len() == N && old[N - 1] == N as u32 - 1);
                    }
                }
            }
            for s in held {
                assert_eq!(s.len(), N);
            }
        },
    );
    report("refill with snapshots alive", live, peak, left, reads);
    assert!(
        shared > 0,
        "no snapshot shared its block: the test measured copies"
    );
    let with_held = bound(live) + HELD * live;
    assert!(
        peak <= with_held,
        "peak {peak} B above the baseline exceeds {with_held} B (3 x {live} B live + 16 MiB + \
         {HELD} snapshots): retired or snapshot-held buffers were not given back promptly"
    );
    assert!(
        left <= bound(live),
        "{left} B still held after every snapshot was dropped"
    );
}

/// Garbage does not strand in an idle thread's local bag (issue 7, defect 7): a thread retires
/// 40 blocks of 48 KiB, each from a different array (so no array alone reaches the 64 KiB
/// flush threshold), then idles without exiting. Unflushed garbage is counted per thread, so
/// the thread flushed as it went and at most one threshold's worth can be left in its bag;
/// other threads' flushes free the rest. (Counted per array, all 1.9 MiB stayed in the idle
/// thread's bag, out of every other thread's reach.)
#[test]
#[cfg_attr(miri, ignore)]
fn an_idle_threads_small_garbage_is_flushed_not_stranded() {
    let _serial = serial();
    const BLOCKS: usize = 40;
    const ELEMS: usize = 12 * 1024; // 48 KiB of u32
    let before = ftarray::retired_bytes();
    let (retired_tx, retired_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let idle = thread::spawn(move || {
        let arrays: Vec<FtArray<u32>> = (0..BLOCKS)
            .map(|_| FtArray::from_slice(&vec![7u32; ELEMS]))
            .collect();
        for a in &arrays {
            a.insert(0, 1).unwrap(); // retires one 48 KiB block
        }
        retired_tx.send(()).unwrap();
        let _ = stop_rx.recv(); // idle, unpinned, alive
        drop(arrays);
    });
    retired_rx.recv().unwrap();
    // Another thread's flushes free whatever reached the global queue.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let allowance = 64 * 1024 + ELEMS * size_of::<u32>() + 4096;
    let mut left = ftarray::retired_bytes().saturating_sub(before);
    while left > allowance && std::time::Instant::now() < deadline {
        crossbeam_epoch::pin().flush();
        thread::yield_now();
        left = ftarray::retired_bytes().saturating_sub(before);
    }
    stop_tx.send(()).unwrap();
    idle.join().unwrap();
    println!("left in the idle thread's bag: {left} B (allowance {allowance} B)");
    assert!(
        left <= allowance,
        "{left} B of retired blocks stayed unfreed while their thread idled (allowance \
         {allowance} B): small garbage stranded in its local bag"
    );
}

/// `a.extend_from_array(&b)` copies `b`'s elements straight into `a`: no copy of `b` on the
/// heap first. Into spare capacity the peak does not grow by a fraction of `b`'s bytes; when
/// `a` must move it grows by the new block only. (Through a copy of `b`, as the append was
/// made before, each peak was higher by all of `b`'s 16 MiB.)
#[test]
#[cfg_attr(miri, ignore)]
fn extend_from_array_makes_no_copy_of_the_other_array() {
    let _serial = serial();
    const N: usize = 2 * MIB; // 16 MiB of u64: past what the freed-block cache keeps
    let b = FtArray::from_slice(&vec![3u64; N]);
    let bytes = N * size_of::<u64>();
    let slack = bytes / 8;

    // Into spare capacity.
    let a = FtArray::<u64>::with_capacity(N + 1);
    a.push(1);
    let live = live_bytes();
    reset_peak();
    a.extend_from_array(&b);
    let in_place = peak_bytes() - live;
    assert_eq!((a.len(), a.get(N)), (N + 1, Some(3)));
    println!("extend into spare capacity: peak +{in_place} B (b: {bytes} B)");
    assert!(
        in_place < slack,
        "extending into spare capacity raised the peak by {in_place} B: a copy of b was made"
    );

    // Moving to a new block.
    let a = FtArray::from_slice(&[1u64]);
    a.shrink_to_fit().unwrap();
    let live = live_bytes();
    reset_peak();
    a.extend_from_array(&b);
    let moved = peak_bytes() - live;
    let block = a.capacity() * size_of::<u64>();
    assert_eq!((a.len(), a.get(N)), (N + 1, Some(3)));
    println!("extend that moves: peak +{moved} B (new block {block} B)");
    assert!(
        moved < block + slack,
        "extending by a move raised the peak by {moved} B, the new block being {block} B: a \
         copy of b was made"
    );
}

/// This process's resident memory in bytes (Linux), or `None` where `/proc` does not say.
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// On 64-bit Linux an array growing step by step past 128 KiB reserves room several times
/// its size (`block::build_grown`): a mapping whose pages take memory only once the array
/// grows into them. Grown to 4 MiB that way, its capacity is 16 MiB, and the process's
/// resident memory must grow by about the 4 MiB, not by the room. (It grows by 20 MiB if the
/// room is written when the block is built.)
#[test]
#[cfg_attr(miri, ignore)]
fn reserved_room_takes_no_memory_until_the_array_grows_into_it() {
    let _serial = serial();
    ftarray::drain(100);
    ftarray::release_kept_blocks();
    let Some(before) = resident_bytes() else {
        println!("no /proc/self/statm: skipped");
        return;
    };
    let chunk = vec![7u8; 64 << 10];
    let a = FtArray::<u8>::new();
    for _ in 0..64 {
        a.extend_from_slice(&chunk);
    }
    let grew = resident_bytes().unwrap().saturating_sub(before);
    let cap = a.capacity();
    println!(
        "grown to {} B, capacity {cap} B: resident memory +{grew} B",
        a.len()
    );
    assert_eq!(a.len(), 4 * MIB);
    assert!(a.iter().all(|b| b == 7));
    if ftarray::mapped_block_bytes() == 0 {
        println!("no mapped blocks in this build: only the values checked");
        return;
    }
    assert!(cap >= 16 * MIB, "capacity {cap} B: no room was reserved");
    assert!(
        grew < 4 * MIB + 6 * MIB,
        "resident memory grew by {grew} B for a 4 MiB array: the reserved room ({cap} B) \
         was touched"
    );
}

/// Blocks of 128 KiB or more are mappings of their own only up to a bound (16,384 of them),
/// far from Linux's default limit of mappings per process (65,530), which an `munmap` that
/// splits a merged mapping needs room under. Past the bound, blocks come from the global
/// allocator, and every array works and frees as before, in any order.
#[test]
#[cfg_attr(miri, ignore)]
fn mappings_stay_within_their_bound_and_free_in_any_order() {
    let _serial = serial();
    const N: usize = 20_000;
    const BYTES: usize = 200_000;
    let before = ftarray::mapped_block_bytes();
    let arrays: Vec<FtArray<u8>> = (0..N)
        .map(|k| {
            let a = FtArray::with_capacity(BYTES);
            a.push(k as u8);
            a
        })
        .collect();
    let mapped = ftarray::mapped_block_bytes() - before;
    println!("{N} arrays of {BYTES} B: {mapped} B mapped");
    assert!(
        mapped <= 16_384 * (BYTES + 4096),
        "{mapped} B mapped: more than 16,384 blocks of {BYTES} B"
    );
    for (k, a) in arrays.iter().enumerate() {
        assert_eq!(a.get(0), Some(k as u8));
    }
    // Every other one first: the unmappings split what the kernel merged.
    let (odd, even): (Vec<_>, Vec<_>) = arrays
        .into_iter()
        .enumerate()
        .partition(|(k, _)| k % 2 == 1);
    drop(odd);
    drop(even);
    ftarray::drain(100);
    ftarray::release_kept_blocks();
    assert!(
        ftarray::mapped_block_bytes() <= before,
        "mappings left behind"
    );
}
